import math

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

reals = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)
vectors = st.lists(reals, min_size=1, max_size=50)
temperatures = st.floats(min_value=1e-2, max_value=1e2)


def test_softmax_of_the_card_example() -> None:
    probabilities = compute("softmax", logits=[2.0, 1.0, 0.1])["probabilities"]
    assert_close(probabilities, [0.6590011388859679, 0.2424329707047139, 0.09856589040931818])


def test_softmax_is_stable_for_large_logits() -> None:
    probabilities = compute("softmax", logits=[1000.0, 1001.0, 999.0])["probabilities"]
    assert_close(probabilities, torch.softmax(tensor([1000.0, 1001.0, 999.0]), 0))
    assert math.isclose(sum(probabilities), 1.0)


def test_softmax_temperature_flattens_and_sharpens() -> None:
    logits = [3.0, 1.0, 0.0]
    hot = compute("softmax", logits=logits, temperature=100.0)["probabilities"]
    cold = compute("softmax", logits=logits, temperature=0.01)["probabilities"]
    assert max(hot) - min(hot) < 0.02
    assert cold[0] > 0.999999


@given(vectors, temperatures)
def test_softmax_matches_torch(logits: list[float], temperature: float) -> None:
    expected = torch.softmax(tensor(logits) / temperature, 0)
    assert_close(
        compute("softmax", logits=logits, temperature=temperature)["probabilities"], expected
    )


@given(st.lists(st.floats(min_value=-800, max_value=800), min_size=1, max_size=50))
def test_sigmoid_and_its_derivative_match_torch_autograd(x: list[float]) -> None:
    inputs = tensor(x).requires_grad_()
    y = torch.sigmoid(inputs)
    y.sum().backward()
    outputs = compute("sigmoid", x=x)
    assert_close(outputs["y"], y)
    # torch's y(1 − y) loses digits where y rounds near 1; ours does not, hence the atol.
    assert_close(outputs["dy_dx"], inputs.grad, atol=1e-15)


def test_sigmoid_derivative_peaks_at_a_quarter() -> None:
    outputs = compute("sigmoid", x=[-1.0, 0.0, 1.0])
    assert outputs["dy_dx"][1] == 0.25
    assert max(outputs["dy_dx"]) == 0.25


def torch_value_and_derivative(function, x: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and f′(x) elementwise, the derivative taken by autograd in float64."""
    inputs = tensor(x).requires_grad_()
    y = function(inputs)
    y.sum().backward()
    return y.detach(), inputs.grad


def assert_activation_matches(
    calculator_id: str, function, x: list[float], atol: float = 1e-12, **options
) -> dict:
    outputs = compute(calculator_id, x=x, **options)
    y, dy_dx = torch_value_and_derivative(function, x)
    assert_close(outputs["y"], y, atol=atol)
    assert_close(outputs["dy_dx"], dy_dx, atol=atol)
    return outputs


@given(vectors)
def test_tanh_and_its_derivative_match_torch_autograd(x: list[float]) -> None:
    # torch's 1 − y² is 0 once tanh rounds to ±1 (|x| > 19); ours keeps e.g. 4e^(−40), hence atol.
    assert_activation_matches("tanh", torch.tanh, x, atol=1e-15)


def test_tanh_derivative_peaks_at_one_and_keeps_its_digits_when_saturated() -> None:
    outputs = compute("tanh", x=[0.0, 20.0, -20.0])
    assert outputs["dy_dx"][0] == 1.0
    assert_close(outputs["dy_dx"][1:], [4 * math.exp(-40)] * 2, rtol=1e-12)


def test_tanh_is_a_rescaled_sigmoid() -> None:
    x = [-1.5, 0.25, 3.0]
    sigmoid_of_2x = compute("sigmoid", x=[2 * v for v in x])["y"]
    assert_close(compute("tanh", x=x)["y"], [2 * s - 1 for s in sigmoid_of_2x])


@given(vectors)
def test_relu_and_its_derivative_match_torch_autograd(x: list[float]) -> None:
    assert_activation_matches("relu", torch.relu, x)


def test_relu_derivative_at_zero_is_zero_as_in_torch() -> None:
    outputs = compute("relu", x=[-1.0, 0.0, 1.0])
    _, dy_dx = torch_value_and_derivative(torch.relu, [-1.0, 0.0, 1.0])
    assert outputs["dy_dx"] == [0.0, 0.0, 1.0] == dy_dx.tolist()


@given(vectors, st.floats(0, 0.99))
def test_leaky_relu_matches_torch_autograd(x: list[float], slope: float) -> None:
    assert_activation_matches(
        "leaky-relu",
        lambda t: torch.nn.functional.leaky_relu(t, negative_slope=slope),
        x,
        negative_slope=slope,
    )


def test_leaky_relu_default_slope_is_torchs_and_applies_at_zero() -> None:
    outputs = compute("leaky-relu", x=[-3.0, 0.0, 2.0])
    assert_close(outputs["y"], torch.nn.functional.leaky_relu(tensor([-3.0, 0.0, 2.0])))
    assert outputs["dy_dx"] == [0.01, 0.01, 1.0]


@given(vectors, st.floats(0.01, 10))
def test_elu_and_its_derivative_match_torch_autograd(x: list[float], alpha: float) -> None:
    outputs = assert_activation_matches(
        "elu", lambda t: torch.nn.functional.elu(t, alpha=alpha), x, alpha=alpha
    )
    for value, y, dy_dx in zip(x, outputs["y"], outputs["dy_dx"], strict=True):
        if value <= 0:  # the paper's shortcut: f′(x) = f(x) + α on the negative side
            assert math.isclose(dy_dx, y + alpha, rel_tol=1e-9, abs_tol=1e-12)


def test_elu_derivative_at_zero_is_alpha_as_in_torch() -> None:
    outputs = compute("elu", x=[0.0], alpha=2.0)
    _, dy_dx = torch_value_and_derivative(lambda t: torch.nn.functional.elu(t, 2.0), [0.0])
    assert outputs["dy_dx"] == [2.0] == dy_dx.tolist()


def gelu_definition(x: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """x Φ(x) and Φ(x) + x φ(x) from SciPy's normal distribution."""
    values = np.asarray(x)
    return values * scipy.stats.norm.cdf(values), (
        scipy.stats.norm.cdf(values) + values * scipy.stats.norm.pdf(values)
    )


@given(vectors)
def test_gelu_matches_torch_exact_erf_form(x: list[float]) -> None:
    # torch computes ½(1 + erf(x/√2)), which rounds to 0 in the far left tail; hence atol.
    assert_activation_matches("gelu", torch.nn.functional.gelu, x, atol=1e-15)


@given(vectors)
def test_gelu_keeps_full_relative_precision_in_the_tail(x: list[float]) -> None:
    y, dy_dx = gelu_definition(x)
    outputs = compute("gelu", x=x)
    # Relative precision is defined down to the smallest normal double; below it a process
    # may flush subnormals to zero (some native libraries turn that on when loaded).
    assert_close(outputs["y"], y, atol=np.finfo(float).tiny)
    assert_close(outputs["dy_dx"], dy_dx, atol=1e-300)


@given(vectors)
def test_gelu_tanh_approximation_matches_torch(x: list[float]) -> None:
    # torch's ½x(1 + tanh u) cancels where tanh u ≈ −1; we use the equal x σ(2u).
    assert_activation_matches(
        "gelu",
        lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
        x,
        atol=1e-15,
        approximate="tanh",
    )


def test_gelu_tanh_approximation_stays_close_to_the_exact_form() -> None:
    x = np.linspace(-6, 6, 241).tolist()
    exact = compute("gelu", x=x)["y"]
    approximate = compute("gelu", x=x, approximate="tanh")["y"]
    assert np.max(np.abs(np.subtract(exact, approximate))) < 5e-4


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field"),
    [
        ("leaky-relu", {"x": [1.0], "negative_slope": 1.0}, "negative_slope"),
        ("leaky-relu", {"x": [1.0], "negative_slope": -0.1}, "negative_slope"),
        ("elu", {"x": [1.0], "alpha": 0.0}, "alpha"),
        ("elu", {"x": [1.0], "alpha": 101.0}, "alpha"),
        ("gelu", {"x": [1.0], "approximate": "sigmoid"}, "approximate"),
    ],
)
def test_activation_parameters_out_of_range_are_refused(
    calculator_id: str, inputs: dict, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field
