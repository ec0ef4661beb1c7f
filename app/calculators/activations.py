"""Activation functions."""

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from app.calculators.registry import PlotHook, calculator, get
from app.calculators.types import Inputs, InvalidInput, Real, Result, Step, Vector, described
from app.plots import (
    MAX_BARS,
    MAX_MARKERS,
    BarPlot,
    BarSeries,
    LinePlot,
    Marker,
    Series,
    joined,
    listed,
    sampled_range,
    short,
    words,
)


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


def _softmax_plot(inputs: SoftmaxInputs, result: Result) -> BarPlot:
    """Probabilities at the learner's T beside those at T = 1: how T flattens or sharpens them."""
    temperature = inputs.temperature
    probabilities = result.outputs["probabilities"][:MAX_BARS]
    series = [BarSeries(f"T = {short(temperature)}", probabilities)]
    summary = [f"T = {short(temperature)}: p = {listed(probabilities)}"]
    if temperature != 1:
        at_one = softmax(inputs.model_copy(update={"temperature": 1.0})).outputs["probabilities"]
        series.insert(0, BarSeries("T = 1", at_one[:MAX_BARS].tolist(), "ghost"))
        summary.append(f"T = 1: p = {listed(at_one)}")
    return BarPlot(
        title=words("Softmax probabilities", "ソフトマックスの確率"),
        summary="; ".join(summary),
        categories=[short(z) for z in inputs.logits[:MAX_BARS]],
        series=series,
        x_label=words("logit z_i", "ロジット z_i"),
        y_label=words("probability", "確率"),
        top=1.0,
    )


@calculator(
    "softmax",
    outputs=("probabilities",),
    sample=_sample_softmax,
    answer="probabilities[0]",
    plot=_softmax_plot,
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


def curve_plot(calculator_id: str) -> PlotHook:
    """The activation and its derivative over a range holding every x, with the x marked.

    The curve is the calculator itself run on a grid, so plot and result cannot disagree.
    """

    def plot(inputs: SigmoidInputs, result: Result) -> LinePlot:
        grid = sampled_range(inputs.x)
        curve = get(calculator_id).function(inputs.model_copy(update={"x": grid.tolist()}))
        x = inputs.x[:MAX_MARKERS]
        y, slope = result.outputs["y"][:MAX_MARKERS], result.outputs["dy_dx"][:MAX_MARKERS]
        points = "; ".join(
            f"x = {short(a)}: y = {short(b)}, dy/dx = {short(c)}"
            for a, b, c in zip(x[:3], y, slope, strict=False)
        )
        return LinePlot(
            title=joined(calculator_id, words(" and its derivative", " とその導関数")),
            summary=joined(f"{calculator_id} ", words("at ", ""), points),
            series=[
                Series("y", grid, np.asarray(curve.outputs["y"])),
                Series("dy/dx", grid, np.asarray(curve.outputs["dy_dx"]), "second"),
            ],
            markers=[Marker(a, b, f"({short(a)}, {short(b)})") for a, b in zip(x, y, strict=True)]
            + [Marker(a, c, short(c), "second") for a, c in zip(x, slope, strict=True)],
            x_label="x",
            y_label="y, dy/dx",
        )

    return plot


@calculator(
    "sigmoid",
    outputs=("y", "dy_dx"),
    sample=_sample_sigmoid,
    answer="y[0]",
    plot=curve_plot("sigmoid"),
)
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


ActivationInputs = SigmoidInputs
"""Inputs of an activation without a parameter: only the vector x."""

NICE_INPUTS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


def _sample_one_input(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.choice(NICE_INPUTS))]}


def _logistic(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow: the exponent e^{−|z|} never exceeds 1."""
    decay = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + decay), decay / (1 + decay))


def _sech_squared(z: np.ndarray) -> np.ndarray:
    """sech²(z) = 1 − tanh²(z), written so that it keeps its digits where tanh(z) rounds to ±1."""
    decay = np.exp(-2 * np.abs(z))
    return 4 * decay / (1 + decay) ** 2


@calculator(
    "tanh",
    outputs=("y", "dy_dx"),
    sample=_sample_one_input,
    answer="y[0]",
    plot=curve_plot("tanh"),
)
def tanh(inputs: ActivationInputs) -> Result:
    x = np.asarray(inputs.x)
    y = np.tanh(x)
    dy_dx = _sech_squared(x)
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)", y),
            Step("tanh′(x) = 1 − tanh²(x)", dy_dx),
        ],
    )


def _sample_relu(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.integers(-2, 3))]}


@calculator(
    "relu",
    outputs=("y", "dy_dx"),
    sample=_sample_relu,
    answer="dy_dx[0]",
    plot=curve_plot("relu"),
)
def relu(inputs: ActivationInputs) -> Result:
    x = np.asarray(inputs.x)
    y = np.where(x > 0, x, 0.0)
    dy_dx = np.where(x > 0, 1.0, 0.0)
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("y = max(0, x)", y),
            Step("dy/dx = 1 (x > 0), 0 (x ≤ 0)", dy_dx),
        ],
    )


# `Real` already carries ge/le bounds, and a field's own ge/le do not override them (only
# gt/lt are added), so parameters with a closed bound get their own bounded type here.
Slope = Annotated[float, Field(allow_inf_nan=False, ge=0, lt=1)]
Alpha = Annotated[float, Field(allow_inf_nan=False, gt=0, le=100)]


class LeakyReluInputs(ActivationInputs):
    negative_slope: Slope = described(
        0.01,
        en="Slope a for x < 0, in [0, 1) (PyTorch's negative_slope, default 0.01)",
        ja="x < 0 での傾き a（0 以上 1 未満。PyTorch の negative_slope、既定値 0.01）",
    )


def _sample_leaky_relu(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.integers(-5, 4))], "negative_slope": float(rng.choice([0.01, 0.1]))}


@calculator(
    "leaky-relu",
    outputs=("y", "dy_dx"),
    sample=_sample_leaky_relu,
    answer="y[0]",
    plot=curve_plot("leaky-relu"),
)
def leaky_relu(inputs: LeakyReluInputs) -> Result:
    x, slope = np.asarray(inputs.x), inputs.negative_slope
    y = np.where(x > 0, x, slope * x)
    dy_dx = np.where(x > 0, 1.0, slope)
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("y = x (x > 0), a x (x ≤ 0)", y),
            Step("dy/dx = 1 (x > 0), a (x ≤ 0)", dy_dx),
        ],
    )


class EluInputs(ActivationInputs):
    alpha: Alpha = described(
        1.0,
        en="α in (0, 100]: the output approaches −α for large negative x (default 1)",
        ja="α（0 より大きく 100 以下）：x が負に大きいと出力は −α に近づく（既定値 1）",
    )


def _sample_elu(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.integers(-2, 3))], "alpha": float(rng.choice([0.5, 1.0, 2.0]))}


@calculator(
    "elu",
    outputs=("y", "dy_dx"),
    sample=_sample_elu,
    answer="y[0]",
    plot=curve_plot("elu"),
)
def elu(inputs: EluInputs) -> Result:
    x, alpha = np.asarray(inputs.x), inputs.alpha
    negative = np.minimum(x, 0)  # the exponential only ever sees x ≤ 0, so it cannot overflow
    exponential = np.exp(negative)
    y = np.where(x > 0, x, alpha * np.expm1(negative))
    dy_dx = np.where(x > 0, 1.0, alpha * exponential)
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("e^min(x, 0)", exponential),
            Step("y = x (x > 0), α(eˣ − 1) (x ≤ 0)", y),
            Step("dy/dx = 1 (x > 0), α eˣ = y + α (x ≤ 0)", dy_dx),
        ],
    )


GELU_TANH_COEFFICIENT = 0.044715
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GeluInputs(ActivationInputs):
    approximate: Literal["none", "tanh"] = described(
        "none",
        en="'none': exact x Φ(x) with erf (PyTorch's default); 'tanh': the tanh approximation",
        ja="'none'：erf を使う厳密な x Φ(x)（PyTorch の既定）、'tanh'：tanh による近似",
    )


def _sample_gelu(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": [float(rng.integers(-2, 3))], "approximate": "none"}


@calculator(
    "gelu",
    outputs=("y", "dy_dx"),
    sample=_sample_gelu,
    answer="y[0]",
    plot=curve_plot("gelu"),
)
def gelu(inputs: GeluInputs) -> Result:
    x = np.asarray(inputs.x)
    if inputs.approximate == "tanh":
        return _gelu_tanh(x)
    # Φ(x) = ½ erfc(−x/√2) keeps its digits in the far left tail, where 1 + erf(x/√2) would be 0.
    cdf = np.array([0.5 * math.erfc(-value / math.sqrt(2)) for value in x])
    density = np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    y = x * cdf
    dy_dx = cdf + x * density
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("Φ(x) = ½(1 + erf(x / √2))", cdf),
            Step("φ(x) = e^(−x²/2) / √(2π)", density),
            Step("GELU(x) = x Φ(x)", y),
            Step("GELU′(x) = Φ(x) + x φ(x)", dy_dx),
        ],
    )


def _gelu_tanh(x: np.ndarray) -> Result:
    u = SQRT_2_OVER_PI * (x + GELU_TANH_COEFFICIENT * x**3)
    gate = _logistic(2 * u)  # ½(1 + tanh u) = σ(2u), with no cancellation when tanh u ≈ −1
    du_dx = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_COEFFICIENT * x**2)
    y = x * gate
    dy_dx = gate + 0.5 * x * _sech_squared(u) * du_dx
    return Result(
        {"y": y, "dy_dx": dy_dx},
        [
            Step("u = √(2/π) (x + 0.044715 x³)", u),
            Step("½(1 + tanh u)", gate),
            Step("y = ½ x (1 + tanh u)", y),
            Step("dy/dx = ½(1 + tanh u) + ½ x (1 − tanh² u) √(2/π)(1 + 3 · 0.044715 x²)", dy_dx),
        ],
    )
