"""Generative models and speech: WaveNet, VAE, GAN, metric learning and style transfer."""

import math
from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    NonNegative,
    Probability,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

OpenProbability = Annotated[float, Field(allow_inf_nan=False, gt=0, lt=1)]
"""A discriminator output D(·) strictly inside (0, 1): log D and log(1 − D) are both finite."""
OpenProbabilities = Annotated[list[OpenProbability], Field(min_length=1, max_length=MAX_ELEMENTS)]
UnitIntervalVector = Annotated[list[Probability], Field(min_length=1, max_length=MAX_ELEMENTS)]


def bounded_count(default: Any = ..., *, high: int, en: str, ja: str) -> Any:
    """A whole number from 1 to `high`: the upper bound keeps every computation small."""
    return described(default, ge=1, le=high, en=en, ja=ja)


def small_integers(rng: np.random.Generator, size: Any, low: int = -2, high: int = 3) -> Any:
    """Whole numbers in [low, high) as floats, in (nested) lists: nice sample inputs."""
    return rng.integers(low, high, size=size).astype(float).tolist()


# --- WaveNet: receptive field of a stack of dilated causal convolutions -----------------------


class DilatedReceptiveFieldInputs(Inputs):
    kernel_size: int = bounded_count(
        2,
        high=64,
        en="Kernel size K of every layer (WaveNet: 2)",
        ja="各層のカーネルサイズ K（WaveNet は 2）",
    )
    layers_per_stack: int = bounded_count(
        10,
        high=30,
        en="Layers L per stack; the dilations are 1, 2, 4, …, 2^(L−1)",
        ja="1 スタックの層数 L（ダイレーションは 1, 2, 4, …, 2^(L−1)）",
    )
    stacks: int = bounded_count(
        1,
        high=64,
        en="Number B of stacks (the dilation pattern is repeated B times)",
        ja="スタック数 B（ダイレーションの並びを B 回繰り返す）",
    )


def _sample_dilated_receptive_field(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "kernel_size": int(rng.choice([2, 3])),
        "layers_per_stack": int(rng.integers(2, 6)),
        "stacks": int(rng.integers(1, 3)),
    }


@calculator(
    "dilated-receptive-field",
    outputs=("receptive_field", "dilations"),
    sample=_sample_dilated_receptive_field,
    answer="receptive_field",
)
def dilated_receptive_field(inputs: DilatedReceptiveFieldInputs) -> Result:
    dilations = [2**layer for layer in range(inputs.layers_per_stack)] * inputs.stacks
    total = sum(dilations)
    widening = (inputs.kernel_size - 1) * total
    receptive_field = widening + 1
    return Result(
        {"receptive_field": receptive_field, "dilations": dilations},
        [
            Step("d = 1, 2, 4, …, 2^(L−1), repeated B times", dilations),
            Step("Σ d = B (2^L − 1)", total),
            Step("(K − 1) Σ d", widening),
            Step("R = (K − 1) Σ d + 1", receptive_field),
        ],
    )


# --- VAE: reconstruction + closed-form Gaussian KL, and the reparameterization trick ----------


class VaeLossInputs(Inputs):
    x: UnitIntervalVector = described(
        en="Input x (each element in [0, 1]; binary for a true Bernoulli likelihood)",
        ja="入力 x（各要素は 0 以上 1 以下。ベルヌーイ尤度として厳密なのは 0/1 のとき）",
    )
    x_hat: UnitIntervalVector = described(
        en="Decoder output: Bernoulli means y in [0, 1], same length as x",
        ja="デコーダ出力（ベルヌーイ分布の平均 y、0 以上 1 以下、x と同じ長さ）",
    )
    mu: Vector = described(
        en="Encoder mean μ (one per latent dimension)", ja="エンコーダが出す平均 μ（潜在次元ごと）"
    )
    sigma: Vector = described(
        en="Encoder standard deviation σ (> 0), same length as μ",
        ja="エンコーダが出す標準偏差 σ（> 0、μ と同じ長さ）",
    )

    @model_validator(mode="after")
    def _shapes_and_domain(self) -> "VaeLossInputs":
        require_same_shape(self, "x", "x_hat")
        require_same_shape(self, "mu", "sigma")
        if min(self.sigma) <= 0:
            raise InvalidInput(
                "sigma", "every standard deviation must be positive (log σ² needs σ > 0)"
            )
        x, y = np.asarray(self.x), np.asarray(self.x_hat)
        impossible = ((y == 0) & (x > 0)) | ((y == 1) & (x < 1))
        if impossible.any():
            index = int(np.flatnonzero(impossible)[0])
            raise InvalidInput(
                "x_hat",
                f"x_hat[{index}] = {y[index]:g} gives probability 0 to x[{index}] = {x[index]:g}: "
                "log 0 = −∞, so the reconstruction loss is infinite",
            )
        return self


def _sample_vae_loss(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": small_integers(rng, 2, 0, 2),
        "x_hat": rng.choice([0.2, 0.5, 0.8], size=2).tolist(),
        "mu": small_integers(rng, 2),
        "sigma": [1.0, 1.0],
    }


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log y with 0 log 0 = 0 (the validator has ruled out x > 0 with y = 0)."""
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


@calculator(
    "vae-loss",
    outputs=("loss", "reconstruction_loss", "kl"),
    sample=_sample_vae_loss,
    answer="kl",
)
def vae_loss(inputs: VaeLossInputs) -> Result:
    x, y = np.asarray(inputs.x), np.asarray(inputs.x_hat)
    mu, sigma = np.asarray(inputs.mu), np.asarray(inputs.sigma)
    log_likelihood = _xlogy(x, y) + _xlogy(1 - x, 1 - y)
    reconstruction = -log_likelihood.sum()
    log_variance = 2 * np.log(sigma)
    kl_terms = -0.5 * (1 + log_variance - mu**2 - sigma**2)
    kl = kl_terms.sum()
    loss = reconstruction + kl
    return Result(
        {"loss": loss, "reconstruction_loss": reconstruction, "kl": kl},
        [
            Step("x log y + (1 − x) log(1 − y)", log_likelihood),
            Step("−log p(x|z) = −Σ [x log y + (1 − x) log(1 − y)]", reconstruction),
            Step("log σ²", log_variance),
            Step("−½ (1 + log σ² − μ² − σ²) per dimension", kl_terms),
            Step("KL = −½ Σ (1 + log σ² − μ² − σ²)", kl),
            Step("L = −log p(x|z) + KL", loss),
        ],
    )


class ReparameterizationInputs(Inputs):
    mu: Vector = described(en="Mean μ", ja="平均 μ")
    sigma: Vector = described(
        en="Standard deviation σ (≥ 0), same length as μ", ja="標準偏差 σ（≥ 0、μ と同じ長さ）"
    )
    eps: Vector = described(
        en="Noise ε drawn from N(0, I), same length as μ",
        ja="N(0, I) から引いたノイズ ε（μ と同じ長さ）",
    )

    @model_validator(mode="after")
    def _same_length(self) -> "ReparameterizationInputs":
        require_same_shape(self, "mu", "sigma", "eps")
        if min(self.sigma) < 0:
            raise InvalidInput("sigma", "a standard deviation cannot be negative")
        return self


def _sample_reparameterization(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "mu": small_integers(rng, 1),
        "sigma": [float(rng.choice([0.5, 1.0, 2.0]))],
        "eps": [float(rng.choice([-1.0, -0.5, 0.5, 1.0, 2.0]))],
    }


@calculator("reparameterization", outputs=("z",), sample=_sample_reparameterization, answer="z[0]")
def reparameterization(inputs: ReparameterizationInputs) -> Result:
    scaled = np.asarray(inputs.sigma) * np.asarray(inputs.eps)
    z = np.asarray(inputs.mu) + scaled
    return Result({"z": z}, [Step("σ ⊙ ε", scaled), Step("z = μ + σ ⊙ ε", z)])


# --- GAN: the value function and the losses used in practice ----------------------------------


class GanValueInputs(Inputs):
    d_real: OpenProbabilities = described(
        en="D(x) for each real example, strictly between 0 and 1",
        ja="本物のデータ x に対する D(x)（0 より大きく 1 より小さい）",
    )
    d_fake: OpenProbabilities = described(
        en="D(G(z)) for each generated example, strictly between 0 and 1",
        ja="生成データ G(z) に対する D(G(z))（0 より大きく 1 より小さい）",
    )


def _sample_gan_value(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "d_real": [float(rng.choice([0.5, 0.8, 0.9]))],
        "d_fake": [float(rng.choice([0.1, 0.2, 0.5]))],
    }


@calculator(
    "gan-value",
    outputs=(
        "value",
        "discriminator_loss",
        "generator_loss_minimax",
        "generator_loss_non_saturating",
    ),
    sample=_sample_gan_value,
    answer="value",
)
def gan_value(inputs: GanValueInputs) -> Result:
    d_real, d_fake = np.asarray(inputs.d_real), np.asarray(inputs.d_fake)
    real_term = np.log(d_real).mean()
    fake_term = np.log1p(-d_fake).mean()
    value = real_term + fake_term
    non_saturating = -np.log(d_fake).mean()
    return Result(
        {
            "value": value,
            "discriminator_loss": -value,
            "generator_loss_minimax": fake_term,
            "generator_loss_non_saturating": non_saturating,
        },
        [
            Step("mean log D(x)", real_term),
            Step("mean log(1 − D(G(z)))", fake_term),
            Step("V(D, G) = mean log D(x) + mean log(1 − D(G(z)))", value),
            Step("D minimises −V (binary cross-entropy, labels 1 real / 0 fake)", -value),
            Step("G (minimax) minimises mean log(1 − D(G(z)))", fake_term),
            Step("G (non-saturating) minimises −mean log D(G(z))", non_saturating),
        ],
    )


# --- Triplet loss (FaceNet) -------------------------------------------------------------------


class TripletLossInputs(Inputs):
    anchor: Vector = described(en="Embedding f(a) of the anchor", ja="アンカーの埋め込み f(a)")
    positive: Vector = described(
        en="Embedding f(p) of the positive (same identity as the anchor)",
        ja="ポジティブ（アンカーと同じ人物・クラス）の埋め込み f(p)",
    )
    negative: Vector = described(
        en="Embedding f(n) of the negative (another identity)",
        ja="ネガティブ（別の人物・クラス）の埋め込み f(n)",
    )
    margin: Real = described(0.2, gt=0, en="Margin α (> 0)", ja="マージン α（> 0）")
    squared: bool = described(
        True,
        en="Use squared Euclidean distances (FaceNet); false: plain distances (PyTorch)",
        ja="ユークリッド距離の 2 乗を使う（FaceNet）。false なら 2 乗しない距離（PyTorch）",
    )

    @model_validator(mode="after")
    def _same_length(self) -> "TripletLossInputs":
        require_same_shape(self, "anchor", "positive", "negative")
        return self


def _sample_triplet_loss(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "anchor": small_integers(rng, 2),
        "positive": small_integers(rng, 2),
        "negative": small_integers(rng, 2),
        "margin": float(rng.choice([0.2, 0.5, 1.0])),
        "squared": True,
    }


@calculator("triplet-loss", outputs=("loss",), sample=_sample_triplet_loss, answer="loss")
def triplet_loss(inputs: TripletLossInputs) -> Result:
    anchor = np.asarray(inputs.anchor)
    d_ap = float(((anchor - np.asarray(inputs.positive)) ** 2).sum())
    d_an = float(((anchor - np.asarray(inputs.negative)) ** 2).sum())
    label = "‖f(a) − f({})‖²"
    if not inputs.squared:
        d_ap, d_an = np.sqrt(d_ap), np.sqrt(d_an)
        label = "‖f(a) − f({})‖"
    inside = d_ap - d_an + inputs.margin
    loss = max(inside, 0.0)
    return Result(
        {"loss": loss},
        [
            Step(label.format("p"), d_ap),
            Step(label.format("n"), d_an),
            Step("d(a, p) − d(a, n) + α", inside),
            Step("L = max(d(a, p) − d(a, n) + α, 0)", loss),
        ],
    )


# --- Neural style transfer (Gatys et al.) -----------------------------------------------------

FEATURES_HELP = "one row per filter (N rows), one column per position (M = height × width)"
FEATURES_HELP_JA = "1 行が 1 フィルタ（N 行）、1 列が 1 位置（M = 高さ × 幅）"


MAX_FILTERS = math.isqrt(MAX_ELEMENTS)
FeatureMap = Annotated[Matrix, Field(max_length=MAX_FILTERS)]
"""At most 64 filters: the Gram matrix has N² entries, and they are capped like any input."""


class GramMatrixInputs(Inputs):
    features: FeatureMap = described(
        en=f"Feature map F of one layer, {FEATURES_HELP}",
        ja=f"ある層の特徴マップ F（{FEATURES_HELP_JA}）",
    )


def gram(features: np.ndarray) -> np.ndarray:
    return features @ features.T


@calculator("gram-matrix", outputs=("gram",))
def gram_matrix(inputs: GramMatrixInputs) -> Result:
    features = np.asarray(inputs.features)
    result = gram(features)
    return Result(
        {"gram": result},
        [Step("N × M", list(features.shape)), Step("G_ij = Σ_k F_ik F_jk  (G = F Fᵀ)", result)],
    )


class StyleTransferLossInputs(Inputs):
    generated: FeatureMap = described(
        en=f"Features F of the generated image, {FEATURES_HELP}",
        ja=f"生成画像の特徴 F（{FEATURES_HELP_JA}）",
    )
    content: FeatureMap = described(
        en="Features P of the content image, same shape as F",
        ja="コンテンツ画像の特徴 P（F と同じ形）",
    )
    style: FeatureMap = described(
        en="Features of the style image (its Gram matrix is A), same shape as F",
        ja="スタイル画像の特徴（そのグラム行列が A）。F と同じ形",
    )
    alpha: NonNegative = described(1.0, en="Content weight α (≥ 0)", ja="コンテンツの重み α（≥ 0）")
    beta: NonNegative = described(1.0, en="Style weight β (≥ 0)", ja="スタイルの重み β（≥ 0）")

    @model_validator(mode="after")
    def _same_shape(self) -> "StyleTransferLossInputs":
        require_same_shape(self, "generated", "content", "style")
        return self


def _sample_style_transfer_loss(rng: np.random.Generator) -> dict[str, Any]:
    def features() -> list[list[float]]:
        return small_integers(rng, (1, 2), 0, 3)

    return {
        "generated": features(),
        "content": features(),
        "style": features(),
        "alpha": 1.0,
        "beta": 1.0,
    }


@calculator(
    "style-transfer-loss",
    outputs=("content_loss", "style_loss", "total_loss"),
    sample=_sample_style_transfer_loss,
    answer="total_loss",
)
def style_transfer_loss(inputs: StyleTransferLossInputs) -> Result:
    generated = np.asarray(inputs.generated)
    n, m = generated.shape
    content_loss = 0.5 * ((generated - np.asarray(inputs.content)) ** 2).sum()
    g, a = gram(generated), gram(np.asarray(inputs.style))
    style_loss = ((g - a) ** 2).sum() / (4 * n**2 * m**2)
    total = inputs.alpha * content_loss + inputs.beta * style_loss
    return Result(
        {"content_loss": content_loss, "style_loss": style_loss, "total_loss": total},
        [
            Step("L_content = ½ Σ (F_ij − P_ij)²", content_loss),
            Step("G = F Fᵀ (generated)", g),
            Step("A (Gram matrix of the style image)", a),
            Step("4 N² M²", 4 * n**2 * m**2),
            Step("E = Σ (G_ij − A_ij)² / (4 N² M²)", style_loss),
            Step("L_total = α L_content + β E", total),
        ],
    )
