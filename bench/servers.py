"""Real uvicorn servers on 127.0.0.1 for the benchmarks, each on its own temporary data."""

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from app.config import PROJECT_ROOT
from tests.processes import free_port, responds, stop, uvicorn_command, wait_until

KOSHIKI = ["app.main:create_app", "--factory"]
BARE = ["bench.bare:app"]


@contextmanager
def uvicorn(app: list[str], workers: int = 1, ready_path: str = "/healthz") -> Iterator[str]:
    """Serve `app` with plain uvicorn settings (no access log) and yield its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="koshiki-bench-") as data_dir:
        process = subprocess.Popen(
            [*uvicorn_command(app, port, workers), "--no-access-log", "--log-level", "warning"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "KOSHIKI_DATA_DIR": data_dir},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: responds(url + ready_path), 120, f"the server for {url}", process)
            yield url
        finally:
            stop(process)
