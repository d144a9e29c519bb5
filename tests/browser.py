"""Real headless Chromium for the browser tests: Debian ``chromium`` driven by ``chromedriver``.

``make setup`` installs both when missing (as root). Where they cannot be had, the browser
tests are skipped with a loud ``NOT RUN`` reason (``-ra`` lists every one at the end of the
run): they never pass silently. A test's web server listens on 127.0.0.1 only.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: axe-core, pinned in tests/a11y/package-lock.json and installed by ``make setup`` (npm ci) into .cache/npm.
AXE = REPO / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets of WCAG 2.2 levels A and AA (axe-core tags every rule with the WCAG version that added it).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: A phone as Chromium emulates it: 375 × 800 CSS px, a touch screen, a mobile viewport.
PHONE_METRICS = {"width": 375, "height": 800, "pixelRatio": 2.0, "mobile": True, "touch": True}
#: Light pages (issue 22, point 5), guarded by tests/site/test_page_weight.py and reported by bench/page_weight.py:
#: the most a page may load in all (document and every resource, uncompressed), in bytes;
MAX_PAGE_BYTES = 300_000
#: the latest the first text may show on slow 4G, in milliseconds;
MAX_FIRST_TEXT_MS = 1500
#: a typical text page (about 200 words, a table, no figure).
TEXT_PAGE = "book/rapport/in-deze-factsheet.html"
#: "Slow 4G" as issue 22 measures it: 1,6 Mbit/s down, 750 kbit/s up, 150 ms round trip.
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The flags the developers' guide prescribes; background networking is off because the machine's
# network is closed (Chromium's own update and sync calls would only be refused).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"NOT RUN: {path} is missing (install Debian chromium and chromium-driver: make setup as root)"
    return None


def require() -> None:
    """Skip the calling test loudly when the browser is not installed."""
    reason = missing()
    if reason:
        pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900, dark: bool = False, phone: bool = False, network_log: bool = False):
    """A headless Chromium session (selenium WebDriver) with a fresh profile.

    ``phone``: chromedriver's mobile emulation (:data:`PHONE_METRICS`: 375 × 800, touch events, a mobile
    viewport), so a test can tap with a touch pointer. ``network_log``: Chromium's DevTools network events
    are kept, for :func:`requests`.
    """
    require()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    if dark:
        options.add_argument("--force-dark-mode")
        options.add_argument("--blink-settings=preferredColorScheme=0")
    if phone:
        metrics = {k: PHONE_METRICS[k] for k in ("width", "height", "pixelRatio", "touch", "mobile")}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    with tempfile.TemporaryDirectory(prefix="oml-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            if not phone:
                driver.set_window_size(width, height)
            yield driver
        finally:
            driver.quit()


def tap(driver, element) -> None:
    """Tap ``element`` with a finger: a W3C pointer of type "touch" (down and up at its centre), as a phone does.

    The browser turns the touch into pointer, touch and click events itself; nothing is clicked by script.
    """
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"), duration=50)
    actions.pointer_action.move_to(element).pointer_down().pause(0.05).pointer_up()
    actions.perform()


def swipe(driver, x: int, y_from: int, y_to: int) -> None:
    """Drag a finger from (x, y_from) to (x, y_to), in CSS px of the window: the page (or the box under the
    finger) scrolls the way a phone scrolls, by touch."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"), duration=40)
    finger = actions.pointer_action
    finger.move_to_location(x, y_from).pointer_down()
    steps = 8
    for i in range(1, steps + 1):
        finger.move_to_location(x, round(y_from + (y_to - y_from) * i / steps))
    finger.pause(0.2).pointer_up()  # hold still before lifting: a scroll, not a fling
    actions.perform()


def requests(driver) -> list[dict]:
    """Every request the browser sent since the last call: ``[{url, status}]`` (DevTools network events).

    ``status`` is the HTTP status, or None for a request that got no answer (refused, blocked, failed). Needs a
    driver made with ``chromium(network_log=True)``. Unlike the Resource Timing list, this has every request,
    also those that failed.
    """
    import json

    sent, status = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            sent.setdefault(params["requestId"], params["request"]["url"])
        elif message.get("method") == "Network.responseReceived":
            status[params["requestId"]] = params["response"]["status"]
    return [{"url": url, "status": status.get(rid)} for rid, url in sent.items()]


# What a loaded page fetched, from the Navigation and Resource Timing lists: every resource once, with its
# uncompressed size (the test server does not compress, so transfer and body sizes agree).
# Images a page would only fetch when scrolled to are fetched too: the weight of reading the whole page.
_PAGE_WEIGHT = r"""
const done = arguments[arguments.length - 1];
const settle = () => new Promise(r => setTimeout(r, 500));
const images = () => Promise.all(Array.from(document.images).map(i => {
  i.loading = "eager";
  return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; });
}));
(document.readyState === "complete" ? Promise.resolve() : new Promise(r => window.addEventListener("load", r)))
.then(images).then(settle)
.then(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const items = [{url: nav.name, type: "document", bytes: nav.decodedBodySize}];
  for (const r of performance.getEntriesByType("resource"))
    items.push({url: r.name, type: r.initiatorType, bytes: r.decodedBodySize});
  done(items);
});
"""


def page_weight(driver, url: str) -> list[dict]:
    """What the page at ``url`` loads: ``[{url, type, bytes}]`` (the document first), ``bytes`` uncompressed.

    The browser cache is switched off, so every resource is fetched and counted, as on a first visit.
    """
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.get(url)
    driver.set_script_timeout(60)
    return driver.execute_async_script(_PAGE_WEIGHT)


def first_text_ms(driver, url: str, network: dict | None = None) -> float:
    """Milliseconds from the start of the navigation to the first contentful paint (the first text on screen),
    on an emulated network (default :data:`SLOW_4G`) with an empty cache, as a first visit on a phone network."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", network or SLOW_4G)
    try:
        driver.get("about:blank")
        driver.get(url)
        driver.set_script_timeout(60)
        return driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "new PerformanceObserver((list, obs) => {"
            "  const e = list.getEntries().find(e => e.name === 'first-contentful-paint');"
            "  if (e) { obs.disconnect(); done(e.startTime); }"
            "}).observe({type: 'paint', buffered: true});")
    finally:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                               {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def axe_missing() -> str | None:
    """Why the axe-core checks cannot run here (browser or axe-core missing), or None when they can."""
    reason = missing()
    if reason:
        return reason
    if not AXE.exists():
        return f"NOT RUN: {AXE.relative_to(REPO)} is missing (install axe-core from tests/a11y/package-lock.json: make setup, needs npm)"
    return None


def html_pages(html_dir: Path) -> list[str]:
    """Every HTML page of a built site, as URL paths relative to its root (theme assets left out).

    A crawl of the output folder rather than a list, so pages added later are checked too. Pages
    that only redirect (the root ``index.html``) are left out: the browser shows their target.
    """
    # The encrypted feedback demo (terugkoppeling/) is not a page of the book: see feedback_pages().
    skip = {"_static", "_sources", "_images", "_downloads", "terugkoppeling"}
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if not skip.intersection(p.relative_to(html_dir).parts)
                  and not p.read_text(encoding="utf-8").startswith('<meta http-equiv="Refresh"'))


def feedback_pages(html_dir: Path) -> list[str]:
    """The feedback demo's pages: its index and one encrypted report file (every report file is the same
    frame around its payload, so one stands for all; the decrypted reports are checked after opening)."""
    folder = html_dir / "terugkoppeling"
    reports = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    return [f"terugkoppeling/{name}" for name in (["index.html"] if (folder / "index.html").exists() else []) + reports[:1]]


def set_theme(driver, url: str, theme: str) -> None:
    """Choose the pydata-sphinx-theme colour theme ("light" or "dark") for every later page load.

    The theme reads ``localStorage`` (keys ``mode`` and ``theme``) in the page head, before it paints,
    and writes it back once loaded: so set it on a loaded page (``url``, not a redirect), then reload.
    """
    load(driver, url)
    driver.execute_script("localStorage.setItem('mode', arguments[0]); localStorage.setItem('theme', arguments[0]);", theme)
    load(driver, url)
    shown = driver.execute_script("return document.documentElement.dataset.theme")
    if shown != theme:
        raise RuntimeError(f"could not switch the site to the {theme} theme (it shows {shown!r})")


def load(driver, url: str) -> None:
    """Open ``url`` and wait until the page, its web fonts and its images have loaded."""
    driver.get(url)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const imgs = Array.from(document.images).map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }));"
        "Promise.all([document.fonts.ready, ...imgs.filter(Boolean)]).then(() => requestAnimationFrame(() => done(true)));")


def axe(driver, exclude: dict[str, str] | None = None) -> list[dict]:
    """axe-core's WCAG 2.2 A/AA violations on the open page: ``[{id, impact, help, nodes: [selector, ...]}]``.

    ``exclude`` maps ``"rule-id selector"`` to the reason a node is a false positive; only that
    rule on that exact node is dropped, never a whole rule.
    """
    driver.set_script_timeout(60)
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "  nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));", WCAG_TAGS)
    exclude = exclude or {}
    kept = []
    for v in found:
        nodes = [n for n in v["nodes"] if f"{v['id']} {n['target']}" not in exclude]
        if nodes or not v["nodes"]:
            kept.append({**v, "nodes": nodes})
    return kept
