"""The optimizer playground's two plots: the paths over the contours, and loss per step.

Both are `Frame`s with the shared scales, so `_plot.html` draws their axes as it draws any
plot's; the paths are written with two decimals, finer than a scale's `at`.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from app.playground import surfaces
from app.playground.contours import contours
from app.playground.race import Race
from app.playground.surfaces import Point, Surface, SurfaceId
from app.web.charts.frame import WIDTH, Frame, Scale, exact_scale

LEFT, RIGHT, TOP, BELOW = 56.0, WIDTH - 16.0, 12.0, 44.0
"""The plot area's left, right and top edges, and the room below it for the x axis."""
LOSS_HEIGHT = 300.0
LOSS_FLOOR = 1e-12
"""Losses below this are drawn at it: log scale has no room for an exact zero."""


@dataclass(frozen=True)
class DrawnPath:
    optimizer: str
    points: str
    loss_points: str
    end: tuple[float, float]


@dataclass(frozen=True)
class RacePlot:
    surface: Frame
    loss: Frame
    contour_paths: list[str]
    start: tuple[float, float]
    minimum: tuple[float, float]
    paths: list[DrawnPath]


def _frame(x: Scale, y: Scale) -> Frame:
    return Frame(WIDTH, y.start + BELOW, x, y, left=x.start, top=y.end)


def _surface_frame(surface: Surface) -> Frame:
    box = surface.box
    bottom = TOP + round((RIGHT - LEFT) * (box.y_max - box.y_min) / (box.x_max - box.x_min), 1)
    return _frame(
        exact_scale(box.x_min, box.x_max, LEFT, RIGHT),
        exact_scale(box.y_min, box.y_max, bottom, TOP),
    )


def power_of_ten(exponent: float, _decimals: int) -> str:
    return f"1e{round(exponent)}"


def _log_losses(losses: list[float]) -> np.ndarray:
    return np.log10(np.maximum(losses, LOSS_FLOOR))


def _loss_frame(race: Race) -> Frame:
    """Steps across, log10 of the loss up, ticked at whole decades."""
    logs = _log_losses([loss for path in race.paths for loss in path.losses])
    low, high = math.floor(logs.min()), math.ceil(logs.max())
    high = max(high, low + 1)
    decades = max(1, math.ceil((high - low) / 6))
    return _frame(
        exact_scale(0, race.steps, LEFT, RIGHT),
        Scale(low, high, TOP + LOSS_HEIGHT, TOP, decades, power_of_ten),
    )


def _points(frame: Frame, xs: Sequence[float], ys: Sequence[float] | np.ndarray) -> str:
    pixels = zip(frame.x(xs).tolist(), frame.y(ys).tolist(), strict=True)
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in pixels)


def _pixel(frame: Frame, point: Point) -> tuple[float, float]:
    return float(frame.x(point[0])), float(frame.y(point[1]))


@cache
def _contour_paths(surface_id: SurfaceId, kappa: float) -> tuple[str, ...]:
    """One SVG path per level; cached, as it depends on the surface alone."""
    surface = surfaces.surface(surface_id, kappa)
    frame = _surface_frame(surface)
    paths = []
    for line in contours(surface):
        ax, ay, bx, by = np.reshape(line.segments, (-1, 4)).T
        ends = np.column_stack([frame.x(ax), frame.y(ay), frame.x(bx), frame.y(by)]).tolist()
        paths.append("".join(f"M{a:.1f} {b:.1f}L{c:.1f} {d:.1f}" for a, b, c, d in ends))
    return tuple(paths)


def race_plot(race: Race) -> RacePlot:
    surface = _surface_frame(race.surface)
    loss = _loss_frame(race)
    return RacePlot(
        surface=surface,
        loss=loss,
        contour_paths=list(_contour_paths(race.surface.id, race.kappa)),
        start=_pixel(surface, race.start),
        minimum=_pixel(surface, race.surface.minimum),
        paths=[
            DrawnPath(
                path.optimizer,
                _points(surface, *zip(*path.points, strict=True)),
                _points(loss, range(len(path.losses)), _log_losses(path.losses)),
                _pixel(surface, path.points[-1]),
            )
            for path in race.paths
        ],
    )
