"""Headless Chromium driven over the DevTools protocol on a pipe: open a page, print it to PDF.

`--remote-debugging-pipe` makes Chromium read JSON commands on its fd 3 and answer on its
fd 4, each message ending in a NUL byte: no port to pick, no websocket library, and the
page can be asked to finish its own work (typeset its math) before it is printed.
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
FALLBACK = Path("/usr/bin/chromium")
_MOVE_PIPE_AND_EXEC = 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null'
"""Run by /bin/sh: Chromium ($0, with its options) reading commands from the shell's stdin on
fd 3 and answering on fd 4, where `--remote-debugging-pipe` expects them."""


class ChromiumError(Exception):
    """Chromium is missing, exited, or refused a command."""


class ChromiumTimeout(ChromiumError):
    """Chromium did not answer before the deadline."""


def find_chromium() -> Path:
    found = shutil.which("chromium")
    if found:
        return Path(found)
    if FALLBACK.exists():
        return FALLBACK
    raise ChromiumError(
        "Chromium is needed to print the sheet and was not found on PATH or at "
        f"{FALLBACK}: install it (apt-get install chromium)"
    )


class Browser:
    """One headless Chromium process and its DevTools pipe."""

    def __init__(self, commands: BinaryIO, replies: int, deadline: float) -> None:
        self._commands = commands
        self._replies = replies
        self._buffer = b""
        self._last_id = 0
        self._events: list[str] = []
        self._deadline = deadline

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command (to a page's `session`, or to the browser) and return its result."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._commands.write(json.dumps(message).encode() + b"\0")
        self._commands.flush()
        while True:
            reply = self._next_message(method)
            if reply.get("id") != self._last_id:
                self._events.append(reply.get("method", ""))
                continue
            if "error" in reply:
                raise ChromiumError(f"Chromium refused {method}: {reply['error'].get('message')}")
            return reply["result"]

    def wait_for(self, event: str) -> None:
        """Return once `event` has fired (it may have while waiting for a reply)."""
        while event not in self._events:
            self._events.append(self._next_message(event).get("method", ""))

    def _next_message(self, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = self._deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(remaining, 0))
            if not ready:
                raise ChromiumTimeout(f"Chromium did not finish {waiting_for} in time")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise ChromiumError(f"Chromium exited during {waiting_for}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


@contextmanager
def launch(chromium: Path, timeout: float) -> Iterator[Browser]:
    """Headless Chromium with a throwaway profile, answering within `timeout` seconds in all."""
    commands_read, commands_write = os.pipe()
    replies_read, replies_write = os.pipe()
    with (
        tempfile.TemporaryDirectory(prefix="koshiki-chromium-") as profile,
        open(commands_write, "wb") as commands,
        open(replies_read, "rb", buffering=0) as replies,
    ):
        try:
            # The pipe goes in as the shell's stdin and stdout, which subprocess connects
            # without running Python in the child; the shell moves it onto fds 3 and 4. A
            # preexec_fn doing the move could deadlock the child whenever this process has
            # other threads (the subprocess documentation warns of it), and `koshiki sheet`
            # serves the app from one.
            process = subprocess.Popen(
                ["/bin/sh", "-c", _MOVE_PIPE_AND_EXEC, str(chromium), *FLAGS,
                 "--remote-debugging-pipe", f"--user-data-dir={profile}"],
                stdin=commands_read,
                stdout=replies_write,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            os.close(commands_read)
            os.close(replies_write)
        try:
            yield Browser(commands, replies.fileno(), time.monotonic() + timeout)
        finally:
            commands.close()  # Chromium exits when its command pipe closes
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def print_pdf(
    chromium: Path,
    url: str,
    *,
    cookies: dict[str, str],
    ready: str,
    timeout: float,
) -> bytes:
    """`url` printed to PDF once the JavaScript promise `ready` resolves (to null).

    If `ready` resolves to a string, that is a problem on the page: it is raised instead.
    Page size and margins come from the page's own `@page` rule.
    """
    with launch(chromium, timeout) as browser:
        target = browser.call("Target.createTarget", url="about:blank")
        page = browser.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        session = page["sessionId"]
        for name, value in cookies.items():
            browser.call("Network.setCookie", session, name=name, value=value, url=url, path="/")
        browser.call("Page.enable", session)
        browser.call("Page.navigate", session, url=url)
        try:
            browser.wait_for("Page.loadEventFired")
            outcome = browser.call(
                "Runtime.evaluate", session, expression=ready, awaitPromise=True, returnByValue=True
            )
        except ChromiumTimeout:
            raise ChromiumTimeout(f"the page was not ready to print within {timeout:g} s") from None
        if "exceptionDetails" in outcome:
            raise ChromiumError(f"the page failed: {outcome['exceptionDetails'].get('text')}")
        problem = outcome["result"].get("value")
        if problem:
            raise ChromiumError(problem)
        printed = browser.call(
            "Page.printToPDF",
            session,
            preferCSSPageSize=True,
            printBackground=False,
            displayHeaderFooter=False,
        )
    return base64.b64decode(printed["data"])
