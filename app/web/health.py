"""Health check for load balancers and the container's HEALTHCHECK."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.models import Formula
from app.web.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> JSONResponse:
    """`ok` with the number of cards when the database answers; 503 when it does not."""
    try:
        formulas = session.scalar(select(func.count()).select_from(Formula))
    except SQLAlchemyError as error:
        return JSONResponse({"status": "unavailable", "detail": type(error).__name__}, 503)
    return JSONResponse({"status": "ok", "formulas": formulas})
