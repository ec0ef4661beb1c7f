"""The formula card: its schema, and how a card file is read into it.

A card file is YAML front matter followed by a Markdown body with four sections
(`## ja` / `## en`, each with `### notes` and `### mistakes`); `formulas/README.md`
documents the format for authors.
"""

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEBAB_CASE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Text = Annotated[str, Field(min_length=1)]
KebabId = Annotated[str, Field(pattern=KEBAB_CASE, max_length=64)]
Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Localized(Strict):
    ja: Text
    en: Text

    def __getitem__(self, language: Language) -> str:
        return getattr(self, language)


class Symbol(Strict):
    latex: Text
    ja: Text
    en: Text


class Source(Strict):
    kind: Literal["paper", "book", "docs"]
    citation: Text
    locator: Text
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class Syllabus(Strict):
    area: Literal[
        "math",
        "machine-learning",
        "deep-learning-basics",
        "deep-learning-applications",
        "development",
    ]
    status: Literal["examinable", "optional"]


class WorkedExample(Strict):
    inputs: dict[str, Any]
    outputs: dict[str, Any] = Field(min_length=1)
    tolerance: float = Field(default=1e-6, gt=0, le=1e-2)


class Variant(Strict):
    name: Localized
    latex: Text
    note: Localized


class WrongForm(Strict):
    latex: Text
    ja: Text
    en: Text


class Card(Strict):
    id: KebabId
    title: Localized
    category: KebabId
    syllabus: Syllabus
    tags: list[KebabId] = Field(min_length=1)
    latex: list[Text] = Field(min_length=1)
    symbols: list[Symbol] = Field(min_length=1)
    source: list[Source] = Field(min_length=1)
    calculator: KebabId | None = None
    example: WorkedExample | None = None
    variants: list[Variant] = []
    wrong_forms: list[WrongForm] = []
    notes: Localized
    mistakes: Localized


class CardError(Exception):
    """A card file that cannot be used, with where and why."""

    def __init__(self, path: Path, field: str, reason: str) -> None:
        super().__init__(f"{path}: {field}: {reason}")
        self.path, self.field, self.reason = path, field, reason


# libyaml's loader parses the whole catalog about ten times faster than the pure-Python one;
# fall back to the latter where PyYAML was built without it.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML with the safe loader (plain data only: no Python objects)."""
    return yaml.load(text, Loader=_YAML_LOADER)


FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
LANGUAGE_HEADING = re.compile(r"^## (\S.*?)[ \t]*$", re.MULTILINE)
PART_HEADING = re.compile(r"^### (\S.*?)[ \t]*$", re.MULTILINE)
PARTS = ("notes", "mistakes")


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_card(path: Path) -> tuple[Card, str]:
    """Parse and validate one card file; return it with the hash of its content."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        raise CardError(path, "(file)", f"not UTF-8: {error}") from None
    match = FRONT_MATTER.match(text)
    if not match:
        raise CardError(path, "(file)", "must start with YAML front matter between '---' lines")
    try:
        front = load_yaml(match["yaml"])
    except yaml.YAMLError as error:
        raise CardError(path, "(front matter)", f"invalid YAML: {error}") from None
    if not isinstance(front, dict):
        raise CardError(path, "(front matter)", "must be a YAML mapping")
    for key in ("notes", "mistakes"):
        if key in front:
            raise CardError(path, key, "belongs in the Markdown body, not the front matter")
    fields = {**front, **_body_sections(path, match["body"])}
    try:
        card = Card.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(card)"
        raise CardError(path, where, first["msg"]) from None
    if card.calculator and card.example is None:
        raise CardError(path, "example", "a card with a calculator needs a worked example")
    if card.example and not card.calculator:
        raise CardError(path, "example", "needs a `calculator` to recompute it")
    if card.id != path.stem:
        raise CardError(path, "id", f"'{card.id}' must equal the file name '{path.stem}'")
    if card.category != path.parent.name:
        raise CardError(
            path, "category", f"'{card.category}' must equal the folder '{path.parent.name}'"
        )
    return card, content_hash(raw)


def _body_sections(path: Path, body: str) -> dict[str, dict[str, str]]:
    """Split the body into {"notes": {"ja", "en"}, "mistakes": {"ja", "en"}}."""
    sections: dict[str, dict[str, str]] = {"notes": {}, "mistakes": {}}
    languages = LANGUAGE_HEADING.split(body)
    if languages[0].strip():
        raise CardError(path, "(body)", "text before the first '## ja' or '## en' heading")
    for language, language_text in zip(languages[1::2], languages[2::2], strict=True):
        if language not in LANGUAGES:
            raise CardError(path, "(body)", f"'## {language}': sections are '## ja' and '## en'")
        parts = PART_HEADING.split(language_text)
        if parts[0].strip():
            raise CardError(path, f"(body) {language}", "text before '### notes'")
        for part, part_text in zip(parts[1::2], parts[2::2], strict=True):
            if part not in PARTS:
                raise CardError(
                    path,
                    f"(body) {language}",
                    f"'### {part}': parts are '### notes', '### mistakes'",
                )
            if language in sections[part]:
                raise CardError(path, f"{part}.{language}", "section appears twice")
            sections[part][language] = part_text.strip()
    return sections
