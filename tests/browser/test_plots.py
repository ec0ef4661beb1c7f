"""Plots in a real browser: they redraw with the result as the learner types."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app import calculators
from tests.browser.test_card_pages import assert_math_rendered_cleanly
from tests.conftest import LiveServer
from tests.web.test_plots import exported_history

pytestmark = pytest.mark.browser
PLOTTED = [c.id for c in calculators.all_calculators() if c.plot is not None]
SHOWN_CHANGING = {
    "sigmoid",
    "softmax",
    "iou",
    "nms",
    "positional-encoding",
    "scaled-dot-product-attention",
    "conv-output-size",
}
"""Cards whose test below changes an input; the others are pictured as they open."""


def open_card(page: Page, server: LiveServer, card: str) -> Locator:
    page.goto(f"{server.url}/formulas/{card}")
    assert_math_rendered_cleanly(page)
    plot = page.locator("#result figure.plot svg")
    expect(plot).to_have_attribute("role", "img")
    return plot


def summary(page: Page) -> Locator:
    return page.locator("#result-plot-desc")


def finish(page: Page, test_output: Path, card: str) -> None:
    """The page still has its math after the swap; keep a picture of the card and its plot."""
    assert_math_rendered_cleanly(page)
    page.locator("section.calculator").screenshot(path=test_output / f"plot-{card}.png")


def test_activation_markers_move_with_x(page: Page, server: LiveServer, test_output: Path) -> None:
    plot = open_card(page, server, "sigmoid")
    marker = plot.locator("circle.plot-marker-first").first
    before = marker.get_attribute("cx")
    page.fill("#input-x", "0.5, 3")
    expect(summary(page)).to_contain_text("x = 0.5: y = 0.622, dy/dx = 0.235")
    expect(marker).not_to_have_attribute("cx", before)
    expect(plot.locator("circle.plot-marker")).to_have_count(4)
    finish(page, test_output, "sigmoid")


def test_softmax_bars_flatten_as_the_temperature_rises(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    plot = open_card(page, server, "softmax")
    tallest = plot.locator("rect.plot-first:has(title)").first
    before = float(tallest.get_attribute("height"))
    expect(plot.locator("rect.plot-ghost:has(title)")).to_have_count(0)
    page.fill("#input-temperature", "4")
    expect(plot.locator("rect.plot-ghost:has(title)")).to_have_count(3)  # T = 1 for comparison
    expect(tallest).not_to_have_attribute("height", str(before))
    assert float(tallest.get_attribute("height")) < before
    finish(page, test_output, "softmax")


def test_iou_intersection_follows_box_b(page: Page, server: LiveServer, test_output: Path) -> None:
    plot = open_card(page, server, "iou")
    overlap = plot.locator("rect.plot-overlap:has(title)")
    expect(overlap).to_have_count(1)
    width = overlap.get_attribute("width")
    page.fill("#input-box_b", "2, 2, 7, 6")
    expect(summary(page)).to_contain_text("A ∩ B = [2, 2, 5, 4]")
    expect(overlap).not_to_have_attribute("width", width)
    page.fill("#input-box_b", "6, 5, 7, 6")
    expect(overlap).to_have_count(0)  # apart: nothing to shade
    page.fill("#input-box_b", "3, 2, 7, 6")
    finish(page, test_output, "iou")


def test_nms_tells_kept_from_suppressed(page: Page, server: LiveServer, test_output: Path) -> None:
    plot = open_card(page, server, "nms")
    suppressed = plot.locator("rect.plot-suppressed:has(title)")
    expect(suppressed).to_have_count(1)
    expect(plot.locator("text.plot-cell-text", has_text="✗")).to_have_count(1)
    page.fill("#input-iou_threshold", "0.9")
    expect(suppressed).to_have_count(0)
    expect(plot.locator("rect.plot-kept:has(title)")).to_have_count(4)
    page.fill("#input-iou_threshold", "0.5")
    finish(page, test_output, "nms")


def test_encoding_heatmap_grows_with_the_positions(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    plot = open_card(page, server, "positional-encoding")
    values = plot.locator("text.plot-cell-text")  # each cell shows its value
    expect(values).to_have_count(3 * 4)
    expect(values.first).to_have_text("0.00")
    page.fill("#input-positions", "6")
    expect(values).to_have_count(6 * 4)
    expect(plot.locator("path.plot-heat-negative").first).to_be_attached()  # cos(2) < 0
    finish(page, test_output, "positional-encoding")


def test_attention_heatmap_hatches_masked_cells(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    plot = open_card(page, server, "scaled-dot-product-attention")
    masked = plot.locator(".plot-masked")
    expect(masked).to_have_count(2)  # one masked cell and the legend's swatch
    page.fill("#input-mask", "true, true, true\ntrue, true, true")
    expect(masked).to_have_count(0)
    finish(page, test_output, "scaled-dot-product-attention")


def test_conv_grid_shows_the_kernel_sliding_with_the_stride(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    plot = open_card(page, server, "conv-output-size")
    taps = plot.locator("text.plot-cell-text", has_text="●")
    expect(taps).to_have_count(4 * 3)  # O = 4 outputs of 3 taps each
    page.fill("#input-stride", "1")
    expect(summary(page)).to_contain_text("O = 8")
    expect(taps).to_have_count(8 * 3)
    page.fill("#input-stride", "2")
    finish(page, test_output, "conv-output-size")


def test_every_other_plotted_card_draws_its_plot(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    for card in sorted(set(PLOTTED) - SHOWN_CHANGING):
        plot = open_card(page, server, card)
        expect(plot.locator("desc")).not_to_be_empty()
        page.locator("section.calculator").screenshot(path=test_output / f"plot-{card}.png")


def test_plots_are_drawn_in_dark_mode(browser: Browser, server: LiveServer, test_output: Path):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    plot = open_card(page, server, "gelu")
    stroke = plot.locator("path.plot-line-first").evaluate("path => getComputedStyle(path).stroke")
    assert stroke == "rgb(143, 179, 255)"  # the dark theme's light blue, not the light theme's
    page.locator("section.calculator").screenshot(path=test_output / "plot-gelu-dark.png")
    context.close()


def test_progress_page_draws_answers_per_day_and_week(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    export = exported_history([(index % 20, index % 3 != 0) for index in range(40)])
    page.goto(f"{server.url}/progress")
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "p.json",
                "mimeType": "application/json",
                "buffer": json.dumps(export).encode(),
            }
        ],
    )
    page.locator("form[action='/progress/import'] button").click()
    expect(page.locator("[data-answered]")).to_have_attribute("data-answered", "40")
    plots = page.locator("figure.plot svg")
    expect(plots).to_have_count(4)
    expect(plots.nth(1).locator("rect.plot-wrong:has(title)")).to_have_count(28)
    page.screenshot(path=test_output / "plot-progress.png", full_page=True)
