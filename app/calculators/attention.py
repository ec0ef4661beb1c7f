"""Attention."""

import numpy as np
from pydantic import model_validator

from app.calculators.activations import stable_softmax
from app.calculators.registry import calculator
from app.calculators.types import (
    BoolMatrix,
    Inputs,
    InvalidInput,
    Matrix,
    Result,
    Step,
    described,
)


class AttentionInputs(Inputs):
    q: Matrix = described(en="Queries Q (n×d_k)", ja="クエリ Q（n×d_k）")
    k: Matrix = described(en="Keys K (m×d_k)", ja="キー K（m×d_k）")
    v: Matrix = described(en="Values V (m×d_v)", ja="バリュー V（m×d_v）")
    mask: BoolMatrix | None = described(
        None,
        en="Optional mask (n×m): true where query i may attend to key j",
        ja="マスク（任意、n×m）：クエリ i がキー j を参照してよい所を true",
    )

    @model_validator(mode="after")
    def _compatible_shapes(self) -> "AttentionInputs":
        n, d = np.shape(self.q)
        m, d_k = np.shape(self.k)
        if d_k != d:
            raise InvalidInput("k", f"must have d_k = {d} columns like q, got {d_k}")
        if len(self.v) != m:
            raise InvalidInput("v", f"must have m = {m} rows like k, got {len(self.v)}")
        if self.mask is not None:
            if np.shape(self.mask) != (n, m):
                raise InvalidInput("mask", f"must be n×m = {n}×{m}, got {np.shape(self.mask)}")
            for row, allowed in enumerate(self.mask):
                if not any(allowed):
                    raise InvalidInput(
                        "mask", f"row {row} is all false: query {row} has nothing to attend to"
                    )
        return self


@calculator("scaled-dot-product-attention", outputs=("output", "weights"))
def scaled_dot_product_attention(inputs: AttentionInputs) -> Result:
    q, k, v = (np.asarray(matrix) for matrix in (inputs.q, inputs.k, inputs.v))
    scores = q @ k.T
    scaled = scores / np.sqrt(q.shape[1])
    if inputs.mask is not None:
        scaled = np.where(np.asarray(inputs.mask), scaled, -np.inf)
    weights = stable_softmax(scaled, axis=1)
    output = weights @ v
    return Result(
        {"output": output, "weights": weights},
        [
            Step("Q Kᵀ", scores),
            Step("√d_k", np.sqrt(q.shape[1])),
            Step("softmax(Q Kᵀ / √d_k) by row (masked positions get 0)", weights),
            Step("Attention(Q, K, V) = weights · V", output),
        ],
    )
