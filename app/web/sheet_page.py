"""The printable formula sheet: every card's title, main formula and legend, dense on A4."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import catalog
from app.web.deps import LanguageDep, SessionDep
from app.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/sheet", response_class=HTMLResponse)
def sheet(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    category: Annotated[list[str] | None, Query(max_length=50)] = None,
) -> Response:
    """Every card, or those of the chosen categories, as a formula sheet to print."""
    selected = category or []
    categories = catalog.categories_with_formulas(session, legends=True)
    try:
        chosen = catalog.choose(categories, selected)
    except catalog.UnknownCategory as error:
        raise HTTPException(422, f"category: {error}") from None
    return render(
        request,
        "sheet.html",
        lang=lang,
        categories=categories,
        chosen=chosen,
        selected=selected,
    )
