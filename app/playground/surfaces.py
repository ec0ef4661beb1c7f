"""Two-dimensional loss surfaces with their exact gradients, where optimizers race."""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

Point = tuple[float, float]
Field2D = Callable[[np.ndarray, np.ndarray], np.ndarray]


class SurfaceId(StrEnum):
    QUADRATIC = "quadratic"
    ROSENBROCK = "rosenbrock"
    BEALE = "beale"


@dataclass(frozen=True)
class Box:
    """The plotted region: a path that leaves it has diverged."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def contains(self, point: Point) -> bool:
        x, y = point
        return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max


@dataclass(frozen=True)
class Surface:
    id: SurfaceId
    formula: str
    box: Box
    minimum: Point
    start: Point
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    defaults: dict[str, dict[str, float]] = field(default_factory=dict)
    """Hyper-parameters per optimizer that give a readable race from the default start."""

    def value(self, point: Point) -> float:
        return float(self.loss(np.float64(point[0]), np.float64(point[1])))

    def grad(self, point: Point) -> list[float]:
        gx, gy = self.gradient(np.float64(point[0]), np.float64(point[1]))
        return [float(gx), float(gy)]


def quadratic(kappa: float) -> Surface:
    """f = ½(x² + κy²): the Hessian's condition number is κ."""
    return Surface(
        id=SurfaceId.QUADRATIC,
        formula=f"f = ½(x² + κy²), κ = {kappa:g}",
        box=Box(-4.0, 4.0, -3.0, 3.0),
        minimum=(0.0, 0.0),
        start=(-3.5, 2.0),
        loss=lambda x, y: 0.5 * (x**2 + kappa * y**2),
        gradient=lambda x, y: (x, kappa * y),
        # Plain and momentum steps are stable only for η below about 2/κ (the largest
        # curvature), so their defaults scale with 1/κ.
        defaults={
            "sgd": {"lr": 1.5 / kappa},
            "momentum": {"lr": 0.5 / kappa, "momentum": 0.8},
            "nesterov": {"lr": 0.5 / kappa, "momentum": 0.8},
            "adagrad": {"lr": 1.0},
            "rmsprop": {"lr": 0.1, "rho": 0.9},
            "adam": {"lr": 0.3, "beta1": 0.9, "beta2": 0.999},
        },
    )


def _rosenbrock_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


ROSENBROCK = Surface(
    id=SurfaceId.ROSENBROCK,
    formula="f = (1 − x)² + 100(y − x²)²",
    box=Box(-2.0, 2.0, -1.0, 3.0),
    minimum=(1.0, 1.0),
    start=(-1.2, 1.0),
    loss=lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    gradient=_rosenbrock_gradient,
    defaults={
        "sgd": {"lr": 0.002},
        "momentum": {"lr": 0.001, "momentum": 0.9},
        "nesterov": {"lr": 0.001, "momentum": 0.9},
        "adagrad": {"lr": 1.0},
        "rmsprop": {"lr": 0.01, "rho": 0.99},
        "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999},
    },
)

BEALE_TERMS = (1.5, 2.25, 2.625)
"""f = Σₖ (cₖ − x + x yᵏ)² for k = 1, 2, 3."""


def _beale(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return sum((c - x + x * y**k) ** 2 for k, c in enumerate(BEALE_TERMS, start=1))


def _beale_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    residuals = [(k, c - x + x * y**k) for k, c in enumerate(BEALE_TERMS, start=1)]
    gx = sum(2 * r * (y**k - 1) for k, r in residuals)
    gy = sum(2 * r * k * x * y ** (k - 1) for k, r in residuals)
    return gx, gy


BEALE = Surface(
    id=SurfaceId.BEALE,
    formula="f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
    box=Box(-4.5, 4.5, -4.5, 4.5),
    minimum=(3.0, 0.5),
    start=(1.0, 1.5),
    loss=_beale,
    gradient=_beale_gradient,
    defaults={
        "sgd": {"lr": 0.01},
        "momentum": {"lr": 0.005, "momentum": 0.9},
        "nesterov": {"lr": 0.005, "momentum": 0.9},
        "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01, "rho": 0.99},
        "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999},
    },
)


def surface(surface_id: SurfaceId, kappa: float = 10.0) -> Surface:
    """The surface by id; `kappa` shapes only the quadratic bowl."""
    if surface_id is SurfaceId.QUADRATIC:
        return quadratic(kappa)
    return ROSENBROCK if surface_id is SurfaceId.ROSENBROCK else BEALE
