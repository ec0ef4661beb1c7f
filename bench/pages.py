"""Time until a page's formulas are drawn, in headless Chromium against a real server.

For each page: cold (a fresh browser context, empty cache) and warm (the same context,
loaded again), the median of --runs. The time is the page's own: from the start of the
navigation (as a click on a link would start it) to the `mathjax-ready` performance mark
that static/js/mathjax-config.js sets when the formulas in view are typeset (on the server,
or by MathJax in the browser) and MathJax's fonts are in. The harness waits for
`html[data-mathjax="ready"]` set at the same moment; what it measures itself also counts
driving the browser from another process (about 50 ms here), which no learner waits for.

    python -m bench.pages [--runs 5]
"""

import argparse
import statistics

from playwright.sync_api import Browser, sync_playwright

from bench.servers import KOSHIKI, uvicorn
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS

PAGES = {
    "catalog (all cards)": ("/", 1500.0),
    "card: softmax": ("/formulas/softmax", 300.0),
    "card: adam": ("/formulas/adam", 300.0),
}
"""Path and target in milliseconds."""
READY = 'html[data-mathjax="ready"]'
SINCE_NAVIGATION_START = "performance.getEntriesByName('mathjax-ready')[0].startTime"


def typeset_ms(browser: Browser, url: str) -> tuple[float, float, int]:
    """Cold and warm times, and how many requests the warm load still made."""
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    times = []
    for _ in ("cold", "warm"):
        requests.clear()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(READY, state="attached", timeout=60_000)
        times.append(page.evaluate(SINCE_NAVIGATION_START))
    context.close()
    return times[0], times[1], len(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    with uvicorn(KOSHIKI) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        typeset_ms(browser, url + "/")  # the server's first render fills its caches
        print(f"median of {arguments.runs} runs, ms until the formulas in view are drawn")
        print("| page | cold | warm | requests when warm | target |\n|---|---:|---:|---:|---|")
        for name, (path, target) in PAGES.items():
            runs = [typeset_ms(browser, url + path) for _ in range(arguments.runs)]
            cold = statistics.median(run[0] for run in runs)
            warm = statistics.median(run[1] for run in runs)
            met = "met" if max(cold, warm) < target else "**missed**"
            print(f"| {name} | {cold:.0f} | {warm:.0f} | {runs[-1][2]} | < {target:g} ({met}) |")
        browser.close()


if __name__ == "__main__":
    main()
