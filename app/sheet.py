"""The formula sheet as a PDF: the app served on a loopback port, `/sheet` printed by Chromium."""

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI

from app import catalog, chromium
from app.cards import Language
from app.config import Settings
from app.main import create_app
from app.web.deps import LANGUAGE_COOKIE

TIMEOUT_SECONDS = 300.0
"""For the whole print: about 20 s on an idle two-core machine, 90 s on a busy one."""
SHUTDOWN_SECONDS = 10
"""How long the server serving Chromium may take to finish its requests once printed."""

# Resolves once the sheet is laid out: static/js/sheet.js marks <html data-sheet="ready"> once
# every formula is typeset (on the server, or by MathJax). Then the fonts must be in. It
# resolves to null when every formula rendered, else to what went wrong.
SHEET_READY = """
new Promise((resolve) => {
  const root = document.documentElement;
  const ready = () => root.dataset.sheet === "ready";
  if (ready()) return resolve();
  new MutationObserver((_, observer) => {
    if (ready()) { observer.disconnect(); resolve(); }
  }).observe(root, { attributes: true, attributeFilter: ["data-sheet"] });
})
  .then(() => document.fonts.ready)
  .then(() => {
    const errors = document.querySelectorAll("mjx-merror");
    return errors.length ? `${errors.length} formula(s) failed to typeset` : null;
  })
"""


class SheetError(Exception):
    """The sheet cannot be made: a bad argument, no Chromium, or a page that did not render."""


def write_sheet(
    settings: Settings, output: Path, categories: Sequence[str], language: Language
) -> int:
    """Print the sheet of the chosen categories (all when none) to `output`; the cards printed."""
    try:
        browser = chromium.find_chromium()
    except chromium.ChromiumError as error:
        raise SheetError(str(error)) from None
    if not output.parent.is_dir():
        raise SheetError(f"output: the folder {output.parent} does not exist")
    app = create_app(settings)
    with serving(app) as base_url:
        with app.state.sessions() as session:
            try:
                chosen = catalog.choose(
                    catalog.categories_with_formulas(session, legends=True), categories
                )
            except catalog.UnknownCategory as error:
                raise SheetError(f"--category: {error}") from None
            count = sum(len(category.formulas) for category in chosen)
        query = urlencode({"category": list(categories)}, doseq=True)
        url = f"{base_url}/sheet?{query}" if query else f"{base_url}/sheet"
        try:
            pdf = chromium.print_pdf(
                browser,
                url,
                cookies={LANGUAGE_COOKIE: language},
                ready=SHEET_READY,
                timeout=TIMEOUT_SECONDS,
            )
        except chromium.ChromiumError as error:
            raise SheetError(f"printing {url} failed: {error}") from None
    output.write_bytes(pdf)
    return count


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # bound here, so no other process can take the port
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="error", timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="koshiki-sheet", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SheetError("the app did not start: see the messages above")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(2 * SHUTDOWN_SECONDS)  # a daemon: a server stuck in shutdown ends with us
        listener.close()
