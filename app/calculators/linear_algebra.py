"""Linear algebra: eigendecomposition, singular values, matrix and Kronecker products."""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    Result,
    Step,
    described,
    shape_text,
)

SYMMETRY_TOLERANCE = 1e-9
"""Relative to the largest entry: typed symmetric matrices may differ in the last digit."""


def require_square(name: str, matrix: np.ndarray) -> None:
    rows, columns = matrix.shape
    if rows != columns:
        raise InvalidInput(name, f"must be square (n×n), got {rows}×{columns}")


def require_symmetric(name: str, matrix: np.ndarray, why: str) -> np.ndarray:
    """The matrix made exactly symmetric, after refusing one that is not symmetric."""
    require_square(name, matrix)
    gap = np.abs(matrix - matrix.T)
    if gap.max() > SYMMETRY_TOLERANCE * max(np.abs(matrix).max(), 1.0):
        i, j = np.unravel_index(gap.argmax(), gap.shape)
        raise InvalidInput(
            name,
            f"must be symmetric ({name}[{i}][{j}] = {matrix[i, j]:g} but "
            f"{name}[{j}][{i}] = {matrix[j, i]:g}): {why}",
        )
    return (matrix + matrix.T) / 2


def first_nonzero_positive(vectors: np.ndarray) -> np.ndarray:
    """Signs per column such that each column's first clearly nonzero entry is positive.

    Eigenvectors and singular vectors are defined only up to sign; fixing it this way
    makes the output reproducible (a rule that looks at the largest entry is not,
    when two entries tie in size, as in (1, −1)/√2).
    """
    signs = np.ones(vectors.shape[1])
    for column in range(vectors.shape[1]):
        vector = vectors[:, column]
        clearly_nonzero = np.abs(vector) > 1e-8 * np.abs(vector).max()
        if clearly_nonzero.any() and vector[clearly_nonzero.argmax()] < 0:
            signs[column] = -1.0
    return signs


def _finite_or_note(value: Any) -> Any:
    """A step value, or a note where it does not fit in double precision."""
    return value if np.isfinite(value).all() else "too large for double precision"


class EigendecompositionInputs(Inputs):
    a: Matrix = described(
        en="Real symmetric matrix A (n×n, one row per line)",
        ja="実対称行列 A（n×n、1 行ずつ入力）",
    )

    @model_validator(mode="after")
    def _square_and_symmetric(self) -> "EigendecompositionInputs":
        require_symmetric(
            "a",
            np.asarray(self.a),
            "a non-symmetric matrix can have complex eigenvalues and non-orthogonal eigenvectors",
        )
        return self


# (d, b, r) with d² + 4b² = r² and d + r even: [[c + d, b], [b, c]] has eigenvalues
# c + (d ± r) / 2, whole numbers a learner finds from λ² − (tr A) λ + det A = 0.
NICE_SYMMETRIC_2X2 = ((0, 1, 2), (0, 2, 4), (0, 3, 6), (3, 2, 5), (6, 4, 10), (8, 3, 10))


def _sample_eigendecomposition(rng: np.random.Generator) -> dict[str, Any]:
    d, b, _ = NICE_SYMMETRIC_2X2[rng.integers(len(NICE_SYMMETRIC_2X2))]
    c = int(rng.integers(-2, 4))
    off_diagonal = float(b * rng.choice([-1, 1]))
    diagonal = [float(c + d), float(c)]
    if rng.integers(2):
        diagonal.reverse()
    return {"a": [[diagonal[0], off_diagonal], [off_diagonal, diagonal[1]]]}


@calculator(
    "eigendecomposition",
    outputs=("eigenvalues", "eigenvectors"),
    sample=_sample_eigendecomposition,
    answer="eigenvalues[0]",
)
def eigendecomposition(inputs: EigendecompositionInputs) -> Result:
    a = np.asarray(inputs.a)
    a = (a + a.T) / 2  # symmetric to within rounding (checked): make it exactly so
    ascending, vectors = np.linalg.eigh(a)
    eigenvalues, q = ascending[::-1], vectors[:, ::-1]
    q = q * first_nonzero_positive(q)
    steps = [Step("tr A = Σ λᵢ", np.trace(a))]
    with np.errstate(over="ignore"):
        steps.append(Step("det A = Π λᵢ", _finite_or_note(np.prod(eigenvalues))))
        if len(a) <= 4:
            steps.append(
                Step(
                    "det(λI − A): coefficients from λⁿ down to λ⁰",
                    _finite_or_note(np.poly(eigenvalues)),
                )
            )
    steps += [
        Step("λ (roots of det(λI − A) = 0, largest first)", eigenvalues),
        Step("Q (unit eigenvectors as columns; first nonzero entry > 0)", q),
        Step("A Q − Q Λ (≈ 0)", a @ q - q * eigenvalues),
        Step("Q Λ Qᵀ (= A)", (q * eigenvalues) @ q.T),
    ]
    return Result({"eigenvalues": eigenvalues, "eigenvectors": q}, steps)


class SvdInputs(Inputs):
    a: Matrix = described(en="Matrix A (m×n, one row per line)", ja="行列 A（m×n、1 行ずつ入力）")


def _sample_svd(rng: np.random.Generator) -> dict[str, Any]:
    family = rng.integers(3)
    if family == 0:  # a rotation times a scale: both singular values are √(p² + q²)
        p, q = ((3, 4), (4, 3), (6, 8), (5, 12), (1, 1))[rng.integers(5)]
        a = np.array([[p, -q], [q, p]]) * rng.choice([-1, 1])
    elif family == 1:  # rank one, u vᵀ: the only nonzero singular value is ‖u‖ ‖v‖
        u = np.array(((3, 4), (1, 2), (2, 2), (0, 5))[rng.integers(4)])
        v = np.array(((1, 0), (0, 1), (1, 1), (2, 1), (1, -1))[rng.integers(5)])
        a = np.outer(u, v)
    else:  # diagonal with signs: the singular values are the sizes of the entries
        a = np.diag(rng.integers(1, 6, size=2) * rng.choice([-1, 1], size=2))
    return {"a": a.astype(float).tolist()}


@calculator(
    "svd",
    outputs=("singular_values", "u", "vt", "rank"),
    sample=_sample_svd,
    answer="singular_values[0]",
)
def svd(inputs: SvdInputs) -> Result:
    a = np.asarray(inputs.a)
    u, singular_values, vt = np.linalg.svd(a, full_matrices=False)
    signs = first_nonzero_positive(vt.T)
    u, vt = u * signs, vt * signs[:, None]
    tolerance = singular_values.max() * max(a.shape) * np.finfo(float).eps
    rank = int((singular_values > tolerance).sum())
    gram = a.T @ a if a.shape[1] <= a.shape[0] else a @ a.T
    gram_label = "AᵀA" if a.shape[1] <= a.shape[0] else "AAᵀ"
    steps = []
    if len(gram) <= 16:
        steps += [
            Step(gram_label, gram),
            Step(f"λᵢ: eigenvalues of {gram_label}, largest first", np.linalg.eigvalsh(gram)[::-1]),
        ]
    steps += [
        Step("σᵢ = √λᵢ (computed without forming the product)", singular_values),
        Step("V (right singular vectors as rows of Vᵀ; first nonzero entry > 0)", vt),
        Step("U (left singular vectors as columns, uᵢ = A vᵢ / σᵢ)", u),
        Step("rank = number of σᵢ > 0", rank),
        Step("U Σ Vᵀ (= A)", (u * singular_values) @ vt),
    ]
    return Result({"singular_values": singular_values, "u": u, "vt": vt, "rank": rank}, steps)


def require_result_size(name: str, shape: tuple[int, int]) -> None:
    size = shape[0] * shape[1]
    if size > MAX_ELEMENTS:
        raise InvalidInput(
            name,
            f"the result would be {shape_text(shape)} = {size} numbers; "
            f"at most {MAX_ELEMENTS} are computed",
        )


class MatrixProductInputs(Inputs):
    a: Matrix = described(en="Left matrix A (m×n)", ja="左の行列 A（m×n）")
    b: Matrix = described(
        en="Right matrix B (n×p): as many rows as A has columns",
        ja="右の行列 B（n×p）：行数は A の列数と同じ",
    )

    @model_validator(mode="after")
    def _inner_sizes_agree(self) -> "MatrixProductInputs":
        (m, n), (rows, p) = np.shape(self.a), np.shape(self.b)
        if rows != n:
            raise InvalidInput(
                "b", f"must have n = {n} rows (the number of columns of a), got {rows}"
            )
        require_result_size("b", (m, p))
        return self


@calculator("matrix-product", outputs=("product",))
def matrix_product(inputs: MatrixProductInputs) -> Result:
    a, b = np.asarray(inputs.a), np.asarray(inputs.b)
    product = a @ b
    steps = [
        Step(
            "shapes (m×n)(n×p) → m×p",
            f"({shape_text(a.shape)})({shape_text(b.shape)}) → {shape_text(product.shape)}",
        ),
        Step(
            "a₁ₖ bₖ₁ for k = 1…n (row 1 of A times column 1 of B; they add up to c₁₁)",
            a[0] * b[:, 0],
        ),
        Step("C = AB, cᵢⱼ = Σₖ aᵢₖ bₖⱼ", product),
    ]
    if a.shape == b.shape == (len(a), len(a)):
        swapped = b @ a
        steps.append(Step("BA (the other order)", swapped))
        steps.append(Step("AB = BA?", "yes" if np.array_equal(product, swapped) else "no"))
    return Result({"product": product}, steps)


class KroneckerProductInputs(Inputs):
    a: Matrix = described(
        en="Matrix A (m×n); a column (m×1) gives the outer product with a row B",
        ja="行列 A（m×n）。列ベクトル（m×1）と行ベクトル B なら外積になる",
    )
    b: Matrix = described(en="Matrix B (p×q)", ja="行列 B（p×q）")

    @model_validator(mode="after")
    def _result_fits(self) -> "KroneckerProductInputs":
        (m, n), (p, q) = np.shape(self.a), np.shape(self.b)
        require_result_size("b", (m * p, n * q))
        return self


@calculator("kronecker-product", outputs=("product",))
def kronecker_product(inputs: KroneckerProductInputs) -> Result:
    a, b = np.asarray(inputs.a), np.asarray(inputs.b)
    product = np.kron(a, b)
    steps = [
        Step(
            "shapes (m×n) ⊗ (p×q) → (mp)×(nq)",
            f"({shape_text(a.shape)}) ⊗ ({shape_text(b.shape)}) → {shape_text(product.shape)}",
        ),
        Step("block (1, 1) = a₁₁ B", a[0, 0] * b),
        Step("A ⊗ B = [aᵢⱼ B]", product),
    ]
    if a.shape[1] == 1 and b.shape[0] == 1:
        steps.append(Step("outer product u vᵀ (A a column u, B a row vᵀ)", np.outer(a, b)))
    return Result({"product": product}, steps)
