"""One update step of the gradient-descent optimizers."""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    Inputs,
    InvalidInput,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

PARAMS = {"en": "Parameters θ", "ja": "パラメータ θ"}
GRADS = {"en": "Gradients ∂L/∂θ, one per parameter", "ja": "勾配 ∂L/∂θ（パラメータと同じ長さ）"}
LEARNING_RATE = {"en": "Learning rate η (≥ 0)", "ja": "学習率 η（≥ 0）"}


def _require_non_negative(inputs: Inputs, name: str, why: str) -> None:
    if min(getattr(inputs, name)) < 0:
        raise InvalidInput(name, f"must be non-negative: {why}")


class SgdInputs(Inputs):
    params: Vector = described(**PARAMS)
    grads: Vector = described(**GRADS)
    lr: Real = described(0.01, ge=0, **LEARNING_RATE)

    @model_validator(mode="after")
    def _same_length(self) -> "SgdInputs":
        require_same_shape(self, "params", "grads")
        return self


def _small_integers(rng: np.random.Generator, low: int = -3, high: int = 4) -> list[float]:
    return [float(rng.integers(low, high))]


def _sample_sgd(rng: np.random.Generator) -> dict[str, Any]:
    return {"params": _small_integers(rng), "grads": _small_integers(rng), "lr": 0.1}


@calculator("sgd", outputs=("params",), sample=_sample_sgd, answer="params[0]")
def sgd(inputs: SgdInputs) -> Result:
    update = inputs.lr * np.asarray(inputs.grads)
    params = np.asarray(inputs.params) - update
    return Result({"params": params}, [Step("η g", update), Step("θ ← θ − η g", params)])


class MomentumInputs(SgdInputs):
    velocity: Vector = described(en="Velocity v from the previous step", ja="前のステップの速度 v")
    momentum: Real = described(
        0.9, ge=0, lt=1, en="Momentum α in [0, 1)", ja="モーメンタム係数 α（0 以上 1 未満）"
    )

    @model_validator(mode="after")
    def _velocity_same_length(self) -> "MomentumInputs":
        require_same_shape(self, "params", "velocity")
        return self


def _sample_momentum(rng: np.random.Generator) -> dict[str, Any]:
    velocity = [float(rng.choice([-0.2, -0.1, 0.0, 0.1, 0.2]))]
    return {**_sample_sgd(rng), "velocity": velocity, "momentum": 0.9}


@calculator("momentum", outputs=("params", "velocity"), sample=_sample_momentum, answer="params[0]")
def momentum(inputs: MomentumInputs) -> Result:
    velocity = inputs.momentum * np.asarray(inputs.velocity) - inputs.lr * np.asarray(inputs.grads)
    params = np.asarray(inputs.params) + velocity
    return Result(
        {"params": params, "velocity": velocity},
        [Step("v ← α v − η g", velocity), Step("θ ← θ + v", params)],
    )


class RmspropInputs(SgdInputs):
    h: Vector = described(
        en="Running average h of squared gradients (≥ 0)", ja="勾配の二乗の移動平均 h（≥ 0）"
    )
    rho: Real = described(
        0.99, ge=0, lt=1, en="Decay rate ρ in [0, 1)", ja="減衰率 ρ（0 以上 1 未満）"
    )
    eps: Real = described(
        1e-8,
        gt=0,
        le=1,
        en="ε (> 0), added outside the square root",
        ja="ε（> 0、平方根の外に加える）",
    )

    @model_validator(mode="after")
    def _h_same_length_non_negative(self) -> "RmspropInputs":
        require_same_shape(self, "params", "h")
        _require_non_negative(self, "h", "it averages squared gradients")
        return self


def _sample_rmsprop(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_sgd(rng), "h": [0.0], "rho": 0.9, "eps": 1e-8}


@calculator("rmsprop", outputs=("params", "h"), sample=_sample_rmsprop, answer="params[0]")
def rmsprop(inputs: RmspropInputs) -> Result:
    grads = np.asarray(inputs.grads)
    h = inputs.rho * np.asarray(inputs.h) + (1 - inputs.rho) * grads**2
    denominator = np.sqrt(h) + inputs.eps
    update = inputs.lr * grads / denominator
    params = np.asarray(inputs.params) - update
    return Result(
        {"params": params, "h": h},
        [
            Step("h ← ρ h + (1 − ρ) g²", h),
            Step("√h + ε", denominator),
            Step("η g / (√h + ε)", update),
            Step("θ ← θ − η g / (√h + ε)", params),
        ],
    )


class AdamInputs(SgdInputs):
    m: Vector = described(
        en="First moment m (running mean of g)", ja="1次モーメント m（勾配の移動平均）"
    )
    v: Vector = described(
        en="Second moment v (running mean of g², ≥ 0)",
        ja="2次モーメント v（勾配の二乗の移動平均、≥ 0）",
    )
    step: int = described(
        ge=1,
        le=10**9,
        en="Step t being taken (1 for the first update)",
        ja="今回のステップ番号 t（最初の更新が 1）",
    )
    lr: Real = described(0.001, ge=0, **LEARNING_RATE)
    beta1: Real = described(0.9, ge=0, lt=1, en="β₁ in [0, 1)", ja="β₁（0 以上 1 未満）")
    beta2: Real = described(0.999, ge=0, lt=1, en="β₂ in [0, 1)", ja="β₂（0 以上 1 未満）")
    eps: Real = described(1e-8, gt=0, le=1, en="ε (> 0)", ja="ε（> 0）")

    @model_validator(mode="after")
    def _moments_same_length(self) -> "AdamInputs":
        require_same_shape(self, "params", "m", "v")
        _require_non_negative(self, "v", "it averages squared gradients")
        return self


def _sample_adam(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "params": _small_integers(rng),
        "grads": _small_integers(rng, 1, 5),
        "m": [0.0],
        "v": [0.0],
        "step": 1,
        "lr": 0.1,
    }


@calculator("adam", outputs=("params", "m", "v"), sample=_sample_adam, answer="params[0]")
def adam(inputs: AdamInputs) -> Result:
    grads, t = np.asarray(inputs.grads), inputs.step
    m = inputs.beta1 * np.asarray(inputs.m) + (1 - inputs.beta1) * grads
    v = inputs.beta2 * np.asarray(inputs.v) + (1 - inputs.beta2) * grads**2
    m_hat = m / (1 - inputs.beta1**t)
    v_hat = v / (1 - inputs.beta2**t)
    update = inputs.lr * m_hat / (np.sqrt(v_hat) + inputs.eps)
    params = np.asarray(inputs.params) - update
    return Result(
        {"params": params, "m": m, "v": v},
        [
            Step("m ← β₁ m + (1 − β₁) g", m),
            Step("v ← β₂ v + (1 − β₂) g²", v),
            Step("m̂ = m / (1 − β₁ᵗ)", m_hat),
            Step("v̂ = v / (1 − β₂ᵗ)", v_hat),
            Step("η m̂ / (√v̂ + ε)", update),
            Step("θ ← θ − η m̂ / (√v̂ + ε)", params),
        ],
    )
