"""Convolution arithmetic, and 2-D convolution and pooling on a small map."""

from typing import Any, Literal

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
    described,
)

MAX_SIZE = 1_000_000


class ConvOutputSizeInputs(Inputs):
    input_size: int = described(
        ge=1, le=MAX_SIZE, en="Input size H (height or width)", ja="入力サイズ H（高さまたは幅）"
    )
    kernel_size: int = described(ge=1, le=MAX_SIZE, en="Kernel size K", ja="カーネルサイズ K")
    stride: int = described(1, ge=1, le=MAX_SIZE, en="Stride S", ja="ストライド S")
    padding: int = described(
        0, ge=0, le=MAX_SIZE, en="Padding P (each side)", ja="パディング P（片側）"
    )
    dilation: int = described(1, ge=1, le=MAX_SIZE, en="Dilation D", ja="ダイレーション D")


def _sample_conv_output_size(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "input_size": int(rng.choice([7, 28, 32, 64, 224])),
        "kernel_size": int(rng.choice([1, 3, 5, 7])),
        "stride": int(rng.choice([1, 2])),
        "padding": int(rng.integers(0, 4)),
        "dilation": 1,
    }


@calculator(
    "conv-output-size",
    outputs=("output_size",),
    sample=_sample_conv_output_size,
    answer="output_size",
)
def conv_output_size(inputs: ConvOutputSizeInputs) -> Result:
    span = inputs.dilation * (inputs.kernel_size - 1) + 1
    padded = inputs.input_size + 2 * inputs.padding
    if span > padded:
        raise InvalidInput(
            "kernel_size",
            f"the dilated kernel spans D(K − 1) + 1 = {span} positions but the padded input "
            f"H + 2P is only {padded}: not one output position fits",
        )
    numerator = padded - span
    output_size = numerator // inputs.stride + 1
    return Result(
        {"output_size": output_size},
        [
            Step("D(K − 1) + 1", span),
            Step("H + 2P", padded),
            Step("H + 2P − D(K − 1) − 1", numerator),
            Step("⌊(H + 2P − D(K − 1) − 1) / S⌋", numerator // inputs.stride),
            Step("O = ⌊(H + 2P − D(K − 1) − 1) / S⌋ + 1", output_size),
        ],
    )


# --- 2-D convolution and pooling on a small single-channel map ---------------------------

MAX_STEP = 64
"""Bound on strides and paddings typed by hand: far beyond real layers, and it keeps the
padded map (and so the work) small."""


def _require_window_fits(field: str, window: tuple[int, int], padded: tuple[int, int]) -> None:
    if window[0] > padded[0] or window[1] > padded[1]:
        raise InvalidInput(
            field,
            f"the {window[0]}×{window[1]} window is larger than the padded input "
            f"{padded[0]}×{padded[1]}: not one output position fits",
        )


def _windows(padded: np.ndarray, window: tuple[int, int], stride: int) -> np.ndarray:
    """Every window position as an (out_h, out_w, kh, kw) view, top-left first."""
    return np.lib.stride_tricks.sliding_window_view(padded, window)[::stride, ::stride]


class Conv2dInputs(Inputs):
    image: Matrix = described(en="Input map I (H×W, one channel)", ja="入力 I（H×W、1チャネル）")
    kernel: Matrix = described(en="Kernel K (kh×kw)", ja="カーネル（フィルタ）K（kh×kw）")
    stride: int = described(1, ge=1, le=MAX_STEP, en="Stride S", ja="ストライド S")
    padding: int = described(
        0, ge=0, le=MAX_STEP, en="Zero padding P (each side)", ja="ゼロパディング P（片側）"
    )
    bias: Real = described(0.0, en="Bias b added to every output", ja="全出力に足すバイアス b")

    @model_validator(mode="after")
    def _kernel_fits(self) -> "Conv2dInputs":
        height, width = np.shape(self.image)
        padded = (height + 2 * self.padding, width + 2 * self.padding)
        _require_window_fits("kernel", np.shape(self.kernel), padded)
        return self


@calculator("conv2d", outputs=("output", "convolution"))
def conv2d(inputs: Conv2dInputs) -> Result:
    kernel = np.asarray(inputs.kernel)
    padded = np.pad(np.asarray(inputs.image), inputs.padding)
    windows = _windows(padded, kernel.shape, inputs.stride)
    output = np.einsum("ijkl,kl->ij", windows, kernel) + inputs.bias
    flipped = kernel[::-1, ::-1]
    convolution = np.einsum("ijkl,kl->ij", windows, flipped) + inputs.bias
    steps = [Step("I padded with P zeros", padded)] if inputs.padding else []
    steps += [
        Step("output size ⌊(H + 2P − kh)/S⌋ + 1 × ⌊(W + 2P − kw)/S⌋ + 1", list(output.shape)),
        Step("window at (0, 0)", windows[0, 0]),
        Step("O(0, 0) = Σ_m Σ_n I(m, n) K(m, n) + b", output[0, 0]),
        Step("O(i, j) = Σ_m Σ_n I(iS + m, jS + n) K(m, n) + b", output),
        Step("K rotated 180° (flipped)", flipped),
        Step(
            "(I ∗ K)(i, j) = Σ_m Σ_n I(iS + m, jS + n) K(kh − 1 − m, kw − 1 − n) + b", convolution
        ),
    ]
    return Result({"output": output, "convolution": convolution}, steps)


class Pool2dInputs(Inputs):
    image: Matrix = described(en="Input map (H×W, one channel)", ja="入力（H×W、1チャネル）")
    kernel_size: int = described(
        ge=1, le=MAX_STEP, en="Window size k (k×k)", ja="ウィンドウサイズ k（k×k）"
    )
    stride: int | None = described(
        None,
        ge=1,
        le=MAX_STEP,
        en="Stride S (empty: S = k, as in PyTorch)",
        ja="ストライド S（空欄なら PyTorch と同じく S = k）",
    )
    padding: int = described(
        0,
        ge=0,
        le=MAX_STEP // 2,
        en="Padding P each side (−∞ for max, 0 for average), at most k/2",
        ja="パディング P（片側。max では −∞、平均では 0 を詰める。k/2 以下）",
    )
    mode: Literal["max", "average"] = described(
        "max",
        en="max or average pooling",
        ja="最大値プーリング（max）か平均値プーリング（average）",
    )

    @model_validator(mode="after")
    def _window_fits(self) -> "Pool2dInputs":
        if 2 * self.padding > self.kernel_size:
            raise InvalidInput(
                "padding",
                f"must be at most half the window size ({self.kernel_size}/2), as in PyTorch",
            )
        height, width = np.shape(self.image)
        padded = (height + 2 * self.padding, width + 2 * self.padding)
        _require_window_fits("kernel_size", (self.kernel_size, self.kernel_size), padded)
        return self


@calculator("pool2d", outputs=("output",))
def pool2d(inputs: Pool2dInputs) -> Result:
    stride = inputs.stride or inputs.kernel_size
    window = (inputs.kernel_size, inputs.kernel_size)
    fill = -np.inf if inputs.mode == "max" else 0.0
    padded = np.pad(np.asarray(inputs.image), inputs.padding, constant_values=fill)
    windows = _windows(padded, window, stride)
    if inputs.mode == "max":
        output, rule = windows.max(axis=(2, 3)), "O(i, j) = max over the k×k window"
    else:
        output = windows.sum(axis=(2, 3)) / inputs.kernel_size**2
        rule = "O(i, j) = (1/k²) Σ over the k×k window (padding zeros counted)"
    return Result(
        {"output": output},
        [
            Step("S", stride),
            Step("output size ⌊(H + 2P − k)/S⌋ + 1 × ⌊(W + 2P − k)/S⌋ + 1", list(output.shape)),
            *(
                [Step("window at (0, 0)", windows[0, 0])]
                if np.isfinite(windows[0, 0]).all()
                else []
            ),
            Step(rule, output),
        ],
    )


class PoolOutputSizeInputs(Inputs):
    input_size: int = described(
        ge=1, le=MAX_SIZE, en="Input size H (height or width)", ja="入力サイズ H（高さまたは幅）"
    )
    kernel_size: int = described(ge=1, le=MAX_SIZE, en="Window size K", ja="ウィンドウサイズ K")
    stride: int | None = described(
        None,
        ge=1,
        le=MAX_SIZE,
        en="Stride S (empty: S = K, the PyTorch default)",
        ja="ストライド S（空欄なら PyTorch の既定値 S = K）",
    )
    padding: int = described(
        0,
        ge=0,
        le=MAX_SIZE,
        en="Padding P each side, at most K/2",
        ja="パディング P（片側、K/2 以下）",
    )
    dilation: int = described(1, ge=1, le=MAX_SIZE, en="Dilation D", ja="ダイレーション D")
    ceil_mode: bool = described(
        False,
        en="Round up instead of down (PyTorch ceil_mode)",
        ja="切り捨てでなく切り上げる（PyTorch の ceil_mode）",
    )

    @model_validator(mode="after")
    def _padding_and_window(self) -> "PoolOutputSizeInputs":
        if 2 * self.padding > self.kernel_size:
            raise InvalidInput(
                "padding",
                f"must be at most half the window size ({self.kernel_size}/2), as in PyTorch",
            )
        span = self.dilation * (self.kernel_size - 1) + 1
        padded = self.input_size + 2 * self.padding
        if span > padded:
            raise InvalidInput(
                "kernel_size",
                f"the window spans D(K − 1) + 1 = {span} positions but the padded input "
                f"H + 2P is only {padded}: not one output position fits",
            )
        return self


def _sample_pool_output_size(rng: np.random.Generator) -> dict[str, Any]:
    kernel = int(rng.choice([2, 3]))
    return {
        "input_size": int(rng.choice([5, 7, 8, 13, 14, 28, 32, 55, 112])),
        "kernel_size": kernel,
        "stride": int(rng.choice([1, 2])),
        "padding": int(rng.integers(0, kernel // 2 + 1)),
        "ceil_mode": bool(rng.integers(2)),
    }


@calculator(
    "pool-output-size",
    outputs=("output_size",),
    sample=_sample_pool_output_size,
    answer="output_size",
)
def pool_output_size(inputs: PoolOutputSizeInputs) -> Result:
    stride = inputs.stride or inputs.kernel_size
    numerator = (
        inputs.input_size + 2 * inputs.padding - inputs.dilation * (inputs.kernel_size - 1) - 1
    )
    steps = [Step("S", stride), Step("H + 2P − D(K − 1) − 1", numerator)]
    if not inputs.ceil_mode:
        output_size = numerator // stride + 1
        steps.append(Step("O = ⌊(H + 2P − D(K − 1) − 1) / S⌋ + 1", output_size))
        return Result({"output_size": output_size}, steps)
    output_size = -(-numerator // stride) + 1
    steps.append(Step("O = ⌈(H + 2P − D(K − 1) − 1) / S⌉ + 1", output_size))
    if (output_size - 1) * stride >= inputs.input_size + inputs.padding:
        # The last window would start inside the right padding: PyTorch drops it.
        output_size -= 1
        steps.append(
            Step("(O − 1)S ≥ H + P: last window starts in the padding, O ← O − 1", output_size)
        )
    return Result({"output_size": output_size}, steps)
