"""Time until a page's formulas are drawn, in headless Chromium against a real server.

For each page: cold (a fresh browser context, empty cache) and warm (the same context,
loaded again), the median of --runs. The time is the page's own: from the start of the
navigation (as a click on a link would start it) to the `mathjax-ready` performance mark
that static/js/mathjax-config.js sets when the formulas in view are typeset (on the server,
or by MathJax in the browser) and MathJax's fonts are in, or to the page's first paint if
that comes later.

The harness leaves the page alone until its load event: a selector polled while it loads
runs Playwright's own script on the page's main thread, 40 to 100 ms of it here, which no
learner's browser runs. It then awaits `window.formulasDrawn`, the promise behind the mark.

The machine is shared, and its speed varies by half between runs; so a blank page served
by a bare app with our security headers (bench/bare.py) is timed in the same run, to its
first paint, and each time is also given as a multiple of it.

    python -m bench.pages [--runs 5]
"""

import argparse
import statistics

from playwright.sync_api import Browser, sync_playwright

from bench.servers import BARE, KOSHIKI, uvicorn
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS

PAGES = {
    "catalog (all cards)": ("/", 1500.0),
    "card: softmax": ("/formulas/softmax", 300.0),
    "card: adam": ("/formulas/adam", 300.0),
}
"""Path and target in milliseconds."""
FIRST_PAINT = """new Promise((resolve) => new PerformanceObserver((entries) => {
  const paint = entries.getEntriesByName("first-contentful-paint")[0];
  if (paint) resolve(paint.startTime);
}).observe({ type: "paint", buffered: true }))"""
MARK = "performance.getEntriesByName('mathjax-ready')[0].startTime"
READY = f"window.formulasDrawn.then(() => {MARK})"
FORMULAS_DRAWN = f"Promise.all([{READY}, {FIRST_PAINT}]).then((times) => Math.max(...times))"
"""Nothing is seen before the first paint, which may come after the mark."""
BLANK = "blank page (bare app, first paint)"


def load_ms(browser: Browser, url: str, done: str) -> tuple[float, float, int]:
    """Cold and warm times until `done`, and how many requests the warm load still made."""
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    times = []
    for _ in ("cold", "warm"):
        requests.clear()
        page.goto(url, wait_until="load", timeout=60_000)
        times.append(page.evaluate(done))
    context.close()
    return times[0], times[1], len(requests)


def medians(runs: list[tuple[float, float, int]]) -> tuple[float, float]:
    return statistics.median(run[0] for run in runs), statistics.median(run[1] for run in runs)


def verdict(cold: float, warm: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"< {target:g} ({'met' if max(cold, warm) < target else '**missed**'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    with uvicorn(KOSHIKI) as url, uvicorn(BARE) as bare, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        load_ms(browser, url + "/", FORMULAS_DRAWN)  # the server's first render fills its caches
        pages = {BLANK: (bare + "/blank", FIRST_PAINT, None)}
        for name, (path, target) in PAGES.items():
            pages[name] = (url + path, FORMULAS_DRAWN, target)
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in pages}
        for _ in range(arguments.runs):  # pages alternated, so that a slow spell hits them all
            for name, (page_url, done, _target) in pages.items():
                results[name].append(load_ms(browser, page_url, done))
        browser.close()
    blank_cold, blank_warm = medians(results[BLANK])
    print(f"median of {arguments.runs} runs, ms until the formulas in view are drawn")
    print("| page | cold | warm | cold ÷ blank | warm ÷ blank | requests when warm | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, (_url, _done, target) in pages.items():
        cold, warm = medians(results[name])
        ratios = f"{cold / blank_cold:.1f} | {warm / blank_warm:.1f}"
        requests = results[name][-1][2]
        met = verdict(cold, warm, target)
        print(f"| {name} | {cold:.0f} | {warm:.0f} | {ratios} | {requests} | {met} |")


if __name__ == "__main__":
    main()
