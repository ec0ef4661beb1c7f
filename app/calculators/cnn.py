"""Convolution arithmetic."""

from typing import Any

import numpy as np

from app.calculators.registry import calculator
from app.calculators.types import Inputs, InvalidInput, Result, Step, described

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
