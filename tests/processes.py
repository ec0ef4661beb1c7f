"""Starting, waiting for and stopping the servers that tests and benchmarks run on 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import PROJECT_ROOT
from app.serving import PROTOCOL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def responds(url: str) -> bool:
    """Whether a GET of `url` gets a 2xx answer within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def wait_until(
    ready: Callable[[], bool],
    seconds: float,
    what: str,
    process: subprocess.Popen | None = None,
) -> None:
    """Poll `ready` until it holds; fail after `seconds`, or at once if `process` exits."""
    deadline = time.monotonic() + seconds
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen, seconds: float = 15) -> None:
    """Ask the process to finish; kill it if it has not within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()


def uvicorn_command(app: list[str], port: int, workers: int) -> list[str]:
    """uvicorn serving `app` on 127.0.0.1 as `koshiki serve` does, with `workers` processes."""
    return [
        sys.executable, "-m", "uvicorn", *app,
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--http", PROTOCOL,
    ]  # fmt: skip


@contextmanager
def koshiki_serve(
    data_dir: Path,
    *options: str,
    log: Path,
    cwd: Path = PROJECT_ROOT,
    seconds: float = 60,
    **environment: str,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`koshiki serve` on a free port of 127.0.0.1 with its data in `data_dir`, its output in
    `log`: yields its URL and process once /healthz answers, and stops it after the block."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *options]
    env = {**os.environ, "KOSHIKI_DATA_DIR": str(data_dir), **environment}
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until(lambda: responds(f"{url}/healthz"), seconds, f"the server (log: {log})", process)
        yield url, process
    finally:
        stop(process)
