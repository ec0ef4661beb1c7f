"""Building blocks shared by every calculator: bounded input types, errors, results."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_ELEMENTS = 4096
"""Cap on the number of numbers in one input, so no request can ask for unbounded work."""
MAX_MAGNITUDE = 1e12
"""Cap on |x|: far beyond any exam quantity, small enough that squares stay finite."""


class Inputs(BaseModel):
    """Base of every calculator's input model: unknown fields are typos, so they are refused.

    Strict, so the API accepts exactly what its JSON Schema says: `true` or `"2"` is not a
    number. Forms, which turn typed text into values, validate loosely instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class InvalidInput(Exception):
    """Input that passes the type checks but not the formula's domain.

    Deliberately not a ValueError: raised inside a Pydantic validator, it propagates
    unchanged, so it keeps the name of the field it is about.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def described(default: Any = ..., *, en: str, ja: str, **constraints: Any) -> Any:
    """A model field with its English and Japanese help text."""
    return Field(default, description=en, json_schema_extra={"description_ja": ja}, **constraints)


def _within_element_cap(rows: list[list[Any]]) -> list[list[Any]]:
    width = len(rows[0])
    for index, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"all rows must have the same length: row 0 has {width}, row {index} has {len(row)}"
            )
    if len(rows) * width > MAX_ELEMENTS:
        raise ValueError(f"at most {MAX_ELEMENTS} elements in all, got {len(rows) * width}")
    return rows


def _within_magnitude(value: float) -> float:
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"must be between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")
    return value


class _MagnitudeInSchema:
    """Publish the magnitude cap in the JSON Schema where a field has no bound of its own."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if "minimum" not in schema and "exclusiveMinimum" not in schema:
            schema["minimum"] = -MAX_MAGNITUDE
        if "maximum" not in schema and "exclusiveMaximum" not in schema:
            schema["maximum"] = MAX_MAGNITUDE
        return schema


# The magnitude cap is a validator, not Field(ge=..., le=...): a field's own bounds
# (`described(0.01, ge=0)`) would otherwise be replaced by these.
Real = Annotated[
    float, Field(allow_inf_nan=False), AfterValidator(_within_magnitude), _MagnitudeInSchema()
]
Vector = Annotated[list[Real], Field(min_length=1, max_length=MAX_ELEMENTS)]
Matrix = Annotated[
    list[Vector], Field(min_length=1, max_length=MAX_ELEMENTS), AfterValidator(_within_element_cap)
]
NonNegative = Annotated[Real, Field(ge=0)]
Probability = Annotated[float, Field(allow_inf_nan=False, ge=0, le=1)]
"""A number in [0, 1]: a probability, a rate or a mixing weight."""
Bit = Annotated[int, Field(ge=0, le=1)]
Bits = Annotated[list[Bit], Field(min_length=1, max_length=MAX_ELEMENTS)]
BitMatrix = Annotated[
    list[Annotated[list[Bit], Field(min_length=1, max_length=MAX_ELEMENTS)]],
    Field(min_length=1, max_length=MAX_ELEMENTS),
    AfterValidator(_within_element_cap),
]
BoolMatrix = Annotated[
    list[Annotated[list[bool], Field(min_length=1, max_length=MAX_ELEMENTS)]],
    Field(min_length=1, max_length=MAX_ELEMENTS),
    AfterValidator(_within_element_cap),
]


def shape_text(shape: tuple[int, ...]) -> str:
    return f"length {shape[0]}" if len(shape) == 1 else "×".join(map(str, shape))


def require_same_shape(inputs: BaseModel, *names: str) -> None:
    """Raise InvalidInput naming the first field whose shape differs from the first one's."""
    first, *others = names
    expected = np.shape(getattr(inputs, first))
    for name in others:
        actual = np.shape(getattr(inputs, name))
        if actual != expected:
            raise InvalidInput(
                name,
                f"must have the same shape as {first} ({shape_text(expected)}), "
                f"got {shape_text(actual)}",
            )


@dataclass(frozen=True)
class Step:
    """One intermediate value shown to the learner, labelled in formula notation."""

    label: str
    value: Any


@dataclass(frozen=True)
class Result:
    outputs: dict[str, Any]
    steps: list[Step] = field(default_factory=list)


def jsonable(value: Any) -> Any:
    """NumPy scalars and arrays as plain floats, ints, bools and nested lists."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [jsonable(item) for item in value]
    return value
