"""The playground's form: its fields, the texts for a race, and parsing what was typed.

Hyper-parameter fields are named `<optimizer>.<name>` (`adam.lr`), the same path that
the JSON body and its 422 `loc` use, so an error lands next to its input.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from pydantic import ValidationError

from app.calculators import InvalidInput
from app.playground.race import PlaygroundInputs
from app.playground.simulation import OPTIMIZERS, Optimizer
from app.playground.surfaces import SurfaceId
from app.web.forms import GENERAL, FormField, Widget, form_fields, parse_texts
from app.web.i18n import STRINGS


@dataclass(frozen=True)
class FieldGroup:
    optimizer: str | None
    """The optimizer whose hyper-parameters these are; None for the race's own settings."""
    fields: tuple[FormField, ...]


def _race_fields(surface: SurfaceId) -> tuple[FormField, ...]:
    names = (
        ("kappa", "start_x", "start_y")
        if surface is SurfaceId.QUADRATIC
        else ("start_x", "start_y")
    )
    numbers = [
        FormField(name, Widget.NUMBER, False, dict(STRINGS[f"help_{name}"])) for name in names
    ]
    return (*numbers, FormField("steps", Widget.INTEGER, False, dict(STRINGS["help_steps"])))


@cache
def _optimizer_group(optimizer: Optimizer) -> FieldGroup:
    """The calculator's own fields for the hyper-parameters, named `<optimizer>.<name>`."""
    by_name = {field.name: field for field in form_fields(optimizer.calculator)}
    return FieldGroup(
        optimizer.id,
        tuple(
            replace(by_name[name], name=f"{optimizer.id}.{name}", required=False)
            for name in optimizer.hyper_parameters
        ),
    )


def field_groups(surface: SurfaceId) -> list[FieldGroup]:
    """The race's settings, then one group per optimizer."""
    return [
        FieldGroup(None, _race_fields(surface)),
        *(_optimizer_group(optimizer) for optimizer in OPTIMIZERS),
    ]


def _all_fields() -> list[FormField]:
    return [field for group in field_groups(SurfaceId.QUADRATIC) for field in group.fields]


def parse(texts: Mapping[str, str]) -> tuple[PlaygroundInputs | None, dict[str, str]]:
    """Validated inputs, or None with an error message per field name.

    An empty field takes the surface's default.
    """
    values, errors = parse_texts(_all_fields(), texts)
    raw: dict[str, Any] = {"surface": texts.get("surface") or SurfaceId.ROSENBROCK.value}
    for dotted, value in values.items():
        group, _, name = dotted.rpartition(".")
        (raw.setdefault(group, {}) if group else raw)[name] = value
    if errors:
        return None, errors
    try:
        return PlaygroundInputs.model_validate(raw), {}
    except ValidationError as error:
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"]) or GENERAL
            errors.setdefault(field, item["msg"])
        return None, errors
    except InvalidInput as error:
        return None, {error.field: error.reason}


def texts_of(inputs: PlaygroundInputs) -> dict[str, str]:
    """The texts of every field for a race: the learner's values and the defaults."""
    values: dict[str, Any] = {
        "kappa": inputs.kappa,
        "start_x": inputs.start[0],
        "start_y": inputs.start[1],
        "steps": inputs.steps,
    }
    for optimizer in OPTIMIZERS:
        for name, value in inputs.hyper_parameters(optimizer).items():
            values[f"{optimizer.id}.{name}"] = value
    texts = {field.name: field.to_text(values[field.name]) for field in _all_fields()}
    return {"surface": inputs.surface.value, **texts}


def default_surface(texts: Mapping[str, str]) -> SurfaceId:
    """The surface asked for, or the default one when the text names none."""
    try:
        return SurfaceId(texts.get("surface", ""))
    except ValueError:
        return SurfaceId.ROSENBROCK
