import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import compute


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
