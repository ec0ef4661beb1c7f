"""Model compression and scale: distillation, quantization, pruning, data parallelism, FLOPs."""

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.calculators.activations import stable_softmax
from app.calculators.generative import bounded_count, small_integers
from app.calculators.registry import calculator
from app.calculators.reinforcement import require_index
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    Probability,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

# --- Knowledge distillation (Hinton et al. 2015) ----------------------------------------------


class DistillationInputs(Inputs):
    student_logits: Vector = described(
        en="Logits z_s of the student, one per class", ja="生徒モデルのロジット z_s（クラスごと）"
    )
    teacher_logits: Vector = described(
        en="Logits z_t of the teacher, same length", ja="教師モデルのロジット z_t（同じ長さ）"
    )
    label: int = described(
        ge=0,
        lt=MAX_ELEMENTS,
        en="Index y of the true class (from 0)",
        ja="正解クラスの番号 y（0 始まり）",
    )
    temperature: Real = described(4.0, gt=0, en="Temperature T (> 0)", ja="温度 T（> 0）")
    alpha: Probability = described(
        0.5,
        en="Weight α of the soft (teacher) term in [0, 1]",
        ja="ソフトターゲット項（教師）の重み α（0 以上 1 以下）",
    )

    @model_validator(mode="after")
    def _same_classes(self) -> "DistillationInputs":
        require_same_shape(self, "student_logits", "teacher_logits")
        require_index("label", self.label, len(self.student_logits), "classes")
        return self


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """log softmax(scores), finite for finite scores (log-sum-exp after subtracting the maximum)."""
    shifted = scores - scores.max()
    return shifted - np.log(np.exp(shifted).sum())


def _sample_distillation(rng: np.random.Generator) -> dict[str, Any]:
    classes = int(rng.integers(2, 4))
    return {
        "student_logits": [0.0] * classes,
        "teacher_logits": small_integers(rng, classes, 0, 4),
        "label": int(rng.integers(classes)),
        "temperature": float(rng.choice([1.0, 2.0])),
        "alpha": 0.5,
    }


@calculator(
    "distillation-loss",
    outputs=("loss", "soft_loss", "hard_loss"),
    sample=_sample_distillation,
    answer="loss",
)
def distillation_loss(inputs: DistillationInputs) -> Result:
    temperature = inputs.temperature
    with np.errstate(over="ignore"):  # an overflow is reported below, by field
        student_scaled = np.asarray(inputs.student_logits) / temperature
        teacher_scaled = np.asarray(inputs.teacher_logits) / temperature
    if not (np.isfinite(student_scaled).all() and np.isfinite(teacher_scaled).all()):
        raise InvalidInput("temperature", "is too small for these logits: z / T overflows")
    log_teacher = log_softmax(teacher_scaled)
    log_student = log_softmax(student_scaled)
    teacher = stable_softmax(teacher_scaled)
    soft = float((teacher * (log_teacher - log_student)).sum())
    student_log_probabilities = log_softmax(np.asarray(inputs.student_logits))
    hard = -student_log_probabilities[inputs.label]
    loss = inputs.alpha * temperature**2 * soft + (1 - inputs.alpha) * hard
    return Result(
        {"loss": loss, "soft_loss": soft, "hard_loss": hard},
        [
            Step("p = softmax(z_t / T)  (teacher)", teacher),
            Step("q = softmax(z_s / T)  (student)", stable_softmax(student_scaled)),
            Step("L_soft = KL(p ‖ q) = Σ p (log p − log q)", soft),
            Step("softmax(z_s)  (T = 1)", np.exp(student_log_probabilities)),
            Step("L_hard = −log softmax(z_s)_y", hard),
            Step("L = α T² L_soft + (1 − α) L_hard", loss),
        ],
    )


# --- Affine (asymmetric) quantization ---------------------------------------------------------

QUANTIZED_RANGES = {"uint8": (0, 255), "int8": (-128, 127)}
FLOAT32_EPS = float(np.finfo(np.float32).eps)
"""Smallest scale PyTorch's observers allow (torch.finfo(torch.float32).eps)."""

DTYPE_HELP = {
    "en": "Integer type: uint8 (0 … 255) or int8 (−128 … 127)",
    "ja": "整数型：uint8（0〜255）または int8（−128〜127）",
}


class QuantizeInputs(Inputs):
    x: Vector = described(en="Real values r to quantize", ja="量子化する実数値 r")
    scale: Real = described(
        gt=0,
        en="Scale S (> 0): the real step between integer levels",
        ja="スケール S（> 0、整数 1 段あたりの実数の幅）",
    )
    zero_point: int = described(
        0,
        ge=-128,
        le=255,
        en="Zero point Z: the integer that represents the real 0",
        ja="ゼロ点 Z（実数の 0 を表す整数）",
    )
    dtype: Literal["uint8", "int8"] = described("uint8", **DTYPE_HELP)

    @model_validator(mode="after")
    def _zero_point_in_range(self) -> "QuantizeInputs":
        low, high = QUANTIZED_RANGES[self.dtype]
        if not low <= self.zero_point <= high:
            raise InvalidInput("zero_point", f"must lie in the {self.dtype} range [{low}, {high}]")
        return self


NICE_REALS = (-1.3, -0.4, 0.3, 0.9, 1.7, 2.2)


def _sample_quantize(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": [float(rng.choice(NICE_REALS))],
        "scale": float(rng.choice([0.25, 0.5, 2.0])),
        "zero_point": int(rng.choice([0, 3, 10])),
        "dtype": "uint8",
    }


@calculator(
    "affine-quantization",
    outputs=("q", "dequantized", "error"),
    sample=_sample_quantize,
    answer="q[0]",
)
def affine_quantization(inputs: QuantizeInputs) -> Result:
    low, high = QUANTIZED_RANGES[inputs.dtype]
    x = np.asarray(inputs.x)
    with np.errstate(over="ignore"):  # an overflow is reported below, by field
        ratio = x / inputs.scale
    if not np.isfinite(ratio).all():
        raise InvalidInput("scale", "is too small for these values: r / S overflows")
    rounded = np.rint(ratio)  # ties to even
    q = np.clip(rounded + inputs.zero_point, low, high).astype(int)
    dequantized = inputs.scale * (q - inputs.zero_point)
    error = x - dequantized
    return Result(
        {"q": q, "dequantized": dequantized, "error": error},
        [
            Step("r / S", ratio),
            Step("round(r / S)  (ties to even)", rounded),
            Step(f"q = clamp(round(r / S) + Z, {low}, {high})", q),
            Step("r̂ = S (q − Z)", dequantized),
            Step("r − r̂", error),
        ],
    )


class QuantizationParamsInputs(Inputs):
    x_min: Real = described(en="Smallest observed value r_min", ja="観測した最小値 r_min")
    x_max: Real = described(
        en="Largest observed value r_max (≥ r_min)", ja="観測した最大値 r_max（≥ r_min）"
    )
    dtype: Literal["uint8", "int8"] = described("uint8", **DTYPE_HELP)
    symmetric: bool = described(
        False,
        en="Symmetric scheme (range ±max|r|, fixed zero point) instead of affine",
        ja="アフィンではなく対称方式（範囲 ±max|r|、ゼロ点は固定）",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "QuantizationParamsInputs":
        if self.x_max < self.x_min:
            raise InvalidInput("x_max", "must be at least x_min")
        return self


def _sample_quantization_params(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x_min": float(rng.choice([-1.0, -2.0, -0.5])),
        "x_max": float(rng.choice([1.0, 2.0, 4.0])),
        "dtype": "uint8",
        "symmetric": False,
    }


@calculator(
    "quantization-params",
    outputs=("scale", "zero_point"),
    sample=_sample_quantization_params,
    answer="zero_point",
)
def quantization_params(inputs: QuantizationParamsInputs) -> Result:
    low, high = QUANTIZED_RANGES[inputs.dtype]
    lowest, highest = min(inputs.x_min, 0.0), max(inputs.x_max, 0.0)
    steps = [Step("r_min ← min(r_min, 0), r_max ← max(r_max, 0)", [lowest, highest])]
    if inputs.symmetric:
        bound = max(-lowest, highest)
        scale = max(bound / ((high - low) / 2), FLOAT32_EPS)
        zero_point = 0 if inputs.dtype == "int8" else 128
        steps += [
            Step("max(|r_min|, |r_max|)", bound),
            Step("S = max|r| / ((q_max − q_min) / 2)", scale),
            Step("Z = 0 (int8) or 128 (uint8)", zero_point),
        ]
    else:
        scale = max((highest - lowest) / (high - low), FLOAT32_EPS)
        shifted = lowest / scale
        zero_point = int(np.clip(low - np.rint(shifted), low, high))
        steps += [
            Step("S = (r_max − r_min) / (q_max − q_min)", scale),
            Step("r_min / S", shifted),
            Step("Z = q_min − round(r_min / S)", zero_point),
        ]
    return Result({"scale": scale, "zero_point": zero_point}, steps)


# --- Magnitude pruning ------------------------------------------------------------------------


class PruningInputs(Inputs):
    weights: Vector = described(en="Weights w", ja="重み w")
    amount: Probability = described(
        0.5,
        en="Fraction of the weights to prune, in [0, 1] (rounded to a count)",
        ja="取り除く重みの割合（0 以上 1 以下。個数に丸める）",
    )


def _sample_pruning(rng: np.random.Generator) -> dict[str, Any]:
    magnitudes = rng.permutation([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])[:4]
    signs = rng.choice([-1.0, 1.0], size=4)
    return {"weights": (magnitudes * signs).round(1).tolist(), "amount": 0.5}


@calculator(
    "magnitude-pruning",
    outputs=("pruned_weights", "mask", "pruned_count"),
    sample=_sample_pruning,
    answer="pruned_weights[0]",
)
def magnitude_pruning(inputs: PruningInputs) -> Result:
    weights = np.asarray(inputs.weights)
    count = round(inputs.amount * len(weights))  # Python's round: ties to even, like PyTorch
    order = np.argsort(np.abs(weights), kind="stable")  # equal |w|: the earlier index goes first
    mask = np.ones(len(weights), dtype=int)
    mask[order[:count]] = 0
    pruned = np.where(mask == 1, weights, 0.0)
    threshold = float(np.abs(weights[order[count - 1]])) if count else None
    return Result(
        {"pruned_weights": pruned, "mask": mask, "pruned_count": count},
        [
            Step("|w|", np.abs(weights)),
            Step("k = round(amount × n)  (weights to prune)", count),
            Step("largest pruned |w|", threshold if threshold is not None else "none pruned"),
            Step("mask (0 for the k smallest |w|)", mask),
            Step("w ⊙ mask", pruned),
        ],
    )


# --- Data-parallel gradient averaging ---------------------------------------------------------

Counts = Annotated[
    list[Annotated[int, Field(ge=1, le=10**9)]], Field(min_length=1, max_length=MAX_ELEMENTS)
]


class DataParallelInputs(Inputs):
    worker_gradients: Matrix = described(
        en="Gradient computed by each worker on its own shard: one row per worker",
        ja="各ワーカーが自分の担当データで計算した勾配（1 行が 1 ワーカー）",
    )
    batch_sizes: Counts | None = described(
        None,
        en="Examples per worker, to weight unequal shards; empty: equal shards (plain mean)",
        ja="ワーカーごとのデータ数（担当量が異なるときの重み）。空なら等分（単純平均）",
    )

    @model_validator(mode="after")
    def _one_size_per_worker(self) -> "DataParallelInputs":
        workers = len(self.worker_gradients)
        if self.batch_sizes is not None and len(self.batch_sizes) != workers:
            raise InvalidInput(
                "batch_sizes", f"needs one size per worker ({workers}), got {len(self.batch_sizes)}"
            )
        return self


def _sample_data_parallel(rng: np.random.Generator) -> dict[str, Any]:
    return {"worker_gradients": small_integers(rng, (2, 2), -4, 5)}


@calculator(
    "data-parallel-average",
    outputs=("gradient", "all_reduce_sum"),
    sample=_sample_data_parallel,
    answer="gradient[0]",
)
def data_parallel_average(inputs: DataParallelInputs) -> Result:
    gradients = np.asarray(inputs.worker_gradients)
    total = gradients.sum(axis=0)
    if inputs.batch_sizes is None:
        gradient = total / len(gradients)
        return Result(
            {"gradient": gradient, "all_reduce_sum": total},
            [Step("all-reduce: Σ_k g_k", total), Step("g = (1/K) Σ_k g_k", gradient)],
        )
    sizes = np.asarray(inputs.batch_sizes, dtype=float)
    weighted = (sizes[:, None] * gradients).sum(axis=0)
    gradient = weighted / sizes.sum()
    return Result(
        {"gradient": gradient, "all_reduce_sum": total},
        [
            Step("all-reduce: Σ_k g_k", total),
            Step("Σ_k n_k g_k", weighted),
            Step("Σ_k n_k", sizes.sum()),
            Step("g = Σ_k n_k g_k / Σ_k n_k", gradient),
        ],
    )


# --- FLOPs and MACs of a convolution or linear layer ------------------------------------------


class LayerFlopsInputs(Inputs):
    in_channels: int = bounded_count(
        high=16384,
        en="Input channels C_in (input features for a linear layer)",
        ja="入力チャネル数 C_in（全結合層なら入力次元）",
    )
    out_channels: int = bounded_count(
        high=16384,
        en="Output channels C_out (output features for a linear layer)",
        ja="出力チャネル数 C_out（全結合層なら出力次元）",
    )
    kernel_size: int = bounded_count(
        1,
        high=32,
        en="Kernel size K (K × K; 1 for a linear layer)",
        ja="カーネルサイズ K（K × K。全結合層は 1）",
    )
    output_height: int = bounded_count(
        1,
        high=2048,
        en="Output height H_out (1 for a linear layer)",
        ja="出力の高さ H_out（全結合層は 1）",
    )
    output_width: int = bounded_count(
        1,
        high=2048,
        en="Output width W_out (1 for a linear layer)",
        ja="出力の幅 W_out（全結合層は 1）",
    )
    groups: int = bounded_count(
        1,
        high=16384,
        en="Groups g (C_in for a depthwise convolution)",
        ja="グループ数 g（デプスワイズ畳み込みなら C_in）",
    )
    bias: bool = described(True, en="The layer has a bias", ja="バイアスを持つ")

    @model_validator(mode="after")
    def _groups_divide_channels(self) -> "LayerFlopsInputs":
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise InvalidInput(name, f"must be divisible by groups ({self.groups})")
        return self


def _sample_layer_flops(rng: np.random.Generator) -> dict[str, Any]:
    size = int(rng.choice([2, 4, 8]))
    return {
        "in_channels": int(rng.choice([1, 3])),
        "out_channels": int(rng.choice([2, 4, 8])),
        "kernel_size": int(rng.choice([1, 3])),
        "output_height": size,
        "output_width": size,
        "groups": 1,
        "bias": True,
    }


@calculator(
    "layer-flops",
    outputs=("macs", "flops", "params"),
    sample=_sample_layer_flops,
    answer="macs",
)
def layer_flops(inputs: LayerFlopsInputs) -> Result:
    per_output = (inputs.in_channels // inputs.groups) * inputs.kernel_size**2
    outputs = inputs.out_channels * inputs.output_height * inputs.output_width
    macs = per_output * outputs
    flops = 2 * macs
    params = inputs.out_channels * per_output + (inputs.out_channels if inputs.bias else 0)
    return Result(
        {"macs": macs, "flops": flops, "params": params},
        [
            Step("(C_in / g) K²  (MACs per output value)", per_output),
            Step("C_out H_out W_out  (output values)", outputs),
            Step("MACs = C_out H_out W_out (C_in / g) K²", macs),
            Step("FLOPs = 2 × MACs  (bias additions not counted)", flops),
            Step("params = C_out (C_in / g) K² + C_out (bias)", params),
        ],
    )
