"""Layouts of cells: grids of kinds (masks, the sliding kernel) and heatmaps with a scale."""

import math
from dataclasses import dataclass, field

import numpy as np

from app.plots import GridPlot, Heatmap, Text
from app.web.charts.frame import PATTERNS, WIDTH, Frame, Scale, layout


@dataclass(frozen=True)
class Area:
    """Equal squares drawn as one path: one element per kind of cell, however many cells."""

    d: str
    style: str
    opacity: float | None = None

    @property
    def pattern(self) -> str | None:
        return PATTERNS.get(self.style)


def squares(xs: np.ndarray, ys: np.ndarray, size: float) -> str:
    side = f"h{size:g}v{size:g}h{-size:g}z"
    return "".join(
        f"M{x:g},{y:g}{side}"
        for x, y in zip(np.round(xs, 1).tolist(), np.round(ys, 1).tolist(), strict=True)
    )


@dataclass(frozen=True)
class CellFrame(Frame):
    cell: float = 0
    rows: int = 0
    marks: list[tuple[float, float, str]] = field(default_factory=list)
    """(x, y, text) written in the middle of a cell."""
    row_labels: list[tuple[float, Text]] = field(default_factory=list)
    column_labels: list[tuple[float, str]] = field(default_factory=list)
    scale: list[tuple[Area, float, str]] = field(default_factory=list)
    """Colour-scale swatches (heatmaps) with the x of their label and the value they stand for."""


def _cell_size(rows: int, columns: int, left: float, largest: float) -> float:
    return round(min(largest, (WIDTH - left - 8) / columns, 320 / rows), 1)


def _column_labels(
    columns: int, left: float, cell: float, first: int = 0
) -> list[tuple[float, str]]:
    every = max(1, math.ceil(16 / cell))
    return [(round(left + (j + 0.5) * cell, 1), str(j + first)) for j in range(0, columns, every)]


def _row_labels(labels: list[Text], top: float, cell: float) -> list[tuple[float, Text]]:
    every = max(1, math.ceil(14 / cell))
    return [(round(top + (i + 0.5) * cell, 1), label) for i, label in enumerate(labels)][::every]


@dataclass(frozen=True)
class Cells:
    """Where each cell of a rows × columns grid starts, in pixels."""

    left: float
    top: float
    size: float
    shape: tuple[int, int]

    def area(self, where: np.ndarray, style: str, opacity: float | None = None) -> Area:
        rows, columns = np.nonzero(where)
        return Area(
            squares(self.left + columns * self.size, self.top + rows * self.size, self.size),
            style,
            opacity,
        )

    def marks(self, texts: np.ndarray) -> list[tuple[float, float, str]]:
        rows, columns = np.nonzero(texts != "")
        return [
            (
                round(self.left + (j + 0.5) * self.size, 1),
                round(self.top + (i + 0.5) * self.size + 4, 1),
                texts[i, j],
            )
            for i, j in zip(rows.tolist(), columns.tolist(), strict=True)
        ]


def _grid(shape: tuple[int, int], left: float, largest: float) -> Cells:
    return Cells(left, 40.0, _cell_size(*shape, left, largest), shape)


@layout.register
def _(plot: GridPlot) -> Frame:
    kinds = np.array(plot.cells, dtype=object)
    grid = _grid(kinds.shape, 72.0, 28)
    marks = np.array(plot.marks, dtype=object) if plot.marks and grid.size >= 12 else None
    unit = Scale(0, 1, 0, 1, 1)
    return CellFrame(
        WIDTH,
        round(grid.top + kinds.shape[0] * grid.size + 52, 1),
        unit,
        unit,
        left=grid.left,
        top=grid.top,
        note=plot.note,
        legend=plot.legend,
        shapes=[grid.area(kinds == kind, kind) for kind in dict.fromkeys(kinds.ravel())],
        cell=grid.size,
        rows=kinds.shape[0],
        marks=grid.marks(marks) if marks is not None else [],
        row_labels=_row_labels(plot.row_labels, grid.top, grid.size),
        column_labels=_column_labels(kinds.shape[1], grid.left, grid.size, plot.first_column),
    )


OPACITY_LEVELS = 20
"""Heat is drawn in this many steps of opacity: finer than the eye tells apart."""


def heat_levels(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Positive/negative sign and opacity step per value: one hue by magnitude, or two hues
    around 0 when the scale spans it."""
    diverging = low < 0 < high
    strength = np.abs(values) / max(-low, high) if diverging else (values - low) / (high - low)
    steps = np.rint(np.clip(strength, 0, 1) * OPACITY_LEVELS).astype(int)
    return values >= 0 if diverging else np.ones(values.shape, dtype=bool), steps


def _heat_areas(cells: Cells, values: np.ndarray, low: float, high: float) -> list[Area]:
    positive, steps = heat_levels(values, low, high)
    return [
        cells.area((positive == sign) & (steps == step), style, step / OPACITY_LEVELS)
        for sign, style in ((True, "heat-positive"), (False, "heat-negative"))
        for step in np.unique(steps[positive == sign]).tolist()
    ]


@layout.register
def _(plot: Heatmap) -> Frame:
    values = np.asarray(plot.values, dtype=float)
    cells = _grid(values.shape, 48.0, 40)
    masked = plot.masked if plot.masked is not None else np.zeros(values.shape, dtype=bool)
    shapes = [Area(squares(*_corners(cells, values.shape), cells.size), "empty")]
    shapes += _heat_areas(cells, values, plot.low, plot.high)
    if masked.any():
        shapes.append(cells.area(masked, "masked"))
    texts = np.vectorize(lambda value: f"{value:.2f}")(values) if cells.size >= 34 else None
    bottom = cells.top + values.shape[0] * cells.size
    swatch_values = np.linspace(plot.low, plot.high, 11)
    swatches = Cells(cells.left, bottom + 30, 24, (1, 11))
    scale = [
        (area, round(cells.left + 24 * k + 12, 1), f"{value:.3g}")
        for k, (value, area) in enumerate(
            zip(swatch_values, _swatch_areas(swatches, swatch_values, plot), strict=True)
        )
    ]
    unit = Scale(0, 1, 0, 1, 1)
    return CellFrame(
        WIDTH,
        round(bottom + 88, 1),
        unit,
        unit,
        left=cells.left,
        top=cells.top,
        note=plot.note,
        legend=[("masked", {"en": "masked", "ja": "マスク"})] if masked.any() else [],
        shapes=shapes,
        cell=cells.size,
        rows=values.shape[0],
        marks=cells.marks(texts) if texts is not None else [],
        row_labels=_row_labels([str(i) for i in range(values.shape[0])], cells.top, cells.size),
        column_labels=_column_labels(values.shape[1], cells.left, cells.size),
        scale=scale,
    )


def _corners(cells: Cells, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, columns = np.indices(shape).reshape(2, -1)
    return cells.left + columns * cells.size, cells.top + rows * cells.size


def _swatch_areas(swatches: Cells, values: np.ndarray, plot: Heatmap) -> list[Area]:
    positive, steps = heat_levels(values, plot.low, plot.high)
    return [
        swatches.area(
            np.eye(1, 11, k, dtype=bool),
            "heat-positive" if sign else "heat-negative",
            step / OPACITY_LEVELS,
        )
        for k, (sign, step) in enumerate(zip(positive.tolist(), steps.tolist(), strict=True))
    ]
