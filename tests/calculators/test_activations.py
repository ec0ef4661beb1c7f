import math

import torch
from hypothesis import given
from hypothesis import strategies as st

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
