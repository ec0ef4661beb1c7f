"""Attention: scaled dot-product, additive (Bahdanau), multi-head; positional encoding."""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.activations import stable_softmax
from app.calculators.registry import calculator
from app.calculators.rnn import require_shape
from app.calculators.types import (
    MAX_ELEMENTS,
    BoolMatrix,
    Inputs,
    InvalidInput,
    Matrix,
    Result,
    Step,
    Vector,
    described,
)
from app.plots import Heatmap, Text, cropped, joined, short, words


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


def weights_heatmap(weights: np.ndarray, masked: np.ndarray | None = None) -> Heatmap:
    """Attention weights, one row per query, on a 0–1 scale."""
    shown, note = cropped(np.atleast_2d(weights))
    rows, columns = shown.shape
    rows_of_weights = np.atleast_2d(weights)
    largest = "; ".join(
        f"q{i} = {short(row.max())} (k{int(row.argmax())})"
        for i, row in enumerate(rows_of_weights[:8])
    )
    return Heatmap(
        title=words("Attention weights", "注意の重み"),
        summary=joined(
            words("weights from 0 to 1; largest per query: ", "重み（0〜1）。クエリごとの最大："),
            largest,
        ),
        values=shown,
        row_label=words("query i", "クエリ i"),
        column_label=words("key j", "キー j"),
        low=0.0,
        high=1.0,
        masked=None if masked is None else masked[:rows, :columns],
        note=note,
    )


def _attention_plot(inputs: "AttentionInputs", result: Result) -> Heatmap:
    masked = None if inputs.mask is None else ~np.asarray(inputs.mask)
    return weights_heatmap(np.asarray(result.outputs["weights"]), masked)


def _weights_plot(_inputs: Inputs, result: Result) -> Heatmap:
    return weights_heatmap(np.asarray(result.outputs["weights"]))


@calculator("scaled-dot-product-attention", outputs=("output", "weights"), plot=_attention_plot)
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


class AdditiveAttentionInputs(Inputs):
    query: Vector = described(
        en="Decoder state s_{i−1} (length n)", ja="デコーダの状態 s_{i−1}（長さ n）"
    )
    keys: Matrix = described(
        en="Encoder annotations h_j, one per row (T_x × m)",
        ja="エンコーダの注釈ベクトル h_j。1 行に 1 つ（T_x × m）",
    )
    w_a: Matrix = described(en="W_a (n′ × n)", ja="W_a（n′ × n）")
    u_a: Matrix = described(en="U_a (n′ × m)", ja="U_a（n′ × m）")
    v_a: Vector = described(en="v_a (length n′)", ja="v_a（長さ n′）")

    @model_validator(mode="after")
    def _shapes(self) -> "AdditiveAttentionInputs":
        n, m, n_hidden = len(self.query), len(self.keys[0]), len(self.v_a)
        require_shape(self, "w_a", (n_hidden, n), f"n′ = {n_hidden} rows like v_a, n = {n}")
        require_shape(self, "u_a", (n_hidden, m), f"n′ = {n_hidden} rows, m = {m} like keys")
        return self


def _sample_additive_attention(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "query": [float(rng.choice([-1.0, 0.0, 1.0]))],
        "keys": rng.choice([-1.0, 0.0, 1.0, 2.0], size=(2, 1)).tolist(),
        "w_a": [[1.0]],
        "u_a": [[float(rng.choice([0.5, 1.0]))]],
        "v_a": [float(rng.choice([1.0, 2.0]))],
    }


@calculator(
    "additive-attention",
    outputs=("context", "weights", "scores"),
    sample=_sample_additive_attention,
    answer="weights[0]",
    plot=_weights_plot,
)
def additive_attention(inputs: AdditiveAttentionInputs) -> Result:
    keys = np.asarray(inputs.keys)
    projected_query = np.asarray(inputs.w_a) @ np.asarray(inputs.query)
    projected_keys = keys @ np.asarray(inputs.u_a).T
    hidden = np.tanh(projected_query + projected_keys)
    scores = hidden @ np.asarray(inputs.v_a)
    weights = stable_softmax(scores)
    context = weights @ keys
    return Result(
        {"context": context, "weights": weights, "scores": scores},
        [
            Step("W_a s_{i−1}", projected_query),
            Step("U_a h_j  (one row per j)", projected_keys),
            Step("tanh(W_a s_{i−1} + U_a h_j)", hidden),
            Step("e_ij = v_aᵀ tanh(W_a s_{i−1} + U_a h_j)", scores),
            Step("α_ij = exp(e_ij) / Σ_k exp(e_ik)", weights),
            Step("c_i = Σ_j α_ij h_j", context),
        ],
    )


MAX_MODEL_DIMENSION = 64


def _split_like_w_q(letter: str) -> dict[str, str]:
    return {
        "en": f"W^{letter} (d_model × d_model), split into heads by columns like W^Q",
        "ja": f"W^{letter}（d_model × d_model）。W^Q と同じく列でヘッドに分ける",
    }


class MultiHeadAttentionInputs(Inputs):
    q: Matrix = described(en="Queries Q (n × d_model)", ja="クエリ Q（n × d_model）")
    k: Matrix = described(en="Keys K (m × d_model)", ja="キー K（m × d_model）")
    v: Matrix = described(en="Values V (m × d_model)", ja="バリュー V（m × d_model）")
    num_heads: int = described(
        ge=1,
        le=MAX_MODEL_DIMENSION,
        en="Number of heads h (divides d_model)",
        ja="ヘッド数 h（d_model を割り切る数）",
    )
    w_q: Matrix = described(
        en="W^Q (d_model × d_model): head i = 1…h uses columns (i−1)·d_k … i·d_k − 1 as W_i^Q",
        ja="W^Q（d_model × d_model）。ヘッド i = 1…h は列 (i−1)·d_k … i·d_k − 1 を W_i^Q に使う",
    )
    w_k: Matrix = described(**_split_like_w_q("K"))
    w_v: Matrix = described(**_split_like_w_q("V"))
    w_o: Matrix = described(
        en="Output weights W^O (d_model × d_model)", ja="出力の重み W^O（d_model × d_model）"
    )

    @model_validator(mode="after")
    def _shapes(self) -> "MultiHeadAttentionInputs":
        d = len(self.q[0])
        if d > MAX_MODEL_DIMENSION:
            raise InvalidInput("q", f"d_model is at most {MAX_MODEL_DIMENSION} here, got {d}")
        require_shape(self, "k", (len(self.k), d), f"d_model = {d} columns like q")
        require_shape(self, "v", (len(self.k), d), f"m = {len(self.k)} rows like k, d_model = {d}")
        if d % self.num_heads:
            raise InvalidInput("num_heads", f"must divide d_model = {d}")
        for name in ("w_q", "w_k", "w_v", "w_o"):
            require_shape(self, name, (d, d), f"d_model = {d}")
        return self


@calculator("multi-head-attention", outputs=("output", "weights", "concat"), plot=_weights_plot)
def multi_head_attention(inputs: MultiHeadAttentionInputs) -> Result:
    h = inputs.num_heads
    d_k = len(inputs.q[0]) // h
    projected = [
        np.asarray(x) @ np.asarray(w)
        for x, w in ((inputs.q, inputs.w_q), (inputs.k, inputs.w_k), (inputs.v, inputs.w_v))
    ]
    heads, head_weights, steps = [], [], [Step("d_k = d_v = d_model / h", d_k)]
    for i in range(h):
        q_i, k_i, v_i = (x[:, i * d_k : (i + 1) * d_k] for x in projected)
        weights = stable_softmax(q_i @ k_i.T / np.sqrt(d_k), axis=1)
        heads.append(weights @ v_i)
        head_weights.append(weights)
        steps.append(Step(f"head {i + 1}: softmax(Q W_{i + 1}^Q (K W_{i + 1}^K)ᵀ / √d_k)", weights))
    concat = np.concatenate(heads, axis=1)
    output = concat @ np.asarray(inputs.w_o)
    mean_weights = np.mean(head_weights, axis=0)
    steps += [
        Step("Concat(head_1, …, head_h)", concat),
        Step("MultiHead(Q, K, V) = Concat(…) W^O", output),
        Step("weights averaged over the heads", mean_weights),
    ]
    return Result({"output": output, "weights": mean_weights, "concat": concat}, steps)


class PositionalEncodingInputs(Inputs):
    positions: int = described(
        ge=1,
        le=MAX_ELEMENTS,
        en="Number of positions (pos = 0 … positions − 1)",
        ja="位置の数（pos = 0 … positions − 1）",
    )
    d_model: int = described(
        ge=2,
        le=MAX_ELEMENTS,
        en="Model dimension d_model (even)",
        ja="モデルの次元 d_model（偶数）",
    )

    @model_validator(mode="after")
    def _even_and_bounded(self) -> "PositionalEncodingInputs":
        if self.d_model % 2:
            raise InvalidInput("d_model", "must be even: dimensions come in sin/cos pairs")
        if self.positions * self.d_model > MAX_ELEMENTS:
            raise InvalidInput(
                "positions",
                f"positions × d_model = {self.positions * self.d_model} exceeds "
                f"{MAX_ELEMENTS} elements",
            )
        return self


def _encoding_plot(inputs: PositionalEncodingInputs, result: Result) -> Heatmap:
    encoding = np.asarray(result.outputs["encoding"])
    shown, note = cropped(encoding)
    last: Text = f"PE({inputs.positions - 1}, ·) = " + ", ".join(
        short(value) for value in encoding[-1, :4]
    )
    return Heatmap(
        title=words("Positional encoding", "位置エンコーディング"),
        summary=joined(
            words(
                "sine (even dimensions) and cosine (odd) from −1 to 1; ",
                "偶数次元は sin、奇数次元は cos（−1〜1）。",
            ),
            last,
        ),
        values=shown,
        row_label=words("position pos", "位置 pos"),
        column_label=words("dimension", "次元"),
        low=-1.0,
        high=1.0,
        note=note,
    )


@calculator("positional-encoding", outputs=("encoding",), plot=_encoding_plot)
def positional_encoding(inputs: PositionalEncodingInputs) -> Result:
    pos = np.arange(inputs.positions)[:, None]
    two_i = np.arange(0, inputs.d_model, 2)
    divisors = 10000.0 ** (two_i / inputs.d_model)
    angles = pos / divisors
    encoding = np.empty((inputs.positions, inputs.d_model))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles)
    return Result(
        {"encoding": encoding},
        [
            Step("10000^(2i / d_model),  i = 0 … d_model/2 − 1", divisors),
            Step("PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),  PE(pos, 2i+1) = cos(…)", encoding),
        ],
    )
