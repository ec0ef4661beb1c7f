"""The baselines for the benchmarks: a bare FastAPI app with no middleware and no database.

For bench/load.py, one POST of comparable JSON work: it validates a list of numbers with
pydantic and answers with them as outputs and as a step, the shape of a calculation, but
computes nothing. For bench/pages.py, a blank page.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

app = FastAPI()

BLANK_PAGE = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Blank</title><p>Blank'


class Numbers(BaseModel):
    logits: list[float]
    temperature: float = 1.0


class Echo(BaseModel):
    id: str
    outputs: dict[str, Any]
    steps: list[dict[str, Any]]


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/echo", response_model=Echo)
def echo(numbers: Numbers) -> dict[str, Any]:
    scaled = [value / numbers.temperature for value in numbers.logits]
    return {
        "id": "echo",
        "outputs": {"probabilities": scaled},
        "steps": [{"label": "z / T", "value": scaled}],
    }


@app.get("/blank", response_class=HTMLResponse)
def blank() -> str:
    return BLANK_PAGE
