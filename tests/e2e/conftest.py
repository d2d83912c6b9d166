"""Fixtures for the real-browser tests: the app server, Chromium via Playwright, screenshots.

The app runs as a real ``streamlit run`` subprocess on 127.0.0.1 (offline, with its own cache
directory), and Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright's sync API.
Without Chromium or Playwright the tests skip with the reason, except in CI (``CI=true``) where
a missing browser stack is a failure: the layer must not silently vanish there.
For screenshots meant for the README, install an emoji font first (apt-get install
fonts-noto-color-emoji): without one Chromium draws the page icons as empty boxes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",  # a test-pattern camera and a beeping microphone, no real device
    "--use-fake-ui-for-media-stream",  # and no permission prompt
]
VIEWPORT = {"width": 1400, "height": 1000}
SCREENSHOT_DIR = ROOT / "test-output" / "screenshots"
README_SCREENSHOT_DIR = ROOT / "assets" / "screenshots"
README_SCREENSHOTS = (
    "home",
    "spam",
    "sentiment-trained",
    "summarizer",
    "churn",
    "house_prices",
    "movies",
    "forecast",
    "forecast-live",
    "anomaly",
    "anomaly-live",
    "textgen",
    "textgen-trained",
    "imageclf",
    "detect-video",
    "voice-file",
    "chatbot-answer",
    "resume-upload",
    "resume-match",
    "news-feed",
)  # copied to assets/screenshots/ when UPDATE_SCREENSHOTS=1
MAX_SCREENSHOT_HEIGHT = 5000  # px: a full page, but never a giant image
SERVER_START_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 90_000  # the first visit of a page may train a model


def _missing_browser_stack() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package 'playwright' is not installed")
    return "; ".join(problems) or None


def _require_browser_stack() -> None:
    reason = _missing_browser_stack()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"Real-browser tests cannot run in CI: {reason}. Install Chromium "
            "(apt-get install chromium) and Playwright for Python (pip install playwright; "
            "do not run 'playwright install', the tests use /usr/bin/chromium).",
            pytrace=False,
        )
    pytest.skip(f"real-browser tests skipped: {reason} (apt-get install chromium; pip install playwright)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def server_command(script: str, port: int) -> list[str]:
    """``streamlit run script`` headless on 127.0.0.1:port, as the browser tests and the load benchmark start it.

    No file watcher, as in a deployment: edits to the tree during a run (another session at work) flooded inotify
    and left a "source changed" box that kept the app from ever counting as idle.
    """
    return [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
    ]  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the group: streamlit and anything it started
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server_log(tmp_path_factory) -> Path:
    """The file that captures the app server's stdout and stderr."""
    return tmp_path_factory.mktemp("streamlit-server") / "server.log"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, server_log: Path) -> Iterator[str]:
    """Base URL of the app, served by a real ``streamlit run`` on a free loopback port."""
    _require_browser_stack()  # no point starting the server without a browser
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "GALLERY_OPERATOR_TOKEN"},  # the System test: no operator
        # The page safety net (ui.run_page) shows a calm error instead of a crash; the browser tests want the
        # crash itself on screen, where assert_no_exception finds it.
        "GALLERY_RAISE_PAGE_ERRORS": "1",
        "GALLERY_OFFLINE": "1",
        "GALLERY_CACHE_DIR": str(tmp_path_factory.mktemp("gallery-cache")),
        "PYTHONUNBUFFERED": "1",
        # One server serves every browser test; a cache release half-way would make a test's timing depend on
        # the ones before it. The release itself is tested with AppTest (tests/app/test_page_system.py).
        "GALLERY_MEMORY_BUDGET_MB": "1000000",
        # No warm-up: it imports every engine (torch included) in the server's first seconds, when the first
        # browser test may be timing the live camera's frame rate (measured: median 14 fps against the 15 the test
        # asks, first on a fresh server). The cold-start benchmark (python -m benchmarks.load --cold) measures it.
        "GALLERY_WARM_UP": "0",
    }
    command = server_command("app.py", port)
    with server_log.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {process.returncode} before answering.\n{_tail(server_log)}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {base}/_stcore/health within {SERVER_START_TIMEOUT_S} s.\n"
                    f"{_tail(server_log)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield base
    finally:
        _stop(process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing e2e test, append the tail of the server log to the report."""
    report = yield
    if report.failed and call.when in ("setup", "call"):
        log = item.funcargs.get("server_log") if hasattr(item, "funcargs") else None
        if isinstance(log, Path) and log.exists():
            report.sections.append(("streamlit server log (tail)", _tail(log)))
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (Debian's, never a downloaded one)."""
    _require_browser_stack()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url: str, server_log: Path):
    """A fresh browser context and page per test, 1400x1000."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


# Opened directly at a page URL (BASE/spam), Streamlit's frontend first probes the server under that
# path (BASE/spam/_stcore/health, .../host-config), gets 404 and falls back to BASE/_stcore/...:
# streamlit/streamlit#7074, framework behaviour, not an app error. Only those exact 404s are ignored.
_DEEP_LINK_PROBE = re.compile(r"^https?://127\.0\.0\.1:\d+/.+/_stcore/(health|host-config|allowed-message-origins)$")


def _is_deep_link_probe(text: str, url: str) -> bool:
    return "status of 404" in text and bool(_DEEP_LINK_PROBE.match(url))


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console messages of type "error" and uncaught page errors seen by ``page``."""
    errors: list[str] = []

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url") or "?"
        if _is_deep_link_probe(msg.text, url):
            return
        errors.append(f"console.error: {msg.text} (at {url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def wait_for_app_idle(page, timeout_ms: int = RUN_TIMEOUT_MS, settle_s: float = 1.0) -> None:
    """Wait until the script run has finished and the page has stopped changing.

    Streamlit marks its root with ``data-test-script-state`` (``running``, ``notRunning``, ...)
    and ``data-test-connection-state``; elements of the previous run carry ``data-stale="true"``
    until the new run replaces them. The app is idle when it is connected, not running, has no
    stale element and no "Running..." status widget, continuously for ``settle_s`` (which also
    covers the few milliseconds between a click and the rerun it requests).
    """
    idle_js = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        return !!app
            && app.getAttribute('data-test-connection-state') === 'CONNECTED'
            && app.getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector('[data-stale="true"]')
            && !document.querySelector('[data-testid="stStatusWidget"]');
    }"""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    idle_since = None
    while True:
        if page.evaluate(idle_js):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle_s:
                return
        else:
            idle_since = None
        if time.monotonic() > deadline:
            state = page.evaluate(
                """() => { const a = document.querySelector('[data-testid="stApp"]');
                return a ? [a.getAttribute('data-test-connection-state'), a.getAttribute('data-test-script-state')]
                : null; }"""
            )
            raise AssertionError(f"the app did not finish running within {timeout_ms / 1000:.0f} s (state {state})")
        time.sleep(0.1)


def assert_no_exception(page, where: str) -> None:
    """Fail when the page shows a Streamlit exception box."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        texts = "\n---\n".join(boxes.nth(i).inner_text() for i in range(boxes.count()))
        raise AssertionError(f"{where}: the page shows {boxes.count()} exception(s):\n{texts}")


@pytest.fixture(scope="session")
def screenshot() -> Callable[..., Path]:
    """Save a screenshot of the whole app to test-output/screenshots/<name>.png.

    Streamlit scrolls inside its main container, not the document, so a plain full-page screenshot
    would stop at the viewport: the viewport is grown to the content height (capped) for the shot.
    With UPDATE_SCREENSHOTS=1 the README shots (home, spam) are also copied to assets/screenshots/.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    update = os.environ.get("UPDATE_SCREENSHOTS") == "1"

    def take(page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        size = page.viewport_size or VIEWPORT
        height = page.evaluate(
            """() => Math.max(
                document.documentElement.scrollHeight,
                ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppScrollToBottomContainer"], [data-testid="stSidebarContent"]')]
                    .map(e => e.scrollHeight))"""
        )
        height = int(min(max(height, size["height"]), MAX_SCREENSHOT_HEIGHT))
        try:
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_timeout(500)  # let charts re-layout to the new size
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(size)
        if update and name in README_SCREENSHOTS:
            README_SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SCREENSHOT_DIR / f"{name}.png")
        return path

    return take


def keep_live_screenshot(shot: Path, name: str) -> None:
    """Copy a WebRTC probe's screenshot to test-output/screenshots (and to the README's with UPDATE_SCREENSHOTS=1)."""
    if not shot.exists():
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOT_DIR / f"{name}.png")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shot, README_SCREENSHOT_DIR / f"{name}.png")
