"""Real uvicorn servers on 127.0.0.1 for the benchmarks, each on its own temporary data."""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from app.config import PROJECT_ROOT
from tests.conftest import free_port
from tests.processes import stop

KOSHIKI = ["app.main:create_app", "--factory"]
BARE = ["bench.bare:app"]


@contextmanager
def uvicorn(app: list[str], workers: int = 1, ready_path: str = "/healthz") -> Iterator[str]:
    """Serve `app` with plain uvicorn settings (no access log) and yield its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="koshiki-bench-") as data_dir:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", *app,
                "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--no-access-log", "--log-level", "warning",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, "KOSHIKI_DATA_DIR": data_dir},
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(process, url + ready_path)
            yield url
        finally:
            stop(process)


def _wait_until_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server for {url} did not start") from None
            time.sleep(0.2)
