"""Optimizers racing on a surface, one step at a time, through the cards' own calculators.

Each step is one call of the optimizer card's calculator (`sgd`, `momentum`, `nesterov`,
`adagrad`, `rmsprop`, `adam`); the state it returns (velocity, h, m, v) is fed into the
next call, so the playground can never disagree with the cards.
"""

import math
from dataclasses import dataclass
from typing import Any

from app import calculators
from app.calculators import Calculator, InvalidInput
from app.playground.surfaces import Point, Surface

MAX_STEPS = 500


@dataclass(frozen=True)
class Optimizer:
    id: str
    hyper_parameters: tuple[str, ...]
    initial_state: tuple[str, ...] = ()
    """State vectors the calculator takes and returns, zero before the first step."""
    counts_steps: bool = False
    """Adam's bias correction needs the step number t (1 for the first update)."""
    looks_ahead: bool = False
    """Nesterov takes the gradient at θ + αv, not at θ."""

    @property
    def calculator(self) -> Calculator:
        """The calculator of the optimizer's card, which takes every step."""
        found = calculators.get(self.id)
        assert found is not None, f"no calculator {self.id}"
        return found


OPTIMIZERS = (
    Optimizer("sgd", ("lr",)),
    Optimizer("momentum", ("lr", "momentum"), ("velocity",)),
    Optimizer("nesterov", ("lr", "momentum"), ("velocity",), looks_ahead=True),
    Optimizer("adagrad", ("lr", "eps"), ("h",)),
    Optimizer("rmsprop", ("lr", "rho", "eps"), ("h",)),
    Optimizer("adam", ("lr", "beta1", "beta2", "eps"), ("m", "v"), counts_steps=True),
)


@dataclass(frozen=True)
class Path:
    optimizer: str
    hyper_parameters: dict[str, float]
    points: list[Point]
    """The start, then the parameters after each step that stayed in the plotted box."""
    losses: list[float]
    diverged_at: int | None
    """The step that left the box, overflowed or went non-finite; None if all were taken."""


def _gradient_point(optimizer: Optimizer, params: list[float], inputs: dict[str, Any]) -> Point:
    if not optimizer.looks_ahead:
        return params[0], params[1]
    alpha, velocity = inputs["momentum"], inputs["velocity"]
    return params[0] + alpha * velocity[0], params[1] + alpha * velocity[1]


def run(
    optimizer: Optimizer,
    surface: Surface,
    start: Point,
    hyper_parameters: dict[str, float],
    steps: int,
) -> Path:
    """Take up to `steps` steps from `start`; stop where the path diverges."""
    calculator = optimizer.calculator
    params = [float(start[0]), float(start[1])]
    state: dict[str, Any] = {name: [0.0, 0.0] for name in optimizer.initial_state}
    points, losses = [start], [surface.value(start)]
    for step in range(1, steps + 1):
        inputs = {**hyper_parameters, **state, "params": params}
        if optimizer.counts_steps:
            inputs["step"] = step
        inputs["grads"] = surface.grad(_gradient_point(optimizer, params, inputs))
        try:
            outputs = calculator.run(calculator.parse(inputs)).outputs
        except InvalidInput:  # the gradient or the result overflowed
            return Path(optimizer.id, hyper_parameters, points, losses, step)
        params = outputs["params"]
        point = (params[0], params[1])
        loss = surface.value(point)
        if not (surface.box.contains(point) and math.isfinite(loss)):
            return Path(optimizer.id, hyper_parameters, points, losses, step)
        state = {name: outputs[name] for name in optimizer.initial_state}
        points.append(point)
        losses.append(loss)
    return Path(optimizer.id, hyper_parameters, points, losses, None)
