"""Calculators: small NumPy functions with validated inputs, named outputs and steps.

They import nothing from the web or the database, so pages, the API, quizzes and
`koshiki check` all call the very same functions.
"""

from app.calculators.registry import Calculator, all_calculators, calculator, get
from app.calculators.types import InvalidInput, Result, Step

__all__ = ["Calculator", "InvalidInput", "Result", "Step", "all_calculators", "calculator", "get"]
