"""The optimizer playground: the page, its live plot, and the JSON twin under /api."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from app.playground.race import PlaygroundInputs, race
from app.playground.surfaces import SurfaceId
from app.web.charts.playground import race_plot
from app.web.deps import LanguageDep
from app.web.pages import render
from app.web.playground_form import default_surface, field_groups, parse, texts_of

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])


def playground_state(texts: dict[str, str]) -> dict[str, Any]:
    """Form texts, field errors, and the race with its plot when the inputs are valid."""
    inputs, errors = parse(texts)
    surface = inputs.surface if inputs else default_surface(texts)
    shown = texts_of(inputs or PlaygroundInputs(surface=surface))
    typed = {name: text for name, text in texts.items() if text.strip() and name in shown}
    result = race(inputs) if inputs else None
    groups = field_groups(surface)
    known = {field.name for group in groups for field in group.fields}
    return {
        "surface": surface,
        "surfaces": list(SurfaceId),
        "groups": groups,
        "texts": {**shown, **typed},
        "errors": {name: message for name, message in errors.items() if name in known},
        "general_error": next((m for n, m in errors.items() if n not in known), None),
        "race": result,
        "plot": race_plot(result) if result else None,
    }


def _texts(request: Request) -> dict[str, str]:
    return dict(request.query_params)


@router.get("/playground", response_class=HTMLResponse)
def playground_page(request: Request, lang: LanguageDep) -> Response:
    """Six optimizers side by side on a 2-D loss surface (a plain GET form without JavaScript)."""
    state = playground_state(_texts(request))
    status = 422 if state["errors"] or state["general_error"] else 200
    return render(request, "playground.html", status_code=status, lang=lang, **state)


@router.get("/playground/plot", response_class=HTMLResponse)
def playground_plot(request: Request, lang: LanguageDep) -> Response:
    """Only the plots, the legend and the field messages, for live updates."""
    state = playground_state(_texts(request))
    status = 422 if state["errors"] or state["general_error"] else 200
    response = render(
        request, "_playground_result.html", status_code=status, lang=lang, live=True, **state
    )
    response.headers["HX-Replace-Url"] = f"/playground?{request.url.query}"
    return response


class PathOut(BaseModel):
    optimizer: str
    hyper_parameters: dict[str, float]
    points: list[tuple[float, float]]
    """The start, then the parameters after each step taken."""
    losses: list[float]
    diverged_at: int | None
    """The step that left the plotted box or overflowed; null when every step was taken."""


class RaceOut(BaseModel):
    surface: str
    formula: str
    box: tuple[float, float, float, float]
    """x_min, x_max, y_min, y_max of the plotted region."""
    minimum: tuple[float, float]
    start: tuple[float, float]
    steps: int
    paths: list[PathOut]


@api_router.post(
    "/playground",
    response_model=RaceOut,
    responses={400: {"description": "The body is not valid JSON"}},
)
def run_playground(inputs: PlaygroundInputs) -> dict[str, Any]:
    """Race SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam from one start on one surface.

    At most 500 steps each; a path stops at the step that leaves the plotted box. Bad input
    gets a 422 whose `detail` names the field and the reason.
    """
    result = race(inputs)
    box = result.surface.box
    return {
        "surface": result.surface.id.value,
        "formula": result.surface.formula,
        "box": (box.x_min, box.x_max, box.y_min, box.y_max),
        "minimum": result.surface.minimum,
        "start": result.start,
        "steps": result.steps,
        "paths": [vars(path) for path in result.paths],
    }
