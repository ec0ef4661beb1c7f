"""What a learner sees in a real browser: rendered math, live results, remembered language."""

import json
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, wait_until_ready
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser
UNTYPESET = ".math:not(:has(mjx-container))"


FRAME_PATIENCE_MS = 5_000
SCROLL_A_SCREEN_AT_A_TIME = """async (patience) => {
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const drawn = () => frame().then(frame).then(() => true);
  const late = () => new Promise((done) => setTimeout(() => done(false), patience));
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
    scrollTo(0, y);
    if (!(await Promise.race([drawn(), late()]))) return false;
  }
  return true;
}"""
"""Resolves to false if a screen was not drawn in time."""


def scroll_through(page: Page) -> None:
    """Scroll down a screen at a time, so that every formula comes into view and is typeset.

    Headless Chromium on a loaded machine now and then stops drawing a page for good, and so
    stops its IntersectionObserver too; a frame awaited without a bound then never comes.
    A page that stopped drawing is loaded again, once: loaded anew, it draws.
    """
    if not page.evaluate(SCROLL_A_SCREEN_AT_A_TIME, FRAME_PATIENCE_MS):
        page.reload()
        wait_until_ready(page)
        drawn = page.evaluate(SCROLL_A_SCREEN_AT_A_TIME, FRAME_PATIENCE_MS)
        assert drawn, f"{page.url} stopped drawing twice"
    expect(page.locator(UNTYPESET)).to_have_count(0)


def assert_math_rendered_cleanly(page: Page) -> None:
    wait_until_ready(page)
    assert page.locator("mjx-container").count() > 0
    scroll_through(page)
    assert page.locator("mjx-merror").count() == 0, page.locator("mjx-merror").all_inner_texts()
    text = page.locator("main").inner_text()
    assert "$$" not in text
    assert "\\[" not in text
    assert "\\(" not in text


def test_a_page_that_stops_drawing_is_loaded_again_then_checked(
    page: Page, server: LiveServer
) -> None:
    page.goto(f"{server.url}/formulas/adam")
    wait_until_ready(page)
    page.evaluate("() => { window.requestAnimationFrame = () => 0; }")  # no frame ever comes
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    started = time.monotonic()
    scroll_through(page)
    assert loads == [f"{server.url}/formulas/adam"]
    assert time.monotonic() - started < 30
    assert page.locator("mjx-container").count() > 0


def test_card_page_renders_math_and_recomputes_as_the_learner_types(
    page: Page, server: LiveServer, outside_requests: list[str], test_output: Path
) -> None:
    page.goto(f"{server.url}/formulas/softmax")
    assert_math_rendered_cleanly(page)
    first = page.locator('[data-output="probabilities"] data').first
    expect(first).to_have_attribute("value", "0.6590011388859679")  # the worked example

    page.fill("#input-logits", "1, 2, 3")
    expect(first).to_have_attribute("value", "0.09003057317038046")
    page.fill("#input-temperature", "100")
    expect(first).to_have_attribute("value", "0.33000561097102177")

    page.fill("#input-temperature", "-1")
    expect(page.locator("#error-temperature")).to_contain_text("greater than 0")
    page.fill("#input-temperature", "1")
    expect(page.locator("#error-temperature")).to_have_text("")
    expect(first).to_have_attribute("value", "0.09003057317038046")

    page.screenshot(path=test_output / "card-softmax.png", full_page=True)
    assert outside_requests == []  # nothing but our own server was asked for anything


def test_every_card_and_the_catalog_render_without_math_errors(
    page: Page, server: LiveServer
) -> None:
    with urllib.request.urlopen(f"{server.url}/api/formulas") as response:
        ids = [card["id"] for card in json.load(response)]
    for path in ["/", *(f"/formulas/{card_id}" for card_id in ids)]:
        page.goto(server.url + path)
        assert_math_rendered_cleanly(page)


def test_a_card_shows_its_formulas_typeset_by_the_server_without_loading_mathjax(
    page: Page, server: LiveServer
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/formulas/adam")  # a long card: 106 formulas
    wait_until_ready(page)
    assert page.locator(".math").count() > 100
    expect(page.locator(UNTYPESET)).to_have_count(0)
    formula = page.locator(".equations mjx-container").first.bounding_box()
    assert formula is not None
    assert formula["width"] > 150  # drawn in MathJax's fonts, at the size MathJax draws it
    assert page.evaluate("() => document.fonts.check('20px MJXTEX')")
    assert not [url for url in requested if "tex-chtml.js" in url]
    assert page.evaluate("() => MathJax.version") is None  # only its configuration is here


SCRIPT_RUNS = {"EvaluateScript", "FunctionCall", "TimerFire", "FireAnimationFrame"}
"""Trace events of a script running: loaded, called back, on a timer, before a frame."""


def within(event: dict, outer: dict) -> bool:
    same_thread = (event["pid"], event["tid"]) == (outer["pid"], outer["tid"])
    return same_thread and outer["ts"] <= event["ts"] <= outer["ts"] + outer["dur"]


def layouts_forced_by_scripts(trace: dict, until_mark: str) -> list[str]:
    """The scripts (by URL) that made the browser lay the page out, up to a performance mark."""
    events = trace["traceEvents"]
    until = min(event["ts"] for event in events if event["name"] == until_mark)
    ran = [event for event in events if event["name"] in SCRIPT_RUNS and event["ts"] < until]
    layouts = [event for event in events if event["name"] == "Layout" and event["ph"] == "X"]
    return [
        script["args"].get("data", {}).get("url", script["name"])
        for script in ran
        if any(within(layout, script) for layout in layouts)
    ]


def test_no_script_makes_the_browser_lay_out_a_card_before_its_formulas_are_drawn(
    browser: Browser, page: Page, server: LiveServer
) -> None:
    # A script that reads layout while the page loads (document.fonts.ready does) makes the
    # browser lay the whole card out there and then, and again once MathJax's fonts are in:
    # on adam, 50 ms more before the first paint.
    browser.start_tracing(page=page, categories=["devtools.timeline", "blink.user_timing"])
    try:
        page.goto(f"{server.url}/formulas/adam")
        wait_until_ready(page)
    finally:
        trace = json.loads(browser.stop_tracing())
    assert layouts_forced_by_scripts(trace, until_mark="mathjax-ready") == []


HTMX_STARTED = """() => ({
  htmx: performance.getEntriesByType("resource").find((entry) => entry.name.includes("htmx.min.js"))
    .startTime,
  loaded: performance.getEntriesByType("navigation")[0].loadEventStart,
  drawn: performance.getEntriesByName("mathjax-ready")[0].startTime,
})"""


def test_htmx_is_fetched_once_the_card_is_drawn_and_loaded(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/formulas/softmax")
    wait_until_ready(page)
    started = page.evaluate(HTMX_STARTED)
    assert started["htmx"] >= started["loaded"] > 0
    assert started["htmx"] >= started["drawn"] > 0
    # That it then runs, the calculators' tests show: they recompute as the learner types.


def test_a_screen_reader_is_given_every_formula_and_part_of_a_card_before_it_is_drawn(
    browser: Browser, server: LiveServer
) -> None:
    # Parts below the screen and the MathML inside each formula are not laid out until
    # needed (content-visibility in app.css); the accessibility tree must still hold them.
    # Chromium builds that tree whole only for assistive technology, as this flag tells it.
    screen_reader = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--force-renderer-accessibility"]
    )
    page = screen_reader.new_page()
    page.goto(f"{server.url}/formulas/adam")
    wait_until_ready(page)
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]

    def exposed(role: str) -> list[str]:
        nodes = cdp.send("Accessibility.queryAXTree", {"nodeId": root, "role": role})["nodes"]
        return [node.get("name", {}).get("value", "") for node in nodes]

    try:
        assert len(exposed("MathMLMath")) == page.locator("mjx-container").count() > 100
        assert len(exposed("MathMLIdentifier")) == page.locator("mjx-assistive-mml mi").count()
        headings = set(exposed("heading"))
        assert {"記号の意味", "解説", "よくある間違い", "出典（検証に用いた一次資料）"} <= headings
    finally:
        screen_reader.close()


def test_without_node_mathjax_typesets_the_formulas_near_the_screen_as_they_come(
    page: Page, server_without_node: LiveServer
) -> None:
    page.goto(f"{server_without_node.url}/formulas/adam")
    wait_until_ready(page)
    assert page.evaluate("() => MathJax.version") == "3.2.2"
    expect(page.locator(".equations mjx-container").first).to_be_visible()
    below = page.locator(UNTYPESET)
    assert below.count() > 40
    last = page.locator(".math").last
    expect(last.locator("mjx-container")).to_have_count(0)

    last.scroll_into_view_if_needed()
    expect(last.locator("mjx-container")).to_have_count(1)
    assert_math_rendered_cleanly(page)


def test_math_that_htmx_swaps_in_is_typeset(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/formulas/softmax")
    wait_until_ready(page)
    page.evaluate(
        r"""() => htmx.swap("#result", '<p><span class="math">\\(x^2\\)</span></p>',
                            { swapStyle: "innerHTML" })"""
    )
    page.locator("#result").scroll_into_view_if_needed()
    expect(page.locator("#result .math mjx-container")).to_have_count(1)


def test_language_choice_survives_a_reload(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/formulas/adam")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("heading", name="Common mistakes")).to_be_visible()


def test_the_form_works_with_javascript_off(browser, server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/formulas/conv-output-size")
    page.fill("#input-input_size", "224")
    page.fill("#input-kernel_size", "7")
    page.fill("#input-stride", "2")
    page.fill("#input-padding", "3")
    page.fill("#input-dilation", "1")
    page.get_by_role("button", name="計算する").click()
    expect(page.locator('[data-output="output_size"] data')).to_have_attribute("value", "112")
    context.close()
