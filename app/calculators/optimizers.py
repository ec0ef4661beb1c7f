"""Optimization: one step of each gradient-descent optimizer, learning-rate schedules,
gradient clipping and the scale of weight initialisation."""

import math
from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_MAGNITUDE,
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


def _require_squares_like_params(inputs: Inputs, why: str) -> None:
    """The accumulator h of squared gradients: one per parameter, never negative."""
    require_same_shape(inputs, "params", "h")
    _require_non_negative(inputs, "h", why)


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
        _require_squares_like_params(self, "it averages squared gradients")
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


def _adam_moments(inputs: AdamInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Step]]:
    """m, v and the step η m̂ / (√v̂ + ε) of Adam's Algorithm 1, with the learner's steps."""
    grads, t = np.asarray(inputs.grads), inputs.step
    m = inputs.beta1 * np.asarray(inputs.m) + (1 - inputs.beta1) * grads
    v = inputs.beta2 * np.asarray(inputs.v) + (1 - inputs.beta2) * grads**2
    m_hat = m / (1 - inputs.beta1**t)
    v_hat = v / (1 - inputs.beta2**t)
    update = inputs.lr * m_hat / (np.sqrt(v_hat) + inputs.eps)
    steps = [
        Step("m ← β₁ m + (1 − β₁) g", m),
        Step("v ← β₂ v + (1 − β₂) g²", v),
        Step("m̂ = m / (1 − β₁ᵗ)", m_hat),
        Step("v̂ = v / (1 − β₂ᵗ)", v_hat),
        Step("η m̂ / (√v̂ + ε)", update),
    ]
    return m, v, update, steps


@calculator("adam", outputs=("params", "m", "v"), sample=_sample_adam, answer="params[0]")
def adam(inputs: AdamInputs) -> Result:
    m, v, update, steps = _adam_moments(inputs)
    params = np.asarray(inputs.params) - update
    return Result(
        {"params": params, "m": m, "v": v},
        [*steps, Step("θ ← θ − η m̂ / (√v̂ + ε)", params)],
    )


class NesterovInputs(MomentumInputs):
    momentum: Real = described(
        0.9, ge=0, lt=1, en="Momentum α in [0, 1)", ja="モーメンタム係数 α（0 以上 1 未満）"
    )
    grads: Vector = described(
        en="Gradients g taken at the look-ahead point θ + αv (one per parameter)",
        ja="先読みの位置 θ + αv で求めた勾配 g（パラメータと同じ長さ）",
    )


def _sample_nesterov(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_momentum(rng), "velocity": [float(rng.choice([-0.2, -0.1, 0.1, 0.2]))]}


@calculator(
    "nesterov",
    outputs=("params", "velocity", "lookahead"),
    sample=_sample_nesterov,
    answer="lookahead[0]",
)
def nesterov(inputs: NesterovInputs) -> Result:
    params, velocity = np.asarray(inputs.params), np.asarray(inputs.velocity)
    alpha = inputs.momentum
    taken_at = params + alpha * velocity
    velocity = alpha * velocity - inputs.lr * np.asarray(inputs.grads)
    params = params + velocity
    lookahead = params + alpha * velocity
    return Result(
        {"params": params, "velocity": velocity, "lookahead": lookahead},
        [
            Step("θ + α v", taken_at),
            Step("v ← α v − η g", velocity),
            Step("θ ← θ + v", params),
            Step("θ̃ = θ + α v", lookahead),
        ],
    )


class AdagradInputs(SgdInputs):
    h: Vector = described(
        en="Sum h of all earlier squared gradients (≥ 0; 0 before the first update)",
        ja="これまでの勾配の二乗の合計 h（≥ 0、最初の更新の前は 0）",
    )
    eps: Real = described(
        1e-10,
        gt=0,
        le=1,
        en="ε (> 0), added outside the square root as in PyTorch",
        ja="ε（> 0、PyTorch と同じく平方根の外に加える）",
    )

    @model_validator(mode="after")
    def _h_same_length_non_negative(self) -> "AdagradInputs":
        _require_squares_like_params(self, "it adds up squared gradients")
        return self


NICE_ADAGRAD = ((1, 0), (2, 0), (3, 16), (4, 9), (2, 5), (1, 3), (-3, 16), (-2, 12), (-1, 0))
"""(g, h) pairs with a whole-number √(h + g²), so the step can be worked by hand."""


def _sample_adagrad(rng: np.random.Generator) -> dict[str, Any]:
    grad, h = NICE_ADAGRAD[rng.integers(len(NICE_ADAGRAD))]
    return {"params": _small_integers(rng), "grads": [float(grad)], "h": [float(h)], "lr": 0.1}


@calculator("adagrad", outputs=("params", "h"), sample=_sample_adagrad, answer="params[0]")
def adagrad(inputs: AdagradInputs) -> Result:
    grads = np.asarray(inputs.grads)
    h = np.asarray(inputs.h) + grads**2
    denominator = np.sqrt(h) + inputs.eps
    update = inputs.lr * grads / denominator
    params = np.asarray(inputs.params) - update
    return Result(
        {"params": params, "h": h},
        [
            Step("h ← h + g²", h),
            Step("√h + ε", denominator),
            Step("η g / (√h + ε)", update),
            Step("θ ← θ − η g / (√h + ε)", params),
        ],
    )


class AdamwInputs(AdamInputs):
    lr: Real = described(0.001, ge=0, **LEARNING_RATE)
    beta1: Real = described(0.9, ge=0, lt=1, en="β₁ in [0, 1)", ja="β₁（0 以上 1 未満）")
    beta2: Real = described(0.999, ge=0, lt=1, en="β₂ in [0, 1)", ja="β₂（0 以上 1 未満）")
    eps: Real = described(1e-8, gt=0, le=1, en="ε (> 0)", ja="ε（> 0）")
    weight_decay: Real = described(
        0.01,
        ge=0,
        le=1,
        en="Decoupled weight decay λ in [0, 1] (PyTorch's weight_decay; the decay per step is ηλ)",
        ja="分離した重み減衰の係数 λ（0 以上 1 以下。PyTorch の weight_decay。1 回の減衰は ηλ）",
    )


def _sample_adamw(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_adam(rng), "weight_decay": 0.1}


@calculator("adamw", outputs=("params", "m", "v"), sample=_sample_adamw, answer="params[0]")
def adamw(inputs: AdamwInputs) -> Result:
    shrink = 1 - inputs.lr * inputs.weight_decay
    decayed = np.asarray(inputs.params) * shrink
    m, v, update, steps = _adam_moments(inputs)
    params = decayed - update
    return Result(
        {"params": params, "m": m, "v": v},
        [
            Step("1 − η λ", shrink),
            Step("θ ← (1 − η λ) θ", decayed),
            *steps,
            Step("θ ← θ − η m̂ / (√v̂ + ε)", params),
        ],
    )


MAX_COUNT = 10**9
INITIAL_LR = {"en": "Initial learning rate η₀ (≥ 0)", "ja": "初期学習率 η₀（≥ 0）"}
EPOCH = {
    "en": "Epoch t: number of scheduler steps taken so far (0 at the start)",
    "ja": "エポック t（スケジューラを進めた回数。開始時は 0）",
}
DECAY_FACTOR = {"en": "Decay factor γ in (0, 1]", "ja": "減衰率 γ（0 より大きく 1 以下）"}


class StepDecayInputs(Inputs):
    lr: Real = described(0.1, ge=0, le=MAX_MAGNITUDE, **INITIAL_LR)
    epoch: int = described(ge=0, le=MAX_COUNT, **EPOCH)
    step_size: int = described(
        ge=1,
        le=MAX_COUNT,
        en="Step size s: the learning rate drops every s epochs (≥ 1)",
        ja="ステップ幅 s（s エポックごとに学習率を下げる、≥ 1）",
    )
    gamma: Real = described(0.1, gt=0, le=1, **DECAY_FACTOR)


def _sample_step_decay(rng: np.random.Generator) -> dict[str, Any]:
    step_size = int(rng.choice([5, 10, 20, 30]))
    return {
        "lr": float(rng.choice([0.1, 0.5, 1.0])),
        "epoch": int(rng.integers(0, 4 * step_size)),
        "step_size": step_size,
        "gamma": float(rng.choice([0.1, 0.5])),
    }


@calculator("step-decay", outputs=("lr",), sample=_sample_step_decay, answer="lr")
def step_decay(inputs: StepDecayInputs) -> Result:
    drops = inputs.epoch // inputs.step_size
    factor = inputs.gamma**drops
    lr = inputs.lr * factor
    return Result(
        {"lr": lr},
        [Step("⌊t / s⌋", drops), Step("γ^⌊t/s⌋", factor), Step("η_t = η₀ γ^⌊t/s⌋", lr)],
    )


class ExponentialDecayInputs(Inputs):
    lr: Real = described(0.1, ge=0, le=MAX_MAGNITUDE, **INITIAL_LR)
    epoch: int = described(ge=0, le=MAX_COUNT, **EPOCH)
    gamma: Real = described(gt=0, le=1, **DECAY_FACTOR)


def _sample_exponential_decay(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "lr": float(rng.choice([0.1, 1.0])),
        "epoch": int(rng.integers(0, 5)),
        "gamma": float(rng.choice([0.5, 0.9])),
    }


@calculator("exponential-decay", outputs=("lr",), sample=_sample_exponential_decay, answer="lr")
def exponential_decay(inputs: ExponentialDecayInputs) -> Result:
    factor = inputs.gamma**inputs.epoch
    lr = inputs.lr * factor
    return Result({"lr": lr}, [Step("γᵗ", factor), Step("η_t = η₀ γᵗ", lr)])


class CosineAnnealingInputs(Inputs):
    lr: Real = described(
        0.1,
        ge=0,
        le=MAX_MAGNITUDE,
        en="Initial (largest) learning rate η_max (≥ 0)",
        ja="初期（最大）学習率 η_max（≥ 0）",
    )
    eta_min: Real = described(
        0.0,
        ge=0,
        le=MAX_MAGNITUDE,
        en="Smallest learning rate η_min (≥ 0)",
        ja="最小学習率 η_min（≥ 0）",
    )
    t_max: int = described(
        ge=1,
        le=MAX_COUNT,
        en="Half-period T_max: epochs from η_max down to η_min (≥ 1)",
        ja="半周期 T_max（η_max から η_min まで下がるのにかかるエポック数、≥ 1）",
    )
    epoch: int = described(ge=0, le=MAX_COUNT, **EPOCH)


def _sample_cosine_annealing(rng: np.random.Generator) -> dict[str, Any]:
    t_max = int(rng.choice([2, 3, 4, 6]))
    return {
        "lr": float(rng.choice([0.1, 1.0])),
        "eta_min": 0.0,
        "t_max": t_max,
        "epoch": int(rng.integers(0, t_max + 1)),
    }


@calculator("cosine-annealing", outputs=("lr",), sample=_sample_cosine_annealing, answer="lr")
def cosine_annealing(inputs: CosineAnnealingInputs) -> Result:
    cosine = math.cos(math.pi * inputs.epoch / inputs.t_max)
    lr = inputs.eta_min + (inputs.lr - inputs.eta_min) * (1 + cosine) / 2
    return Result(
        {"lr": lr},
        [
            Step("cos(π t / T_max)", cosine),
            Step("η_t = η_min + ½ (η_max − η_min)(1 + cos(π t / T_max))", lr),
        ],
    )


class GradientClippingInputs(Inputs):
    grads: Vector = described(
        en="Gradients g of all parameters, as one vector",
        ja="全パラメータの勾配 g（1 本のベクトル）",
    )
    max_norm: Real = described(
        gt=0, en="Threshold on the L2 norm (> 0)", ja="L2 ノルムのしきい値（> 0）"
    )


CLIPPING_EPS = 1e-6
"""torch.nn.utils.clip_grad_norm_ divides by ‖g‖ + 1e-6."""

PYTHAGOREAN = ([3.0, 4.0], [6.0, 8.0], [1.0, 2.0, 2.0], [2.0, 3.0, 6.0], [-3.0, 4.0], [4.0, -3.0])


def _sample_gradient_clipping(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "grads": PYTHAGOREAN[rng.integers(len(PYTHAGOREAN))],
        "max_norm": float(rng.choice([1.0, 2.0, 5.0])),
    }


@calculator(
    "gradient-clipping",
    outputs=("grads", "total_norm"),
    sample=_sample_gradient_clipping,
    answer="grads[0]",
)
def gradient_clipping(inputs: GradientClippingInputs) -> Result:
    grads = np.asarray(inputs.grads)
    total_norm = np.sqrt(np.sum(grads**2))
    coefficient = min(1.0, inputs.max_norm / (total_norm + CLIPPING_EPS))
    clipped = coefficient * grads
    return Result(
        {"grads": clipped, "total_norm": total_norm},
        [
            Step("‖g‖₂", total_norm),
            Step("c = min(1, max_norm / (‖g‖₂ + 10⁻⁶))", coefficient),
            Step("g ← c g", clipped),
        ],
    )


class WeightInitInputs(Inputs):
    fan_in: int = described(
        ge=1,
        le=MAX_COUNT,
        en="Fan-in n_in: inputs feeding each unit (in × kernel area for a convolution)",
        ja="fan_in n_in（1 つのユニットへの入力数。畳み込みでは入力チャンネル数 × カーネル面積）",
    )
    fan_out: int = described(
        ge=1,
        le=MAX_COUNT,
        en="Fan-out n_out: units each input feeds (out × kernel area for a convolution)",
        ja="fan_out n_out（1 つの入力の出力先の数。畳み込みでは出力チャンネル数 × カーネル面積）",
    )


def _sample_weight_init(rng: np.random.Generator) -> dict[str, Any]:
    total = 2 * int(rng.choice([1, 2, 3, 4, 5, 10])) ** 2  # 2/(n_in + n_out) is 1/k²
    fan_in = int(rng.integers(1, total))
    return {"fan_in": fan_in, "fan_out": total - fan_in}


@calculator(
    "weight-init",
    outputs=("xavier_std", "xavier_simple_std", "he_std"),
    sample=_sample_weight_init,
    answer="xavier_std",
)
def weight_init(inputs: WeightInitInputs) -> Result:
    fan_sum = inputs.fan_in + inputs.fan_out
    xavier = math.sqrt(2 / fan_sum)
    simple = 1 / math.sqrt(inputs.fan_in)
    he = math.sqrt(2 / inputs.fan_in)
    return Result(
        {"xavier_std": xavier, "xavier_simple_std": simple, "he_std": he},
        [
            Step("n_in + n_out", fan_sum),
            Step("σ = √(2 / (n_in + n_out))", xavier),
            Step("a = √(6 / (n_in + n_out))", math.sqrt(6 / fan_sum)),
            Step("σ = 1 / √n_in", simple),
            Step("σ = √(2 / n_in)", he),
            Step("a = √(6 / n_in)", math.sqrt(6 / inputs.fan_in)),
        ],
    )
