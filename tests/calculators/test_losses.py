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


@st.composite
def prediction_target_pairs(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    k = draw(st.integers(1, 20))
    values = st.lists(st.floats(-1e3, 1e3), min_size=k, max_size=k)
    return draw(values), draw(values)


@given(prediction_target_pairs())
def test_sum_of_squares_is_half_torchs_summed_mse_and_its_gradient_is_autograds(pair) -> None:
    predictions, targets = pair
    y = tensor(predictions).requires_grad_()
    loss = 0.5 * torch.nn.functional.mse_loss(y, tensor(targets), reduction="sum")
    loss.backward()
    outputs = compute("sum-of-squares-error", predictions=predictions, targets=targets)
    assert_close(outputs["loss"], loss)
    assert_close(outputs["gradient"], y.grad)
    assert_close(outputs["mse"], torch.nn.MSELoss()(tensor(predictions), tensor(targets)))


def test_sum_of_squares_of_the_textbook_example() -> None:
    # Saito, Deep Learning from Scratch §4.2.1: class 2 is correct, y is a softmax-like output.
    outputs = compute(
        "sum-of-squares-error",
        predictions=[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
        targets=[0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    )
    assert_close(outputs["loss"], 0.0975)
    assert_close(outputs["mse"], 2 * 0.0975 / 10)


def test_sum_of_squares_refuses_targets_of_another_length() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("sum-of-squares-error", predictions=[0.5, 0.5], targets=[1.0])
    assert caught.value.field == "targets"


@st.composite
def logits_and_classes(draw: st.DrawFn) -> tuple[list[list[float]], list[int]]:
    n, k = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    row = st.lists(st.floats(-1e3, 1e3), min_size=k, max_size=k)
    logits = draw(st.lists(row, min_size=n, max_size=n))
    return logits, draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))


@given(logits_and_classes())
def test_softmax_with_loss_matches_torch_cross_entropy_and_its_autograd(case) -> None:
    logits, classes = case
    z = tensor(logits).requires_grad_()
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(classes))
    loss.backward()
    k = len(logits[0])
    outputs = compute(
        "softmax-with-loss", logits=logits, targets=np.eye(k, dtype=int)[classes].tolist()
    )
    assert_close(outputs["loss"], loss)
    assert_close(outputs["gradient"], z.grad, atol=1e-15)
    assert_close(outputs["probabilities"], torch.softmax(tensor(logits), dim=1))


def test_softmax_with_loss_gradient_is_y_minus_t_over_n() -> None:
    logits, targets = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], [[1, 0, 0], [0, 0, 1]]
    outputs = compute("softmax-with-loss", logits=logits, targets=targets)
    y = np.asarray(outputs["probabilities"])
    assert_close(outputs["gradient"], (y - np.asarray(targets)) / 2)
    assert_close(np.sum(outputs["gradient"], axis=1), [0.0, 0.0])


def test_softmax_with_loss_stays_finite_when_the_target_probability_underflows() -> None:
    outputs = compute("softmax-with-loss", logits=[[1000.0, 0.0]], targets=[[0, 1]])
    assert_close(outputs["loss"], 1000.0)
    assert_close(outputs["gradient"], [[1.0, -1.0]])


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"logits": [[1.0, 2.0]], "targets": [[1, 1]]}, "targets", "one-hot"),
        ({"logits": [[1.0, 2.0]], "targets": [[0, 0]]}, "targets", "one-hot"),
        ({"logits": [[1.0, 2.0]], "targets": [[1, 0, 0]]}, "targets", "same shape"),
    ],
)
def test_softmax_with_loss_refuses_targets_that_are_not_one_hot_rows(
    inputs: dict, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("softmax-with-loss", **inputs)
    assert caught.value.field == field
    assert reason in caught.value.reason
