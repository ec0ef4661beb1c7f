"""Fuzzing every operation of our own OpenAPI schema, valid and invalid input alike.

No request may get a 5xx, a status code the schema does not document, or a body that does
not match the declared model; input that breaks the schema must be refused. The operations
are read from the schema at run time, so a new route is fuzzed without changing this file.
"""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.schemas import BaseSchema

from app.config import Settings
from app.main import create_app

EXAMPLES_PER_OPERATION = 6
"""Per operation and per kind of input (valid, invalid): about 2 × 6 × 130 cases in all."""
MIN_CASES = 1000
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # Input the JSON Schema allows may still be refused: an id no card has (404),
            # what it cannot say, such as shapes that must match or rows of equal length (422),
            # or thousands of long numbers over the 64 KiB body limit (413, documented).
            "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "413", "422"]},
            # Too many numbers may be refused for the size of the body before it is read.
            "negative_data_rejection": {"expected-statuses": ["400", "404", "413", "422"]},
        }
    }
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> BaseSchema:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz")))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def fuzz(operation: APIOperation, mode: GenerationMode, statuses: Counter[int]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Case) -> None:
        response = case.call_and_validate()
        statuses[response.status_code] += 1

    call()


def test_every_operation_answers_within_its_schema(schema: BaseSchema) -> None:
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzz(operation, GenerationMode.POSITIVE, statuses)
        try:
            fuzz(operation, GenerationMode.NEGATIVE, statuses)
        except Unsatisfiable:
            # Nothing to break: no parameters, or only a free-form string in the path.
            assert not operation.body, operation.label
    assert sum(statuses.values()) >= MIN_CASES, statuses
    # Valid input really reached the calculators, not only the validation layer.
    assert statuses[200] >= len(operations), statuses
    assert all(status < 500 for status in statuses), statuses
