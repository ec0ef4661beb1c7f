"""Plots as the card page and the progress page serve them: well-formed, accessible SVG."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import calculators
from app.plots import BarPlot, BarSeries, Box, BoxesPlot, Plot, words
from app.web.charts import PATTERNS, layout, nice_scale
from app.web.charts.frame import Scale, exact_scale
from app.web.charts.playground import power_of_ten
from app.web.templating import make_templates
from tests.web.test_quiz import token

SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = make_templates().env
PLOTTED = [c.id for c in calculators.all_calculators() if c.plot is not None]


def svgs(html: str) -> list[ET.Element]:
    """Every <svg> in the page, parsed as XML: a malformed one fails here."""
    return [ET.fromstring(match) for match in re.findall(r"<svg.*?</svg>", html, re.S)]


def text_alternative(svg: ET.Element) -> tuple[str, str]:
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("role") == "img"
    ids = svg.get("aria-labelledby").split()
    assert ids == [title.get("id"), desc.get("id")]
    return title.text, desc.text


def bars(svg: ET.Element, style: str) -> list[ET.Element]:
    """The bars of one style (each titled with its value), not the legend's swatch."""
    return [
        rect
        for rect in svg.iter(f"{SVG}rect")
        if rect.get("class") == style and rect.find(f"{SVG}title") is not None
    ]


def test_the_calculators_with_plots_cover_the_issue() -> None:
    wanted = {
        "sigmoid", "tanh", "relu", "leaky-relu", "elu", "gelu", "softmax", "iou", "dice", "nms",
        "positional-encoding", "scaled-dot-product-attention", "conv-output-size",
        "receptive-field", "normal-pdf", "entropy", "kl-divergence",
    }  # fmt: skip
    assert wanted <= set(PLOTTED)


@pytest.mark.parametrize("card", PLOTTED)
def test_each_card_page_draws_its_plot_with_a_text_alternative(
    readonly_client: TestClient, card: str
) -> None:
    page = readonly_client.get(f"/formulas/{card}")
    (svg,) = svgs(page.text)
    title, summary = text_alternative(svg)
    assert title
    assert re.search(r"\d", summary)


def draw(plot: Plot, lang: str = "en") -> ET.Element:
    html = TEMPLATES.from_string(
        '{% from "_plot.html" import plot with context %}{{ plot(p) }}'
    ).render(p=plot, lang=lang)
    (svg,) = svgs(html)
    return svg


SAMPLED = [c for c in calculators.all_calculators() if c.plot and c.sample]


@pytest.mark.parametrize("calculator", SAMPLED, ids=lambda c: c.id)
def test_plots_of_sampled_inputs_draw_as_well_formed_svg(
    calculator: calculators.Calculator,
) -> None:
    rng = np.random.default_rng(6)
    for _ in range(20):
        inputs = calculator.parse(calculator.sample(rng))
        plot = calculator.plot(inputs, calculator.run(inputs))
        if plot is not None:
            svg = draw(plot, str(rng.choice(["en", "ja"])))
            assert all(
                np.isfinite(float(v))
                for v in re.findall(r'="(-?[\d.]+)"', ET.tostring(svg, "unicode"))
            )


@pytest.mark.parametrize(
    ("calculator_id", "raw"),
    [
        ("relu", {"x": [-1e12, 1e12]}),
        ("gelu", {"x": [1e6], "approximate": "tanh"}),
        ("normal-pdf", {"x": 1.0, "mean": 1.0, "std": 1e-150}),
        ("normal-pdf", {"x": 1e12, "mean": 0.0, "std": 1.0}),
        ("iou", {"box_a": [0, 0, 0, 5], "box_b": [0, 0, 1e12, 1e12]}),
        ("conv-output-size", {"input_size": 10**6, "kernel_size": 10**6, "stride": 1}),
        ("softmax", {"logits": [1e12, -1e12], "temperature": 1e12}),
        ("dice", {"mask_a": [[0, 0], [0, 0]], "mask_b": [[0, 0], [0, 0]]}),
    ],
)
def test_plots_of_extreme_inputs_still_draw(calculator_id: str, raw: dict) -> None:
    calculator = calculators.get(calculator_id)
    inputs = calculator.parse(raw)
    svg = draw(calculator.plot(inputs, calculator.run(inputs)))
    ticks = [
        element.text for element in svg.iter(f"{SVG}text") if element.get("class") == "plot-tick"
    ]
    assert all(len(tick) <= 12 for tick in ticks)


def test_the_live_result_carries_the_plot_in_the_same_response(
    readonly_client: TestClient,
) -> None:
    response = readonly_client.post("/formulas/sigmoid/result", data={"x": "0.5"})
    (svg,) = svgs(response.text)
    _, summary = text_alternative(svg)
    assert "x = 0.5: y = 0.622" in summary
    circles = svg.findall(f".//{SVG}circle")
    assert len(circles) == 2  # the value and the slope at x = 0.5


def test_invalid_inputs_show_no_plot(readonly_client: TestClient) -> None:
    response = readonly_client.post("/formulas/softmax/result", data={"logits": "1, x"})
    assert response.status_code == 422
    assert "<svg" not in response.text


def test_the_api_response_has_no_plot(readonly_client: TestClient) -> None:
    body = readonly_client.post("/api/calculators/sigmoid", json={"x": [0.5]}).json()
    assert set(body) == {"id", "outputs", "steps"}


def test_labels_are_escaped() -> None:
    hostile = BarPlot(
        title='<script>alert("t")</script>',
        summary="a & b < c",
        categories=["<b>x</b>"],
        series=[BarSeries(words("<i>p</i>", "<i>p</i>"), [0.5]), BarSeries("q", [0.2])],
        x_label="</svg>",
        y_label="y",
    )
    svg = draw(hostile)
    assert svg.find(f"{SVG}title").text == '<script>alert("t")</script>'
    assert svg.find(f"{SVG}desc").text == "a & b < c"
    assert svg.find(f".//{SVG}script") is None
    assert "<b>x</b>" in [element.text for element in svg.iter(f"{SVG}text")]


def test_nice_scale_ends_on_round_ticks_covering_the_data() -> None:
    scale = nice_scale(-0.13, 0.97, 0, 100)
    assert (scale.low, scale.high, scale.step) == (-0.2, 1.0, 0.2)
    assert [label for _, label in scale.ticks()] == [
        "-0.2",
        "0.0",
        "0.2",
        "0.4",
        "0.6",
        "0.8",
        "1.0",
    ]
    assert scale.at(-0.2) == 0
    assert scale.at(1.0) == 100
    flat = nice_scale(3.0, 3.0, 0, 100)  # a constant still gets a scale around it
    assert flat.low < 3.0 < flat.high


def test_exact_scale_keeps_its_ends_and_ticks_the_round_values_inside() -> None:
    scale = exact_scale(-4.5, 4.5, 0, 90)
    assert scale.ticks() == [(5.0, "-4"), (25.0, "-2"), (45.0, "0"), (65.0, "2"), (85.0, "4")]
    assert (scale.at(-4.5), scale.at(4.5)) == (0, 90)


def test_a_scale_writes_its_ticks_with_its_own_label() -> None:
    decades = Scale(-5, 2, 70, 0, 2, power_of_ten)
    assert decades.ticks() == [(60.0, "1e-4"), (40.0, "1e-2"), (20.0, "1e0"), (0.0, "1e2")]


def test_bars_are_as_tall_as_their_values() -> None:
    plot = BarPlot(
        title="t",
        summary="s",
        categories=["a", "b"],
        series=[BarSeries("right", [1, 3], "right"), BarSeries("wrong", [2, 0], "wrong")],
        x_label="x",
        y_label="y",
        stacked=True,
        top=5.0,
    )
    frame = layout(plot)
    unit = frame.y.at(0) - frame.y.at(1)
    heights = [round(bar.height / unit, 6) for bar in frame.shapes]
    assert heights == [1, 3, 2, 0]
    right_a, _, wrong_a, _ = frame.shapes
    assert wrong_a.y + wrong_a.height == pytest.approx(right_a.y)  # stacked on top
    assert PATTERNS[wrong_a.style] == "forward"  # wrong answers are hatched, not only red


def test_boxes_are_drawn_to_scale() -> None:
    boxes = [Box(0, 0, 4, 2, "A", "first"), Box(1, 1, 2, 2, "B", "second")]
    frame = layout(BoxesPlot(title="t", summary="s", boxes=boxes, legend=[]))
    wide, small = frame.shapes
    assert wide.width == pytest.approx(2 * wide.height)
    assert wide.width == pytest.approx(4 * small.width)


def exported_history(answers: list[tuple[int, bool]]) -> dict:
    """A progress export of symbol-question answers: (days ago, right or not) each."""
    now = datetime.now(UTC)
    return {
        "learner_id": "x",
        "reviews": [],
        "answers": [
            {
                "id": f"{index:032x}",
                "formula_id": "softmax",
                "category_id": "activations",
                "kind": "symbol",
                "seed": index,
                "given": "1",
                "correct": correct,
                "time_taken_ms": 5000,
                "answered_at": (now - timedelta(days=days)).isoformat(),
            }
            for index, (days, correct) in enumerate(answers)
        ],
    }


def test_progress_page_draws_right_and_wrong_per_day_and_accuracy_per_week(
    client: TestClient,
) -> None:
    export = exported_history(
        [(0, True), (0, False), (0, False), (3, True), (10, True), (10, False)]
    )
    client.post(
        "/progress/import",
        files={"file": ("p.json", json.dumps(export), "application/json")},
        data={"csrf": token(client)},
    )
    page = client.get("/progress")
    category, daily, weekly, due = svgs(page.text)
    assert text_alternative(category)[1].endswith(": 3/6")
    right, wrong = bars(daily, "plot-right"), bars(daily, "plot-wrong")
    assert len(right) == len(wrong) == 28
    today = np.array([float(r.get("height")) for r in (right[-1], wrong[-1])])
    assert today[1] == pytest.approx(2 * today[0], abs=0.2)  # 1 right, 2 wrong today
    weeks = text_alternative(weekly)[1].split("; ")
    assert [week.split(": ")[1] for week in weeks] == ["50% (1/2)", "50% (2/4)"]
    assert len(bars(weekly, "plot-third")) == 12
    assert len(bars(due, "plot-first")) == 7
