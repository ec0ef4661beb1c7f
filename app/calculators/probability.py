"""Probability distributions, estimation, and information theory (natural logarithms, nats)."""

import math
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Bit,
    BitMatrix,
    Bits,
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
from app.plots import (
    MAX_BARS,
    BarPlot,
    BarSeries,
    LinePlot,
    Marker,
    Series,
    listed,
    sampled_range,
    short,
    words,
)

SUM_TOLERANCE = 1e-3
"""Probabilities typed by hand are rounded, so a distribution may miss 1 by this much.

Accepted inputs are divided by their sum before use, as scipy.stats.entropy does.
"""
LN2 = math.log(2)


def _sums_to_one(values: Any) -> Any:
    array = np.asarray(values, dtype=float)
    if (array < 0).any():
        index = np.unravel_index(int(np.argmax(array < 0)), array.shape)
        where = "".join(f"[{i}]" for i in index)
        raise ValueError(f"probabilities cannot be negative, but entry {where} is {array[index]}")
    total = float(array.sum())
    if abs(total - 1) > SUM_TOLERANCE + 1e-12:
        raise ValueError(
            f"the probabilities must sum to 1 (within ±{SUM_TOLERANCE}), "
            f"but they sum to {total:.6g}"
        )
    return values


ProbabilityVector = Annotated[Vector, AfterValidator(_sums_to_one)]
ProbabilityTable = Annotated[Matrix, AfterValidator(_sums_to_one)]
Sample = Annotated[list[Real], Field(min_length=2, max_length=MAX_ELEMENTS)]
PositiveProbability = Annotated[float, Field(allow_inf_nan=False, gt=0, le=1)]
PriorShape = Annotated[float, Field(allow_inf_nan=False, ge=1, le=1e6)]
Probabilities = Annotated[list[Probability], Field(min_length=1, max_length=MAX_ELEMENTS)]
Count = Annotated[int, Field(ge=0, le=10**6)]
Trials = Annotated[int, Field(ge=1, le=10**6)]

NICE_PAIRS = (
    ([0.5, 0.5], [0.9, 0.1]),
    ([0.5, 0.5], [0.25, 0.75]),
    ([0.25, 0.75], [0.5, 0.5]),
    ([0.8, 0.2], [0.5, 0.5]),
    ([0.5, 0.25, 0.25], [0.25, 0.25, 0.5]),
    ([0.7, 0.2, 0.1], [0.4, 0.4, 0.2]),
)
NICE_PROBABILITIES = (0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 0.9)


def _normalised(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _p_log_q(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p·ln q element-wise, with the convention 0·ln q = 0 (even where q = 0)."""
    terms = np.zeros_like(p)
    positive = p > 0
    terms[positive] = p[positive] * np.log(q[positive])
    return terms


def _log(values: np.ndarray) -> np.ndarray:
    """ln, with −∞ for 0: callers weight it by a p that is 0 wherever it is −∞."""
    with np.errstate(divide="ignore"):
        return np.log(values)


def _kl_terms(p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """p(ln p − ln q) element-wise, 0 where p = 0.

    Taking ln q from the caller lets it avoid forming q where q would underflow
    (the mixture (p + q)/2, the product P(x)P(y)); p/q itself may overflow.
    """
    terms = np.zeros_like(p)
    positive = p > 0
    terms[positive] = p[positive] * (np.log(p[positive]) - log_q[positive])
    return terms


def _divergence(p: np.ndarray, log_q: np.ndarray) -> float:
    """D_KL(p ‖ q). It is ≥ 0 exactly; rounding can leave a hair below 0 when p ≈ q."""
    return max(float(_kl_terms(p, log_q).sum()), 0.0)


def _entropy_of(p: np.ndarray) -> float:
    return float(-_p_log_q(p, p).sum())


def _require_at_most_trials(name: str, successes: int, trials: int) -> None:
    if successes > trials:
        raise InvalidInput(name, f"cannot exceed the number of trials, {trials}")


def _require_support(p: list[float], q: list[float], q_name: str, why: str) -> None:
    """Refuse q = 0 where p > 0: the log-ratio there is infinite."""
    gaps = np.flatnonzero((np.asarray(p) > 0) & (np.asarray(q) == 0))
    if gaps.size:
        i = int(gaps[0])
        raise InvalidInput(q_name, f"{q_name}[{i}] is 0 where p[{i}] > 0: {why}")


# --- Bernoulli, binomial, categorical ------------------------------------------------------


class BernoulliInputs(Inputs):
    p: Probability = described(
        0.5, en="Success probability p = P(x = 1)", ja="成功確率 p = P(x = 1)"
    )
    x: Bit = described(1, en="Outcome x (1 = success, 0 = failure)", ja="結果 x（成功 1、失敗 0）")


def _sample_bernoulli(rng: np.random.Generator) -> dict[str, Any]:
    return {"p": float(rng.choice(NICE_PROBABILITIES)), "x": int(rng.integers(2))}


@calculator(
    "bernoulli-distribution",
    outputs=("pmf", "mean", "variance"),
    sample=_sample_bernoulli,
    answer="variance",
)
def bernoulli_distribution(inputs: BernoulliInputs) -> Result:
    p, x = inputs.p, inputs.x
    success, failure = p**x, (1 - p) ** (1 - x)
    pmf, variance = success * failure, p * (1 - p)
    return Result(
        {"pmf": pmf, "mean": p, "variance": variance},
        [
            Step("p^x", success),
            Step("(1 − p)^(1 − x)", failure),
            Step("f(x; p) = p^x (1 − p)^(1 − x)", pmf),
            Step("E[x] = p", p),
            Step("Var[x] = p(1 − p)", variance),
        ],
    )


class BinomialInputs(Inputs):
    n: int = described(
        10, ge=0, le=1000, en="Number of trials n (0 to 1000)", ja="試行回数 n（0〜1000）"
    )
    k: int = described(
        3, ge=0, le=1000, en="Number of successes k (0 ≤ k ≤ n)", ja="成功回数 k（0 ≤ k ≤ n）"
    )
    p: Probability = described(
        0.5, en="Success probability p of one trial", ja="1 回の試行の成功確率 p"
    )

    @model_validator(mode="after")
    def _at_most_n_successes(self) -> "BinomialInputs":
        _require_at_most_trials("k", self.k, self.n)
        return self


def _sample_binomial(rng: np.random.Generator) -> dict[str, Any]:
    n = int(rng.integers(2, 6))
    return {"n": n, "k": int(rng.integers(0, n + 1)), "p": float(rng.choice([0.1, 0.2, 0.5]))}


@calculator(
    "binomial-distribution",
    outputs=("pmf", "mean", "variance"),
    sample=_sample_binomial,
    answer="pmf",
)
def binomial_distribution(inputs: BinomialInputs) -> Result:
    n, k, p = inputs.n, inputs.k, inputs.p
    ways = math.comb(n, k)
    if (p == 0 and k > 0) or (p == 1 and k < n):
        pmf = 0.0
    else:
        # In logarithms: C(n, k) alone reaches 1e299 while p^k may underflow to 0.
        log_pmf = math.log(ways)
        if k:
            log_pmf += k * math.log(p)
        if n - k:
            log_pmf += (n - k) * math.log1p(-p)
        pmf = math.exp(log_pmf)
    return Result(
        {"pmf": pmf, "mean": n * p, "variance": n * p * (1 - p)},
        [
            Step("C(n, k) = n! / (k! (n − k)!)", float(ways)),
            Step("p^k", p**k),
            Step("(1 − p)^(n − k)", (1 - p) ** (n - k)),
            Step("P(k) = C(n, k) p^k (1 − p)^(n − k)", pmf),
            Step("E[k] = np", n * p),
            Step("Var[k] = np(1 − p)", n * p * (1 - p)),
        ],
    )


class CategoricalInputs(Inputs):
    p: ProbabilityVector = described(
        en="Class probabilities p₁…p_K (summing to 1)", ja="各クラスの確率 p₁…p_K（和は 1）"
    )
    x: BitMatrix = described(
        en="Observations, one one-hot row of length K per observation (N×K)",
        ja="観測データ（1 行が 1 回の観測の one-hot 表現、N×K）",
    )

    @model_validator(mode="after")
    def _one_hot_rows_of_width_k(self) -> "CategoricalInputs":
        width = len(self.p)
        if len(self.x[0]) != width:
            raise InvalidInput(
                "x", f"each row needs one entry per class: K = {width}, got {len(self.x[0])}"
            )
        for row, ones in enumerate(np.asarray(self.x).sum(axis=1)):
            if ones != 1:
                raise InvalidInput("x", f"row {row} must be one-hot (exactly one 1)")
        return self


def _sample_categorical(rng: np.random.Generator) -> dict[str, Any]:
    p = rng.permutation([0.5, 0.3, 0.2]).tolist()
    classes = rng.integers(0, 3, size=int(rng.integers(2, 4)))
    return {"p": p, "x": np.eye(3, dtype=int)[classes].tolist()}


@calculator(
    "categorical-distribution",
    outputs=("nll", "mean_nll", "counts"),
    sample=_sample_categorical,
    answer="nll",
)
def categorical_distribution(inputs: CategoricalInputs) -> Result:
    p = _normalised(inputs.p)
    counts = np.asarray(inputs.x).sum(axis=0)
    impossible = np.flatnonzero((counts > 0) & (p == 0))
    if impossible.size:
        k = int(impossible[0])
        raise InvalidInput(
            "p", f"p[{k}] is 0 but class {k} is observed: log 0 = −∞, so the likelihood is 0"
        )
    terms = _p_log_q(counts.astype(float), p)
    nll = float(-terms.sum())
    return Result(
        {"nll": nll, "mean_nll": nll / len(inputs.x), "counts": counts},
        [
            Step("n_k = Σ_i x_ik", counts),
            Step("n_k log p_k", terms),
            Step("−log L = −Σ_i Σ_k x_ik log p_k = −Σ_k n_k log p_k", nll),
            Step("−(1/N) log L", nll / len(inputs.x)),
        ],
    )


# --- Gaussian ------------------------------------------------------------------------------

MEAN = {"en": "Mean μ", "ja": "平均 μ"}
STD = {"en": "Standard deviation σ (> 0)", "ja": "標準偏差 σ（> 0）"}
HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def _standardised(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(x − μ)/σ, refusing a σ so small that it or its square overflows."""
    with np.errstate(over="ignore"):
        z = (x - mean) / std
        squares = z * z
    if not np.isfinite(squares).all():
        raise InvalidInput("std", "is too small for these values: ((x − μ)/σ)² overflows")
    return z


class NormalPdfInputs(Inputs):
    x: Real = described(en="Point x", ja="点 x")
    mean: Real = described(0.0, **MEAN)
    std: Real = described(1.0, gt=0, **STD)


def _sample_normal_pdf(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": float(rng.integers(-2, 3)), "mean": 0.0, "std": float(rng.choice([1, 2]))}


def _normal_plot(inputs: NormalPdfInputs, result: Result) -> LinePlot:
    """The bell curve over μ ± 4σ (wider if x lies further out), with x marked on it."""
    mean, std = inputs.mean, inputs.std
    x = mean + std * sampled_range([(inputs.x - mean) / std])
    density = np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
    at_x = result.outputs["density"]
    return LinePlot(
        title=words("Normal density", "正規分布の確率密度"),
        summary=words(
            f"N(x; μ = {short(mean)}, σ = {short(std)}) at x = {short(inputs.x)} is {short(at_x)}",
            f"x = {short(inputs.x)} での N(x; μ = {short(mean)}, σ = {short(std)}) "
            f"は {short(at_x)}",
        ),
        series=[Series(f"N(x; {short(mean)}, {short(std)}²)", x, density)],
        markers=[Marker(inputs.x, at_x, f"({short(inputs.x)}, {short(at_x)})")],
        x_label="x",
        y_label=words("density", "確率密度"),
    )


@calculator(
    "normal-pdf",
    outputs=("density", "log_density"),
    sample=_sample_normal_pdf,
    answer="density",
    plot=_normal_plot,
)
def normal_pdf(inputs: NormalPdfInputs) -> Result:
    z = float(_standardised(np.asarray(inputs.x), inputs.mean, inputs.std))
    log_density = -0.5 * z * z - math.log(inputs.std) - HALF_LOG_TWO_PI
    if log_density > 700:
        raise InvalidInput("std", "is so small that the density overflows double precision")
    density = math.exp(-0.5 * z * z) / (inputs.std * math.sqrt(2 * math.pi))
    return Result(
        {"density": density, "log_density": log_density},
        [
            Step("z = (x − μ) / σ", z),
            Step("exp(−z² / 2)", math.exp(-0.5 * z * z)),
            Step("σ √(2π)", inputs.std * math.sqrt(2 * math.pi)),
            Step("N(x; μ, σ²) = exp(−z² / 2) / (σ √(2π))", density),
            Step("log N = −z² / 2 − log σ − log √(2π)", log_density),
        ],
    )


class GaussianNllInputs(Inputs):
    x: Vector = described(en="Observations x₁…x_n", ja="観測データ x₁…x_n")
    mean: Real = described(0.0, **MEAN)
    std: Real = described(1.0, gt=0, **STD)


def _small_integers(rng: np.random.Generator, size: int, low: int = 0, high: int = 5) -> list:
    return rng.integers(low, high, size=size).astype(float).tolist()


def _sample_gaussian_nll(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": _small_integers(rng, 3), "mean": float(rng.integers(1, 4)), "std": 1.0}


@calculator("gaussian-nll", outputs=("nll", "mean_nll"), sample=_sample_gaussian_nll, answer="nll")
def gaussian_nll(inputs: GaussianNllInputs) -> Result:
    x = np.asarray(inputs.x)
    n = len(x)
    z = _standardised(x, inputs.mean, inputs.std)
    squares = float((z * z).sum())
    # log(2πσ²) written as 2 log σ + log 2π: σ² itself may underflow to 0.
    normaliser = n * (math.log(inputs.std) + HALF_LOG_TWO_PI)
    nll = normaliser + 0.5 * squares
    return Result(
        {"nll": nll, "mean_nll": nll / n},
        [
            Step("x_i − μ", x - inputs.mean),
            Step("Σ (x_i − μ)² / σ²", squares),
            Step("(n/2) log(2πσ²)", normaliser),
            Step("−log L = (n/2) log(2πσ²) + Σ (x_i − μ)² / (2σ²)", nll),
            Step("−(1/n) log L", nll / n),
        ],
    )


class GaussianMleInputs(Inputs):
    x: Sample = described(en="Observations x₁…x_n (at least 2)", ja="観測データ x₁…x_n（2 個以上）")


def _sample_gaussian_mle(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": _small_integers(rng, 4, 0, 7)}


@calculator(
    "gaussian-mle",
    outputs=("mean", "variance_mle", "variance_unbiased"),
    sample=_sample_gaussian_mle,
    answer="variance_mle",
)
def gaussian_mle(inputs: GaussianMleInputs) -> Result:
    x = np.asarray(inputs.x)
    n = len(x)
    mean = float(x.mean())
    deviations = x - mean
    squares = float((deviations**2).sum())
    return Result(
        {"mean": mean, "variance_mle": squares / n, "variance_unbiased": squares / (n - 1)},
        [
            Step("μ̂ = (1/n) Σ x_i", mean),
            Step("x_i − μ̂", deviations),
            Step("Σ (x_i − μ̂)²", squares),
            Step("σ̂²_ML = (1/n) Σ (x_i − μ̂)²", squares / n),
            Step("s² = (1/(n − 1)) Σ (x_i − μ̂)²", squares / (n - 1)),
        ],
    )


# --- Bayes, MAP, expectation ---------------------------------------------------------------


class BayesInputs(Inputs):
    prior: ProbabilityVector = described(
        en="Prior P(C_k) of each class (summing to 1)", ja="各クラスの事前確率 P(C_k)（和は 1）"
    )
    likelihood: Probabilities = described(
        en="Likelihood P(x | C_k) of the observation under each class, each in [0, 1]",
        ja="各クラスのもとで観測 x が起こる確率（尤度）P(x | C_k)、各 0〜1",
    )

    @model_validator(mode="after")
    def _one_likelihood_per_class(self) -> "BayesInputs":
        require_same_shape(self, "prior", "likelihood")
        return self


def _sample_bayes(rng: np.random.Generator) -> dict[str, Any]:
    prior = float(rng.choice([0.01, 0.1, 0.2, 0.5]))
    likelihood = [float(rng.choice([0.8, 0.9, 0.99])), float(rng.choice([0.05, 0.1, 0.2]))]
    return {"prior": [prior, round(1 - prior, 2)], "likelihood": likelihood}


@calculator(
    "bayes-theorem",
    outputs=("posterior", "evidence"),
    sample=_sample_bayes,
    answer="posterior[0]",
)
def bayes_theorem(inputs: BayesInputs) -> Result:
    joint = np.asarray(inputs.likelihood) * _normalised(inputs.prior)
    evidence = float(joint.sum())
    if evidence == 0:
        raise InvalidInput(
            "likelihood",
            "P(x) = Σ P(x | C_k) P(C_k) is 0: the observation is impossible under every class "
            "with a non-zero prior, so the posterior is 0/0",
        )
    posterior = joint / evidence
    return Result(
        {"posterior": posterior, "evidence": evidence},
        [
            Step("P(x | C_k) P(C_k)", joint),
            Step("P(x) = Σ_k P(x | C_k) P(C_k)", evidence),
            Step("P(C_k | x) = P(x | C_k) P(C_k) / P(x)", posterior),
        ],
    )


class MapInputs(Inputs):
    successes: Count = described(
        7, en="Number of successes k (x = 1) observed", ja="観測された成功（x = 1）の回数 k"
    )
    trials: Trials = described(
        10, en="Number of trials n (≥ 1, ≥ k)", ja="試行回数 n（1 以上、k 以上）"
    )
    alpha: PriorShape = described(
        2.0,
        en="Prior Beta(a, b): a ≥ 1 (a − 1 acts as prior successes)",
        ja="事前分布 Beta(a, b) の a（≥ 1。a − 1 が事前の成功回数に当たる）",
    )
    beta: PriorShape = described(
        2.0,
        en="Prior Beta(a, b): b ≥ 1 (b − 1 acts as prior failures)",
        ja="事前分布 Beta(a, b) の b（≥ 1。b − 1 が事前の失敗回数に当たる）",
    )

    @model_validator(mode="after")
    def _at_most_n_successes(self) -> "MapInputs":
        _require_at_most_trials("successes", self.successes, self.trials)
        return self


def _sample_map(rng: np.random.Generator) -> dict[str, Any]:
    trials = int(rng.integers(2, 11))
    return {
        "successes": int(rng.integers(0, trials + 1)),
        "trials": trials,
        "alpha": float(rng.integers(1, 4)),
        "beta": float(rng.integers(1, 4)),
    }


@calculator(
    "map-estimation",
    outputs=("map", "mle", "posterior_mean"),
    sample=_sample_map,
    answer="map",
)
def map_estimation(inputs: MapInputs) -> Result:
    k, n = inputs.successes, inputs.trials
    a_post, b_post = k + inputs.alpha, n - k + inputs.beta
    # a, b ≥ 1 and n ≥ 1 keep the denominator ≥ 1 and the posterior mode inside [0, 1].
    map_value = (a_post - 1) / (a_post + b_post - 2)
    posterior_mean = a_post / (a_post + b_post)
    return Result(
        {"map": map_value, "mle": k / n, "posterior_mean": posterior_mean},
        [
            Step("a′ = k + a", a_post),
            Step("b′ = n − k + b", b_post),
            Step("θ_ML = k / n", k / n),
            Step("θ_MAP = (k + a − 1) / (n + a + b − 2)", map_value),
            Step("E[θ | D] = (k + a) / (n + a + b)", posterior_mean),
        ],
    )


class ExpectationInputs(Inputs):
    values: Vector = described(en="Values x_k the variable can take", ja="確率変数がとる値 x_k")
    probabilities: ProbabilityVector = described(
        en="Probability P(x_k) of each value (summing to 1)", ja="各値の確率 P(x_k)（和は 1）"
    )

    @model_validator(mode="after")
    def _one_probability_per_value(self) -> "ExpectationInputs":
        require_same_shape(self, "values", "probabilities")
        return self


def _sample_expectation(rng: np.random.Generator) -> dict[str, Any]:
    probabilities = rng.permutation([0.2, 0.3, 0.5]).tolist()
    return {"values": _small_integers(rng, 3, 0, 6), "probabilities": probabilities}


@calculator(
    "expectation-variance",
    outputs=("mean", "variance", "second_moment"),
    sample=_sample_expectation,
    answer="variance",
)
def expectation_variance(inputs: ExpectationInputs) -> Result:
    x, p = np.asarray(inputs.values), _normalised(inputs.probabilities)
    mean = float((x * p).sum())
    second_moment = float((x * x * p).sum())
    # The centred sum, not E[x²] − E[x]², which cancels badly when |E[x]| ≫ σ.
    variance = float(((x - mean) ** 2 * p).sum())
    return Result(
        {"mean": mean, "variance": variance, "second_moment": second_moment},
        [
            Step("x_k P(x_k)", x * p),
            Step("E[x] = Σ x_k P(x_k)", mean),
            Step("E[x²] = Σ x_k² P(x_k)", second_moment),
            Step("E[x²] − E[x]²", second_moment - mean**2),
            Step("Var[x] = Σ (x_k − E[x])² P(x_k)", variance),
        ],
    )


# --- Information theory --------------------------------------------------------------------


class SelfInformationInputs(Inputs):
    p: PositiveProbability = described(
        0.5,
        en="Probability P(x) of the event (0 < P ≤ 1)",
        ja="事象の確率 P(x)（0 < P ≤ 1）",
    )


def _sample_self_information(rng: np.random.Generator) -> dict[str, Any]:
    return {"p": float(rng.choice([1.0, 0.5, 0.25, 0.125, 0.0625]))}


@calculator(
    "self-information",
    outputs=("nats", "bits"),
    sample=_sample_self_information,
    answer="bits",
)
def self_information(inputs: SelfInformationInputs) -> Result:
    nats = -math.log(inputs.p)
    return Result(
        {"nats": nats, "bits": nats / LN2},
        [Step("I(x) = −ln P(x)", nats), Step("I(x) / ln 2 = −log₂ P(x)", nats / LN2)],
    )


class EntropyInputs(Inputs):
    p: ProbabilityVector = described(
        en="Distribution p₁…p_K (summing to 1)", ja="確率分布 p₁…p_K（和は 1）"
    )


NICE_DISTRIBUTIONS = ([0.5, 0.5], [0.5, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], [0.9, 0.1])


def _sample_entropy(rng: np.random.Generator) -> dict[str, Any]:
    return {"p": list(NICE_DISTRIBUTIONS[rng.integers(len(NICE_DISTRIBUTIONS))])}


def distribution_bars(named: dict[str, np.ndarray], summary: str) -> BarPlot:
    """Bars of one or more distributions over the same outcomes, side by side."""
    length = len(next(iter(named.values())))
    return BarPlot(
        title=words("The distributions, outcome by outcome", "分布（結果ごと）"),
        summary=summary,
        categories=[str(i) for i in range(min(length, MAX_BARS))],
        series=[
            BarSeries(name, values[:MAX_BARS].tolist(), style)
            for (name, values), style in zip(named.items(), ("first", "second"), strict=False)
        ],
        x_label=words("outcome i", "結果 i"),
        y_label=words("probability", "確率"),
        top=1.0,
    )


def _entropy_plot(inputs: EntropyInputs, result: Result) -> BarPlot:
    p = _normalised(inputs.p)
    return distribution_bars(
        {"p": p}, f"p = {listed(p)}; H(p) = {short(result.outputs['entropy'])} nats"
    )


@calculator(
    "entropy",
    outputs=("entropy",),
    sample=_sample_entropy,
    answer="entropy",
    plot=_entropy_plot,
)
def entropy(inputs: EntropyInputs) -> Result:
    p = _normalised(inputs.p)
    terms = -_p_log_q(p, p)
    value = float(terms.sum())
    return Result(
        {"entropy": value},
        [
            Step("p / Σ p", p),
            Step("−p_i ln p_i", terms),
            Step("H(p) = −Σ p_i ln p_i", value),
            Step("H(p) / ln 2 (bits)", value / LN2),
        ],
    )


P_DISTRIBUTION = {"en": "Distribution p (summing to 1)", "ja": "確率分布 p（和は 1）"}
Q_DISTRIBUTION = {
    "en": "Distribution q, same length as p (summing to 1)",
    "ja": "確率分布 q（p と同じ長さ、和は 1）",
}


class DistributionPairInputs(Inputs):
    p: ProbabilityVector = described(**P_DISTRIBUTION)
    q: ProbabilityVector = described(**Q_DISTRIBUTION)

    @model_validator(mode="after")
    def _same_outcomes(self) -> "DistributionPairInputs":
        require_same_shape(self, "p", "q")
        return self


class CoveredPairInputs(DistributionPairInputs):
    """A pair where ln q is taken wherever p > 0, so q must be positive there."""

    @model_validator(mode="after")
    def _q_covers_p(self) -> "CoveredPairInputs":
        _require_support(self.p, self.q, "q", "ln q = −∞ there, so the result is infinite")
        return self


def _sample_pair(rng: np.random.Generator) -> dict[str, Any]:
    p, q = NICE_PAIRS[rng.integers(len(NICE_PAIRS))]
    return {"p": list(p), "q": list(q)}


def _pair_plot(inputs: DistributionPairInputs, result: Result) -> BarPlot:
    p, q = _normalised(inputs.p), _normalised(inputs.q)
    outcome = "; ".join(f"{name} = {short(value)}" for name, value in result.outputs.items())
    return distribution_bars({"p": p, "q": q}, f"p = {listed(p)}, q = {listed(q)}; {outcome}")


@calculator(
    "cross-entropy-distributions",
    outputs=("cross_entropy", "entropy", "kl"),
    sample=_sample_pair,
    answer="cross_entropy",
    plot=_pair_plot,
)
def cross_entropy_distributions(inputs: CoveredPairInputs) -> Result:
    p, q = _normalised(inputs.p), _normalised(inputs.q)
    terms = -_p_log_q(p, q)
    cross = float(terms.sum())
    own = _entropy_of(p)
    kl = _divergence(p, _log(q))
    return Result(
        {"cross_entropy": cross, "entropy": own, "kl": kl},
        [
            Step("−p_i ln q_i", terms),
            Step("H(p, q) = −Σ p_i ln q_i", cross),
            Step("H(p) = −Σ p_i ln p_i", own),
            Step("D_KL(p ‖ q) = H(p, q) − H(p)", kl),
        ],
    )


@calculator("kl-divergence", outputs=("kl",), sample=_sample_pair, answer="kl", plot=_pair_plot)
def kl_divergence(inputs: CoveredPairInputs) -> Result:
    p, q = _normalised(inputs.p), _normalised(inputs.q)
    terms = _kl_terms(p, _log(q))
    kl = max(float(terms.sum()), 0.0)
    return Result(
        {"kl": kl},
        [
            Step("p_i ln(p_i / q_i)", terms),
            Step("D_KL(p ‖ q) = Σ p_i ln(p_i / q_i)", kl),
        ],
    )


@calculator("js-divergence", outputs=("js",), sample=_sample_pair, answer="js", plot=_pair_plot)
def js_divergence(inputs: DistributionPairInputs) -> Result:
    p, q = _normalised(inputs.p), _normalised(inputs.q)
    m = (p + q) / 2
    log_m = _log(p + q) - LN2  # not ln m: m underflows to 0 where p + q is subnormal
    kl_pm, kl_qm = _divergence(p, log_m), _divergence(q, log_m)
    js = (kl_pm + kl_qm) / 2
    return Result(
        {"js": js},
        [
            Step("m = (p + q) / 2", m),
            Step("D_KL(p ‖ m)", kl_pm),
            Step("D_KL(q ‖ m)", kl_qm),
            Step("D_JS = ½ D_KL(p ‖ m) + ½ D_KL(q ‖ m)", js),
        ],
    )


class BinaryCrossEntropyInputs(Inputs):
    y: Probabilities = described(
        en="Predicted probabilities y = P(t = 1), each in [0, 1]",
        ja="予測確率 y = P(t = 1)（各 0〜1）",
    )
    t: Bits = described(en="Targets t (0 or 1), one per prediction", ja="正解ラベル t（0 か 1）")

    @model_validator(mode="after")
    def _probabilities_and_targets(self) -> "BinaryCrossEntropyInputs":
        require_same_shape(self, "y", "t")
        return self


def _sample_binary_cross_entropy(rng: np.random.Generator) -> dict[str, Any]:
    y = [float(rng.choice(NICE_PROBABILITIES)) for _ in range(2)]
    return {"y": y, "t": rng.integers(0, 2, size=2).tolist()}


@calculator(
    "binary-cross-entropy",
    outputs=("loss",),
    sample=_sample_binary_cross_entropy,
    answer="loss",
)
def binary_cross_entropy(inputs: BinaryCrossEntropyInputs) -> Result:
    y, t = np.asarray(inputs.y), np.asarray(inputs.t)
    # The probability given to the observed class: y where t = 1, 1 − y where t = 0.
    hopeless = np.flatnonzero(np.where(t == 1, y == 0, y == 1))
    if hopeless.size:
        i = int(hopeless[0])
        raise InvalidInput(
            "y",
            f"y[{i}] = {y[i]:g} gives the target t[{i}] = {t[i]} probability 0: log 0 = −∞, "
            "so the loss is infinite (PyTorch would clamp the log at −100 instead)",
        )
    with np.errstate(divide="ignore"):  # log 0 arises only in the branch not selected
        log_correct = np.where(t == 1, np.log(y), np.log1p(-y))
    losses = -log_correct
    loss = float(losses.mean())
    return Result(
        {"loss": loss},
        [
            Step("−[t ln y + (1 − t) ln(1 − y)]", losses),
            Step("L = −(1/N) Σ [t ln y + (1 − t) ln(1 − y)]", loss),
        ],
    )


class MutualInformationInputs(Inputs):
    joint: ProbabilityTable = described(
        en="Joint distribution P(x, y): rows are values of x, columns values of y (summing to 1)",
        ja="同時分布 P(x, y)（行が x の値、列が y の値。全体の和は 1）",
    )


NICE_TABLES = (
    [[0.4, 0.1], [0.1, 0.4]],
    [[0.25, 0.25], [0.25, 0.25]],
    [[0.5, 0.0], [0.0, 0.5]],
    [[0.3, 0.2], [0.1, 0.4]],
)


def _sample_mutual_information(rng: np.random.Generator) -> dict[str, Any]:
    return {"joint": [list(row) for row in NICE_TABLES[rng.integers(len(NICE_TABLES))]]}


@calculator(
    "mutual-information",
    outputs=("mutual_information", "entropy_x", "entropy_y", "joint_entropy"),
    sample=_sample_mutual_information,
    answer="mutual_information",
)
def mutual_information(inputs: MutualInformationInputs) -> Result:
    joint = _normalised(inputs.joint)
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    independent = np.outer(px, py)
    # ln P(x) + ln P(y), not ln(P(x) P(y)): the product may underflow where P(x, y) > 0.
    information = _divergence(joint, _log(px)[:, None] + _log(py)[None, :])
    hx, hy, hxy = _entropy_of(px), _entropy_of(py), _entropy_of(joint)
    return Result(
        {"mutual_information": information, "entropy_x": hx, "entropy_y": hy, "joint_entropy": hxy},
        [
            Step("P(x) = Σ_y P(x, y)", px),
            Step("P(y) = Σ_x P(x, y)", py),
            Step("P(x) P(y)", independent),
            Step("H(X)", hx),
            Step("H(Y)", hy),
            Step("H(X, Y)", hxy),
            Step("I(X; Y) = Σ P(x, y) ln(P(x, y) / (P(x) P(y)))", information),
            Step("H(X) + H(Y) − H(X, Y)", hx + hy - hxy),
        ],
    )


# --- Monte Carlo ---------------------------------------------------------------------------


class MonteCarloInputs(Inputs):
    f_values: Sample = described(
        en="Values f(x_i) at n ≥ 2 points x_i drawn uniformly from [a, b]",
        ja="[a, b] から一様に抽出した n 個（2 個以上）の点での値 f(x_i)",
    )
    lower: Real = described(0.0, en="Lower limit a", ja="積分区間の下端 a")
    upper: Real = described(1.0, en="Upper limit b (> a)", ja="積分区間の上端 b（> a）")

    @model_validator(mode="after")
    def _ordered_interval(self) -> "MonteCarloInputs":
        if self.upper <= self.lower:
            raise InvalidInput("upper", f"must be greater than the lower limit {self.lower}")
        return self


def _sample_monte_carlo(rng: np.random.Generator) -> dict[str, Any]:
    return {"f_values": _small_integers(rng, 4, 0, 5), "lower": 0.0, "upper": 2.0}


@calculator(
    "monte-carlo-integration",
    outputs=("estimate", "sample_mean", "standard_error"),
    sample=_sample_monte_carlo,
    answer="estimate",
)
def monte_carlo_integration(inputs: MonteCarloInputs) -> Result:
    f = np.asarray(inputs.f_values)
    n, width = len(f), inputs.upper - inputs.lower
    mean = float(f.mean())
    spread = float(np.sqrt(((f - mean) ** 2).sum() / (n - 1)))
    estimate, standard_error = width * mean, width * spread / math.sqrt(n)
    return Result(
        {"estimate": estimate, "sample_mean": mean, "standard_error": standard_error},
        [
            Step("f̄ = (1/n) Σ f(x_i)", mean),
            Step("b − a = 1 / p(x)", width),
            Step("Î = (b − a) f̄", estimate),
            Step("s = √(Σ (f(x_i) − f̄)² / (n − 1))", spread),
            Step("SE = (b − a) s / √n", standard_error),
        ],
    )
