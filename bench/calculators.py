"""Time every calculator on the largest input its model allows.

The largest input is searched for, not written by hand: each card's worked example is
tiled k times along every dimension at once (so shapes that must match still match),
probability vectors and rows are rescaled to sum to one, whole-number settings are raised
to their maximum, and the largest k that the model accepts and the calculator computes,
within MAX_ELEMENTS numbers per input, wins. A variant with every real multiplied by 1000
checks large magnitudes. Each input is validated, computed and serialised as the API does
(FastAPI serialises a declared response model with pydantic's JSON encoder);
the median of --runs is reported.

    python -m bench.calculators [--runs 5] [--top 15] [--only ID ...]
"""

import argparse
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from app import calculators
from app.calculators import Calculator, InvalidInput
from app.calculators.types import MAX_ELEMENTS
from app.catalog import read_catalog
from app.config import Settings
from app.web.api import Calculation, calculation

TARGET_MS = 50.0
Inputs = dict[str, Any]


@dataclass(frozen=True)
class Timing:
    calculator: str
    numbers: int
    """How many numbers the input holds in all."""
    milliseconds: float
    note: str


def examples() -> dict[str, Inputs]:
    catalog = read_catalog(Settings().formulas_dir)
    return {
        card.calculator: card.example.inputs
        for card, _ in catalog.cards
        if card.calculator and card.example
    }


def _is_numeric_array(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    flat = np.asarray(value, dtype=object).ravel()
    return all(isinstance(item, int | float) and not isinstance(item, bool) for item in flat)


def _sums_to_one(array: np.ndarray) -> bool:
    return bool(np.all(array >= 0)) and math.isclose(float(array.sum()), 1.0, abs_tol=1e-6)


def _tiled(value: Any, k: int, rows_only: bool) -> Any:
    if not isinstance(value, list) or not value:
        return value
    if not _is_numeric_array(value) or np.ndim(value) > 2:
        if all(isinstance(item, str) for item in value):
            return value  # words and tokens are not tiled: many must stay distinct
        return value * k if np.ndim(value) == 1 else value
    array = np.asarray(value, dtype=float)
    integral = all(isinstance(item, int) for item in np.asarray(value, dtype=object).ravel())
    if array.ndim == 1:
        tiled = np.tile(array, k)
        if _sums_to_one(array):
            tiled = tiled / k
    else:
        tiled = np.tile(array, (k, 1) if rows_only else (k, k))
        if not rows_only and all(_sums_to_one(row) for row in array):
            tiled = tiled / k
        elif _sums_to_one(array):
            tiled = tiled / tiled.sum()
    return tiled.astype(int).tolist() if integral else tiled.tolist()


def _numbers(inputs: Inputs) -> int:
    return sum(int(np.size(value)) for value in inputs.values() if _is_numeric_array(value))


def _largest_input_count(inputs: Inputs) -> int:
    return max(
        (int(np.size(value)) for value in inputs.values() if _is_numeric_array(value)), default=1
    )


def _with_max_whole_numbers(calculator: Calculator, inputs: Inputs) -> Inputs:
    properties = calculator.input_schema["properties"]
    raised = dict(inputs)
    for name, prop in properties.items():
        if prop.get("type") == "integer" and "maximum" in prop:
            raised[name] = prop["maximum"]
    return raised


def _magnified(value: Any) -> Any:
    if isinstance(value, float):
        return value * 1000
    if isinstance(value, list):
        return [_magnified(item) for item in value]
    return value


def candidates(calculator: Calculator, example: Inputs) -> Iterator[tuple[Inputs, str]]:
    """Inputs from the largest down: whichever the calculator accepts first is the largest."""
    per_input = _largest_input_count(example)
    k_max = max(1, int(MAX_ELEMENTS / per_input))
    ks = sorted({k_max, *(k_max // 2**i for i in range(1, 12)), 1}, reverse=True)
    for k in (k for k in ks if k >= 1):
        for rows_only in (False, True):
            tiled = {name: _tiled(value, k, rows_only) for name, value in example.items()}
            if k > 1 and max(map(np.size, tiled.values()), default=0) > MAX_ELEMENTS:
                continue
            note = f"×{k}" + (" rows" if rows_only else "")
            raised = _with_max_whole_numbers(calculator, tiled)
            if raised != tiled:
                yield raised, note + ", whole numbers at max"
            yield tiled, note


RESPONSE = TypeAdapter(Calculation)


def compute(calculator: Calculator, raw: Inputs) -> bytes:
    """Validate, compute and serialise, as POST /api/calculators/{id} does."""
    result = calculation(calculator, calculator.parse(raw))
    return RESPONSE.dump_json(RESPONSE.validate_python(result))


def accepted(calculator: Calculator, raw: Inputs) -> bool:
    try:
        compute(calculator, raw)
    except (InvalidInput, ValueError, TypeError, OverflowError):
        return False
    return True


def median_ms(work: Callable[[], object], runs: int) -> float:
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        durations.append((time.perf_counter() - start) * 1000)
    return statistics.median(durations)


def worst_case(calculator: Calculator, example: Inputs, runs: int) -> Timing:
    largest = next(
        ((raw, note) for raw, note in candidates(calculator, example) if accepted(calculator, raw)),
        (example, "example only"),
    )
    timings = []
    for raw, note in (largest, (_magnified(largest[0]), largest[1] + ", reals ×1000")):
        if accepted(calculator, raw):
            timings.append(
                Timing(
                    calculator.id,
                    _numbers(raw),
                    median_ms(lambda raw=raw: compute(calculator, raw), runs),
                    note,
                )
            )
    return max(timings, key=lambda timing: timing.milliseconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--only", nargs="*", default=None)
    arguments = parser.parse_args()
    inputs = examples()
    results = [
        worst_case(calculator, inputs[calculator.id], arguments.runs)
        for calculator in calculators.all_calculators()
        if calculator.id in inputs and (not arguments.only or calculator.id in arguments.only)
    ]
    results.sort(key=lambda timing: timing.milliseconds, reverse=True)
    print(f"{len(results)} calculators, median of {arguments.runs} runs, target < {TARGET_MS} ms")
    print(f"| calculator | numbers in the input | input | median ms | < {TARGET_MS:g} ms |")
    print("|---|---:|---|---:|---|")
    for timing in results[: arguments.top]:
        ok = "yes" if timing.milliseconds < TARGET_MS else "**no**"
        print(
            f"| {timing.calculator} | {timing.numbers} | {timing.note} "
            f"| {timing.milliseconds:.1f} | {ok} |"
        )
    slow = [timing.calculator for timing in results if timing.milliseconds >= TARGET_MS]
    small = [timing.calculator for timing in results if timing.numbers < MAX_ELEMENTS // 4]
    print(f"\nover {TARGET_MS:g} ms: {', '.join(slow) or 'none'}")
    print(f"inputs under {MAX_ELEMENTS // 4} numbers (not scalable by tiling): {len(small)}")


if __name__ == "__main__":
    main()
