"""Stopping the servers that tests and benchmarks start."""

import subprocess


def stop(process: subprocess.Popen, seconds: float = 15) -> None:
    """Ask the process to finish; kill it if it has not within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
