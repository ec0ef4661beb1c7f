"""The calculator registry: ids mapped to functions, their input models and output names.

Every module of this package is imported on first use, so a new calculator is one
decorated function in any module here; nothing else (routes, templates) needs to change.
"""

import importlib
import math
import pkgutil
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.calculators.types import Inputs, InvalidInput, Result, Step, jsonable
from app.plots import Plot

_INFRASTRUCTURE = {"registry", "types"}
_registry: dict[str, "Calculator"] = {}


Sampler = Callable[[np.random.Generator], dict[str, Any]]
"""Draws inputs with "nice" numbers a person can work by hand, for compute questions."""

PlotHook = Callable[[Any, Result], Plot | None]
"""`plot(inputs, result)`: what to draw for one computed result (None: nothing to draw)."""


@dataclass(frozen=True)
class Calculator:
    id: str
    function: Callable[[Any], Result]
    input_model: type[Inputs]
    outputs: tuple[str, ...]
    sample: Sampler | None = None
    answer: str | None = None
    """The scalar a compute question asks for: an output name, optionally indexed
    (`y[0]`, `grad[1][0]`)."""
    plot: PlotHook | None = None

    def answer_value(self, outputs: dict[str, Any]) -> Any:
        name, indexes = _answer_parts(self.answer or "")
        value = outputs[name]
        for index in indexes:
            value = value[index]
        return value

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()

    def parse(self, raw: dict[str, Any]) -> Inputs:
        """Validate raw inputs; raise InvalidInput naming the field at fault."""
        try:
            return self.input_model.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(inputs)"
            raise InvalidInput(field, first["msg"]) from None

    def run(self, inputs: Inputs) -> Result:
        """Compute outputs and steps as JSON-ready values; refuse a non-finite result."""
        result = self.function(inputs)
        if set(result.outputs) != set(self.outputs):
            raise RuntimeError(f"{self.id} returned {sorted(result.outputs)}, not {self.outputs}")
        outputs = {name: jsonable(result.outputs[name]) for name in self.outputs}
        steps = [Step(step.label, jsonable(step.value)) for step in result.steps]
        if not _all_finite([outputs, [step.value for step in steps]]):
            raise InvalidInput(
                "(inputs)", "the result overflows double precision; use smaller magnitudes"
            )
        return Result(outputs, steps)


def calculator(
    calculator_id: str,
    *,
    outputs: tuple[str, ...],
    sample: Sampler | None = None,
    answer: str | None = None,
    plot: PlotHook | None = None,
) -> Callable:
    """Register a function `f(inputs: SomeInputs) -> Result` under `calculator_id`.

    `sample` and `answer` make it usable in compute questions: `sample(rng)` draws
    hand-workable inputs and `answer` names the scalar output the learner computes.
    `plot(inputs, result)` gives the plot the card page draws beside the result.
    """
    if (sample is None) != (answer is None) or (answer and _answer_parts(answer)[0] not in outputs):
        raise RuntimeError(f"{calculator_id}: `sample` needs an `answer` among the outputs")

    def register(function: Callable[[Any], Result]) -> Callable[[Any], Result]:
        hints = typing.get_type_hints(function)
        input_model = next(hint for name, hint in hints.items() if name != "return")
        if calculator_id in _registry:
            raise RuntimeError(f"calculator id {calculator_id!r} registered twice")
        _registry[calculator_id] = Calculator(
            calculator_id, function, input_model, outputs, sample, answer, plot
        )
        return function

    return register


def _answer_parts(answer: str) -> tuple[str, list[int]]:
    name, _, indexes = answer.partition("[")
    return name, [int(index) for index in re.findall(r"\d+", indexes)]


@cache
def _discover() -> None:
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"app.calculators.{module.name}")


def get(calculator_id: str) -> Calculator | None:
    _discover()
    return _registry.get(calculator_id)


def all_calculators() -> Iterator[Calculator]:
    _discover()
    yield from sorted(_registry.values(), key=lambda calc: calc.id)


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(item) for item in value.values())
    if isinstance(value, list):
        try:  # a regular array of numbers is checked at once, not one Python call per number
            array = np.asarray(value)
        except ValueError:  # ragged
            array = None
        if array is not None and array.dtype.kind in "biuf":
            return bool(np.isfinite(array).all())
        return all(_all_finite(item) for item in value)
    return True
