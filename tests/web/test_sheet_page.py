"""The printable formula sheet, as the server renders it."""

import html
import re

from fastapi.testclient import TestClient

from app.catalog import read_catalog
from app.config import Settings
from tests.conftest import typeset_html

CARDS = [card for card, _digest in read_catalog(Settings().formulas_dir).cards]


def sheet_card_ids(page: str) -> list[str]:
    return re.findall(r'<section class="sheet-card" id="card-([a-z0-9-]+)"', page)


def test_sheet_has_every_card_with_all_its_formula_lines_and_legend(
    readonly_client: TestClient,
) -> None:
    response = readonly_client.get("/sheet")
    assert response.status_code == 200
    page = response.text
    assert sorted(sheet_card_ids(page)) == sorted(card.id for card in CARDS)
    assert page.count('class="sheet-equation"') == sum(len(card.latex) for card in CARDS)
    legend = re.findall(r'<ul class="sheet-legend">(.*?)</ul>', page, re.DOTALL)
    assert sum(block.count("<li>") for block in legend) == sum(len(c.symbols) for c in CARDS)
    softmax = next(card for card in CARDS if card.id == "softmax")
    assert softmax.title.ja in page
    assert typeset_html(readonly_client, (softmax.latex[0], True)) in page
    assert "js/sheet.js" in page  # fits wide formulas and says when the sheet is ready


def test_sheet_has_no_calculators_and_the_nav_links_to_it(readonly_client: TestClient) -> None:
    page = readonly_client.get("/sheet").text
    assert 'class="calculator"' not in page
    assert "hx-post" not in page
    assert 'method="post"' not in page
    assert '<a href="/sheet">数式シート</a>' in readonly_client.get("/").text


def test_sheet_of_chosen_categories_in_english(client: TestClient) -> None:
    client.get("/language/en")
    response = client.get("/sheet", params={"category": ["optimizers", "cnn"]})
    assert response.status_code == 200
    page = response.text
    chosen = [card for card in CARDS if card.category in ("optimizers", "cnn")]
    assert sorted(sheet_card_ids(page)) == sorted(card.id for card in chosen)
    assert f"{len(chosen)} cards" in page
    assert all(html.escape(card.title.en) in page for card in chosen)
    assert "Formula sheet" in page
    assert 'value="optimizers" checked' in page
    assert 'value="cnn" checked' in page
    assert 'value="rnn" checked' not in page


def test_too_many_categories_is_a_422(readonly_client: TestClient) -> None:
    response = readonly_client.get("/sheet", params={"category": ["cnn"] * 51})
    assert response.status_code == 422
    assert "category" in response.text
