"""Server-rendered pages, as a browser without JavaScript sees them."""

import html
import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import typeset_html

SOFTMAX = r"y_k = \frac{\exp(z_k / T)}{\sum_{j=1}^{K} \exp(z_j / T)}"


def test_catalog_groups_cards_by_category_in_japanese_by_default(client: TestClient) -> None:
    page = client.get("/").text
    assert '<html lang="ja">' in page
    assert "活性化関数" in page
    assert "最適化手法" in page
    assert page.index('id="activations"') < page.index('id="optimizers"')
    assert "ソフトマックス関数（温度付き）" in page
    assert "$$" not in page


def test_formulas_arrive_typeset_by_the_server(client: TestClient) -> None:
    softmax = typeset_html(client, (SOFTMAX, True))
    assert softmax is not None
    assert softmax.startswith('<mjx-container class="MathJax" jax="CHTML"')
    assert 'display="true"' in softmax.split(">")[0]
    assert "<mjx-assistive-mml" in softmax  # MathML for screen readers
    for path in ("/", "/formulas/softmax", "/sheet"):
        page = client.get(path).text
        assert softmax in page, path
        assert r"\[" not in page, path  # no formula left to MathJax
        assert r"\(" not in page, path
        version = re.search(r'<link rel="stylesheet" href="/math\.css\?v=(\w+)">', page)
        assert version is not None, path
    client.cookies.clear()  # a stylesheet, cached for all: it makes no learner
    stylesheet = client.get("/math.css", params={"v": version.group(1)})
    assert "set-cookie" not in stylesheet.headers
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "immutable" in stylesheet.headers["cache-control"]
    assert "mjx-c.mjx-c1D466.TEX-I::before" in stylesheet.text  # the y of y_k
    assert client.get("/math.css", params={"v": "old"}).headers["cache-control"] == "no-cache"


def test_a_card_offers_its_formulas_tex_to_copy(client: TestClient) -> None:
    """Formulas typeset on the server carry no MathJax menu to show their TeX."""
    page = client.get("/formulas/softmax").text
    source = re.search(r'<details class="tex-source">(.*?)</details>', page, re.DOTALL)
    assert source is not None
    assert f"<pre><code>{html.escape(SOFTMAX)}</code></pre>" in source.group(1)


def test_without_node_formulas_are_left_to_mathjax_in_the_browser(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"node": ""}))) as client:
        page = client.get("/formulas/softmax").text
        assert typeset_html(client, (SOFTMAX, True)) is None
        assert rf"\[{html.escape(SOFTMAX, quote=False)}\]" in page  # delimited for MathJax
        assert "mjx-container" not in page
        assert "/math.css" not in page
        assert client.get("/math.css").status_code == 404


def test_language_switch_is_remembered(client: TestClient) -> None:
    response = client.get("/language/en", params={"next": "/formulas/adam"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/formulas/adam"
    page = client.get("/formulas/adam").text  # the cookie now travels with every request
    assert '<html lang="en">' in page
    assert "Common mistakes" in page
    assert '<html lang="ja">' in client.get("/language/ja", params={"next": "/"}).text


def test_language_switch_never_redirects_off_site(client: TestClient) -> None:
    for target in ("https://evil.example", "//evil.example"):
        response = client.get("/language/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_card_page_shows_every_part(client: TestClient) -> None:
    page = client.get("/formulas/conv-output-size").text
    for part in ("記号の意味", "計算機", "解説", "よくある間違い", "出典"):
        assert part in page
    assert "Dumoulin" in page  # the primary source
    assert 'aria-live="polite"' in page
    assert '<label for="input-input_size">' in page
    assert re.search(r'data-output="output_size".*?<data value="\d+">', page, re.S)


def test_plain_form_post_recomputes_without_javascript(client: TestClient) -> None:
    response = client.post("/formulas/softmax", data={"logits": "0, 0", "temperature": "1"})
    assert response.status_code == 200
    assert '<data value="0.5">0.5</data>' in response.text


def test_live_result_fragment_has_only_the_result(client: TestClient) -> None:
    response = client.post("/formulas/sigmoid/result", data={"x": "0"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert '<data value="0.25">0.25</data>' in response.text  # σ′(0)


@pytest.mark.parametrize(
    ("card", "form", "field", "message"),
    [
        (
            "softmax",
            {"logits": "1, abc", "temperature": "1"},
            "logits",
            "&#39;abc&#39; is not a number",
        ),
        ("softmax", {"logits": "1, 2", "temperature": "-1"}, "temperature", "greater than 0"),
        ("softmax", {"logits": "", "temperature": "1"}, "logits", "Field required"),
        ("softmax", {"logits": "nan", "temperature": "1"}, "logits", "finite number"),
        ("conv-output-size", {"input_size": "3", "kernel_size": "5"}, "kernel_size", "fits"),
        (
            "conv-output-size",
            {"input_size": "3.5", "kernel_size": "1"},
            "input_size",
            "not a whole number",
        ),
        ("sgd", {"params": "1, 2", "grads": "1", "lr": "0.1"}, "grads", "same shape"),
    ],
)
def test_bad_form_input_shows_a_message_next_to_the_field(
    client: TestClient, card: str, form: dict, field: str, message: str
) -> None:
    for url in (f"/formulas/{card}", f"/formulas/{card}/result"):
        response = client.post(url, data=form)
        assert response.status_code == 422
        error = re.search(rf'id="error-{field}"[^>]*>([^<]*)<', response.text)
        assert error is not None
        assert message in error.group(1)


@pytest.mark.databases
def test_search_page_escapes_what_the_user_typed(client: TestClient) -> None:
    page = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.databases
def test_search_page_finds_cards(client: TestClient) -> None:
    page = client.get("/", params={"q": "交差エントロピー"}).text
    assert 'href="/formulas/cross-entropy"' in page


def test_unknown_card_is_a_404_page(client: TestClient) -> None:
    response = client.get("/formulas/nope")
    assert response.status_code == 404
    assert "<html" in response.text
    assert "nope" in response.text


def test_api_docs_are_served_from_our_own_static_files(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "/static/vendor/swagger-ui-5.32.0/swagger-ui-bundle.js?v=" in page
    assert "cdn" not in page.lower()


def test_vendored_files_loaded_without_a_hash_are_cached_for_a_year(
    readonly_client: TestClient,
) -> None:
    # MathJax fetches its fonts and extensions itself, from its versioned folder.
    font = "/static/vendor/mathjax-3.2.2/output/chtml/fonts/woff-v2/MathJax_Zero.woff"
    assert "immutable" in readonly_client.get(font).headers["cache-control"]
    assert "cache-control" not in readonly_client.get("/static/css/app.css").headers


def test_pages_preload_the_fonts_mathjax_fetches(readonly_client: TestClient) -> None:
    page = readonly_client.get("/formulas/softmax").text
    for preload in re.findall(r'<link rel="preload" href="([^"]+)"', page):
        assert readonly_client.get(preload).status_code == 200, preload
    assert "MathJax_Main-Regular.woff" in page
    assert "ui/lazy.js" not in page  # formulas in view are chosen by static/js/mathjax-config.js
    # MathJax itself is loaded by static/js/mathjax-config.js only if a formula needs it.
    assert 'data-mathjax="/static/vendor/mathjax-3.2.2/tex-chtml.js?v=' in page
    assert '<script defer src="/static/vendor/mathjax-3.2.2' not in page


def test_static_assets_with_a_hash_are_cached_for_a_year(client: TestClient) -> None:
    page = client.get("/").text
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=\w+)"', page).group(1)
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize("path", ["/sheet", "/quiz/start", "/export/anki"])
@pytest.mark.parametrize("categories", [["nope"], ["optimizers", "Optimizers"]])
def test_an_unknown_category_is_a_422_naming_the_field(
    readonly_client: TestClient, path: str, categories: list[str]
) -> None:
    response = readonly_client.get(path, params={"category": categories})
    assert response.status_code == 422
    assert "category: no category has the id" in response.text
    assert f"'{categories[-1]}'" in html.unescape(response.text)
