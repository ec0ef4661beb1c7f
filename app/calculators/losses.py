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
    described,
    require_same_shape,
)

ROW_SUM_TOLERANCE = 1e-3
"""Probabilities typed by hand are rounded; a row may miss 1 by this much."""


class CrossEntropyInputs(Inputs):
    probabilities: Matrix = described(
        en="Predicted probabilities y, one row per example (N×K), each row summing to 1",
        ja="予測確率 y（N×K、1行が1データで各行の和は1）",
    )
    targets: BitMatrix = described(
        en="One-hot targets t (N×K)", ja="正解ラベル t（N×K の one-hot 表現）"
    )

    @model_validator(mode="after")
    def _probabilities_and_one_hot_targets(self) -> "CrossEntropyInputs":
        require_same_shape(self, "probabilities", "targets")
        y = np.asarray(self.probabilities)
        if ((y < 0) | (y > 1)).any():
            raise InvalidInput("probabilities", "every probability must lie in [0, 1]")
        for row, total in enumerate(y.sum(axis=1)):
            if abs(total - 1) > ROW_SUM_TOLERANCE:
                raise InvalidInput("probabilities", f"row {row} sums to {total:.6g}, not 1")
        for row, ones in enumerate(np.asarray(self.targets).sum(axis=1)):
            if ones != 1:
                raise InvalidInput("targets", f"row {row} must be one-hot (exactly one 1)")
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
