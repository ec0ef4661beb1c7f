"""Calculator forms, generated from each calculator's input model.

A field's widget follows from its JSON Schema: a number, a list of numbers typed as
"1, 2, 3", a matrix typed one row per line, text, lines of text, a true/false box or a
choice. Parsing turns the typed text back into JSON values, and the input model then
validates them exactly as the API does.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import ValidationError

from app.calculators import Calculator, InvalidInput
from app.calculators.types import Inputs

SEPARATORS = re.compile(r"[,\s]+")
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}
GENERAL = "(inputs)"
"""Key of an error that belongs to no single field."""


class Widget(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    VECTOR = "vector"
    MATRIX = "matrix"
    BOOL_MATRIX = "bool-matrix"
    TEXT = "text"
    LINES = "lines"
    CHECKBOX = "checkbox"
    CHOICE = "choice"

    @property
    def multiline(self) -> bool:
        return self in (Widget.MATRIX, Widget.BOOL_MATRIX, Widget.LINES)


@dataclass(frozen=True)
class FormField:
    name: str
    widget: Widget
    required: bool
    help: dict[str, str]
    choices: tuple[str, ...] = ()

    def to_text(self, value: Any) -> str:
        """The text a person would type for `value`."""
        if value is None:
            return ""
        if self.widget is Widget.VECTOR:
            return ", ".join(_number_text(item) for item in value)
        if self.widget is Widget.MATRIX:
            return "\n".join(", ".join(_number_text(item) for item in row) for row in value)
        if self.widget is Widget.BOOL_MATRIX:
            return "\n".join(" ".join("1" if item else "0" for item in row) for row in value)
        if self.widget is Widget.LINES:
            return "\n".join(value)
        if self.widget is Widget.CHECKBOX:
            return "on" if value else ""
        return value if isinstance(value, str) else _number_text(value)

    def parse(self, text: str) -> Any:
        """JSON value for the typed `text`; None when left empty. Raises ValueError."""
        if self.widget is Widget.CHECKBOX:
            return bool(text)
        if not text.strip():
            return None
        if self.widget is Widget.TEXT or self.widget is Widget.CHOICE:
            return text
        if self.widget is Widget.LINES:
            return [line.strip() for line in text.splitlines() if line.strip()]
        if self.widget is Widget.NUMBER:
            return _number(text.strip())
        if self.widget is Widget.INTEGER:
            return _integer(text.strip())
        if self.widget is Widget.VECTOR:
            return [_number(token) for token in _tokens(text)]
        rows = [line for line in text.splitlines() if line.strip()]
        if self.widget is Widget.BOOL_MATRIX:
            return [[_truth(token) for token in _tokens(row)] for row in rows]
        return [[_number(token) for token in _tokens(row)] for row in rows]


def _tokens(text: str) -> list[str]:
    return [token for token in SEPARATORS.split(text.strip()) if token]


def _number(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise ValueError(f"'{token}' is not a number") from None


def _integer(token: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise ValueError(f"'{token}' is not a whole number") from None


def _truth(token: str) -> bool:
    word = token.lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"'{token}' is not 1/0 or true/false")


def _number_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@cache
def form_fields(calculator: Calculator) -> tuple[FormField, ...]:
    schema = calculator.input_schema
    required = set(schema.get("required", ()))
    return tuple(
        _field(name, _resolve(prop, schema), name in required)
        for name, prop in schema["properties"].items()
    )


def _resolve(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The property's own schema, with `$ref` and `X | None` unwrapped."""
    if "$ref" in prop:
        prop = {**schema["$defs"][prop["$ref"].rsplit("/", 1)[1]], **prop}
    options = [option for option in prop.get("anyOf", ()) if option.get("type") != "null"]
    return {**prop, **options[0]} if options else prop


def _field(name: str, prop: dict[str, Any], required: bool) -> FormField:
    help_text = {"en": prop.get("description", ""), "ja": prop.get("description_ja", "")}
    if "enum" in prop:
        choices = tuple(str(choice) for choice in prop["enum"])
        return FormField(name, Widget.CHOICE, required, help_text, choices)
    return FormField(name, _widget(prop), required, help_text)


def _widget(prop: dict[str, Any]) -> Widget:
    kind = prop.get("type")
    if kind != "array":
        scalars = {"number": Widget.NUMBER, "integer": Widget.INTEGER, "boolean": Widget.CHECKBOX}
        return scalars.get(kind, Widget.TEXT)
    item = prop.get("items", {})
    if item.get("type") == "string":
        return Widget.LINES
    if item.get("type") != "array":
        return Widget.VECTOR
    inner = item.get("items", {}).get("type")
    return Widget.BOOL_MATRIX if inner == "boolean" else Widget.MATRIX


def initial_texts(calculator: Calculator, example: Mapping[str, Any] | None) -> dict[str, str]:
    """Form texts for the card's worked example, or the model's defaults."""
    defaults = {
        name: info.default
        for name, info in calculator.input_model.model_fields.items()
        if not info.is_required()
    }
    values = {**defaults, **(example or {})}
    return {field.name: field.to_text(values.get(field.name)) for field in form_fields(calculator)}


def parse_texts(
    fields: Iterable[FormField], texts: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field's typed text as a JSON value (empty fields left out), and any errors."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            value = field.parse(texts.get(field.name, ""))
        except ValueError as error:
            errors[field.name] = str(error)
            continue
        if value is not None:
            values[field.name] = value
    return values, errors


def parse_form(
    calculator: Calculator, texts: Mapping[str, str]
) -> tuple[Inputs | None, dict[str, str]]:
    """Validated inputs, or None with an error message per field name."""
    raw, errors = parse_texts(form_fields(calculator), texts)
    if errors:
        return None, errors
    try:
        # Typed text is converted loosely ("3" in a list of whole numbers is 3.0 here).
        return calculator.input_model.model_validate(raw, strict=False), {}
    except ValidationError as error:
        for item in error.errors():
            field, *position = item["loc"] or (GENERAL,)
            where = "".join(f"[{index}]" for index in position)
            errors.setdefault(str(field), f"{where} {item['msg']}".strip())
        return None, errors
    except InvalidInput as error:
        return None, {field_of(error): error.reason}


def field_of(error: InvalidInput) -> str:
    return error.field.split(".")[0]
