"""The plot data beside each result: the same numbers as the calculator, nothing invented."""

from typing import Any

import numpy as np
import pytest

from app import calculators
from app.calculators.cnn import reached_positions
from app.plots import BarPlot, BoxesPlot, GridPlot, Heatmap, LinePlot, Plot

ACTIVATIONS = {
    "sigmoid": {},
    "tanh": {},
    "relu": {},
    "leaky-relu": {"negative_slope": 0.1},
    "elu": {"alpha": 0.5},
    "gelu": {"approximate": "none"},
}
SMOOTH = {"sigmoid", "tanh", "gelu"}
POINTS = [-2.0, -1.0, 0.5, 1.0, 2.0]


def plot_of(calculator_id: str, raw: dict[str, Any]) -> tuple[Plot | None, Any]:
    calculator = calculators.get(calculator_id)
    inputs = calculator.parse(raw)
    result = calculator.run(inputs)
    return calculator.plot(inputs, result), result


def run(calculator_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    calculator = calculators.get(calculator_id)
    return calculator.run(calculator.parse(raw)).outputs


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_curve_is_the_calculator_on_a_grid(name: str) -> None:
    plot, _result = plot_of(name, {"x": POINTS, **ACTIVATIONS[name]})
    assert isinstance(plot, LinePlot)
    curve, derivative = plot.series
    on_grid = run(name, {"x": curve.x.tolist(), **ACTIVATIONS[name]})
    np.testing.assert_array_equal(curve.y, on_grid["y"])
    np.testing.assert_array_equal(derivative.y, on_grid["dy_dx"])
    assert curve.x.min() <= -4
    assert curve.x.max() >= 4
    assert len(curve.x) <= 200


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_the_derivative_curve_passes_through_the_marked_derivatives(name: str) -> None:
    plot, result = plot_of(name, {"x": POINTS, **ACTIVATIONS[name]})
    _curve, derivative = plot.series
    values = [m for m in plot.markers if m.style == "first"]
    slopes = [m for m in plot.markers if m.style == "second"]
    assert [m.x for m in values] == POINTS == [m.x for m in slopes]
    assert [m.y for m in values] == result.outputs["y"]
    assert [m.y for m in slopes] == result.outputs["dy_dx"]
    np.testing.assert_allclose(
        np.interp(POINTS, derivative.x, derivative.y), result.outputs["dy_dx"], atol=2e-3
    )


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_the_derivative_series_is_the_slope_of_the_curve(name: str) -> None:
    plot, _ = plot_of(name, {"x": [0.0], **ACTIVATIONS[name]})
    curve, derivative = plot.series
    np.testing.assert_allclose(np.gradient(curve.y, curve.x), derivative.y, atol=5e-3)


def test_the_range_grows_to_show_far_inputs() -> None:
    plot, _ = plot_of("relu", {"x": [-30.0, 100.0]})
    assert plot.series[0].x.max() >= 100
    assert plot.series[0].x.min() <= -100


def test_softmax_bars_at_the_learners_temperature_beside_t_equals_one() -> None:
    logits = [2.0, 1.0, 0.1]
    hot, _ = plot_of("softmax", {"logits": logits, "temperature": 5.0})
    assert isinstance(hot, BarPlot)
    at_one, at_five = hot.series
    assert at_one.style == "ghost"
    assert at_one.label == "T = 1"
    assert at_one.values == run("softmax", {"logits": logits})["probabilities"]
    assert at_five.values == run("softmax", {"logits": logits, "temperature": 5.0})["probabilities"]
    assert max(at_five.values) < max(at_one.values)  # a higher T flattens
    plain, _ = plot_of("softmax", {"logits": logits, "temperature": 1.0})
    assert len(plain.series) == 1


def test_softmax_draws_at_most_32_bars() -> None:
    plot, _ = plot_of("softmax", {"logits": list(range(100))})
    assert len(plot.categories) == 32
    assert all(len(series.values) == 32 for series in plot.series)


@pytest.mark.parametrize(
    ("box_a", "box_b", "overlap"),
    [
        ([1, 1, 5, 4], [3, 2, 7, 6], [3, 2, 5, 4]),
        ([0, 0, 2, 2], [0, 0, 2, 2], [0, 0, 2, 2]),
        ([0, 0, 4, 4], [1, 1, 2, 3], [1, 1, 2, 3]),
        ([0, 0, 1, 1], [2, 2, 3, 3], None),
        ([0, 0, 1, 1], [1, 0, 2, 1], None),  # sharing an edge only
    ],
)
def test_iou_plot_shades_exactly_the_intersection(
    box_a: list[float], box_b: list[float], overlap: list[float] | None
) -> None:
    plot, result = plot_of("iou", {"box_a": box_a, "box_b": box_b})
    assert isinstance(plot, BoxesPlot)
    shaded = [box for box in plot.boxes if box.style == "overlap"]
    assert [[b.x1, b.y1, b.x2, b.y2] for b in plot.boxes[:2]] == [box_a, box_b]
    if overlap is None:
        assert shaded == []
        assert result.outputs["intersection"] == 0
    else:
        (box,) = shaded
        assert [box.x1, box.y1, box.x2, box.y2] == overlap
        assert (box.x2 - box.x1) * (box.y2 - box.y1) == result.outputs["intersection"]


def test_nms_plot_keeps_the_calculators_boxes_and_marks_the_rest() -> None:
    raw = {
        "boxes": [[0, 0, 4, 4], [1, 1, 5, 5], [0, 0, 4, 3], [6, 6, 8, 8]],
        "scores": [0.9, 0.75, 0.8, 0.6],
        "iou_threshold": 0.5,
    }
    plot, result = plot_of("nms", raw)
    kept = sorted(int(box.label.split(":")[0]) for box in plot.boxes if box.style == "kept")
    suppressed = [box for box in plot.boxes if box.style == "suppressed"]
    assert kept == sorted(result.outputs["keep"]) == [0, 1, 3]
    assert [box.label for box in suppressed] == ["2: 0.8 ✗"]  # told apart by text too
    assert plot.boxes[-1].style == "kept"  # kept boxes are drawn on top


def test_nms_plot_draws_the_best_24_of_many_boxes() -> None:
    boxes = [[i, 0, i + 1, 1] for i in range(100)]
    plot, _ = plot_of("nms", {"boxes": boxes, "scores": [i / 100 for i in range(100)]})
    assert len(plot.boxes) == 24
    assert min(int(box.label.split(":")[0]) for box in plot.boxes) == 76


def test_dice_plot_marks_each_pixel_by_mask() -> None:
    a = [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    b = [[0, 1, 1], [0, 1, 1], [0, 1, 1]]
    plot, _ = plot_of("dice", {"mask_a": a, "mask_b": b})
    assert isinstance(plot, GridPlot)
    assert plot.cells == [
        ["a", "both", "b"],
        ["a", "both", "b"],
        ["empty", "b", "b"],
    ]
    assert "Dice = 0.4" in plot.summary


def test_positional_encoding_heatmap_is_the_encoding() -> None:
    plot, result = plot_of("positional-encoding", {"positions": 10, "d_model": 16})
    assert isinstance(plot, Heatmap)
    np.testing.assert_array_equal(plot.values, result.outputs["encoding"])
    assert (plot.low, plot.high) == (-1.0, 1.0)
    assert plot.note == ""


def test_a_large_encoding_is_cropped_to_its_corner_and_says_so() -> None:
    plot, result = plot_of("positional-encoding", {"positions": 64, "d_model": 64})
    np.testing.assert_array_equal(plot.values, np.asarray(result.outputs["encoding"])[:24, :40])
    assert "24×40 of 64×64" in plot.note["en"]


def test_attention_heatmap_is_the_weights_with_masked_cells_marked() -> None:
    raw = {
        "q": [[1.0, 0.0], [0.0, 1.0]],
        "k": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        "v": [[1.0], [0.0], [1.0]],
        "mask": [[True, True, False], [True, True, True]],
    }
    plot, result = plot_of("scaled-dot-product-attention", raw)
    np.testing.assert_array_equal(plot.values, result.outputs["weights"])
    assert plot.masked.tolist() == [[False, False, True], [False, False, False]]
    assert (plot.low, plot.high) == (0.0, 1.0)


def test_additive_attention_weights_are_one_row() -> None:
    raw = {"query": [1.0], "keys": [[1.0], [0.0]], "w_a": [[1.0]], "u_a": [[1.0]], "v_a": [1.0]}
    plot, result = plot_of("additive-attention", raw)
    np.testing.assert_array_equal(plot.values, [result.outputs["weights"]])


def taps(row: list[str]) -> list[int]:
    return [index for index, kind in enumerate(row) if kind == "tap"]


def test_conv_grid_slides_the_dilated_kernel_by_the_stride() -> None:
    raw = {"input_size": 10, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}
    plot, result = plot_of("conv-output-size", raw)
    assert isinstance(plot, GridPlot)
    output_size = result.outputs["output_size"]
    input_row, *outputs, output_row = plot.cells
    assert input_row == ["pad"] + ["input"] * 10 + ["pad"]
    assert len(outputs) == output_size == 4
    for i, row in enumerate(outputs):
        assert taps(row) == [2 * i, 2 * i + 2, 2 * i + 4]
        assert row.count("skip") == 2  # the holes dilation leaves inside the window
    assert output_row.count("output") == output_size
    assert plot.first_column == -1


def test_conv_grid_of_a_large_layer_shows_its_start_and_says_so() -> None:
    raw = {"input_size": 224, "kernel_size": 7, "stride": 2, "padding": 3, "dilation": 1}
    plot, _ = plot_of("conv-output-size", raw)
    assert len(plot.cells) == 8 + 2
    assert all(len(row) == 40 for row in plot.cells)
    assert taps(plot.cells[1]) == list(range(7))
    assert "8 of 112 outputs" in plot.note["en"]


@pytest.mark.parametrize(
    "raw",
    [
        {"kernel_sizes": [3, 3, 2, 3, 3], "strides": [1, 1, 2, 1, 1]},
        {"kernel_sizes": [3, 3], "strides": [1, 1], "dilations": [1, 4]},
        {"kernel_sizes": [2, 2, 2], "strides": [2, 2, 2]},
    ],
)
def test_receptive_field_grid_spans_exactly_the_receptive_field(raw: dict[str, Any]) -> None:
    plot, result = plot_of("receptive-field", raw)
    size = result.outputs["receptive_field"]
    *layers, input_row = plot.cells
    assert len(input_row) == size
    reached = taps(input_row)
    assert reached[0] == 0
    assert reached[-1] == size - 1
    assert taps(layers[0]) == [0]  # the one output at the top
    assert len(layers) == len(raw["kernel_sizes"])


def test_dilation_leaves_holes_in_the_receptive_field() -> None:
    calculator = calculators.get("receptive-field")
    inputs = calculator.parse({"kernel_sizes": [2, 2], "strides": [1, 1], "dilations": [1, 3]})
    assert reached_positions(inputs)[-1].tolist() == [0, 1, 3, 4]


def test_a_receptive_field_too_wide_to_draw_has_no_plot() -> None:
    plot, _ = plot_of("receptive-field", {"kernel_sizes": [7, 7, 7], "strides": [4, 4, 4]})
    assert plot is None


def test_normal_curve_passes_through_the_marked_density() -> None:
    plot, result = plot_of("normal-pdf", {"x": 1.5, "mean": 1.0, "std": 2.0})
    (curve,) = plot.series
    (marker,) = plot.markers
    assert (marker.x, marker.y) == (1.5, result.outputs["density"])
    np.testing.assert_allclose(np.interp(1.5, curve.x, curve.y), marker.y, rtol=1e-3)
    assert curve.x[np.argmax(curve.y)] == pytest.approx(1.0, abs=0.1)
    assert curve.x.min() <= 1.0 - 8
    assert curve.x.max() >= 1.0 + 8


def test_distribution_bars_are_p_and_q_normalised() -> None:
    plot, result = plot_of("kl-divergence", {"p": [0.5, 0.5], "q": [0.9, 0.1001]})
    p, q = plot.series
    assert p.values == [0.5, 0.5]
    np.testing.assert_allclose(q.values, np.array([0.9, 0.1001]) / 1.0001)
    assert f"kl = {result.outputs['kl']:.3g}" in plot.summary
    entropy, _ = plot_of("entropy", {"p": [0.5, 0.25, 0.25]})
    assert [s.values for s in entropy.series] == [[0.5, 0.25, 0.25]]
