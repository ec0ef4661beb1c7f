"""The baseline for bench/load.py: a bare FastAPI app with one POST of comparable JSON work.

It validates a list of numbers with pydantic and answers with them as outputs and as a
step, the shape of a calculation, but computes nothing and has no middleware.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


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
