"""Loading formulas/ into the database: idempotent, all or nothing, searchable."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import catalog, search
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, make_session_factory, migrate, transaction
from app.models import Formula, Symbol

pytestmark = pytest.mark.databases


@pytest.fixture
def sessions(settings: Settings):
    engine = make_engine(settings)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def load(sessions, formulas_dir: Path) -> catalog.SyncReport:
    with transaction(sessions) as session:
        return catalog.load(session, formulas_dir)


def count(sessions, model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_reloading_an_unchanged_catalog_writes_nothing(sessions, formulas_dir: Path) -> None:
    first = load(sessions, formulas_dir)
    second = load(sessions, formulas_dir)
    assert len(first.added) == second.unchanged >= 12
    assert second.added == second.updated == second.removed == []


def test_an_edited_card_is_updated_and_a_removed_file_removes_its_card(
    sessions,
    formulas_dir: Path,
) -> None:
    load(sessions, formulas_dir)
    softmax = formulas_dir / "activations" / "softmax.md"
    softmax.write_text(softmax.read_text().replace("Softmax with temperature", "Softmax (T)"))
    (formulas_dir / "optimizers" / "sgd.md").unlink()
    report = load(sessions, formulas_dir)
    assert report.updated == ["softmax"]
    assert report.removed == ["sgd"]
    with sessions() as session:
        assert catalog.get_formula(session, "softmax").title_en == "Softmax (T)"
        assert catalog.get_formula(session, "sgd") is None
        assert "sgd" not in search.search(session, "SGD")  # gone from the search index too


def fingerprint(sessions) -> str:
    with sessions() as session:
        return catalog.fingerprint(session)


def test_the_fingerprint_changes_with_a_card_or_a_category_and_with_nothing_else(
    sessions, formulas_dir: Path
) -> None:
    assert fingerprint(sessions) == ""  # migrated, never loaded
    load(sessions, formulas_dir)
    first = fingerprint(sessions)
    load(sessions, formulas_dir)
    assert fingerprint(sessions) == first
    softmax = formulas_dir / "activations" / "softmax.md"
    softmax.write_text(softmax.read_text().replace("Softmax with temperature", "Softmax (T)"))
    load(sessions, formulas_dir)
    edited = fingerprint(sessions)
    categories = formulas_dir / "categories.yaml"
    categories.write_text(categories.read_text().replace("Optimizers", "Optimisers", 1))
    load(sessions, formulas_dir)
    assert len({first, edited, fingerprint(sessions)}) == 3


def test_a_failed_load_leaves_the_previous_catalog_intact(sessions, formulas_dir: Path) -> None:
    load(sessions, formulas_dir)
    before = (count(sessions, Formula), count(sessions, Symbol))
    (formulas_dir / "optimizers" / "sgd.md").unlink()
    broken = formulas_dir / "activations" / "sigmoid.md"
    broken.write_text(broken.read_text().replace("category: activations", "category: nowhere"))
    with pytest.raises(catalog.CatalogError) as caught:
        load(sessions, formulas_dir)
    assert "sigmoid.md: category" in str(caught.value)
    assert (count(sessions, Formula), count(sessions, Symbol)) == before


def test_every_problem_is_reported_not_only_the_first(formulas_dir: Path) -> None:
    for name in ("sigmoid", "softmax"):
        path = formulas_dir / "activations" / f"{name}.md"
        path.write_text(path.read_text().replace("\nsymbols:", "\nsymbolz:"))
    with pytest.raises(catalog.CatalogError) as caught:
        catalog.read_catalog(formulas_dir)
    assert len(caught.value.problems) == 2


def test_a_wrong_worked_example_fails_the_check(formulas_dir: Path) -> None:
    path = formulas_dir / "cnn" / "conv-output-size.md"
    text = path.read_text()
    front = text.split("---")[1]
    expected = front.split("output_size:")[1].split("}")[0].strip()
    path.write_text(text.replace(f"output_size: {expected}", f"output_size: {int(expected) + 1}"))
    with pytest.raises(catalog.CatalogError) as caught:
        catalog.read_catalog(formulas_dir)
    problem = caught.value.problems[0]
    assert problem.field == "example.outputs.output_size"
    assert "the calculator gives" in problem.reason


def test_every_card_in_the_seed_coverage_table_exists() -> None:
    readme = (PROJECT_ROOT / "formulas" / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Coverage of the seed notes")[1]
    last_cells = re.findall(r"\|([^|]*)\|[ \t]*$", table, re.MULTILINE)
    named = {card for cell in last_cells for card in re.findall(r"`([a-z0-9-]+)`", cell)}
    cards = {path.stem for path in (PROJECT_ROOT / "formulas").glob("*/*.md")}
    assert len(named) > 100
    assert named <= cards
