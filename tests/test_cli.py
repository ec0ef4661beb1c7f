"""The `koshiki` command, and a server that refuses to start with a bad card."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.catalog import CatalogError
from app.cli import main
from app.config import Settings
from app.main import create_app


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


def test_load_reports_what_changed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KOSHIKI_DATA_DIR", str(settings.data_dir))
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
