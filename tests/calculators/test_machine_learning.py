"""Classical machine-learning calculators against scikit-learn, SciPy and PyTorch (float64).

Where no library computes the quantity (the bias–variance split, the elastic-net objective
for given coefficients), the test writes the definition out independently, and checks the
scaling convention against scikit-learn's fitted models instead.
"""

import warnings
from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from fastapi.testclient import TestClient
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.spatial import distance
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import ElasticNet, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.tree import DecisionTreeClassifier

from app import calculators
from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-100, max_value=100)


def vectors(size: int, elements: Any = values) -> st.SearchStrategy[list[float]]:
    return st.lists(elements, min_size=size, max_size=size)


@st.composite
def same_length_pairs(draw: st.DrawFn, elements: Any = values) -> tuple[list, list]:
    n = draw(st.integers(1, 8))
    return draw(vectors(n, elements)), draw(vectors(n, elements))


# Hundredths in [−10, 10]: no subnormal entries, whose squares in XᵀX would vanish.
grid = st.integers(-1000, 1000).map(lambda k: k / 100)


@st.composite
def regression_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, d = draw(st.integers(2, 10)), draw(st.integers(1, 4))
    x = np.array(draw(vectors(n * d, grid))).reshape(n, d)
    return x, np.array(draw(vectors(n, grid)))


def assert_refused(calculator_id: str, field: str, reason: str, **inputs: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- Bias–variance decomposition ----------------------------------------------------------


@given(st.lists(values, min_size=1, max_size=20), values, st.floats(0, 10))
def test_bias_variance_terms_add_up_to_the_expected_squared_loss(
    predictions: list[float], target: float, noise: float
) -> None:
    outputs = compute(
        "bias-variance-decomposition",
        predictions=predictions,
        target_mean=target,
        noise_variance=noise,
    )
    y = tensor(predictions)
    assert_close(outputs["bias_squared"], (y.mean() - target) ** 2, atol=1e-9)
    assert_close(outputs["variance"], torch.var(y, correction=0), atol=1e-9)
    # E_D E_t[(y − t)²] = (1/L) Σ (y⁽ˡ⁾ − h)² + σ², computed without the decomposition.
    assert_close(outputs["expected_loss"], ((y - target) ** 2).mean() + noise, atol=1e-9)


def test_bias_variance_of_a_worked_example() -> None:
    outputs = compute(
        "bias-variance-decomposition",
        predictions=[1.0, 2.0, 3.0, 6.0],
        target_mean=2.0,
        noise_variance=0.5,
    )
    assert outputs == {
        "mean_prediction": 3.0,
        "bias_squared": 1.0,
        "variance": 3.5,
        "expected_loss": 5.0,
    }


def test_bias_variance_refuses_negative_noise() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("bias-variance-decomposition", predictions=[1.0], target_mean=0, noise_variance=-1)
    assert caught.value.field == "noise_variance"


# --- Odds, logit and logistic regression ----------------------------------------------------


@given(st.floats(min_value=1e-300, max_value=1 - 1e-16, exclude_min=True))
def test_logit_matches_scipy_and_torch(p: float) -> None:
    outputs = compute("logit", p=p)
    assert_close(outputs["logit"], scipy.special.logit(p))
    assert_close(outputs["logit"], torch.logit(tensor(p)))
    assert_close(outputs["odds"], p / (1 - p))
    assert_close(scipy.special.expit(outputs["logit"]), p)


def test_logit_of_a_half_is_zero_and_odds_one() -> None:
    assert compute("logit", p=0.5) == {"odds": 1.0, "logit": 0.0}


@pytest.mark.parametrize(("p", "reason"), [(0.0, "greater than 0"), (1.0, "less than 1")])
def test_logit_refuses_certain_events(p: float, reason: str) -> None:
    assert_refused("logit", "p", reason, p=p)


def fitted_logistic_regression(weights: list[float], bias: float) -> LogisticRegression:
    model = LogisticRegression()
    model.coef_, model.intercept_ = np.array([weights]), np.array([bias])
    model.classes_ = np.array([0, 1])
    return model


@given(same_length_pairs(), values)
def test_logistic_regression_matches_sklearn_with_the_same_weights(
    pair: tuple[list, list], bias: float
) -> None:
    weights, features = pair
    outputs = compute("logistic-regression", weights=weights, features=features, bias=bias)
    model = fitted_logistic_regression(weights, bias)
    z = model.decision_function([features])[0]
    assert_close(outputs["z"], z, atol=1e-9)
    assume(abs(z) > 1e-9)  # the class flips at z = 0: rounding decides there
    assert_close(outputs["probability"], model.predict_proba([features])[0, 1], atol=1e-15)
    assert_close(outputs["probability"], torch.sigmoid(tensor(z)), atol=1e-15)
    assert outputs["predicted_class"] == model.predict([features])[0]


def test_logistic_regression_predicts_class_0_exactly_on_the_boundary() -> None:
    outputs = compute("logistic-regression", weights=[1.0, 2.0], features=[1.0, -1.0], bias=1.0)
    model = fitted_logistic_regression([1.0, 2.0], 1.0)
    assert outputs["z"] == 0.0
    assert outputs["probability"] == 0.5
    assert outputs["predicted_class"] == 0 == model.predict([[1.0, -1.0]])[0]


def test_logistic_regression_stays_finite_for_huge_logits() -> None:
    outputs = compute("logistic-regression", weights=[1e12], features=[1e3], bias=0)
    assert outputs["probability"] == 1.0


def test_logistic_regression_refuses_mismatched_lengths() -> None:
    assert_refused(
        "logistic-regression", "features", "same shape", weights=[1.0, 2.0], features=[1.0]
    )


# --- Linear regression, ridge and elastic net ---------------------------------------------


def condition_number(x: np.ndarray, fit_intercept: bool) -> float:
    design = np.column_stack([np.ones(len(x)), x]) if fit_intercept else x
    singular_values = np.linalg.svd(design, compute_uv=False)
    return singular_values[0] / singular_values[-1] if singular_values[-1] else np.inf


@given(regression_data(), st.booleans())
def test_normal_equation_matches_sklearn_linear_regression(data, fit_intercept: bool) -> None:
    x, y = data
    assume(len(x) >= x.shape[1] + fit_intercept)
    assume(condition_number(x, fit_intercept) < 100)
    outputs = compute("normal-equation", x=x.tolist(), y=y.tolist(), fit_intercept=fit_intercept)
    model = LinearRegression(fit_intercept=fit_intercept).fit(x, y)
    assert_close(outputs["coefficients"], model.coef_, atol=1e-10)
    assert_close(outputs["intercept"], model.intercept_, atol=1e-10)
    design = np.column_stack([np.ones(len(x)), x]) if fit_intercept else x
    theta = np.linalg.solve(design.T @ design, design.T @ y)  # (XᵀX)⁻¹Xᵀy written out
    assert_close(outputs["coefficients"], theta[1:] if fit_intercept else theta, atol=1e-10)
    residual = y - design @ theta
    assert_close(outputs["residual_sum_of_squares"], residual @ residual, atol=1e-9)


def test_normal_equation_of_a_worked_line() -> None:
    outputs = compute("normal-equation", x=[[0.0], [1.0], [2.0], [3.0]], y=[1.0, 3.0, 2.0, 5.0])
    assert_close(outputs["coefficients"], [1.1])
    assert_close(outputs["intercept"], 1.1)
    assert_close(outputs["residual_sum_of_squares"], 2.7)


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        ([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], [1.0, 2.0, 3.0], "linearly dependent"),
        ([[1.0, 2.0]], [1.0], "fewer examples than unknowns"),
        ([[1.0], [1.0], [1.0]], [1.0, 2.0, 3.0], "with the column of ones"),
    ],
)
def test_normal_equation_refuses_a_singular_gram_matrix(x, y, reason: str) -> None:
    assert_refused("normal-equation", "x", reason, x=x, y=y)


def test_regression_refuses_a_target_count_that_differs_from_the_rows() -> None:
    assert_refused("normal-equation", "y", "one target per row", x=[[1.0], [2.0]], y=[1.0])


@given(regression_data(), st.floats(0.01, 100), st.booleans())
def test_ridge_matches_sklearn_ridge(data, alpha: float, fit_intercept: bool) -> None:
    x, y = data
    outputs = compute(
        "ridge-regression", x=x.tolist(), y=y.tolist(), alpha=alpha, fit_intercept=fit_intercept
    )
    model = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd").fit(x, y)
    assert_close(outputs["coefficients"], model.coef_, atol=1e-10)
    assert_close(outputs["intercept"], model.intercept_, atol=1e-10)
    w, b = model.coef_, model.intercept_
    assert_close(outputs["objective"], np.sum((y - x @ w - b) ** 2) + alpha * w @ w, atol=1e-9)


def test_ridge_closed_form_matches_torch_solve() -> None:
    x = tensor([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0]])
    y = tensor([1.0, 2.0, 3.0, 5.0])
    expected = torch.linalg.solve(x.T @ x + 0.5 * torch.eye(2), x.T @ y)
    outputs = compute(
        "ridge-regression", x=x.tolist(), y=y.tolist(), alpha=0.5, fit_intercept=False
    )
    assert_close(outputs["coefficients"], expected)


def test_ridge_of_one_feature_shrinks_the_slope() -> None:
    # w = Σxy / (Σx² + α) = (1 + 6) / (1 + 4 + 1)
    outputs = compute(
        "ridge-regression", x=[[1.0], [2.0]], y=[1.0, 3.0], alpha=1.0, fit_intercept=False
    )
    assert_close(outputs["coefficients"], [7 / 6])
    assert outputs["intercept"] == 0.0


def test_ridge_with_zero_alpha_refuses_dependent_columns() -> None:
    assert_refused(
        "ridge-regression",
        "alpha",
        "singular",
        x=[[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]],
        y=[1.0, 2.0, 3.0],
        alpha=0.0,
    )


@st.composite
def elastic_net_cases(draw: st.DrawFn) -> dict[str, Any]:
    x, y = draw(regression_data())
    return {
        "x": x.tolist(),
        "y": y.tolist(),
        "coefficients": draw(vectors(x.shape[1])),
        "intercept": draw(values),
        "alpha": draw(st.floats(0, 10)),
        "l1_ratio": draw(st.floats(0, 1)),
    }


@given(elastic_net_cases())
def test_elastic_net_objective_matches_its_definition(case: dict[str, Any]) -> None:
    outputs = compute("elastic-net", **case)
    x, y, w = (np.array(case[name]) for name in ("x", "y", "coefficients"))
    alpha, rho = case["alpha"], case["l1_ratio"]
    residuals = [yi - xi @ w - case["intercept"] for xi, yi in zip(x, y, strict=True)]
    squared_error = sum(r * r for r in residuals)
    expected = (
        squared_error / (2 * len(y))
        + alpha * rho * sum(abs(wj) for wj in w)
        + 0.5 * alpha * (1 - rho) * sum(wj * wj for wj in w)
    )
    assert_close(outputs["objective"], expected, atol=1e-9)
    assert_close(
        outputs["objective"],
        outputs["data_term"] + outputs["l1_penalty"] + outputs["l2_penalty"],
    )


def fit_elastic_net(x: np.ndarray, y: np.ndarray, alpha: float, l1_ratio: float) -> ElasticNet:
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000)
    return model.fit(x, y)


SEEDED = np.random.default_rng(20)
X_FIT, Y_FIT = SEEDED.normal(size=(30, 4)), SEEDED.normal(size=30)


@pytest.mark.parametrize("l1_ratio", [0.2, 0.5, 1.0])
def test_sklearn_elastic_net_minimizes_this_objective(l1_ratio: float) -> None:
    """sklearn's fitted coefficients are the minimum of our objective, so the scalings agree."""
    model = fit_elastic_net(X_FIT, Y_FIT, alpha=0.1, l1_ratio=l1_ratio)

    def objective(w: np.ndarray) -> float:
        case = {"coefficients": w.tolist(), "intercept": float(model.intercept_)}
        return compute(
            "elastic-net", x=X_FIT.tolist(), y=Y_FIT.tolist(), alpha=0.1, l1_ratio=l1_ratio, **case
        )["objective"]

    best = objective(model.coef_)
    for step in np.eye(4) * 1e-4:
        assert best < objective(model.coef_ + step)
        assert best < objective(model.coef_ - step)
    # With another scaling (RSS without 1/(2n), say) the minimum would sit elsewhere:
    # the subgradient condition pins the 1/(2n) and the α(1 − ρ)/2.
    w = model.coef_
    gradient = -X_FIT.T @ (Y_FIT - X_FIT @ w - model.intercept_) / len(Y_FIT)
    gradient += 0.1 * (1 - l1_ratio) * w
    active = w != 0
    assert_close(gradient[active], -0.1 * l1_ratio * np.sign(w[active]), rtol=1e-6, atol=1e-9)
    assert (np.abs(gradient[~active]) <= 0.1 * l1_ratio + 1e-9).all()


def test_sklearn_elastic_net_without_l1_is_ridge_with_alpha_times_n() -> None:
    n = len(Y_FIT)
    elastic = fit_elastic_net(X_FIT, Y_FIT, alpha=0.3, l1_ratio=0.0)
    ridge = Ridge(alpha=0.3 * n).fit(X_FIT, Y_FIT)
    assert_close(elastic.coef_, ridge.coef_, rtol=1e-7)


def test_elastic_net_of_a_worked_example() -> None:
    outputs = compute(
        "elastic-net",
        x=[[1.0], [2.0]],
        y=[1.0, 3.0],
        coefficients=[1.0],
        alpha=1.0,
        l1_ratio=0.5,
    )
    # residuals (0, 1): 1/4; L1: 0.5 · 1; L2: 0.25 · 1
    assert outputs == {"data_term": 0.25, "l1_penalty": 0.5, "l2_penalty": 0.25, "objective": 1.0}


def test_elastic_net_refuses_a_coefficient_count_that_differs_from_the_columns() -> None:
    assert_refused(
        "elastic-net",
        "coefficients",
        "one coefficient per column",
        x=[[1.0, 2.0]],
        y=[1.0],
        coefficients=[1.0],
    )


def test_elastic_net_refuses_a_mixing_ratio_above_one() -> None:
    assert_refused(
        "elastic-net",
        "l1_ratio",
        "less than or equal to 1",
        x=[[1.0]],
        y=[1.0],
        coefficients=[1.0],
        l1_ratio=1.5,
    )


# --- Distances and the Gaussian kernel ----------------------------------------------------


@given(same_length_pairs(st.floats(-1e3, 1e3)), st.floats(1, 20))
def test_minkowski_family_matches_scipy(pair: tuple[list, list], p: float) -> None:
    x, y = pair
    outputs = compute("minkowski-distance", x=x, y=y, p=p)
    assert_close(outputs["minkowski"], distance.minkowski(x, y, p))
    assert_close(outputs["euclidean"], distance.euclidean(x, y))
    assert_close(outputs["manhattan"], distance.cityblock(x, y))
    assert_close(outputs["chebyshev"], distance.chebyshev(x, y))


def test_minkowski_with_p_one_and_two_is_manhattan_and_euclidean() -> None:
    one = compute("minkowski-distance", x=[0.0, 0.0], y=[3.0, 4.0], p=1)
    two = compute("minkowski-distance", x=[0.0, 0.0], y=[3.0, 4.0], p=2)
    assert (one["minkowski"], two["minkowski"]) == (7.0, 5.0)
    assert (one["chebyshev"], two["euclidean"]) == (4.0, 5.0)


def test_minkowski_with_a_huge_order_approaches_chebyshev_without_overflow() -> None:
    outputs = compute("minkowski-distance", x=[0.0, 0.0], y=[1e12, 9e11], p=1e6)
    assert_close(outputs["minkowski"], 1e12, rtol=1e-6)


def test_minkowski_refuses_an_order_below_one() -> None:
    assert_refused("minkowski-distance", "p", "greater than or equal to 1", x=[0.0], y=[1.0], p=0.5)


@st.composite
def gaussian_samples(draw: st.DrawFn) -> tuple[list, list, list]:
    d = draw(st.integers(1, 5))
    mixing = np.array(draw(vectors(d * d, st.floats(-3, 3)))).reshape(d, d)
    covariance = mixing @ mixing.T + np.eye(d)
    return draw(vectors(d)), draw(vectors(d)), covariance.tolist()


@given(gaussian_samples())
def test_mahalanobis_matches_scipy(sample: tuple[list, list, list]) -> None:
    x, mean, covariance = sample
    outputs = compute("mahalanobis-distance", x=x, mean=mean, covariance=covariance)
    expected = distance.mahalanobis(x, mean, np.linalg.inv(covariance))
    assert_close(outputs["distance"], expected, atol=1e-9)
    assert_close(outputs["squared_distance"], expected**2, atol=1e-9)


def test_mahalanobis_with_identity_covariance_is_euclidean() -> None:
    outputs = compute(
        "mahalanobis-distance", x=[3.0, 4.0], mean=[0.0, 0.0], covariance=[[1.0, 0.0], [0.0, 1.0]]
    )
    assert outputs["distance"] == 5.0


def test_mahalanobis_divides_each_gap_by_its_standard_deviation() -> None:
    outputs = compute(
        "mahalanobis-distance", x=[2.0, 3.0], mean=[0.0, 0.0], covariance=[[4.0, 0.0], [0.0, 9.0]]
    )
    assert outputs["squared_distance"] == 2.0


@pytest.mark.parametrize(
    ("covariance", "reason"),
    [
        ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        ([[1.0, 0.5], [0.0, 1.0]], "symmetric"),
        ([[1.0]], "d×d with d = 2"),
    ],
)
def test_mahalanobis_refuses_an_impossible_covariance(covariance, reason: str) -> None:
    assert_refused(
        "mahalanobis-distance",
        "covariance",
        reason,
        x=[1.0, 2.0],
        mean=[0.0, 0.0],
        covariance=covariance,
    )


@given(same_length_pairs(st.floats(-10, 10)), st.floats(0.1, 10))
def test_gaussian_kernel_matches_sklearn_rbf_kernel_with_gamma_one_over_two_sigma_squared(
    pair: tuple[list, list], sigma: float
) -> None:
    x, y = pair
    k = compute("gaussian-kernel", x=x, y=y, sigma=sigma)["k"]
    assert_close(k, rbf_kernel([x], [y], gamma=1 / (2 * sigma**2))[0, 0], atol=1e-300)
    squared = torch.cdist(tensor([x]), tensor([y])) ** 2
    assert_close(k, torch.exp(-squared / (2 * sigma**2))[0, 0], atol=1e-300)


def test_gaussian_kernel_defaults_to_sigma_one() -> None:
    assert_close(compute("gaussian-kernel", x=[0.0, 0.0], y=[1.0, 1.0])["k"], np.exp(-1.0))


def test_gaussian_kernel_of_a_point_with_itself_is_one_even_for_a_tiny_sigma() -> None:
    assert compute("gaussian-kernel", x=[2.0], y=[2.0], sigma=1e-300)["k"] == 1.0
    assert compute("gaussian-kernel", x=[2.0], y=[3.0], sigma=1e-300)["k"] == 0.0


def test_gaussian_kernel_refuses_a_zero_bandwidth() -> None:
    assert_refused("gaussian-kernel", "sigma", "greater than 0", x=[1.0], y=[2.0], sigma=0)


# --- k-means ------------------------------------------------------------------------------


@st.composite
def clusterings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    d, k = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    n = draw(st.integers(k, 12))
    grid = st.integers(-5, 5).map(float)  # ties happen, as they do on small exam grids
    points = np.array(draw(vectors(n * d, grid))).reshape(n, d)
    centroids = np.array(draw(vectors(k * d, st.floats(-5, 5)))).reshape(k, d)
    return points, centroids


def sklearn_kmeans(points: np.ndarray, centroids: np.ndarray) -> KMeans:
    """One Lloyd iteration from the given centroids."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few distinct points: a ConvergenceWarning
        return KMeans(len(centroids), init=centroids, n_init=1, max_iter=1).fit(points)


@given(clusterings())
def test_k_means_inertia_and_update_match_sklearn(clustering) -> None:
    points, centroids = clustering
    outputs = compute("k-means", points=points.tolist(), centroids=centroids.tolist())
    model = sklearn_kmeans(points, centroids)
    squared = ((points[:, None] - centroids[None]) ** 2).sum(axis=2)
    ordered = np.sort(squared, axis=1)
    no_ties = len(centroids) == 1 or (ordered[:, 1] - ordered[:, 0] > 1e-9).all()
    if no_ties and len(set(outputs["labels"])) == len(centroids):  # no cluster left empty
        assert_close(outputs["updated_centroids"], model.cluster_centers_, atol=1e-12)
    model.cluster_centers_ = centroids  # inertia_ semantics for the given centroids
    assert_close(outputs["inertia"], -model.score(points), atol=1e-9)
    if no_ties:
        assert outputs["labels"] == model.predict(points).tolist()


def test_k_means_with_given_labels_sums_distances_to_their_own_centroids() -> None:
    points, centroids = [[0.0], [1.0], [10.0]], [[0.0], [10.0]]
    nearest = compute("k-means", points=points, centroids=centroids)
    forced = compute("k-means", points=points, centroids=centroids, labels=[1, 1, 0])
    assert nearest["inertia"] == 1.0
    assert forced["inertia"] == 100.0 + 81.0 + 100.0
    assert forced["updated_centroids"] == [[10.0], [0.5]]


def test_k_means_keeps_the_centroid_of_an_empty_cluster() -> None:
    outputs = compute("k-means", points=[[0.0], [1.0]], centroids=[[0.0], [100.0]])
    assert outputs["updated_centroids"] == [[0.5], [100.0]]


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"centroids": [[0.0, 0.0]]}, "centroids", "d = 1 columns"),
        ({"centroids": [[0.0]], "labels": [0, 1]}, "labels", "K − 1 = 0"),
        ({"centroids": [[0.0]], "labels": [0]}, "labels", "one label per point"),
    ],
)
def test_k_means_refuses_inconsistent_inputs(inputs, field: str, reason: str) -> None:
    assert_refused("k-means", field, reason, points=[[0.0], [1.0]], **inputs)


# --- PCA ----------------------------------------------------------------------------------


@st.composite
def data_matrices(draw: st.DrawFn) -> np.ndarray:
    n, d = draw(st.integers(2, 10)), draw(st.integers(1, 5))
    return np.array(draw(vectors(n * d, st.floats(-10, 10)))).reshape(n, d)


@given(data_matrices())
def test_pca_explained_variance_matches_sklearn(data: np.ndarray) -> None:
    total = np.var(data, axis=0, ddof=1).sum()
    assume(total > 1e-6)
    outputs = compute("pca-explained-variance", data=data.tolist())
    model = PCA(svd_solver="full").fit(data)
    assert_close(outputs["explained_variance"], model.explained_variance_, atol=1e-10 * total)
    assert_close(outputs["explained_variance_ratio"], model.explained_variance_ratio_, atol=1e-12)
    assert_close(outputs["cumulative_ratio"][-1], 1.0)


def test_pca_of_a_worked_example() -> None:
    outputs = compute(
        "pca-explained-variance", data=[[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]]
    )
    assert_close(outputs["explained_variance"], [8 / 3, 2 / 3])
    assert_close(outputs["explained_variance_ratio"], [0.8, 0.2])


@pytest.mark.parametrize(
    ("data", "reason"),
    [([[1.0, 2.0]], "at least 2 rows"), ([[1.0, 2.0], [1.0, 2.0]], "total variance is 0")],
)
def test_pca_refuses_data_without_variance(data, reason: str) -> None:
    assert_refused("pca-explained-variance", "data", reason, data=data)


# --- Gini impurity and information gain ---------------------------------------------------


def stump(counts: list[list[int]], criterion: str) -> Any:
    """A depth-1 tree whose only feature is the child index: it splits exactly as `counts`."""
    features, labels = [], []
    for child, row in enumerate(counts):
        for label, count in enumerate(row):
            features += [[child]] * count
            labels += [label] * count
    return DecisionTreeClassifier(criterion=criterion, max_depth=1).fit(features, labels).tree_


@st.composite
def two_way_splits(draw: st.DrawFn) -> list[list[int]]:
    classes = draw(st.integers(2, 4))
    rows = draw(st.lists(vectors(classes, st.integers(0, 12)), min_size=2, max_size=2))
    assume(all(sum(row) > 0 for row in rows))
    assume(sum(1 for total in np.sum(rows, axis=0) if total) > 1)  # the parent is impure
    return rows


@pytest.mark.parametrize(
    ("calculator_id", "criterion", "prefix", "gain"),
    [
        ("gini-impurity", "gini", "gini", "gini_decrease"),
        ("information-gain", "entropy", "entropy", "information_gain"),
    ],
)
@given(counts=two_way_splits())
def test_split_impurities_match_an_sklearn_stump(
    calculator_id: str, criterion: str, prefix: str, gain: str, counts: list[list[int]]
) -> None:
    tree = stump(counts, criterion)
    outputs = compute(calculator_id, counts=counts)
    assert tree.node_count == 3
    assert_close(outputs[f"{prefix}_parent"], tree.impurity[0])
    assert_close(outputs[f"{prefix}_children"], tree.impurity[1:])
    sizes = tree.n_node_samples
    weighted = (sizes[1] * tree.impurity[1] + sizes[2] * tree.impurity[2]) / sizes[0]
    assert_close(outputs[f"{prefix}_weighted"], weighted)
    assert_close(outputs[gain], tree.impurity[0] - weighted, atol=1e-12)


@given(
    st.integers(2, 5).flatmap(
        lambda c: st.lists(vectors(c, st.integers(1, 20)), min_size=1, max_size=5)
    )
)
def test_entropy_and_gini_of_many_children_match_their_definitions(counts) -> None:
    rows = np.array(counts, dtype=float)
    for unit, base in (("bits", 2), ("nats", np.e)):
        outputs = compute("information-gain", counts=counts, unit=unit)
        assert_close(outputs["entropy_parent"], scipy.stats.entropy(rows.sum(axis=0), base=base))
        assert_close(outputs["entropy_children"], scipy.stats.entropy(rows, base=base, axis=1))
    proportions = rows / rows.sum(axis=1, keepdims=True)
    gini = compute("gini-impurity", counts=counts)
    assert_close(gini["gini_children"], 1 - (proportions**2).sum(axis=1))


def test_a_pure_split_gains_the_whole_parent_entropy() -> None:
    outputs = compute("information-gain", counts=[[4, 0], [0, 4]])
    assert outputs["entropy_parent"] == 1.0
    assert outputs["information_gain"] == 1.0
    gini = compute("gini-impurity", counts=[[4, 0], [0, 4]])
    assert (gini["gini_parent"], gini["gini_decrease"]) == (0.5, 0.5)


def test_split_refuses_an_empty_child() -> None:
    assert_refused("gini-impurity", "counts", "row 1 has no examples", counts=[[1, 2], [0, 0]])


# --- ROC-AUC, regression metrics, confusion metrics ---------------------------------------


@st.composite
def scored_labels(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    n = draw(st.integers(2, 30))
    labels = draw(vectors(n, st.integers(0, 1)))
    assume(0 < sum(labels) < n)
    scores = draw(vectors(n, st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.7, 0.9])))  # many ties
    return labels, scores


@given(scored_labels())
def test_roc_auc_matches_sklearn_with_ties(case: tuple[list[int], list[float]]) -> None:
    labels, scores = case
    outputs = compute("roc-auc", y_true=labels, scores=scores)
    assert_close(outputs["auc"], metrics.roc_auc_score(labels, scores))
    fpr, tpr, thresholds = metrics.roc_curve(labels, scores, drop_intermediate=False)
    assert_close(outputs["fpr"], fpr)
    assert_close(outputs["tpr"], tpr)
    assert_close(outputs["thresholds"], thresholds[1:])  # sklearn's first is +inf
    positives = [s for s, t in zip(scores, labels, strict=True) if t]
    negatives = [s for s, t in zip(scores, labels, strict=True) if not t]
    u = scipy.stats.mannwhitneyu(positives, negatives).statistic
    assert_close(outputs["auc"], u / (len(positives) * len(negatives)))


@pytest.mark.parametrize(
    ("scores", "auc"),
    [([0.1, 0.2, 0.8, 0.9], 1.0), ([0.9, 0.8, 0.2, 0.1], 0.0), ([0.5, 0.5, 0.5, 0.5], 0.5)],
)
def test_roc_auc_extremes_and_a_full_tie(scores: list[float], auc: float) -> None:
    assert compute("roc-auc", y_true=[0, 0, 1, 1], scores=scores)["auc"] == auc


def test_roc_auc_refuses_a_single_class() -> None:
    assert_refused("roc-auc", "y_true", "at least one positive", y_true=[1, 1], scores=[0.1, 0.2])


@given(same_length_pairs(values))
def test_regression_metrics_match_sklearn(pair: tuple[list, list]) -> None:
    y_true, y_pred = pair
    assume(max(y_true) - min(y_true) > 1e-3)
    outputs = compute("regression-metrics", y_true=y_true, y_pred=y_pred)
    assert_close(outputs["mse"], metrics.mean_squared_error(y_true, y_pred))
    assert_close(outputs["rmse"], metrics.root_mean_squared_error(y_true, y_pred))
    assert_close(outputs["mae"], metrics.mean_absolute_error(y_true, y_pred))
    assert_close(outputs["r2"], metrics.r2_score(y_true, y_pred), atol=1e-9)


def test_regression_metrics_of_sklearns_documented_example() -> None:
    outputs = compute("regression-metrics", y_true=[3, -0.5, 2, 7], y_pred=[2.5, 0.0, 2, 8])
    assert (outputs["mse"], outputs["mae"]) == (0.375, 0.5)
    assert_close(outputs["r2"], 0.9486081370449679)


def test_regression_metrics_refuse_a_constant_truth() -> None:
    assert_refused(
        "regression-metrics",
        "y_true",
        "R² = 1 − SS_res / SS_tot is undefined",
        y_true=[2.0, 2.0],
        y_pred=[1.0, 3.0],
    )


def label_arrays(tp: int, fp: int, fn: int, tn: int) -> tuple[list[int], list[int]]:
    y_true = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    y_pred = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    return y_true, y_pred


def as_nullable(value: float) -> float | None:
    return None if np.isnan(value) else value


count_values = st.integers(0, 15)


@given(count_values, count_values, count_values, count_values)
def test_confusion_metrics_match_sklearn_on_the_equivalent_labels(tp, fp, fn, tn) -> None:
    assume(tp + fp + fn + tn > 0)
    outputs = compute("confusion-metrics", tp=tp, fp=fp, fn=fn, tn=tn)
    y_true, y_pred = label_arrays(tp, fp, fn, tn)
    nan = np.nan
    expected = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "precision": metrics.precision_score(y_true, y_pred, zero_division=nan),
        "recall": metrics.recall_score(y_true, y_pred, zero_division=nan),
        # FPR = 1 − specificity, the recall of the negative class
        "fpr": 1 - metrics.recall_score(y_true, y_pred, pos_label=0, zero_division=nan),
        "f1": metrics.f1_score(y_true, y_pred, zero_division=nan),
    }
    for name, value in expected.items():
        if as_nullable(value) is None:
            assert outputs[name] is None, name
        else:
            assert_close(outputs[name], value)


@pytest.mark.parametrize(
    ("counts_", "undefined", "why"),
    [
        ({"tp": 0, "fp": 0, "fn": 5, "tn": 3}, "precision", "nothing was predicted positive"),
        ({"tp": 0, "fp": 2, "fn": 0, "tn": 3}, "recall", "no positive examples"),
        ({"tp": 2, "fp": 0, "fn": 1, "tn": 0}, "fpr", "no negative examples"),
        ({"tp": 0, "fp": 0, "fn": 0, "tn": 3}, "f1", "every example is a true negative"),
    ],
)
def test_confusion_metrics_report_an_undefined_ratio_as_null_and_say_why(
    counts_: dict[str, int], undefined: str, why: str
) -> None:
    calculator = calculators.get("confusion-metrics")
    result = calculator.run(calculator.parse(counts_))
    assert result.outputs[undefined] is None
    assert any(why in str(step.value) for step in result.steps)


def test_confusion_metrics_keep_f1_at_zero_when_only_precision_is_undefined() -> None:
    outputs = compute("confusion-metrics", tp=0, fp=0, fn=5, tn=3)
    assert (outputs["precision"], outputs["recall"], outputs["f1"]) == (None, 0.0, 0.0)


def test_confusion_metrics_with_all_counts_zero_is_a_422(readonly_client: TestClient) -> None:
    response = readonly_client.post(
        "/api/calculators/confusion-metrics", json={"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    )
    assert response.status_code == 422
    assert "all four counts are 0" in response.json()["detail"][0]["msg"]


def test_confusion_metrics_refuse_negative_counts() -> None:
    assert_refused("confusion-metrics", "fp", "greater than or equal to 0", tp=1, fp=-1, fn=0, tn=0)
