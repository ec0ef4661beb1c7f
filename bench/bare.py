"""The baselines for the benchmarks: a bare FastAPI app with no middleware and no database.

For bench/load.py, one POST of comparable JSON work: it validates a list of numbers with
pydantic and answers with them as outputs and as a step, the shape of a calculation, but
computes nothing. For bench/pages.py, a blank page with Koshiki's security headers: its
Cross-Origin-Opener-Policy alone makes Chromium start the first page of a new browser
context in a process of its own (20 to 30 ms here), and each page pays that.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from app.web.security import HEADERS

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


@app.get("/blank")
def blank() -> HTMLResponse:
    return HTMLResponse(BLANK_PAGE, headers=HEADERS)
