"""Normalization layers and regularizers against torch.nn.functional and torch.optim, in float64."""

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from app import calculators
from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)
epsilons = st.floats(1e-8, 1e-2)


@st.composite
def matrices(
    draw: st.DrawFn, min_rows: int = 1, min_columns: int = 1, rows: int | None = None
) -> list[list[float]]:
    rows = rows or draw(st.integers(min_rows, 6))
    columns = draw(st.integers(min_columns, 6))
    row = st.lists(values, min_size=columns, max_size=columns)
    return draw(st.lists(row, min_size=rows, max_size=rows))


def per_column(draw: st.DataObject, count: int) -> list[float]:
    return draw.draw(st.lists(values, min_size=count, max_size=count))


def assert_normalized_close(
    actual: Any, expected: torch.Tensor, x: list[list[float]], gamma: list[float], eps: float
) -> None:
    """x − μ rounds differently in torch (to about |x|·1e-16), and 1/√(σ² + ε) can magnify
    that by up to 1/√ε where a row or column is constant; allow for exactly that much."""
    largest = 1 + np.abs(x).max()
    rounding = 1e-14 * largest * (1 + np.abs(gamma).max()) / np.sqrt(eps)
    assert_close(actual, expected, atol=1e-12 + rounding)


def last_step(calculator_id: str, **inputs: Any) -> Any:
    calculator = calculators.get(calculator_id)
    return calculator.run(calculator.parse(inputs)).steps[-1].value


@given(matrices(min_rows=2), st.data(), epsilons)
def test_batch_norm_matches_torch_in_training_mode(
    x: list[list[float]], data: st.DataObject, eps: float
) -> None:
    gamma, beta = per_column(data, len(x[0])), per_column(data, len(x[0]))
    outputs = compute("batch-norm", x=x, gamma=gamma, beta=beta, eps=eps)
    expected = F.batch_norm(
        tensor(x), None, None, tensor(gamma), tensor(beta), training=True, eps=eps
    )
    assert_normalized_close(outputs["y"], expected, x, gamma, eps)
    var, mean = torch.var_mean(tensor(x), dim=0, correction=0)
    assert_close(outputs["mean"], mean)
    assert_close(outputs["var"], var)


@given(matrices(min_rows=2))
def test_batch_norm_running_variance_takes_the_unbiased_batch_variance(
    x: list[list[float]],
) -> None:
    columns = len(x[0])
    running_mean, running_var = torch.zeros(columns), torch.ones(columns)
    # momentum = 1 replaces the running statistics by this batch's, as torch stores them.
    F.batch_norm(tensor(x), running_mean, running_var, training=True, momentum=1.0)
    gamma_beta = {"gamma": [1.0] * columns, "beta": [0.0] * columns}
    assert_close(last_step("batch-norm", x=x, **gamma_beta), running_var)
    assert_close(running_var, torch.var(tensor(x), dim=0, correction=1))


def test_batch_norm_worked_by_hand() -> None:
    outputs = compute("batch-norm", x=[[1.0], [3.0]], gamma=[2.0], beta=[0.5], eps=1e-5)
    assert_close(outputs["mean"], [2.0])
    assert_close(outputs["var"], [1.0])  # ((1 − 2)² + (3 − 2)²) / 2, not / 1
    root = np.sqrt(1 + 1e-5)
    assert_close(outputs["y"], [[0.5 - 2 / root], [0.5 + 2 / root]])


@given(matrices(), st.data(), epsilons)
def test_layer_norm_matches_torch(x: list[list[float]], data: st.DataObject, eps: float) -> None:
    gamma, beta = per_column(data, len(x[0])), per_column(data, len(x[0]))
    outputs = compute("layer-norm", x=x, gamma=gamma, beta=beta, eps=eps)
    expected = F.layer_norm(tensor(x), (len(x[0]),), tensor(gamma), tensor(beta), eps=eps)
    assert_normalized_close(outputs["y"], expected, x, gamma, eps)


def test_layer_norm_normalizes_each_row_on_its_own() -> None:
    outputs = compute("layer-norm", x=[[1.0, 3.0], [10.0, 30.0]], gamma=[1.0, 1.0], beta=[0, 0])
    first, second = outputs["y"]
    assert_close(first, [-1 / np.sqrt(1 + 1e-5), 1 / np.sqrt(1 + 1e-5)])
    assert_close(second, [-10 / np.sqrt(100 + 1e-5), 10 / np.sqrt(100 + 1e-5)])


@given(matrices(min_columns=2), st.data(), epsilons)
def test_instance_norm_matches_torch(x: list[list[float]], data: st.DataObject, eps: float) -> None:
    gamma, beta = per_column(data, len(x)), per_column(data, len(x))
    outputs = compute("instance-norm", x=x, gamma=gamma, beta=beta, eps=eps)
    expected = F.instance_norm(tensor([x]), weight=tensor(gamma), bias=tensor(beta), eps=eps)
    assert_normalized_close(outputs["y"], expected[0], x, gamma, eps)
    var, mean = torch.var_mean(tensor(x), dim=1, correction=0)
    assert_close(outputs["mean"], mean)
    assert_close(outputs["var"], var)


@st.composite
def grouped_channels(draw: st.DrawFn) -> tuple[list[list[float]], int]:
    groups, per_group = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    x = draw(matrices(rows=groups * per_group, min_columns=1 if per_group > 1 else 2))
    return x, groups


@given(grouped_channels(), st.data(), epsilons)
def test_group_norm_matches_torch(
    x_and_groups: tuple[list[list[float]], int], data: st.DataObject, eps: float
) -> None:
    x, groups = x_and_groups
    gamma, beta = per_column(data, len(x)), per_column(data, len(x))
    outputs = compute("group-norm", x=x, num_groups=groups, gamma=gamma, beta=beta, eps=eps)
    expected = F.group_norm(tensor([x]), groups, tensor(gamma), tensor(beta), eps=eps)
    assert_normalized_close(outputs["y"], expected[0], x, gamma, eps)
    var, mean = torch.var_mean(tensor(x).reshape(groups, -1), dim=1, correction=0)
    assert_close(outputs["mean"], mean)
    assert_close(outputs["var"], var)


def test_group_norm_spans_layer_norm_and_instance_norm() -> None:
    x = [[1.0, 2.0, 4.0], [0.0, -3.0, 5.0], [2.0, 2.0, 7.0], [1.0, 8.0, -1.0]]
    affine = {"gamma": [1.0, 2.0, 0.5, 1.0], "beta": [0.0, 1.0, -1.0, 0.0]}
    one_group = compute("group-norm", x=x, num_groups=1, **affine)["y"]
    whole = F.layer_norm(tensor(x), (4, 3))  # one group = layer norm over C×H×W
    assert_close(
        one_group, tensor(affine["gamma"])[:, None] * whole + tensor(affine["beta"])[:, None]
    )
    per_channel = compute("group-norm", x=x, num_groups=4, **affine)["y"]
    assert_close(per_channel, compute("instance-norm", x=x, **affine)["y"])


@st.composite
def dropout_inputs(draw: st.DrawFn) -> tuple[list[float], list[int], float]:
    x = draw(st.lists(values, min_size=1, max_size=12))
    p = draw(st.floats(0.01, 0.99))
    mask = draw(st.lists(st.integers(0, 1), min_size=len(x), max_size=len(x)))
    return x, mask, p


@given(dropout_inputs())
def test_dropout_matches_its_definitions(inputs: tuple[list[float], list[int], float]) -> None:
    x, mask, p = inputs
    outputs = compute("dropout", x=x, mask=mask, p=p)
    assert_close(outputs["train_inverted"], [m * v / (1 - p) for m, v in zip(mask, x, strict=True)])
    assert outputs["test_inverted"] == x
    assert_close(outputs["train_original"], [m * v for m, v in zip(mask, x, strict=True)])
    assert_close(outputs["test_original"], [(1 - p) * v for v in x])


@given(st.lists(values, min_size=1, max_size=12), st.floats(0.01, 0.99), st.integers(0, 2**31))
def test_dropout_with_torchs_own_mask_matches_torch(x: list[float], p: float, seed: int) -> None:
    torch.manual_seed(seed)
    mask = (F.dropout(torch.ones(len(x)), p, training=True) != 0).int().tolist()
    torch.manual_seed(seed)  # the mask depends on the seed and the shape only
    expected = F.dropout(tensor(x), p, training=True)
    outputs = compute("dropout", x=x, mask=mask, p=p)
    assert_close(outputs["train_inverted"], expected)
    assert_close(outputs["test_inverted"], F.dropout(tensor(x), p, training=False))


def test_dropout_keeps_the_expected_activation_in_both_forms() -> None:
    # Over the two masks of one unit, weighted by their probabilities, both forms average to
    # what they output at test time.
    p, x = 0.25, [8.0]
    kept, dropped = (compute("dropout", x=x, mask=[m], p=p) for m in (1, 0))
    for train, test in [("train_inverted", "test_inverted"), ("train_original", "test_original")]:
        average = (1 - p) * kept[train][0] + p * dropped[train][0]
        assert_close(average, kept[test][0])


@given(
    st.lists(st.tuples(values, values), min_size=1, max_size=8),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_weight_decay_matches_torch_sgd_weight_decay(
    pairs: list[tuple[float, float]], lr: float, weight_decay: float
) -> None:
    params, grads = map(list, zip(*pairs, strict=True))
    outputs = compute("weight-decay", params=params, grads=grads, lr=lr, weight_decay=weight_decay)
    parameter = tensor(params).requires_grad_()
    optimizer = torch.optim.SGD([parameter], lr=lr, weight_decay=weight_decay, foreach=False)
    parameter.grad = tensor(grads)
    optimizer.step()
    assert_close(outputs["params"], parameter.detach(), atol=1e-12 * (1 + max(map(abs, params))))
    # The L2 term's gradient is λθ, and for plain SGD it is the same as shrinking θ by 1 − ηλ.
    theta = tensor(params).requires_grad_()
    (weight_decay / 2 * (theta**2).sum()).backward()
    assert_close(outputs["grads"], tensor(grads) + theta.grad)
    assert_close(outputs["penalty"], weight_decay / 2 * sum(v * v for v in params))
    decoupled = (1 - lr * weight_decay) * tensor(params) - lr * tensor(grads)
    assert_close(outputs["params"], decoupled, atol=1e-12 * (1 + max(map(abs, params))))


@given(st.lists(values, min_size=2, max_size=10), st.data(), st.floats(0, 1))
def test_label_smoothing_matches_torch_cross_entropy(
    logits: list[float], data: st.DataObject, epsilon: float
) -> None:
    target = data.draw(st.integers(0, len(logits) - 1))
    outputs = compute("label-smoothing", logits=logits, target=target, epsilon=epsilon)
    expected = F.cross_entropy(tensor([logits]), torch.tensor([target]), label_smoothing=epsilon)
    assert_close(outputs["loss"], expected)
    assert_close(sum(outputs["targets"]), 1.0)
    assert_close(outputs["targets"][target], 1 - epsilon + epsilon / len(logits))


def test_label_smoothing_spreads_epsilon_over_all_classes_including_the_target() -> None:
    outputs = compute("label-smoothing", logits=[2.0, 1.0, 0.0, -1.0], target=0, epsilon=0.2)
    assert_close(outputs["targets"], [0.85, 0.05, 0.05, 0.05])  # not [0.8, 0.2/3, ...]


def test_label_smoothing_with_no_smoothing_is_plain_cross_entropy() -> None:
    logits = [0.5, -1.0, 3.0]
    outputs = compute("label-smoothing", logits=logits, target=1, epsilon=0.0)
    assert_close(outputs["loss"], -torch.log_softmax(tensor(logits), 0)[1])


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field", "reason"),
    [
        ("batch-norm", {"x": [[1.0, 2.0]], "gamma": [1, 1], "beta": [0, 0]}, "x", "at least 2"),
        ("batch-norm", {"x": [[1.0], [2.0]], "gamma": [1, 1], "beta": [0]}, "gamma", "one value"),
        ("batch-norm", {"x": [[1.0], [2.0]], "gamma": [1], "beta": [0], "eps": 0}, "eps", ""),
        ("layer-norm", {"x": [[1.0, 2.0]], "gamma": [1, 1], "beta": [0]}, "beta", "one value"),
        ("instance-norm", {"x": [[1.0], [2.0]], "gamma": [1, 1], "beta": [0, 0]}, "x", "2"),
        (
            "group-norm",
            {"x": [[1.0, 2.0]] * 3, "gamma": [1] * 3, "beta": [0] * 3, "num_groups": 2},
            "num_groups",
            "divide",
        ),
        (
            "group-norm",
            {"x": [[1.0], [2.0]], "gamma": [1, 1], "beta": [0, 0], "num_groups": 2},
            "num_groups",
            "at least 2",
        ),
        ("dropout", {"x": [1.0, 2.0], "mask": [1]}, "mask", "same shape"),
        ("dropout", {"x": [1.0, 2.0], "mask": [1, 0], "p": 0.0}, "mask", "p = 0"),
        ("dropout", {"x": [1.0], "mask": [1], "p": 1.0}, "p", "less than 1"),
        ("dropout", {"x": [1.0], "mask": [2]}, "mask.0", "less than or equal to 1"),
        ("weight-decay", {"params": [1.0], "grads": [1.0], "weight_decay": -1}, "weight_decay", ""),
        ("label-smoothing", {"logits": [1.0, 2.0], "target": 2}, "target", "below"),
        ("label-smoothing", {"logits": [1.0, 2.0], "target": 0, "epsilon": 1.5}, "epsilon", ""),
    ],
)
def test_domain_errors_name_the_field_and_say_why(
    calculator_id: str, inputs: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field
    assert reason in caught.value.reason
