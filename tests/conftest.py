"""Shared fixtures: every test gets its own app on its own temporary SQLite database."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    database: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server on 127.0.0.1, on its own database, for the whole run."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("server")
    TEST_OUTPUT.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    log = (TEST_OUTPUT / f"server-{worker}.log").open("w")  # kept for diagnosis
    environment = {**os.environ, "KOSHIKI_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/formulas", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"server did not start: {process.stderr.read().decode()}"
                ) from None
            time.sleep(0.2)
    yield LiveServer(url, data_dir / "koshiki.sqlite3")
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
