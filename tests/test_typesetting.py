"""Formulas typeset on the server as the catalog loads: all of them, cleanly, and only anew
when they change; without Node.js the catalog loads all the same."""

import html
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import typesetting
from app.catalog import read_catalog
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.main import create_app, prepare
from app.markdown import Math
from app.models import CatalogVersion
from app.typesetting import TypesetMath

CATALOG = read_catalog(Settings().formulas_dir)
DELIMITED = re.compile(
    r'<(?:span|div) class="math[^"]*">\s*(\\\(|\\\[)(.*?)(?:\\\)|\\\])\s*</(?:span|div)>',
    re.DOTALL,
)
CHARACTER = re.compile(r'<mjx-c class="mjx-c([0-9A-F]+)(?: (TEX-[A-Z0-9]+))?"')


@pytest.fixture(scope="module")
def typeset(tmp_path_factory: pytest.TempPathFactory) -> TypesetMath:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    engine = make_engine(settings)
    prepare(settings, engine)
    with make_session_factory(engine)() as session:
        stored = typesetting.stored(session)
    engine.dispose()
    assert stored is not None
    return stored


def test_every_formula_a_page_shows_is_typeset(settings: Settings) -> None:
    """What the pages would hand MathJax without the server's typesetting: each card in
    both languages, the catalog and the sheet. `card_math` must find all of it."""
    shown: set[Math] = set()
    with TestClient(create_app(settings.model_copy(update={"node": ""}))) as client:
        for language in ("ja", "en"):
            client.cookies.set("lang", language)
            paths = ["/", "/sheet", *(f"/formulas/{card.id}" for card, _ in CATALOG.cards)]
            for path in paths:
                for opening, tex in DELIMITED.findall(client.get(path).text):
                    shown.add((html.unescape(tex), opening == r"\["))
    found = set(typesetting.catalog_math(CATALOG.cards))
    assert len(shown) > 3000
    assert shown <= found, sorted(shown - found)[:5]


def test_every_formula_typesets_without_an_error(typeset: TypesetMath) -> None:
    found = typesetting.catalog_math(CATALOG.cards)
    assert len(typeset.html) == len(found)
    for math in found:
        formula = typeset.get(math)
        assert formula is not None, math
        assert formula.startswith('<mjx-container class="MathJax" jax="CHTML"'), math
        assert "mjx-merror" not in formula, math
        assert ('display="true"' in formula.split(">")[0]) == math[1], math


def test_a_quiz_shows_a_masked_term_as_a_box_not_as_its_tex(typeset: TypesetMath) -> None:
    masked = [m for m in typesetting.catalog_math(CATALOG.cards) if r"\boxed{\;?\;}" in m[0]]
    assert len(masked) > 300  # the formulas of complete-the-formula questions
    for math in masked:
        formula = typeset.get(math)
        assert formula is not None, math
        assert 'notation="box"' in formula, math
        assert r"\boxed" not in formula, math


def test_the_stylesheet_draws_every_character_the_formulas_use(typeset: TypesetMath) -> None:
    characters = set().union(*(CHARACTER.findall(formula) for formula in typeset.html.values()))
    assert len(characters) > 200
    for code, variant in characters:
        rule = f"mjx-c.mjx-c{code}{'.' + variant if variant else ''}::before"
        assert rule in typeset.stylesheet, rule
    fonts = re.findall(r'src: url\("([^"]+)"\)', typeset.stylesheet)
    assert fonts
    assert all(font.startswith(typesetting.FONT_URL + "/MathJax_") for font in fonts)
    assert all(
        (typesetting.MATHJAX_DIR / font.split("/mathjax-3.2.2/")[1]).exists() for font in fonts
    )


def test_a_changed_formula_is_typeset_at_the_next_load(
    settings: Settings, formulas_dir: Path
) -> None:
    settings = settings.model_copy(update={"formulas_dir": formulas_dir})
    engine = make_engine(settings)
    prepare(settings, engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        before = session.scalars(select(CatalogVersion)).one()
        digest, fingerprint = before.math_digest, before.fingerprint
    softmax = formulas_dir / "activations" / "softmax.md"
    softmax.write_text(softmax.read_text().replace(r"\exp(z_k / T)}", r"e^{z_k / T}}"))
    prepare(settings, engine)
    with sessions() as session:
        after = session.scalars(select(CatalogVersion)).one()
        assert after.math_digest != digest
        assert after.fingerprint != fingerprint  # pages kept for the old formulas go
        typeset = typesetting.stored(session)
    engine.dispose()
    assert typeset is not None
    new = r"y_k = \frac{e^{z_k / T}}{\sum_{j=1}^{K} \exp(z_j / T)}"
    assert typeset.get((new, True)) is not None
    assert "mjx-msup" in typeset.get((new, True))


def test_an_unchanged_catalog_is_not_typeset_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(settings)
    prepare(settings, engine)

    def must_not_run(*_arguments: object) -> None:
        raise AssertionError("typeset again")

    monkeypatch.setattr(typesetting, "_typeset", must_not_run)
    with make_session_factory(engine)() as session:
        math = typesetting.catalog_math(CATALOG.cards)
        assert not typesetting.update(session, math, settings.node)
    engine.dispose()


@pytest.mark.parametrize(
    ("node", "reason"),
    [
        ("/nonexistent/node", "No such file"),
        ("false", "formulas will be typeset in the browser"),  # fails, saying nothing
        ("echo", "Expecting value"),  # says something that is not the reply
    ],
)
def test_when_node_fails_it_is_logged_and_nothing_is_typeset(
    node: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.typesetting"):
        assert typesetting._run_mathjax(node, [("x^2", False)], "digest") is None
    assert reason in caplog.text


def test_a_formula_that_cannot_be_typeset_is_left_to_the_browser_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = (r"\require{nosuchpackage} y", False)
    with caplog.at_level(logging.WARNING, logger="app.typesetting"):
        typeset = typesetting._run_mathjax("node", [("x^2", False), broken], "digest")
    assert typeset is not None
    assert typeset.get(("x^2", False)) is not None
    assert typeset.get(broken) is None
    assert "1 formula(s) left to the browser" in caplog.text
    assert "nosuchpackage" in caplog.text


def test_without_node_the_catalog_loads_and_nothing_is_typeset(settings: Settings) -> None:
    settings = settings.model_copy(update={"node": ""})
    engine = make_engine(settings)
    report = prepare(settings, engine)
    with make_session_factory(engine)() as session:
        assert typesetting.stored(session) is None
    engine.dispose()
    assert len(report.added) == len(CATALOG.cards)
