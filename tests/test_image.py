"""The container image, checked without Docker (CI machines have no daemon to build it):
the files its Dockerfile copies are enough to load the catalog and serve, and it runs as a
user of its own behind a health check."""

import json
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from app.config import PROJECT_ROOT
from tests.conftest import TEST_OUTPUT, WORKER
from tests.processes import koshiki_serve, responds

DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def instructions(name: str) -> list[list[str]]:
    """The arguments of each of the Dockerfile's `name` instructions, in order."""
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    arguments = [line.removeprefix(f"{name} ") for line in lines if line.startswith(f"{name} ")]
    return [json.loads(a) if a.startswith("[") else shlex.split(a) for a in arguments]


def copy_as_the_image_does(root: Path) -> None:
    """Each COPY: files into a target ending in '/', a directory's contents into its target."""
    for *sources, target in instructions("COPY"):
        for source in map(PROJECT_ROOT.joinpath, sources):
            if source.is_dir():
                shutil.copytree(source, root / target, dirs_exist_ok=True)
            else:
                (root / target).mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root / target / source.name)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_the_files_the_image_copies_are_enough_to_serve(tmp_path: Path) -> None:
    root = tmp_path / "app"
    copy_as_the_image_does(root)
    imported = subprocess.run(
        [sys.executable, "-c", "import app; print(app.__file__)"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(imported.stdout.strip()).is_relative_to(root)  # not the checkout's

    log = TEST_OUTPUT / f"server-{WORKER}-image.log"  # kept for diagnosis
    with koshiki_serve(tmp_path / "data", log=log, cwd=root, seconds=120) as (url, _):  # its CMD
        cards = len(list((PROJECT_ROOT / "formulas").glob("*/*.md")))
        assert f'"formulas":{cards}' in get(f"{url}/healthz").replace(" ", "")
        page = get(f"{url}/formulas/softmax")
        assert "mjx-container" in page  # typeset by the server, with the image's Node.js
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
        assert assets
        assert all(responds(url + asset) for asset in assets)


def test_the_container_runs_as_its_own_user_behind_a_health_check() -> None:
    assert [user for (user,) in instructions("USER")] == ["koshiki"]
    (check,) = instructions("HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in " ".join(check)
    (command,) = instructions("CMD")
    assert command[:2] == ["koshiki", "serve"]
    assert command[command.index("--port") + 1] == "8000"
