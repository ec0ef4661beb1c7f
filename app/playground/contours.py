"""Iso-loss lines of a surface by marching squares over a grid of its values."""

from dataclasses import dataclass

import numpy as np

from app.playground.surfaces import Surface

GRID = 64
LEVELS = 12
LOW_QUANTILE = 0.03
"""The lowest line encloses about this share of the box."""
LOSS_FLOOR = 1e-12

Segment = tuple[float, float, float, float]

# Edges of a cell: 0 bottom, 1 right, 2 top, 3 left. A cell's case has bit k set when its
# corner k (bottom-left, bottom-right, top-right, top-left) lies above the level; each
# case lists the edge pairs its line segments join (saddles 5 and 10 get two).
_SEGMENTS: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((3, 0),),
    2: ((0, 1),),
    3: ((3, 1),),
    4: ((1, 2),),
    5: ((3, 0), (1, 2)),
    6: ((0, 2),),
    7: ((3, 2),),
    8: ((2, 3),),
    9: ((0, 2),),
    10: ((0, 1), (2, 3)),
    11: ((1, 2),),
    12: ((3, 1),),
    13: ((0, 1),),
    14: ((3, 0),),
}


@dataclass(frozen=True)
class Contour:
    level: float
    segments: list[Segment]


def _crossing(a: np.ndarray, b: np.ndarray, level: float) -> np.ndarray:
    """Where between 0 (at a) and 1 (at b) the values cross `level`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (level - a) / (b - a)
    return np.clip(np.nan_to_num(t, nan=0.5), 0, 1)


def contour(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, level: float) -> Contour:
    """Segments where `values` (rows along ys, columns along xs) equal `level`."""
    bl, br, tr, tl = values[:-1, :-1], values[:-1, 1:], values[1:, 1:], values[1:, :-1]
    case = (bl > level) * 1 + (br > level) * 2 + (tr > level) * 4 + (tl > level) * 8
    grid_x, grid_y = np.meshgrid(xs, ys)
    x0, x1, y0, y1 = grid_x[:-1, :-1], grid_x[:-1, 1:], grid_y[:-1, :-1], grid_y[1:, :-1]
    edges = (
        (x0 + _crossing(bl, br, level) * (x1 - x0), y0),
        (x1, y0 + _crossing(br, tr, level) * (y1 - y0)),
        (x0 + _crossing(tl, tr, level) * (x1 - x0), y1),
        (x0, y0 + _crossing(bl, tl, level) * (y1 - y0)),
    )
    segments: list[Segment] = []
    for index, pairs in _SEGMENTS.items():
        cells = case == index
        for a, b in pairs:
            (ax, ay), (bx, by) = edges[a], edges[b]
            ends = (ax[cells], ay[cells], bx[cells], by[cells])
            segments.extend(zip(*(end.tolist() for end in ends), strict=True))
    return Contour(level, segments)


def contours(surface: Surface, count: int = LEVELS, grid: int = GRID) -> list[Contour]:
    """Iso-lines at levels spaced evenly in log-loss over the plotted box.

    The squares march over log f: it is far closer to linear between grid nodes than f,
    whose values span orders of magnitude within one cell near a narrow valley.
    """
    box = surface.box
    xs, ys = np.linspace(box.x_min, box.x_max, grid), np.linspace(box.y_min, box.y_max, grid)
    logs = np.log(surface.loss(*np.meshgrid(xs, ys)) + LOSS_FLOOR)
    low, high = max(float(np.quantile(logs, LOW_QUANTILE)), -5.0), float(np.quantile(logs, 0.95))
    return [
        Contour(float(np.exp(level)), contour(xs, ys, logs, level).segments)
        for level in np.linspace(low, high, count)
    ]
