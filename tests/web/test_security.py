"""Hardening: headers, body limits, CSRF, health, escaping and production settings."""

import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.calculators.types import MAX_ELEMENTS
from app.config import Settings
from app.main import create_app
from app.web.security import CONTENT_SECURITY_POLICY, DEFAULT_BODY_LIMIT


@pytest.mark.parametrize(
    "path", ["/", "/formulas/adam", "/api/formulas", "/docs", "/nope", "/static/css/app.css"]
)
def test_every_response_carries_the_security_headers(
    readonly_client: TestClient, path: str
) -> None:
    headers = readonly_client.get(path).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/formulas/softmax", "/quiz", "/progress", "/docs"])
def test_pages_have_no_inline_script(readonly_client: TestClient, path: str) -> None:
    page = readonly_client.get(path).text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.search(r"<[^>]+\son[a-z]+\s*=", page) is None  # no onclick= handlers either


def test_a_form_over_64_kib_is_refused_with_413(readonly_client: TestClient) -> None:
    response = readonly_client.post("/formulas/softmax/result", data={"logits": "1, " * 30_000})
    assert response.status_code == 413
    assert response.text == "Content Too Large"


def test_a_calculation_over_64_kib_is_refused_with_413(readonly_client: TestClient) -> None:
    body = '{"logits": [' + ",".join(["1"] * (DEFAULT_BODY_LIMIT // 2 + 1)) + "]}"
    response = readonly_client.post(
        "/api/calculators/softmax", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_the_most_numbers_a_model_allows_fit_the_body_limit_when_written_short(
    readonly_client: TestClient,
) -> None:
    widest = [-0.12345678901] * MAX_ELEMENTS  # 14 characters each, as the 413 documents
    body = json.dumps({"logits": widest, "temperature": 1e-12}, separators=(",", ":"))
    response = readonly_client.post(
        "/api/calculators/softmax", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["outputs"]["probabilities"]) == MAX_ELEMENTS


def test_a_body_without_content_length_is_measured_too(readonly_client: TestClient) -> None:
    def chunks():
        for _ in range(DEFAULT_BODY_LIMIT // 1024 + 1):
            yield b"x" * 1024

    response = readonly_client.post(
        "/api/calculators/softmax", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_form_post_without_its_token_is_refused(client: TestClient) -> None:
    client.get("/progress")
    for path, data in [
        ("/progress/delete", {"confirm": "yes"}),
        ("/progress/recover", {"key": "0" * 32}),
        ("/progress/delete", {"confirm": "yes", "csrf": "forged"}),
    ]:
        response = client.post(path, data=data)
        assert response.status_code == 403
        assert "csrf" in response.text


@pytest.mark.databases
def test_health_reports_the_catalog(readonly_client: TestClient) -> None:
    health = readonly_client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["formulas"] == len(readonly_client.get("/api/formulas").json())


def test_workers_starting_together_share_one_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_token = secrets.token_urlsafe

    def slow_token(size: int) -> str:  # widens the window in which the key is being written
        time.sleep(0.2)
        return make_token(size)

    def start_worker(index: int) -> str:
        time.sleep(0.05 * index)
        return Settings(data_dir=tmp_path).signing_key()

    monkeypatch.setattr(secrets, "token_urlsafe", slow_token)
    with ThreadPoolExecutor(4) as workers:
        keys = set(workers.map(start_worker, range(4)))
    assert len(keys) == 1
    assert len(keys.pop()) >= 32
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KOSHIKI_SECRET_KEY"):
        Settings(data_dir=tmp_path, environment="production")
    assert Settings(data_dir=tmp_path, environment="production", secret_key="s" * 32)


def test_secure_cookies_when_configured(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secure_cookies=True))
    with TestClient(app) as client:
        assert "; Secure" in client.get("/").headers["set-cookie"]


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_text_is_escaped_in_search_and_quiz_answers(client: TestClient) -> None:
    page = client.get("/", params={"q": XSS}).text
    assert XSS not in page
    url = client.get("/quiz/start", params={"seed": 1, "count": 1, "kind": "compute"}).url.path
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text).group(1)
    feedback = client.post(f"{url}/answer", data={"index": "0", "answer": XSS, "csrf": csrf}).text
    assert XSS not in feedback
    assert "&lt;script&gt;" in feedback


def test_card_fields_are_escaped(tmp_path: Path, formulas_dir: Path) -> None:
    card = formulas_dir / "activations" / "softmax.md"
    text = card.read_text().replace("Softmax with temperature", XSS.replace('"', "'"))
    card.write_text(text.replace("### notes\n", "### notes\n<script>alert(2)</script>\n", 1))
    app = create_app(Settings(data_dir=tmp_path / "data", formulas_dir=formulas_dir))
    with TestClient(app) as client:
        client.get("/language/en")
        page = client.get("/formulas/softmax").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def test_imported_progress_text_is_escaped(client: TestClient) -> None:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/progress").text).group(1)
    hostile = "<script>alert(3)</script>"
    export = {
        "learner_id": "x",
        "answers": [
            {
                "id": "f" * 32,
                "formula_id": hostile,
                "category_id": hostile,
                "kind": "name",
                "seed": 1,
                "given": hostile,
                "correct": False,
                "time_taken_ms": 1,
                "answered_at": "2026-11-01T00:00:00Z",
            }
        ],
        "reviews": [
            {
                "formula_id": hostile,
                "due": "2026-11-02T00:00:00Z",
                "fsrs_card": {
                    "card_id": 1,
                    "state": 2,
                    "step": None,
                    "stability": 2.0,
                    "difficulty": 5.0,
                    "due": "2026-11-02T00:00:00+00:00",
                    "last_review": "2026-11-01T00:00:00+00:00",
                },
            }
        ],
    }
    files = {"file": ("p.json", json.dumps(export).encode(), "application/json")}
    assert client.post("/progress/import", files=files, data={"csrf": csrf}).status_code == 200
    page = client.get("/progress").text
    assert 'data-answered="1"' in page
    assert hostile not in page
    assert "&lt;script&gt;alert(3)" in page
