"""Anki export: one note per formula card, with the formula in Anki's MathJax delimiters."""

from collections.abc import Sequence
from html import escape
from pathlib import Path

import genanki

from app.models import Formula

# Fixed ids, so a re-exported deck updates the learner's existing notes instead of
# duplicating them (each note's guid also comes from its card id).
MODEL_ID = 1_607_392_319
DECK_ID = 2_059_400_110
FIELDS = ("Title", "Question", "Formula", "Legend", "Source")

MODEL = genanki.Model(
    MODEL_ID,
    "Koshiki formula",
    fields=[{"name": name} for name in FIELDS],
    templates=[
        {
            "name": "Formula card",
            "qfmt": "<h2>{{Title}}</h2><p>{{Question}}</p>",
            "afmt": "{{FrontSide}}<hr id=answer>{{Formula}}<div>{{Legend}}</div>"
            "<p><small>{{Source}}</small></p>",
        }
    ],
)


def _note(formula: Formula) -> genanki.Note:
    # Anki fields are HTML: every text is escaped, so `<` in TeX or prose stays text.
    legend = "<br>".join(
        escape(rf"\({symbol.latex}\): {symbol.meaning_ja} / {symbol.meaning_en}")
        for symbol in formula.symbols
    )
    sources = "<br>".join(escape(f"{s['citation']} ({s['locator']})") for s in formula.source)
    return genanki.Note(
        model=MODEL,
        fields=[
            escape(f"{formula.title_ja} / {formula.title_en}"),
            "この式を書けますか？ / Can you write this formula?",
            "".join(escape(rf"\[{latex}\]") for latex in formula.latex),
            legend,
            sources,
        ],
        guid=genanki.guid_for("koshiki", formula.id),
        tags=[tag.name for tag in formula.tags] + [formula.category_id],
    )


def write_deck(formulas: Sequence[Formula], path: Path) -> int:
    """Write an .apkg holding one note per formula; returns the number of notes."""
    deck = genanki.Deck(DECK_ID, "Koshiki 公式")
    for formula in formulas:
        deck.add_note(_note(formula))
    genanki.Package(deck).write_to_file(str(path))
    return len(formulas)
