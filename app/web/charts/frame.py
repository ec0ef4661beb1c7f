"""What every plot layout shares: scales with round ticks, rectangles, the frame, dispatch."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from app.plots import Plot, Text

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


def tick_label(value: float, decimals: int) -> str:
    value = round(float(value), decimals) + 0.0  # + 0.0 turns −0 into 0
    if abs(value) >= 1e5 or decimals > 4:
        return f"{value:.3g}"  # 2e+12, 1e-07: fixed notation would be unreadably long
    return f"{value:.{decimals}f}"


@dataclass(frozen=True)
class Scale:
    """Data values [low, high] onto pixels [start, end] (end < start flips the axis).

    Ticks stand at the multiples of `step` within [low, high], written by `label`.
    """

    low: float
    high: float
    start: float
    end: float
    step: float
    label: Callable[[float, int], str] = tick_label
    """Writes a tick's value, given how many decimals the step needs."""

    def __call__(self, value: Any) -> Any:
        return self.start + (np.asarray(value) - self.low) * (self.end - self.start) / (
            self.high - self.low
        )

    def at(self, value: float) -> float:
        return round(float(self(value)), 1)

    def ticks(self) -> list[tuple[float, str]]:
        first = math.ceil(self.low / self.step - 1e-9)
        last = math.floor(self.high / self.step + 1e-9)
        decimals = max(0, -math.floor(math.log10(self.step)))
        values = self.step * np.arange(first, last + 1)
        return [(self.at(value), self.label(value, decimals)) for value in values]

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def round_step(span: float) -> float:
    """The 1, 2 or 5 × 10ᵏ that cuts `span` into about TICKS parts."""
    raw = span / TICKS
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))


def nice_scale(low: float, high: float, start: float, end: float) -> Scale:
    """A scale whose ends are round ticks covering [low, high]."""
    if not high > low:
        pad = max(abs(low) * 0.1, 1.0)
        low, high = low - pad, high + pad
    step = round_step(high - low)
    return Scale(
        math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, start, end, step
    )


def exact_scale(low: float, high: float, start: float, end: float) -> Scale:
    """A scale over exactly [low, high], ticked at the round values inside it."""
    return Scale(low, high, start, end, round_step(high - low))


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    style: str
    title: Text = ""
    mark: str = ""


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
