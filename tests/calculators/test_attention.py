import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
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


# Additive (Bahdanau) attention -----------------------------------------------------------


@st.composite
def additive_inputs(draw: st.DrawFn) -> dict:
    n, m, hidden, t = (draw(st.integers(1, 5)) for _ in range(4))
    return {
        "query": draw(st.lists(values, min_size=n, max_size=n)),
        "keys": draw(matrix(t, m)),
        "w_a": draw(matrix(hidden, n)),
        "u_a": draw(matrix(hidden, m)),
        "v_a": draw(st.lists(values, min_size=hidden, max_size=hidden)),
    }


@given(additive_inputs())
def test_additive_attention_matches_bahdanau_et_al_written_in_torch(inputs: dict) -> None:
    s, h = tensor(inputs["query"]), tensor(inputs["keys"])
    w_a, u_a, v_a = tensor(inputs["w_a"]), tensor(inputs["u_a"]), tensor(inputs["v_a"])
    # e_ij = v_aᵀ tanh(W_a s_{i−1} + U_a h_j), α = softmax_j(e), c = Σ_j α_ij h_j
    energies = torch.stack([v_a @ torch.tanh(w_a @ s + u_a @ h_j) for h_j in h])
    alpha = torch.softmax(energies, 0)
    outputs = compute("additive-attention", **inputs)
    assert_close(outputs["scores"], energies)
    assert_close(outputs["weights"], alpha)
    assert_close(outputs["context"], alpha @ h)


def test_additive_attention_refuses_u_a_that_does_not_fit_the_keys() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(
            "additive-attention",
            query=[1.0],
            keys=[[1.0, 2.0]],
            w_a=[[1.0]],
            u_a=[[1.0]],
            v_a=[1.0],
        )
    assert caught.value.field == "u_a"


# Multi-head attention --------------------------------------------------------------------


@st.composite
def multi_head_inputs(draw: st.DrawFn) -> dict:
    heads, d_k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    d, n, m = heads * d_k, draw(st.integers(1, 5)), draw(st.integers(1, 5))
    inputs = {"q": draw(matrix(n, d)), "k": draw(matrix(m, d)), "v": draw(matrix(m, d))}
    inputs |= {name: draw(matrix(d, d)) for name in ("w_q", "w_k", "w_v", "w_o")}
    return inputs | {"num_heads": heads}


@given(multi_head_inputs())
def test_multi_head_attention_matches_torch_multi_head_attention_forward(inputs: dict) -> None:
    d, heads = len(inputs["q"][0]), inputs["num_heads"]
    # torch multiplies x Wᵀ, so it holds the transposes, stacked as [W^Q; W^K; W^V].
    in_proj = torch.cat([tensor(inputs[name]).T for name in ("w_q", "w_k", "w_v")])
    expected, weights = F.multi_head_attention_forward(
        *(tensor(inputs[name]) for name in "qkv"),
        embed_dim_to_check=d,
        num_heads=heads,
        in_proj_weight=in_proj,
        in_proj_bias=None,
        bias_k=None,
        bias_v=None,
        add_zero_attn=False,
        dropout_p=0.0,
        out_proj_weight=tensor(inputs["w_o"]).T,
        out_proj_bias=None,
        training=False,
    )
    outputs = compute("multi-head-attention", **inputs)
    assert_close(outputs["output"], expected)
    assert_close(outputs["weights"], weights)


def test_multi_head_attention_matches_an_explicitly_loaded_torch_module() -> None:
    rng = np.random.default_rng(5)
    d, heads = 4, 2
    q, k = rng.normal(size=(3, d)), rng.normal(size=(2, d))
    w = {name: rng.normal(size=(d, d)) for name in ("w_q", "w_k", "w_v", "w_o")}
    module = torch.nn.MultiheadAttention(d, heads, bias=False, batch_first=True)
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.cat([tensor(w[n]).T for n in ("w_q", "w_k", "w_v")]))
        module.out_proj.weight.copy_(tensor(w["w_o"]).T)
    expected, weights = module(tensor(q)[None], tensor(k)[None], tensor(k)[None])
    outputs = compute(
        "multi-head-attention",
        q=q.tolist(),
        k=k.tolist(),
        v=k.tolist(),
        num_heads=heads,
        **{name: value.tolist() for name, value in w.items()},
    )
    assert_close(outputs["output"], expected[0])
    assert_close(outputs["weights"], weights[0])


def with_identity_weights(**inputs: Any) -> dict:
    """Multi-head attention whose four projections are all the identity."""
    identity = np.eye(len(inputs["q"][0])).tolist()
    weights = dict.fromkeys(("w_q", "w_k", "w_v", "w_o"), identity)
    return compute("multi-head-attention", **inputs, **weights)


def test_one_head_with_identity_weights_is_scaled_dot_product_attention() -> None:
    q, k, v = [[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]]
    outputs = with_identity_weights(q=q, k=k, v=v, num_heads=1)
    single = compute("scaled-dot-product-attention", q=q, k=k, v=v)
    assert_close(outputs["output"], single["output"])
    assert_close(outputs["weights"], single["weights"])


def test_multi_head_attention_refuses_heads_that_do_not_divide_d_model() -> None:
    identity = np.eye(3).tolist()
    with pytest.raises(InvalidInput) as caught:
        with_identity_weights(q=identity, k=identity, v=identity, num_heads=2)
    assert caught.value.field == "num_heads"


# Positional encoding ---------------------------------------------------------------------


@given(st.integers(1, 24), st.integers(1, 12))
def test_positional_encoding_is_sin_on_even_and_cos_on_odd_dimensions(
    positions: int, half: int
) -> None:
    d_model = 2 * half
    encoding = compute("positional-encoding", positions=positions, d_model=d_model)["encoding"]
    assert np.shape(encoding) == (positions, d_model)
    for pos in range(positions):
        for i in range(half):
            angle = pos / 10000 ** (2 * i / d_model)
            assert_close(encoding[pos][2 * i], math.sin(angle), atol=1e-12)
            assert_close(encoding[pos][2 * i + 1], math.cos(angle), atol=1e-12)


def test_positional_encoding_of_position_zero_alternates_zero_and_one() -> None:
    encoding = compute("positional-encoding", positions=1, d_model=6)["encoding"]
    assert encoding == [[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    ("positions", "d_model", "field"), [(4, 5, "d_model"), (65, 64, "positions")]
)
def test_positional_encoding_refuses_odd_or_oversized_tables(positions, d_model, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("positional-encoding", positions=positions, d_model=d_model)
    assert caught.value.field == field
