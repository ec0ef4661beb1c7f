"""Loss functions."""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    BitMatrix,
    Inputs,
    InvalidInput,
    Matrix,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

ROW_SUM_TOLERANCE = 1e-3
"""Probabilities typed by hand are rounded; a row may miss 1 by this much."""


ONE_HOT_TARGETS = {"en": "One-hot targets t (N×K)", "ja": "正解ラベル t（N×K の one-hot 表現）"}


def _require_one_hot_rows(inputs: Inputs, name: str) -> None:
    for row, ones in enumerate(np.asarray(getattr(inputs, name)).sum(axis=1)):
        if ones != 1:
            raise InvalidInput(name, f"row {row} must be one-hot (exactly one 1)")


class CrossEntropyInputs(Inputs):
    probabilities: Matrix = described(
        en="Predicted probabilities y, one row per example (N×K), each row summing to 1",
        ja="予測確率 y（N×K、1行が1データで各行の和は1）",
    )
    targets: BitMatrix = described(**ONE_HOT_TARGETS)

    @model_validator(mode="after")
    def _probabilities_and_one_hot_targets(self) -> "CrossEntropyInputs":
        require_same_shape(self, "probabilities", "targets")
        y = np.asarray(self.probabilities)
        if ((y < 0) | (y > 1)).any():
            raise InvalidInput("probabilities", "every probability must lie in [0, 1]")
        for row, total in enumerate(y.sum(axis=1)):
            if abs(total - 1) > ROW_SUM_TOLERANCE:
                raise InvalidInput("probabilities", f"row {row} sums to {total:.6g}, not 1")
        _require_one_hot_rows(self, "targets")
        return self


NICE_DISTRIBUTIONS = ([0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.8, 0.1, 0.1])


def _sample_cross_entropy(rng: np.random.Generator) -> dict[str, Any]:
    probabilities = rng.permutation(NICE_DISTRIBUTIONS[rng.integers(len(NICE_DISTRIBUTIONS))])
    return {
        "probabilities": [probabilities.tolist()],
        "targets": [np.eye(3, dtype=int)[rng.integers(3)].tolist()],
    }


@calculator("cross-entropy", outputs=("loss",), sample=_sample_cross_entropy, answer="loss")
def cross_entropy(inputs: CrossEntropyInputs) -> Result:
    y = np.asarray(inputs.probabilities)
    target_class = np.asarray(inputs.targets).argmax(axis=1)
    picked = y[np.arange(len(y)), target_class]
    if (picked == 0).any():
        row = int(np.flatnonzero(picked == 0)[0])
        raise InvalidInput(
            "probabilities",
            f"probabilities[{row}][{target_class[row]}] is 0 where the target is 1: "
            "log 0 = −∞, so the loss is infinite",
        )
    log_picked = np.log(picked)
    loss = -log_picked.mean()
    return Result(
        {"loss": loss},
        [
            Step("y_nk where t_nk = 1", picked),
            Step("log y", log_picked),
            Step("E = −(1/N) Σ log y", loss),
        ],
    )


class SumOfSquaresInputs(Inputs):
    predictions: Vector = described(
        en="Outputs y of the network, one per output unit",
        ja="ネットワークの出力 y（出力ユニットごと）",
    )
    targets: Vector = described(en="Targets t, same length as y", ja="正解値 t（y と同じ長さ）")

    @model_validator(mode="after")
    def _same_length(self) -> "SumOfSquaresInputs":
        require_same_shape(self, "predictions", "targets")
        return self


def _sample_sum_of_squares(rng: np.random.Generator) -> dict[str, Any]:
    size = int(rng.integers(2, 4))
    return {
        "predictions": (rng.integers(0, 11, size=size) / 10).tolist(),
        "targets": np.eye(size)[rng.integers(size)].tolist(),
    }


@calculator(
    "sum-of-squares-error",
    outputs=("loss", "gradient", "mse"),
    sample=_sample_sum_of_squares,
    answer="loss",
)
def sum_of_squares_error(inputs: SumOfSquaresInputs) -> Result:
    error = np.asarray(inputs.predictions) - np.asarray(inputs.targets)
    squares = error**2
    loss = 0.5 * squares.sum()
    mse = squares.mean()
    return Result(
        {"loss": loss, "gradient": error, "mse": mse},
        [
            Step("y − t", error),
            Step("(y − t)²", squares),
            Step("E = ½ Σ (y − t)²", loss),
            Step("∂E/∂y = y − t", error),
            Step("MSE = (1/K) Σ (y − t)²", mse),
        ],
    )


class SoftmaxWithLossInputs(Inputs):
    logits: Matrix = described(
        en="Logits z before softmax, one row per example (N×K)",
        ja="softmax に入れる前のロジット z（N×K、1行が1データ）",
    )
    targets: BitMatrix = described(**ONE_HOT_TARGETS)

    @model_validator(mode="after")
    def _one_hot_targets_of_the_same_shape(self) -> "SoftmaxWithLossInputs":
        require_same_shape(self, "logits", "targets")
        _require_one_hot_rows(self, "targets")
        return self


def _sample_softmax_with_loss(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "logits": [rng.integers(-1, 3, size=3).astype(float).tolist()],
        "targets": [np.eye(3, dtype=int)[rng.integers(3)].tolist()],
    }


@calculator(
    "softmax-with-loss",
    outputs=("probabilities", "loss", "gradient"),
    sample=_sample_softmax_with_loss,
    answer="loss",
)
def softmax_with_loss(inputs: SoftmaxWithLossInputs) -> Result:
    z, t = np.asarray(inputs.logits), np.asarray(inputs.targets)
    batch_size = len(z)
    # log y = z − max z − log Σ exp(z − max z): finite even where y itself underflows to 0.
    shifted = z - z.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probabilities = np.exp(log_probabilities)
    log_picked = log_probabilities[t == 1]
    loss = -log_picked.sum() / batch_size
    gradient = (probabilities - t) / batch_size
    return Result(
        {"probabilities": probabilities, "loss": loss, "gradient": gradient},
        [
            Step("y = softmax(z)", probabilities),
            Step("log y_nk where t_nk = 1", log_picked),
            Step("E = −(1/N) Σ t log y", loss),
            Step("∂E/∂z = (y − t) / N", gradient),
        ],
    )
