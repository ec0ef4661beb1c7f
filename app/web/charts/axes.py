"""Layouts with value axes: curves, bars and boxes."""

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.plots import BarPlot, BoxesPlot, LinePlot, Text
from app.web.charts.frame import WIDTH, Frame, Rect, Scale, layout, nice_scale, rect

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
    at: float
    """x of a column's label, y of a row's (horizontal bars)."""
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
