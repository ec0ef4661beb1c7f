"""Plots as plain data: what to draw, in the data's own units, with its text alternative.

Calculators (through their `plot` hook) and the progress page build these; the web layer
lays them out and `templates/_plot.html` draws them as SVG. Nothing here knows about pixels.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

MAX_BARS = 32
MAX_MARKERS = 12
MAX_BOXES = 24
MAX_ROWS = 24
MAX_COLUMNS = 40
"""Caps on what one plot draws, so that a 4096-element input still renders in milliseconds."""

Text = str | Mapping[str, str]
"""Notation shown as is (`dy/dx`, `T = 2`), or words as {"en": …, "ja": …}."""


def words(en: str, ja: str) -> dict[str, str]:
    return {"en": en, "ja": ja}


def joined(*parts: Text) -> dict[str, str]:
    """Concatenate notation and words into one text in each language."""
    return {
        language: "".join(part if isinstance(part, str) else part[language] for part in parts)
        for language in ("en", "ja")
    }


def short(value: float) -> str:
    """A number as a plot's text alternative reads it: three significant digits."""
    return f"{value:.3g}"


def listed(values: Sequence[float], limit: int = 6) -> str:
    shown = ", ".join(short(value) for value in values[:limit])
    return f"[{shown}{', …' if len(values) > limit else ''}]"


@dataclass(frozen=True)
class Plot:
    title: Text
    summary: Text
    """What the plot shows, in words and numbers, for screen readers (the SVG's <desc>)."""
    kind: ClassVar[str]


# --- Curves ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    label: Text
    x: np.ndarray
    y: np.ndarray
    style: str = "first"
    """Colour and dash, as a CSS class suffix: first, second, third."""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str
    style: str = "first"


@dataclass(frozen=True)
class LinePlot(Plot):
    series: list[Series]
    markers: list[Marker]
    x_label: Text
    y_label: Text
    kind: ClassVar[str] = "line"


def sampled_range(values: Sequence[float], around: float = 4.0, points: int = 161) -> np.ndarray:
    """A symmetric grid over [−R, R] wide enough to show every value (at least ±`around`)."""
    reach = max(around, 1.1 * float(np.max(np.abs(values))))
    return np.linspace(-reach, reach, points)


# --- Bars --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarSeries:
    label: Text
    values: list[float]
    style: str = "first"


@dataclass(frozen=True)
class BarPlot(Plot):
    categories: list[str]
    series: list[BarSeries]
    x_label: Text
    y_label: Text
    stacked: bool = False
    horizontal: bool = False
    top: float | None = None
    """The value axis' end; by default the largest bar."""
    captions: list[str] | None = None
    """Text after each category's bar (horizontal bars only)."""
    kind: ClassVar[str] = "bars"


# --- Boxes and grids of cells --------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    style: str
    """CSS class suffix; `overlap` and `suppressed` are also hatched, not only coloured."""


@dataclass(frozen=True)
class BoxesPlot(Plot):
    boxes: list[Box]
    legend: list[tuple[str, Text]]
    x_label: Text = "x"
    y_label: Text = field(
        default_factory=lambda: words("y (downwards, as in images)", "y（画像と同じく下向き）")
    )
    kind: ClassVar[str] = "boxes"


@dataclass(frozen=True)
class GridPlot(Plot):
    cells: list[list[str]]
    """A kind per cell (row by row): a CSS class suffix listed in `legend`, or "" for none."""
    row_labels: list[Text]
    legend: list[tuple[str, Text]]
    marks: list[list[str]] | None = None
    """Short text drawn in each cell (a tap number, A/B), or None."""
    column_label: Text = ""
    first_column: int = 0
    """The number of the first column (negative where padding comes first)."""
    note: Text = ""
    kind: ClassVar[str] = "grid"


@dataclass(frozen=True)
class Heatmap(Plot):
    values: np.ndarray
    row_label: Text
    column_label: Text
    low: float
    high: float
    """The colour scale's ends; a scale with low < 0 < high is diverging around 0."""
    masked: np.ndarray | None = None
    """True where the cell was masked out (drawn hatched)."""
    note: Text = ""
    kind: ClassVar[str] = "heatmap"


def cropped(
    matrix: np.ndarray, rows: int = MAX_ROWS, columns: int = MAX_COLUMNS
) -> tuple[np.ndarray, Text]:
    """The top-left corner that fits, and a note saying so when anything was left out."""
    shown = matrix[:rows, :columns]
    if shown.shape == matrix.shape:
        return shown, ""
    total = f"{matrix.shape[0]}×{matrix.shape[1]}"
    corner = f"{shown.shape[0]}×{shown.shape[1]}"
    return shown, words(
        f"showing the top-left {corner} of {total}", f"{total} のうち左上の {corner} を表示"
    )
