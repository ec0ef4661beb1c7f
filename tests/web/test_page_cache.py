"""Pages kept rendered: the same as freshly rendered, and never stale after a catalog load."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import catalog
from app.config import Settings
from app.db import transaction
from app.main import create_app


@pytest.fixture
def editable_client(settings: Settings, formulas_dir: Path) -> Iterator[TestClient]:
    """An app serving a private copy of formulas/, which a test may edit and load again."""
    edited = settings.model_copy(update={"formulas_dir": formulas_dir})
    with TestClient(create_app(edited)) as test_client:
        yield test_client


def reload_catalog(client: TestClient, formulas_dir: Path) -> catalog.SyncReport:
    """What `koshiki load` does, from outside the running app."""
    with transaction(client.app.state.writer_sessions) as session:
        return catalog.load(session, formulas_dir)


@pytest.mark.databases
def test_an_edited_card_shows_on_the_next_request(
    editable_client: TestClient, formulas_dir: Path
) -> None:
    editable_client.cookies.set("lang", "en")
    assert "Softmax with temperature" in editable_client.get("/formulas/softmax").text
    assert "Softmax with temperature" in editable_client.get("/").text
    softmax = formulas_dir / "activations" / "softmax.md"
    softmax.write_text(softmax.read_text().replace("Softmax with temperature", "Softmax at T"))
    assert reload_catalog(editable_client, formulas_dir).updated == ["softmax"]
    assert "Softmax at T" in editable_client.get("/formulas/softmax").text
    catalog_page = editable_client.get("/").text
    assert "Softmax at T" in catalog_page
    assert "Softmax with temperature" not in catalog_page


@pytest.mark.databases
def test_a_renamed_category_shows_on_the_catalog_page(
    editable_client: TestClient, formulas_dir: Path
) -> None:
    assert "活性化関数" in editable_client.get("/").text
    categories = formulas_dir / "categories.yaml"
    assert "活性化関数" in categories.read_text(), "the category titles live in categories.yaml"
    categories.write_text(categories.read_text().replace("活性化関数", "活性化の関数"))
    reload_catalog(editable_client, formulas_dir)
    assert "活性化の関数" in editable_client.get("/").text


def test_each_language_has_its_own_page(client: TestClient) -> None:
    assert '<html lang="ja">' in client.get("/formulas/adam").text
    client.cookies.set("lang", "en")
    assert '<html lang="en">' in client.get("/formulas/adam").text
    assert "Formula cards" in client.get("/").text


def test_a_page_with_a_query_string_is_never_served_to_the_plain_url(client: TestClient) -> None:
    """The language link goes back to the page's own URL, query included."""
    with_query = client.get("/formulas/adam", params={"from": "quiz"}).text
    assert "next=/formulas/adam%3Ffrom%3Dquiz" in with_query
    plain = client.get("/formulas/adam").text
    assert "next=/formulas/adam%3F" not in plain
    assert "next=/formulas/adam" in plain


def test_an_unknown_card_is_404_every_time(client: TestClient) -> None:
    assert client.get("/formulas/adam").status_code == 200
    for _ in range(2):
        assert client.get("/formulas/no-such-card").status_code == 404
