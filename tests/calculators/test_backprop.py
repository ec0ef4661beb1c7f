"""Layer gradients against torch autograd; finite differences and gradient checks against
their definitions written out here."""

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-100, max_value=100)


def matrices(rows: int, columns: int) -> st.SearchStrategy[list[list[float]]]:
    row = st.lists(values, min_size=columns, max_size=columns)
    return st.lists(row, min_size=rows, max_size=rows)


@st.composite
def affine_cases(draw: st.DrawFn) -> dict[str, list]:
    n, d, m = (draw(st.integers(1, 6)) for _ in range(3))
    return {
        "x": draw(matrices(n, d)),
        "w": draw(matrices(d, m)),
        "b": draw(st.lists(values, min_size=m, max_size=m)),
        "dy": draw(matrices(n, m)),
    }


def assert_raises_on(field: str, calculator_id: str, **inputs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field
    return caught.value


@given(affine_cases())
def test_affine_forward_matches_torch_linear(case: dict[str, list]) -> None:
    # torch.nn.Linear stores W as (out × in) and computes x Wᵀ + b; ours is the transpose.
    expected = torch.nn.functional.linear(tensor(case["x"]), tensor(case["w"]).T, tensor(case["b"]))
    outputs = compute("affine-forward", x=case["x"], w=case["w"], b=case["b"])
    assert_close(outputs["y"], expected, atol=1e-9)


@given(affine_cases())
def test_affine_backward_matches_torch_autograd(case: dict[str, list]) -> None:
    x, w, b = (tensor(case[name]).requires_grad_() for name in ("x", "w", "b"))
    (x @ w + b).backward(tensor(case["dy"]))
    outputs = compute("affine-backward", x=case["x"], w=case["w"], dy=case["dy"])
    assert_close(outputs["dx"], x.grad, atol=1e-9)
    assert_close(outputs["dw"], w.grad, atol=1e-9)
    assert_close(outputs["db"], b.grad, atol=1e-9)


def test_affine_backward_gradients_have_the_shapes_of_what_they_differentiate() -> None:
    outputs = compute(
        "affine-backward",
        x=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
        w=[[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 0.0, -1.0]],
        dy=[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]],
    )
    assert np.shape(outputs["dx"]) == (3, 2)
    assert np.shape(outputs["dw"]) == (2, 4)
    assert outputs["db"] == [1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field"),
    [
        ("affine-forward", {"x": [[1.0, 2.0]], "w": [[1.0]], "b": [0.0]}, "w"),
        ("affine-forward", {"x": [[1.0]], "w": [[1.0, 2.0]], "b": [0.0]}, "b"),
        ("affine-forward", {"x": [[1.0]] * 4096, "w": [[1.0, 2.0]], "b": [0.0, 0.0]}, "w"),
        ("affine-backward", {"x": [[1.0, 2.0]], "w": [[1.0]], "dy": [[1.0]]}, "w"),
        ("affine-backward", {"x": [[1.0]], "w": [[1.0]], "dy": [[1.0], [2.0]]}, "dy"),
        ("affine-backward", {"x": [[1.0]], "w": [[1.0]], "dy": [[1.0, 2.0]]}, "dy"),
    ],
)
def test_affine_shapes_that_do_not_chain_are_refused(
    calculator_id: str, inputs: dict, field: str
) -> None:
    assert_raises_on(field, calculator_id, **inputs)


@given(st.lists(st.tuples(st.floats(-30, 30), st.floats(-10, 10)), min_size=1, max_size=30))
def test_sigmoid_backward_matches_torch_autograd(pairs: list[tuple[float, float]]) -> None:
    x = tensor([p[0] for p in pairs]).requires_grad_()
    upstream = [p[1] for p in pairs]
    y = torch.sigmoid(x)
    y.backward(tensor(upstream))
    outputs = compute("sigmoid-backward", y=y.detach().tolist(), dy=upstream)
    assert_close(outputs["dx"], x.grad)


def test_sigmoid_backward_refuses_an_output_outside_zero_one() -> None:
    error = assert_raises_on("y", "sigmoid-backward", y=[1.2], dy=[1.0])
    assert "between 0 and 1" in error.reason


TORCH_FUNCTIONS = {
    "square": lambda t: t**2,
    "cube": lambda t: t**3,
    "sin": torch.sin,
    "cos": torch.cos,
    "exp": torch.exp,
    "log": torch.log,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
MATH_FUNCTIONS = {
    "square": lambda v: v * v,
    "cube": lambda v: v * v * v,
    "sin": math.sin,
    "cos": math.cos,
    "exp": math.exp,
    "log": math.log,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
}


def torch_derivative(function, at: float) -> tuple[float, float]:
    point = tensor(at).requires_grad_()
    value = function(point)
    value.backward()
    return value.item(), point.grad.item()


@pytest.mark.parametrize("name", list(TORCH_FUNCTIONS))
@given(x=st.floats(0.2, 5), h=st.sampled_from([1e-1, 1e-2, 1e-3, 1e-4, 1e-5]))
def test_finite_differences_follow_their_definitions_and_the_exact_one_is_autograds(
    name: str, x: float, h: float
) -> None:
    f = MATH_FUNCTIONS[name]
    outputs = compute("numerical-differentiation", function=name, x=x, h=h)
    _, exact = torch_derivative(TORCH_FUNCTIONS[name], x)
    assert_close(outputs["exact"], exact)
    assert_close(outputs["forward_difference"], (f(x + h) - f(x)) / h, rtol=1e-6, atol=1e-9)
    assert_close(outputs["central_difference"], (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6)
    assert_close(outputs["central_error"], outputs["central_difference"] - exact)


def test_central_difference_is_exact_for_a_square_and_off_by_h_squared_for_a_cube() -> None:
    square = compute("numerical-differentiation", function="square", x=3.0, h=0.1)
    cube = compute("numerical-differentiation", function="cube", x=2.0, h=0.1)
    assert_close([square["central_difference"], square["forward_difference"]], [6.0, 6.1])
    assert_close(cube["central_difference"], 12.0 + 0.1**2)


@pytest.mark.parametrize("h", [1e-2, 1e-3])
def test_central_difference_error_shrinks_with_h_squared_forward_with_h(h: float) -> None:
    coarse = compute("numerical-differentiation", function="exp", x=1.0, h=h)
    fine = compute("numerical-differentiation", function="exp", x=1.0, h=h / 10)
    assert_close(coarse["forward_error"] / fine["forward_error"], 10, rtol=0.02)
    assert_close(coarse["central_error"] / fine["central_error"], 100, rtol=0.02)


def test_a_step_below_the_spacing_of_doubles_makes_the_difference_zero() -> None:
    outputs = compute("numerical-differentiation", function="square", x=1e8, h=1e-10)
    assert outputs["central_difference"] == 0.0
    assert outputs["exact"] == 2e8


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"function": "log", "x": -1.0}, "x", "v > 0"),
        ({"function": "log", "x": 0.5, "h": 0.5}, "h", "x − h"),
        ({"function": "exp", "x": 710.0}, "x", "overflows"),
        ({"function": "exp", "x": 709.5, "h": 0.5}, "h", "x + h"),
        ({"function": "log", "x": 1e-320, "h": 1e-321}, "x", "overflows"),
        ({"function": "square", "x": 1.0, "h": 0.0}, "h", "greater than 0"),
        ({"function": "square", "x": 1.0, "h": 2.0}, "h", "less than or equal to 1"),
        ({"function": "sqrt", "x": 1.0}, "function", "square"),
    ],
)
def test_numerical_differentiation_names_the_input_that_leaves_the_domain(
    inputs: dict, field: str, reason: str
) -> None:
    error = assert_raises_on(field, "numerical-differentiation", **inputs)
    assert reason in error.reason


@pytest.mark.parametrize(("outer", "inner"), list(itertools.product(TORCH_FUNCTIONS, repeat=2)))
@given(x=st.floats(0.1, 3))
def test_chain_rule_matches_torch_autograd(outer: str, inner: str, x: float) -> None:
    def composed(t):
        return TORCH_FUNCTIONS[outer](TORCH_FUNCTIONS[inner](t))

    if outer == "log" and MATH_FUNCTIONS[inner](x) <= 0:
        assert_raises_on("x", "chain-rule", outer=outer, inner=inner, x=x)
        return
    y, dy_dx = torch_derivative(composed, x)
    outputs = compute("chain-rule", outer=outer, inner=inner, x=x)
    assert_close([outputs["y"], outputs["dy_dx"]], [y, dy_dx], atol=1e-12)
    assert_close(outputs["dy_dx"], outputs["dy_du"] * outputs["du_dx"])


def test_chain_rule_of_a_worked_case() -> None:
    # y = sin(x²): dy/dx = cos(x²) · 2x.
    outputs = compute("chain-rule", outer="sin", inner="square", x=1.5)
    assert_close(outputs["dy_dx"], math.cos(2.25) * 3.0)


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"outer": "log", "inner": "sin", "x": -1.0}, "u = g(x)"),
        ({"outer": "exp", "inner": "cube", "x": 10.0}, "overflows"),
        ({"outer": "exp", "inner": "square", "x": 26.6}, "dy/dx"),
    ],
)
def test_chain_rule_refuses_points_where_the_composition_is_undefined(
    inputs: dict, reason: str
) -> None:
    assert reason in assert_raises_on("x", "chain-rule", **inputs).reason


def relative_errors(a: float, n: float) -> tuple[float, float]:
    """The two per-component forms, with 0/0 counted as agreement."""
    if a == n == 0:
        return 0.0, 0.0
    return abs(a - n) / max(abs(a), abs(n)), abs(a - n) / (abs(a) + abs(n))


@st.composite
def gradient_pairs(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    k = draw(st.integers(1, 20))
    gradients = st.lists(st.floats(-1e3, 1e3), min_size=k, max_size=k)
    return draw(gradients), draw(gradients)


@given(gradient_pairs(), st.floats(1e-12, 0.5))
def test_gradient_check_follows_the_relative_error_definitions(pair, threshold: float) -> None:
    analytic, numerical = pair
    outputs = compute("gradient-check", analytic=analytic, numerical=numerical, threshold=threshold)
    expected = [relative_errors(a, n) for a, n in zip(analytic, numerical, strict=True)]
    assert_close(outputs["relative_error"], [e[0] for e in expected])
    assert_close(outputs["relative_error_sum"], [e[1] for e in expected])
    worst = max(e[0] for e in expected)
    assert_close(outputs["max_relative_error"], worst)
    assert outputs["passes"] == (worst <= threshold)
    norms = math.dist(analytic, numerical), math.hypot(*analytic) + math.hypot(*numerical)
    assert_close(outputs["norm_relative_error"], norms[0] / norms[1] if norms[1] else 0.0)


def test_gradient_check_of_a_worked_case() -> None:
    outputs = compute("gradient-check", analytic=[2.0, 0.0], numerical=[2.0000004, 0.0])
    assert_close(outputs["relative_error"], [2e-7, 0.0], rtol=1e-6)
    assert_close(outputs["relative_error_sum"], [1e-7, 0.0], rtol=1e-6)
    assert outputs["passes"] is False  # 2e-7 is above the default 1e-7
    looser = compute(
        "gradient-check", analytic=[2.0, 0.0], numerical=[2.0000004, 0.0], threshold=1e-6
    )
    assert looser["passes"] is True


def test_gradient_check_counts_two_zero_gradients_as_agreement() -> None:
    outputs = compute("gradient-check", analytic=[0.0, 0.0], numerical=[0.0, 0.0])
    assert outputs["relative_error"] == outputs["relative_error_sum"] == [0.0, 0.0]
    assert outputs["norm_relative_error"] == 0.0
    assert outputs["passes"] is True


def test_one_zero_gradient_against_a_nonzero_one_is_a_relative_error_of_one() -> None:
    outputs = compute("gradient-check", analytic=[0.0], numerical=[1e-9])
    assert outputs["relative_error"] == [1.0]
    assert outputs["passes"] is False


def test_gradient_check_refuses_gradients_of_different_lengths() -> None:
    assert_raises_on("numerical", "gradient-check", analytic=[1.0, 2.0], numerical=[1.0])
