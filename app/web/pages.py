"""HTML pages: the catalog, a card with its live calculator, the language switch, API docs."""

from collections.abc import Callable, Hashable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from app import calculators, catalog, progress, search
from app.cards import LANGUAGES, Language
from app.models import Formula
from app.typesetting import TypesetMath
from app.web.deps import LANGUAGE_COOKIE, LanguageDep, SessionDep, formula_or_404
from app.web.forms import field_of, form_fields, initial_texts, parse_form
from app.web.learners import LearnerDep
from app.web.static import IMMUTABLE
from app.web.templating import SWAGGER_CSS, SWAGGER_JS

router = APIRouter(include_in_schema=False)
A_YEAR = 365 * 24 * 3600


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, template, {"typeset": typeset(request), **context}, status_code=status_code
    )


def render_text(request: Request, template: str, **context: Any) -> str:
    page = request.app.state.templates.get_template(template)
    return page.render(request=request, typeset=typeset(request), **context)


def typeset(request: Request) -> TypesetMath | None:
    """The catalog's formulas as the server typeset them, which templates show as they are."""
    with request.app.state.sessions() as session:
        return request.app.state.page_cache.typeset(session)


def cached(request: Request, session: Session, key: Hashable, render: Callable[[], str]) -> str:
    return request.app.state.page_cache.get(session, key, render)


@router.get("/", response_class=HTMLResponse)
def catalog_page(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    learner_id: LearnerDep,
    q: Annotated[str, Query(max_length=search.MAX_QUERY_LENGTH)] = "",
) -> Response:
    """Every card grouped by category, or the cards matching a search; and what is due."""
    query = q.strip()
    results = catalog.formulas_by_id(session, search.search(session, query)) if query else None
    listing = None if query else Markup(catalog_listing(request, session, lang))
    due = len(progress.due_cards(session, learner_id, progress.now()))
    return render(
        request, "catalog.html", lang=lang, q=query, results=results, listing=listing, due=due
    )


def catalog_listing(request: Request, session: Session, lang: Language) -> str:
    """Every category with its cards, as the catalog page lists them."""
    return cached(
        request,
        session,
        ("catalog", lang),
        lambda: render_text(
            request,
            "_catalog_sections.html",
            lang=lang,
            categories=catalog.categories_with_formulas(session),
        ),
    )


def calculator_state(formula: Formula, texts: dict[str, str] | None = None) -> dict[str, Any]:
    """Form texts, field errors and the result for the card's calculator.

    `texts` are what the learner typed; without them the card's worked example is used.
    """
    calculator = calculators.get(formula.calculator or "")
    if calculator is None:
        return {"calculator": None}
    example = (formula.example or {}).get("inputs")
    texts = texts if texts is not None else initial_texts(calculator, example)
    inputs, errors = parse_form(calculator, texts)
    result = plot = None
    if inputs is not None:
        try:
            result = calculator.run(inputs)
        except calculators.InvalidInput as error:
            errors = {field_of(error): error.reason}
    if result is not None and calculator.plot is not None:
        plot = calculator.plot(inputs, result)
    known = {field.name for field in form_fields(calculator)}
    return {
        "calculator": calculator,
        "fields": form_fields(calculator),
        "texts": texts,
        "errors": {name: message for name, message in errors.items() if name in known},
        "general_error": next((m for n, m in errors.items() if n not in known), None),
        "result": result,
        "plot": plot,
    }


@router.get("/formulas/{formula_id}", response_class=HTMLResponse)
def formula_page(
    formula_id: str, request: Request, session: SessionDep, lang: LanguageDep
) -> Response:
    """A card: formula, legend, live calculator, variants, notes, mistakes, sources."""

    def page() -> str:
        formula = formula_or_404(session, formula_id)
        state = calculator_state(formula)
        return render_text(request, "formula.html", lang=lang, formula=formula, **state)

    if request.url.query:  # the page links back to its own URL: keep only the plain one
        return HTMLResponse(page())
    return HTMLResponse(cached(request, session, ("card", formula_id, lang), page))


async def _recomputed(
    formula_id: str, request: Request, session: SessionDep, lang: LanguageDep, template: str
) -> Response:
    """`template` rendered with the calculator recomputed from the posted form."""
    formula = formula_or_404(session, formula_id)
    form = await request.form()
    texts = {name: value for name, value in form.items() if isinstance(value, str)}
    state = calculator_state(formula, texts)
    return render(
        request,
        template,
        status_code=_status(state),
        lang=lang,
        formula=formula,
        live=template == "_result.html",
        **state,
    )


@router.post("/formulas/{formula_id}", response_class=HTMLResponse)
async def formula_page_submitted(
    formula_id: str, request: Request, session: SessionDep, lang: LanguageDep
) -> Response:
    """The card page recomputed from a plain form post (works without JavaScript)."""
    return await _recomputed(formula_id, request, session, lang, "formula.html")


@router.post("/formulas/{formula_id}/result", response_class=HTMLResponse)
async def calculator_result(
    formula_id: str, request: Request, session: SessionDep, lang: LanguageDep
) -> Response:
    """Only the result and the field messages, for live updates as the learner types."""
    return await _recomputed(formula_id, request, session, lang, "_result.html")


def _status(state: dict[str, Any]) -> int:
    return 422 if state.get("errors") or state.get("general_error") else 200


@router.get("/language/{language}")
def switch_language(language: str, next: str = "/") -> Response:
    """Remember the interface language in a cookie, then go back to the page."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=A_YEAR, samesite="lax", httponly=True
        )
    return response


@router.get("/math.css")
def math_stylesheet(
    session: SessionDep, request: Request, v: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The stylesheet of the formulas typeset on the server: kept for a year under the
    version its URL names (`typeset.version`), checked again under any other."""
    typeset = request.app.state.page_cache.typeset(session)
    if typeset is None:
        raise HTTPException(404, "No formulas are typeset on the server.")
    cache = IMMUTABLE if v == typeset.version else "no-cache"
    return Response(typeset.stylesheet, media_type="text/css", headers={"Cache-Control": cache})


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """Swagger UI for the API, from our own static files (works offline)."""
    return render(
        request,
        "api_docs.html",
        openapi_url=request.app.openapi_url,
        SWAGGER_JS=SWAGGER_JS,
        SWAGGER_CSS=SWAGGER_CSS,
    )
