"""Properties every registered calculator must have."""

import math

import numpy as np
import pytest

from app import calculators

ALL = list(calculators.all_calculators())
PRACTICE = [calculator for calculator in ALL if calculator.sample is not None]


def test_most_calculators_can_pose_compute_questions() -> None:
    assert len(PRACTICE) >= 0.7 * len(ALL)


@pytest.mark.parametrize("calculator", ALL, ids=lambda c: c.id)
def test_every_input_is_described_in_both_languages(calculator: calculators.Calculator) -> None:
    for name, prop in calculator.input_schema["properties"].items():
        assert prop.get("description"), f"{calculator.id}.{name} has no English help"
        assert prop.get("description_ja"), f"{calculator.id}.{name} has no Japanese help"


@pytest.mark.parametrize("calculator", PRACTICE, ids=lambda c: c.id)
def test_sampled_inputs_are_valid_and_give_a_finite_scalar_answer(
    calculator: calculators.Calculator,
) -> None:
    rng = np.random.default_rng(2026)
    for _ in range(50):
        inputs = calculator.sample(rng)
        answer = calculator.answer_value(calculator.run(calculator.parse(inputs)).outputs)
        assert isinstance(answer, int | float), f"{calculator.id}: {answer!r}"
        assert math.isfinite(answer)


@pytest.mark.parametrize("calculator", PRACTICE, ids=lambda c: c.id)
def test_sampling_is_determined_by_the_generator(calculator: calculators.Calculator) -> None:
    first = calculator.sample(np.random.default_rng(7))
    second = calculator.sample(np.random.default_rng(7))
    assert first == second
