"""Geometry of the playground's two SVG plots: the paths over the contours, and loss per step.

Everything here is in SVG user units, ready for the template to lay out; no markup.
"""

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from app.playground import surfaces
from app.playground.contours import contours
from app.playground.race import Race
from app.playground.surfaces import Box, Point, Surface, SurfaceId

PLOT_WIDTH = 400.0
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_RIGHT = 48.0, 40.0, 10.0, 12.0
LOSS_HEIGHT = 300.0
LOSS_FLOOR = 1e-12
"""Losses below this are drawn at it: log scale has no room for an exact zero."""


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Frame:
    """Maps data coordinates in `box` onto a rectangle of the SVG."""

    box: Box
    width: float
    height: float

    @property
    def view_width(self) -> float:
        return MARGIN_LEFT + self.width + MARGIN_RIGHT

    @property
    def view_height(self) -> float:
        return MARGIN_TOP + self.height + MARGIN_BOTTOM

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    @property
    def top(self) -> float:
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        return MARGIN_TOP + self.height

    @property
    def right(self) -> float:
        return MARGIN_LEFT + self.width

    def x(self, value: float) -> float:
        return (
            MARGIN_LEFT + (value - self.box.x_min) / (self.box.x_max - self.box.x_min) * self.width
        )

    def y(self, value: float) -> float:
        return (
            self.bottom - (value - self.box.y_min) / (self.box.y_max - self.box.y_min) * self.height
        )

    def points(self, points: list[Point]) -> str:
        return " ".join(f"{self.x(x):.2f},{self.y(y):.2f}" for x, y in points)


@dataclass(frozen=True)
class DrawnPath:
    optimizer: str
    points: str
    loss_points: str
    end: tuple[float, float]


@dataclass(frozen=True)
class Plot:
    surface: Frame
    loss: Frame
    contour_paths: list[str]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    step_ticks: list[Tick]
    loss_ticks: list[Tick]
    start: tuple[float, float]
    minimum: tuple[float, float]
    paths: list[DrawnPath]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values (1, 2 or 5 × 10ᵏ apart) covering [low, high]."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    spacing = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / spacing - 1e-9)
    return [k * spacing for k in range(first, math.floor(high / spacing + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:g}"


@cache
def _contour_paths(surface_id: SurfaceId, kappa: float, frame: Frame) -> tuple[str, ...]:
    """One SVG path per level; cached, as it depends on the surface alone."""
    return tuple(
        "".join(
            f"M{frame.x(ax):.1f} {frame.y(ay):.1f}L{frame.x(bx):.1f} {frame.y(by):.1f}"
            for ax, ay, bx, by in line.segments
        )
        for line in contours(surfaces.surface(surface_id, kappa))
    )


def _surface_frame(surface: Surface) -> Frame:
    box = surface.box
    aspect = (box.y_max - box.y_min) / (box.x_max - box.x_min)
    return Frame(box, PLOT_WIDTH, PLOT_WIDTH * aspect)


def _loss_frame(race: Race) -> Frame:
    logs = [math.log10(max(loss, LOSS_FLOOR)) for path in race.paths for loss in path.losses]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    return Frame(Box(0, race.steps, low, max(high, low + 1)), PLOT_WIDTH, LOSS_HEIGHT)


def _loss_ticks(frame: Frame) -> list[Tick]:
    low, high = int(frame.box.y_min), int(frame.box.y_max)
    stride = max(1, math.ceil((high - low) / 6))
    return [Tick(frame.y(k), f"1e{k}") for k in range(low, high + 1, stride)]


def _loss_points(frame: Frame, losses: list[float]) -> str:
    logs = np.log10(np.maximum(losses, LOSS_FLOOR))
    return frame.points(list(zip(range(len(losses)), logs.tolist(), strict=True)))


def plot(race: Race) -> Plot:
    surface = _surface_frame(race.surface)
    loss = _loss_frame(race)
    box = race.surface.box
    return Plot(
        surface=surface,
        loss=loss,
        contour_paths=list(_contour_paths(race.surface.id, race.kappa, surface)),
        x_ticks=[Tick(surface.x(v), _label(v)) for v in nice_ticks(box.x_min, box.x_max)],
        y_ticks=[Tick(surface.y(v), _label(v)) for v in nice_ticks(box.y_min, box.y_max)],
        step_ticks=[Tick(loss.x(v), _label(v)) for v in nice_ticks(0, race.steps)],
        loss_ticks=_loss_ticks(loss),
        start=(surface.x(race.start[0]), surface.y(race.start[1])),
        minimum=(surface.x(race.surface.minimum[0]), surface.y(race.surface.minimum[1])),
        paths=[
            DrawnPath(
                path.optimizer,
                surface.points(path.points),
                _loss_points(loss, path.losses),
                (surface.x(path.points[-1][0]), surface.y(path.points[-1][1])),
            )
            for path in race.paths
        ],
    )
