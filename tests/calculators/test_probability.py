"""Distributions, estimators and information measures against SciPy, PyTorch and scikit-learn.

Where no library computes the quantity (Bayes' theorem, the Beta–Bernoulli MAP estimate,
Monte Carlo integration), the test writes the definition out independently, in exact
rational arithmetic where that is possible.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import mutual_info_score

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

unit = st.floats(0, 1)
moderate = st.floats(-1e3, 1e3)


@st.composite
def distributions(draw: st.DrawFn, size: int | None = None, low: float = 0.0) -> list[float]:
    """A probability vector (summing to 1 up to rounding) with entries ≥ `low` before scaling."""
    k = size or draw(st.integers(1, 12))
    weights = draw(st.lists(st.floats(low, 1, allow_subnormal=False), min_size=k, max_size=k))
    assume(sum(weights) > 1e-3)
    return (np.asarray(weights) / sum(weights)).tolist()


@st.composite
def distribution_pairs(draw: st.DrawFn, q_low: float = 0.0) -> tuple[list[float], list[float]]:
    k = draw(st.integers(1, 12))
    return draw(distributions(k)), draw(distributions(k, low=q_low))


def refusal(calculator_id: str, **inputs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    return caught.value


# --- shared input rules --------------------------------------------------------------------


def test_probabilities_off_by_more_than_the_tolerance_are_refused_with_the_tolerance_named() -> (
    None
):
    error = refusal("entropy", p=[0.5, 0.6])
    assert error.field == "p"
    assert "sum to 1 (within ±0.001)" in error.reason
    assert "1.1" in error.reason


def test_rounded_probabilities_within_the_tolerance_are_normalised_like_scipy() -> None:
    p = [0.333, 0.333, 0.333]
    assert_close(compute("entropy", p=p)["entropy"], scipy.stats.entropy(p))
    assert_close(compute("entropy", p=p)["entropy"], math.log(3))


def test_negative_probabilities_are_refused() -> None:
    error = refusal("kl-divergence", p=[0.5, 0.5], q=[1.2, -0.2])
    assert error.field == "q"
    assert "negative" in error.reason


def test_distributions_over_different_outcomes_are_refused() -> None:
    for calculator_id in ("kl-divergence", "js-divergence", "cross-entropy-distributions"):
        assert refusal(calculator_id, p=[0.5, 0.5], q=[0.2, 0.3, 0.5]).field == "q"


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field"),
    [
        ("bernoulli-distribution", {"p": 1.5, "x": 1}, "p"),
        ("bernoulli-distribution", {"p": -0.1, "x": 0}, "p"),
        ("binomial-distribution", {"n": 3, "k": 1, "p": 1.01}, "p"),
        ("self-information", {"p": 2.0}, "p"),
        ("map-estimation", {"successes": 1, "trials": 3, "alpha": 2e6}, "alpha"),
    ],
)
def test_a_single_probability_or_prior_out_of_range_is_refused(calculator_id, inputs, field):
    assert refusal(calculator_id, **inputs).field == field


# --- Bernoulli, binomial, categorical ------------------------------------------------------


@given(unit, st.integers(0, 1))
def test_bernoulli_matches_scipy(p: float, x: int) -> None:
    outputs = compute("bernoulli-distribution", p=p, x=x)
    distribution = scipy.stats.bernoulli(p)
    assert_close(outputs["pmf"], distribution.pmf(x))
    assert_close(outputs["mean"], distribution.mean())
    assert_close(outputs["variance"], distribution.var())


def test_bernoulli_variance_peaks_at_one_half() -> None:
    assert compute("bernoulli-distribution", p=0.5, x=1)["variance"] == 0.25
    assert compute("bernoulli-distribution", p=0.3, x=0)["pmf"] == pytest.approx(0.7)


@given(st.integers(0, 1000), st.data(), st.just(0.0) | st.floats(1e-12, 1))
def test_binomial_matches_scipy(n: int, data: st.DataObject, p: float) -> None:
    k = data.draw(st.integers(0, n))
    outputs = compute("binomial-distribution", n=n, k=k, p=p)
    assert_close(outputs["pmf"], scipy.stats.binom.pmf(k, n, p))
    mean, variance = scipy.stats.binom.stats(n, p, moments="mv")
    assert_close([outputs["mean"], outputs["variance"]], [mean, variance])


@pytest.mark.parametrize(
    ("n", "k", "p", "pmf"),
    [
        (3, 2, 0.5, 3 / 8),
        (4, 0, 0.0, 1.0),
        (4, 1, 0.0, 0.0),
        (4, 4, 1.0, 1.0),
        (4, 3, 1.0, 0.0),
        (0, 0, 0.3, 1.0),
    ],
)
def test_binomial_known_values_and_certain_outcomes(n: int, k: int, p: float, pmf: float) -> None:
    assert_close(compute("binomial-distribution", n=n, k=k, p=p)["pmf"], pmf)


def test_binomial_stays_accurate_where_p_to_the_k_underflows() -> None:
    # 0.2^500 underflows to 0, yet the probability (~1e-93) is representable.
    pmf = compute("binomial-distribution", n=1000, k=500, p=0.2)["pmf"]
    assert pmf > 0
    assert_close(pmf, scipy.stats.binom.pmf(500, 1000, 0.2))


def test_binomial_refuses_more_successes_than_trials() -> None:
    error = refusal("binomial-distribution", n=3, k=4, p=0.5)
    assert error.field == "k"
    assert "cannot exceed" in error.reason


@st.composite
def categorical_cases(draw: st.DrawFn) -> tuple[list[float], list[list[int]]]:
    p = draw(distributions(low=1e-3))
    classes = draw(st.lists(st.integers(0, len(p) - 1), min_size=1, max_size=20))
    return p, np.eye(len(p), dtype=int)[classes].tolist()


@given(categorical_cases())
def test_categorical_nll_matches_torch_categorical_log_prob(case) -> None:
    p, x = case
    outputs = compute("categorical-distribution", p=p, x=x)
    classes = torch.tensor(np.argmax(x, axis=1))
    expected = -torch.distributions.Categorical(probs=tensor(p)).log_prob(classes).sum()
    assert_close(outputs["nll"], expected)
    assert_close(outputs["mean_nll"], expected / len(x))
    assert outputs["counts"] == np.sum(x, axis=0).tolist()


def test_categorical_nll_of_a_worked_case() -> None:
    outputs = compute("categorical-distribution", p=[0.5, 0.3, 0.2], x=[[1, 0, 0], [0, 0, 1]])
    assert_close(outputs["nll"], -math.log(0.5) - math.log(0.2))


def test_categorical_refuses_an_observed_class_of_probability_zero() -> None:
    error = refusal("categorical-distribution", p=[1.0, 0.0], x=[[0, 1]])
    assert error.field == "p"
    assert "log 0" in error.reason


@pytest.mark.parametrize(
    ("x", "reason"), [([[1, 0]], "one entry per class"), ([[1, 1, 0]], "one-hot")]
)
def test_categorical_refuses_rows_that_are_not_one_hot_over_k_classes(x, reason: str) -> None:
    error = refusal("categorical-distribution", p=[0.5, 0.3, 0.2], x=x)
    assert error.field == "x"
    assert reason in error.reason


# --- Gaussian ------------------------------------------------------------------------------


@given(moderate, moderate, st.floats(1e-3, 1e3))
def test_normal_pdf_matches_scipy(x: float, mean: float, std: float) -> None:
    outputs = compute("normal-pdf", x=x, mean=mean, std=std)
    assert_close(outputs["density"], scipy.stats.norm.pdf(x, mean, std), atol=1e-300)
    assert_close(outputs["log_density"], scipy.stats.norm.logpdf(x, mean, std))


def test_normal_pdf_defaults_to_the_standard_normal() -> None:
    outputs = compute("normal-pdf", x=0)
    assert_close(outputs["density"], 1 / math.sqrt(2 * math.pi))
    assert_close(outputs["log_density"], -0.5 * math.log(2 * math.pi))


def test_normal_density_can_exceed_one_for_a_narrow_distribution() -> None:
    assert compute("normal-pdf", x=0, std=0.1)["density"] > 3.98


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"x": 1.0, "std": 0}, "greater than 0"),
        ({"x": 1e12, "std": 1e-300}, "overflows"),
        ({"x": 0.0, "std": 1e-310}, "overflows"),
    ],
)
def test_normal_pdf_refuses_a_non_positive_or_vanishing_std(inputs: dict, reason: str) -> None:
    error = refusal("normal-pdf", **inputs)
    assert error.field == "std"
    assert reason in error.reason


samples = st.lists(moderate, min_size=1, max_size=30)


@given(samples, moderate, st.floats(1e-2, 1e2))
def test_gaussian_nll_matches_torch_and_scipy(x: list[float], mean: float, std: float) -> None:
    outputs = compute("gaussian-nll", x=x, mean=mean, std=std)
    scipy_nll = -scipy.stats.norm.logpdf(x, mean, std).sum()
    torch_nll = torch.nn.functional.gaussian_nll_loss(
        torch.full((len(x),), mean), tensor(x), torch.full((len(x),), std**2),
        full=True, reduction="sum",
    )  # fmt: skip
    scale = 1e-9 * (abs(scipy_nll) + len(x))
    assert_close(outputs["nll"], scipy_nll, atol=scale)
    assert_close(outputs["nll"], torch_nll, atol=scale)
    assert_close(outputs["mean_nll"], scipy_nll / len(x), atol=scale / len(x))


def test_gaussian_nll_with_unit_variance_is_half_the_squared_error_plus_a_constant() -> None:
    x = [1.0, 2.0, 4.0]
    nll = compute("gaussian-nll", x=x, mean=2.0, std=1.0)["nll"]
    assert_close(nll, 0.5 * (1 + 0 + 4) + 1.5 * math.log(2 * math.pi))


sample_of_two_or_more = st.lists(moderate, min_size=2, max_size=40)


@given(sample_of_two_or_more)
def test_gaussian_mle_matches_torch_var_mean_with_both_corrections(x: list[float]) -> None:
    outputs = compute("gaussian-mle", x=x)
    biased, mean = torch.var_mean(tensor(x), correction=0)
    unbiased = torch.var(tensor(x), correction=1)
    spread = 1e-12 * max(map(abs, x)) ** 2 + 1e-12
    assert_close(outputs["mean"], mean, atol=1e-12 * max(map(abs, x)) + 1e-12)
    assert_close(outputs["variance_mle"], biased, atol=spread)
    assert_close(outputs["variance_unbiased"], unbiased, atol=spread)


def test_unbiased_variance_is_the_mle_times_n_over_n_minus_one() -> None:
    outputs = compute("gaussian-mle", x=[2.0, 4.0, 4.0, 6.0])
    assert outputs["mean"] == 4.0
    assert outputs["variance_mle"] == 2.0
    assert_close(outputs["variance_unbiased"], 8 / 3)


def test_gaussian_mle_needs_two_observations() -> None:
    assert refusal("gaussian-mle", x=[1.0]).field == "x"


# --- Bayes, MAP, expectation ---------------------------------------------------------------


@st.composite
def bayes_cases(draw: st.DrawFn) -> tuple[list[Fraction], list[Fraction]]:
    k = draw(st.integers(1, 8))
    prior = draw(st.lists(st.integers(0, 100), min_size=k, max_size=k))
    assume(sum(prior) > 0)
    likelihood = draw(st.lists(st.integers(0, 100), min_size=k, max_size=k))
    assume(sum(a * b for a, b in zip(prior, likelihood, strict=True)) > 0)
    return [Fraction(a, sum(prior)) for a in prior], [Fraction(b, 100) for b in likelihood]


@given(bayes_cases())
def test_bayes_posterior_matches_exact_rational_arithmetic(case) -> None:
    prior, likelihood = case
    outputs = compute(
        "bayes-theorem", prior=[float(a) for a in prior], likelihood=[float(b) for b in likelihood]
    )
    evidence = sum(a * b for a, b in zip(prior, likelihood, strict=True))
    posterior = [b * a / evidence for a, b in zip(prior, likelihood, strict=True)]
    assert_close(outputs["evidence"], float(evidence))
    assert_close(outputs["posterior"], [float(value) for value in posterior])


def test_bayes_rare_disease_with_an_accurate_test_is_still_unlikely() -> None:
    outputs = compute("bayes-theorem", prior=[0.01, 0.99], likelihood=[0.99, 0.05])
    assert_close(outputs["evidence"], 0.0594)
    assert_close(outputs["posterior"][0], 0.0099 / 0.0594)


def test_bayes_refuses_an_observation_impossible_under_every_class() -> None:
    error = refusal("bayes-theorem", prior=[1.0, 0.0], likelihood=[0.0, 0.7])
    assert error.field == "likelihood"
    assert "0/0" in error.reason


def test_bayes_refuses_a_likelihood_outside_zero_one() -> None:
    error = refusal("bayes-theorem", prior=[0.5, 0.5], likelihood=[1.5, 0.2])
    assert error.field == "likelihood.0"
    assert "less than or equal to 1" in error.reason


@given(st.integers(1, 10**6), st.data(), st.floats(1, 1e3), st.floats(1, 1e3))
def test_map_is_the_mode_of_the_beta_posterior(n: int, data: st.DataObject, a: float, b: float):
    k = data.draw(st.integers(0, n))
    outputs = compute("map-estimation", successes=k, trials=n, alpha=a, beta=b)
    posterior = scipy.stats.beta(k + a, n - k + b)
    assert_close(outputs["posterior_mean"], posterior.mean())
    assert_close(outputs["mle"], k / n)
    # Written independently: the posterior density is ∝ θ^(k+a−1) (1−θ)^(n−k+b−1), whose
    # log has derivative (k+a−1)/θ − (n−k+b−1)/(1−θ); the mode is where that vanishes.
    successes, failures = k + a - 1, n - k + b - 1
    assert_close(outputs["map"], successes / (successes + failures))
    theta = outputs["map"]
    if 0 < theta < 1:
        slope = successes / theta - failures / (1 - theta)
        assert abs(slope) <= 1e-9 * (successes / theta + failures / (1 - theta))
        step = 1e-6 * min(theta, 1 - theta)
        assert posterior.logpdf(theta) >= posterior.logpdf(theta + step)
        assert posterior.logpdf(theta) >= posterior.logpdf(theta - step)


def test_map_with_a_flat_prior_equals_the_mle_and_a_prior_pulls_it_to_the_middle() -> None:
    flat = compute("map-estimation", successes=3, trials=3, alpha=1, beta=1)
    assert flat["map"] == flat["mle"] == 1.0
    shrunk = compute("map-estimation", successes=3, trials=3, alpha=2, beta=2)
    assert_close(shrunk["map"], 4 / 5)
    assert_close(shrunk["posterior_mean"], 5 / 7)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"successes": 4, "trials": 3}, "successes"),
        ({"successes": 0, "trials": 0}, "trials"),
        ({"successes": 1, "trials": 3, "alpha": 0.5}, "alpha"),
        ({"successes": 1, "trials": 3, "beta": 0}, "beta"),
    ],
)
def test_map_refuses_impossible_counts_and_priors_without_a_mode(inputs, field: str) -> None:
    assert refusal("map-estimation", **inputs).field == field


@st.composite
def discrete_variables(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    values = draw(st.lists(moderate, min_size=1, max_size=10, unique=True))
    return values, draw(distributions(len(values)))


@given(discrete_variables())
def test_expectation_and_variance_match_scipy_rv_discrete(case) -> None:
    values, probabilities = case
    outputs = compute("expectation-variance", values=values, probabilities=probabilities)
    variable = scipy.stats.rv_discrete(values=(values, probabilities))
    scale = max(map(abs, values))
    assert_close(outputs["mean"], variable.mean(), atol=1e-12 * scale + 1e-12)
    assert_close(outputs["variance"], variable.var(), atol=1e-9 * scale**2 + 1e-12)
    assert_close(outputs["second_moment"], variable.moment(2), atol=1e-12 * scale**2)


def test_expectation_of_a_fair_die() -> None:
    outputs = compute("expectation-variance", values=[1, 2, 3, 4, 5, 6], probabilities=[1 / 6] * 6)
    assert_close([outputs["mean"], outputs["variance"]], [3.5, 35 / 12])


def test_expectation_refuses_a_probability_per_value_mismatch() -> None:
    error = refusal("expectation-variance", values=[1, 2], probabilities=[0.2, 0.3, 0.5])
    assert error.field == "probabilities"


# --- information theory --------------------------------------------------------------------


@given(st.floats(1e-300, 1))
def test_self_information_matches_torch_log(p: float) -> None:
    outputs = compute("self-information", p=p)
    assert_close(outputs["nats"], -torch.log(tensor(p)))
    assert_close(outputs["bits"], -math.log2(p))


def test_self_information_of_independent_events_adds_up() -> None:
    both = compute("self-information", p=0.5 * 0.125)["bits"]
    assert (
        both
        == compute("self-information", p=0.5)["bits"] + compute("self-information", p=0.125)["bits"]
    )
    assert both == 4.0


def test_self_information_of_an_impossible_event_is_refused() -> None:
    assert refusal("self-information", p=0).field == "p"


@given(distributions())
def test_entropy_matches_scipy(p: list[float]) -> None:
    assert_close(compute("entropy", p=p)["entropy"], scipy.stats.entropy(p))


@pytest.mark.parametrize(
    ("p", "expected"),
    [([1.0], 0.0), ([1.0, 0.0], 0.0), ([0.5, 0.5], math.log(2)), ([0.25] * 4, math.log(4))],
)
def test_entropy_is_zero_for_certainty_and_log_k_for_uniform(p, expected: float) -> None:
    assert_close(compute("entropy", p=p)["entropy"], expected)


@given(distribution_pairs(q_low=1e-3))
def test_cross_entropy_between_distributions_matches_torch_with_soft_targets(pair) -> None:
    p, q = pair
    outputs = compute("cross-entropy-distributions", p=p, q=q)
    # log_softmax(ln q) = ln q for a normalised q, so torch sees q itself.
    expected = torch.nn.functional.cross_entropy(
        torch.log(tensor([q])), tensor([p]), reduction="sum"
    )
    assert_close(outputs["cross_entropy"], expected)
    assert_close(outputs["entropy"], scipy.stats.entropy(p))
    assert_close(outputs["kl"], scipy.stats.entropy(p, q))
    assert_close(outputs["cross_entropy"], outputs["entropy"] + outputs["kl"])


def test_cross_entropy_of_a_distribution_with_itself_is_its_entropy() -> None:
    outputs = compute("cross-entropy-distributions", p=[0.5, 0.25, 0.25], q=[0.5, 0.25, 0.25])
    assert_close(outputs["cross_entropy"], 1.5 * math.log(2))
    assert outputs["kl"] == 0


@given(distribution_pairs(q_low=1e-3))
def test_kl_divergence_matches_scipy_and_torch(pair) -> None:
    p, q = pair
    kl = compute("kl-divergence", p=p, q=q)["kl"]
    assert_close(kl, scipy.stats.entropy(p, q))
    assert_close(kl, torch.nn.functional.kl_div(torch.log(tensor(q)), tensor(p), reduction="sum"))


def test_kl_divergence_is_not_symmetric() -> None:
    forward = compute("kl-divergence", p=[0.5, 0.5], q=[0.9, 0.1])["kl"]
    backward = compute("kl-divergence", p=[0.9, 0.1], q=[0.5, 0.5])["kl"]
    assert_close(forward, 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert_close(backward, 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5))
    assert forward > backward


@pytest.mark.parametrize("calculator_id", ["kl-divergence", "cross-entropy-distributions"])
def test_q_zero_where_p_is_positive_is_refused(calculator_id: str) -> None:
    error = refusal(calculator_id, p=[0.5, 0.5], q=[1.0, 0.0])
    assert error.field == "q"
    assert "q[1] is 0 where p[1] > 0" in error.reason


def test_q_zero_where_p_is_zero_too_is_fine() -> None:
    assert_close(compute("kl-divergence", p=[1.0, 0.0], q=[0.5, 0.5])["kl"], math.log(2))


@given(distribution_pairs())
def test_js_divergence_is_the_square_of_scipys_jensen_shannon_distance(pair) -> None:
    p, q = pair
    js = compute("js-divergence", p=p, q=q)["js"]
    assert_close(js, jensenshannon(p, q) ** 2, rtol=1e-8)
    assert 0 <= js <= math.log(2) + 1e-15
    assert_close(js, compute("js-divergence", p=q, q=p)["js"])


def test_js_divergence_stays_finite_where_the_mixture_underflows() -> None:
    # m = (5e-324 + 0) / 2 rounds to 0; ln m is taken as ln(p + q) − ln 2 instead.
    js = compute("js-divergence", p=[1.0, 5e-324], q=[1.0, 0.0])["js"]
    assert 0 <= js < 1e-300


def test_js_divergence_of_disjoint_distributions_is_log_two() -> None:
    assert_close(compute("js-divergence", p=[1.0, 0.0], q=[0.0, 1.0])["js"], math.log(2))


@st.composite
def predictions_and_targets(draw: st.DrawFn) -> tuple[list[float], list[int]]:
    n = draw(st.integers(1, 30))
    # Within [1e-30, 1 − 1e-12] no log falls below −100, so torch's clamp never bites.
    y = draw(st.lists(st.floats(1e-30, 1 - 1e-12), min_size=n, max_size=n))
    return y, draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))


@given(predictions_and_targets())
def test_binary_cross_entropy_matches_torch(case) -> None:
    y, t = case
    expected = torch.nn.functional.binary_cross_entropy(tensor(y), tensor(t))
    assert_close(compute("binary-cross-entropy", y=y, t=t)["loss"], expected)


def test_binary_cross_entropy_keeps_the_exact_log_where_torch_clamps_it_at_minus_100() -> None:
    loss = compute("binary-cross-entropy", y=[1e-50], t=[1])["loss"]
    assert_close(loss, 50 * math.log(10))
    clamped = torch.nn.functional.binary_cross_entropy(tensor([1e-50]), tensor([1.0]))
    assert clamped.item() == 100.0


@pytest.mark.parametrize(("y", "t"), [([0.0], [1]), ([0.5, 1.0], [1, 0])])
def test_binary_cross_entropy_refuses_zero_probability_for_the_target(y, t) -> None:
    error = refusal("binary-cross-entropy", y=y, t=t)
    assert error.field == "y"
    assert "log 0" in error.reason


def test_binary_cross_entropy_accepts_certain_and_correct_predictions() -> None:
    assert compute("binary-cross-entropy", y=[0.0, 1.0], t=[0, 1])["loss"] == 0


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"y": [0.5, 1.5], "t": [1, 1]}, "y.1"),
        ({"y": [-0.1], "t": [0]}, "y.0"),
        ({"y": [0.5], "t": [2]}, "t.0"),
        ({"y": [0.5, 0.5], "t": [1]}, "t"),
    ],
)
def test_binary_cross_entropy_refuses_non_probabilities_and_non_binary_targets(inputs, field):
    assert refusal("binary-cross-entropy", **inputs).field == field


@st.composite
def count_tables(draw: st.DrawFn) -> list[list[int]]:
    rows, columns = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    cells = st.lists(st.integers(0, 50), min_size=columns, max_size=columns)
    table = draw(st.lists(cells, min_size=rows, max_size=rows))
    assume(sum(map(sum, table)) > 0)
    return table


@given(count_tables())
def test_mutual_information_matches_sklearn_on_the_same_contingency_table(counts) -> None:
    joint = (np.asarray(counts) / np.sum(counts)).tolist()
    outputs = compute("mutual-information", joint=joint)
    expected = mutual_info_score(None, None, contingency=np.asarray(counts))
    assert_close(outputs["mutual_information"], expected)
    px, py = np.sum(joint, axis=1), np.sum(joint, axis=0)
    assert_close(outputs["entropy_x"], scipy.stats.entropy(px))
    assert_close(outputs["entropy_y"], scipy.stats.entropy(py))
    assert_close(outputs["joint_entropy"], scipy.stats.entropy(np.ravel(joint)))
    assert_close(
        outputs["mutual_information"],
        outputs["entropy_x"] + outputs["entropy_y"] - outputs["joint_entropy"],
    )


@pytest.mark.parametrize(
    ("joint", "expected"),
    [
        ([[0.25, 0.25], [0.25, 0.25]], 0.0),  # independent
        ([[0.5, 0.0], [0.0, 0.5]], math.log(2)),  # y determines x
        ([[0.4, 0.1], [0.1, 0.4]], 0.8 * math.log(1.6) + 0.2 * math.log(0.4)),
    ],
)
def test_mutual_information_known_tables(joint, expected: float) -> None:
    assert_close(compute("mutual-information", joint=joint)["mutual_information"], expected)


def test_mutual_information_stays_finite_where_p_x_times_p_y_underflows() -> None:
    # P(x=1) P(y=1) = (2e-170)² rounds to 0 while P(x=1, y=1) = 1e-170 > 0.
    tiny = 1e-170
    joint = [[1 - 3 * tiny, tiny], [tiny, tiny]]
    information = compute("mutual-information", joint=joint)["mutual_information"]
    # To first order in tiny: I = tiny (1 − ln tiny − 4 ln 2). The "1" comes from the cell
    # 1 − 3·tiny, which rounds to 1 in double precision, hence the loose tolerance.
    assert_close(information, tiny * (1 - math.log(tiny) - 4 * math.log(2)), rtol=5e-3)


def test_mutual_information_refuses_a_table_that_is_not_a_distribution() -> None:
    error = refusal("mutual-information", joint=[[0.5, 0.5], [0.5, 0.5]])
    assert error.field == "joint"
    assert "sum to 1" in error.reason


# --- Monte Carlo ---------------------------------------------------------------------------


@given(sample_of_two_or_more, moderate, st.floats(1e-3, 1e3))
def test_monte_carlo_matches_the_definition_and_scipy_sem(f_values, lower: float, width: float):
    upper = lower + width
    assume(upper > lower)
    outputs = compute("monte-carlo-integration", f_values=f_values, lower=lower, upper=upper)
    scale = max(map(abs, f_values)) + 1
    assert_close(outputs["sample_mean"], np.mean(f_values), atol=1e-12 * scale)
    assert_close(
        outputs["estimate"], (upper - lower) * np.mean(f_values), atol=1e-12 * scale * width
    )
    assert_close(
        outputs["standard_error"],
        (upper - lower) * scipy.stats.sem(f_values),
        atol=1e-12 * scale * width,
    )


def test_monte_carlo_estimate_of_the_integral_of_sine_over_zero_pi_is_near_two() -> None:
    points = np.random.default_rng(2026).uniform(0, math.pi, size=4000)
    outputs = compute(
        "monte-carlo-integration", f_values=np.sin(points).tolist(), lower=0, upper=math.pi
    )
    assert abs(outputs["estimate"] - 2) < 3 * outputs["standard_error"]
    assert outputs["standard_error"] < 0.02


def test_monte_carlo_refuses_an_empty_or_reversed_interval() -> None:
    error = refusal("monte-carlo-integration", f_values=[1, 2], lower=1, upper=1)
    assert error.field == "upper"
