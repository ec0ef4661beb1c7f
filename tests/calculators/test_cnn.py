import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

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
    size=st.integers(1, 40),
    kernel=st.integers(1, 7),
    stride=st.one_of(st.none(), st.integers(1, 5)),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool_output_size_matches_a_real_torch_max_pool(
    size: int, kernel: int, stride: int | None, padding: int, dilation: int, ceil_mode: bool
) -> None:
    inputs = {
        "input_size": size,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "ceil_mode": ceil_mode,
    }
    if 2 * padding > kernel or dilation * (kernel - 1) + 1 > size + 2 * padding:
        with pytest.raises(InvalidInput) as caught:
            compute("pool-output-size", **inputs)
        assert caught.value.field == ("padding" if 2 * padding > kernel else "kernel_size")
        return
    pool = torch.nn.MaxPool1d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    expected = pool(torch.zeros(1, 1, size)).shape[-1]
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
