"""Classical machine learning: regression, regularization, distances, clustering, trees, metrics."""

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from app.calculators.linear_algebra import first_nonzero_positive, require_symmetric
from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    MAX_MAGNITUDE,
    Bit,
    Inputs,
    InvalidInput,
    Matrix,
    NonNegative,
    Probability,
    Real,
    Result,
    Step,
    Vector,
    _within_element_cap,
    described,
    require_same_shape,
)

AtLeastOne = Annotated[float, Field(allow_inf_nan=False, ge=1, le=MAX_MAGNITUDE)]

SMALL_SQUARE = 16
"""Largest side of a matrix (XᵀX, a covariance) still worth showing as a step."""


def _small_integers(rng: np.random.Generator, size: int, low: int = -3, high: int = 4) -> list:
    return rng.integers(low, high, size=size).astype(float).tolist()


def _sigmoid(z: float) -> float:
    """σ(z) without overflow: e^{−|z|} lies in (0, 1]."""
    decay = math.exp(-abs(z))
    return 1 / (1 + decay) if z >= 0 else decay / (1 + decay)


def _note_if_infinite(value: Any, note: str = "too large for double precision") -> Any:
    return value if np.isfinite(value).all() else note


# --- Bias, variance and noise -------------------------------------------------------------


class BiasVarianceInputs(Inputs):
    predictions: Vector = described(
        en="Predictions y(x; D) at one input x, one per model trained on its own data set D",
        ja="ある入力 x での予測 y(x; D)。別々の訓練データ D で学習したモデルごとに 1 つ",
    )
    target_mean: Real = described(
        en="h(x) = E[t | x]: the best possible (noise-free) prediction at x",
        ja="h(x) = E[t | x]：x における最良の予測（ノイズを除いた目標値）",
    )
    noise_variance: NonNegative = described(
        0.0,
        en="Noise σ² = E[(t − h(x))² | x] (≥ 0)",
        ja="ノイズの分散 σ² = E[(t − h(x))² | x]（≥ 0）",
    )


def _sample_bias_variance(rng: np.random.Generator) -> dict[str, Any]:
    target = int(rng.integers(0, 6))
    size = int(rng.integers(3, 5))
    return {
        "predictions": _small_integers(rng, size, target - 2, target + 4),
        "target_mean": float(target),
        "noise_variance": float(rng.choice([0.0, 0.5, 1.0, 2.0])),
    }


@calculator(
    "bias-variance-decomposition",
    outputs=("mean_prediction", "bias_squared", "variance", "expected_loss"),
    sample=_sample_bias_variance,
    answer="expected_loss",
)
def bias_variance_decomposition(inputs: BiasVarianceInputs) -> Result:
    y = np.asarray(inputs.predictions)
    mean = y.mean()
    bias_squared = (mean - inputs.target_mean) ** 2
    deviations = y - mean
    variance = np.mean(deviations**2)
    expected_loss = bias_squared + variance + inputs.noise_variance
    return Result(
        {
            "mean_prediction": mean,
            "bias_squared": bias_squared,
            "variance": variance,
            "expected_loss": expected_loss,
        },
        [
            Step("ȳ = (1/L) Σ y⁽ˡ⁾ (average over the L models)", mean),
            Step("(bias)² = (ȳ − h)²", bias_squared),
            Step("y⁽ˡ⁾ − ȳ", deviations),
            Step("variance = (1/L) Σ (y⁽ˡ⁾ − ȳ)²", variance),
            Step(
                "(1/L) Σ (y⁽ˡ⁾ − h)² = (bias)² + variance", np.mean((y - inputs.target_mean) ** 2)
            ),
            Step("E[L] = (bias)² + variance + σ²", expected_loss),
        ],
    )


# --- Odds, logit and logistic regression ----------------------------------------------------


class LogitInputs(Inputs):
    p: Real = described(
        gt=0, lt=1, en="Probability p of the event (0 < p < 1)", ja="事象の確率 p（0 < p < 1）"
    )


NICE_PROBABILITIES = (0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 0.9)


def _sample_logit(rng: np.random.Generator) -> dict[str, Any]:
    return {"p": float(rng.choice(NICE_PROBABILITIES))}


@calculator("logit", outputs=("odds", "logit"), sample=_sample_logit, answer="odds")
def logit(inputs: LogitInputs) -> Result:
    p = inputs.p
    complement = 1 - p
    odds = p / complement
    log_odds = math.log(p) - math.log1p(-p)  # no cancellation for p near 0 or 1
    return Result(
        {"odds": odds, "logit": log_odds},
        [
            Step("1 − p", complement),
            Step("odds = p / (1 − p)", odds),
            Step("logit(p) = ln(p / (1 − p))", log_odds),
            Step("σ(logit(p)) = 1 / (1 + e^(−logit)) (back to p)", _sigmoid(log_odds)),
        ],
    )


class LogisticRegressionInputs(Inputs):
    weights: Vector = described(en="Weights w, one per feature", ja="重み w（特徴量ごとに 1 つ）")
    features: Vector = described(
        en="Features x of one example (same length as w)", ja="1 データの特徴量 x（w と同じ長さ）"
    )
    bias: Real = described(0.0, en="Bias (intercept) b", ja="バイアス（切片）b")

    @model_validator(mode="after")
    def _same_length(self) -> "LogisticRegressionInputs":
        require_same_shape(self, "weights", "features")
        return self


def _sample_logistic_regression(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "weights": _small_integers(rng, 2, -2, 3),
        "features": _small_integers(rng, 2, -2, 4),
        "bias": float(rng.integers(-2, 3)),
    }


@calculator(
    "logistic-regression",
    outputs=("z", "probability", "predicted_class"),
    sample=_sample_logistic_regression,
    answer="z",
)
def logistic_regression(inputs: LogisticRegressionInputs) -> Result:
    products = np.asarray(inputs.weights) * np.asarray(inputs.features)
    z = float(products.sum() + inputs.bias)
    probability = _sigmoid(z)
    odds = math.exp(z) if z < 709 else "e^z overflows double precision (z ≥ 709)"
    predicted_class = int(z > 0)  # as scikit-learn's predict: class 1 only when z > 0
    return Result(
        {"z": z, "probability": probability, "predicted_class": predicted_class},
        [
            Step("wᵢ xᵢ", products),
            Step("z = wᵀx + b (the logit, log-odds)", z),
            Step("p(y = 1 | x) = σ(z) = 1 / (1 + e^(−z))", probability),
            Step("p(y = 0 | x) = 1 − σ(z) = σ(−z)", _sigmoid(-z)),
            Step("odds p / (1 − p) = e^z", odds),
            Step("class = 1 if z > 0 (p > 0.5), else 0", predicted_class),
        ],
    )


# --- Linear regression and its penalties --------------------------------------------------


class RegressionDataInputs(Inputs):
    x: Matrix = described(
        en="Features X (n×d): one row per example, one column per feature, no column of ones",
        ja="特徴量 X（n×d）：1 行が 1 データ、1 列が 1 特徴量。1 の列は入れない",
    )
    y: Vector = described(en="Targets y, one per row of X", ja="目標値 y（X の行ごとに 1 つ）")

    @model_validator(mode="after")
    def _one_target_per_row(self) -> "RegressionDataInputs":
        if len(self.y) != len(self.x):
            raise InvalidInput(
                "y", f"must have one target per row of x ({len(self.x)}), got {len(self.y)}"
            )
        return self


FIT_INTERCEPT = {
    "en": "Fit an intercept b as well (scikit-learn's fit_intercept)",
    "ja": "切片 b も推定する（scikit-learn の fit_intercept）",
}


class LinearRegressionInputs(RegressionDataInputs):
    fit_intercept: bool = described(True, **FIT_INTERCEPT)


def _gram_steps(label: str, matrix: np.ndarray) -> list[Step]:
    return [Step(label, matrix)] if len(matrix) <= SMALL_SQUARE else []


def _sample_simple_regression(rng: np.random.Generator) -> dict[str, Any]:
    """Three points at x = c − 1, c, c + 1: the least-squares slope is (y₃ − y₁) / 2."""
    centre = int(rng.integers(0, 3))
    return {
        "x": [[float(centre - 1)], [float(centre)], [float(centre + 1)]],
        "y": _small_integers(rng, 3, 0, 7),
        "fit_intercept": True,
    }


@calculator(
    "normal-equation",
    outputs=("coefficients", "intercept", "residual_sum_of_squares"),
    sample=_sample_simple_regression,
    answer="coefficients[0]",
)
def normal_equation(inputs: LinearRegressionInputs) -> Result:
    x, y = np.asarray(inputs.x), np.asarray(inputs.y)
    design = np.column_stack([np.ones(len(x)), x]) if inputs.fit_intercept else x
    rank = np.linalg.matrix_rank(design)
    if rank < design.shape[1]:
        columns = "columns of X with the column of ones" if inputs.fit_intercept else "columns of X"
        raise InvalidInput(
            "x",
            f"the {design.shape[1]} {columns} are linearly dependent (rank {rank}), so XᵀX is "
            "singular and the normal equation has no unique solution"
            + (" (fewer examples than unknowns)" if len(x) < design.shape[1] else ""),
        )
    # Least squares by SVD: the solution of XᵀX w = Xᵀy without squaring the condition number.
    theta = np.linalg.lstsq(design, y, rcond=None)[0]
    coefficients, intercept = (theta[1:], theta[0]) if inputs.fit_intercept else (theta, 0.0)
    predictions = design @ theta
    rss = np.sum((y - predictions) ** 2)
    return Result(
        {"coefficients": coefficients, "intercept": intercept, "residual_sum_of_squares": rss},
        [
            *_gram_steps(
                "X̃ᵀX̃ (X̃ = [1 X], a column of ones first)" if inputs.fit_intercept else "XᵀX",
                design.T @ design,
            ),
            Step("X̃ᵀy" if inputs.fit_intercept else "Xᵀy", design.T @ y),
            Step(
                "[b, w] = (X̃ᵀX̃)⁻¹X̃ᵀy" if inputs.fit_intercept else "w = (XᵀX)⁻¹Xᵀy",
                theta,
            ),
            Step("ŷ = X̃ [b, w]" if inputs.fit_intercept else "ŷ = Xw", predictions),
            Step("RSS = Σ (yᵢ − ŷᵢ)²", rss),
        ],
    )


ALPHA = {"en": "Penalty strength α (≥ 0)", "ja": "正則化の強さ α（≥ 0）"}


class RidgeInputs(LinearRegressionInputs):
    alpha: NonNegative = described(1.0, **ALPHA)


def _sample_ridge(rng: np.random.Generator) -> dict[str, Any]:
    """One feature, no intercept: w = Σ xᵢyᵢ / (Σ xᵢ² + α)."""
    return {
        "x": [[value] for value in _small_integers(rng, 2, 1, 4)],
        "y": _small_integers(rng, 2, -2, 6),
        "alpha": float(rng.integers(1, 4)),
        "fit_intercept": False,
    }


@calculator(
    "ridge-regression",
    outputs=("coefficients", "intercept", "objective"),
    sample=_sample_ridge,
    answer="coefficients[0]",
)
def ridge_regression(inputs: RidgeInputs) -> Result:
    x, y = np.asarray(inputs.x), np.asarray(inputs.y)
    x_mean = x.mean(axis=0) if inputs.fit_intercept else np.zeros(x.shape[1])
    y_mean = y.mean() if inputs.fit_intercept else 0.0
    xc, yc = x - x_mean, y - y_mean
    d = x.shape[1]
    # (XᵀX + αI) w = Xᵀy is the least-squares problem [X; √α I] w ≈ [y; 0]:
    # solved that way it stays accurate when XᵀX is badly conditioned.
    stacked = np.vstack([xc, math.sqrt(inputs.alpha) * np.eye(d)])
    if np.linalg.matrix_rank(stacked) < d:
        raise InvalidInput(
            "alpha",
            "XᵀX + αI is singular: the columns of x"
            + (" (after centring)" if inputs.fit_intercept else "")
            + " are linearly dependent and α is 0 or too small to make up for it",
        )
    w = np.linalg.lstsq(stacked, np.concatenate([yc, np.zeros(d)]), rcond=None)[0]
    intercept = y_mean - x_mean @ w
    residual = y - x @ w - intercept
    penalty = inputs.alpha * np.sum(w**2)
    objective = np.sum(residual**2) + penalty
    steps = []
    if inputs.fit_intercept:
        steps += [Step("x̄ (column means)", x_mean), Step("ȳ", y_mean)]
    steps += [
        *_gram_steps(
            "XᵀX + αI (X centred)" if inputs.fit_intercept else "XᵀX + αI",
            xc.T @ xc + inputs.alpha * np.eye(d),
        ),
        Step("Xᵀy (centred)" if inputs.fit_intercept else "Xᵀy", xc.T @ yc),
        Step("w = (XᵀX + αI)⁻¹Xᵀy", w),
        Step("b = ȳ − x̄ᵀw (not penalized)", intercept),
        Step("‖y − Xw − b‖²", np.sum(residual**2)),
        Step("α‖w‖²", penalty),
        Step("‖y − Xw − b‖² + α‖w‖²", objective),
    ]
    return Result({"coefficients": w, "intercept": intercept, "objective": objective}, steps)


class ElasticNetInputs(RegressionDataInputs):
    coefficients: Vector = described(
        en="Coefficients w to evaluate, one per column of X",
        ja="評価する係数 w（X の列ごとに 1 つ）",
    )
    intercept: Real = described(0.0, en="Intercept b (not penalized)", ja="切片 b（罰則なし）")
    alpha: NonNegative = described(1.0, **ALPHA)
    l1_ratio: Probability = described(
        0.5,
        en="Mixing ρ = l1_ratio in [0, 1]: 1 is the lasso, 0 a pure L2 penalty",
        ja="混合比 ρ = l1_ratio（0〜1）：1 で Lasso、0 で L2 罰則のみ",
    )

    @model_validator(mode="after")
    def _one_coefficient_per_column(self) -> "ElasticNetInputs":
        columns = len(self.x[0])
        if len(self.coefficients) != columns:
            raise InvalidInput(
                "coefficients",
                f"must have one coefficient per column of x ({columns}), "
                f"got {len(self.coefficients)}",
            )
        return self


def _sample_elastic_net(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": [[value] for value in _small_integers(rng, 2, 1, 4)],
        "y": _small_integers(rng, 2, -2, 5),
        "coefficients": [float(rng.choice([-1.0, 0.5, 1.0, 2.0]))],
        "intercept": 0.0,
        "alpha": float(rng.choice([0.5, 1.0, 2.0])),
        "l1_ratio": float(rng.choice([0.0, 0.5, 1.0])),
    }


@calculator(
    "elastic-net",
    outputs=("data_term", "l1_penalty", "l2_penalty", "objective"),
    sample=_sample_elastic_net,
    answer="objective",
)
def elastic_net(inputs: ElasticNetInputs) -> Result:
    x, y, w = np.asarray(inputs.x), np.asarray(inputs.y), np.asarray(inputs.coefficients)
    residual = y - x @ w - inputs.intercept
    squared_error = np.sum(residual**2)
    data_term = squared_error / (2 * len(y))
    l1_norm, l2_squared = np.abs(w).sum(), np.sum(w**2)
    lambda_1 = inputs.alpha * inputs.l1_ratio
    lambda_2 = inputs.alpha * (1 - inputs.l1_ratio) / 2
    l1_penalty, l2_penalty = lambda_1 * l1_norm, lambda_2 * l2_squared
    objective = data_term + l1_penalty + l2_penalty
    return Result(
        {
            "data_term": data_term,
            "l1_penalty": l1_penalty,
            "l2_penalty": l2_penalty,
            "objective": objective,
        },
        [
            Step("r = y − Xw − b", residual),
            Step("‖r‖²", squared_error),
            Step("‖r‖² / (2n)", data_term),
            Step("‖w‖₁ = Σ |wⱼ|", l1_norm),
            Step("‖w‖₂² = Σ wⱼ²", l2_squared),
            Step("λ₁ = αρ, λ₂ = α(1 − ρ)/2", [lambda_1, lambda_2]),
            Step("λ₁‖w‖₁", l1_penalty),
            Step("λ₂‖w‖₂²", l2_penalty),
            Step("‖r‖²/(2n) + λ₁‖w‖₁ + λ₂‖w‖₂²", objective),
        ],
    )


# --- Distances and the Gaussian kernel ----------------------------------------------------


class PairInputs(Inputs):
    x: Vector = described(en="Vector x", ja="ベクトル x")
    y: Vector = described(en="Vector y (same length as x)", ja="ベクトル y（x と同じ長さ）")

    @model_validator(mode="after")
    def _same_length(self) -> "PairInputs":
        require_same_shape(self, "x", "y")
        return self


class MinkowskiInputs(PairInputs):
    p: AtLeastOne = described(
        2.0,
        en="Order p ≥ 1 (1 Manhattan, 2 Euclidean; large p approaches Chebyshev)",
        ja="次数 p ≥ 1（1 でマンハッタン、2 でユークリッド、大きくするとチェビシェフに近づく）",
    )


PYTHAGOREAN = ((3, 4), (6, 8), (5, 12), (8, 15), (1, 0), (0, 2))


def _sample_minkowski(rng: np.random.Generator) -> dict[str, Any]:
    x = rng.integers(-3, 4, size=2)
    difference = np.array(PYTHAGOREAN[rng.integers(len(PYTHAGOREAN))])
    difference = rng.permutation(difference) * rng.choice([-1, 1], size=2)
    return {"x": x.astype(float).tolist(), "y": (x + difference).astype(float).tolist(), "p": 2.0}


@calculator(
    "minkowski-distance",
    outputs=("minkowski", "euclidean", "manhattan", "chebyshev"),
    sample=_sample_minkowski,
    answer="euclidean",
)
def minkowski_distance(inputs: MinkowskiInputs) -> Result:
    gaps = np.abs(np.asarray(inputs.x) - np.asarray(inputs.y))
    largest = gaps.max()
    # m (Σ (|dᵢ| / m)^p)^(1/p): every ratio is ≤ 1, so no power overflows for any p.
    minkowski = largest * np.sum((gaps / largest) ** inputs.p) ** (1 / inputs.p) if largest else 0.0
    euclidean, manhattan = np.sqrt(np.sum(gaps**2)), gaps.sum()
    with np.errstate(over="ignore"):
        powers = _note_if_infinite(gaps**inputs.p)
    return Result(
        {
            "minkowski": minkowski,
            "euclidean": euclidean,
            "manhattan": manhattan,
            "chebyshev": largest,
        },
        [
            Step("|xᵢ − yᵢ|", gaps),
            Step("|xᵢ − yᵢ|ᵖ", powers),
            Step("(Σ |xᵢ − yᵢ|ᵖ)^(1/p)", minkowski),
            Step("p = 1: Σ |xᵢ − yᵢ| (Manhattan)", manhattan),
            Step("p = 2: √(Σ (xᵢ − yᵢ)²) (Euclidean)", euclidean),
            Step("p → ∞: maxᵢ |xᵢ − yᵢ| (Chebyshev)", largest),
        ],
    )


class MahalanobisInputs(Inputs):
    x: Vector = described(en="Point x", ja="点 x")
    mean: Vector = described(
        en="Mean μ of the distribution (same length as x)", ja="分布の平均 μ（x と同じ長さ）"
    )
    covariance: Matrix = described(
        en="Covariance Σ (d×d, symmetric positive definite)",
        ja="共分散行列 Σ（d×d、対称で正定値）",
    )

    @model_validator(mode="after")
    def _compatible_and_positive_definite(self) -> "MahalanobisInputs":
        require_same_shape(self, "x", "mean")
        covariance = require_symmetric(
            "covariance", np.asarray(self.covariance), "a covariance matrix always is"
        )
        if len(covariance) != len(self.x):
            raise InvalidInput(
                "covariance", f"must be d×d with d = {len(self.x)} (the length of x)"
            )
        smallest = np.linalg.eigvalsh(covariance)[0]
        if smallest <= 0:
            raise InvalidInput(
                "covariance",
                f"must be positive definite (its smallest eigenvalue is {smallest:.6g}), "
                "otherwise Σ⁻¹ does not exist",
            )
        return self


def _sample_mahalanobis(rng: np.random.Generator) -> dict[str, Any]:
    """Diagonal Σ and a gap of whole standard deviations: d² is a sum of squares."""
    variances = rng.choice([0.25, 1.0, 4.0, 9.0], size=2)
    mean = rng.integers(-2, 3, size=2)
    x = mean + rng.integers(-2, 3, size=2) * np.sqrt(variances)
    return {
        "x": x.tolist(),
        "mean": mean.astype(float).tolist(),
        "covariance": np.diag(variances).tolist(),
    }


@calculator(
    "mahalanobis-distance",
    outputs=("distance", "squared_distance"),
    sample=_sample_mahalanobis,
    answer="squared_distance",
)
def mahalanobis_distance(inputs: MahalanobisInputs) -> Result:
    covariance = np.asarray(inputs.covariance)
    covariance = (covariance + covariance.T) / 2
    gap = np.asarray(inputs.x) - np.asarray(inputs.mean)
    with np.errstate(over="ignore", invalid="ignore"):
        whitened = np.linalg.solve(np.linalg.cholesky(covariance), gap)  # L⁻¹(x − μ)
        squared = float(whitened @ whitened)
        solved = np.linalg.solve(covariance, gap)
    if not (math.isfinite(squared) and np.isfinite(solved).all()):
        raise InvalidInput(
            "covariance", "is so close to singular that (x − μ)ᵀΣ⁻¹(x − μ) overflows"
        )
    distance = math.sqrt(squared)
    return Result(
        {"distance": distance, "squared_distance": squared},
        [
            Step("x − μ", gap),
            Step("Σ⁻¹(x − μ)", solved),
            Step("d² = (x − μ)ᵀΣ⁻¹(x − μ)", squared),
            Step("d = √d²", distance),
            Step("Euclidean ‖x − μ‖ (Σ = I), for comparison", np.sqrt(np.sum(gap**2))),
        ],
    )


class GaussianKernelInputs(PairInputs):
    sigma: Real = described(1.0, gt=0, en="Bandwidth σ (> 0)", ja="バンド幅 σ（> 0）")


def _sample_gaussian_kernel(rng: np.random.Generator) -> dict[str, Any]:
    """σ = 1 and ‖x − y‖² ∈ {0, 1, 2, 4}: k is 1, e^(−1/2), e^(−1) or e^(−2)."""
    x = rng.integers(-2, 3, size=2)
    difference = np.array(((0, 0), (1, 0), (0, 1), (1, 1), (1, -1), (2, 0))[rng.integers(6)])
    return {
        "x": x.astype(float).tolist(),
        "y": (x + difference).astype(float).tolist(),
        "sigma": 1.0,
    }


@calculator("gaussian-kernel", outputs=("k",), sample=_sample_gaussian_kernel, answer="k")
def gaussian_kernel(inputs: GaussianKernelInputs) -> Result:
    gap = np.asarray(inputs.x) - np.asarray(inputs.y)
    squared = np.sum(gap**2)
    sigma = np.float64(inputs.sigma)
    with np.errstate(over="ignore", divide="ignore"):
        if squared == 0:
            exponent = np.float64(0.0)
        elif sigma > 1e-150:
            exponent = squared / (2 * sigma**2)
        else:  # σ² would underflow to 0: the same quantity as (‖x − y‖ / σ)² / 2
            exponent = (np.sqrt(squared) / sigma) ** 2 / 2
        gamma = 0.5 / sigma**2
    k = float(np.exp(-exponent))  # exp(−∞) = 0: the kernel underflows, it does not fail
    return Result(
        {"k": k},
        [
            Step("‖x − y‖²", squared),
            Step("2σ²", 2 * inputs.sigma**2),
            Step("‖x − y‖² / (2σ²)", _note_if_infinite(exponent)),
            Step("γ = 1 / (2σ²) (scikit-learn's gamma)", _note_if_infinite(gamma)),
            Step("k = exp(−‖x − y‖² / (2σ²))", k),
        ],
    )


# --- k-means ------------------------------------------------------------------------------

MAX_KMEANS_WORK = 1 << 20
"""n × k × d squared differences at most: a few milliseconds."""

ClusterIndex = Annotated[int, Field(ge=0, le=MAX_ELEMENTS - 1)]
Assignments = Annotated[list[ClusterIndex], Field(min_length=1, max_length=MAX_ELEMENTS)]


class KMeansInputs(Inputs):
    points: Matrix = described(
        en="Points xₙ (N×d), one per line", ja="データ点 xₙ（N×d、1 行に 1 点）"
    )
    centroids: Matrix = described(
        en="Centroids μₖ (K×d), one per line", ja="セントロイド μₖ（K×d、1 行に 1 つ）"
    )
    labels: Assignments | None = described(
        None,
        en="Cluster of each point, 0 … K−1 (optional: empty means the nearest centroid)",
        ja="各点のクラスタ番号 0〜K−1（任意。空欄なら最も近いセントロイド）",
    )

    @model_validator(mode="after")
    def _compatible(self) -> "KMeansInputs":
        (n, d), (k, columns) = np.shape(self.points), np.shape(self.centroids)
        if columns != d:
            raise InvalidInput("centroids", f"must have d = {d} columns like points, got {columns}")
        if n * k * d > MAX_KMEANS_WORK:
            raise InvalidInput(
                "centroids", f"N × K × d must be at most {MAX_KMEANS_WORK}, got {n * k * d}"
            )
        if self.labels is not None:
            if len(self.labels) != n:
                raise InvalidInput(
                    "labels", f"must have one label per point ({n}), got {len(self.labels)}"
                )
            if max(self.labels) >= k:
                raise InvalidInput(
                    "labels",
                    f"cluster numbers run from 0 to K − 1 = {k - 1}, got {max(self.labels)}",
                )
        return self


def _sample_k_means(rng: np.random.Generator) -> dict[str, Any]:
    points = rng.integers(0, 5, size=(4, 2))
    first = rng.integers(0, 5, size=2)
    second = first + rng.choice([-3, -2, 2, 3], size=2)
    return {
        "points": points.astype(float).tolist(),
        "centroids": np.array([first, second], dtype=float).tolist(),
    }


@calculator(
    "k-means",
    outputs=("inertia", "labels", "updated_centroids"),
    sample=_sample_k_means,
    answer="inertia",
)
def k_means(inputs: KMeansInputs) -> Result:
    x, centroids = np.asarray(inputs.points), np.asarray(inputs.centroids)
    squared = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)  # N×K
    labels = np.asarray(inputs.labels) if inputs.labels is not None else squared.argmin(axis=1)
    own = squared[np.arange(len(x)), labels]
    inertia = own.sum()
    sizes = np.bincount(labels, minlength=len(centroids))
    updated = centroids.copy()
    for cluster in np.flatnonzero(sizes):
        updated[cluster] = x[labels == cluster].mean(axis=0)
    steps = []
    if squared.size <= 256:
        steps.append(Step("‖xₙ − μₖ‖² (row n, column k)", squared))
    steps += [
        Step(
            "labels: given" if inputs.labels is not None else "rₙ = argminₖ ‖xₙ − μₖ‖²",
            labels,
        ),
        Step("‖xₙ − μ_rₙ‖²", own),
        Step("J = Σₙ Σₖ rₙₖ ‖xₙ − μₖ‖² (inertia)", inertia),
        Step("Nₖ (points per cluster)", sizes),
        Step(
            "μₖ ← mean of its points (an empty cluster keeps its centroid)"
            if (sizes == 0).any()
            else "μₖ ← mean of its points",
            updated,
        ),
        Step("J with the updated centroids", ((x - updated[labels]) ** 2).sum()),
    ]
    return Result({"inertia": inertia, "labels": labels, "updated_centroids": updated}, steps)


# --- Principal component analysis ---------------------------------------------------------


class PcaInputs(Inputs):
    data: Matrix = described(
        en="Data X (N×d): one example per line, at least 2",
        ja="データ X（N×d、1 行に 1 データ、2 行以上）",
    )

    @model_validator(mode="after")
    def _several_rows(self) -> "PcaInputs":
        if len(self.data) < 2:
            raise InvalidInput("data", "needs at least 2 rows: one point has no variance")
        return self


def _sample_pca(rng: np.random.Generator) -> dict[str, Any]:
    """(±a, 0), (0, ±b): the covariance is diagonal, the first ratio max(a², b²)/(a² + b²)."""
    a, b = rng.integers(1, 4, size=2)
    shift = rng.integers(-2, 3, size=2)
    points = np.array([[a, 0], [-a, 0], [0, b], [0, -b]]) + shift
    return {"data": points.astype(float).tolist()}


@calculator(
    "pca-explained-variance",
    outputs=("explained_variance", "explained_variance_ratio", "cumulative_ratio"),
    sample=_sample_pca,
    answer="explained_variance_ratio[0]",
)
def pca_explained_variance(inputs: PcaInputs) -> Result:
    x = np.asarray(inputs.data)
    n = len(x)
    mean = x.mean(axis=0)
    centred = x - mean
    _, singular_values, axes = np.linalg.svd(centred, full_matrices=False)
    variance = singular_values**2 / (n - 1)
    total = variance.sum()
    if total == 0:
        raise InvalidInput(
            "data", "every row is the same: the total variance is 0, so each ratio is 0/0"
        )
    ratio = variance / total
    axes = axes * first_nonzero_positive(axes.T)[:, None]
    steps = [Step("x̄ (column means)", mean)]
    if x.shape[1] <= SMALL_SQUARE:
        steps.append(Step("S = (1/(N − 1)) Σ (xₙ − x̄)(xₙ − x̄)ᵀ", centred.T @ centred / (n - 1)))
    steps += [
        Step("λᵢ: eigenvalues of S, largest first (variance along each axis)", variance),
        Step("principal axes uᵢ (rows; the sign of each is arbitrary)", axes),
        Step("Σ λ = tr S (total variance)", total),
        Step("λᵢ / Σ λ", ratio),
        Step("cumulative Σ_{j ≤ i} λⱼ / Σ λ", np.cumsum(ratio)),
    ]
    return Result(
        {
            "explained_variance": variance,
            "explained_variance_ratio": ratio,
            "cumulative_ratio": np.cumsum(ratio),
        },
        steps,
    )


# --- Decision-tree impurity ---------------------------------------------------------------

Count = Annotated[int, Field(ge=0, le=10**9)]
CountMatrix = Annotated[
    list[Annotated[list[Count], Field(min_length=1, max_length=MAX_ELEMENTS)]],
    Field(min_length=1, max_length=MAX_ELEMENTS),
    AfterValidator(_within_element_cap),
]


class SplitInputs(Inputs):
    counts: CountMatrix = described(
        en="Class counts: one line per child node, one column per class (one line = one node)",
        ja="クラスごとの件数：1 行が 1 つの子ノード、1 列が 1 クラス（1 行だけなら 1 ノード）",
    )

    @model_validator(mode="after")
    def _no_empty_node(self) -> "SplitInputs":
        for row, total in enumerate(np.asarray(self.counts).sum(axis=1)):
            if total == 0:
                raise InvalidInput(
                    "counts", f"row {row} has no examples: an empty node has no class proportions"
                )
        return self


def _gini(proportions: np.ndarray) -> np.ndarray:
    return 1 - np.sum(proportions**2, axis=-1)


def _entropy(proportions: np.ndarray, log: Any) -> np.ndarray:
    """−Σ p log p, with 0 log 0 = 0."""
    safe = np.where(proportions > 0, proportions, 1.0)
    return 0.0 - np.sum(proportions * log(safe), axis=-1)  # 0.0 − 0.0, not −0.0, when pure


def _split(counts: list[list[int]], impurity: Any, name: str) -> tuple[dict[str, Any], list[Step]]:
    """Impurity of the parent, of each child, their weighted mean, and the decrease."""
    children = np.asarray(counts, dtype=float)
    parent = children.sum(axis=0)
    sizes = children.sum(axis=1)
    weights = sizes / sizes.sum()
    parent_value = float(impurity(parent / parent.sum()))
    child_values = impurity(children / sizes[:, None])
    weighted = float(weights @ child_values)
    # Concavity makes the decrease ≥ 0; rounding alone can push it to −1e-17.
    decrease = max(parent_value - weighted, 0.0)
    steps = [
        Step("parent counts (column sums)", parent),
        Step("p of the parent", parent / parent.sum()),
        Step(f"{name}(parent)", parent_value),
        Step(f"{name}(child j)", child_values),
        Step("Nⱼ / N", weights),
        Step(f"Σⱼ (Nⱼ / N) {name}(child j)", weighted),
    ]
    return {
        "parent": parent_value,
        "children": child_values,
        "weighted": weighted,
        "decrease": decrease,
    }, steps


def _sample_gini(rng: np.random.Generator) -> dict[str, Any]:
    counts = rng.integers(0, 5, size=(2, 2))
    counts[:, 0] += counts.sum(axis=1) == 0  # no empty child
    return {"counts": counts.tolist()}


@calculator(
    "gini-impurity",
    outputs=("gini_parent", "gini_children", "gini_weighted", "gini_decrease"),
    sample=_sample_gini,
    answer="gini_decrease",
)
def gini_impurity(inputs: SplitInputs) -> Result:
    values, steps = _split(inputs.counts, _gini, "G")
    steps.append(Step("ΔG = G(parent) − Σⱼ (Nⱼ / N) G(child j)", values["decrease"]))
    return Result(
        {
            "gini_parent": values["parent"],
            "gini_children": values["children"],
            "gini_weighted": values["weighted"],
            "gini_decrease": values["decrease"],
        },
        steps,
    )


class InformationGainInputs(SplitInputs):
    unit: Literal["bits", "nats"] = described(
        "bits",
        en="Unit: bits (log₂, as scikit-learn's criterion='entropy') or nats (ln)",
        ja="単位：bits（log₂、scikit-learn の criterion='entropy' と同じ）または nats（ln）",
    )


def _sample_information_gain(rng: np.random.Generator) -> dict[str, Any]:
    """Children that are pure or evenly split, so each child entropy is 0 or 1 bit."""
    shapes = ([1, 0], [0, 1], [1, 1])
    counts = [(np.array(shapes[rng.integers(3)]) * rng.integers(1, 4)).tolist() for _ in range(2)]
    return {"counts": counts, "unit": "bits"}


@calculator(
    "information-gain",
    outputs=("entropy_parent", "entropy_children", "entropy_weighted", "information_gain"),
    sample=_sample_information_gain,
    answer="information_gain",
)
def information_gain(inputs: InformationGainInputs) -> Result:
    log = np.log2 if inputs.unit == "bits" else np.log
    values, steps = _split(inputs.counts, lambda p: _entropy(p, log), "H")
    steps.append(Step("IG = H(parent) − Σⱼ (Nⱼ / N) H(child j)", values["decrease"]))
    return Result(
        {
            "entropy_parent": values["parent"],
            "entropy_children": values["children"],
            "entropy_weighted": values["weighted"],
            "information_gain": values["decrease"],
        },
        steps,
    )


# --- Classification and regression metrics -----------------------------------------------

BinaryLabels = Annotated[list[Bit], Field(min_length=2, max_length=MAX_ELEMENTS)]


class RocAucInputs(Inputs):
    y_true: BinaryLabels = described(
        en="True labels, 1 positive and 0 negative (both must occur)",
        ja="正解ラベル（1 が正例、0 が負例。両方を含むこと）",
    )
    scores: Vector = described(
        en="Scores, larger meaning more likely positive (same length)",
        ja="スコア（大きいほど正例らしい。y_true と同じ長さ）",
    )

    @model_validator(mode="after")
    def _both_classes(self) -> "RocAucInputs":
        require_same_shape(self, "y_true", "scores")
        if len(set(self.y_true)) < 2:
            raise InvalidInput(
                "y_true",
                "needs at least one positive (1) and one negative (0): with one class "
                "the true- or false-positive rate is 0/0",
            )
        return self


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1 … n of `values`; tied values share the mean of the ranks they span."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _sample_roc_auc(rng: np.random.Generator) -> dict[str, Any]:
    labels = rng.permutation([1, 0, *rng.integers(0, 2, size=3).tolist()])
    scores = rng.choice([0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9], size=5)
    return {"y_true": labels.tolist(), "scores": scores.tolist()}


@calculator(
    "roc-auc",
    outputs=("auc", "fpr", "tpr", "thresholds"),
    sample=_sample_roc_auc,
    answer="auc",
)
def roc_auc(inputs: RocAucInputs) -> Result:
    labels, scores = np.asarray(inputs.y_true), np.asarray(inputs.scores)
    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    order = np.argsort(-scores, kind="stable")
    ordered, hits = scores[order], labels[order]
    # One ROC point per distinct threshold: tied scores move TP and FP together,
    # a diagonal segment, which is what gives a tie half credit.
    last_of_each = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    true_positives = np.cumsum(hits)[last_of_each]
    false_positives = last_of_each + 1 - true_positives
    tpr = np.r_[0.0, true_positives / positives]
    fpr = np.r_[0.0, false_positives / negatives]
    auc = float(np.trapezoid(tpr, fpr))
    ranks = average_ranks(scores)
    rank_sum = ranks[labels == 1].sum()
    u = rank_sum - positives * (positives + 1) / 2
    return Result(
        {"auc": auc, "fpr": fpr, "tpr": tpr, "thresholds": ordered[last_of_each]},
        [
            Step("n₊, n₋", [positives, negatives]),
            Step("thresholds (distinct scores, high to low)", ordered[last_of_each]),
            Step(
                "TP, FP at each threshold (score ≥ threshold → positive)",
                [true_positives, false_positives],
            ),
            Step("ROC points (FPR, TPR), starting at (0, 0)", np.column_stack([fpr, tpr])),
            Step("AUC = area under the ROC polyline (trapezoids)", auc),
            Step("ranks of the scores (ties share the mean rank)", ranks),
            Step("U = R₊ − n₊(n₊ + 1)/2", u),
            Step("AUC = U / (n₊ n₋) = P(s₊ > s₋) + ½ P(s₊ = s₋)", u / (positives * negatives)),
        ],
    )


class RegressionMetricsInputs(Inputs):
    y_true: Vector = described(
        en="True values y (not all equal)", ja="正解値 y（すべて同じ値ではないこと）"
    )
    y_pred: Vector = described(en="Predictions ŷ (same length)", ja="予測値 ŷ（y_true と同じ長さ）")

    @model_validator(mode="after")
    def _same_length_varying_truth(self) -> "RegressionMetricsInputs":
        require_same_shape(self, "y_true", "y_pred")
        if min(self.y_true) == max(self.y_true):
            raise InvalidInput(
                "y_true",
                "all values are equal, so Σ(y − ȳ)² = 0 and R² = 1 − SS_res / SS_tot is "
                "undefined (scikit-learn reports 1.0 or 0.0 by convention)",
            )
        return self


def _sample_regression_metrics(rng: np.random.Generator) -> dict[str, Any]:
    y_true = rng.integers(0, 6, size=4)
    y_true[0] = y_true[1] + 1  # never constant
    errors = rng.integers(-2, 3, size=4)
    return {
        "y_true": y_true.astype(float).tolist(),
        "y_pred": (y_true + errors).astype(float).tolist(),
    }


@calculator(
    "regression-metrics",
    outputs=("mse", "rmse", "mae", "r2"),
    sample=_sample_regression_metrics,
    answer="mse",
)
def regression_metrics(inputs: RegressionMetricsInputs) -> Result:
    y, predictions = np.asarray(inputs.y_true), np.asarray(inputs.y_pred)
    errors = y - predictions
    mse = np.mean(errors**2)
    mae = np.mean(np.abs(errors))
    ss_res = np.sum(errors**2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    r2 = 1 - ss_res / ss_tot
    return Result(
        {"mse": mse, "rmse": np.sqrt(mse), "mae": mae, "r2": r2},
        [
            Step("eᵢ = yᵢ − ŷᵢ", errors),
            Step("MSE = (1/n) Σ eᵢ²", mse),
            Step("RMSE = √MSE", np.sqrt(mse)),
            Step("MAE = (1/n) Σ |eᵢ|", mae),
            Step("ȳ", y.mean()),
            Step("SS_res = Σ eᵢ²", ss_res),
            Step("SS_tot = Σ (yᵢ − ȳ)²", ss_tot),
            Step("R² = 1 − SS_res / SS_tot", r2),
        ],
    )


def _count(what_en: str, what_ja: str) -> Any:
    return described(ge=0, le=10**12, en=what_en, ja=what_ja)


class ConfusionInputs(Inputs):
    tp: int = _count(
        "True positives TP (positive, predicted positive)", "真陽性 TP（正例を正と予測）"
    )
    fp: int = _count(
        "False positives FP (negative, predicted positive)", "偽陽性 FP（負例を正と予測）"
    )
    fn: int = _count(
        "False negatives FN (positive, predicted negative)", "偽陰性 FN（正例を負と予測）"
    )
    tn: int = _count(
        "True negatives TN (negative, predicted negative)", "真陰性 TN（負例を負と予測）"
    )

    @model_validator(mode="after")
    def _some_examples(self) -> "ConfusionInputs":
        if self.tp + self.fp + self.fn + self.tn == 0:
            raise InvalidInput(
                "(inputs)", "all four counts are 0: with no examples every rate is 0/0"
            )
        return self


def _rate(label: str, numerator: int, denominator: int, why: str) -> tuple[float | None, Step]:
    """numerator / denominator, or None (0/0) with a step that says which examples are missing."""
    if denominator == 0:
        return None, Step(label, f"undefined (0/0): {why}")
    value = numerator / denominator
    return value, Step(label, value)


def _sample_confusion(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "tp": int(rng.integers(1, 10)),
        "fp": int(rng.integers(0, 6)),
        "fn": int(rng.integers(0, 6)),
        "tn": int(rng.integers(0, 10)),
    }


@calculator(
    "confusion-metrics",
    outputs=("accuracy", "precision", "recall", "fpr", "f1"),
    sample=_sample_confusion,
    answer="f1",
)
def confusion_metrics(inputs: ConfusionInputs) -> Result:
    tp, fp, fn, tn = inputs.tp, inputs.fp, inputs.fn, inputs.tn
    accuracy, accuracy_step = _rate(
        "accuracy = (TP + TN) / (TP + FP + FN + TN)", tp + tn, tp + fp + fn + tn, ""
    )
    precision, precision_step = _rate(
        "precision = TP / (TP + FP)", tp, tp + fp, "TP + FP = 0, nothing was predicted positive"
    )
    recall, recall_step = _rate(
        "recall = TPR = TP / (TP + FN)", tp, tp + fn, "TP + FN = 0, there are no positive examples"
    )
    fpr, fpr_step = _rate(
        "FPR = FP / (FP + TN)", fp, fp + tn, "FP + TN = 0, there are no negative examples"
    )
    # 2TP / (2TP + FP + FN) is the harmonic mean of precision and recall wherever both
    # exist, and stays defined (0) when only precision is 0/0, as in scikit-learn.
    f1, f1_step = _rate(
        "F1 = 2 P R / (P + R) = 2TP / (2TP + FP + FN)",
        2 * tp,
        2 * tp + fp + fn,
        "TP + FP + FN = 0, every example is a true negative",
    )
    return Result(
        {"accuracy": accuracy, "precision": precision, "recall": recall, "fpr": fpr, "f1": f1},
        [accuracy_step, precision_step, recall_step, fpr_step, f1_step],
    )
