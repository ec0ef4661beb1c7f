"""HTML that is the same for every learner, rendered once per catalog content and language.

The catalog's cards and card pages depend only on the catalog, the language and the URL.
Each entry is kept under the catalog's fingerprint, read on every request (one small
query), so a `koshiki load` that changes a card is seen by the next request of every
worker and instance; the old entries are dropped at once.
"""

from collections.abc import Callable, Hashable
from threading import Lock

from sqlalchemy.orm import Session

from app import catalog


class PageCache:
    def __init__(self) -> None:
        self._fingerprint: catalog.Fingerprint | None = None
        self._pages: dict[Hashable, str] = {}
        self._lock = Lock()  # request threads share it

    def get(self, session: Session, key: Hashable, render: Callable[[], str]) -> str:
        """The HTML kept under `key` for the current catalog, rendered by `render` if none.

        Keys must come from a bounded set (card ids that exist, languages), never from
        arbitrary request text, or the cache would grow with every new URL.
        """
        fingerprint = catalog.fingerprint(session)
        with self._lock:
            if fingerprint != self._fingerprint:
                self._fingerprint, self._pages = fingerprint, {}
            page = self._pages.get(key)
        if page is None:
            page = render()  # outside the lock: two threads may render it, both the same
            with self._lock:
                if fingerprint == self._fingerprint:
                    self._pages[key] = page
        return page
