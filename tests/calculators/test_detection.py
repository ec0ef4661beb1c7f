"""Detection and segmentation metrics against references written from their definitions.

torchvision cannot be installed beside torch 2.13 here, so `box_iou_reference` follows
torchvision.ops.box_iou's definition (continuous coordinates, no +1) in torch, and
`nms_reference` follows torchvision.ops.nms's. AP follows the PASCAL VOC development kits,
mean IoU scikit-learn's Jaccard score and the definition of Long et al. (FCN).
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, confusion_matrix, jaccard_score

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
def map_pairs(draw: st.DrawFn, largest: int = 1) -> tuple[list[list[int]], list[list[int]]]:
    """Two same-shape maps of values 0…largest: 0/1 masks by default, or label maps."""
    rows, columns = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    values = st.lists(
        st.lists(st.integers(0, largest), min_size=columns, max_size=columns),
        min_size=rows,
        max_size=rows,
    )
    return draw(values), draw(values)


@given(map_pairs())
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


# --- Average precision ------------------------------------------------------------------------


def voc_precision_recall(hits: list[int], num_positives: int) -> tuple[list, list]:
    true_positives = list(itertools.accumulate(hits))
    precision = [Fraction(tp, k) for k, tp in enumerate(true_positives, start=1)]
    recall = [Fraction(tp, num_positives) for tp in true_positives]
    return precision, recall


def voc2007_ap(hits: list[int], num_positives: int) -> float:
    """VOCdevkit 2007: mean over t = 0, 0.1, …, 1 of max(prec(rec >= t)), 0 if none (exact)."""
    precision, recall = voc_precision_recall(hits, num_positives)
    total = Fraction(0)
    for step in range(11):
        reached = [p for p, r in zip(precision, recall, strict=True) if r >= Fraction(step, 10)]
        total += max(reached, default=Fraction(0))
    return float(total / 11)


def voc2010_ap(hits: list[int], num_positives: int) -> float:
    """VOCdevkit 2010–2012 VOCap.m: sentinels, precision envelope, sum over recall changes."""
    precision, recall = voc_precision_recall(hits, num_positives)
    mrec = [Fraction(0), *recall, Fraction(1)]
    mpre = [Fraction(0), *precision, Fraction(0)]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return float(
        sum(
            (mrec[i] - mrec[i - 1]) * mpre[i] for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1]
        )
    )


@st.composite
def ranked_hits(draw: st.DrawFn) -> tuple[list[int], int]:
    hits = draw(st.lists(st.integers(0, 1), min_size=1, max_size=30))
    return hits, sum(hits) + draw(st.integers(0 if sum(hits) else 1, 5))


@given(ranked_hits())
def test_average_precision_matches_the_voc_devkits(ranked: tuple[list[int], int]) -> None:
    hits, num_positives = ranked
    for method, reference in (("11-point", voc2007_ap), ("all-point", voc2010_ap)):
        outputs = compute(
            "average-precision", hits=hits, num_positives=num_positives, method=method
        )
        assert_close(outputs["ap"], reference(hits, num_positives))
        precision, recall = voc_precision_recall(hits, num_positives)
        assert_close(outputs["precision"], [float(p) for p in precision])
        assert_close(outputs["recall"], [float(r) for r in recall])


@given(st.lists(st.integers(0, 1), min_size=1, max_size=30).filter(any))
def test_all_point_ap_is_never_below_the_uninterpolated_sklearn_ap(hits: list[int]) -> None:
    scores = np.arange(len(hits), 0, -1)  # rank order: the first detection scores highest
    plain = average_precision_score(hits, scores)
    ours = compute("average-precision", hits=hits, num_positives=sum(hits), method="all-point")
    assert ours["ap"] >= plain - 1e-12
    if all(hits[: sum(hits)]):  # every hit before every miss: both are exactly 1
        assert_close([ours["ap"], plain], [1.0, 1.0])


def test_average_precision_of_the_ten_detection_example_both_ways() -> None:
    # 5 objects; hits at ranks 1, 2, 3, 7, 10 (the table of precision and recall in the notes).
    hits = [1, 1, 1, 0, 0, 0, 1, 0, 0, 1]
    eleven = compute("average-precision", hits=hits, num_positives=5)
    every = compute("average-precision", hits=hits, num_positives=5, method="all-point")
    # 11-point: 7 levels at 1, 0.7 and 0.8 at 4/7, 0.9 and 1.0 at 1/2.
    assert_close(eleven["ap"], (7 + 2 * 4 / 7 + 2 * 0.5) / 11)
    # all-point: recall 0→0.6 at 1, 0.6→0.8 at 4/7, 0.8→1.0 at 1/2.
    assert_close(every["ap"], 0.6 + 0.2 * 4 / 7 + 0.2 * 0.5)


def test_eleven_point_ap_counts_a_recall_level_reached_exactly() -> None:
    # Recall reaches exactly 0.3. A float grid such as np.arange(0, 1.1, 0.1) has
    # 0.30000000000000004 there and would drop that level, giving 3/11 instead of 4/11.
    outputs = compute("average-precision", hits=[1, 1, 1], num_positives=10)
    assert_close(outputs["ap"], 4 / 11)


def test_average_precision_refuses_more_hits_than_objects() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("average-precision", hits=[1, 1, 1], num_positives=2)
    assert caught.value.field == "num_positives"
    assert "matched once" in caught.value.reason


@st.composite
def detections_of_classes(draw: st.DrawFn) -> dict:
    count = draw(st.integers(1, 4))
    classes = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=25))
    hits = draw(st.lists(st.integers(0, 1), min_size=len(classes), max_size=len(classes)))
    matched = [
        sum(h for c, h in zip(classes, hits, strict=True) if c == label) for label in range(count)
    ]
    return {
        "classes": classes,
        "hits": hits,
        "num_positives": [m + draw(st.integers(0 if m else 1, 3)) for m in matched],
        "method": draw(st.sampled_from(["11-point", "all-point"])),
    }


@given(detections_of_classes())
def test_mean_average_precision_is_the_mean_of_the_per_class_voc_ap(inputs: dict) -> None:
    reference = voc2007_ap if inputs["method"] == "11-point" else voc2010_ap
    expected = []
    for label, objects in enumerate(inputs["num_positives"]):
        ranked = [h for c, h in zip(inputs["classes"], inputs["hits"], strict=True) if c == label]
        expected.append(reference(ranked, objects) if ranked else 0.0)
    outputs = compute("mean-average-precision", **inputs)
    assert_close(outputs["ap_per_class"], expected)
    assert_close(outputs["map"], np.mean(expected))


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"hits": [1]}, "hits", "one entry per detection"),
        ({"classes": [0, 2]}, "classes", "no entry in num_positives"),
        ({"hits": [1, 1], "classes": [0, 0]}, "num_positives", "class 0 has 2 true positives"),
    ],
)
def test_mean_average_precision_explains_inconsistent_inputs(
    change: dict, field: str, reason: str
) -> None:
    inputs = {"classes": [0, 1], "hits": [1, 0], "num_positives": [1, 1]}
    with pytest.raises(InvalidInput) as caught:
        compute("mean-average-precision", **{**inputs, **change})
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- Mean IoU ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:A single label was found")  # one class: sklearn is right
@given(map_pairs(largest=5))
def test_miou_matches_sklearn_jaccard_and_the_fcn_definition(maps: tuple[list, list]) -> None:
    target, prediction = (np.ravel(m) for m in maps)
    outputs = compute("miou", target=maps[0], prediction=maps[1])
    classes = np.union1d(target, prediction)
    assert outputs["classes"] == classes.tolist()
    assert (
        outputs["confusion_matrix"] == confusion_matrix(target, prediction, labels=classes).tolist()
    )
    assert_close(
        outputs["iou_per_class"], jaccard_score(target, prediction, labels=classes, average=None)
    )
    macro = jaccard_score(target, prediction, labels=classes, average="macro")
    assert_close(outputs["miou"], macro)
    # Long et al.: n_ii / (t_i + Σ_j n_ji − n_ii) per class, then the mean.
    n = np.asarray(outputs["confusion_matrix"])
    assert_close(outputs["miou"], np.mean(np.diag(n) / (n.sum(1) + n.sum(0) - np.diag(n))))


def test_miou_of_a_small_three_class_map() -> None:
    target = [[0, 0, 1], [0, 1, 1], [2, 2, 1]]
    prediction = [[0, 1, 1], [0, 1, 1], [2, 1, 1]]
    outputs = compute("miou", target=target, prediction=prediction)
    assert outputs["confusion_matrix"] == [[2, 1, 0], [0, 4, 0], [0, 1, 1]]
    assert_close(outputs["iou_per_class"], [2 / 3, 4 / 6, 1 / 2])
    assert_close(outputs["miou"], (2 / 3 + 2 / 3 + 1 / 2) / 3)


def test_miou_refuses_maps_of_different_shapes() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("miou", target=[[0, 1]], prediction=[[0], [1]])
    assert caught.value.field == "prediction"
