"""Backpropagation: layer gradients, numerical differentiation, the chain rule, gradient checks."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
    shape_text,
)

# ---------------------------------------------------------------- affine layer

X_MATRIX = {
    "en": "Input X, one row per example (N×D)",
    "ja": "入力 X（N×D、1行が1データ）",
}
W_MATRIX = {
    "en": "Weights W (D×M): one row per input feature, one column per output unit",
    "ja": "重み W（D×M：行が入力の特徴、列が出力ユニット）",
}


def _require_rows(inputs: Inputs, name: str, rows: int, why: str) -> None:
    actual = len(getattr(inputs, name))
    if actual != rows:
        raise InvalidInput(name, f"must have {rows} rows ({why}), got {actual}")


def _require_columns(inputs: Inputs, name: str, columns: int, why: str) -> None:
    actual = len(getattr(inputs, name)[0])
    if actual != columns:
        raise InvalidInput(name, f"must have {columns} columns ({why}), got {actual}")


class AffineForwardInputs(Inputs):
    x: Matrix = described(**X_MATRIX)
    w: Matrix = described(**W_MATRIX)
    b: Vector = described(
        en="Bias b, one per output unit (M)", ja="バイアス b（出力ユニットごと、M 個）"
    )

    @model_validator(mode="after")
    def _shapes_chain(self) -> "AffineForwardInputs":
        n, d, m = len(self.x), len(self.x[0]), len(self.w[0])
        _require_rows(self, "w", d, "one per column of x")
        if len(self.b) != m:
            raise InvalidInput(
                "b", f"must have length {m} (one per column of w), got {len(self.b)}"
            )
        if n * m > MAX_ELEMENTS:
            raise InvalidInput("w", f"Y would have {n}×{m} elements; at most {MAX_ELEMENTS}")
        return self


@calculator("affine-forward", outputs=("y",))
def affine_forward(inputs: AffineForwardInputs) -> Result:
    product = np.asarray(inputs.x) @ np.asarray(inputs.w)
    y = product + np.asarray(inputs.b)
    return Result(
        {"y": y},
        [
            Step("(N×D)(D×M) + (M) → N×M", shape_text(y.shape)),
            Step("X W", product),
            Step("Y = X W + b", y),
        ],
    )


class AffineBackwardInputs(Inputs):
    x: Matrix = described(
        en="Input X kept from the forward pass (N×D)", ja="順伝播で保存した入力 X（N×D）"
    )
    w: Matrix = described(**W_MATRIX)
    dy: Matrix = described(
        en="Upstream gradient ∂L/∂Y (N×M), the shape of Y",
        ja="上流から来た勾配 ∂L/∂Y（N×M、Y と同じ形）",
    )

    @model_validator(mode="after")
    def _shapes_chain(self) -> "AffineBackwardInputs":
        n, d, m = len(self.x), len(self.x[0]), len(self.w[0])
        _require_rows(self, "w", d, "one per column of x")
        _require_rows(self, "dy", n, "one per row of x")
        _require_columns(self, "dy", m, "one per column of w")
        return self


def _sample_affine_backward(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": rng.integers(-2, 3, size=(2, 2)).astype(float).tolist(),
        "w": rng.integers(-2, 3, size=(2, 2)).astype(float).tolist(),
        "dy": rng.integers(-3, 4, size=(2, 2)).astype(float).tolist(),
    }


@calculator(
    "affine-backward",
    outputs=("dx", "dw", "db"),
    sample=_sample_affine_backward,
    answer="db[0]",
)
def affine_backward(inputs: AffineBackwardInputs) -> Result:
    x, w, dy = np.asarray(inputs.x), np.asarray(inputs.w), np.asarray(inputs.dy)
    dx = dy @ w.T
    dw = x.T @ dy
    db = dy.sum(axis=0)
    return Result(
        {"dx": dx, "dw": dw, "db": db},
        [
            Step("∂L/∂X = ∂L/∂Y Wᵀ  (N×M)(M×D)", dx),
            Step("∂L/∂W = Xᵀ ∂L/∂Y  (D×N)(N×M)", dw),
            Step("∂L/∂b = Σₙ ∂L/∂yₙ", db),
        ],
    )


# ---------------------------------------------------------------- sigmoid layer


class SigmoidBackwardInputs(Inputs):
    y: Vector = described(
        en="Forward output y = σ(x), each in [0, 1]",
        ja="順伝播の出力 y = σ(x)（各要素が 0 以上 1 以下）",
    )
    dy: Vector = described(
        en="Upstream gradient ∂L/∂y, same length as y",
        ja="上流から来た勾配 ∂L/∂y（y と同じ長さ）",
    )

    @model_validator(mode="after")
    def _outputs_of_a_sigmoid(self) -> "SigmoidBackwardInputs":
        require_same_shape(self, "y", "dy")
        if min(self.y) < 0 or max(self.y) > 1:
            raise InvalidInput("y", "a sigmoid output lies between 0 and 1")
        return self


def _sample_sigmoid_backward(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "y": [float(rng.choice([0.1, 0.2, 0.5, 0.8, 0.9]))],
        "dy": [float(rng.choice([-2.0, -1.0, 0.5, 1.0, 2.0]))],
    }


@calculator("sigmoid-backward", outputs=("dx",), sample=_sample_sigmoid_backward, answer="dx[0]")
def sigmoid_backward(inputs: SigmoidBackwardInputs) -> Result:
    y, dy = np.asarray(inputs.y), np.asarray(inputs.dy)
    local = y * (1 - y)
    dx = dy * local
    return Result(
        {"dx": dx},
        [Step("∂y/∂x = y(1 − y)", local), Step("∂L/∂x = ∂L/∂y · y(1 − y)", dx)],
    )


# ---------------------------------------------------------------- elementary functions

FunctionName = Literal["square", "cube", "sin", "cos", "exp", "log", "sigmoid", "tanh"]
EXP_LIMIT = math.log(np.finfo(float).max)
"""Largest argument whose exponential is still a finite double (about 709.78)."""


def _logistic(v: float) -> float:
    decay = math.exp(-abs(v))
    return 1 / (1 + decay) if v >= 0 else decay / (1 + decay)


def _sech_squared(v: float) -> float:
    """1 − tanh²(v), without the cancellation where tanh(v) rounds to ±1."""
    decay = math.exp(-2 * abs(v))
    return 4 * decay / (1 + decay) ** 2


@dataclass(frozen=True)
class Elementary:
    """A function of one variable from the fixed menu, with its derivative and domain."""

    value: Callable[[float], float]
    derivative: Callable[[float], float]
    notation: str
    derivative_notation: str
    domain: Callable[[float], bool] = lambda _: True
    domain_text: str = ""

    def notation_in(self, variable: str) -> str:
        return self.notation.replace("v", variable)

    def derivative_in(self, variable: str) -> str:
        return self.derivative_notation.replace("v", variable)


ELEMENTARY: dict[str, Elementary] = {
    "square": Elementary(lambda v: v * v, lambda v: 2 * v, "v²", "2v"),
    "cube": Elementary(lambda v: v**3, lambda v: 3 * v * v, "v³", "3v²"),
    "sin": Elementary(math.sin, math.cos, "sin v", "cos v"),
    "cos": Elementary(math.cos, lambda v: -math.sin(v), "cos v", "−sin v"),
    "exp": Elementary(
        math.exp,
        math.exp,
        "exp v",
        "exp v",
        lambda v: v <= EXP_LIMIT,
        f"exp overflows double precision above {EXP_LIMIT:.2f}",
    ),
    "log": Elementary(
        math.log, lambda v: 1 / v, "log v", "1/v", lambda v: v > 0, "log is defined only for v > 0"
    ),
    "sigmoid": Elementary(
        _logistic, lambda v: _logistic(v) * _logistic(-v), "σ(v)", "σ(v)(1 − σ(v))"
    ),
    "tanh": Elementary(math.tanh, _sech_squared, "tanh v", "1 − tanh² v"),
}
MENU = "square v², cube v³, sin, cos, exp, log, sigmoid σ, tanh"


def _evaluate(name: str, point: float, field: str, where: str) -> tuple[float, float]:
    """Value and derivative of ELEMENTARY[name] at `point`; trouble there blames `field`."""
    function = ELEMENTARY[name]
    if not function.domain(point):
        raise InvalidInput(field, f"{function.domain_text}, but {where} = {point:.6g}")
    value, derivative = function.value(point), function.derivative(point)
    if not (math.isfinite(value) and math.isfinite(derivative)):
        raise InvalidInput(
            field, f"{function.notation} or its derivative overflows at {where} = {point:.6g}"
        )
    return value, derivative


# ---------------------------------------------------------------- numerical differentiation


StepSize = Annotated[float, Field(allow_inf_nan=False, gt=0, le=1)]
"""A local type: a field's own `le` does not override the bounds `Real` already carries."""


class NumericalDifferentiationInputs(Inputs):
    function: FunctionName = described(
        "square", en=f"Function f, one of: {MENU}", ja=f"関数 f（次から選ぶ：{MENU}）"
    )
    x: Real = described(en="Point x where f′(x) is wanted", ja="微分係数 f′(x) を求める点 x")
    h: StepSize = described(
        1e-4,
        en="Step h in (0, 1] (10⁻⁴ is the usual choice in float64)",
        ja="刻み幅 h（0 より大きく 1 以下。float64 では 10⁻⁴ が定番）",
    )


def _sample_numerical_differentiation(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "function": str(rng.choice(["square", "cube"])),
        "x": float(rng.integers(-2, 4)),
        "h": float(rng.choice([0.1, 0.01])),
    }


@calculator(
    "numerical-differentiation",
    outputs=("forward_difference", "central_difference", "exact", "forward_error", "central_error"),
    sample=_sample_numerical_differentiation,
    answer="central_difference",
)
def numerical_differentiation(inputs: NumericalDifferentiationInputs) -> Result:
    name, x, h = inputs.function, inputs.x, inputs.h
    at_x, exact = _evaluate(name, x, "x", "x")
    ahead, _ = _evaluate(name, x + h, "h", "x + h")
    behind, _ = _evaluate(name, x - h, "h", "x − h")
    forward = (ahead - at_x) / h
    central = (ahead - behind) / (2 * h)
    return Result(
        {
            "forward_difference": forward,
            "central_difference": central,
            "exact": exact,
            "forward_error": forward - exact,
            "central_error": central - exact,
        },
        [
            Step("f(x + h)", ahead),
            Step("f(x)", at_x),
            Step("f(x − h)", behind),
            Step("(f(x + h) − f(x)) / h", forward),
            Step("(f(x + h) − f(x − h)) / 2h", central),
            Step(f"f′(x) = {ELEMENTARY[name].derivative_in('x')}", exact),
        ],
    )


# ---------------------------------------------------------------- chain rule


class ChainRuleInputs(Inputs):
    outer: FunctionName = described(
        "sin",
        en=f"Outer function f in y = f(u), one of: {MENU}",
        ja=f"外側の関数 f（y = f(u)。次から選ぶ：{MENU}）",
    )
    inner: FunctionName = described(
        "square",
        en=f"Inner function g in u = g(x), one of: {MENU}",
        ja=f"内側の関数 g（u = g(x)。次から選ぶ：{MENU}）",
    )
    x: Real = described(en="Point x", ja="微分する点 x")


def _sample_chain_rule(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "outer": str(rng.choice(["square", "cube"])),
        "inner": str(rng.choice(["square", "cube"])),
        "x": float(rng.integers(-2, 3)),
    }


@calculator(
    "chain-rule",
    outputs=("u", "y", "du_dx", "dy_du", "dy_dx"),
    sample=_sample_chain_rule,
    answer="dy_dx",
)
def chain_rule(inputs: ChainRuleInputs) -> Result:
    u, du_dx = _evaluate(inputs.inner, inputs.x, "x", "x")
    y, dy_du = _evaluate(inputs.outer, u, "x", "the inner value u = g(x)")
    dy_dx = dy_du * du_dx
    if not math.isfinite(dy_dx):
        raise InvalidInput("x", f"dy/dx = dy/du · du/dx overflows at x = {inputs.x:.6g}")
    inner, outer = ELEMENTARY[inputs.inner], ELEMENTARY[inputs.outer]
    return Result(
        {"u": u, "y": y, "du_dx": du_dx, "dy_du": dy_du, "dy_dx": dy_dx},
        [
            Step(f"u = g(x) = {inner.notation_in('x')}", u),
            Step(f"y = f(u) = {outer.notation_in('u')}", y),
            Step(f"du/dx = g′(x) = {inner.derivative_in('x')}", du_dx),
            Step(f"dy/du = f′(u) = {outer.derivative_in('u')}", dy_du),
            Step("dy/dx = dy/du · du/dx", dy_dx),
        ],
    )


# ---------------------------------------------------------------- gradient checking


class GradientCheckInputs(Inputs):
    analytic: Vector = described(
        en="Analytic gradient (from backpropagation)", ja="解析的な勾配（誤差逆伝播で求めたもの）"
    )
    numerical: Vector = described(
        en="Numerical gradient (from central differences), same length",
        ja="数値微分で求めた勾配（中心差分、同じ長さ）",
    )
    threshold: Real = described(
        1e-7,
        gt=0,
        lt=1,
        en="Largest relative error that passes (1e-7 is a strict, common choice)",
        ja="合格とする相対誤差の上限（1e-7 は厳しめの定番）",
    )

    @model_validator(mode="after")
    def _same_length(self) -> "GradientCheckInputs":
        require_same_shape(self, "analytic", "numerical")
        return self


def _sample_gradient_check(rng: np.random.Generator) -> dict[str, Any]:
    analytic = float(rng.choice([1.0, 2.0, 4.0, 5.0]))
    return {
        "analytic": [analytic],
        "numerical": [analytic + float(rng.choice([-0.1, 0.1, 0.2]))],
        "threshold": 1e-7,
    }


def _norm(vector: np.ndarray) -> float:
    """Euclidean norm scaled by the largest entry first, so tiny entries do not underflow."""
    return math.hypot(*vector.tolist())


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, with 0/0 (both gradients exactly 0) counted as agreement."""
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


@calculator(
    "gradient-check",
    outputs=(
        "relative_error",
        "max_relative_error",
        "relative_error_sum",
        "norm_relative_error",
        "passes",
    ),
    sample=_sample_gradient_check,
    answer="max_relative_error",
)
def gradient_check(inputs: GradientCheckInputs) -> Result:
    a, n = np.asarray(inputs.analytic), np.asarray(inputs.numerical)
    difference = np.abs(a - n)
    relative = _ratio(difference, np.maximum(np.abs(a), np.abs(n)))
    relative_sum = _ratio(difference, np.abs(a) + np.abs(n))
    norm_relative = _ratio(_norm(a - n), _norm(a) + _norm(n))
    worst = relative.max()
    passes = bool(worst <= inputs.threshold)
    return Result(
        {
            "relative_error": relative,
            "max_relative_error": worst,
            "relative_error_sum": relative_sum,
            "norm_relative_error": norm_relative,
            "passes": passes,
        },
        [
            Step("|a − n|", difference),
            Step("r = |a − n| / max(|a|, |n|)", relative),
            Step("maxᵢ rᵢ", worst),
            Step("|a − n| / (|a| + |n|)", relative_sum),
            Step("‖a − n‖₂ / (‖a‖₂ + ‖n‖₂)", norm_relative),
            Step("maxᵢ rᵢ ≤ τ", passes),
        ],
    )
