"""`koshiki sheet` refuses bad arguments, and a missing Chromium, with a clear message."""

from pathlib import Path

import pytest

from app import chromium
from app.cli import main
from app.config import Settings


@pytest.fixture
def data_dir(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KOSHIKI_DATA_DIR", str(settings.data_dir))
    return settings.data_dir


@pytest.mark.usefixtures("data_dir")
def test_unknown_category_is_refused_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "sheet.pdf"
    assert main(["sheet", str(output), "--category", "cnn", "--category", "nope"]) == 1
    error = capsys.readouterr().err
    assert "--category: no category has the id 'nope'" in error
    assert "optimizers" in error  # the known ones are listed
    assert not output.exists()


def test_unknown_language_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["sheet", str(tmp_path / "sheet.pdf"), "--language", "fr"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


@pytest.mark.usefixtures("data_dir")
def test_missing_output_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sheet", str(tmp_path / "missing" / "sheet.pdf")]) == 1
    assert "output: the folder" in capsys.readouterr().err


@pytest.mark.usefixtures("data_dir")
def test_missing_chromium_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chromium, "FALLBACK", tmp_path / "no-chromium")
    output = tmp_path / "sheet.pdf"
    assert main(["sheet", str(output)]) == 1
    error = capsys.readouterr().err
    assert "Chromium is needed to print the sheet" in error
    assert "apt-get install chromium" in error
    assert not output.exists()
