"""The catalog's formulas typeset on the server, so that a page shows them at first paint.

In the browser, MathJax has to arrive, compile and typeset before a formula can be read:
half a second on a card page with an empty cache. So each catalog load has MathJax itself
(the vendored release, run by Node.js: app/typeset.js) typeset every formula the cards
show, and keeps the HTML in the database beside the cards, with the one stylesheet it
needs. Pages put that HTML where the TeX would have gone; MathJax is then loaded in the
browser only for math the server has no HTML for (static/js/mathjax-config.js).

Without Node.js, or if it fails, the catalog still loads: formulas are typeset in the
browser, as they always could be.
"""

import hashlib
import json
import logging
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app import catalog, quizzes
from app.cards import LANGUAGES, Card
from app.config import PROJECT_ROOT
from app.markdown import Math, math_in
from app.models import CatalogVersion, MathHtml

MATHJAX = "vendor/mathjax-3.2.2"
"""The one MathJax release, under static/: the browser's and the server's."""
MATHJAX_DIR = PROJECT_ROOT / "static" / MATHJAX
FONTS = f"{MATHJAX}/output/chtml/fonts/woff-v2"
FONT_URL = f"/static/{FONTS}"
SCRIPT = PROJECT_ROOT / "app" / "typeset.js"
TIMEOUT_SECONDS = 300
"""The whole catalog takes 5 s on an idle machine of two cores."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TypesetMath:
    """Formulas typeset as MathJax's CommonHTML, by `math_key`, and their stylesheet."""

    html: Mapping[str, str]
    stylesheet: str
    digest: str
    """Names what was typeset: it changes whenever the formulas do."""

    @property
    def version(self) -> str:
        """Short, for URLs of what is built from it (the stylesheet)."""
        return self.digest[:12]

    def get(self, math: Math) -> str | None:
        return self.html.get(math_key(math))


def math_key(math: Math) -> str:
    tex, display = math
    return hashlib.sha256(f"{'display' if display else 'inline'}\n{tex}".encode()).hexdigest()


def card_math(card: Card) -> set[Math]:
    """Every formula the card's page, the catalog, the sheet and quiz questions show, as they
    show it."""
    math = {(latex, True) for latex in card.latex}
    math |= {(symbol.latex, False) for symbol in card.symbols}
    math |= {(other.latex, True) for other in [*card.wrong_forms, *card.variants]}
    for language in LANGUAGES:
        for text in (card.notes[language], card.mistakes[language]):
            math.update(math_in(text, inline=False))
        for line in [
            *(getattr(item, language) for item in [*card.symbols, *card.wrong_forms]),
            *(variant.note[language] for variant in card.variants),
        ]:
            math.update(math_in(line, inline=True))
    return math | quizzes.complete_math(quizzes.facts_of(card))


_math_by_card_digest: dict[str, frozenset[Math]] = {}
"""`card_math` of every card file read in this process, by its digest: parsing the text of
every card takes a second, and a load mostly finds them unchanged."""


def _math_of(card: Card, digest: str) -> frozenset[Math]:
    if digest not in _math_by_card_digest:
        _math_by_card_digest[digest] = frozenset(card_math(card))
    return _math_by_card_digest[digest]


def catalog_math(cards: Iterable[tuple[Card, str]]) -> list[Math]:
    """Every formula of the cards (each with its file's digest), in a fixed order."""
    return sorted(set().union(*(_math_of(card, digest) for card, digest in cards)))


def update(session: Session, math: list[Math], node: str) -> bool:
    """Have the database hold the catalog's formulas (`catalog_math`) typeset; True if that
    changed anything.

    Typesets only when the formulas differ from those already held, all of them at once
    (the stylesheet covers the characters of all), with the Node.js program `node`. Held
    typesetting is kept when it is missing or fails: a formula it lacks is typeset in the
    browser.
    """
    digest = _digest(math)
    version = session.get_one(CatalogVersion, 1)
    if version.math_digest == digest:
        return False
    typeset = _typeset(node, math, digest)
    if typeset is None:
        return False
    session.execute(delete(MathHtml))
    session.execute(insert(MathHtml), [{"key": k, "html": h} for k, h in typeset.html.items()])
    version.math_digest, version.math_stylesheet = digest, typeset.stylesheet
    session.flush()
    catalog.write_fingerprint(session)  # pages built before now lack these
    return True


def stored(session: Session) -> TypesetMath | None:
    """What the last load typeset, or None if nothing is."""
    version = session.get(CatalogVersion, 1)
    if version is None or not version.math_digest:
        return None
    html = dict(session.execute(select(MathHtml.key, MathHtml.html)).all())
    return TypesetMath(html, version.math_stylesheet, version.math_digest)


_TYPESETTER = json.dumps([MATHJAX, SCRIPT.read_text(), FONT_URL])
"""What typesets the formulas: a different release or script typesets them anew."""


def _digest(math: list[Math]) -> str:
    """Of the formulas, and of what typesets them."""
    return hashlib.sha256(json.dumps([_TYPESETTER, math]).encode()).hexdigest()


_typeset_before: dict[str, TypesetMath] = {}
"""The last few catalogs typeset in this process: a load into a new database (every test
app has one) gets them without typesetting them again."""
_KEPT = 4
_typeset_lock = Lock()


def _typeset(node: str, math: list[Math], digest: str) -> TypesetMath | None:
    with _typeset_lock:
        if digest not in _typeset_before:
            typeset = _run_mathjax(node, math, digest)
            if typeset is None:
                return None
            _typeset_before[digest] = typeset
            while len(_typeset_before) > _KEPT:
                del _typeset_before[next(iter(_typeset_before))]
        return _typeset_before[digest]


def _run_mathjax(node: str, math: list[Math], digest: str) -> TypesetMath | None:
    """The formulas typeset by MathJax under Node.js; None, with the reason logged, if
    they cannot be."""
    command = [node, str(SCRIPT), str(MATHJAX_DIR), FONT_URL]
    try:
        done = subprocess.run(
            command,
            input=json.dumps({"math": math}),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
        if done.returncode != 0:
            raise ValueError(done.stderr.strip())
        reply = json.loads(done.stdout)
        html = dict(zip(map(math_key, math), reply["html"], strict=True))
        if failed := [key for key, item in html.items() if item is None]:
            logger.warning("%d formula(s) left to the browser:\n%s", len(failed), done.stderr)
        typeset = {key: item for key, item in html.items() if item is not None}
        return TypesetMath(typeset, reply["stylesheet"], digest)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as error:
        logger.warning("formulas will be typeset in the browser: %s", error)
        return None
