import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-5, max_value=5)


def matrix(rows: int, columns: int) -> st.SearchStrategy[list[list[float]]]:
    return st.lists(
        st.lists(values, min_size=columns, max_size=columns), min_size=rows, max_size=rows
    )


@st.composite
def attention_inputs(draw: st.DrawFn) -> dict:
    n, m, d, dv = (draw(st.integers(1, 6)) for _ in range(4))
    inputs = {"q": draw(matrix(n, d)), "k": draw(matrix(m, d)), "v": draw(matrix(m, dv))}
    if draw(st.booleans()):
        mask = np.asarray(
            draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=n, max_size=n))
        )
        mask[np.arange(n), draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n))] = True
        inputs["mask"] = mask.tolist()
    return inputs


@given(attention_inputs())
def test_attention_matches_torch_scaled_dot_product_attention(inputs: dict) -> None:
    q, k, v = (tensor(inputs[name]) for name in "qkv")
    mask = torch.tensor(inputs["mask"]) if "mask" in inputs else None
    outputs = compute("scaled-dot-product-attention", **inputs)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert_close(outputs["output"], expected)
    scores = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    assert_close(outputs["weights"], torch.softmax(scores, dim=-1))


def test_attention_refuses_a_query_that_may_attend_to_nothing() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(
            "scaled-dot-product-attention",
            q=[[1.0]],
            k=[[1.0], [2.0]],
            v=[[1.0], [2.0]],
            mask=[[False, False]],
        )
    assert caught.value.field == "mask"


def test_attention_refuses_keys_of_another_width() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("scaled-dot-product-attention", q=[[1.0, 2.0]], k=[[1.0]], v=[[1.0]])
    assert caught.value.field == "k"
