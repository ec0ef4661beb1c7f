"""The printable formula sheet: every card's title, main formula and legend, dense on A4."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import catalog
from app.web.deps import LanguageDep, SessionDep, known_categories
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
    selected = known_categories(session, category or [])
    categories = catalog.categories_with_formulas(session, legends=True)
    chosen = catalog.choose(categories, selected)
    return render(
        request,
        "sheet.html",
        lang=lang,
        categories=categories,
        chosen=chosen,
        selected=selected,
    )
