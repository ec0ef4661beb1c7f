"""`koshiki sheet` prints the formula sheet to an A4 PDF through headless Chromium."""

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.cards import Card, Language
from app.catalog import read_catalog
from app.cli import main
from app.config import Settings
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

CARDS = [card for card, _digest in read_catalog(Settings().formulas_dir).cards]
A4_POINTS = (595.28, 841.89)
MARKUP = re.compile(r"[$`*_\\]")  # text with math or Markdown cannot be matched literally


def make_sheet(output: Path, *options: str) -> None:
    assert main(["sheet", str(output), *options]) == 0


def pdf_info(path: Path) -> dict[str, str]:
    report = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in report.stdout.splitlines() if ":" in line)


def pdf_text(path: Path) -> str:
    """The PDF's text in content order (column by column), ignoring how lines were broken."""
    text = subprocess.run(
        ["pdftotext", "-raw", path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return squeeze(text)


def squeeze(text: str) -> str:
    return re.sub(r"[\s\-‐]+", "", text)  # line breaks may fall at spaces or hyphens


def assert_a4(info: dict[str, str]) -> None:
    width, height = map(float, re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (width, height) == pytest.approx(A4_POINTS, abs=1)


def assert_cards_printed(text: str, cards: list[Card], language: Language) -> None:
    """Every card's title and every legend line that is plain text, in `language`."""
    titles = [card.title[language] for card in cards if not MARKUP.search(card.title[language])]
    legends = [
        getattr(symbol, language)
        for card in cards
        for symbol in card.symbols
        if not MARKUP.search(getattr(symbol, language))
    ]
    assert len(titles) > 0.9 * len(cards)
    assert len(legends) > len(cards)
    assert [title for title in titles if squeeze(title) not in text] == []
    assert [legend for legend in legends if squeeze(legend) not in text] == []


def assert_math_typeset(text: str) -> None:
    for raw in ("\\frac", "\\(", "\\[", "$", "\\mathrm", "Math input error"):
        assert raw not in text


def test_sheet_of_every_card_in_japanese(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path, test_output: Path
) -> None:
    monkeypatch.setenv("KOSHIKI_DATA_DIR", str(settings.data_dir))
    output = tmp_path / "sheet.pdf"
    make_sheet(output)

    info = pdf_info(output)
    assert_a4(info)
    assert 6 <= int(info["Pages"]) <= 30  # 131 cards in three columns, a card never split
    text = pdf_text(output)
    assert "数式シート131枚" in text
    assert_cards_printed(text, CARDS, "ja")
    assert_math_typeset(text)
    assert "Formulasheet" not in text
    assert "学習の記録" not in text  # no nav
    assert "ブラウザの印刷" not in text  # nor the category form and its help

    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            output,
            test_output / "sheet-page-1",
        ],
        check=True,
    )
    assert (test_output / "sheet-page-1.png").stat().st_size > 20_000


def test_sheet_of_chosen_categories_in_english(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    monkeypatch.setenv("KOSHIKI_DATA_DIR", str(settings.data_dir))
    output = tmp_path / "optimizers.pdf"
    make_sheet(output, "--category", "optimizers", "--category", "cnn", "--language", "en")

    info = pdf_info(output)
    assert_a4(info)
    assert 1 <= int(info["Pages"]) <= 4
    text = pdf_text(output)
    chosen = [card for card in CARDS if card.category in ("optimizers", "cnn")]
    assert f"Formulasheet{len(chosen)}cards" in text
    assert_cards_printed(text, chosen, "en")
    assert_math_typeset(text)
    others = [card for card in CARDS if card.category not in ("optimizers", "cnn")]
    assert [card.title.en for card in others if squeeze(card.title.en) in text] == []
    assert "数式シート" not in text


def test_printed_sheet_fits_every_formula_in_its_column(
    page: Page, server: LiveServer, test_output: Path
) -> None:
    page.goto(f"{server.url}/sheet?category=machine-learning&category=cnn")
    expect(page.locator("html")).to_have_attribute("data-sheet", "ready", timeout=60_000)
    assert page.locator("mjx-merror").count() == 0
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator(".sheet-controls")).to_be_hidden()
    equations = page.locator(".sheet-equation")
    assert equations.count() > 20
    for index in range(equations.count()):
        equation = equations.nth(index)
        formula = equation.locator("mjx-math").bounding_box()
        column = equation.bounding_box()
        assert formula is not None
        assert column is not None
        assert formula["width"] <= column["width"] + 0.5, equation.inner_text()
    page.screenshot(path=test_output / "sheet-print-media.png")
