"""HTML that is the same for every learner, rendered once per catalog content and language,
and the catalog's formulas as the server typeset them.

The catalog's cards and card pages depend only on the catalog, the language and the URL.
Each entry is kept under the catalog's fingerprint, read on every request (one small
query), so a `koshiki load` that changes a card is seen by the next request of every
worker and instance; the old entries are dropped at once.
"""

from collections.abc import Callable, Hashable
from threading import Lock

from sqlalchemy.orm import Session

from app import catalog, typesetting
from app.typesetting import TypesetMath


class _NotRead:
    """Not yet read for the current catalog (None is read: nothing typeset)."""


NOT_READ = _NotRead()


class PageCache:
    def __init__(self) -> None:
        self._fingerprint: catalog.Fingerprint | None = None
        self._pages: dict[Hashable, str] = {}
        self._typeset: TypesetMath | _NotRead | None = NOT_READ
        self._lock = Lock()  # request threads share it

    def typeset(self, session: Session) -> TypesetMath | None:
        """The formulas typeset for the current catalog, read once per catalog."""
        fingerprint = self._current(session)
        with self._lock:
            typeset = self._typeset
        if isinstance(typeset, _NotRead):
            typeset = typesetting.stored(session)
            with self._lock:
                if fingerprint == self._fingerprint:
                    self._typeset = typeset
        return typeset

    def _current(self, session: Session) -> catalog.Fingerprint:
        """The catalog's fingerprint, having dropped all that was kept for an older one."""
        fingerprint = catalog.fingerprint(session)
        with self._lock:
            if fingerprint != self._fingerprint:
                self._fingerprint, self._pages, self._typeset = fingerprint, {}, NOT_READ
        return fingerprint

    def get(self, session: Session, key: Hashable, render: Callable[[], str]) -> str:
        """The HTML kept under `key` for the current catalog, rendered by `render` if none.

        Keys must come from a bounded set (card ids that exist, languages), never from
        arbitrary request text, or the cache would grow with every new URL.
        """
        fingerprint = self._current(session)
        with self._lock:
            page = self._pages.get(key)
        if page is None:
            page = render()  # outside the lock: two threads may render it, both the same
            with self._lock:
                if fingerprint == self._fingerprint:
                    self._pages[key] = page
        return page
