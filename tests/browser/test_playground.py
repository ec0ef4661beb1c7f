"""The playground in a real browser: the drawn Adam path is the adam calculator's steps."""

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import wait_until_ready
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

ROSENBROCK_START = (-1.2, 1.0)


def rosenbrock_gradient(x: float, y: float) -> list[float]:
    return [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]


def adam_steps_from_the_api(server: LiveServer, steps: int, lr: float) -> list[list[float]]:
    """Adam on Rosenbrock, one POST /api/calculators/adam per step."""
    params, m, v = list(ROSENBROCK_START), [0.0, 0.0], [0.0, 0.0]
    points = [params]
    for t in range(1, steps + 1):
        body = {"params": params, "grads": rosenbrock_gradient(*params), "m": m, "v": v}
        body.update(step=t, lr=lr, beta1=0.9, beta2=0.999, eps=1e-8)
        request = urllib.request.Request(
            f"{server.url}/api/calculators/adam",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            outputs = json.load(response)["outputs"]
        params, m, v = outputs["params"], outputs["m"], outputs["v"]
        points.append(params)
    return points


def drawn_path(page: Page, optimizer: str) -> np.ndarray:
    """The polyline of `optimizer` mapped back from SVG units to (x, y)."""
    plot = page.locator("svg.paths-plot")
    x_min, x_max, y_min, y_max = map(float, plot.get_attribute("data-box").split())
    left, top, width, height = map(float, plot.get_attribute("data-frame").split())
    points = path_line(page, optimizer).get_attribute("points")
    svg = np.array([[float(v) for v in pair.split(",")] for pair in points.split()])
    return np.column_stack(
        [
            x_min + (svg[:, 0] - left) / width * (x_max - x_min),
            y_max - (svg[:, 1] - top) / height * (y_max - y_min),
        ]
    )


def path_line(page: Page, optimizer: str) -> Locator:
    return page.locator(f'svg.paths-plot polyline[data-optimizer="{optimizer}"]')


def test_drawn_adam_path_is_the_adam_calculator_and_follows_the_inputs(
    page: Page, server: LiveServer, outside_requests: list[str], test_output: Path
) -> None:
    page.goto(f"{server.url}/playground")
    wait_until_ready(page)
    for optimizer in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        expect(path_line(page, optimizer)).to_have_count(1)
        expect(page.locator(f'.playground-legend li[data-optimizer="{optimizer}"]')).to_be_visible()
    before = path_line(page, "adam").get_attribute("points")

    page.fill("#input-steps", "60")
    expect(path_line(page, "adam")).not_to_have_attribute("points", before)
    expected = adam_steps_from_the_api(server, 60, lr=0.1)
    drawn = drawn_path(page, "adam")
    assert drawn.shape == (61, 2)
    # 0.01 SVG unit is 1e-4 in x and y: the rounding of the drawn coordinates.
    np.testing.assert_allclose(drawn, expected, atol=1e-4)
    final = page.locator('.results-table tr[data-optimizer="adam"] .final-point data')
    expect(final.first).to_have_attribute("value", repr(expected[-1][0]))
    expect(final.last).to_have_attribute("value", repr(expected[-1][1]))
    expect(page).to_have_url(f"{server.url}/playground?{page.url.split('?', 1)[1]}")
    assert "steps=60" in page.url

    page.fill("#input-adam-lr", "0.02")
    expect(page.locator('.playground-legend li[data-optimizer="adam"]')).to_contain_text("lr 0.02")
    slower = drawn_path(page, "adam")
    np.testing.assert_allclose(slower, adam_steps_from_the_api(server, 60, lr=0.02), atol=1e-4)

    page.fill("#input-adam-lr", "-1")
    expect(page.locator("#error-adam-lr")).to_contain_text("greater than or equal to 0")
    page.fill("#input-adam-lr", "0.1")
    expect(page.locator("#error-adam-lr")).to_have_text("")
    page.fill("#input-sgd-lr", "0.01")
    expect(page.locator('.playground-legend li[data-optimizer="sgd"]')).to_contain_text("発散")
    page.screenshot(path=test_output / "playground.png", full_page=True)

    page.select_option("#input-surface", "beale")
    expect(page.locator(".surface-formula")).to_contain_text("2.625")
    expect(page.locator("#input-start_x")).to_have_value("1.0")
    assert outside_requests == []


def test_playground_works_with_javascript_off(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/playground?surface=quadratic")
    page.fill("#input-kappa", "50")
    page.fill("#input-steps", "12")
    page.get_by_role("button", name="実行").click()
    expect(page.locator(".surface-formula")).to_have_text("f = ½(x² + κy²), κ = 50")
    expect(page.locator('.playground-legend li[data-optimizer="adam"]')).to_contain_text(
        "12 ステップ後の損失"
    )
    context.close()
