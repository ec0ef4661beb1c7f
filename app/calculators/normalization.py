"""Normalization layers (batch, layer, instance, group) and regularization (dropout,
weight decay, label smoothing)."""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.optimizers import (
    SgdInputs,
    _small_integers,
)
from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Bits,
    Inputs,
    InvalidInput,
    Matrix,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

EPS = {
    "en": "ε (> 0), added to the variance inside the square root",
    "ja": "ε（> 0、平方根の内側で分散に加える）",
}


def _require_length(inputs: Inputs, name: str, length: int, what: str) -> None:
    actual = len(getattr(inputs, name))
    if actual != length:
        raise InvalidInput(name, f"needs one value per {what} ({length}), got {actual}")


def _normalize(
    x: np.ndarray, axis: int, eps: float, suffix: str, count: str, shape: tuple[int, ...] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Step]]:
    """Mean, biased variance and x̂ (in `shape`, default x's) over `axis`, with their steps.

    `suffix` and `count` name the statistics in the step labels: μ_B over N values, say.
    """
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = ((x - mean) / std).reshape(shape or x.shape)
    mean, var = mean.squeeze(axis), var.squeeze(axis)
    mu, sigma2 = f"μ{suffix}", f"σ²{suffix}"
    steps = [
        Step(f"{mu} = (1/{count}) Σ x", mean),
        Step(f"{sigma2} = (1/{count}) Σ (x − {mu})²", var),
        Step(f"√({sigma2} + ε)", std.squeeze(axis)),
        Step(f"x̂ = (x − {mu}) / √({sigma2} + ε)", x_hat),
    ]
    return mean, var, x_hat, steps


def _nice_rows(rng: np.random.Generator, rows: int, columns: int) -> list[list[float]]:
    return rng.integers(0, 6, size=(rows, columns)).astype(float).tolist()


class AffineNormInputs(Inputs):
    """x (rows × columns), γ and β (one per column), ε: batch norm's and layer norm's inputs."""

    x: Matrix = described(
        en="Activations x: one row per example (N×D)", ja="入力 x（1 行が 1 データ、N×D）"
    )
    gamma: Vector = described(en="Scale γ, one per feature (D)", ja="スケール γ（特徴ごと、D 個）")
    beta: Vector = described(en="Shift β, one per feature (D)", ja="シフト β（特徴ごと、D 個）")
    eps: Real = described(1e-5, gt=0, le=1, **EPS)

    @model_validator(mode="after")
    def _one_gamma_and_beta_per_feature(self) -> "AffineNormInputs":
        for name in ("gamma", "beta"):
            _require_length(self, name, len(self.x[0]), "feature (column of x)")
        return self


class BatchNormInputs(AffineNormInputs):
    @model_validator(mode="after")
    def _at_least_two_examples(self) -> "BatchNormInputs":
        if len(self.x) < 2:
            raise InvalidInput(
                "x",
                "needs at least 2 rows (examples): the batch variance of one example is 0, "
                "and PyTorch refuses it in training mode",
            )
        return self


def _sample_batch_norm(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": _nice_rows(rng, 4, 1), "gamma": [1.0], "beta": [0.0]}


@calculator("batch-norm", outputs=("y", "mean", "var"), sample=_sample_batch_norm, answer="var[0]")
def batch_norm(inputs: BatchNormInputs) -> Result:
    x = np.asarray(inputs.x)
    mean, var, x_hat, steps = _normalize(x, 0, inputs.eps, "_B", "N")
    y = np.asarray(inputs.gamma) * x_hat + np.asarray(inputs.beta)
    n = len(x)
    return Result(
        {"y": y, "mean": mean, "var": var},
        [*steps, Step("y = γ x̂ + β", y), Step("N/(N − 1) · σ²_B", var * n / (n - 1))],
    )


@calculator("layer-norm", outputs=("y",))
def layer_norm(inputs: AffineNormInputs) -> Result:
    _, _, x_hat, steps = _normalize(np.asarray(inputs.x), 1, inputs.eps, "", "D")
    y = np.asarray(inputs.gamma) * x_hat + np.asarray(inputs.beta)
    return Result({"y": y}, [*steps, Step("y = γ x̂ + β", y)])


class ChannelNormInputs(Inputs):
    """One example as channels × positions, with a γ and β per channel."""

    x: Matrix = described(
        en="One example: one row per channel, its H×W positions flattened (C×L)",
        ja="1 つのデータ（1 行が 1 チャンネル、H×W の位置を 1 列に並べたもの、C×L）",
    )
    gamma: Vector = described(
        en="Scale γ, one per channel (C)", ja="スケール γ（チャンネルごと、C 個）"
    )
    beta: Vector = described(
        en="Shift β, one per channel (C)", ja="シフト β（チャンネルごと、C 個）"
    )
    eps: Real = described(1e-5, gt=0, le=1, **EPS)

    @model_validator(mode="after")
    def _one_gamma_and_beta_per_channel(self) -> "ChannelNormInputs":
        for name in ("gamma", "beta"):
            _require_length(self, name, len(self.x), "channel (row of x)")
        return self


class InstanceNormInputs(ChannelNormInputs):
    @model_validator(mode="after")
    def _at_least_two_positions(self) -> "InstanceNormInputs":
        if len(self.x[0]) < 2:
            raise InvalidInput(
                "x",
                "each channel needs at least 2 positions (columns): the variance of one value "
                "is 0, and PyTorch refuses it",
            )
        return self


def _sample_channels(rng: np.random.Generator, channels: int) -> dict[str, Any]:
    return {
        "x": _nice_rows(rng, channels, 4),
        "gamma": [1.0] * channels,
        "beta": [0.0] * channels,
    }


def _sample_instance_norm(rng: np.random.Generator) -> dict[str, Any]:
    return _sample_channels(rng, 2)


def _per_channel_result(
    inputs: ChannelNormInputs, normalized: tuple[np.ndarray, np.ndarray, np.ndarray, list[Step]]
) -> Result:
    mean, var, x_hat, steps = normalized
    y = np.asarray(inputs.gamma)[:, None] * x_hat + np.asarray(inputs.beta)[:, None]
    return Result({"y": y, "mean": mean, "var": var}, [*steps, Step("y = γ_c x̂ + β_c", y)])


@calculator(
    "instance-norm",
    outputs=("y", "mean", "var"),
    sample=_sample_instance_norm,
    answer="var[0]",
)
def instance_norm(inputs: InstanceNormInputs) -> Result:
    return _per_channel_result(inputs, _normalize(np.asarray(inputs.x), 1, inputs.eps, "_c", "L"))


class GroupNormInputs(ChannelNormInputs):
    num_groups: int = described(
        ge=1,
        le=MAX_ELEMENTS,
        en="Number of groups G; it must divide the number of channels C",
        ja="グループ数 G（チャンネル数 C を割り切る数）",
    )

    @model_validator(mode="after")
    def _groups_divide_channels(self) -> "GroupNormInputs":
        channels, positions = len(self.x), len(self.x[0])
        if channels % self.num_groups:
            raise InvalidInput(
                "num_groups", f"must divide the number of channels C = {channels} (rows of x)"
            )
        if channels // self.num_groups * positions < 2:
            raise InvalidInput(
                "num_groups",
                "each group must hold at least 2 values: with one position per channel, "
                "use fewer groups",
            )
        return self


def _sample_group_norm(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_channels(rng, 4), "num_groups": 2}


@calculator("group-norm", outputs=("y", "mean", "var"), sample=_sample_group_norm, answer="var[0]")
def group_norm(inputs: GroupNormInputs) -> Result:
    x = np.asarray(inputs.x)
    groups = x.reshape(inputs.num_groups, -1)  # consecutive channels share a group
    return _per_channel_result(inputs, _normalize(groups, 1, inputs.eps, "_g", "m", x.shape))


class DropoutInputs(Inputs):
    x: Vector = described(en="Activations x", ja="入力（活性化）x")
    mask: Bits = described(
        en="Keep mask m: 1 keeps the unit, 0 drops it (same length as x)",
        ja="保持マスク m（1 は残す、0 は落とす。x と同じ長さ）",
    )
    p: Real = described(
        0.5,
        ge=0,
        lt=1,
        en="Drop probability p in [0, 1) (PyTorch's p; the keep probability is 1 − p)",
        ja="落とす確率 p（0 以上 1 未満。PyTorch の p。残す確率は 1 − p）",
    )

    @model_validator(mode="after")
    def _mask_fits(self) -> "DropoutInputs":
        require_same_shape(self, "x", "mask")
        if self.p == 0 and 0 in self.mask:
            raise InvalidInput("mask", "with p = 0 no unit is dropped, so every entry must be 1")
        return self


def _sample_dropout(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": rng.integers(-4, 5, size=3).astype(float).tolist(),
        "mask": [1, *rng.integers(0, 2, size=2).tolist()],
        "p": float(rng.choice([0.2, 0.5, 0.75])),
    }


@calculator(
    "dropout",
    outputs=("train_inverted", "test_inverted", "train_original", "test_original"),
    sample=_sample_dropout,
    answer="train_inverted[0]",
)
def dropout(inputs: DropoutInputs) -> Result:
    x, mask = np.asarray(inputs.x), np.asarray(inputs.mask, dtype=bool)
    keep = 1 - inputs.p
    kept = np.where(mask, x, 0.0)  # a dropped negative input gives 0, not −0
    inverted = kept / keep
    scaled = keep * x
    return Result(
        {
            "train_inverted": inverted,
            "test_inverted": x,
            "train_original": kept,
            "test_original": scaled,
        },
        [
            Step("1 − p", keep),
            Step("m ⊙ x", kept),
            Step("m ⊙ x / (1 − p)", inverted),
            Step("(1 − p) x", scaled),
        ],
    )


class WeightDecayInputs(SgdInputs):
    grads: Vector = described(
        en="Gradients g of the data loss alone (without the penalty)",
        ja="データの損失だけの勾配 g（罰則項を含まない）",
    )
    weight_decay: Real = described(
        0.01,
        ge=0,
        le=10,
        en="Weight decay λ (≥ 0): PyTorch's weight_decay, the L2 penalty (λ/2)‖θ‖²",
        ja="重み減衰の係数 λ（≥ 0。PyTorch の weight_decay、L2 罰則 (λ/2)‖θ‖²）",
    )


def _sample_weight_decay(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "params": _small_integers(rng, -5, 6),
        "grads": _small_integers(rng),
        "lr": 0.1,
        "weight_decay": float(rng.choice([0.1, 0.5, 1.0])),
    }


@calculator(
    "weight-decay",
    outputs=("penalty", "grads", "params"),
    sample=_sample_weight_decay,
    answer="params[0]",
)
def weight_decay(inputs: WeightDecayInputs) -> Result:
    params, decay = np.asarray(inputs.params), inputs.weight_decay
    penalty = decay / 2 * np.sum(params**2)
    grads = np.asarray(inputs.grads) + decay * params
    params = params - inputs.lr * grads
    return Result(
        {"penalty": penalty, "grads": grads, "params": params},
        [
            Step("(λ/2) ‖θ‖²", penalty),
            Step("g + λ θ", grads),
            Step("1 − η λ", 1 - inputs.lr * decay),
            Step("θ ← θ − η (g + λ θ)", params),
        ],
    )


class LabelSmoothingInputs(Inputs):
    logits: Vector = described(
        en="Logits z of one example, one per class (K ≥ 2)",
        ja="1 つのデータのロジット z（クラスごと、K ≥ 2）",
        min_length=2,
    )
    target: int = described(
        ge=0,
        lt=MAX_ELEMENTS,
        en="Index y of the correct class, counted from 0",
        ja="正解クラスの番号 y（0 から数える）",
    )
    epsilon: Real = described(
        0.1,
        ge=0,
        le=1,
        en="Smoothing ε in [0, 1], spread evenly over all K classes",
        ja="平滑化の量 ε（0 以上 1 以下。K クラス全部に均等に配る）",
    )

    @model_validator(mode="after")
    def _target_is_a_class(self) -> "LabelSmoothingInputs":
        if self.target >= len(self.logits):
            raise InvalidInput(
                "target",
                f"must be a class index below the number of logits K = {len(self.logits)}",
            )
        return self


def _sample_label_smoothing(rng: np.random.Generator) -> dict[str, Any]:
    classes = int(rng.choice([2, 4, 5]))
    return {
        "logits": rng.integers(-2, 3, size=classes).astype(float).tolist(),
        "target": int(rng.integers(classes)),
        "epsilon": float(rng.choice([0.1, 0.2])),
    }


@calculator(
    "label-smoothing",
    outputs=("targets", "loss"),
    sample=_sample_label_smoothing,
    answer="targets[0]",
)
def label_smoothing(inputs: LabelSmoothingInputs) -> Result:
    logits = np.asarray(inputs.logits)
    classes, epsilon = len(logits), inputs.epsilon
    shifted = logits - logits.max()
    log_probs = shifted - np.log(np.exp(shifted).sum())
    targets = np.full(classes, epsilon / classes)
    targets[inputs.target] += 1 - epsilon
    loss = -(targets * log_probs).sum()
    return Result(
        {"targets": targets, "loss": loss},
        [
            Step("log p = z − log Σ exp z", log_probs),
            Step("−log p_y", -log_probs[inputs.target]),
            Step("q = (1 − ε) one-hot(y) + ε / K", targets),
            Step("L = −Σ q log p", loss),
        ],
    )
