"""Shared fixtures: every test gets its own app on its own temporary database.

The database is SQLite. Tests marked `databases` run once on SQLite and once on PostgreSQL:
the server named by KOSHIKI_TEST_POSTGRES_URL (a superuser's URL; `scripts/test` starts a
throw-away cluster and sets it), or else a throw-away cluster started here by
`scripts/postgres-cluster`. Each PostgreSQL test gets a database of its own, dropped after.
"""

import os
import secrets
import shutil
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.markdown import Math
from tests.processes import free_port, responds, stop, uvicorn_command, wait_until

TEST_OUTPUT = PROJECT_ROOT / "test-output"
BACKENDS = ("sqlite", "postgresql")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
STARTED = "Application startup complete"
"""What uvicorn logs once a worker has run the app's startup (migrated, loaded the catalog)."""

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests marked `databases` on every backend, the others on SQLite."""
    if "backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("databases") is not None
        metafunc.parametrize("backend", BACKENDS if marked else BACKENDS[:1], indirect=True)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on (always parametrized, so every fixture instance is
    shared by all the tests on the same backend)."""
    return request.param


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL superuser, on a server that holds nothing worth keeping."""
    url = os.environ.get("KOSHIKI_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    started = subprocess.run(
        [PROJECT_ROOT / "scripts" / "postgres-cluster", "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(
            "no PostgreSQL for the tests marked `databases`: set KOSHIKI_TEST_POSTGRES_URL "
            f"or install postgresql ({started.stderr.strip()})"
        )
    folder, url = started.stdout.split()
    yield url
    subprocess.run([PROJECT_ROOT / "scripts" / "postgres-cluster", "stop", folder], check=False)


@contextmanager
def database_url(request: pytest.FixtureRequest, backend: str) -> Iterator[str]:
    """A fresh, empty database on `backend`, dropped afterwards; "" is SQLite's default file."""
    if backend == "sqlite":
        yield ""
        return
    server = make_url(request.getfixturevalue("postgres_server"))
    name = f"koshiki_{WORKER}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@dataclass(frozen=True)
class LogState:
    pages: int
    """Pages in an SQLite database's log (its WAL)."""
    copied: int
    """How many of them a checkpoint has copied back into the database file."""


def log_state(database: Path) -> LogState:
    """Read from the log's index (the -shm file) without taking any of the database's locks:
    mxFrame and nBackfill (https://sqlite.org/walformat.html)."""
    index = (database.parent / f"{database.name}-shm").read_bytes()
    return LogState(
        pages=struct.unpack_from("=I", index, 16)[0], copied=struct.unpack_from("=I", index, 96)[0]
    )


def scalar(url: str, sql: str) -> Any:
    """One value read straight from the database at `url`, bypassing the app."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Settings]:
    with database_url(request, backend) as url:
        yield Settings(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def readonly_client(
    tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    """One app per module, for tests that only read: the catalog is loaded once."""
    with database_url(request, backend) as url:
        settings = Settings(data_dir=tmp_path_factory.mktemp("data"), database_url=url)
        with TestClient(create_app(settings)) as test_client:
            yield test_client


def typeset_html(client: TestClient, math: Math) -> str | None:
    """The formula as the app's server typeset it for its pages, if it did."""
    with client.app.state.sessions() as session:
        typeset = client.app.state.page_cache.typeset(session)
    return typeset.get(math) if typeset else None


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """A real uvicorn server on 127.0.0.1, on its own database, for the whole run."""
    with database_url(request, backend) as url:
        data_dir = tmp_path_factory.mktemp("server")
        with live_server(Settings(data_dir=data_dir, database_url=url), backend) as running:
            yield running


@contextmanager
def live_server(settings: Settings, name: str, workers: int = 1) -> Iterator[LiveServer]:
    """uvicorn serving the app with `settings` on a free port, its log in test-output/."""
    port = free_port()
    TEST_OUTPUT.mkdir(exist_ok=True)
    log_path = TEST_OUTPUT / f"server-{WORKER}-{name}.log"  # kept for diagnosis
    environment = {
        **os.environ,
        "KOSHIKI_DATA_DIR": str(settings.data_dir),
        "KOSHIKI_DATABASE_URL": settings.database_url,
        "KOSHIKI_NODE": settings.node,
    }
    command = uvicorn_command(["app.main:create_app", "--factory"], port, workers)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def started() -> bool:
        return responds(f"{url}/api/formulas") and log_path.read_text().count(STARTED) >= workers

    try:
        wait_until(started, 60, f"the server (log: {log_path})", process)
        yield LiveServer(url, settings.database_url)
    finally:
        stop(process)
