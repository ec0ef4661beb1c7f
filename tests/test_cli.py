"""The `koshiki` command, and a server that refuses to start with a bad card."""

import http.client
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.catalog import CatalogError
from app.cli import main
from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_OUTPUT, WORKER, scalar
from tests.processes import koshiki_serve
from tests.web.test_quiz import answer_all, start


def break_sigmoid(formulas_dir: Path) -> None:
    path = formulas_dir / "activations" / "sigmoid.md"
    path.write_text(path.read_text().replace("\nsymbols:", "\nsymbolz:"))


def test_check_passes_on_the_shipped_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "all valid" in capsys.readouterr().out


def test_check_fails_naming_the_file_and_field(
    formulas_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    break_sigmoid(formulas_dir)
    monkeypatch.setenv("KOSHIKI_FORMULAS_DIR", str(formulas_dir))
    assert main(["check"]) == 1
    error = capsys.readouterr().err
    assert "sigmoid.md" in error
    assert "symbols" in error


def use_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the command at the test's own database, as its environment would."""
    monkeypatch.setenv("KOSHIKI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KOSHIKI_DATABASE_URL", settings.database_url)


@pytest.mark.databases
def test_load_reports_what_changed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_database(settings, monkeypatch)
    assert main(["load"]) == 0
    assert main(["load"]) == 0
    assert "0 added, 0 updated, 0 removed" in capsys.readouterr().out.splitlines()[-1]


def test_the_app_refuses_to_start_with_a_bad_card(tmp_path: Path, formulas_dir: Path) -> None:
    break_sigmoid(formulas_dir)
    app = create_app(Settings(data_dir=tmp_path / "data", formulas_dir=formulas_dir))
    with pytest.raises(CatalogError, match=r"sigmoid\.md"), TestClient(app):
        pass


def test_serve_exits_before_listening_when_a_card_is_bad(
    tmp_path: Path, formulas_dir: Path
) -> None:
    break_sigmoid(formulas_dir)
    environment = {
        **os.environ,
        "KOSHIKI_DATA_DIR": str(tmp_path / "data"),
        "KOSHIKI_FORMULAS_DIR": str(formulas_dir),
    }
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.exit(main())",
            "serve",
            "--port",
            "8799",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert "sigmoid.md" in finished.stderr
    assert "ready" not in finished.stdout


@pytest.mark.databases
def test_export_anki_writes_a_deck_of_the_chosen_category(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_database(settings, monkeypatch)
    deck = tmp_path / "cnn.apkg"
    assert main(["export-anki", str(deck), "--category", "cnn"]) == 0
    with zipfile.ZipFile(deck) as archive:
        assert "collection.anki2" in archive.namelist()
        collection = tmp_path / "collection.anki2"
        collection.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(collection) as db:
        titles = [row[0].split("\x1f")[0] for row in db.execute("select flds from notes")]
    assert titles
    assert any("畳み込み" in title or "Convolution" in title for title in titles)


def test_export_anki_refuses_an_unknown_category_naming_the_option(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_database(settings, monkeypatch)
    deck = tmp_path / "deck.apkg"
    assert main(["export-anki", str(deck), "--category", "cnn", "--category", "nope"]) == 1
    assert "--category: no category has the id 'nope'" in capsys.readouterr().err
    assert not deck.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--workers", "0"),
        ("--workers", "-2"),
        ("--workers", "two"),
        ("--port", "99999"),
        ("--keep-alive", "0"),
    ],
)
def test_serve_refuses_a_bad_worker_count_or_port_naming_the_option(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", option, value])
    assert exited.value.code == 2
    assert f"argument {option}: expected a whole number from 1 to" in capsys.readouterr().err


def test_serve_closes_a_connection_idle_for_its_keep_alive(tmp_path: Path) -> None:
    log = TEST_OUTPUT / f"server-{WORKER}-keep-alive.log"
    serving = koshiki_serve(tmp_path / "data", "--keep-alive", "2", log=log, KOSHIKI_NODE="")
    with serving as (url, _):
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
        for idle in (0, 1):  # within the keep-alive: the same connection serves again
            time.sleep(idle)
            connection.request("GET", "/healthz")
            assert connection.getresponse().read()
        answered = time.monotonic()
        assert connection.sock.recv(1) == b""  # closed by the server
        assert 1.5 < time.monotonic() - answered < 4
        connection.close()


def test_backup_copies_every_answer_while_the_app_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    use_database(settings, monkeypatch)
    copy = tmp_path / "koshiki-backup.sqlite3"
    copy.write_text("yesterday's backup")  # replaced
    with TestClient(create_app(settings)) as learner:
        answer_all(learner, start(learner, seed=7, count=4, kind="name"))
        assert main(["backup", str(copy)]) == 0
    assert capsys.readouterr().out.strip() == f"backed up to {copy} (learners: 1, answers: 4)"
    with closing(sqlite3.connect(copy)) as restored:
        assert restored.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", copy.name]

    elsewhere = Settings(data_dir=tmp_path / "restored")
    elsewhere.data_dir.mkdir()
    copy.rename(elsewhere.sqlite_file)
    with TestClient(create_app(elsewhere)) as restored:
        assert restored.get("/healthz").json()["status"] == "ok"
    assert scalar(elsewhere.database_url, "select count(*) from answers") == 4


@pytest.mark.parametrize(
    ("database", "output", "error"),
    [
        (
            "sqlite:///{tmp}/none.sqlite3",
            "{tmp}/copy",
            "there is no database at {tmp}/none.sqlite3",
        ),
        (
            "sqlite:///{tmp}/data.sqlite3",
            "{tmp}/nowhere/copy",
            "there is no directory {tmp}/nowhere",
        ),
        ("sqlite:///{tmp}/data.sqlite3", "{tmp}/copy", "the database is empty"),
        ("sqlite:///{tmp}/other.sqlite3", "{tmp}/copy", "has no table 'learners'"),
        ("postgresql+psycopg://u@127.0.0.1/k", "{tmp}/copy", "use pg_dump for PostgreSQL"),
    ],
)
def test_backup_refuses_clearly_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database: str,
    output: str,
    error: str,
) -> None:
    (tmp_path / "data.sqlite3").touch()
    with closing(sqlite3.connect(tmp_path / "other.sqlite3")) as other:
        other.execute("create table notes (text)")  # not Koshiki's
    monkeypatch.setenv("KOSHIKI_DATABASE_URL", database.format(tmp=tmp_path))
    assert main(["backup", output.format(tmp=tmp_path)]) == 1
    assert error.format(tmp=tmp_path) in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.sqlite3", "other.sqlite3"]
