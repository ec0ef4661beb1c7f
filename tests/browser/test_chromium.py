"""Headless Chromium over its DevTools pipe: print when the page says so, never hang."""

import os
import threading
import time

import pytest

from app.chromium import ChromiumError, ChromiumTimeout, find_chromium, print_pdf

pytestmark = pytest.mark.browser

PAGE = "data:text/html,<p>Koshiki</p>"


def test_prints_once_the_page_is_ready() -> None:
    pdf = print_pdf(find_chromium(), PAGE, cookies={}, ready="Promise.resolve(null)", timeout=60)
    assert pdf.startswith(b"%PDF-")


def test_a_problem_reported_by_the_page_is_raised() -> None:
    with pytest.raises(ChromiumError, match=r"^2 formula"):
        print_pdf(
            find_chromium(), PAGE, cookies={}, ready="Promise.resolve('2 formula')", timeout=60
        )


def test_a_page_that_never_gets_ready_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(ChromiumTimeout, match="not ready to print within 8 s"):
        print_pdf(find_chromium(), PAGE, cookies={}, ready="new Promise(() => {})", timeout=8)
    assert time.monotonic() - started < 30


def test_chromium_starts_without_running_python_between_fork_and_exec() -> None:
    # What runs there is at the mercy of locks other threads held at the fork, and `koshiki
    # sheet` has threads. An at-fork hook stands for such code: it would end the child.
    armed = threading.Event()
    os.register_at_fork(after_in_child=lambda: os._exit(70) if armed.is_set() else None)
    armed.set()
    try:
        pdf = print_pdf(
            find_chromium(), PAGE, cookies={}, ready="Promise.resolve(null)", timeout=60
        )
    finally:
        armed.clear()
    assert pdf.startswith(b"%PDF-")
