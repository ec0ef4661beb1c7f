"""Activation functions."""

from typing import Any

import numpy as np

from app.calculators.registry import calculator
from app.calculators.types import Inputs, InvalidInput, Real, Result, Step, Vector, described


def stable_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the maximum so that no exponential overflows.

    Entries of -inf (masked positions) get probability 0.
    """
    shifted = scores - scores.max(axis=axis, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=axis, keepdims=True)


class SoftmaxInputs(Inputs):
    logits: Vector = described(en="Logits z, one per class", ja="各クラスのロジット z")
    temperature: Real = described(1.0, gt=0, en="Temperature T (> 0)", ja="温度 T（> 0）")


def _sample_softmax(rng: np.random.Generator) -> dict[str, Any]:
    return {"logits": rng.integers(-2, 4, size=3).astype(float).tolist(), "temperature": 1.0}


@calculator(
    "softmax", outputs=("probabilities",), sample=_sample_softmax, answer="probabilities[0]"
)
def softmax(inputs: SoftmaxInputs) -> Result:
    with np.errstate(over="ignore"):  # an overflow is reported below, by field
        scaled = np.asarray(inputs.logits) / inputs.temperature
    if not np.isfinite(scaled).all():
        raise InvalidInput("temperature", "is too small for these logits: z / T overflows")
    shift = scaled.max()
    exponentials = np.exp(scaled - shift)
    total = exponentials.sum()
    probabilities = exponentials / total
    return Result(
        {"probabilities": probabilities},
        [
            Step("z / T", scaled),
            Step("c = max(z / T)", shift),
            Step("exp(z / T − c)", exponentials),
            Step("Σ exp(z / T − c)", total),
            Step("y = exp(z / T − c) / Σ exp(z / T − c)", probabilities),
        ],
    )


class SigmoidInputs(Inputs):
    x: Vector = described(en="Inputs x", ja="入力 x")


def _sample_sigmoid(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.integers(-3, 4))]}


@calculator("sigmoid", outputs=("y", "dy_dx"), sample=_sample_sigmoid, answer="y[0]")
def sigmoid(inputs: SigmoidInputs) -> Result:
    x = np.asarray(inputs.x)
    # e^{-|x|} lies in (0, 1], so neither branch can overflow, and the derivative
    # written through it avoids the cancellation in 1 − σ(x) for large x.
    decay = np.exp(-np.abs(x))
    y = np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))
    dy_dx = decay / (1 + decay) ** 2
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("e^(−|x|)", decay),
            Step("σ(x) = 1 / (1 + e^(−x))", y),
            Step("σ′(x) = σ(x)(1 − σ(x))", dy_dx),
        ],
    )
