"""IoU and Dice against references written from their definitions.

torchvision cannot be installed beside torch 2.13 here, so `box_iou_reference` follows
torchvision.ops.box_iou's definition (continuous coordinates, no +1) in torch.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor


def box_iou_reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    wh = (torch.min(a[2:], b[2:]) - torch.max(a[:2], b[:2])).clamp(min=0)
    intersection = wh[0] * wh[1]
    return intersection / (area_a + area_b - intersection)


@st.composite
def boxes(draw: st.DrawFn) -> list[float]:
    x1, y1 = draw(st.floats(-100, 100)), draw(st.floats(-100, 100))
    return [x1, y1, x1 + draw(st.floats(0.01, 100)), y1 + draw(st.floats(0.01, 100))]


@given(boxes(), boxes())
def test_iou_matches_the_torchvision_definition(box_a: list[float], box_b: list[float]) -> None:
    outputs = compute("iou", box_a=box_a, box_b=box_b)
    assert_close(outputs["iou"], box_iou_reference(tensor(box_a), tensor(box_b)))
    assert outputs["union"] >= outputs["intersection"] >= 0


@pytest.mark.parametrize(
    ("box_a", "box_b", "iou", "intersection", "union"),
    [
        ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7, 1, 7),
        ([0, 0, 1, 1], [2, 2, 3, 3], 0, 0, 2),  # disjoint
        ([0, 0, 4, 4], [0, 0, 4, 4], 1, 16, 16),  # identical
        ([0, 0, 4, 4], [1, 1, 2, 2], 1 / 16, 1, 16),  # nested
    ],
)
def test_iou_known_cases(box_a, box_b, iou, intersection, union) -> None:
    outputs = compute("iou", box_a=box_a, box_b=box_b)
    assert_close(
        [outputs["iou"], outputs["intersection"], outputs["union"]], [iou, intersection, union]
    )


def test_iou_of_two_zero_area_boxes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="zero area"):
        compute("iou", box_a=[1, 1, 1, 1], box_b=[1, 1, 1, 1])


def test_iou_refuses_swapped_corners() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("iou", box_a=[0, 0, 1, 1], box_b=[3, 3, 1, 1])
    assert caught.value.field == "box_b"


@st.composite
def mask_pairs(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]]]:
    rows, columns = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    bits = st.lists(
        st.lists(st.integers(0, 1), min_size=columns, max_size=columns),
        min_size=rows,
        max_size=rows,
    )
    return draw(bits), draw(bits)


@given(mask_pairs())
def test_dice_and_iou_match_their_definitions(masks) -> None:
    a, b = (np.asarray(mask, dtype=bool) for mask in masks)
    outputs = compute("dice", mask_a=masks[0], mask_b=masks[1])
    if not (a | b).any():
        assert outputs == {"dice": None, "iou": None}
        return
    intersection = (a & b).sum()
    assert_close(outputs["dice"], 2 * intersection / (a.sum() + b.sum()))
    assert_close(outputs["iou"], intersection / (a | b).sum())
    # Dice and IoU are tied: D = 2J / (1 + J).
    assert_close(outputs["dice"], 2 * outputs["iou"] / (1 + outputs["iou"]))
