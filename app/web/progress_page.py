"""The learner's progress page, recovery, export, import, deletion and the Anki deck."""

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from app import anki, catalog, progress
from app.models import Formula, Learner
from app.web.deps import LanguageDep, SessionDep, WriterSessionDep, known_categories
from app.web.learners import (
    COOKIE,
    CsrfProtected,
    LearnerDep,
    cookie_header,
    learner_id_from_recovery_key,
    recovery_key,
    serializer,
)
from app.web.pages import render
from app.web.progress_charts import category_plot, daily_plot, due_plot, weekly_plot
from app.web.quiz import category_bars, ensure_learner

router = APIRouter(include_in_schema=False)
MAX_IMPORT_BYTES = 5 * 1024 * 1024


@router.get("/progress", response_class=HTMLResponse)
def progress_page(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
    message: str = "",
) -> Response:
    """Accuracy by category and week, answers per day, what is due, weakest cards, recovery key."""
    stats = progress.progress(session, learner_id, progress.now())
    titles = progress.card_titles(session, [row[0] for row in stats.weakest])
    asked = Counter({score.category_id: score.answered for score in stats.categories})
    right = Counter({score.category_id: score.correct for score in stats.categories})
    return render(
        request,
        "progress.html",
        lang=lang,
        stats=stats,
        titles=titles,
        recovery_key=recovery_key(learner_id),
        message=message[:200],
        plots=[
            category_plot(category_bars(session, asked, right, lang)),
            daily_plot(stats),
            weekly_plot(stats),
            due_plot(stats),
        ],
        categories=catalog.categories_with_formulas(session),
    )


def _with_learner_cookie(request: Request, response: Response, learner_id: str) -> Response:
    settings = request.app.state.settings
    signer = serializer(settings.signing_key())
    response.headers.append(
        "set-cookie", cookie_header(signer, learner_id, settings.secure_cookies)
    )
    return response


@router.post("/progress/recover", dependencies=[CsrfProtected])
def recover(
    request: Request, session: SessionDep, key: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Resume the learner whose recovery key this is, on this device."""
    learner_id = learner_id_from_recovery_key(key)
    if learner_id is None or session.get(Learner, learner_id) is None:
        raise HTTPException(422, "key: not a recovery key of any learner")
    return _with_learner_cookie(request, RedirectResponse("/progress", status_code=303), learner_id)


@router.get("/progress/export")
def export(session: SessionDep, learner_id: LearnerDep) -> Response:
    """All data held about this learner, as JSON."""
    data = progress.export_data(session, learner_id)
    return JSONResponse(
        data.model_dump(mode="json"),
        headers={"Content-Disposition": 'attachment; filename="koshiki-progress.json"'},
    )


@router.post(
    "/progress/import", dependencies=[CsrfProtected], max_body_size=MAX_IMPORT_BYTES + 64 * 1024
)
async def import_progress(
    session: WriterSessionDep, learner_id: LearnerDep, file: UploadFile
) -> Response:
    """Merge an exported progress file into this learner."""
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise HTTPException(413, "file: larger than 5 MiB")
    try:
        data = progress.Export.model_validate(json.loads(raw))
        ensure_learner(session, learner_id)
        added = progress.import_data(session, learner_id, data)
    except (ValueError, ValidationError, KeyError, TypeError) as error:
        session.rollback()
        reason = str(error).splitlines()[0][:300]
        raise HTTPException(422, f"file: not a Koshiki progress export ({reason})") from None
    session.commit()
    return RedirectResponse(f"/progress?message=imported+{added}+answers", status_code=303)


@router.post("/progress/delete", dependencies=[CsrfProtected])
def delete(
    session: WriterSessionDep,
    learner_id: LearnerDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Delete every answer, review and quiz of this learner."""
    if confirm != "yes":
        raise HTTPException(422, "confirm: tick the box to confirm the deletion")
    progress.delete_learner(session, learner_id)
    session.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/export/anki")
def anki_deck(
    session: SessionDep, category: Annotated[list[str] | None, Query(max_length=50)] = None
) -> Response:
    """An Anki deck (.apkg) of every card, or of the chosen categories."""
    statement = select(Formula).order_by(Formula.category_id, Formula.id)
    if category:
        statement = statement.where(Formula.category_id.in_(known_categories(session, category)))
    formulas = list(session.scalars(statement))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "koshiki.apkg"
        anki.write_deck(formulas, path)
        content = path.read_bytes()
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="koshiki.apkg"'},
    )
