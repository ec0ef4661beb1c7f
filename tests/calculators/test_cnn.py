import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor


@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 5),
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
)
def test_conv_output_size_matches_a_real_torch_convolution(
    size: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    inputs = {
        "input_size": size,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    if dilation * (kernel - 1) + 1 > size + 2 * padding:
        with pytest.raises(InvalidInput):
            compute("conv-output-size", **inputs)
        return
    conv = torch.nn.Conv1d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    expected = conv(torch.zeros(1, 1, size)).shape[-1]
    assert compute("conv-output-size", **inputs)["output_size"] == expected


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"input_size": 32, "kernel_size": 3, "padding": 1}, 32),  # "same" at stride 1
        ({"input_size": 28, "kernel_size": 5}, 24),
        ({"input_size": 7, "kernel_size": 3, "stride": 2}, 3),
        ({"input_size": 224, "kernel_size": 7, "stride": 2, "padding": 3}, 112),  # ResNet stem
        ({"input_size": 10, "kernel_size": 3, "dilation": 2}, 6),
    ],
)
def test_conv_output_size_known_cases(inputs: dict[str, int], expected: int) -> None:
    assert compute("conv-output-size", **inputs)["output_size"] == expected


def test_conv_output_size_explains_a_kernel_larger_than_the_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("conv-output-size", input_size=3, kernel_size=5)
    assert caught.value.field == "kernel_size"
    assert "not one output position fits" in caught.value.reason


# --- 2-D convolution and pooling ----------------------------------------------------------

values = st.integers(-5, 5).map(float)


@st.composite
def matrices(draw: st.DrawFn, max_side: int, elements: st.SearchStrategy = values) -> list:
    rows, columns = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    row = st.lists(elements, min_size=columns, max_size=columns)
    return draw(st.lists(row, min_size=rows, max_size=rows))


def batch(matrix: list[list[float]]) -> torch.Tensor:
    return tensor(matrix)[None, None]


@given(
    matrices(7, st.floats(-100, 100)),
    matrices(4, st.floats(-100, 100)),
    st.integers(1, 3),
    st.integers(0, 2),
    st.floats(-10, 10),
)
def test_conv2d_matches_torch_conv2d_and_the_flipped_kernel(
    image: list, kernel: list, stride: int, padding: int, bias: float
) -> None:
    kh, kw = len(kernel), len(kernel[0])
    if kh > len(image) + 2 * padding or kw > len(image[0]) + 2 * padding:
        with pytest.raises(InvalidInput) as caught:
            compute("conv2d", image=image, kernel=kernel, stride=stride, padding=padding)
        assert caught.value.field == "kernel"
        return
    outputs = compute(
        "conv2d", image=image, kernel=kernel, stride=stride, padding=padding, bias=bias
    )
    weight, offset = batch(kernel), tensor([bias])
    expected = F.conv2d(batch(image), weight, offset, stride=stride, padding=padding)[0, 0]
    flipped = F.conv2d(
        batch(image), torch.flip(weight, dims=(2, 3)), offset, stride=stride, padding=padding
    )[0, 0]
    assert_close(outputs["output"], expected, atol=1e-9)
    assert_close(outputs["convolution"], flipped, atol=1e-9)


def test_conv2d_follows_the_cross_correlation_definition_by_hand() -> None:
    image = [[1, 2, 0], [0, 1, 3], [2, 1, 4]]
    kernel = [[1, 0], [0, -1]]
    # O(i, j) = I(i, j) − I(i + 1, j + 1); the flipped kernel gives −I(i, j) + I(i + 1, j + 1).
    outputs = compute("conv2d", image=image, kernel=kernel)
    assert outputs["output"] == [[0.0, -1.0], [-1.0, -3.0]]
    assert outputs["convolution"] == [[0.0, 1.0], [1.0, 3.0]]


def test_conv2d_refuses_padding_that_makes_the_output_larger_than_any_input() -> None:
    image = [[1.0] * 4] * 1000  # 4000 numbers, within the cap
    with pytest.raises(InvalidInput, match="1128×132 must hold at most 4096") as caught:
        compute("conv2d", image=image, kernel=[[1.0]], padding=64)
    assert caught.value.field == "padding"
    assert len(compute("conv2d", image=[[1.0] * 4] * 60, kernel=[[1.0]], padding=2)["output"]) == 64


@given(
    matrices(8, st.floats(-100, 100)),
    st.integers(1, 4),
    st.one_of(st.none(), st.integers(1, 3)),
    st.integers(0, 2),
    st.sampled_from(["max", "average"]),
)
def test_pool2d_matches_torch_max_and_avg_pool2d(
    image: list, kernel_size: int, stride: int | None, padding: int, mode: str
) -> None:
    inputs = {"image": image, "kernel_size": kernel_size, "stride": stride, "padding": padding}
    if 2 * padding > kernel_size:
        with pytest.raises(InvalidInput) as caught:
            compute("pool2d", **inputs, mode=mode)
        assert caught.value.field == "padding"
        return
    if kernel_size > min(len(image), len(image[0])) + 2 * padding:
        with pytest.raises(InvalidInput) as caught:
            compute("pool2d", **inputs, mode=mode)
        assert caught.value.field == "kernel_size"
        return
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d  # avg: count_include_pad=True
    expected = pool(batch(image), kernel_size, stride=stride, padding=padding)[0, 0]
    assert_close(compute("pool2d", **inputs, mode=mode)["output"], expected)


def test_pool2d_halves_a_4x4_map_with_the_default_stride() -> None:
    image = [[1, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 8]]
    assert compute("pool2d", image=image, kernel_size=2)["output"] == [[4, 2], [2, 8]]
    assert compute("pool2d", image=image, kernel_size=2, mode="average")["output"] == [
        [2.5, 1.0],
        [1.25, 6.5],
    ]


@given(
    st.fixed_dictionaries(
        {
            "input_size": st.integers(1, 40),
            "kernel_size": st.integers(1, 7),
            "stride": st.one_of(st.none(), st.integers(1, 5)),
            "padding": st.integers(0, 3),
            "dilation": st.integers(1, 3),
            "ceil_mode": st.booleans(),
        }
    )
)
def test_pool_output_size_matches_a_real_torch_max_pool(inputs: dict) -> None:
    size, kernel, padding = inputs["input_size"], inputs["kernel_size"], inputs["padding"]
    if 2 * padding > kernel or inputs["dilation"] * (kernel - 1) + 1 > size + 2 * padding:
        with pytest.raises(InvalidInput) as caught:
            compute("pool-output-size", **inputs)
        assert caught.value.field == ("padding" if 2 * padding > kernel else "kernel_size")
        return
    layer = {name: value for name, value in inputs.items() if name != "input_size"}
    expected = torch.nn.MaxPool1d(**layer)(torch.zeros(1, 1, size)).shape[-1]
    assert compute("pool-output-size", **inputs)["output_size"] == expected


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"input_size": 7, "kernel_size": 2}, 3),  # stride defaults to the window: floor(6/2)+1
        ({"input_size": 7, "kernel_size": 2, "ceil_mode": True}, 4),  # the leftover row is kept
        ({"input_size": 112, "kernel_size": 3, "stride": 2, "padding": 1}, 56),  # ResNet stem
        # ceil would give 4, but the 4th window would start in the right padding: dropped.
        ({"input_size": 5, "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, 3),
    ],
)
def test_pool_output_size_known_cases(inputs: dict, expected: int) -> None:
    assert compute("pool-output-size", **inputs)["output_size"] == expected


# --- Parameters, receptive field and cost ---------------------------------------------------


@given(
    st.integers(1, 6).flatmap(
        lambda groups: st.tuples(
            st.integers(1, 8).map(lambda n: n * groups),
            st.integers(1, 8).map(lambda n: n * groups),
            st.just(groups),
        )
    ),
    st.integers(1, 7),
    st.booleans(),
)
def test_conv_params_counts_the_parameters_of_torch_conv2d(
    channels: tuple[int, int, int], kernel: int, bias: bool
) -> None:
    in_channels, out_channels, groups = channels
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel, groups=groups, bias=bias)
    expected = sum(parameter.numel() for parameter in layer.parameters())
    outputs = compute(
        "conv-params",
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel,
        groups=groups,
        bias=bias,
    )
    assert outputs["params"] == expected


def test_conv_params_of_a_first_vgg_layer() -> None:
    # 64 filters of 3×3×3 weights plus one bias each: (27 + 1) × 64.
    assert compute("conv-params", in_channels=3, out_channels=64, kernel_size=3)["params"] == 1792


def test_conv_params_refuses_groups_that_do_not_divide_the_channels() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("conv-params", in_channels=6, out_channels=4, kernel_size=3, groups=4)
    assert caught.value.field == "groups"
    assert "in_channels = 6" in caught.value.reason


def receptive_field_by_autograd(
    kernels: list[int], strides: list[int], dilations: list[int]
) -> int:
    """Span of the input positions whose gradient reaches output position 0 of a 1-D stack."""
    length = math.prod(strides) * sum(k * d for k, d in zip(kernels, dilations, strict=True)) + 1
    signal = torch.ones(1, 1, length, requires_grad=True)
    hidden = signal
    for kernel, stride, dilation in zip(kernels, strides, dilations, strict=True):
        hidden = F.conv1d(hidden, torch.ones(1, 1, kernel), stride=stride, dilation=dilation)
    hidden[0, 0, 0].backward()
    reached = torch.nonzero(signal.grad[0, 0]).flatten()
    return int(reached[-1] - reached[0]) + 1


@given(
    st.integers(1, 4).flatmap(
        lambda layers: st.tuples(
            st.lists(st.integers(1, 5), min_size=layers, max_size=layers),
            st.lists(st.integers(1, 3), min_size=layers, max_size=layers),
            st.lists(st.integers(1, 3), min_size=layers, max_size=layers),
        )
    )
)
def test_receptive_field_is_the_span_autograd_reaches(layers: tuple[list, list, list]) -> None:
    kernels, strides, dilations = layers
    outputs = compute("receptive-field", kernel_sizes=kernels, strides=strides, dilations=dilations)
    assert outputs["receptive_field"] == receptive_field_by_autograd(kernels, strides, dilations)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"kernel_sizes": [3, 3], "strides": [1, 1]}, 5),  # two 3×3 layers see 5×5
        ({"kernel_sizes": [3, 3, 3], "strides": [1, 1, 1]}, 7),  # VGG: three 3×3 = one 7×7
        ({"kernel_sizes": [7, 3], "strides": [2, 2]}, 11),  # ResNet stem conv + max pool
        ({"kernel_sizes": [2, 2, 2, 2], "strides": [1] * 4, "dilations": [1, 2, 4, 8]}, 16),
    ],
)
def test_receptive_field_known_networks(inputs: dict, expected: int) -> None:
    assert compute("receptive-field", **inputs)["receptive_field"] == expected


@pytest.mark.parametrize("field", ["strides", "dilations"])
def test_receptive_field_needs_one_entry_per_layer(field: str) -> None:
    inputs = {"kernel_sizes": [3, 3], "strides": [1, 1], "dilations": [1, 1]}
    with pytest.raises(InvalidInput) as caught:
        compute("receptive-field", **{**inputs, field: [1, 1, 1]})
    assert caught.value.field == field
    assert "one entry per layer" in caught.value.reason


def test_receptive_field_refuses_an_absurd_total_stride() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("receptive-field", kernel_sizes=[3] * 10, strides=[16] * 10)
    assert caught.value.field == "strides"


@given(
    st.lists(st.floats(-10, 10), min_size=1, max_size=40),
    st.lists(st.floats(-10, 10), min_size=1, max_size=5),
    st.integers(1, 6),
)
def test_dilated_convolution_matches_torch_conv1d(
    signal: list[float], kernel: list[float], dilation: int
) -> None:
    span = dilation * (len(kernel) - 1) + 1
    if span > len(signal):
        with pytest.raises(InvalidInput) as caught:
            compute("dilated-convolution", signal=signal, kernel=kernel, dilation=dilation)
        assert caught.value.field == "signal"
        return
    outputs = compute("dilated-convolution", signal=signal, kernel=kernel, dilation=dilation)
    x = tensor(signal)[None, None]
    assert_close(
        outputs["output"],
        F.conv1d(x, tensor(kernel)[None, None], dilation=dilation)[0, 0],
        atol=1e-9,
    )
    # The same output from an ordinary convolution with zeros inserted between the taps.
    assert outputs["effective_kernel_size"] == span == len(outputs["dilated_kernel"])
    zero_filled = F.conv1d(x, tensor(outputs["dilated_kernel"])[None, None])[0, 0]
    assert_close(outputs["output"], zero_filled, atol=1e-9)


@given(
    st.fixed_dictionaries(
        {
            "input_size": st.integers(1, 20),
            "kernel_size": st.integers(1, 6),
            "stride": st.integers(1, 4),
            "padding": st.integers(0, 4),
            "output_padding": st.integers(0, 3),
            "dilation": st.integers(1, 3),
        }
    )
)
def test_transposed_conv_output_size_matches_real_torch_layers(inputs: dict) -> None:
    size, kernel = inputs["input_size"], inputs["kernel_size"]
    options = {
        name: value for name, value in inputs.items() if name not in ("input_size", "kernel_size")
    }
    if inputs["output_padding"] >= max(inputs["stride"], inputs["dilation"]):
        with pytest.raises(InvalidInput) as caught:
            compute("transposed-conv-output-size", **inputs)
        assert caught.value.field == "output_padding"
        return
    try:
        expected = torch.nn.ConvTranspose1d(1, 1, kernel, **options)(torch.zeros(1, 1, size))
    except RuntimeError:  # torch: "Output size is too small"
        with pytest.raises(InvalidInput) as caught:
            compute("transposed-conv-output-size", **inputs)
        assert caught.value.field == "padding"
        return
    length = expected.shape[-1]
    layer_2d = torch.nn.ConvTranspose2d(1, 1, kernel, **options)
    assert layer_2d(torch.zeros(1, 1, size, size)).shape[-2:] == (length, length)
    assert compute("transposed-conv-output-size", **inputs)["output_size"] == length


def test_transposed_conv_doubles_a_map_with_the_usual_decoder_settings() -> None:
    # K = 4, S = 2, P = 1: (H − 1)·2 − 2 + 3 + 1 = 2H, as in DCGAN generators.
    outputs = compute(
        "transposed-conv-output-size", input_size=16, kernel_size=4, stride=2, padding=1
    )
    assert outputs["output_size"] == 32


def mult_adds(*layers: torch.nn.Module, height: int, width: int, channels: int) -> int:
    """Multiply-adds counted by torch's FLOP counter (one multiply-add = 2 FLOPs)."""
    with FlopCounterMode(display=False) as counter:
        hidden = torch.zeros(1, channels, height, width)
        for layer in layers:
            hidden = layer(hidden)
    assert hidden.shape[-2:] == (height, width)
    return counter.get_total_flops() // 2


cost_shapes = {
    "height": st.integers(1, 9),
    "width": st.integers(1, 9),
    "in_channels": st.integers(1, 12),
    "out_channels": st.integers(1, 12),
    "kernel_size": st.integers(1, 5),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@given(**cost_shapes)
def test_depthwise_separable_cost_matches_torch_flop_counter(
    height: int, width: int, in_channels: int, out_channels: int, kernel_size: int
) -> None:
    m, n, k = in_channels, out_channels, kernel_size
    outputs = compute(
        "depthwise-separable-cost",
        height=height,
        width=width,
        in_channels=m,
        out_channels=n,
        kernel_size=k,
    )
    shape = {"height": height, "width": width, "channels": m}
    standard = torch.nn.Conv2d(m, n, k, padding="same", bias=False)
    depthwise = torch.nn.Conv2d(m, m, k, padding="same", groups=m, bias=False)
    pointwise = torch.nn.Conv2d(m, n, 1, bias=False)
    assert outputs["standard_mult_adds"] == mult_adds(standard, **shape)
    assert outputs["separable_mult_adds"] == mult_adds(depthwise, pointwise, **shape)
    assert_close(outputs["ratio"], 1 / n + 1 / k**2)  # MobileNet's reduction 1/N + 1/D_K²


def test_depthwise_separable_cost_saves_eight_to_nine_times_with_3x3_kernels() -> None:
    outputs = compute(
        "depthwise-separable-cost",
        height=14,
        width=14,
        in_channels=512,
        out_channels=512,
        kernel_size=3,
    )
    assert outputs["standard_mult_adds"] == 3 * 3 * 512 * 512 * 14 * 14
    assert 8 < 1 / outputs["ratio"] < 9


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@given(**cost_shapes, groups=st.integers(1, 4))
def test_group_conv_cost_matches_torch_weights_and_flop_counter(
    height: int, width: int, in_channels: int, out_channels: int, kernel_size: int, groups: int
) -> None:
    inputs = {
        "height": height,
        "width": width,
        "in_channels": in_channels * groups,
        "out_channels": out_channels * groups,
        "kernel_size": kernel_size,
        "groups": groups,
    }
    layer = torch.nn.Conv2d(
        in_channels * groups,
        out_channels * groups,
        kernel_size,
        padding="same",
        groups=groups,
        bias=False,
    )
    outputs = compute("group-conv-cost", **inputs)
    assert outputs["weights"] == layer.weight.numel()
    channels = in_channels * groups
    assert outputs["mult_adds"] == mult_adds(layer, height=height, width=width, channels=channels)


def test_group_conv_cost_with_one_group_per_channel_is_the_depthwise_cost() -> None:
    depthwise = compute(
        "group-conv-cost",
        height=7,
        width=7,
        in_channels=32,
        out_channels=32,
        kernel_size=3,
        groups=32,
    )
    assert depthwise == {"weights": 9 * 32, "mult_adds": 9 * 32 * 49}


def test_group_conv_cost_refuses_groups_that_do_not_divide_the_channels() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(
            "group-conv-cost",
            height=4,
            width=4,
            in_channels=8,
            out_channels=6,
            kernel_size=3,
            groups=4,
        )
    assert caught.value.field == "groups"
    assert "out_channels = 6" in caught.value.reason


# --- Residual block -------------------------------------------------------------------------


@st.composite
def residual_blocks(draw: st.DrawFn) -> dict:
    d, h = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    d_out = draw(st.sampled_from([d, draw(st.integers(1, 5))]))
    entries = st.floats(-5, 5)

    def matrix(rows: int, columns: int) -> list:
        row = st.lists(entries, min_size=columns, max_size=columns)
        return draw(st.lists(row, min_size=rows, max_size=rows))

    return {
        "x": draw(st.lists(entries, min_size=d, max_size=d)),
        "w1": matrix(h, d),
        "b1": draw(st.lists(entries, min_size=h, max_size=h)),
        "w2": matrix(d_out, h),
        "b2": draw(st.lists(entries, min_size=d_out, max_size=d_out)),
        "projection": matrix(d_out, d) if d_out != d or draw(st.booleans()) else None,
        "final_relu": draw(st.booleans()),
    }


@given(residual_blocks())
def test_residual_block_matches_torch_linear_layers(block: dict) -> None:
    first = torch.nn.Linear(len(block["x"]), len(block["b1"]))
    second = torch.nn.Linear(len(block["b1"]), len(block["b2"]))
    with torch.no_grad():
        first.weight.copy_(tensor(block["w1"]))
        first.bias.copy_(tensor(block["b1"]))
        second.weight.copy_(tensor(block["w2"]))
        second.bias.copy_(tensor(block["b2"]))
    x = tensor(block["x"])
    residual = second(torch.relu(first(x)))
    shortcut = x if block["projection"] is None else tensor(block["projection"]) @ x
    expected = residual + shortcut
    if block["final_relu"]:
        expected = torch.relu(expected)
    outputs = compute("residual-block", **block)
    assert_close(outputs["residual"], residual, atol=1e-9)
    assert_close(outputs["shortcut"], shortcut, atol=1e-9)
    assert_close(outputs["output"], expected, atol=1e-9)


def test_residual_block_with_zero_weights_passes_the_input_through() -> None:
    outputs = compute("residual-block", x=[1.5, 2.0], w1=[[0, 0]], w2=[[0], [0]])
    assert outputs == {"residual": [0.0, 0.0], "shortcut": [1.5, 2.0], "output": [1.5, 2.0]}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"w1": [[1, 0, 0]]}, "w1", "columns like x"),
        ({"w2": [[1, 1], [0, 1]]}, "w2", "columns"),
        ({"b1": [0, 0]}, "b1", "length 1"),
        ({"w2": [[1], [0], [2]]}, "projection", "cannot be added"),
        ({"projection": [[1, 0]]}, "projection", "must be d_out×d"),
    ],
)
def test_residual_block_explains_mismatched_shapes(change: dict, field: str, reason: str) -> None:
    block = {"x": [1.0, 2.0], "w1": [[1, -1]], "w2": [[1], [2]]}
    with pytest.raises(InvalidInput) as caught:
        compute("residual-block", **{**block, **change})
    assert caught.value.field == field
    assert reason in caught.value.reason
