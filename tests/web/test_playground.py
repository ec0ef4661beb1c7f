"""The playground's page and its JSON twin: the same race, and a 422 naming the field."""

import re

import pytest
from fastapi.testclient import TestClient

from app.playground.race import PlaygroundInputs, race

OPTIMIZER_IDS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def test_api_runs_six_paths_from_the_same_start(readonly_client: TestClient) -> None:
    body = {"surface": "rosenbrock", "steps": 40, "adam": {"lr": 0.05}}
    response = readonly_client.post("/api/playground", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["surface"] == "rosenbrock"
    assert data["box"] == [-2.0, 2.0, -1.0, 3.0]
    assert data["minimum"] == [1.0, 1.0]
    assert [path["optimizer"] for path in data["paths"]] == OPTIMIZER_IDS
    assert all(path["points"][0] == [-1.2, 1.0] for path in data["paths"])
    adam = data["paths"][-1]
    assert adam["hyper_parameters"] == {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    expected = race(PlaygroundInputs.model_validate(body)).paths[-1]
    assert adam["points"] == [list(point) for point in expected.points]
    assert len(adam["losses"]) == 41


def test_api_reports_where_a_path_diverged(readonly_client: TestClient) -> None:
    response = readonly_client.post("/api/playground", json={"steps": 100, "sgd": {"lr": 0.01}})
    sgd = response.json()["paths"][0]
    assert sgd["diverged_at"] == len(sgd["points"])
    assert response.json()["paths"][-1]["diverged_at"] is None


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"steps": 501}, ["steps"], "less than or equal to 500"),
        ({"steps": 0}, ["steps"], "greater than or equal to 1"),
        ({"adam": {"lr": -0.1}}, ["adam", "lr"], "greater than or equal to 0"),
        ({"momentum": {"momentum": 1}}, ["momentum", "momentum"], "less than 1"),
        ({"rmsprop": {"eps": 0}}, ["rmsprop", "eps"], "greater than 0"),
        ({"adam": {"lr": 1e300}}, ["adam", "lr"], "less than or equal to 10"),
        ({"adam": {"beta2": True}}, ["adam", "beta2"], "valid number"),
        ({"steps": 2.0}, ["steps"], "valid integer"),
        ({"adam": {"gamma": 1}}, ["adam", "gamma"], "Extra inputs"),
        ({"surface": "himmelblau"}, ["surface"], "'quadratic', 'rosenbrock' or 'beale'"),
        ({"kappa": 0.5}, ["kappa"], "greater than or equal to 1"),
        ({"kappa": 1e6}, ["kappa"], "less than or equal to 1000"),
        ({"start_x": 2.5}, ["start_x"], "plotted box [-2.0, 2.0]"),
        ({"surface": "quadratic", "start_y": -3.5}, ["start_y"], "plotted box [-3.0, 3.0]"),
        ({"start_x": 1e9}, ["start_x"], "less than or equal to 4.5"),
    ],
)
def test_api_rejects_bad_input_naming_the_field(
    readonly_client: TestClient, body: dict, loc: list[str], message: str
) -> None:
    response = readonly_client.post("/api/playground", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", *loc]
    assert message in detail["msg"]


def test_api_is_documented_with_its_response_model(readonly_client: TestClient) -> None:
    schema = readonly_client.get("/openapi.json").json()
    operation = schema["paths"]["/api/playground"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RaceOut"
    }
    inputs = schema["components"]["schemas"]["PlaygroundInputs"]["properties"]
    assert inputs["steps"]["maximum"] == 500
    adam = schema["components"]["schemas"]["AdamHyperParameters"]["properties"]
    assert adam["beta1"]["exclusiveMaximum"] == 1


def test_page_draws_every_path_over_the_contours_with_a_legend(readonly_client: TestClient) -> None:
    page = readonly_client.get("/playground").text
    assert '<a href="/playground">最適化手法の比較</a>' in page  # in the nav
    for optimizer in OPTIMIZER_IDS:
        assert re.search(rf'class="opt-path opt-{optimizer}" data-optimizer="{optimizer}"', page)
        assert f'<li data-optimizer="{optimizer}">' in page
    assert page.count('class="contour"') == 12
    assert "開始点" in page
    assert "最小点" in page
    assert "200 ステップ後の損失" in page
    assert 'id="input-adam-lr" name="adam.lr" value="0.1"' in page  # Rosenbrock's default


def test_loss_axis_is_ticked_in_the_decades_the_losses_span(readonly_client: TestClient) -> None:
    page = readonly_client.get("/playground", params={"steps": "60"}).text
    (loss_plot,) = re.findall(r'<svg class="plot-svg loss-plot".*?</svg>', page, re.S)
    ticks = re.findall(r'class="plot-tick">([^<]*)<', loss_plot)
    losses = [loss for path in race(PlaygroundInputs(steps=60)).paths for loss in path.losses]
    assert 0.1 < min(losses) < 1
    assert 100 < max(losses) < 1000
    assert ticks == ["1e-1", "1e0", "1e1", "1e2", "1e3", "0", "10", "20", "30", "40", "50", "60"]


def test_plain_get_recomputes_without_javascript(readonly_client: TestClient) -> None:
    response = readonly_client.get(
        "/playground", params={"surface": "quadratic", "kappa": "4", "steps": "7"}
    )
    assert response.status_code == 200
    assert "f = ½(x² + κy²), κ = 4" in response.text
    assert "7 ステップ後の損失" in response.text
    assert 'name="kappa" value="4"' in response.text


def test_divergence_is_said_in_the_legend(readonly_client: TestClient) -> None:
    page = readonly_client.get("/playground", params={"sgd.lr": "0.01", "steps": "100"}).text
    diverged = race(PlaygroundInputs.model_validate({"sgd": {"lr": 0.01}, "steps": 100}))
    step = diverged.paths[0].diverged_at
    assert step is not None
    assert f"{step} ステップ目で発散" in page


def test_bad_input_on_the_page_is_a_field_error(readonly_client: TestClient) -> None:
    response = readonly_client.get("/playground", params={"adam.lr": "-1", "steps": "abc"})
    assert response.status_code == 422
    assert re.search(r'id="error-steps">&#39;abc&#39; is not a whole number<', response.text)
    response = readonly_client.get("/playground", params={"adam.lr": "-1"})
    assert re.search(
        r'id="error-adam-lr">Input should be greater than or equal to 0<', response.text
    )
    assert 'value="-1"' in response.text  # what the learner typed stays
    assert "<polyline" not in response.text


def test_start_outside_the_box_is_an_error_next_to_the_start(readonly_client: TestClient) -> None:
    response = readonly_client.get("/playground/plot", params={"start_y": "3.5"})
    assert response.status_code == 422
    assert re.search(
        r'id="error-start_y" hx-swap-oob="true">must lie in the plotted box', response.text
    )


def test_live_fragment_has_only_the_result_and_keeps_the_url(readonly_client: TestClient) -> None:
    response = readonly_client.get("/playground/plot", params={"surface": "beale", "steps": "5"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "5 ステップ後の損失" in response.text
    assert response.headers["hx-replace-url"] == "/playground?surface=beale&steps=5"


def test_english_interface(client: TestClient) -> None:
    client.get("/language/en")
    page = client.get("/playground", params={"steps": "3"}).text
    assert "Optimizer playground" in page
    assert re.search(r"loss \d\.\d+ after 3 steps", page)
    assert "Rosenbrock function" in page
    assert "Loss per step (log scale)" in page
