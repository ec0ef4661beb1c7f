"""The loss surfaces: exact gradients, minima, and the bowl's conditioning."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.playground.race import WIDEST_BOX
from app.playground.surfaces import BEALE, ROSENBROCK, Surface, SurfaceId, quadratic, surface

SURFACES = [quadratic(1.0), quadratic(10.0), quadratic(1000.0), ROSENBROCK, BEALE]
IDS = ["bowl-1", "bowl-10", "bowl-1000", "rosenbrock", "beale"]


def central_difference(loss_surface: Surface, x: float, y: float, h: float = 1e-6) -> list[float]:
    return [
        (loss_surface.value((x + h, y)) - loss_surface.value((x - h, y))) / (2 * h),
        (loss_surface.value((x, y + h)) - loss_surface.value((x, y - h))) / (2 * h),
    ]


@pytest.mark.parametrize("loss_surface", SURFACES, ids=IDS)
@given(st.floats(0, 1), st.floats(0, 1))
def test_gradient_matches_central_differences(loss_surface: Surface, u: float, w: float) -> None:
    box = loss_surface.box
    x, y = box.x_min + u * (box.x_max - box.x_min), box.y_min + w * (box.y_max - box.y_min)
    exact = loss_surface.grad((x, y))
    scale = max(1.0, abs(loss_surface.value((x, y))), *map(abs, exact))
    np.testing.assert_allclose(exact, central_difference(loss_surface, x, y), atol=1e-5 * scale)


@pytest.mark.parametrize("loss_surface", SURFACES, ids=IDS)
def test_minimum_is_zero_with_zero_gradient_inside_the_box(loss_surface: Surface) -> None:
    assert loss_surface.value(loss_surface.minimum) == pytest.approx(0, abs=1e-15)
    assert loss_surface.grad(loss_surface.minimum) == pytest.approx([0, 0], abs=1e-12)
    assert loss_surface.box.contains(loss_surface.minimum)
    assert loss_surface.box.contains(loss_surface.start)


@pytest.mark.parametrize("loss_surface", SURFACES, ids=IDS)
def test_minimum_is_the_lowest_point_of_a_grid_over_the_box(loss_surface: Surface) -> None:
    box = loss_surface.box
    grid = np.meshgrid(
        np.linspace(box.x_min, box.x_max, 201), np.linspace(box.y_min, box.y_max, 201)
    )
    assert loss_surface.loss(*grid).min() >= loss_surface.value(loss_surface.minimum)


def test_known_values() -> None:
    assert ROSENBROCK.value((-1.2, 1.0)) == pytest.approx(24.2)
    assert BEALE.value((0.0, 0.0)) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert quadratic(10).value((2.0, 1.0)) == pytest.approx(0.5 * (4 + 10))


@pytest.mark.parametrize("kappa", [1.0, 10.0, 250.0, 1000.0])
def test_bowl_condition_number_is_kappa(kappa: float) -> None:
    bowl, h = quadratic(kappa), 1e-3
    hessian = np.array(
        [
            np.subtract(bowl.grad((h, 0.0)), bowl.grad((-h, 0.0))) / (2 * h),
            np.subtract(bowl.grad((0.0, h)), bowl.grad((0.0, -h))) / (2 * h),
        ]
    )
    eigenvalues = np.linalg.eigvalsh(hessian)
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(kappa)


def test_surface_by_id() -> None:
    assert surface(SurfaceId.ROSENBROCK) is ROSENBROCK
    assert surface(SurfaceId.BEALE) is BEALE
    assert surface(SurfaceId.QUADRATIC, 4.0).value((0.0, 1.0)) == 2.0


def test_the_widest_box_bounds_every_surface_s_box() -> None:
    for loss_surface in SURFACES:
        box = loss_surface.box
        assert max(map(abs, (box.x_min, box.x_max, box.y_min, box.y_max))) <= WIDEST_BOX
