"""The JSON API: formula cards and calculators."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ValidationError

from app import calculators, catalog, search
from app.calculators import Calculator
from app.calculators.types import MAX_ELEMENTS, Inputs
from app.models import Formula
from app.web.deps import SessionDep, calculator_or_404, formula_or_404
from app.web.security import DEFAULT_BODY_LIMIT

router = APIRouter(prefix="/api", tags=["api"])


class Problem(BaseModel):
    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No card or calculator has this id"}
}
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not UTF-8 text"},
    413: {
        "description": (
            f"The body is over {DEFAULT_BODY_LIMIT} bytes, the limit of every endpoint: "
            f"{MAX_ELEMENTS} numbers fit when written with up to 14 characters each"
        ),
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
}


class Title(BaseModel):
    ja: str
    en: str


class FormulaSummary(BaseModel):
    id: str
    title: Title
    category: str
    tags: list[str]
    calculator: str | None


class SymbolOut(BaseModel):
    latex: str
    ja: str
    en: str


class FormulaDetail(FormulaSummary):
    syllabus: dict[str, str]
    latex: list[str]
    symbols: list[SymbolOut]
    source: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    wrong_forms: list[dict[str, Any]]
    example: dict[str, Any] | None
    notes: Title
    mistakes: Title


class CalculatorInfo(BaseModel):
    id: str
    inputs: dict[str, Any]
    """JSON Schema of the inputs."""
    outputs: list[str]


class StepOut(BaseModel):
    label: str
    value: Any


class Calculation(BaseModel):
    id: str
    outputs: dict[str, Any]
    steps: list[StepOut]


def summary(formula: Formula) -> dict[str, Any]:
    return {
        "id": formula.id,
        "title": {"ja": formula.title_ja, "en": formula.title_en},
        "category": formula.category_id,
        "tags": [tag.name for tag in formula.tags],
        "calculator": formula.calculator,
    }


def detail(formula: Formula) -> dict[str, Any]:
    return {
        **summary(formula),
        "syllabus": {"area": formula.syllabus_area, "status": formula.syllabus_status},
        "latex": formula.latex,
        "symbols": [
            {"latex": s.latex, "ja": s.meaning_ja, "en": s.meaning_en} for s in formula.symbols
        ],
        "source": formula.source,
        "variants": formula.variants,
        "wrong_forms": formula.wrong_forms,
        "example": formula.example,
        "notes": {"ja": formula.notes_ja, "en": formula.notes_en},
        "mistakes": {"ja": formula.mistakes_ja, "en": formula.mistakes_en},
    }


SearchQuery = Annotated[
    str | None,
    Query(max_length=search.MAX_QUERY_LENGTH, description="Words that every card must match"),
]


@router.get("/formulas", response_model=list[FormulaSummary])
def list_formulas(session: SessionDep, q: SearchQuery = None) -> list[dict[str, Any]]:
    """All formula cards in catalog order, or those matching the search `q`, best first."""
    if q is not None and q.strip():
        formulas = catalog.formulas_by_id(session, search.search(session, q))
    else:
        formulas = [f for c in catalog.categories_with_formulas(session) for f in c.formulas]
    return [summary(formula) for formula in formulas]


@router.get("/formulas/{formula_id}", response_model=FormulaDetail, responses=NOT_FOUND)
def get_formula(formula_id: str, session: SessionDep) -> dict[str, Any]:
    """One formula card in full: LaTeX, legend, sources, notes and worked example."""
    return detail(formula_or_404(session, formula_id))


def calculator_info(calculator: Calculator) -> dict[str, Any]:
    return {
        "id": calculator.id,
        "inputs": calculator.input_schema,
        "outputs": list(calculator.outputs),
    }


@router.get("/calculators", response_model=list[CalculatorInfo])
def list_calculators() -> list[dict[str, Any]]:
    """Every calculator with the JSON Schema of its inputs and the names of its outputs."""
    return [calculator_info(calculator) for calculator in calculators.all_calculators()]


@router.get("/calculators/{calculator_id}", response_model=CalculatorInfo, responses=NOT_FOUND)
def describe_calculator(calculator_id: str) -> dict[str, Any]:
    """One calculator: the JSON Schema of its inputs and the names of its outputs."""
    return calculator_info(calculator_or_404(calculator_id))


def calculation(calculator: Calculator, inputs: Inputs) -> dict[str, Any]:
    result = calculator.run(inputs)
    return {
        "id": calculator.id,
        "outputs": result.outputs,
        "steps": [{"label": step.label, "value": step.value} for step in result.steps],
    }


calculation_docs = APIRouter(prefix="/api", tags=["api"])
"""One POST operation per calculator, for the OpenAPI schema only (see `openapi_schema`).

Requests are served by `calculate`, one route for every id: with a route each, a post was
matched against every calculator's path in turn, and so was every page request after it.
"""


def _document_calculation(calculator: Calculator) -> None:
    def calculate_one(inputs: calculator.input_model) -> dict[str, Any]:  # type: ignore[name-defined]
        return calculation(calculator, inputs)

    calculation_docs.add_api_route(
        f"/calculators/{calculator.id}",
        calculate_one,
        methods=["POST"],
        response_model=Calculation,
        responses=UNREADABLE_BODY,
        summary=f"Compute {calculator.id}",
        description=(
            f"Outputs: {', '.join(calculator.outputs)}. Invalid input gets a 422 whose "
            "`detail` names the field and the reason; that includes what JSON Schema cannot "
            "say, such as matching shapes, equal row lengths or at most "
            f"{MAX_ELEMENTS} numbers in a matrix."
        ),
        operation_id=f"calculate_{calculator.id.replace('-', '_')}",
    )


for _calculator in calculators.all_calculators():
    _document_calculation(_calculator)


def validated_inputs(calculator: Calculator, body: Any) -> Inputs:
    """The body as the calculator's inputs; a 422 like FastAPI's own when it is not."""
    try:
        return calculator.input_model.model_validate(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_url=False)]
        ) from None


@router.post("/calculators/{calculator_id}", response_model=Calculation, include_in_schema=False)
def calculate(calculator_id: str, body: Annotated[Any, Body()]) -> dict[str, Any]:
    """Every calculator's POST (documented one by one in `calculation_docs`)."""
    calculator = calculator_or_404(calculator_id)
    return calculation(calculator, validated_inputs(calculator, body))


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI schema, with an operation for each calculator's POST."""
    if app.openapi_schema is None:
        app.openapi_schema = get_openapi(
            title=app.title,
            summary=app.summary,
            version=app.version,
            routes=[*app.routes, *calculation_docs.routes],
        )
    return app.openapi_schema
