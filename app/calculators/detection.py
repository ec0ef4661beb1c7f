"""Detection and segmentation: overlap (IoU, Dice), NMS, average precision and mean IoU."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Bit,
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
from app.calculators.types import _within_element_cap as within_element_cap
from app.plots import (
    MAX_BOXES,
    BoxesPlot,
    GridPlot,
    cropped,
    listed,
    short,
    words,
)
from app.plots import Box as DrawnBox

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


def intersection_box(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """[x1, y1, x2, y2] of A ∩ B, or None when the boxes do not overlap."""
    corners = np.concatenate([np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])])
    return corners if (corners[2:] > corners[:2]).all() else None


def _boxes_text(box: np.ndarray | list[float]) -> str:
    return "[" + ", ".join(short(value) for value in box) + "]"


def _iou_plot(inputs: IouInputs, result: Result) -> BoxesPlot:
    a, b = np.asarray(inputs.box_a), np.asarray(inputs.box_b)
    boxes = [DrawnBox(*a, "A", "first"), DrawnBox(*b, "B", "second")]
    overlap = intersection_box(a, b)
    if overlap is not None:
        boxes.append(DrawnBox(*overlap, "A ∩ B", "overlap"))
    outputs = result.outputs
    return BoxesPlot(
        title=words("Boxes A and B and their intersection", "ボックス A・B とその共通部分"),
        summary=(
            f"A = {_boxes_text(a)}, B = {_boxes_text(b)}, A ∩ B = "
            f"{_boxes_text(overlap) if overlap is not None else '∅'}: "
            f"|A ∩ B| = {short(outputs['intersection'])}, |A ∪ B| = {short(outputs['union'])}, "
            f"IoU = {short(outputs['iou'])}"
        ),
        boxes=boxes,
        legend=[
            ("first", "A"),
            ("second", "B"),
            ("overlap", words("A ∩ B (shaded)", "A ∩ B（網掛け）")),
        ],
    )


@calculator(
    "iou",
    outputs=("iou", "intersection", "union"),
    sample=_sample_iou,
    answer="iou",
    plot=_iou_plot,
)
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


MASK_KINDS = {(True, False): "a", (False, True): "b", (True, True): "both", (False, False): "empty"}


def _dice_plot(inputs: DiceInputs, result: Result) -> GridPlot:
    whole_a = np.asarray(inputs.mask_a, dtype=bool)
    whole_b = np.asarray(inputs.mask_b, dtype=bool)
    (a, note), (b, _) = cropped(whole_a), cropped(whole_b)
    cells = [
        [MASK_KINDS[pair] for pair in zip(row_a, row_b, strict=True)]
        for row_a, row_b in zip(a.tolist(), b.tolist(), strict=True)
    ]
    dice_value = result.outputs["dice"]
    return GridPlot(
        title=words("Masks A and B, pixel by pixel", "マスク A・B（画素ごと）"),
        summary=(
            f"|A| = {int(whole_a.sum())}, |B| = {int(whole_b.sum())}, "
            f"|A ∩ B| = {int((whole_a & whole_b).sum())}, "
            f"Dice = {short(dice_value) if dice_value is not None else '0/0'}"
        ),
        cells=cells,
        row_labels=[str(i) for i in range(len(cells))],
        legend=[
            ("a", words("A only", "A のみ")),
            ("b", words("B only", "B のみ")),
            ("both", "A ∩ B"),
        ],
        column_label=words("column", "列"),
        note=note,
    )


@calculator("dice", outputs=("dice", "iou"), sample=_sample_dice, answer="dice", plot=_dice_plot)
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


def _nms_plot(inputs: NmsInputs, result: Result) -> BoxesPlot:
    """Every box (the highest-scoring ones if there are many), kept ones told from suppressed."""
    scores = np.asarray(inputs.scores)
    kept = set(result.outputs["keep"])
    shown = np.argsort(-scores, kind="stable")[:MAX_BOXES]
    boxes = [
        DrawnBox(
            *inputs.boxes[i],
            f"{i}: {short(scores[i])}{'' if i in kept else ' ✗'}",
            "kept" if i in kept else "suppressed",
        )
        for i in sorted(shown.tolist(), key=lambda i: i in kept)  # kept boxes drawn on top
    ]
    suppressed = [i for i in range(len(scores)) if i not in kept]
    return BoxesPlot(
        title=words("Kept and suppressed boxes", "残ったボックスと抑制されたボックス"),
        summary=words(
            f"kept {listed(result.outputs['keep'], 12)}, suppressed {listed(suppressed, 12)} "
            f"at IoU threshold {short(inputs.iou_threshold)}",
            f"残す {listed(result.outputs['keep'], 12)}、抑制 {listed(suppressed, 12)}"
            f"（IoU しきい値 {short(inputs.iou_threshold)}）",
        ),
        boxes=boxes,
        legend=[
            ("kept", words("kept (solid)", "残す（実線）")),
            ("suppressed", words("suppressed (✗, dashed, hatched)", "抑制（✗・破線・斜線）")),
        ],
    )


@calculator("nms", outputs=("keep",), sample=_sample_nms, answer="keep[1]", plot=_nms_plot)
def nms(inputs: NmsInputs) -> Result:
    keep, steps = suppress(
        np.asarray(inputs.boxes), np.asarray(inputs.scores), inputs.iou_threshold
    )
    return Result({"keep": keep}, steps)


# --- Average precision ------------------------------------------------------------------------

MAX_DETECTIONS = 4096
Hits = Annotated[list[Bit], Field(min_length=1, max_length=MAX_DETECTIONS)]
ApMethod = Literal["11-point", "all-point"]


def _interpolation_method() -> Any:
    return described(
        "11-point",
        en="11-point (VOC 2007) or all-point (VOC 2010 and later) interpolation",
        ja="11点補間（VOC 2007）か全点補間（VOC 2010 以降）",
    )


class AveragePrecisionInputs(Inputs):
    hits: Hits = described(
        en="Detections in descending score order: 1 = true positive, 0 = false positive",
        ja="スコアの高い順に並べた検出の正誤（1 = 正解 TP、0 = 誤検出 FP）",
    )
    num_positives: int = described(
        ge=1,
        le=MAX_DETECTIONS,
        en="Number of ground-truth objects N (missed ones included)",
        ja="正解物体の総数 N（見逃したものも含む）",
    )
    method: ApMethod = _interpolation_method()

    @model_validator(mode="after")
    def _at_most_one_hit_per_object(self) -> "AveragePrecisionInputs":
        if sum(self.hits) > self.num_positives:
            raise InvalidInput(
                "num_positives",
                f"the hits contain {sum(self.hits)} true positives but only "
                f"{self.num_positives} objects exist; each object can be matched once",
            )
        return self


def precision_recall(
    hits: list[int], num_positives: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    true_positives = np.cumsum(hits)
    ranks = np.arange(1, len(hits) + 1)
    return true_positives, true_positives / ranks, true_positives / num_positives


def interpolated_ap(
    hits: list[int], num_positives: int, method: str
) -> tuple[float, np.ndarray, np.ndarray, list[Step]]:
    """AP with VOC's interpolated precision p_interp(r) = max_{r̃ ≥ r} p(r̃)."""
    true_positives, precision, recall = precision_recall(hits, num_positives)
    # Envelope: the best precision at this rank or any later (higher-recall) rank.
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = [
        Step("TP(k) = Σ_{i≤k} hit_i", true_positives),
        Step("p(k) = TP(k) / k", precision),
        Step("r(k) = TP(k) / N", recall),
        Step("p_interp(k) = max_{k' ≥ k} p(k')", envelope),
    ]
    if method == "11-point":
        # Exact test r(k) ≥ j/10 ⟺ 10·TP(k) ≥ j·N, so that no level is lost to rounding.
        levels = [
            max(
                (
                    p
                    for p, tp in zip(precision, true_positives, strict=True)
                    if 10 * tp >= j * num_positives
                ),
                default=0.0,
            )
            for j in range(11)
        ]
        ap = sum(levels) / 11
        steps += [
            Step("p_interp(r), r = 0, 0.1, …, 1", levels),
            Step("AP = (1/11) Σ_r p_interp(r)", ap),
        ]
    else:
        gains = np.diff(recall, prepend=0.0)
        ap = float(np.sum(gains * envelope))
        steps += [
            Step("r(k) − r(k − 1)", gains),
            Step("AP = Σ_k (r(k) − r(k − 1)) p_interp(k)", ap),
        ]
    return ap, precision, recall, steps


def _sample_hits(rng: np.random.Generator) -> list[int]:
    hits = rng.integers(0, 2, size=int(rng.integers(5, 9)))
    hits[0] = 1
    return hits.tolist()


def _sample_average_precision(rng: np.random.Generator) -> dict[str, Any]:
    hits = _sample_hits(rng)
    return {
        "hits": hits,
        "num_positives": sum(hits) + int(rng.integers(0, 2)),
        "method": str(rng.choice(["11-point", "all-point"])),
    }


@calculator(
    "average-precision",
    outputs=("ap", "precision", "recall"),
    sample=_sample_average_precision,
    answer="ap",
)
def average_precision(inputs: AveragePrecisionInputs) -> Result:
    ap, precision, recall, steps = interpolated_ap(inputs.hits, inputs.num_positives, inputs.method)
    return Result({"ap": ap, "precision": precision, "recall": recall}, steps)


MAX_CLASSES = 256


class MeanAveragePrecisionInputs(Inputs):
    classes: Annotated[
        list[Annotated[int, Field(ge=0, lt=MAX_CLASSES)]],
        Field(min_length=1, max_length=MAX_DETECTIONS),
    ] = described(
        en="Class c of each detection (0, 1, …), all classes ranked together by score",
        ja="各検出のクラス番号 c（0, 1, …）。全クラスの検出をスコアの高い順に並べる",
    )
    hits: Hits = described(
        en="1 = true positive, 0 = false positive, for each detection",
        ja="各検出の正誤（1 = TP、0 = FP）",
    )
    num_positives: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_DETECTIONS)]],
        Field(min_length=1, max_length=MAX_CLASSES),
    ] = described(
        en="Ground-truth objects N_c of each class c = 0, 1, …",
        ja="クラス c = 0, 1, … ごとの正解物体数 N_c",
    )
    method: ApMethod = _interpolation_method()

    @model_validator(mode="after")
    def _consistent_classes(self) -> "MeanAveragePrecisionInputs":
        if len(self.hits) != len(self.classes):
            raise InvalidInput(
                "hits", f"needs one entry per detection: {len(self.classes)}, got {len(self.hits)}"
            )
        count = len(self.num_positives)
        if max(self.classes) >= count:
            raise InvalidInput(
                "classes",
                f"class {max(self.classes)} has no entry in num_positives (classes 0–{count - 1})",
            )
        matched = np.bincount(self.classes, weights=self.hits, minlength=count)
        for label, (hits, objects) in enumerate(zip(matched, self.num_positives, strict=True)):
            if hits > objects:
                raise InvalidInput(
                    "num_positives",
                    f"class {label} has {int(hits)} true positives but only {objects} objects",
                )
        return self


def _sample_mean_average_precision(rng: np.random.Generator) -> dict[str, Any]:
    per_class = [_sample_hits(rng)[:4] for _ in range(2)]
    classes = [label for label, hits in enumerate(per_class) for _ in hits]
    order = rng.permutation(len(classes))
    flat = [hit for hits in per_class for hit in hits]
    return {
        "classes": [classes[i] for i in order],
        "hits": [flat[i] for i in order],
        "num_positives": [sum(hits) + int(rng.integers(0, 2)) for hits in per_class],
        "method": str(rng.choice(["11-point", "all-point"])),
    }


@calculator(
    "mean-average-precision",
    outputs=("map", "ap_per_class"),
    sample=_sample_mean_average_precision,
    answer="map",
)
def mean_average_precision(inputs: MeanAveragePrecisionInputs) -> Result:
    classes, hits = np.asarray(inputs.classes), np.asarray(inputs.hits)
    per_class, steps = [], []
    for label, objects in enumerate(inputs.num_positives):
        ranked = hits[classes == label].tolist()
        ap = interpolated_ap(ranked, objects, inputs.method)[0] if ranked else 0.0
        per_class.append(ap)
        steps.append(Step(f"class {label}: hits in rank order (N = {objects})", ranked))
    mean = sum(per_class) / len(per_class)
    steps += [Step("AP_c", per_class), Step("mAP = (1/C) Σ_c AP_c", mean)]
    return Result({"map": mean, "ap_per_class": per_class}, steps)


# --- Mean IoU for semantic segmentation -------------------------------------------------------

MAX_LABEL = 255
LabelMap = Annotated[
    list[
        Annotated[
            list[Annotated[int, Field(ge=0, le=MAX_LABEL)]],
            Field(min_length=1, max_length=MAX_ELEMENTS),
        ]
    ],
    Field(min_length=1, max_length=MAX_ELEMENTS),
    AfterValidator(within_element_cap),
]


class MeanIouInputs(Inputs):
    target: LabelMap = described(
        en="Ground-truth label map (one class number 0–255 per pixel)",
        ja="正解ラベルマップ（画素ごとのクラス番号 0〜255）",
    )
    prediction: LabelMap = described(
        en="Predicted label map, same shape", ja="予測ラベルマップ（正解と同じ形）"
    )

    @model_validator(mode="after")
    def _same_shape(self) -> "MeanIouInputs":
        require_same_shape(self, "target", "prediction")
        return self


def _sample_miou(rng: np.random.Generator) -> dict[str, Any]:
    target = rng.integers(0, 3, size=(3, 3))
    prediction = np.where(rng.random((3, 3)) < 0.7, target, rng.integers(0, 3, size=(3, 3)))
    return {"target": target.tolist(), "prediction": prediction.tolist()}


@calculator(
    "miou",
    outputs=("miou", "iou_per_class", "classes", "confusion_matrix"),
    sample=_sample_miou,
    answer="miou",
)
def miou(inputs: MeanIouInputs) -> Result:
    target, prediction = np.ravel(inputs.target), np.ravel(inputs.prediction)
    classes = np.union1d(target, prediction)
    # n_ij: pixels of class i (rows, ground truth) predicted as class j (columns).
    rows, columns = np.searchsorted(classes, target), np.searchsorted(classes, prediction)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(confusion, (rows, columns), 1)
    correct = np.diag(confusion)
    union = confusion.sum(axis=1) + confusion.sum(axis=0) - correct
    per_class = correct / union
    mean = float(per_class.mean())
    return Result(
        {
            "miou": mean,
            "iou_per_class": per_class,
            "classes": classes,
            "confusion_matrix": confusion,
        },
        [
            Step("classes in either map", classes),
            Step("n_ij (rows: truth i, columns: prediction j)", confusion),
            Step("n_ii", correct),
            Step("t_i + Σ_j n_ji − n_ii", union),
            Step("IoU_i = n_ii / (t_i + Σ_j n_ji − n_ii)", per_class),
            Step("mIoU = (1/n_cl) Σ_i IoU_i", mean),
        ],
    )
