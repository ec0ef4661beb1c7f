"""Recurrent networks: one step of a simple RNN, LSTM and GRU cell, BPTT, bidirectional RNN.

Vectors are rows and weights multiply from the right (x W), as in NumPy code and in the
LSTM contract: an input weight is D×(gates·H), a recurrent weight H×(gates·H).
PyTorch stores the transposes (weight_ih = W_xᵀ, weight_hh = W_hᵀ).
"""

from typing import Any

import numpy as np
from pydantic import model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    Inputs,
    InvalidInput,
    Matrix,
    Real,
    Result,
    Step,
    Vector,
    described,
    shape_text,
)


def logistic(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(−x)) without overflow: e^(−|x|) lies in (0, 1]."""
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))


def require_shape(inputs: Inputs, name: str, expected: tuple[int, ...], why: str) -> None:
    """Raise InvalidInput on `name` unless its shape is `expected`; `why` names the sizes."""
    actual = np.shape(getattr(inputs, name))
    if actual != expected:
        raise InvalidInput(
            name, f"must be {shape_text(expected)} ({why}), got {shape_text(actual)}"
        )


def _nice(rng: np.random.Generator, choices: list[float], size: int | tuple[int, ...]) -> Any:
    return rng.choice(choices, size=size).tolist()


X = {"en": "Input x_t (length D)", "ja": "入力 x_t（長さ D）"}
H_PREV = {"en": "Previous hidden state h_{t−1} (length H)", "ja": "前の隠れ状態 h_{t−1}（長さ H）"}


def _gate_weights(gates: int, order: str) -> tuple[dict[str, str], dict[str, str]]:
    size = f"{gates}H" if gates > 1 else "H"
    return (
        {
            "en": f"Input weights W_x (D×{size}){order}",
            "ja": f"入力の重み W_x（D×{size}）{order}",
        },
        {
            "en": f"Recurrent weights W_h (H×{size}){order}",
            "ja": f"再帰の重み W_h（H×{size}）{order}",
        },
    )


def _check_cell(inputs: Inputs, gates: int, biases: tuple[str, ...]) -> None:
    """x, h_prev, w_x, w_h and the biases of a cell with `gates` blocks of width H."""
    d, h = len(inputs.x), len(inputs.h_prev)
    width = gates * h
    blocks = f"{gates} blocks of H = {h}" if gates > 1 else f"H = {h}"
    require_shape(inputs, "w_x", (d, width), f"D = {d} rows, {blocks} columns")
    require_shape(inputs, "w_h", (h, width), f"H = {h} rows, {blocks} columns")
    for name in biases:
        require_shape(inputs, name, (width,), blocks)


class RnnStepInputs(Inputs):
    x: Vector = described(**X)
    h_prev: Vector = described(**H_PREV)
    w_x: Matrix = described(**_gate_weights(1, "")[0])
    w_h: Matrix = described(**_gate_weights(1, "")[1])
    b: Vector = described(en="Bias b (length H)", ja="バイアス b（長さ H）")

    @model_validator(mode="after")
    def _shapes(self) -> "RnnStepInputs":
        _check_cell(self, 1, ("b",))
        return self


def _sample_rnn_step(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": _nice(rng, [-1.0, 0.0, 1.0, 2.0], 1),
        "h_prev": _nice(rng, [-0.5, 0.0, 0.5], 1),
        "w_x": [_nice(rng, [0.5, 1.0], 1)],
        "w_h": [_nice(rng, [-0.5, 0.5, 1.0], 1)],
        "b": _nice(rng, [-0.1, 0.0, 0.1], 1),
    }


@calculator("rnn-step", outputs=("h", "a"), sample=_sample_rnn_step, answer="h[0]")
def rnn_step(inputs: RnnStepInputs) -> Result:
    from_input = np.asarray(inputs.x) @ np.asarray(inputs.w_x)
    from_state = np.asarray(inputs.h_prev) @ np.asarray(inputs.w_h)
    a = from_input + from_state + np.asarray(inputs.b)
    h = np.tanh(a)
    return Result(
        {"h": h, "a": a},
        [
            Step("x_t W_x", from_input),
            Step("h_{t−1} W_h", from_state),
            Step("a_t = x_t W_x + h_{t−1} W_h + b", a),
            Step("h_t = tanh(a_t)", h),
        ],
    )


class LstmStepInputs(Inputs):
    x: Vector = described(**X)
    h_prev: Vector = described(**H_PREV)
    c_prev: Vector = described(
        en="Previous cell state c_{t−1} (length H)", ja="前の記憶セル c_{t−1}（長さ H）"
    )
    w_x: Matrix = described(**_gate_weights(4, ", gate blocks i, f, g, o")[0])
    w_h: Matrix = described(**_gate_weights(4, ", gate blocks i, f, g, o")[1])
    b: Vector = described(
        en="Bias b (length 4H, blocks i, f, g, o)",
        ja="バイアス b（長さ 4H、ブロック順 i, f, g, o）",
    )

    @model_validator(mode="after")
    def _shapes(self) -> "LstmStepInputs":
        require_shape(self, "c_prev", (len(self.h_prev),), "H, like h_prev")
        _check_cell(self, 4, ("b",))
        return self


def _sample_lstm_step(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": _nice(rng, [-1.0, 0.0, 1.0], 1),
        "h_prev": [0.0],
        "c_prev": _nice(rng, [-1.0, 0.0, 0.5, 1.0], 1),
        "w_x": [_nice(rng, [-1.0, 0.0, 0.5, 1.0], 4)],
        "w_h": [[0.0, 0.0, 0.0, 0.0]],
        "b": _nice(rng, [0.0, 0.5], 4),
    }


@calculator("lstm-step", outputs=("h", "c"), sample=_sample_lstm_step, answer="c[0]")
def lstm_step(inputs: LstmStepInputs) -> Result:
    pre = (
        np.asarray(inputs.x) @ np.asarray(inputs.w_x)
        + np.asarray(inputs.h_prev) @ np.asarray(inputs.w_h)
        + np.asarray(inputs.b)
    )
    a_i, a_f, a_g, a_o = np.split(pre, 4)
    i, f, g, o = logistic(a_i), logistic(a_f), np.tanh(a_g), logistic(a_o)
    c = f * np.asarray(inputs.c_prev) + i * g
    squashed = np.tanh(c)
    h = o * squashed
    return Result(
        {"h": h, "c": c},
        [
            Step("x_t W_x + h_{t−1} W_h + b  (blocks i, f, g, o)", pre),
            Step("i = σ(…)  input gate", i),
            Step("f = σ(…)  forget gate", f),
            Step("g = tanh(…)  candidate", g),
            Step("o = σ(…)  output gate", o),
            Step("c_t = f ⊙ c_{t−1} + i ⊙ g", c),
            Step("tanh(c_t)", squashed),
            Step("h_t = o ⊙ tanh(c_t)", h),
        ],
    )


class GruStepInputs(Inputs):
    x: Vector = described(**X)
    h_prev: Vector = described(**H_PREV)
    w_x: Matrix = described(**_gate_weights(3, ", gate blocks r, z, n")[0])
    w_h: Matrix = described(**_gate_weights(3, ", gate blocks r, z, n")[1])
    b_x: Vector = described(
        en="Input bias b_x (length 3H, blocks r, z, n; PyTorch bias_ih)",
        ja="入力側のバイアス b_x（長さ 3H、ブロック順 r, z, n。PyTorch の bias_ih）",
    )
    b_h: Vector = described(
        en="Recurrent bias b_h (length 3H, blocks r, z, n; PyTorch bias_hh)",
        ja="再帰側のバイアス b_h（長さ 3H、ブロック順 r, z, n。PyTorch の bias_hh）",
    )

    @model_validator(mode="after")
    def _shapes(self) -> "GruStepInputs":
        _check_cell(self, 3, ("b_x", "b_h"))
        return self


def _sample_gru_step(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "x": _nice(rng, [-1.0, 1.0, 2.0], 1),
        "h_prev": _nice(rng, [-0.5, 0.5, 1.0], 1),
        "w_x": [_nice(rng, [-1.0, 0.0, 0.5, 1.0], 3)],
        "w_h": [_nice(rng, [0.0, 0.5, 1.0], 3)],
        "b_x": [0.0, 0.0, 0.0],
        "b_h": [0.0, 0.0, 0.0],
    }


@calculator("gru-step", outputs=("h", "r", "z", "n"), sample=_sample_gru_step, answer="h[0]")
def gru_step(inputs: GruStepInputs) -> Result:
    h_prev = np.asarray(inputs.h_prev)
    from_input = np.asarray(inputs.x) @ np.asarray(inputs.w_x) + np.asarray(inputs.b_x)
    from_state = h_prev @ np.asarray(inputs.w_h) + np.asarray(inputs.b_h)
    x_r, x_z, x_n = np.split(from_input, 3)
    h_r, h_z, h_n = np.split(from_state, 3)
    r = logistic(x_r + h_r)
    z = logistic(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    h = (1 - z) * n + z * h_prev
    return Result(
        {"h": h, "r": r, "z": z, "n": n},
        [
            Step("x_t W_x + b_x  (blocks r, z, n)", from_input),
            Step("h_{t−1} W_h + b_h  (blocks r, z, n)", from_state),
            Step("r = σ(x W_xr + b_xr + h W_hr + b_hr)  reset gate", r),
            Step("z = σ(x W_xz + b_xz + h W_hz + b_hz)  update gate", z),
            Step("n = tanh(x W_xn + b_xn + r ⊙ (h W_hn + b_hn))  candidate", n),
            Step("h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}", h),
        ],
    )


class BpttInputs(Inputs):
    xs: Vector = described(
        en="Input sequence x_1 … x_T (one number per step)",
        ja="入力の系列 x_1 … x_T（各時刻 1 つの数）",
    )
    h0: Real = described(0.0, en="Initial state h_0", ja="初期状態 h_0")
    w_x: Real = described(en="Input weight w_x", ja="入力の重み w_x")
    w_h: Real = described(en="Recurrent weight w_h", ja="再帰の重み w_h")
    b: Real = described(0.0, en="Bias b", ja="バイアス b")
    target: Real = described(en="Target y for the last state h_T", ja="最後の状態 h_T の目標値 y")


def _sample_bptt(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "xs": _nice(rng, [-1.0, 0.0, 1.0], 2),
        "h0": 0.0,
        "w_x": float(rng.choice([0.5, 1.0])),
        "w_h": float(rng.choice([-1.0, 0.5, 1.0, 2.0])),
        "b": 0.0,
        "target": float(rng.choice([-1.0, 0.0, 1.0])),
    }


@calculator(
    "bptt",
    outputs=("loss", "h", "grad_w_x", "grad_w_h", "grad_b", "grad_h0", "jacobian_product"),
    sample=_sample_bptt,
    answer="grad_w_h",
)
def bptt(inputs: BpttInputs) -> Result:
    xs = np.asarray(inputs.xs)
    states = [inputs.h0]
    for x in xs:
        states.append(float(np.tanh(inputs.w_x * x + inputs.w_h * states[-1] + inputs.b)))
    h = np.asarray(states[1:])
    local = inputs.w_h * (1 - h**2)  # ∂h_t/∂h_{t−1}
    delta_h = h[-1] - inputs.target
    loss = 0.5 * delta_h**2
    deltas = np.empty_like(h)  # ∂L/∂a_t
    backward = delta_h
    previous = np.asarray(states[:-1])
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(len(h) - 1, -1, -1):
            deltas[t] = backward * (1 - h[t] ** 2)
            backward = deltas[t] * inputs.w_h
        jacobian_product = np.prod(local)
        grads = [float(deltas @ xs), float(deltas @ previous), float(deltas.sum())]
    if not np.isfinite([*deltas, *grads, backward, jacobian_product]).all():
        raise InvalidInput(
            "w_h", "the product of the Jacobians w_h(1 − h_t²) overflows: the gradient explodes"
        )
    grad_w_x, grad_w_h, grad_b = grads
    return Result(
        {
            "loss": loss,
            "h": h,
            "grad_w_x": grad_w_x,
            "grad_w_h": grad_w_h,
            "grad_b": grad_b,
            "grad_h0": backward,
            "jacobian_product": jacobian_product,
        },
        [
            Step("h_t = tanh(w_x x_t + w_h h_{t−1} + b),  t = 1…T", h),
            Step("L = ½ (h_T − y)²", loss),
            Step("∂h_t/∂h_{t−1} = w_h (1 − h_t²)", local),
            Step("δ_t = ∂L/∂a_t = ∂L/∂h_t · (1 − h_t²),  ∂L/∂h_{t−1} = δ_t w_h", deltas),
            Step("∂L/∂w_x = Σ_t δ_t x_t", grad_w_x),
            Step("∂L/∂w_h = Σ_t δ_t h_{t−1}", grad_w_h),
            Step("∂L/∂b = Σ_t δ_t", grad_b),
            Step("∂h_T/∂h_0 = Π_t w_h (1 − h_t²)", jacobian_product),
            Step("∂L/∂h_0 = (h_T − y) · ∂h_T/∂h_0", backward),
        ],
    )


class BidirectionalRnnInputs(Inputs):
    xs: Matrix = described(
        en="Input sequence, one row x_t per time step (T×D)",
        ja="入力の系列。1 行が 1 時刻の x_t（T×D）",
    )
    w_x_forward: Matrix = described(
        en="Forward RNN input weights W_x→ (D×H)", ja="順方向 RNN の入力の重み W_x→（D×H）"
    )
    w_h_forward: Matrix = described(
        en="Forward RNN recurrent weights W_h→ (H×H)", ja="順方向 RNN の再帰の重み W_h→（H×H）"
    )
    b_forward: Vector = described(
        en="Forward RNN bias b→ (length H)", ja="順方向 RNN のバイアス b→（長さ H）"
    )
    w_x_backward: Matrix = described(
        en="Backward RNN input weights W_x← (D×H)", ja="逆方向 RNN の入力の重み W_x←（D×H）"
    )
    w_h_backward: Matrix = described(
        en="Backward RNN recurrent weights W_h← (H×H)",
        ja="逆方向 RNN の再帰の重み W_h←（H×H）",
    )
    b_backward: Vector = described(
        en="Backward RNN bias b← (length H)", ja="逆方向 RNN のバイアス b←（長さ H）"
    )

    @model_validator(mode="after")
    def _shapes(self) -> "BidirectionalRnnInputs":
        d, h = len(self.xs[0]), len(self.b_forward)
        for direction in ("forward", "backward"):
            require_shape(self, f"b_{direction}", (h,), "H, like b_forward")
            require_shape(self, f"w_x_{direction}", (d, h), f"D = {d} rows, H = {h} columns")
            require_shape(self, f"w_h_{direction}", (h, h), f"H = {h}")
        return self


def _run_rnn(xs: np.ndarray, w_x: np.ndarray, w_h: np.ndarray, b: np.ndarray) -> np.ndarray:
    """States h_1 … h_T of a tanh RNN started from h_0 = 0."""
    h = np.zeros(len(b))
    states = []
    for x in xs:
        h = np.tanh(x @ w_x + h @ w_h + b)
        states.append(h)
    return np.asarray(states)


@calculator("bidirectional-rnn", outputs=("outputs", "forward", "backward"))
def bidirectional_rnn(inputs: BidirectionalRnnInputs) -> Result:
    xs = np.asarray(inputs.xs)
    forward = _run_rnn(
        xs,
        np.asarray(inputs.w_x_forward),
        np.asarray(inputs.w_h_forward),
        np.asarray(inputs.b_forward),
    )
    reversed_states = _run_rnn(
        xs[::-1],
        np.asarray(inputs.w_x_backward),
        np.asarray(inputs.w_h_backward),
        np.asarray(inputs.b_backward),
    )
    backward = reversed_states[::-1]
    outputs = np.concatenate([forward, backward], axis=1)
    return Result(
        {"outputs": outputs, "forward": forward, "backward": backward},
        [
            Step("h→_t = tanh(x_t W_x→ + h→_{t−1} W_h→ + b→),  t = 1…T", forward),
            Step("h←_t = tanh(x_t W_x← + h←_{t+1} W_h← + b←),  t = T…1", backward),
            Step("h_t = [h→_t ; h←_t]", outputs),
        ],
    )
