"""Shared fixtures: every test gets its own app on its own temporary SQLite database."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from app.config import PROJECT_ROOT, Settings
from app.main import create_app

TEST_OUTPUT = PROJECT_ROOT / "test-output"

# No per-example deadline: these machines are shared, and a slow first call (imports,
# torch warm-up) says nothing about the calculator.
hypothesis_settings.register_profile("koshiki", deadline=None, max_examples=100)
hypothesis_settings.load_profile("koshiki")


@pytest.fixture
def formulas_dir(tmp_path: Path) -> Path:
    """A private copy of formulas/, for tests that add, break or remove cards."""
    copy = tmp_path / "formulas"
    shutil.copytree(PROJECT_ROOT / "formulas", copy)
    return copy


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def readonly_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app per module, for tests that only read: the catalog is loaded once."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT
