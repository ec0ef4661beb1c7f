"""A learner takes a quiz with the keyboard only, in a real browser."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import wait_until_ready
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser
QUESTIONS = 5


def keyboard_ready(page: Page) -> None:
    wait_until_ready(page)
    expect(page.locator("html")).to_have_attribute("data-quiz", "ready")


def answer_with_the_keyboard(page: Page) -> None:
    keyboard_ready(page)
    if page.locator("#answer").count():  # a compute question: type a number
        page.locator("#answer").focus()
        page.keyboard.type("0.5")
    else:
        page.keyboard.press("2")
        expect(page.locator('input[type="radio"]').nth(1)).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator(".verdict")).to_be_visible()
    keyboard_ready(page)
    page.keyboard.press("Enter")  # on to the next question, or the results


def test_a_quiz_taken_with_the_keyboard_is_scored_and_kept(
    page: Page, browser: Browser, server: LiveServer, test_output: Path
) -> None:
    page.goto(f"{server.url}/quiz/start?seed=12&count={QUESTIONS}")
    for number in range(1, QUESTIONS + 1):
        expect(page.locator(".quiz-progress")).to_contain_text(f"{number} ／ {QUESTIONS}")
        answer_with_the_keyboard(page)
    expect(page).to_have_url(re.compile(r"/results$"))
    score = page.locator(".score")
    expect(score).to_contain_text(f"/ {QUESTIONS}")
    page.screenshot(path=test_output / "quiz-results.png", full_page=True)

    page.reload()
    expect(page.locator(".score")).to_have_attribute("data-total", str(QUESTIONS))
    results_url = page.url
    page.goto(f"{server.url}/progress")
    expect(page.locator("[data-answered]")).to_have_attribute("data-answered", str(QUESTIONS))
    page.screenshot(path=test_output / "progress.png", full_page=True)

    stranger = browser.new_context().new_page()  # another learner: a fresh cookie jar
    stranger.goto(f"{server.url}/progress")
    expect(stranger.locator("[data-answered]")).to_have_count(0)
    assert stranger.goto(results_url).status == 404
    stranger.context.close()
