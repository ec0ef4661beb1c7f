"""Error responses: JSON under /api, a page elsewhere; never a stack trace."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from app.calculators import InvalidInput
from app.db import DatabaseBusy, is_lock_timeout
from app.web.deps import get_language


def invalid_input_detail(error: InvalidInput) -> list[dict[str, object]]:
    """The same shape as FastAPI's own 422 detail, so clients handle one format."""
    return [{"type": "value_error", "loc": ["body", *error.field.split(".")], "msg": error.reason}]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


async def _invalid_input(_request: Request, error: InvalidInput) -> Response:
    return JSONResponse({"detail": invalid_input_detail(error)}, status_code=422)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )
    language = get_language(request.cookies.get("lang"))
    return request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"lang": language, "status": error.status_code, "message": error.detail},
        status_code=error.status_code,
        headers=error.headers,
    )


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    detail = [
        {key: value for key, value in item.items() if key in ("type", "loc", "msg")}
        for item in error.errors()
    ]
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=422)
    message = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
    return await _http_error(request, HTTPException(422, message))


BUSY = HTTPException(
    503, "The database is busy: try again in a moment.", headers={"Retry-After": "5"}
)


async def _busy(request: Request, _error: DatabaseBusy) -> Response:
    return await _http_error(request, BUSY)


async def _database_error(request: Request, error: OperationalError) -> Response:
    if not is_lock_timeout(error):
        raise error  # a server error after all: logged, and a plain 500
    return await _http_error(request, BUSY)


def install(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DatabaseBusy, _busy)
    app.add_exception_handler(OperationalError, _database_error)
