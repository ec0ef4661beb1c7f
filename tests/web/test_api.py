"""The JSON API contract, and a clear 422 for every kind of bad input to every calculator."""

import json
from functools import cache
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app import calculators
from app.calculators.types import MAX_ELEMENTS
from app.config import PROJECT_ROOT

CALCULATOR_IDS = [calculator.id for calculator in calculators.all_calculators()]


@cache
def example_inputs(calculator_id: str) -> dict[str, Any]:
    """The worked example of the card that uses this calculator: a valid base to break."""
    for path in (PROJECT_ROOT / "formulas").glob("*/*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if front.get("calculator") == calculator_id:
            return front["example"]["inputs"]
    raise AssertionError(f"no card uses {calculator_id}")


def post_raw(client: TestClient, calculator_id: str, body: str):
    return client.post(
        f"/api/calculators/{calculator_id}",
        content=body,
        headers={"content-type": "application/json"},
    )


def test_formula_list_has_the_contract_fields(readonly_client: TestClient) -> None:
    formulas = readonly_client.get("/api/formulas").json()
    assert len(formulas) >= 12
    softmax = next(f for f in formulas if f["id"] == "softmax")
    assert softmax == {
        "id": "softmax",
        "title": {"ja": "ソフトマックス関数（温度付き）", "en": "Softmax with temperature"},
        "category": "activations",
        "tags": sorted(softmax["tags"]),
        "calculator": "softmax",
    }


def test_formula_detail_has_latex_symbols_and_source(readonly_client: TestClient) -> None:
    card = readonly_client.get("/api/formulas/conv-output-size").json()
    assert card["latex"]
    assert card["symbols"]
    assert card["source"]
    assert all({"latex", "ja", "en"} <= set(symbol) for symbol in card["symbols"])
    assert card["calculator"] == "conv-output-size"


def test_unknown_formula_is_404(readonly_client: TestClient) -> None:
    response = readonly_client.get("/api/formulas/no-such-card")
    assert response.status_code == 404
    assert "no-such-card" in response.json()["detail"]


@pytest.mark.parametrize("calculator_id", CALCULATOR_IDS)
def test_calculator_description_has_schema_and_outputs(
    readonly_client: TestClient, calculator_id: str
) -> None:
    info = readonly_client.get(f"/api/calculators/{calculator_id}").json()
    assert info["id"] == calculator_id
    assert info["inputs"]["type"] == "object"
    assert set(info["outputs"]) == set(calculators.get(calculator_id).outputs)


@pytest.mark.parametrize("calculator_id", CALCULATOR_IDS)
def test_calculator_computes_its_card_example(
    readonly_client: TestClient, calculator_id: str
) -> None:
    response = readonly_client.post(
        f"/api/calculators/{calculator_id}", json=example_inputs(calculator_id)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == calculator_id
    assert set(body["outputs"]) == set(calculators.get(calculator_id).outputs)
    assert all(set(step) == {"label", "value"} for step in body["steps"])


def test_api_keeps_full_precision(readonly_client: TestClient) -> None:
    body = readonly_client.post("/api/calculators/softmax", json={"logits": [1, 2, 3]}).json()
    assert body["outputs"]["probabilities"][0] == 0.09003057317038046


def test_unknown_calculator_is_404(readonly_client: TestClient) -> None:
    assert readonly_client.post("/api/calculators/nope", json={}).status_code == 404
    assert readonly_client.get("/api/calculators/nope").status_code == 404


@pytest.mark.parametrize("body", ["[1, 2]", '"logits"', "{}"])
def test_unknown_calculator_is_404_whatever_its_body(
    readonly_client: TestClient, body: str
) -> None:
    response = post_raw(readonly_client, "nope", body)
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def bad_values_for(schema: dict[str, Any], field: str) -> list[tuple[str, Any]]:
    """Values of the wrong kind for `field`, chosen from its JSON Schema."""
    prop = schema["properties"][field]
    prop = next((o for o in prop.get("anyOf", []) if o.get("type") != "null"), prop)
    kind = prop.get("type")
    if kind in ("number", "integer"):
        return [
            ("NaN", float("nan")),
            ("Infinity", float("inf")),
            ("a string", "abc"),
            ("a list", [1]),
        ]
    if kind == "array":
        item = prop["items"]
        element: Any = [0] if item.get("type") == "array" else 0
        if item.get("type") == "string":
            element = "x"
        return [
            ("an empty list", []),
            ("a string", "abc"),
            ("an oversized list", [element] * (MAX_ELEMENTS + 1)),
        ]
    if kind == "string":
        return [("an empty string", ""), ("a number", 5)]
    if kind == "boolean":
        return [("a list", [True])]
    return []


BAD_INPUTS = [
    (calculator_id, field, description, value)
    for calculator_id in CALCULATOR_IDS
    for field in calculators.get(calculator_id).input_schema["properties"]
    for description, value in bad_values_for(calculators.get(calculator_id).input_schema, field)
]


@pytest.mark.parametrize(
    ("calculator_id", "field", "description", "value"),
    BAD_INPUTS,
    ids=[f"{c}-{f}-{d}" for c, f, d, _ in BAD_INPUTS],
)
def test_bad_input_is_a_422_naming_the_field(
    readonly_client: TestClient, calculator_id: str, field: str, description: str, value: Any
) -> None:
    body = {**example_inputs(calculator_id), field: value}
    response = post_raw(
        readonly_client, calculator_id, json.dumps(body)
    )  # NaN/Infinity as JSON allows
    assert response.status_code == 422, description
    detail = response.json()["detail"]
    assert detail[0]["loc"][:2] == ["body", field]
    assert detail[0]["msg"]


MISMATCHED_SHAPES = [
    ("cross-entropy", {"probabilities": [[0.5, 0.5]], "targets": [[1, 0, 0]]}, "targets"),
    ("dice", {"mask_a": [[1, 0]], "mask_b": [[1], [0]]}, "mask_b"),
    ("sgd", {"params": [1, 2], "grads": [1]}, "grads"),
    ("momentum", {"params": [1, 2], "grads": [1, 2], "velocity": [0]}, "velocity"),
    ("rmsprop", {"params": [1], "grads": [1], "h": [0, 0]}, "h"),
    ("adam", {"params": [1], "grads": [1], "m": [0], "v": [0, 0], "step": 1}, "v"),
    ("scaled-dot-product-attention", {"q": [[1, 2]], "k": [[1, 2]], "v": [[1], [2]]}, "v"),
    (
        "scaled-dot-product-attention",
        {"q": [[1, 2]], "k": [[1, 2]], "v": [[1]], "mask": [[True, False]]},
        "mask",
    ),
    ("iou", {"box_a": [0, 0, 1], "box_b": [0, 0, 1, 1]}, "box_a"),
    ("softmax", {"logits": [[1, 2], [3, 4]]}, "logits"),
    (
        "cross-entropy",
        {"probabilities": [[0.5, 0.5], [0.5]], "targets": [[1, 0], [0, 1]]},
        "probabilities",
    ),
]


@pytest.mark.parametrize(("calculator_id", "body", "field"), MISMATCHED_SHAPES)
def test_mismatched_shapes_are_a_422_naming_the_field(
    readonly_client: TestClient, calculator_id: str, body: dict, field: str
) -> None:
    response = readonly_client.post(f"/api/calculators/{calculator_id}", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


@pytest.mark.parametrize(
    ("calculator_id", "body", "field", "reason"),
    [
        ("softmax", {"logits": [1], "temperature": 0}, "temperature", "greater than 0"),
        ("sgd", {"params": [1], "grads": [1], "lr": -1}, "lr", "greater than or equal to 0"),
        ("softmax", {"logits": [1e13]}, "logits", "between"),
        ("softmax", {"logits": [1e12, 0], "temperature": 1e-300}, "temperature", "overflows"),
        ("softmax", {"logits": [1], "tempreature": 2}, "tempreature", "Extra inputs"),
        (
            "cross-entropy",
            {"probabilities": [[0.9, 0.3]], "targets": [[1, 0]]},
            "probabilities",
            "sums to",
        ),
        (
            "cross-entropy",
            {"probabilities": [[0.5, 0.5]], "targets": [[1, 1]]},
            "targets",
            "one-hot",
        ),
        ("conv-output-size", {"input_size": 3, "kernel_size": 5}, "kernel_size", "fits"),
        ("conv-output-size", {"input_size": 3, "kernel_size": 1.5}, "kernel_size", "integer"),
        ("bleu", {"candidate": "   ", "references": ["a"]}, "candidate", "at least one word"),
        (
            "adam",
            {"params": [1], "grads": [1], "m": [0], "v": [0], "step": 0},
            "step",
            "greater than or equal to 1",
        ),
        ("rmsprop", {"params": [1], "grads": [1], "h": [-1]}, "h", "non-negative"),
        (
            "momentum",
            {"params": [1], "grads": [1], "velocity": [0], "momentum": 1},
            "momentum",
            "less than 1",
        ),
        ("dice", {"mask_a": [[2]], "mask_b": [[1]]}, "mask_a", "less than or equal to 1"),
    ],
)
def test_domain_errors_say_why(
    readonly_client: TestClient, calculator_id: str, body: dict, field: str, reason: str
) -> None:
    response = readonly_client.post(f"/api/calculators/{calculator_id}", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"][:2] == ["body", field]
    assert reason in detail["msg"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "", '{"logits": [1, 2'])
def test_malformed_bodies_are_422_not_500(readonly_client: TestClient, body: str) -> None:
    assert post_raw(readonly_client, "softmax", body).status_code == 422


def test_a_body_that_is_not_an_object_is_a_422_naming_the_body(
    readonly_client: TestClient,
) -> None:
    detail = post_raw(readonly_client, "softmax", "[1, 2]").json()["detail"]
    assert detail[0]["loc"] == ["body"]
    assert "dictionary" in detail[0]["msg"]


def test_a_body_that_is_not_json_text_is_a_422(readonly_client: TestClient) -> None:
    response = readonly_client.post(
        "/api/calculators/softmax",
        content='{"logits": [1, 2]}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_every_error_of_a_body_is_reported(readonly_client: TestClient) -> None:
    body = {"logits": "abc", "temperature": "hot"}
    detail = readonly_client.post("/api/calculators/softmax", json=body).json()["detail"]
    assert {tuple(item["loc"][:2]) for item in detail} == {
        ("body", "logits"),
        ("body", "temperature"),
    }


@pytest.mark.databases
def test_search_api_finds_japanese_and_english(readonly_client: TestClient) -> None:
    def ids(query: str) -> list[str]:
        return [f["id"] for f in readonly_client.get("/api/formulas", params={"q": query}).json()]

    assert ids("交差エントロピー")[0] == "cross-entropy"  # SQLite: FTS5 trigram, 3+ characters
    assert "softmax" in ids("温度")  # two characters: SQLite's LIKE fallback
    assert ids("attention")[0] == "scaled-dot-product-attention"
    assert ids('"quoted" AND OR NEAR(') == []  # user text is never FTS syntax
    assert ids("attention\x00")[0] == "scaled-dot-product-attention"  # NUL ends FTS5 strings


def test_search_query_length_is_bounded(readonly_client: TestClient) -> None:
    response = readonly_client.get("/api/formulas", params={"q": "x" * 201})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_openapi_documents_every_calculator(readonly_client: TestClient) -> None:
    paths = readonly_client.get("/openapi.json").json()["paths"]
    for calculator_id in CALCULATOR_IDS:
        assert "post" in paths[f"/api/calculators/{calculator_id}"]
