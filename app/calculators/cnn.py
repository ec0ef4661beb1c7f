"""Convolution arithmetic, convolution and pooling, layer sizes and costs, residual blocks."""

import itertools
import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
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
from app.plots import MAX_COLUMNS, MAX_ROWS, GridPlot, words

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


SHOWN_OUTPUTS = 8


def _conv_plot(inputs: ConvOutputSizeInputs, result: Result) -> GridPlot:
    """The padded input as a row of cells, then where each output's dilated taps land."""
    size, padding, stride, dilation = (
        inputs.input_size,
        inputs.padding,
        inputs.stride,
        inputs.dilation,
    )
    output_size, span = result.outputs["output_size"], dilation * (inputs.kernel_size - 1) + 1
    position = np.arange(min(size + 2 * padding, MAX_COLUMNS))
    cells = [np.where((position < padding) | (position >= padding + size), "pad", "input")]
    marks = [[""] * len(position)]
    for i in range(min(output_size, SHOWN_OUTPUTS)):
        row = np.where((position >= i * stride) & (position < i * stride + span), "skip", "empty")
        taps = i * stride + dilation * np.arange(min(inputs.kernel_size, len(position)))
        taps = taps[taps < len(position)]
        row[taps] = "tap"
        cells.append(row)
        marks.append(["" if kind != "tap" else "●" for kind in row])
    cells.append(np.where(position < output_size, "output", "empty"))
    marks.append([""] * len(position))
    shown = len(cells) - 2
    first_taps = ", ".join(
        str(tap - padding) for tap in dilation * np.arange(min(inputs.kernel_size, 8))
    )
    return GridPlot(
        title=words(
            "The kernel sliding over the padded input", "パディングした入力の上を動くカーネル"
        ),
        summary=words(
            f"{padding} padding cell(s) each side of {size} inputs; the kernel's "
            f"{inputs.kernel_size} taps span {span} cells and move {stride} at a time; "
            f"output 0 reads inputs {first_taps}; O = {output_size}",
            f"{size} 個の入力の両側に {padding} 個のパディング。{inputs.kernel_size} 個のタップが "
            f"{span} マスにわたり、{stride} マスずつ動く。"
            f"出力 0 は入力 {first_taps} を読む。O = {output_size}",
        ),
        cells=[row.tolist() for row in cells],
        marks=marks,
        row_labels=[words("input", "入力")]
        + [f"y{i}" for i in range(shown)]
        + [f"O = {output_size}"],
        legend=[
            ("pad", words("padding", "パディング")),
            ("tap", words("tap ●", "タップ ●")),
            ("skip", words("skipped (dilation)", "飛ばす（D）")),
            ("output", words("output", "出力")),
        ],
        column_label=words("input position", "入力の位置"),
        first_column=-padding,
        note=_conv_note(output_size, shown, size + 2 * padding, len(position)),
    )


def _conv_note(outputs: int, shown: int, cells: int, shown_cells: int) -> dict[str, str] | str:
    if outputs == shown and cells == shown_cells:
        return ""
    return words(
        f"showing {shown} of {outputs} outputs and {shown_cells} of {cells} padded cells",
        f"出力 {outputs} 個のうち {shown} 個、"
        f"パディング込みの {cells} マスのうち {shown_cells} マスを表示",
    )


@calculator(
    "conv-output-size",
    outputs=("output_size",),
    sample=_sample_conv_output_size,
    answer="output_size",
    plot=_conv_plot,
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


def _require_padding_at_most_half_the_window(padding: int, kernel_size: int) -> None:
    """PyTorch's pooling layers refuse more padding than half the window."""
    if 2 * padding > kernel_size:
        raise InvalidInput(
            "padding", f"must be at most half the window size ({kernel_size}/2), as in PyTorch"
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
        if padded[0] * padded[1] > MAX_ELEMENTS:  # the output and its steps are as large
            raise InvalidInput(
                "padding",
                f"the padded input (H + 2P) × (W + 2P) = {padded[0]}×{padded[1]} must hold "
                f"at most {MAX_ELEMENTS} numbers",
            )
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
        _require_padding_at_most_half_the_window(self.padding, self.kernel_size)
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
        _require_padding_at_most_half_the_window(self.padding, self.kernel_size)
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


# --- Parameters, receptive field and cost ----------------------------------------------

MAX_CHANNELS = 65_536
MAX_KERNEL = 64


def _require_groups_divide_channels(inputs: Any) -> None:
    """A group convolution splits both channel counts into `groups` equal parts."""
    for name in ("in_channels", "out_channels"):
        channels = getattr(inputs, name)
        if channels % inputs.groups:
            raise InvalidInput(
                "groups", f"must divide {name} = {channels}, got g = {inputs.groups}"
            )


class ConvParamsInputs(Inputs):
    in_channels: int = described(
        ge=1, le=MAX_CHANNELS, en="Input channels C_in", ja="入力チャネル数 C_in"
    )
    out_channels: int = described(
        ge=1,
        le=MAX_CHANNELS,
        en="Output channels C_out (number of filters)",
        ja="出力チャネル数 C_out（フィルタ数）",
    )
    kernel_size: int = described(
        ge=1, le=MAX_KERNEL, en="Kernel size K (K×K)", ja="カーネルサイズ K（K×K）"
    )
    groups: int = described(
        1,
        ge=1,
        le=MAX_CHANNELS,
        en="Groups g (divides C_in and C_out)",
        ja="グループ数 g（C_in と C_out を割り切る）",
    )
    bias: bool = described(
        True, en="One bias per output channel", ja="出力チャネルごとにバイアスを1つ持つ"
    )

    @model_validator(mode="after")
    def _groups_divide_channels(self) -> "ConvParamsInputs":
        _require_groups_divide_channels(self)
        return self


def _sample_conv_params(rng: np.random.Generator) -> dict[str, Any]:
    in_channels = int(rng.choice([1, 3, 16, 32, 64]))
    return {
        "in_channels": in_channels,
        "out_channels": int(rng.choice([8, 16, 32, 64])),
        "kernel_size": int(rng.choice([1, 3, 5])),
        "groups": 1 if in_channels in (1, 3) else int(rng.choice([1, 2, 4])),
        "bias": bool(rng.integers(2)),
    }


@calculator("conv-params", outputs=("params",), sample=_sample_conv_params, answer="params")
def conv_params(inputs: ConvParamsInputs) -> Result:
    per_filter = inputs.in_channels // inputs.groups * inputs.kernel_size**2
    weights = inputs.out_channels * per_filter
    biases = inputs.out_channels if inputs.bias else 0
    return Result(
        {"params": weights + biases},
        [
            Step("weights per filter (C_in / g) K²", per_filter),
            Step("weights C_out (C_in / g) K²", weights),
            Step("biases", biases),
            Step(
                "params = C_out ((C_in / g) K² + 1)" if inputs.bias else "params", weights + biases
            ),
        ],
    )


MAX_LAYERS = 32
MAX_JUMP = 2**32
"""Bound on the product of the strides, i.e. on how far apart two outputs are in the input."""

LayerKernels = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_KERNEL)]], Field(min_length=1, max_length=MAX_LAYERS)
]
LayerStrides = Annotated[
    list[Annotated[int, Field(ge=1, le=16)]], Field(min_length=1, max_length=MAX_LAYERS)
]
LayerDilations = Annotated[
    list[Annotated[int, Field(ge=1, le=1024)]], Field(min_length=1, max_length=MAX_LAYERS)
]


class ReceptiveFieldInputs(Inputs):
    kernel_sizes: LayerKernels = described(
        en="Kernel size k_l of each layer, input side first",
        ja="各層のカーネルサイズ k_l（入力側の層から順に）",
    )
    strides: LayerStrides = described(
        en="Stride s_l of each layer (pooling layers count too)",
        ja="各層のストライド s_l（プーリング層も1層として数える）",
    )
    dilations: LayerDilations | None = described(
        None,
        en="Dilation d_l of each layer (empty: all 1)",
        ja="各層のダイレーション d_l（空欄ならすべて 1）",
    )

    @model_validator(mode="after")
    def _one_entry_per_layer(self) -> "ReceptiveFieldInputs":
        layers = len(self.kernel_sizes)
        for name in ("strides", "dilations"):
            values = getattr(self, name)
            if values is not None and len(values) != layers:
                raise InvalidInput(
                    name,
                    f"needs one entry per layer: {layers} like kernel_sizes, got {len(values)}",
                )
        if math.prod(self.strides[:-1]) > MAX_JUMP:
            raise InvalidInput(
                "strides",
                "the product of the strides exceeds 2^32; no real network downsamples that far",
            )
        return self


def _sample_receptive_field(rng: np.random.Generator) -> dict[str, Any]:
    layers = int(rng.integers(2, 5))
    inputs: dict[str, Any] = {
        "kernel_sizes": [int(k) for k in rng.choice([1, 2, 3, 5, 7], size=layers)],
        "strides": [int(s) for s in rng.choice([1, 1, 2], size=layers)],
    }
    if rng.integers(3) == 0:
        inputs["dilations"] = [int(d) for d in rng.choice([1, 2, 4], size=layers)]
    return inputs


SHOWN_FIELD = 64


def reached_positions(inputs: ReceptiveFieldInputs) -> list[np.ndarray]:
    """Units that feed output 0 of the last layer, per layer from the last down to the input."""
    dilations = inputs.dilations or [1] * len(inputs.kernel_sizes)
    reached = [np.array([0])]
    for k, s, d in reversed(list(zip(inputs.kernel_sizes, inputs.strides, dilations, strict=True))):
        reached.append(np.unique(reached[-1][:, None] * s + d * np.arange(k)))
    return reached


def _receptive_field_plot(inputs: ReceptiveFieldInputs, result: Result) -> GridPlot | None:
    """Which units of each layer feed one output, placed at the input position they start at."""
    size, layers = result.outputs["receptive_field"], len(inputs.kernel_sizes)
    if size > SHOWN_FIELD or layers >= MAX_ROWS:
        return None
    reached = reached_positions(inputs)
    jumps = [math.prod(inputs.strides[:layer]) for layer in range(layers + 1)]
    cells = []
    for layer, units in zip(range(layers, -1, -1), reached, strict=True):
        row = np.full(size, "empty", dtype=object)
        row[units * jumps[layer]] = "tap"
        cells.append(row.tolist())
    holes = size - len(reached[-1])
    return GridPlot(
        title=words("Receptive field of one output", "1つの出力の受容野"),
        summary=words(
            f"one output of layer {layers} sees {size} input positions"
            + (f", {holes} of them skipped by dilation" if holes else ""),
            f"第 {layers} 層の1つの出力は入力 {size} 個分を見る"
            + (f"（うち {holes} 個はダイレーションで飛ばされる）" if holes else ""),
        ),
        cells=cells,
        row_labels=[words(f"layer {layer}", f"第 {layer} 層") for layer in range(layers, 0, -1)]
        + [words("input", "入力")],
        legend=[("tap", words("feeds the output", "出力に届く"))],
        column_label=words("input position", "入力の位置"),
    )


@calculator(
    "receptive-field",
    outputs=("receptive_field",),
    sample=_sample_receptive_field,
    answer="receptive_field",
    plot=_receptive_field_plot,
)
def receptive_field(inputs: ReceptiveFieldInputs) -> Result:
    dilations = inputs.dilations or [1] * len(inputs.kernel_sizes)
    jumps = [math.prod(inputs.strides[:layer]) for layer in range(len(inputs.strides))]
    growth = [
        (k - 1) * d * jump for k, d, jump in zip(inputs.kernel_sizes, dilations, jumps, strict=True)
    ]
    sizes = list(itertools.accumulate(growth, initial=1))[1:]
    return Result(
        {"receptive_field": sizes[-1]},
        [
            Step(
                "Π_{i<l} s_i (input positions between neighbouring outputs of layer l − 1)", jumps
            ),
            Step("(k_l − 1) d_l Π_{i<l} s_i", growth),
            Step("r_l after each layer", sizes),
            Step("r = 1 + Σ_l (k_l − 1) d_l Π_{i<l} s_i", sizes[-1]),
        ],
    )


ShortKernel = Annotated[list[Real], Field(min_length=1, max_length=MAX_KERNEL)]


class DilatedConvolutionInputs(Inputs):
    signal: Vector = described(en="Input signal x (1-D)", ja="入力信号 x（1次元）")
    kernel: ShortKernel = described(
        en="Kernel w (K taps, at most 64)", ja="カーネル w（K 個の重み、64 個まで）"
    )
    dilation: int = described(
        2,
        ge=1,
        le=MAX_KERNEL,
        en="Dilation D (1: ordinary convolution)",
        ja="ダイレーション D（1 で通常の畳み込み）",
    )

    @model_validator(mode="after")
    def _signal_covers_the_kernel(self) -> "DilatedConvolutionInputs":
        span = self.dilation * (len(self.kernel) - 1) + 1
        if len(self.signal) < span:
            raise InvalidInput(
                "signal",
                f"needs at least D(K − 1) + 1 = {span} samples for one output, "
                f"got {len(self.signal)}",
            )
        return self


def _sample_dilated_convolution(rng: np.random.Generator) -> dict[str, Any]:
    taps = int(rng.integers(2, 4))
    dilation = int(rng.integers(1, 4))
    length = dilation * (taps - 1) + 1 + int(rng.integers(0, 3))
    return {
        "signal": [float(v) for v in rng.integers(-2, 4, size=length)],
        "kernel": [float(v) for v in rng.integers(-1, 3, size=taps)],
        "dilation": dilation,
    }


@calculator(
    "dilated-convolution",
    outputs=("output", "dilated_kernel", "effective_kernel_size"),
    sample=_sample_dilated_convolution,
    answer="output[0]",
)
def dilated_convolution(inputs: DilatedConvolutionInputs) -> Result:
    kernel, signal = np.asarray(inputs.kernel), np.asarray(inputs.signal)
    span = inputs.dilation * (len(kernel) - 1) + 1
    dilated = np.zeros(span)
    dilated[:: inputs.dilation] = kernel
    windows = np.lib.stride_tricks.sliding_window_view(signal, span)
    output = windows[:, :: inputs.dilation] @ kernel
    return Result(
        {"output": output, "dilated_kernel": dilated, "effective_kernel_size": span},
        [
            Step("K̂ = D(K − 1) + 1", span),
            Step("w with D − 1 zeros between taps", dilated),
            Step("x(0), x(D), …, x((K − 1)D)", windows[0, :: inputs.dilation]),
            Step("y(t) = Σ_k w(k) x(t + kD)", output),
        ],
    )


class TransposedConvOutputSizeInputs(Inputs):
    input_size: int = described(
        ge=1, le=MAX_SIZE, en="Input size H (height or width)", ja="入力サイズ H（高さまたは幅）"
    )
    kernel_size: int = described(ge=1, le=MAX_SIZE, en="Kernel size K", ja="カーネルサイズ K")
    stride: int = described(1, ge=1, le=MAX_SIZE, en="Stride S", ja="ストライド S")
    padding: int = described(
        0,
        ge=0,
        le=MAX_SIZE,
        en="Padding P (PyTorch padding)",
        ja="パディング P（PyTorch の padding）",
    )
    output_padding: int = described(
        0,
        ge=0,
        le=MAX_SIZE,
        en="Extra size on one side (PyTorch output_padding), below max(S, D)",
        ja="出力の片側に足すサイズ（PyTorch の output_padding。max(S, D) 未満）",
    )
    dilation: int = described(1, ge=1, le=MAX_SIZE, en="Dilation D", ja="ダイレーション D")

    @model_validator(mode="after")
    def _output_padding_below_stride_or_dilation(self) -> "TransposedConvOutputSizeInputs":
        if self.output_padding >= max(self.stride, self.dilation):
            raise InvalidInput(
                "output_padding",
                f"must be smaller than the stride or the dilation (max(S, D) = "
                f"{max(self.stride, self.dilation)}), as PyTorch requires",
            )
        return self


def _sample_transposed_conv_output_size(rng: np.random.Generator) -> dict[str, Any]:
    stride = int(rng.choice([1, 2, 2]))
    return {
        "input_size": int(rng.choice([3, 4, 7, 8, 14, 16, 32])),
        "kernel_size": int(rng.choice([2, 3, 4, 5])),
        "stride": stride,
        "padding": int(rng.integers(0, 2)),
        "output_padding": int(rng.integers(0, stride)),
        "dilation": 1,
    }


@calculator(
    "transposed-conv-output-size",
    outputs=("output_size",),
    sample=_sample_transposed_conv_output_size,
    answer="output_size",
)
def transposed_conv_output_size(inputs: TransposedConvOutputSizeInputs) -> Result:
    stretched = (inputs.input_size - 1) * inputs.stride
    span = inputs.dilation * (inputs.kernel_size - 1)
    output_size = stretched - 2 * inputs.padding + span + inputs.output_padding + 1
    if output_size < 1:
        raise InvalidInput(
            "padding",
            f"(H − 1)S − 2P + D(K − 1) + output_padding + 1 = {output_size}: "
            "the padding removes the whole output",
        )
    return Result(
        {"output_size": output_size},
        [
            Step("(H − 1)S", stretched),
            Step("D(K − 1)", span),
            Step("O = (H − 1)S − 2P + D(K − 1) + output_padding + 1", output_size),
        ],
    )


MAX_MAP = 1024
MAX_COST_CHANNELS = 4096
MAX_COST_KERNEL = 11
"""Cost bounds: 1024² positions × 4096² channel pairs × 11² taps stays below 2⁵³,
so every count is an exact integer in JSON and in JavaScript."""


class ConvCostInputs(Inputs):
    height: int = described(
        ge=1, le=MAX_MAP, en="Output map height D_F", ja="出力特徴マップの高さ D_F"
    )
    width: int = described(ge=1, le=MAX_MAP, en="Output map width D_F", ja="出力特徴マップの幅 D_F")
    in_channels: int = described(
        ge=1, le=MAX_COST_CHANNELS, en="Input channels M", ja="入力チャネル数 M"
    )
    out_channels: int = described(
        ge=1, le=MAX_COST_CHANNELS, en="Output channels N", ja="出力チャネル数 N"
    )
    kernel_size: int = described(
        ge=1, le=MAX_COST_KERNEL, en="Kernel size D_K (D_K×D_K)", ja="カーネルサイズ D_K（D_K×D_K）"
    )


def _sample_depthwise_separable_cost(rng: np.random.Generator) -> dict[str, Any]:
    side = int(rng.choice([7, 14, 28, 56]))
    return {
        "height": side,
        "width": side,
        "in_channels": int(rng.choice([16, 32, 64, 128])),
        "out_channels": int(rng.choice([16, 32, 64, 128, 256])),
        "kernel_size": int(rng.choice([3, 3, 5])),
    }


@calculator(
    "depthwise-separable-cost",
    outputs=("standard_mult_adds", "separable_mult_adds", "ratio"),
    sample=_sample_depthwise_separable_cost,
    answer="ratio",
)
def depthwise_separable_cost(inputs: ConvCostInputs) -> Result:
    positions = inputs.height * inputs.width
    taps = inputs.kernel_size**2
    standard = taps * inputs.in_channels * inputs.out_channels * positions
    depthwise = taps * inputs.in_channels * positions
    pointwise = inputs.in_channels * inputs.out_channels * positions
    separable = depthwise + pointwise
    return Result(
        {
            "standard_mult_adds": standard,
            "separable_mult_adds": separable,
            "ratio": separable / standard,
        },
        [
            Step("standard D_K² M N D_F²", standard),
            Step("depthwise D_K² M D_F²", depthwise),
            Step("pointwise M N D_F²", pointwise),
            Step("separable = depthwise + pointwise", separable),
            Step("ratio = 1/N + 1/D_K²", separable / standard),
        ],
    )


class GroupConvCostInputs(ConvCostInputs):
    groups: int = described(
        1,
        ge=1,
        le=MAX_COST_CHANNELS,
        en="Groups g (divides M and N; g = M = N is depthwise)",
        ja="グループ数 g（M と N を割り切る。g = M = N がデプスワイズ）",
    )

    @model_validator(mode="after")
    def _groups_divide_channels(self) -> "GroupConvCostInputs":
        _require_groups_divide_channels(self)
        return self


def _sample_group_conv_cost(rng: np.random.Generator) -> dict[str, Any]:
    channels = int(rng.choice([8, 16, 32]))
    return {
        "height": int(rng.choice([4, 7, 8, 14])),
        "width": int(rng.choice([4, 7, 8, 14])),
        "in_channels": channels,
        "out_channels": int(rng.choice([channels, 2 * channels])),
        "kernel_size": int(rng.choice([1, 3])),
        "groups": int(rng.choice([1, 2, 4, channels])),
    }


@calculator(
    "group-conv-cost",
    outputs=("weights", "mult_adds"),
    sample=_sample_group_conv_cost,
    answer="mult_adds",
)
def group_conv_cost(inputs: GroupConvCostInputs) -> Result:
    per_filter = inputs.in_channels // inputs.groups * inputs.kernel_size**2
    weights = inputs.out_channels * per_filter
    mult_adds = weights * inputs.height * inputs.width
    return Result(
        {"weights": weights, "mult_adds": mult_adds},
        [
            Step("input channels seen by one filter M / g", inputs.in_channels // inputs.groups),
            Step("weights per filter D_K² M / g", per_filter),
            Step("weights D_K² M N / g", weights),
            Step("mult-adds D_K² (M / g) N D_F²", mult_adds),
        ],
    )


# --- Residual block --------------------------------------------------------------------


class ResidualBlockInputs(Inputs):
    x: Vector = described(en="Block input x (length d)", ja="ブロックへの入力 x（長さ d）")
    w1: Matrix = described(en="First weight matrix W₁ (h×d)", ja="1層目の重み W₁（h×d）")
    b1: Vector | None = described(
        None, en="First bias b₁ (length h; empty: 0)", ja="1層目のバイアス b₁（長さ h。空欄なら 0）"
    )
    w2: Matrix = described(en="Second weight matrix W₂ (d_out×h)", ja="2層目の重み W₂（d_out×h）")
    b2: Vector | None = described(
        None,
        en="Second bias b₂ (length d_out; empty: 0)",
        ja="2層目のバイアス b₂（長さ d_out。空欄なら 0）",
    )
    projection: Matrix | None = described(
        None,
        en="Shortcut projection W_s (d_out×d); empty: identity, needs d_out = d",
        ja="ショートカットの射影 W_s（d_out×d）。空欄なら恒等写像（d_out = d のとき）",
    )
    final_relu: bool = described(
        True,
        en="Apply ReLU after the addition (original ResNet)",
        ja="足し算のあとに ReLU をかける（元の ResNet）",
    )

    @model_validator(mode="after")
    def _compatible_shapes(self) -> "ResidualBlockInputs":
        d = len(self.x)
        hidden, d_in = np.shape(self.w1)
        if d_in != d:
            raise InvalidInput("w1", f"must have d = {d} columns like x, got {d_in}")
        d_out, h = np.shape(self.w2)
        if h != hidden:
            raise InvalidInput("w2", f"must have h = {hidden} columns (rows of w1), got {h}")
        for name, length in (("b1", hidden), ("b2", d_out)):
            bias = getattr(self, name)
            if bias is not None and len(bias) != length:
                raise InvalidInput(name, f"must have length {length}, got {len(bias)}")
        if self.projection is None and d_out != d:
            raise InvalidInput(
                "projection",
                f"F(x) has length {d_out} but x has length {d}: the identity shortcut cannot "
                "be added, give a d_out×d projection W_s",
            )
        if self.projection is not None and np.shape(self.projection) != (d_out, d):
            raise InvalidInput(
                "projection",
                f"must be d_out×d = {d_out}×{d}, got {shape_text(np.shape(self.projection))}",
            )
        return self


def _sample_residual_block(rng: np.random.Generator) -> dict[str, Any]:
    def small(*shape: int) -> list[Any]:
        return rng.integers(-1, 3, size=shape).astype(float).tolist()

    return {"x": small(2), "w1": small(2, 2), "w2": small(2, 2), "final_relu": True}


@calculator(
    "residual-block",
    outputs=("residual", "shortcut", "output"),
    sample=_sample_residual_block,
    answer="output[0]",
)
def residual_block(inputs: ResidualBlockInputs) -> Result:
    x, w1, w2 = (np.asarray(value) for value in (inputs.x, inputs.w1, inputs.w2))
    b1 = np.zeros(len(w1)) if inputs.b1 is None else np.asarray(inputs.b1)
    b2 = np.zeros(len(w2)) if inputs.b2 is None else np.asarray(inputs.b2)
    pre = w1 @ x + b1
    hidden = np.maximum(pre, 0)
    residual = w2 @ hidden + b2
    shortcut = x if inputs.projection is None else np.asarray(inputs.projection) @ x
    total = residual + shortcut
    output = np.maximum(total, 0) if inputs.final_relu else total
    return Result(
        {"residual": residual, "shortcut": shortcut, "output": output},
        [
            Step("W₁x + b₁", pre),
            Step("σ(W₁x + b₁)", hidden),
            Step("F(x) = W₂ σ(W₁x + b₁) + b₂", residual),
            Step("x" if inputs.projection is None else "W_s x", shortcut),
            Step("F(x) + x" if inputs.projection is None else "F(x) + W_s x", total),
            Step("y = σ(F(x) + shortcut)" if inputs.final_relu else "y = F(x) + shortcut", output),
        ],
    )
