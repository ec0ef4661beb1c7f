"""Plot data laid out in SVG pixels: scales, ticks, paths and rectangles for `_plot.html`.

The template only writes elements; every coordinate is computed here, in one place.
"""

import math
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from app.plots import BarPlot, BoxesPlot, GridPlot, Heatmap, LinePlot, Plot, Text

WIDTH = 480
TICKS = 6
PATTERNS = {
    "overlap": "cross",
    "suppressed": "forward",
    "a": "forward",
    "b": "backward",
    "both": "cross",
    "masked": "cross",
    "pad": "forward",
    "wrong": "forward",
}
"""Kinds that are hatched as well as coloured, so that colour is never the only cue."""


@dataclass(frozen=True)
class Scale:
    """Data values [low, high] onto pixels [start, end] (end < start flips the axis)."""

    low: float
    high: float
    start: float
    end: float
    step: float

    def __call__(self, value: Any) -> Any:
        return self.start + (np.asarray(value) - self.low) * (self.end - self.start) / (
            self.high - self.low
        )

    def at(self, value: float) -> float:
        return round(float(self(value)), 1)

    def ticks(self) -> list[tuple[float, str]]:
        count = round((self.high - self.low) / self.step)
        decimals = max(0, -math.floor(math.log10(self.step)))
        values = self.low + self.step * np.arange(count + 1)
        return [(self.at(value), tick_label(value, decimals)) for value in values]

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def tick_label(value: float, decimals: int) -> str:
    value = round(float(value), decimals) + 0.0  # + 0.0 turns −0 into 0
    if abs(value) >= 1e5 or decimals > 4:
        return f"{value:.3g}"  # 2e+12, 1e-07: fixed notation would be unreadably long
    return f"{value:.{decimals}f}"


def nice_scale(low: float, high: float, start: float, end: float) -> Scale:
    """A scale whose ends are round ticks covering [low, high]."""
    if not high > low:
        pad = max(abs(low) * 0.1, 1.0)
        low, high = low - pad, high + pad
    raw = (high - low) / TICKS
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    return Scale(
        math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, start, end, step
    )


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    style: str
    title: Text = ""
    mark: str = ""

    @property
    def pattern(self) -> str | None:
        return PATTERNS.get(self.style)


def rect(x: float, y: float, width: float, height: float, style: str, **extra: Any) -> Rect:
    return Rect(round(x, 1), round(y, 1), round(width, 1), round(height, 1), style, **extra)


@dataclass(frozen=True)
class Frame:
    """A plot area with a value scale on each axis."""

    width: float
    height: float
    x: Scale
    y: Scale
    left: float = 56
    top: float = 28
    note: Text = ""
    legend: list[tuple[str, Text]] = field(default_factory=list)
    shapes: list[Any] = field(default_factory=list)

    @property
    def area(self) -> tuple[float, float, float, float]:
        """Left, top, right and bottom of the plot area, in pixels."""
        return (
            min(self.x.start, self.x.end),
            min(self.y.start, self.y.end),
            max(self.x.start, self.x.end),
            max(self.y.start, self.y.end),
        )

    @property
    def legend_slots(self) -> list[tuple[float, str, Text]]:
        """(x, style, label) of each legend entry, in a row above the plot area."""
        slot = (self.width - 64) / max(len(self.legend), 1)
        return [
            (round(56 + k * slot, 1), style, label) for k, (style, label) in enumerate(self.legend)
        ]


@singledispatch
def layout(plot: Plot) -> Frame:
    raise TypeError(f"no layout for {type(plot).__name__}")


# --- Curves ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    d: str
    style: str
    label: Text


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    style: str
    label: str


def _path(x: Scale, y: Scale, xs: np.ndarray, ys: np.ndarray) -> str:
    """One SVG path through the finite points; a gap wherever a value is not finite."""
    finite = np.isfinite(ys)
    px, py = np.round(x(xs), 1), np.round(y(np.where(finite, ys, 0)), 1)
    commands = []
    pen_down = False
    for a, b, ok in zip(px.tolist(), py.tolist(), finite.tolist(), strict=True):
        if ok:
            commands.append(f"{'L' if pen_down else 'M'}{a:g},{b:g}")
        pen_down = ok
    return "".join(commands)


@layout.register
def _(plot: LinePlot) -> Frame:
    height = 300
    xs = np.concatenate([s.x for s in plot.series] + [[m.x for m in plot.markers]])
    ys = np.concatenate([s.y for s in plot.series] + [[m.y for m in plot.markers]])
    ys = ys[np.isfinite(ys)]
    x = nice_scale(float(xs.min()), float(xs.max()), 56, WIDTH - 16)
    y = nice_scale(float(ys.min()), float(ys.max()), height - 44, 28)
    shapes: list[Any] = [Path(_path(x, y, s.x, s.y), s.style, s.label) for s in plot.series]
    shapes += [Dot(x.at(m.x), y.at(m.y), m.style, m.label) for m in plot.markers]
    legend = [(s.style, s.label) for s in plot.series]
    return Frame(WIDTH, height, x, y, legend=legend, shapes=shapes)


# --- Bars --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class BarFrame(Frame):
    labels: list[Label] = field(default_factory=list)
    captions: list[tuple[float, float, str]] = field(default_factory=list)


def _bar_title(series_label: Text, category: str, value: float) -> Text:
    shown = f"{value:.3g}"
    if isinstance(series_label, str):
        return f"{series_label}, {category}: {shown}"
    return {lang: f"{text}, {category}: {shown}" for lang, text in series_label.items()}


@layout.register
def _(plot: BarPlot) -> Frame:
    if plot.horizontal:
        return _horizontal_bars(plot)
    height = 260
    values = np.array([s.values for s in plot.series], dtype=float)
    totals = values.sum(axis=0) if plot.stacked else values.max(axis=0, initial=0)
    top = plot.top or max(float(totals.max(initial=0)), 1e-12)
    y = nice_scale(0.0, top, height - 44, 28)
    x = Scale(0, len(plot.categories), 56, WIDTH - 16, 1)
    band = (x.end - x.start) / max(len(plot.categories), 1)
    lanes = 1 if plot.stacked else len(plot.series)
    bar = band * 0.8 / lanes
    shapes, base = [], np.zeros(len(plot.categories))
    for lane, series in enumerate(plot.series):
        for index, (category, value) in enumerate(zip(plot.categories, series.values, strict=True)):
            left = x.start + index * band + band * 0.1 + (0 if plot.stacked else lane * bar)
            low = base[index] if plot.stacked else 0.0
            y0, y1 = y.at(low), y.at(low + value)
            title = _bar_title(series.label, category, value)
            shapes.append(rect(left, y1, bar, y0 - y1, series.style, title=title))
        if plot.stacked:
            base += np.asarray(series.values, dtype=float)
    every = math.ceil(len(plot.categories) / 12)
    labels = [
        Label(round(x.start + (index + 0.5) * band, 1), category)
        for index, category in enumerate(plot.categories)
        if index % every == 0 or index == len(plot.categories) - 1
    ]
    legend = [(s.style, s.label) for s in plot.series] if len(plot.series) > 1 else []
    return BarFrame(WIDTH, height, x, y, legend=legend, shapes=shapes, labels=labels)


ROW = 28
LABEL_WIDTH = 190


def _horizontal_bars(plot: BarPlot) -> Frame:
    (series,) = plot.series  # one bar per row: several series would need a legend per row
    height = len(plot.categories) * ROW + 8
    top = plot.top or max(max(series.values, default=0), 1e-12)
    x = Scale(0, top, LABEL_WIDTH, LABEL_WIDTH + 160, top)
    y = Scale(0, len(plot.categories), 4, height - 4, 1)
    shapes = [
        rect(x.start, 4 + index * ROW + 4, x.at(value) - x.start, 16, series.style, title=name)
        for index, (name, value) in enumerate(zip(plot.categories, series.values, strict=True))
    ]
    captions = [
        (round(shape.x + shape.width + 6, 1), 4 + index * ROW + 16, caption)
        for index, (shape, caption) in enumerate(
            zip(shapes, plot.captions or [""] * len(shapes), strict=True)
        )
    ]
    labels = [Label(4 + index * ROW + 16, name) for index, name in enumerate(plot.categories)]
    return BarFrame(WIDTH, height, x, y, shapes=shapes, labels=labels, captions=captions)


# --- Boxes -------------------------------------------------------------------------------


@layout.register
def _(plot: BoxesPlot) -> Frame:
    corners = np.array([[b.x1, b.y1, b.x2, b.y2] for b in plot.boxes], dtype=float)
    x_span = nice_scale(float(corners[:, 0].min()), float(corners[:, 2].max()), 0, 1)
    y_span = nice_scale(float(corners[:, 1].min()), float(corners[:, 3].max()), 0, 1)
    # One unit is as long on both axes: the boxes are drawn to scale.
    unit = min((WIDTH - 72) / (x_span.high - x_span.low), 300 / (y_span.high - y_span.low))
    x = Scale(x_span.low, x_span.high, 56, 56 + unit * (x_span.high - x_span.low), x_span.step)
    y = Scale(y_span.low, y_span.high, 28, 28 + unit * (y_span.high - y_span.low), y_span.step)
    shapes = [
        rect(
            x.at(b.x1),
            y.at(b.y1),
            x.at(b.x2) - x.at(b.x1),
            y.at(b.y2) - y.at(b.y1),
            b.style,
            title=b.label,
            mark=b.label,
        )
        for b in plot.boxes
    ]
    labels = [_box_label(shape) for shape in shapes]
    height = round(y.end + 44, 1)
    return BoxFrame(WIDTH, height, x, y, legend=plot.legend, shapes=shapes, labels=labels)


@dataclass(frozen=True)
class BoxFrame(Frame):
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)
    """(x, y, text-anchor, text) of each box's label."""


def _box_label(box: Rect) -> tuple[float, float, str, str]:
    """Top-left inside a box; an overlap's in its middle and a suppressed box's at its foot,
    so that labels of boxes sharing a corner do not print over each other."""
    if box.style == "overlap":
        return (
            round(box.x + box.width / 2, 1),
            round(box.y + box.height / 2 + 4, 1),
            "middle",
            box.mark,
        )
    if box.style == "suppressed":
        return round(box.x + 3, 1), round(box.y + box.height - 4, 1), "start", box.mark
    return round(box.x + 3, 1), round(box.y + 13, 1), "start", box.mark


# --- Cells -------------------------------------------------------------------------------


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
