"""Detection and segmentation: overlap measures (IoU, Dice) and non-maximum suppression."""

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    BitMatrix,
    Inputs,
    InvalidInput,
    Matrix,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

Box = Annotated[list[Real], Field(min_length=4, max_length=4)]


def require_ordered_corners(name: str, box: list[float]) -> None:
    x1, y1, x2, y2 = box
    if x2 < x1 or y2 < y1:
        raise InvalidInput(name, "corners must be [x1, y1, x2, y2] with x1 ≤ x2 and y1 ≤ y2")


class IouInputs(Inputs):
    box_a: Box = described(en="Box A as [x1, y1, x2, y2]", ja="ボックス A [x1, y1, x2, y2]")
    box_b: Box = described(en="Box B as [x1, y1, x2, y2]", ja="ボックス B [x1, y1, x2, y2]")

    @model_validator(mode="after")
    def _ordered_corners(self) -> "IouInputs":
        require_ordered_corners("box_a", self.box_a)
        require_ordered_corners("box_b", self.box_b)
        return self


def _sample_box(rng: np.random.Generator) -> list[float]:
    x1, y1 = rng.integers(0, 6, size=2)
    width, height = rng.integers(1, 6, size=2)
    return [float(x1), float(y1), float(x1 + width), float(y1 + height)]


def _sample_iou(rng: np.random.Generator) -> dict[str, Any]:
    return {"box_a": _sample_box(rng), "box_b": _sample_box(rng)}


@dataclass(frozen=True)
class Overlap:
    """Areas of two boxes (or two stacks of boxes, broadcast) and of their overlap."""

    area_a: np.ndarray
    area_b: np.ndarray
    overlap: np.ndarray
    """Width and height of the intersection (last axis), clamped at 0."""
    intersection: np.ndarray
    union: np.ndarray


def box_overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """|A|, |B|, |A ∩ B| and |A ∪ B| for [x1, y1, x2, y2] boxes in continuous coordinates.

    `a` and `b` broadcast over leading axes, so one call gives a whole IoU matrix.
    """
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    overlap = np.clip(
        np.minimum(a[..., 2:], b[..., 2:]) - np.maximum(a[..., :2], b[..., :2]), 0, None
    )
    intersection = overlap[..., 0] * overlap[..., 1]
    return Overlap(area_a, area_b, overlap, intersection, area_a + area_b - intersection)


@calculator("iou", outputs=("iou", "intersection", "union"), sample=_sample_iou, answer="iou")
def iou(inputs: IouInputs) -> Result:
    boxes = box_overlap(np.asarray(inputs.box_a), np.asarray(inputs.box_b))
    area_a, area_b, overlap = boxes.area_a, boxes.area_b, boxes.overlap
    intersection, union = boxes.intersection, boxes.union
    if union == 0:
        raise InvalidInput("box_b", "both boxes have zero area, so IoU is 0/0")
    return Result(
        {"iou": intersection / union, "intersection": intersection, "union": union},
        [
            Step("|A|", area_a),
            Step("|B|", area_b),
            Step("overlap width, height", overlap),
            Step("|A ∩ B|", intersection),
            Step("|A ∪ B| = |A| + |B| − |A ∩ B|", union),
            Step("IoU = |A ∩ B| / |A ∪ B|", intersection / union),
        ],
    )


class DiceInputs(Inputs):
    mask_a: BitMatrix = described(en="Mask A (rows of 0/1)", ja="マスク A（0/1 の行列）")
    mask_b: BitMatrix = described(en="Mask B, same shape as A", ja="マスク B（A と同じ形）")

    @model_validator(mode="after")
    def _same_shape(self) -> "DiceInputs":
        require_same_shape(self, "mask_a", "mask_b")
        return self


def _sample_dice(rng: np.random.Generator) -> dict[str, Any]:
    mask_a = rng.integers(0, 2, size=(3, 3))
    mask_a[rng.integers(3), rng.integers(3)] = 1  # never both empty: Dice would be 0/0
    return {"mask_a": mask_a.tolist(), "mask_b": rng.integers(0, 2, size=(3, 3)).tolist()}


@calculator("dice", outputs=("dice", "iou"), sample=_sample_dice, answer="dice")
def dice(inputs: DiceInputs) -> Result:
    a = np.asarray(inputs.mask_a, dtype=bool)
    b = np.asarray(inputs.mask_b, dtype=bool)
    intersection = int((a & b).sum())
    size_a, size_b, union = int(a.sum()), int(b.sum()), int((a | b).sum())
    steps = [
        Step("|A|", size_a),
        Step("|B|", size_b),
        Step("|A ∩ B|", intersection),
        Step("|A ∪ B|", union),
    ]
    if union == 0:
        # Both masks empty: 0/0. Libraries pick 0 or 1 by convention; we report undefined.
        steps.append(Step("2|A ∩ B| / (|A| + |B|)", "0/0"))
        return Result({"dice": None, "iou": None}, steps)
    dice_value = 2 * intersection / (size_a + size_b)
    steps += [
        Step("Dice = 2|A ∩ B| / (|A| + |B|)", dice_value),
        Step("IoU = |A ∩ B| / |A ∪ B|", intersection / union),
    ]
    return Result({"dice": dice_value, "iou": intersection / union}, steps)


# --- Non-maximum suppression ----------------------------------------------------------------


class NmsInputs(Inputs):
    boxes: Matrix = described(
        en="Boxes, one [x1, y1, x2, y2] row each (n×4)",
        ja="ボックス（1行に1つ [x1, y1, x2, y2]、n×4）",
    )
    scores: Vector = described(en="Score of each box (length n)", ja="各ボックスのスコア（長さ n）")
    iou_threshold: float = described(
        0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        en="Suppress a box whose IoU with a kept box is greater than this",
        ja="残したボックスとの IoU がこの値を超えるボックスを消す",
    )

    @model_validator(mode="after")
    def _boxes_and_scores(self) -> "NmsInputs":
        rows, columns = np.shape(self.boxes)
        if columns != 4:
            raise InvalidInput(
                "boxes", f"each row must be [x1, y1, x2, y2] (4 numbers), got {columns}"
            )
        for index, box in enumerate(self.boxes):
            x1, y1, x2, y2 = box
            if not (x1 < x2 and y1 < y2):
                raise InvalidInput(
                    "boxes", f"row {index} must have x1 < x2 and y1 < y2 (a box with positive area)"
                )
        if len(self.scores) != rows:
            raise InvalidInput("scores", f"needs one score per box: {rows}, got {len(self.scores)}")
        return self


def suppress(
    boxes: np.ndarray, scores: np.ndarray, threshold: float
) -> tuple[list[int], list[Step]]:
    """Greedy NMS: indices kept in descending score order (ties keep input order)."""
    pairwise = box_overlap(boxes[:, None, :], boxes[None, :, :])
    ious = pairwise.intersection / pairwise.union
    order = np.argsort(-scores, kind="stable")
    alive = np.ones(len(boxes), dtype=bool)
    keep: list[int] = []
    steps = [Step("order by descending score", order)]
    if len(boxes) <= 10:
        steps.append(Step("IoU(i, j)", ious))
    for index in order:
        if not alive[index]:
            continue
        keep.append(int(index))
        removed = np.flatnonzero(
            alive & (ious[index] > threshold) & (np.arange(len(boxes)) != index)
        )
        alive[removed] = False
        alive[index] = False
        steps.append(Step(f"keep {index}; drop j with IoU({index}, j) > t", removed))
    steps.append(Step("keep", keep))
    return keep, steps


def _sample_nms(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        boxes = np.array([_sample_box(rng) for _ in range(4)])
        scores = rng.choice(np.arange(1, 10) / 10, size=4, replace=False)
        if len(suppress(boxes, scores, 0.5)[0]) >= 2:
            return {"boxes": boxes.tolist(), "scores": scores.tolist(), "iou_threshold": 0.5}


@calculator("nms", outputs=("keep",), sample=_sample_nms, answer="keep[1]")
def nms(inputs: NmsInputs) -> Result:
    keep, steps = suppress(
        np.asarray(inputs.boxes), np.asarray(inputs.scores), inputs.iou_threshold
    )
    return Result({"keep": keep}, steps)
