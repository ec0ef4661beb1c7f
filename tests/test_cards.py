"""Card files: every malformed card is named with its field and reason."""

import re
from pathlib import Path

import pytest

from app.cards import CardError, read_card
from app.config import PROJECT_ROOT

SOFTMAX = (PROJECT_ROOT / "formulas" / "activations" / "softmax.md").read_text(encoding="utf-8")


def write_card(tmp_path: Path, text: str, name: str = "softmax") -> Path:
    path = tmp_path / "activations" / f"{name}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda t: t.replace("---\nid: softmax", "id: softmax"), "(file)", "front matter"),
        (lambda t: t.replace("title:\n", "title: [\n", 1), "(front matter)", "invalid YAML"),
        (lambda t: t.replace("id: softmax", "id: Soft_Max"), "id", "pattern"),
        (lambda t: t.replace("id: softmax", "id: other"), "id", "file name"),
        (lambda t: t.replace("category: activations", "category: cnn"), "category", "folder"),
        (lambda t: t.replace("  en: Softmax with temperature\n", ""), "title.en", "required"),
        (
            lambda t: t.replace("status: examinable", "status: maybe"),
            "syllabus.status",
            "'examinable'",
        ),
        (lambda t: t.replace("kind: book", "kind: blog"), "source.0.kind", "'paper'"),
        (lambda t: t.replace("\nlatex:\n", "\nlatex: []\nx:\n"), "latex", "at least 1"),
        (lambda t: t.replace("## en\n", "## fr\n"), "(body)", "'## fr'"),
        (lambda t: t.replace("### notes", "### notez", 1), "(body) ja", "'### notez'"),
        (lambda t: t.split("## en")[0], "notes.en", "required"),
        (lambda t: t.replace("### mistakes", "### notes", 1), "notes.ja", "twice"),
        (lambda t: t.replace("calculator: softmax\n", ""), "example", "needs a `calculator`"),
        (lambda t: t.replace("tags: [", "tagz: ["), "tags", "required"),
        (lambda t: t.replace("tags: [", "tags: [x]\ntagz: ["), "tagz", "Extra inputs"),
        (lambda t: re.sub(r"\nexample:\n(  .*\n)+", "\n", t), "example", "needs a worked example"),
    ],
)
def test_malformed_cards_name_the_field_and_reason(
    tmp_path: Path,
    change,
    field: str,
    reason: str,
) -> None:
    with pytest.raises(CardError) as caught:
        read_card(write_card(tmp_path, change(SOFTMAX)))
    assert caught.value.field.startswith(field)
    assert reason in caught.value.reason


def test_a_valid_card_reads_with_both_languages(tmp_path: Path) -> None:
    card, digest = read_card(write_card(tmp_path, SOFTMAX))
    assert card.title.ja
    assert card.title.en
    assert "最大値" in card.notes.ja
    assert "largest logit" in card.notes.en
    assert len(digest) == 64


def test_windows_line_endings_read_the_same(tmp_path: Path) -> None:
    card, _ = read_card(write_card(tmp_path, SOFTMAX.replace("\n", "\r\n")))
    assert card.id == "softmax"
