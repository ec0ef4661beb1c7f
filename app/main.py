"""The application factory."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import partial

from fastapi import FastAPI
from sqlalchemy import Engine

from app import catalog, typesetting
from app.config import Settings
from app.db import Checkpointer, make_engine, make_session_factory, schema_change, upgrade
from app.web import api, errors, health, pages, playground, progress_page, quiz, sheet_page
from app.web.learners import LearnerCookie
from app.web.page_cache import PageCache
from app.web.security import DEFAULT_BODY_LIMIT, SecurityHeaders
from app.web.static import ImmutableStaticFiles
from app.web.templating import STATIC_DIR, make_templates


def prepare(settings: Settings, engine: Engine) -> catalog.SyncReport:
    """Migrate the schema, load the catalog and typeset its formulas; raises CatalogError
    naming any bad card.

    Safe when several workers or instances start at once: they take turns (`schema_change`),
    and whoever comes second finds the schema current, every card unchanged and the
    formulas typeset.
    """
    checked = catalog.read_catalog(settings.formulas_dir)  # slow: before the lock
    # So is reading the cards' formulas, needed only to typeset them.
    math = typesetting.catalog_math(checked.cards) if settings.node else None
    with schema_change(engine) as session:
        upgrade(session)
        report = catalog.sync_catalog(session, checked)
        if math is not None:
            typesetting.update(session, math, settings.node)
        return report


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    writer_sessions = make_session_factory(engine, writer=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.prepare_on_startup:
            prepare(settings, engine)
        # What is loaded by now (modules, the app, its templates) lives as long as the
        # process: kept out of the collector's full passes, which took 100 ms each and
        # stalled every request in flight. Unfrozen at shutdown, so it can be freed.
        gc.freeze()
        with Checkpointer(engine) if settings.is_sqlite else nullcontext():
            yield
        gc.unfreeze()
        engine.dispose()

    app = FastAPI(
        title="Koshiki",
        summary="Deep-learning formula cards with live calculators",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=DEFAULT_BODY_LIMIT,
        docs_url=None,  # served by pages.docs from our own static files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.writer_sessions = writer_sessions
    app.state.templates = make_templates()
    app.state.page_cache = PageCache()
    app.mount("/static", ImmutableStaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(playground.api_router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(quiz.router)
    app.include_router(playground.router)
    app.include_router(progress_page.router)
    app.include_router(sheet_page.router)
    app.add_middleware(
        LearnerCookie, signing_key=settings.signing_key(), secure=settings.secure_cookies
    )
    app.add_middleware(SecurityHeaders)  # outermost: even a 413 or 500 gets the headers
    errors.install(app)
    app.openapi = partial(api.openapi_schema, app)  # type: ignore[method-assign]
    return app
