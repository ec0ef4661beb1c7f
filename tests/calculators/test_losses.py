import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor


@st.composite
def predictions_and_one_hot_targets(draw: st.DrawFn) -> tuple[list[list[float]], list[list[int]]]:
    n = draw(st.integers(1, 8))
    k = draw(st.integers(2, 6))
    raw = draw(
        st.lists(st.lists(st.floats(1e-3, 1.0), min_size=k, max_size=k), min_size=n, max_size=n)
    )
    probabilities = (np.asarray(raw) / np.asarray(raw).sum(axis=1, keepdims=True)).tolist()
    classes = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return probabilities, np.eye(k, dtype=int)[classes].tolist()


@given(predictions_and_one_hot_targets())
def test_cross_entropy_matches_torch_nll_of_log_probabilities(case) -> None:
    probabilities, targets = case
    expected = torch.nn.functional.nll_loss(
        torch.log(tensor(probabilities)), torch.tensor(np.argmax(targets, axis=1))
    )
    assert_close(
        compute("cross-entropy", probabilities=probabilities, targets=targets)["loss"], expected
    )


def test_cross_entropy_of_a_worked_case() -> None:
    loss = compute(
        "cross-entropy",
        probabilities=[[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]],
        targets=[[1, 0, 0], [0, 0, 1]],
    )["loss"]
    assert_close(loss, -(np.log(0.7) + np.log(0.3)) / 2)


def test_cross_entropy_refuses_zero_probability_on_the_target() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("cross-entropy", probabilities=[[1.0, 0.0]], targets=[[0, 1]])
    assert caught.value.field == "probabilities"
    assert "log 0" in caught.value.reason
