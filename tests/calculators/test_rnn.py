"""Recurrent cells against torch.nn in float64, BPTT against autograd.

The calculators take row-vector weights (x W_x); torch keeps their transposes, so every
reference cell is loaded with weight_ih = W_xᵀ and weight_hh = W_hᵀ.
"""

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-3, max_value=3)


def array(length: int, columns: int | None = None) -> st.SearchStrategy[Any]:
    """A vector of `length` values, or a length × columns matrix."""
    if columns is None:
        return st.lists(values, min_size=length, max_size=length)
    return st.lists(array(columns), min_size=length, max_size=length)


@st.composite
def cell_inputs(draw: st.DrawFn, gates: int, biases: tuple[str, ...]) -> dict[str, Any]:
    d, h = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    inputs = {
        "x": draw(array(d)),
        "h_prev": draw(array(h)),
        "w_x": draw(array(d, gates * h)),
        "w_h": draw(array(h, gates * h)),
    }
    for name in biases:
        inputs[name] = draw(array(gates * h))
    return inputs


def load(cell: torch.nn.Module, inputs: dict[str, Any], bias_ih: str, bias_hh: str | None) -> None:
    with torch.no_grad():
        cell.weight_ih.copy_(tensor(inputs["w_x"]).T)
        cell.weight_hh.copy_(tensor(inputs["w_h"]).T)
        cell.bias_ih.copy_(tensor(inputs[bias_ih]))
        if bias_hh is None:
            cell.bias_hh.zero_()
        else:
            cell.bias_hh.copy_(tensor(inputs[bias_hh]))


@given(cell_inputs(1, ("b",)))
def test_rnn_step_matches_torch_rnn_cell(inputs: dict[str, Any]) -> None:
    cell = torch.nn.RNNCell(len(inputs["x"]), len(inputs["h_prev"]))
    load(cell, inputs, "b", None)
    outputs = compute("rnn-step", **inputs)
    assert_close(outputs["h"], cell(tensor(inputs["x"]), tensor(inputs["h_prev"])))
    assert_close(np.tanh(outputs["a"]), outputs["h"])


@given(cell_inputs(4, ("b",)), st.data())
def test_lstm_step_matches_torch_lstm_cell_with_zero_bias_hh(
    inputs: dict[str, Any], data: st.DataObject
) -> None:
    inputs["c_prev"] = data.draw(array(len(inputs["h_prev"])))
    cell = torch.nn.LSTMCell(len(inputs["x"]), len(inputs["h_prev"]))
    load(cell, inputs, "b", None)
    h, c = cell(tensor(inputs["x"]), (tensor(inputs["h_prev"]), tensor(inputs["c_prev"])))
    outputs = compute("lstm-step", **inputs)
    assert_close(outputs["h"], h)
    assert_close(outputs["c"], c)


def test_lstm_gate_blocks_are_in_the_order_i_f_g_o() -> None:
    # Only the forget block of the bias is large: f ≈ 1, i = o = σ(0) = ½, g = tanh(0) = 0.
    outputs = compute(
        "lstm-step",
        x=[0.0],
        h_prev=[0.0],
        c_prev=[2.0],
        w_x=[[0.0, 0.0, 0.0, 0.0]],
        w_h=[[0.0, 0.0, 0.0, 0.0]],
        b=[0.0, 40.0, 0.0, 0.0],
    )
    assert_close(outputs["c"], [2.0])
    assert_close(outputs["h"], [0.5 * np.tanh(2.0)])


@given(cell_inputs(3, ("b_x", "b_h")))
def test_gru_step_matches_torch_gru_cell(inputs: dict[str, Any]) -> None:
    cell = torch.nn.GRUCell(len(inputs["x"]), len(inputs["h_prev"]))
    load(cell, inputs, "b_x", "b_h")
    outputs = compute("gru-step", **inputs)
    assert_close(outputs["h"], cell(tensor(inputs["x"]), tensor(inputs["h_prev"])))


def test_gru_step_applies_the_reset_gate_after_the_product_as_torch_not_as_cho() -> None:
    inputs = {
        "x": [1.0],
        "h_prev": [0.5],
        "w_x": [[0.0, 0.0, 0.0]],
        "w_h": [[0.0, 0.0, 1.0]],
        "b_x": [0.0, 0.0, 0.0],
        "b_h": [0.0, 0.0, 2.0],
    }
    outputs = compute("gru-step", **inputs)
    r, z = 0.5, 0.5  # both gates see 0
    after = np.tanh(r * (0.5 * 1.0 + 2.0))  # PyTorch: r ⊙ (h W_hn + b_hn)
    before = np.tanh((r * 0.5) * 1.0 + 2.0)  # Cho et al. 2014: (r ⊙ h) W_hn + b
    assert_close(outputs["n"], [after])
    assert_close(outputs["h"], [(1 - z) * after + z * 0.5])
    assert abs(after - before) > 0.1


@st.composite
def scalar_rnns(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "xs": draw(st.lists(values, min_size=1, max_size=8)),
        "h0": draw(st.floats(-1, 1)),
        "w_x": draw(values),
        "w_h": draw(values),
        "b": draw(values),
        "target": draw(st.floats(-1, 1)),
    }


@given(scalar_rnns())
def test_bptt_gradients_match_torch_autograd(inputs: dict[str, Any]) -> None:
    w_x, w_h, b, h0 = (tensor(inputs[name]).requires_grad_() for name in ("w_x", "w_h", "b", "h0"))
    h = h0
    for x in inputs["xs"]:
        h = torch.tanh(w_x * x + w_h * h + b)
    (jacobian,) = torch.autograd.grad(h, h0, retain_graph=True)
    loss = 0.5 * (h - inputs["target"]) ** 2
    loss.backward()
    outputs = compute("bptt", **inputs)
    assert_close(outputs["loss"], loss)
    assert_close(outputs["h"][-1], h)
    assert_close(
        [outputs[name] for name in ("grad_w_x", "grad_w_h", "grad_b", "grad_h0")],
        [w_x.grad, w_h.grad, b.grad, h0.grad],
    )
    assert_close(outputs["jacobian_product"], jacobian)


def test_bptt_gradient_vanishes_through_a_long_sequence_with_small_recurrent_weight() -> None:
    outputs = compute("bptt", xs=[1.0] * 50, w_x=1.0, w_h=0.5, target=0.0)
    assert 0 < abs(outputs["jacobian_product"]) < 0.5**50


def test_bptt_refuses_an_exploding_jacobian_product() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("bptt", xs=[0.0] * 40, w_x=1.0, w_h=1e12, target=1.0)
    assert caught.value.field == "w_h"
    assert "explodes" in caught.value.reason


@st.composite
def bidirectional_inputs(draw: st.DrawFn) -> dict[str, Any]:
    t, d, h = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    inputs = {"xs": draw(array(t, d))}
    for direction in ("forward", "backward"):
        inputs[f"w_x_{direction}"] = draw(array(d, h))
        inputs[f"w_h_{direction}"] = draw(array(h, h))
        inputs[f"b_{direction}"] = draw(array(h))
    return inputs


@given(bidirectional_inputs())
def test_bidirectional_rnn_matches_torch_rnn_bidirectional(inputs: dict[str, Any]) -> None:
    d, h = len(inputs["xs"][0]), len(inputs["b_forward"])
    rnn = torch.nn.RNN(d, h, bidirectional=True)
    with torch.no_grad():
        for suffix, direction in (("l0", "forward"), ("l0_reverse", "backward")):
            getattr(rnn, f"weight_ih_{suffix}").copy_(tensor(inputs[f"w_x_{direction}"]).T)
            getattr(rnn, f"weight_hh_{suffix}").copy_(tensor(inputs[f"w_h_{direction}"]).T)
            getattr(rnn, f"bias_ih_{suffix}").copy_(tensor(inputs[f"b_{direction}"]))
            getattr(rnn, f"bias_hh_{suffix}").zero_()
    expected, _ = rnn(tensor(inputs["xs"]))
    outputs = compute("bidirectional-rnn", **inputs)
    assert_close(outputs["outputs"], expected)
    assert_close(outputs["forward"], expected[:, :h])
    assert_close(outputs["backward"], expected[:, h:])


def test_bidirectional_backward_state_at_the_last_position_has_seen_only_that_input() -> None:
    outputs = compute(
        "bidirectional-rnn",
        xs=[[1.0], [2.0], [3.0]],
        w_x_forward=[[1.0]],
        w_h_forward=[[1.0]],
        b_forward=[0.0],
        w_x_backward=[[0.5]],
        w_h_backward=[[1.0]],
        b_backward=[0.0],
    )
    assert_close(outputs["backward"][-1], [np.tanh(1.5)])
    assert_close(outputs["forward"][0], [np.tanh(1.0)])


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field"),
    [
        ("rnn-step", {"x": [1, 2], "h_prev": [0], "w_x": [[1]], "w_h": [[1]], "b": [0]}, "w_x"),
        ("rnn-step", {"x": [1], "h_prev": [0], "w_x": [[1]], "w_h": [[1]], "b": [0, 0]}, "b"),
        (
            "lstm-step",
            {
                "x": [1],
                "h_prev": [0],
                "c_prev": [0, 0],
                "w_x": [[1, 1, 1, 1]],
                "w_h": [[1, 1, 1, 1]],
                "b": [0, 0, 0, 0],
            },
            "c_prev",
        ),
        (
            "lstm-step",
            {"x": [1], "h_prev": [0], "c_prev": [0], "w_x": [[1]], "w_h": [[1]], "b": [0]},
            "w_x",
        ),
        (
            "gru-step",
            {
                "x": [1],
                "h_prev": [0],
                "w_x": [[1, 1, 1]],
                "w_h": [[1, 1, 1]],
                "b_x": [0, 0, 0],
                "b_h": [0, 0],
            },
            "b_h",
        ),
        (
            "bidirectional-rnn",
            {
                "xs": [[1.0]],
                "w_x_forward": [[1.0]],
                "w_h_forward": [[1.0]],
                "b_forward": [0.0],
                "w_x_backward": [[1.0]],
                "w_h_backward": [[1.0, 0.0]],
                "b_backward": [0.0],
            },
            "w_h_backward",
        ),
    ],
)
def test_cells_refuse_weights_of_the_wrong_shape(
    calculator_id: str, inputs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field
    assert "must be" in caught.value.reason
