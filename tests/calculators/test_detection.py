"""Detection and segmentation metrics against references written from their definitions.

torchvision cannot be installed beside torch 2.13 here, so `box_iou_reference` follows
torchvision.ops.box_iou's definition (continuous coordinates, no +1) in torch, and
`nms_reference` follows torchvision.ops.nms's. AP follows the PASCAL VOC development kits,
mean IoU scikit-learn's Jaccard score and the definition of Long et al. (FCN).
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from app.calculators.detection import box_overlap
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


# --- Non-maximum suppression ----------------------------------------------------------------


def nms_reference(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> list[int]:
    """torchvision.ops.nms by its documented definition: visit boxes by descending score,
    keep one, discard every later box whose IoU with it is strictly greater than the threshold."""
    remaining = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []
    while remaining:
        best, *rest = remaining
        keep.append(best)
        remaining = [j for j in rest if box_iou_reference(boxes[best], boxes[j]) <= threshold]
    return keep


@given(
    st.lists(boxes(), min_size=1, max_size=12).flatmap(
        lambda drawn: st.tuples(
            st.just(drawn),
            st.lists(st.floats(0, 1), min_size=len(drawn), max_size=len(drawn), unique=True),
        )
    ),
    st.floats(0, 1),
)
def test_nms_matches_the_torchvision_definition(
    boxes_and_scores: tuple[list, list], threshold: float
) -> None:
    drawn, scores = boxes_and_scores
    keep = compute("nms", boxes=drawn, scores=scores, iou_threshold=threshold)["keep"]
    assert keep == nms_reference(tensor(drawn), tensor(scores), threshold)


def test_nms_keeps_a_box_whose_iou_equals_the_threshold() -> None:
    boxes_ = [[0, 0, 4, 1], [0, 0, 2, 1]]  # IoU = 2 / 4 = 0.5 exactly
    assert compute("nms", boxes=boxes_, scores=[0.9, 0.8], iou_threshold=0.5)["keep"] == [0, 1]
    assert compute("nms", boxes=boxes_, scores=[0.9, 0.8], iou_threshold=0.49)["keep"] == [0]


def test_nms_returns_indices_in_descending_score_order() -> None:
    boxes_ = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10]]
    outputs = compute("nms", boxes=boxes_, scores=[0.9, 0.8, 0.7, 0.95])
    assert outputs["keep"] == [3, 2]  # box 3 (0.95) removes boxes 0 and 1


def test_nms_breaks_score_ties_by_input_order() -> None:
    assert compute("nms", boxes=[[0, 0, 1, 1], [0, 0, 1, 1]], scores=[0.5, 0.5])["keep"] == [0]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"boxes": [[0, 0, 1]], "scores": [1]}, "boxes", "4 numbers"),
        ({"boxes": [[0, 0, 0, 1]], "scores": [1]}, "boxes", "positive area"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [1, 2]}, "scores", "one score per box"),
    ],
)
def test_nms_explains_bad_boxes(body: dict, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("nms", **body)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_nms_reuses_the_iou_of_the_iou_calculator() -> None:
    a, b = np.array([1.0, 1, 5, 4]), np.array([3.0, 2, 7, 6])
    overlap = box_overlap(np.stack([a, b])[:, None], np.stack([a, b])[None])
    assert (
        overlap.intersection[0, 1] / overlap.union[0, 1]
        == compute("iou", box_a=a.tolist(), box_b=b.tolist())["iou"]
    )
