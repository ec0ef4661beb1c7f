"""Eigendecomposition, SVD, matrix and Kronecker products against NumPy, SciPy and PyTorch.

Eigenvectors and singular vectors are unique only up to sign (and, for a repeated value,
up to a rotation within its space), so vectors are compared through the sign-free
projections v vᵀ, and only where the value is well separated from the others.
"""

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given
from hypothesis import strategies as st

from app import calculators
from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

entries = st.floats(min_value=-100, max_value=100)


@st.composite
def matrices(draw: st.DrawFn, max_side: int = 6) -> np.ndarray:
    rows, columns = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    values = draw(st.lists(entries, min_size=rows * columns, max_size=rows * columns))
    return np.array(values).reshape(rows, columns)


@st.composite
def symmetric_matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 6))
    values = np.array(draw(st.lists(entries, min_size=n * n, max_size=n * n))).reshape(n, n)
    return np.triu(values) + np.triu(values, 1).T


def well_separated(values: np.ndarray, scale: float) -> list[int]:
    """Indices of values at least 1e-3 × scale away from every other value."""
    gaps = np.abs(values[:, None] - values[None, :])
    np.fill_diagonal(gaps, np.inf)
    return [i for i in range(len(values)) if gaps[i].min() > 1e-3 * scale]


def assert_first_nonzero_entries_positive(vectors: np.ndarray) -> None:
    for vector in vectors.T:
        clearly_nonzero = np.abs(vector) > 1e-8 * np.abs(vector).max()
        assert vector[clearly_nonzero.argmax()] > 0


@given(symmetric_matrices())
def test_eigendecomposition_matches_numpy_and_scipy_eigh(a: np.ndarray) -> None:
    outputs = compute("eigendecomposition", a=a.tolist())
    eigenvalues, q = np.asarray(outputs["eigenvalues"]), np.asarray(outputs["eigenvectors"])
    scale = max(np.abs(a).max(), 1.0)
    reference_values, reference_vectors = scipy.linalg.eigh(a)
    # Largest first, as Goodfellow et al. §2.7; eigh returns them in ascending order.
    assert_close(eigenvalues, reference_values[::-1], atol=1e-12 * scale)
    assert_close(eigenvalues, np.linalg.eigvalsh(a)[::-1], atol=1e-12 * scale)
    assert_close(q.T @ q, np.eye(len(a)), atol=1e-12)
    assert_close(a @ q, q * eigenvalues, atol=1e-12 * scale)
    for i in well_separated(reference_values[::-1], scale):
        ours, theirs = q[:, i], reference_vectors[:, ::-1][:, i]
        assert_close(np.outer(ours, ours), np.outer(theirs, theirs), atol=1e-9)
    assert_first_nonzero_entries_positive(q)


def test_eigendecomposition_of_a_worked_two_by_two() -> None:
    # det(λI − A) = λ² − 4λ + 3 = (λ − 3)(λ − 1)
    outputs = compute("eigendecomposition", a=[[2.0, 1.0], [1.0, 2.0]])
    assert_close(outputs["eigenvalues"], [3.0, 1.0])
    root_half = np.sqrt(0.5)
    assert_close(outputs["eigenvectors"], [[root_half, root_half], [root_half, -root_half]])


def test_eigendecomposition_matches_torch_eigvalsh() -> None:
    a = [[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]
    expected = torch.linalg.eigvalsh(tensor(a)).flip(0)
    assert_close(compute("eigendecomposition", a=a)["eigenvalues"], expected)


def test_sampled_symmetric_matrices_have_whole_number_eigenvalues() -> None:
    calculator = calculators.get("eigendecomposition")
    rng = np.random.default_rng(0)
    for _ in range(100):
        a = np.array(calculator.sample(rng)["a"])
        eigenvalues = np.linalg.eigvalsh(a)
        assert_close(eigenvalues, np.round(eigenvalues), atol=1e-12)


@pytest.mark.parametrize(
    ("a", "reason"),
    [
        ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "square"),
        ([[1.0, 2.0], [3.0, 4.0]], "symmetric"),
    ],
)
def test_eigendecomposition_refuses_non_symmetric_input(a: list, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("eigendecomposition", a=a)
    assert caught.value.field == "a"
    assert reason in caught.value.reason


@given(matrices())
def test_svd_matches_numpy_scipy_and_torch(a: np.ndarray) -> None:
    outputs = compute("svd", a=a.tolist())
    sigma = np.asarray(outputs["singular_values"])
    u, vt = np.asarray(outputs["u"]), np.asarray(outputs["vt"])
    scale = max(np.abs(a).max(), 1.0)
    atol = 1e-12 * scale * max(a.shape)
    assert_close(sigma, scipy.linalg.svdvals(a), atol=atol)
    assert_close(sigma, torch.linalg.svdvals(tensor(a.tolist())), atol=atol)
    assert_close((u * sigma) @ vt, a, atol=atol)
    assert outputs["rank"] == np.linalg.matrix_rank(a)
    reference_u, reference_sigma, reference_vt = np.linalg.svd(a, full_matrices=False)
    for i in well_separated(reference_sigma, scale):
        if reference_sigma[i] > 1e-6 * scale:  # vectors of a zero singular value are arbitrary
            assert_close(
                np.outer(u[:, i], vt[i]), np.outer(reference_u[:, i], reference_vt[i]), atol=1e-9
            )
    assert_first_nonzero_entries_positive(vt.T)


def test_svd_of_a_worked_matrix() -> None:
    # AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5.
    outputs = compute("svd", a=[[3.0, 0.0], [4.0, 5.0]])
    assert_close(outputs["singular_values"], [np.sqrt(45), np.sqrt(5)])
    assert_close(outputs["vt"], np.sqrt(0.5) * np.array([[1.0, 1.0], [1.0, -1.0]]))
    assert_close(outputs["u"], np.array([[1.0, 3.0], [3.0, -1.0]]) / np.sqrt(10))


def test_svd_of_a_rank_one_matrix_has_one_nonzero_singular_value() -> None:
    outputs = compute("svd", a=np.outer([3.0, 4.0], [1.0, 2.0, 2.0]).tolist())
    assert outputs["rank"] == 1
    assert_close(outputs["singular_values"], [15.0, 0.0], atol=1e-12)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.data())
def test_matrix_product_matches_torch_matmul(m: int, n: int, p: int, data: st.DataObject) -> None:
    a = data.draw(st.lists(st.lists(entries, min_size=n, max_size=n), min_size=m, max_size=m))
    b = data.draw(st.lists(st.lists(entries, min_size=p, max_size=p), min_size=n, max_size=n))
    product = compute("matrix-product", a=a, b=b)["product"]
    assert_close(product, torch.matmul(tensor(a), tensor(b)), atol=1e-9)


def test_matrix_product_does_not_commute() -> None:
    a, b = [[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]
    assert compute("matrix-product", a=a, b=b)["product"] == [[2.0, 1.0], [4.0, 3.0]]
    assert compute("matrix-product", a=b, b=a)["product"] == [[3.0, 4.0], [1.0, 2.0]]


def test_matrix_product_refuses_mismatched_inner_sizes() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("matrix-product", a=[[1.0, 2.0, 3.0]], b=[[1.0], [2.0]])
    assert caught.value.field == "b"
    assert "n = 3 rows" in caught.value.reason


def test_matrix_product_refuses_a_result_beyond_the_element_cap() -> None:
    column, row = [[1.0]] * 100, [[1.0] * 100]
    with pytest.raises(InvalidInput) as caught:
        compute("matrix-product", a=column, b=row)
    assert caught.value.field == "b"
    assert "100×100" in caught.value.reason


@given(matrices(max_side=4), matrices(max_side=4))
def test_kronecker_product_matches_numpy_and_torch(a: np.ndarray, b: np.ndarray) -> None:
    product = compute("kronecker-product", a=a.tolist(), b=b.tolist())["product"]
    assert_close(product, np.kron(a, b))
    assert_close(product, torch.kron(tensor(a.tolist()), tensor(b.tolist())))


def test_kronecker_product_of_a_column_and_a_row_is_the_outer_product() -> None:
    u, v = [1.0, 2.0], [3.0, 4.0, 5.0]
    product = compute("kronecker-product", a=[[value] for value in u], b=[v])["product"]
    assert_close(product, np.outer(u, v))


def test_kronecker_product_blocks_are_b_scaled_by_each_entry_of_a() -> None:
    product = np.asarray(
        compute("kronecker-product", a=[[1.0, 2.0], [3.0, 4.0]], b=[[0.0, 5.0], [6.0, 7.0]])[
            "product"
        ]
    )
    assert_close(product[2:, :2], 3 * np.array([[0.0, 5.0], [6.0, 7.0]]))


def test_kronecker_product_refuses_a_result_beyond_the_element_cap() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("kronecker-product", a=[[1.0] * 70], b=[[1.0] * 70])
    assert caught.value.field == "b"
    assert "at most 4096" in caught.value.reason
