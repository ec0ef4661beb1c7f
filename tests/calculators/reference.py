"""Helpers for comparing calculators with their reference implementations."""

from typing import Any

import numpy as np
import torch

from app import calculators

torch.set_default_dtype(torch.float64)


def compute(calculator_id: str, **inputs: Any) -> dict[str, Any]:
    calculator = calculators.get(calculator_id)
    assert calculator is not None
    return calculator.run(calculator.parse(inputs)).outputs


def tensor(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Relative agreement; `atol` only absorbs rounding around zero (cancellation)."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol)
