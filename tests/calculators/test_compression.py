"""Compression calculators against PyTorch.

Distillation against torch kl_div / cross_entropy (float64); quantization against
torch.fake_quantize_per_tensor_affine (float64), torch.quantize_per_tensor and
MinMaxObserver (both float32 only, hence rtol 1e-6 on the scale); pruning against
torch.nn.utils.prune.l1_unstructured; data-parallel averaging against full-batch
autograd gradients; FLOPs against torch.utils.flop_counter.FlopCounterMode.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given
from hypothesis import strategies as st
from torch.ao.quantization import MinMaxObserver
from torch.nn.utils import prune
from torch.utils.flop_counter import FlopCounterMode

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)

# --- distillation -----------------------------------------------------------------------------


@st.composite
def logit_pairs(draw: st.DrawFn):
    classes = draw(st.integers(1, 8))
    logits = st.lists(values, min_size=classes, max_size=classes)
    return draw(logits), draw(logits), draw(st.integers(0, classes - 1))


@given(logit_pairs(), st.floats(0.5, 20), st.floats(0, 1))
def test_distillation_loss_matches_torch_kl_div_and_cross_entropy(
    logits, temperature: float, alpha: float
) -> None:
    student, teacher, label = logits
    outputs = compute(
        "distillation-loss",
        student_logits=student,
        teacher_logits=teacher,
        label=label,
        temperature=temperature,
        alpha=alpha,
    )
    soft = F.kl_div(
        F.log_softmax(tensor(student) / temperature, dim=0),
        F.softmax(tensor(teacher) / temperature, dim=0),
        reduction="sum",
    )
    hard = F.cross_entropy(tensor([student]), torch.tensor([label]))
    assert_close(outputs["soft_loss"], soft, atol=1e-12)
    assert_close(outputs["hard_loss"], hard)
    assert_close(outputs["loss"], alpha * temperature**2 * soft + (1 - alpha) * hard, atol=1e-12)


def test_distillation_soft_loss_vanishes_when_student_matches_teacher() -> None:
    outputs = compute(
        "distillation-loss", student_logits=[2, 1, 0], teacher_logits=[2, 1, 0], label=1
    )
    assert outputs["soft_loss"] == 0
    assert_close(outputs["loss"], 0.5 * outputs["hard_loss"])


def test_distillation_hard_loss_ignores_the_temperature() -> None:
    first, second = (
        compute(
            "distillation-loss",
            student_logits=[2, 1, 0],
            teacher_logits=[0, 1, 2],
            label=0,
            temperature=t,
        )
        for t in (1.0, 10.0)
    )
    assert first["hard_loss"] == second["hard_loss"]
    assert_close(first["hard_loss"], -math.log(math.exp(2) / (math.exp(2) + math.e + 1)))


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"label": 3}, "label", "number of classes"),
        ({"teacher_logits": [1.0, 2.0]}, "teacher_logits", "same shape"),
        ({"temperature": 0}, "temperature", "greater than 0"),
        ({"student_logits": [1e12, 0, 0], "temperature": 1e-300}, "temperature", "overflows"),
        ({"alpha": 1.5}, "alpha", "less than or equal to 1"),
    ],
)
def test_distillation_refuses_bad_inputs(inputs: dict, field: str, reason: str) -> None:
    base = {"student_logits": [1.0, 0.0, 0.0], "teacher_logits": [0.0, 1.0, 0.0], "label": 0}
    with pytest.raises(InvalidInput) as caught:
        compute("distillation-loss", **{**base, **inputs})
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- affine quantization ----------------------------------------------------------------------

RANGES = {"uint8": (0, 255), "int8": (-128, 127)}


@st.composite
def quantization_cases(draw: st.DrawFn):
    dtype = draw(st.sampled_from(["uint8", "int8"]))
    low, high = RANGES[dtype]
    return {
        "x": draw(st.lists(st.floats(-300, 300), min_size=1, max_size=16)),
        "scale": 2.0 ** draw(st.integers(-6, 3)),  # a power of two: x / S is exact in torch too
        "zero_point": draw(st.integers(low, high)),
        "dtype": dtype,
    }


@given(quantization_cases())
def test_quantization_matches_torch_fake_quantize(case: dict) -> None:
    outputs = compute("affine-quantization", **case)
    low, high = RANGES[case["dtype"]]
    expected = torch.fake_quantize_per_tensor_affine(
        tensor(case["x"]), case["scale"], case["zero_point"], low, high
    )
    assert_close(outputs["dequantized"], expected)
    assert_close(outputs["error"], tensor(case["x"]) - expected, atol=1e-9)
    assert all(low <= q <= high for q in outputs["q"])


@given(quantization_cases())
@example({"x": [2.00001], "scale": 4.0, "zero_point": 64, "dtype": "uint8"})
def test_quantization_matches_torch_quantize_per_tensor_away_from_ties(case: dict) -> None:
    x = np.asarray(case["x"], dtype=np.float32).astype(float).tolist()  # torch needs float32
    # torch rounds r / S + Z in float32, where a value a few ulps from a tie (2.00001 / 4 + 64)
    # is a tie: keep away from ties by more than float32 resolves there (see the next test).
    shifted = np.asarray(x) / case["scale"] + case["zero_point"]
    resolution = 4 * np.spacing(np.abs(shifted).astype(np.float32)).astype(float)
    assume(np.all(np.abs(shifted - np.floor(shifted) - 0.5) > resolution))
    outputs = compute("affine-quantization", **{**case, "x": x})
    torch_dtype = {"uint8": torch.quint8, "int8": torch.qint8}[case["dtype"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # quantized dtypes are deprecated in 2.13
        quantized = torch.quantize_per_tensor(
            torch.tensor(x, dtype=torch.float32), case["scale"], case["zero_point"], torch_dtype
        )
    assert outputs["q"] == quantized.int_repr().tolist()


def test_quantization_rounds_ties_to_even_before_adding_the_zero_point() -> None:
    # r / S = 0.5, 1.5, 2.5 round to 0, 2, 2 (ties to even), like fake_quantize;
    # quantize_per_tensor rounds r / S + Z instead, which differs here because Z is odd.
    outputs = compute("affine-quantization", x=[0.25, 0.75, 1.25], scale=0.5, zero_point=3)
    assert outputs["q"] == [3, 5, 5]
    expected = torch.fake_quantize_per_tensor_affine(tensor([0.25, 0.75, 1.25]), 0.5, 3, 0, 255)
    assert_close(outputs["dequantized"], expected)


def test_quantization_clamps_to_the_integer_range() -> None:
    outputs = compute("affine-quantization", x=[-1.3, 200.0], scale=0.5, zero_point=3)
    assert outputs["q"] == [0, 255]
    assert_close(outputs["dequantized"], [-1.5, 126.0])


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"zero_point": -1}, "zero_point", "uint8 range"),
        ({"zero_point": 128, "dtype": "int8"}, "zero_point", "int8 range"),
        ({"scale": 0}, "scale", "greater than 0"),
        ({"x": [1e12], "scale": 1e-300}, "scale", "overflows"),
        ({"dtype": "int4"}, "dtype", "uint8"),
    ],
)
def test_quantization_refuses_bad_parameters(inputs: dict, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("affine-quantization", **{"x": [0.5], "scale": 0.1, **inputs})
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- scale and zero point ---------------------------------------------------------------------


@given(
    st.floats(-100, 100), st.floats(-100, 100), st.sampled_from(["uint8", "int8"]), st.booleans()
)
def test_quantization_params_match_torch_min_max_observer(
    a: float, b: float, dtype: str, symmetric: bool
) -> None:
    x_min, x_max = (float(np.float32(v)) for v in sorted((a, b)))
    outputs = compute(
        "quantization-params", x_min=x_min, x_max=x_max, dtype=dtype, symmetric=symmetric
    )
    observer = MinMaxObserver(
        dtype={"uint8": torch.quint8, "int8": torch.qint8}[dtype],
        qscheme=torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine,
    )
    observer(torch.tensor([x_min, x_max], dtype=torch.float32))
    scale, zero_point = observer.calculate_qparams()
    assert_close(outputs["scale"], float(scale), rtol=1e-6)
    shifted = min(x_min, 0.0) / outputs["scale"]
    if abs(shifted - math.floor(shifted) - 0.5) > 1e-4:  # away from a rounding tie in float32
        assert outputs["zero_point"] == int(zero_point)


def test_quantization_params_by_hand() -> None:
    outputs = compute("quantization-params", x_min=-1.0, x_max=2.0)
    assert_close(outputs["scale"], 3 / 255)
    assert outputs["zero_point"] == 85
    outputs = compute("quantization-params", x_min=-1.0, x_max=2.0, dtype="int8", symmetric=True)
    assert_close(outputs["scale"], 2 / 127.5)
    assert outputs["zero_point"] == 0


def test_quantization_params_extend_the_range_to_include_zero() -> None:
    outputs = compute("quantization-params", x_min=1.0, x_max=2.0)
    assert_close(outputs["scale"], 2 / 255)
    assert outputs["zero_point"] == 0


def test_quantization_params_refuse_a_reversed_range() -> None:
    with pytest.raises(InvalidInput, match="at least x_min") as caught:
        compute("quantization-params", x_min=1.0, x_max=0.0)
    assert caught.value.field == "x_max"


# --- magnitude pruning ------------------------------------------------------------------------


@given(
    st.lists(st.floats(0.01, 10), min_size=1, max_size=20, unique=True),
    st.data(),
    st.floats(0, 1),
)
def test_pruning_matches_torch_l1_unstructured_for_distinct_magnitudes(
    magnitudes: list[float], data: st.DataObject, amount: float
) -> None:
    signs = data.draw(
        st.lists(st.sampled_from([-1.0, 1.0]), min_size=len(magnitudes), max_size=len(magnitudes))
    )
    weights = [m * s for m, s in zip(magnitudes, signs, strict=True)]
    outputs = compute("magnitude-pruning", weights=weights, amount=amount)
    layer = torch.nn.Linear(len(weights), 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(tensor([weights]))
    prune.l1_unstructured(layer, "weight", amount=amount)
    assert outputs["mask"] == layer.weight_mask[0].int().tolist()
    assert_close(outputs["pruned_weights"], layer.weight[0].detach())
    assert outputs["pruned_count"] == round(amount * len(weights))


def test_pruning_breaks_ties_by_pruning_the_earlier_weight_first() -> None:
    outputs = compute("magnitude-pruning", weights=[1.0, -1.0, 1.0, 2.0], amount=0.5)
    assert outputs["mask"] == [0, 0, 1, 1]


def test_pruning_rounds_the_count_half_to_even_like_torch() -> None:
    # 0.5 × 3 = 1.5 rounds to 2 and 0.5 × 5 = 2.5 rounds to 2 (Python's round).
    assert compute("magnitude-pruning", weights=[3, 1, 2], amount=0.5)["pruned_count"] == 2
    assert compute("magnitude-pruning", weights=[5, 1, 4, 2, 3], amount=0.5)["pruned_count"] == 2


def test_pruning_refuses_a_fraction_above_one() -> None:
    with pytest.raises(InvalidInput, match="less than or equal to 1") as caught:
        compute("magnitude-pruning", weights=[1.0], amount=1.5)
    assert caught.value.field == "amount"


# --- data-parallel gradient averaging ---------------------------------------------------------


def shard_gradients(features, targets, sizes):
    """Gradient of the mean squared error of a linear model: per shard and on the full batch."""
    weight = torch.linspace(-1, 1, features.shape[1]).requires_grad_()

    def gradient(x, y):
        weight.grad = None
        ((x @ weight - y) ** 2).mean().backward()
        return weight.grad.clone()

    bounds = np.cumsum([0, *sizes])
    shards = [
        gradient(features[start:end], targets[start:end])
        for start, end in itertools.pairwise(bounds)
    ]
    return torch.stack(shards), gradient(features, targets)


@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=4), st.integers(1, 3), st.integers(0, 10**6)
)
def test_weighted_average_of_shard_gradients_is_the_full_batch_gradient(
    sizes: list[int], parameters: int, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(sum(sizes), parameters, generator=generator)
    targets = torch.randn(sum(sizes), generator=generator)
    shards, full = shard_gradients(features, targets, sizes)
    outputs = compute("data-parallel-average", worker_gradients=shards.tolist(), batch_sizes=sizes)
    assert_close(outputs["gradient"], full)
    assert_close(outputs["all_reduce_sum"], shards.sum(dim=0))


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), st.integers(0, 10**6))
def test_plain_average_is_the_full_batch_gradient_for_equal_shards(
    workers: int, per_worker: int, parameters: int, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(workers * per_worker, parameters, generator=generator)
    targets = torch.randn(workers * per_worker, generator=generator)
    shards, full = shard_gradients(features, targets, [per_worker] * workers)
    outputs = compute("data-parallel-average", worker_gradients=shards.tolist())
    assert_close(outputs["gradient"], full)


def test_plain_average_differs_from_the_full_batch_for_unequal_shards() -> None:
    plain = compute("data-parallel-average", worker_gradients=[[1.0], [4.0]])
    weighted = compute("data-parallel-average", worker_gradients=[[1.0], [4.0]], batch_sizes=[1, 3])
    assert_close(plain["gradient"], [2.5])
    assert_close(weighted["gradient"], [(1 + 3 * 4) / 4])


def test_data_parallel_average_needs_one_batch_size_per_worker() -> None:
    with pytest.raises(InvalidInput, match="one size per worker") as caught:
        compute("data-parallel-average", worker_gradients=[[1.0], [2.0]], batch_sizes=[1])
    assert caught.value.field == "batch_sizes"


# --- FLOPs and MACs ---------------------------------------------------------------------------


@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_layer_flops_match_torch_flop_counter_for_convolutions(
    in_groups: int, out_groups: int, kernel: int, height: int, width: int, groups: int, bias: bool
) -> None:
    in_channels, out_channels = in_groups * groups, out_groups * groups
    conv = torch.nn.Conv2d(in_channels, out_channels, kernel, groups=groups, bias=bias)
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, in_channels, height + kernel - 1, width + kernel - 1))
    outputs = compute(
        "layer-flops",
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel,
        output_height=height,
        output_width=width,
        groups=groups,
        bias=bias,
    )
    assert outputs["flops"] == counter.get_total_flops() == 2 * outputs["macs"]
    assert outputs["params"] == sum(p.numel() for p in conv.parameters())


@given(st.integers(1, 64), st.integers(1, 64), st.booleans())
def test_layer_flops_of_a_linear_layer_match_torch_flop_counter(
    in_features: int, out_features: int, bias: bool
) -> None:
    linear = torch.nn.Linear(in_features, out_features, bias=bias)
    with FlopCounterMode(display=False) as counter:
        linear(torch.zeros(1, in_features))
    outputs = compute("layer-flops", in_channels=in_features, out_channels=out_features, bias=bias)
    assert outputs["macs"] == in_features * out_features
    assert outputs["flops"] == counter.get_total_flops()
    assert outputs["params"] == sum(p.numel() for p in linear.parameters())


def test_depthwise_separable_convolution_costs_by_hand() -> None:
    # MobileNet's comparison: depthwise 3×3 on 32 channels, then pointwise 32 → 64, at 56×56.
    size = {"output_height": 56, "output_width": 56, "bias": False}
    depthwise = compute(
        "layer-flops", in_channels=32, out_channels=32, kernel_size=3, groups=32, **size
    )
    pointwise = compute("layer-flops", in_channels=32, out_channels=64, **size)
    standard = compute("layer-flops", in_channels=32, out_channels=64, kernel_size=3, **size)
    assert depthwise["macs"] == 3 * 3 * 32 * 56 * 56
    assert pointwise["macs"] == 32 * 64 * 56 * 56
    assert_close((depthwise["macs"] + pointwise["macs"]) / standard["macs"], 1 / 64 + 1 / 9)


def test_layer_flops_refuse_groups_that_do_not_divide_the_channels() -> None:
    with pytest.raises(InvalidInput, match="divisible by groups") as caught:
        compute("layer-flops", in_channels=3, out_channels=4, groups=2)
    assert caught.value.field == "in_channels"
