"""Marching squares: iso-lines land on the level set they trace."""

import numpy as np
import pytest

from app.playground.contours import contour, contours
from app.playground.surfaces import BEALE, ROSENBROCK, quadratic


def endpoints(segments: list[tuple[float, float, float, float]]) -> np.ndarray:
    array = np.asarray(segments)
    return np.concatenate([array[:, :2], array[:, 2:]])


def test_circle_is_traced_at_its_radius_all_the_way_round() -> None:
    xs = np.linspace(-2, 2, 81)
    grid_x, grid_y = np.meshgrid(xs, xs)
    line = contour(xs, xs, grid_x**2 + grid_y**2, 1.0)
    points = endpoints(line.segments)
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_allclose(radius, 1.0, atol=2e-3)  # linear interpolation on a 0.05 grid
    angles = np.sort(np.arctan2(points[:, 1], points[:, 0]))
    assert np.diff(angles).max() < 0.1  # no gap in the ring


def test_saddle_cells_give_two_segments() -> None:
    xs = np.array([0.0, 1.0])
    line = contour(xs, xs, np.array([[1.0, 0.0], [0.0, 1.0]]), 0.5)  # corners above: bl, tr
    assert len(line.segments) == 2


def test_nothing_is_drawn_where_the_level_is_not_reached() -> None:
    xs = np.linspace(0, 1, 5)
    assert contour(xs, xs, np.zeros((5, 5)), 1.0).segments == []


@pytest.mark.parametrize("loss_surface", [quadratic(10.0), ROSENBROCK, BEALE])
def test_surface_contours_lie_on_their_levels_in_the_box(loss_surface) -> None:
    lines = contours(loss_surface)
    levels = [line.level for line in lines]
    assert levels == sorted(levels)
    assert len(lines) == 12
    box = loss_surface.box
    half_spacing = np.log(levels[1] / levels[0]) / 2
    for line in lines:
        points = endpoints(line.segments)
        assert (points[:, 0] >= box.x_min).all()
        assert (points[:, 0] <= box.x_max).all()
        assert (points[:, 1] >= box.y_min).all()
        assert (points[:, 1] <= box.y_max).all()
        values = loss_surface.loss(points[:, 0], points[:, 1])
        # Interpolating between grid nodes is coarse where the valley is narrower than a
        # cell, but nine points in ten of every line sit nearer its own level than the next.
        assert np.quantile(np.abs(np.log(values / line.level)), 0.9) < half_spacing


def test_bowl_contours_are_ellipses_of_the_right_shape() -> None:
    bowl = quadratic(4.0)
    for line in contours(bowl):
        points = endpoints(line.segments)
        np.testing.assert_allclose(
            0.5 * (points[:, 0] ** 2 + 4 * points[:, 1] ** 2), line.level, rtol=0.1
        )
