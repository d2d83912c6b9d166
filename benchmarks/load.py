"""The whole gallery under load (issue 14) and from cold (issue 25), in a real browser.

``python -m benchmarks.load [--memory] [--responsiveness] [--concurrency N] [--soak MINUTES] [--json out.json]``
(with no part named: memory, responsiveness and 8 concurrent sessions; the soak only when asked), and
``python -m benchmarks.load --cold [--neighbours 2] [--passes idle busy] [--cap 600] [--json out.json]
[--markdown out.md] [--data-dir DIR] [--app-root CHECKOUT]`` for the cold start alone, and
``python -m benchmarks.load --contention [--victim spam] [--trainer imageclf] [--repeats 5] [--neighbours N]
[--json out.json] [--markdown out.md]`` for a training's effect on another page.

It starts its own ``streamlit run app.py`` on 127.0.0.1 with the offline defaults a visitor gets
(``GALLERY_OFFLINE=1``, a fresh ``GALLERY_CACHE_DIR`` in a temp folder, no ``GALLERY_DATA_DIR``, no
``GALLERY_MODEL_DIR``: the packaged MiniLM and the bundled samples), drives Debian's Chromium with Playwright
(async API: one browser, one context per session) and samples the server's resident memory from
``/proc/<pid>/statm`` every 0.2 s in a background thread.

- memory: every page visited once in one session (first visit: models are trained or loaded), its preset or
  main action run; RSS after each page and the peak so far, against the 2,048 MiB target.
- responsiveness: time from ``goto`` until the page is interactive (its title heading visible and the app idle)
  on a warm server, median of 3 visits, as a ratio to a trivial Streamlit page measured in the same run. The
  trivial page is served by a second server (the app's navigation cannot gain a page without editing app.py);
  it is deep-linked through ``st.navigation`` like the gallery's pages, so both pay the same routing. Target <= 3.
- concurrency: N sessions at once, each clicking through every page in the sidebar and pressing its main
  action, each planting private items (a unique token typed into spam, sentiment and the chatbot, a resume
  with a unique fictional name, a liked story in session 0 only) and checking it never sees another's. Before
  each click on a page the session waits until its elements are drawn and its pictures and download checks
  answered (as a visitor who looks at the page), and a page link whose click was lost is clicked again (counted
  in the report). Every step is bounded (STEP_TIMEOUT_S, CONCURRENT_TIMEOUT_S for a first visit's training); a
  failed step is reported with a screenshot under SHOTS_DIR, and console errors name the step they came in.
- soak: one session cycling through every page for M minutes; RSS after each cycle, growth after cycle 1.
- cold: per pass, a fresh server on an empty cache (``GALLERY_CACHE_DIR`` and ``HF_HOME`` in a temp folder, no
  ``GALLERY_DATA_DIR`` unless ``--data-dir``, and none of the thread variables a visitor's server lacks), then the
  gallery home, every demo and the System page opened one after the other in one tab at 1440x900: the seconds
  from navigation until the first real result is on screen (:func:`busy_reasons` and :class:`SettleClock` say
  exactly what counts), then from a click on its main action (the browser tests' MAIN_ACTIONS, the chatbot's
  first suggested question) until settled again; each capped (600 s). The trivial page, on a second server,
  before and after, is the reference. Passes: idle, and busy with ``--neighbours`` CPU-bound processes
  (``while True: pass``, killed when the pass ends). A Markdown table with the goals (first result <= 3 s idle,
  <= 6 s busy; main action <= 2 s) and the commit measured; ``--app-root`` serves another checkout (a clean
  ``git worktree`` of the commit before a change) with this harness.
- contention: issue 25's "a training job started on one page never makes another page's action more than 2x
  slower". One fresh server as in the cold mode (``--neighbours`` CPU-bound processes, default none); once the
  System page's job table shows nothing queued or running (the server's warm-up), the victim page's main action
  (spam detector, Classify) is timed ``--repeats`` times by the cold mode's settled rule: the baseline. Then a
  second browser context opens the trainer (the image classifier with 200 epochs, a network neither shipped nor
  cached) and presses its button (Train the CNN); once its live panel's bar has moved off 0% (queued, importing
  and loading data do not count), the victim's action is timed again, the panel read after each. The trainer's
  context is closed and the System page is polled until the job's row says it finished. The two medians, their
  ratio (goal <= 2x), every timing and what the job did, as Markdown and JSON.

Only 127.0.0.1 is ever reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engines.core.system import DEFAULT_BUDGET_MB, resident_mb
from engines.registry import DEMOS, ROOT, Demo
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    _free_port,
    _is_deep_link_probe,
    _stop,
    _tail,
    server_command,
)
from tests.e2e.test_browser import MAIN_ACTIONS

log = logging.getLogger("benchmarks.load")

SAMPLE_INTERVAL_S = 0.2
SERVER_START_TIMEOUT_S = 90
FIRST_VISIT_TIMEOUT_S = 300.0  # a first visit may train a model (about 2 minutes for some pages here)
CONCURRENT_TIMEOUT_S = 600.0  # 8 sessions share 2 cores: a first visit's preset may wait for a training this long
STEP_TIMEOUT_S = 180.0  # concurrency: any other step (a page's heading, its run, a planted item, a leak check)
NAV_CLICK_TIMEOUT_S = 30.0  # a visible sidebar link takes a click at once
LOST_CLICK_S = 10.0  # the app idle this long without the target's heading: the click was lost, click again
NAV_RECLICKS = 2
MEDIA_TIMEOUT_S = 60.0  # concurrency: the page's pictures and download checks answered before the next click
SHOTS_DIR = Path(tempfile.gettempdir()) / "gallery-load-shots"  # screenshots of failed steps (never in the repo)
WARM_TIMEOUT_S = 120.0
SETTLE_S = 1.0  # idle this long, continuously, counts as idle
RESPONSIVENESS_VISITS = 3
RATIO_TARGET = 3.0
SOAK_GROWTH_TARGET = 0.10
HOME_TITLE = "ML Demo Gallery"
TRIVIAL_TITLE = "Trivial"
TRIVIAL_APP = '''"""A trivial Streamlit page: the yardstick for the gallery's pages (benchmarks/load.py)."""
import streamlit as st


def home():
    st.title("Home")


def trivial():
    st.title("Trivial")
    st.button("Go")


st.navigation([st.Page(home, title="Home", default=True), st.Page(trivial, title="Trivial", url_path="trivial")]).run()
'''
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-stale="true"]')
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""  # the same condition as tests/e2e/conftest.py's wait_for_app_idle
VALUES_JS = """() => [...document.querySelectorAll('textarea, input')].map(e => e.value || '').join('\\n')"""
FIRST_NAMES = ("Ottilie", "Bartholomew", "Wilhelmina", "Peregrine", "Clementine", "Thaddeus", "Araminta", "Leopold")
LAST_NAMES = ("Quillfeather", "Brackenbury", "Fenwhistle", "Larkspur", "Thistlewood", "Ravensworth", "Oakhollow")


# ------------------------------------------------------------------ server and memory
@dataclass
class Server:
    """A ``streamlit run`` subprocess (the python process itself, so its /proc entry is the server's)."""

    process: subprocess.Popen
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        return resident_mb(self.process.pid)

    def stop(self) -> None:
        _stop(self.process)


def offline_env(cache_dir: Path) -> dict[str, str]:
    """The environment a visitor's offline server gets: no local data or model folders, a fresh cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("GALLERY_DATA_DIR", "GALLERY_MODEL_DIR")}
    env.update({"GALLERY_OFFLINE": "1", "GALLERY_CACHE_DIR": str(cache_dir), "PYTHONUNBUFFERED": "1"})
    env.setdefault("OMP_NUM_THREADS", "1")  # as tests/conftest.py: OpenMP busy-waiting on 2 shared cores
    return env


def start_server(
    script: Path, cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float = SERVER_START_TIMEOUT_S
) -> Server:
    """Start ``streamlit run script`` on a free loopback port and wait for its health check.

    Raises:
        RuntimeError: with the tail of the server log, when it exits or does not answer in time.
    """
    port = _free_port()
    command = server_command(str(script), port)
    with log_path.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.read().decode().strip() == "ok":
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s:\n{_tail(log_path)}")
        time.sleep(0.25)


class RssSampler:
    """Samples a process's resident memory every 0.2 s in a background thread and keeps the peak."""

    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self.pid, self.interval_s = pid, interval_s
        self.peak_mb = 0.0
        self.part_peak_mb = 0.0  # the peak since new_part()
        self.samples = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> float:
        """The RSS now (MiB), counted into the peak."""
        value = resident_mb(self.pid)
        with self._lock:
            self.peak_mb = max(self.peak_mb, value)
            self.part_peak_mb = max(self.part_peak_mb, value)
            self.samples += 1
        return value

    def new_part(self) -> None:
        """Start a new part peak (the overall peak is kept)."""
        with self._lock:
            self.part_peak_mb = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)


# ------------------------------------------------------------------ browser helpers
async def wait_idle(page, timeout_s: float, settle_s: float = SETTLE_S) -> float:
    """Wait until the app is idle for ``settle_s`` continuously; returns the monotonic time that stretch began."""
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while True:
        if await page.evaluate(IDLE_JS):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= settle_s:
                return idle_since
        else:
            idle_since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not finish running within {timeout_s:.0f} s")
        await asyncio.sleep(0.05)


async def wait_heading(page, title: str, timeout_s: float) -> None:
    await page.get_by_role("heading", name=title).first.wait_for(state="visible", timeout=timeout_s * 1000)


async def open_url(page, url: str, title: str, timeout_s: float) -> float:
    """``goto`` then wait for ``title`` and idleness; returns the seconds until it was interactive."""
    start = time.monotonic()
    await page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    await wait_heading(page, title, timeout_s)
    return await wait_idle(page, timeout_s) - start


async def navigate(page, demo: Demo, timeout_s: float) -> int:
    """Go to ``demo`` through the sidebar navigation: the same Streamlit session, as a visitor clicks.

    A click can be lost: a custom component of the page being left (streamlit-webrtc sets its value once its
    frame has loaded) can ask for a rerun of that page just after the click, and the app stays there. When
    the app is idle for LOST_CLICK_S without the target's heading, the link is clicked again, as a visitor
    would, up to NAV_RECLICKS times. Returns how many times it was clicked again. The heading must show within
    STEP_TIMEOUT_S (or ``timeout_s`` when shorter) of the first click.
    """
    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(demo.title, exact=True).first
    heading = page.get_by_role("heading", name=demo.title).first
    limit = min(timeout_s, STEP_TIMEOUT_S)
    await link.click(timeout=min(timeout_s, NAV_CLICK_TIMEOUT_S) * 1000)
    deadline = time.monotonic() + limit
    reclicks, idle_since = 0, None
    while not await heading.is_visible():
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(
                f"heading {demo.title!r} not shown {limit:.0f} s after the click ({reclicks} more clicks); "
                f"the browser is at {page.url}"
            )
        if await page.evaluate(IDLE_JS):
            idle_since = idle_since or now
            if now - idle_since >= LOST_CLICK_S and reclicks < NAV_RECLICKS:
                reclicks += 1
                idle_since = None
                await link.click(timeout=NAV_CLICK_TIMEOUT_S * 1000)
        else:
            idle_since = None
        await asyncio.sleep(0.25)
    await wait_idle(page, timeout_s)
    return reclicks


async def _chatbot_ready(page, timeout_s: float) -> None:
    await page.locator('[data-testid="stChatInputTextArea"]').wait_for(state="visible", timeout=timeout_s * 1000)


async def _news_ready(page, timeout_s: float) -> None:
    await page.get_by_text("Why am I seeing this?").first.wait_for(state="visible", timeout=timeout_s * 1000)


READY: dict[str, Callable[[Any, float], Awaitable[None]]] = {
    "chatbot": _chatbot_ready,
    "news": _news_ready,
}  # pages whose first run is not finished when the title shows


async def find_action(page, key: str, extra: tuple[str, ...] = ()) -> tuple[str, Any, Any] | None:
    """The page's main action: ``(what it is, the button, what shows when it is done or None)``, or None.

    The chatbot's is its first suggested question (done when a new answer shows); elsewhere the first of the
    browser tests' MAIN_ACTIONS (then ``extra``) that the page has as a button.
    """
    if key == "chatbot":
        preset = page.locator(".st-key-kb_preset_0 button")
        if await preset.count():
            answer = assistant_messages(page).nth(await assistant_messages(page).count())
            return "first preset question", preset.first, answer
    for name in (*MAIN_ACTIONS, *extra):
        button = page.get_by_role("button", name=name, exact=True)
        if await button.count():
            return name, button.first, None
    return None


async def run_preset(page, demo: Demo, timeout_s: float) -> str:
    """Wait until the page's preset has run, press its main action, wait for idle; returns what was done."""
    if demo.key in READY:
        await READY[demo.key](page, timeout_s)
        await wait_idle(page, timeout_s)
    action = await find_action(page, demo.key)
    if action is None:
        return "(page load only)"
    name, button, done = action
    await button.click()
    if done is not None:
        await done.wait_for(state="visible", timeout=timeout_s * 1000)
    await wait_idle(page, timeout_s)
    return name


def assistant_messages(page):
    return page.locator('[data-testid="stChatMessage"]').filter(
        has=page.locator('[data-testid="stChatMessageAvatarAssistant"]')
    )


async def exception_texts(page) -> list[str]:
    boxes = page.locator('[data-testid="stException"]')
    return [(await boxes.nth(i).inner_text())[:300] for i in range(await boxes.count())]


def watch_console(page, errors: list[str], where: Callable[[], str]) -> None:
    """Collect console errors and uncaught page errors (Streamlit's deep-link probe 404s excepted)."""

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url") or "?"
        if not _is_deep_link_probe(msg.text, url):
            errors.append(f"{where()}: console.error: {msg.text[:300]} (at {url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{where()}: uncaught: {str(exc)[:300]}"))


async def launch(playwright):
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def table(head: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    cells = [[str(c) for c in head], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    numeric = [all(isinstance(row[i], int | float) for row in rows) and bool(rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ memory
@dataclass
class MemoryRow:
    page: str
    action: str
    rss_mb: float
    peak_mb: float
    seconds: float
    exceptions: list[str] = field(default_factory=list)


async def measure_memory(browser, server: Server, sampler: RssSampler, demos: tuple[Demo, ...]) -> dict[str, Any]:
    """Every page visited once in one session with its preset run; RSS after each and the peak so far."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    current = ["home"]
    console: list[str] = []
    watch_console(page, console, lambda: current[0])
    rows = []
    start_rss = sampler.sample()
    await open_url(page, server.url, HOME_TITLE, FIRST_VISIT_TIMEOUT_S)
    rows.append(MemoryRow("(server start + home)", "-", sampler.sample(), sampler.peak_mb, 0.0))
    for demo in demos:
        current[0] = demo.key
        start = time.monotonic()
        try:
            await navigate(page, demo, FIRST_VISIT_TIMEOUT_S)
            action = await run_preset(page, demo, FIRST_VISIT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
            action = f"FAILED: {type(exc).__name__}: {str(exc)[:120]}"
        seconds = time.monotonic() - start
        rss = sampler.sample()
        row = MemoryRow(demo.key, action, rss, sampler.peak_mb, seconds, await exception_texts(page))
        rows.append(row)
        progress(f"memory: {demo.key:<13} {rss:7.0f} MiB (peak {sampler.peak_mb:.0f}) in {seconds:.0f} s · {action}")
    await context.close()
    return {
        "rss_before_mb": start_rss,
        "rows": [asdict(r) for r in rows],
        "peak_mb": sampler.peak_mb,
        "target_mb": DEFAULT_BUDGET_MB,
        "passed": sampler.peak_mb <= DEFAULT_BUDGET_MB,
        "console_errors": console,
    }


def memory_report(result: dict[str, Any]) -> str:
    rows = [
        [r["page"], r["rss_mb"], r["peak_mb"], r["seconds"], r["action"], len(r["exceptions"])] for r in result["rows"]
    ]
    text = table(["page", "RSS after (MiB)", "peak so far (MiB)", "seconds", "preset / main action", "exc."], rows)
    verdict = "PASS" if result["passed"] else "FAIL"
    text += f"\npeak resident memory {result['peak_mb']:,.0f} MiB vs target {result['target_mb']:,} MiB: {verdict}"
    for r in result["rows"]:
        for e in r["exceptions"]:
            text += f"\n  exception on {r['page']}: {e.splitlines()[0] if e else ''}"
    for e in result["console_errors"]:
        text += f"\n  {e}"
    return text


# ------------------------------------------------------------------ responsiveness
async def measure_responsiveness(
    browser, server: Server, trivial: Server, demos: tuple[Demo, ...], warm: bool
) -> dict[str, Any]:
    """Median seconds from goto to interactive over 3 visits per page, and the ratio to the trivial page."""
    context = await browser.new_context(viewport=VIEWPORT)
    if not warm:  # the memory part did not run: visit every page once so its models are cached
        page = await context.new_page()
        await open_url(page, server.url, HOME_TITLE, FIRST_VISIT_TIMEOUT_S)
        for demo in demos:
            progress(f"responsiveness: warming {demo.key}")
            await navigate(page, demo, FIRST_VISIT_TIMEOUT_S)
            await run_preset(page, demo, FIRST_VISIT_TIMEOUT_S)
        await page.close()

    async def visits(url: str, title: str) -> list[float]:
        times = []
        for _ in range(RESPONSIVENESS_VISITS + 1):  # the first one warms the browser's and server's caches
            page = await context.new_page()
            times.append(await open_url(page, url, title, WARM_TIMEOUT_S))
            await page.close()
        return times[1:]

    trivial_times = await visits(f"{trivial.url}/trivial", TRIVIAL_TITLE)
    trivial_median = statistics.median(trivial_times)
    progress(f"responsiveness: trivial page {trivial_median:.2f} s ({', '.join(f'{t:.2f}' for t in trivial_times)})")
    rows = []
    for demo in demos:
        try:
            times = await visits(f"{server.url}/{demo.key}", demo.title)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            rows.append({"page": demo.key, "times_s": [], "median_s": None, "ratio": None, "error": str(exc)[:200]})
            progress(f"responsiveness: {demo.key} FAILED: {exc}")
            continue
        median = statistics.median(times)
        rows.append({"page": demo.key, "times_s": times, "median_s": median, "ratio": median / trivial_median})
        progress(f"responsiveness: {demo.key:<13} {median:.2f} s, {median / trivial_median:.2f}x the trivial page")
    await context.close()
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    worst = max(rows, key=lambda r: r["ratio"] if r["ratio"] is not None else float("inf"))
    return {
        "trivial_times_s": trivial_times,
        "trivial_median_s": trivial_median,
        "rows": rows,
        "worst_page": worst["page"],
        "worst_ratio": worst["ratio"],
        "target_ratio": RATIO_TARGET,
        "passed": len(ratios) == len(rows) and max(ratios) <= RATIO_TARGET,
        "trivial_server": "a second streamlit server (a page cannot be added to app.py from here)",
    }


def responsiveness_report(result: dict[str, Any]) -> str:
    rows = [["(trivial page, 2nd server)", *_times(result["trivial_times_s"]), result["trivial_median_s"], 1.0]]
    for r in result["rows"]:
        if r["median_s"] is None:
            rows.append([r["page"], "-", "-", "-", "-", f"FAILED {r.get('error', '')[:60]}"])
        else:
            rows.append([r["page"], *_times(r["times_s"]), r["median_s"], r["ratio"]])
    head = ["page", *(f"visit {i + 1} (s)" for i in range(RESPONSIVENESS_VISITS)), "median (s)", "ratio"]
    text = table(head, [[_round(c) for c in row] for row in rows])
    verdict = "PASS" if result["passed"] else "FAIL"
    text += f"\nworst ratio {result['worst_ratio'] or float('nan'):.2f}x ({result['worst_page']}) vs target "
    text += f"<= {result['target_ratio']:.0f}x: {verdict}"
    return text


def _times(times: list[float]) -> list[float]:
    return [*times, *([float("nan")] * (RESPONSIVENESS_VISITS - len(times)))]


def _round(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, float) else value


# ------------------------------------------------------------------ concurrency
@dataclass
class Private:
    """What one session plants and no other session may ever see."""

    session: int
    token: str  # typed into the spam and sentiment text and the chatbot question
    name: str  # the fictional person on the uploaded resume

    def marks(self) -> tuple[str, str]:
        return self.token, self.name


def privates(sessions: int) -> list[Private]:
    """Unique tokens and fictional names, one per session."""
    out = []
    for i in range(sessions):
        token = f"zq{i}x{secrets.token_hex(3)}"
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
        out.append(Private(i, token, f"{first} {last}"))
    return out


def resume_pdf(name: str) -> bytes:
    """A one-page resume for a fictional person (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    email = name.lower().replace(" ", ".")
    lines = [
        f"{email}@example.org | +44 20 7946 0000 | Leeds, United Kingdom",
        "",
        "SUMMARY",
        "Data analyst with five years of experience in Python, SQL and dashboards.",
        "",
        "EXPERIENCE",
        "Data Analyst, Northwind Traders, 2019 - 2024",
        "- Built weekly sales dashboards in Tableau used by 40 managers.",
        "- Automated reporting with Python and pandas, saving 10 hours a week.",
        "",
        "EDUCATION",
        "BSc Mathematics, University of Leeds, 2015 - 2018",
        "",
        "SKILLS",
        "Python, SQL, pandas, Tableau, Excel, statistics, A/B testing",
    ]
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def plant(page, demo: Demo, mine: Private, timeout_s: float) -> str | None:
    """Put this session's private item on the page, where the page takes one; returns what was planted."""
    ms = timeout_s * 1000
    if demo.key == "spam":
        await page.get_by_role("textbox", name="Message").fill(f"Hi {mine.token}, your parcel is waiting at the depot")
        await page.get_by_role("button", name="Classify", exact=True).click()
        await wait_idle(page, timeout_s)
        return "spam text"
    if demo.key == "sentiment":
        box = page.get_by_role("textbox", name="Text (a review, a tweet, a comment)")
        await box.fill(f"I really loved the {mine.token} blender, it works great")
        await page.get_by_role("button", name="Analyze", exact=True).click()
        await wait_idle(page, timeout_s)
        return "sentiment text"
    if demo.key == "chatbot":
        before = await assistant_messages(page).count()
        box = page.locator('[data-testid="stChatInputTextArea"]')
        await box.fill(f"How does the spam detector handle the word {mine.token}?")
        await box.press("Enter")
        await assistant_messages(page).nth(before).wait_for(state="visible", timeout=ms)
        await wait_idle(page, timeout_s)
        return "chat question"
    if demo.key == "news" and mine.session == 0:
        await page.get_by_role("button", name="👍 Like").first.click()
        await wait_idle(page, timeout_s)
        await page.get_by_text(re.compile(r"^1 liked · ")).first.wait_for(state="visible", timeout=ms)
        return "liked a story"
    if demo.key == "resume":
        await page.get_by_text("Upload", exact=True).first.click()
        await wait_idle(page, timeout_s)
        await page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
            {"name": "resume.pdf", "mimeType": "application/pdf", "buffer": resume_pdf(mine.name)}
        )
        await page.get_by_text(mine.name).first.wait_for(state="visible", timeout=ms)
        await wait_idle(page, timeout_s)
        return "resume upload"
    return None


async def shown(page) -> str:
    """The page's text (main area and sidebar) and the values of its inputs: where a leaked item would show."""
    text = await page.locator('[data-testid="stMain"]').inner_text()
    text += "\n" + await page.locator('[data-testid="stSidebar"]').inner_text()
    return text + "\n" + await page.evaluate(VALUES_JS)


async def find_leaks(page, demo: Demo, mine: Private, others: list[Private]) -> list[str]:
    """What this session's page shows that belongs to another session."""
    text = await shown(page)
    leaks = []
    for other in others:
        for mark in other.marks():
            if mark in text:
                at = text.index(mark)
                snippet = text[max(0, at - 60) : at + 60].replace("\n", " ")
                leaks.append(f"{demo.key}: shows session {other.session}'s {mark!r}: …{snippet}…")
    if demo.key == "news":
        match = re.search(r"(\d+) liked · (\d+) hidden", text)
        expected = 1 if mine.session == 0 else 0
        if match and mine.session != 0 and int(match.group(1)) != expected:
            leaks.append(f"news: shows {match.group(0)!r} but this session liked nothing (session 0 liked one)")
    return leaks


@dataclass
class SessionResult:
    session: int
    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    planted: list[str] = field(default_factory=list)
    reclicks: list[str] = field(default_factory=list)  # navigations whose first click was lost
    pages_done: int = 0
    seconds: float = 0.0


MEDIA_PATH = re.compile(r"^https?://[^/]+/media/")
MEDIA_TYPES = frozenset({"image", "fetch", "xhr"})  # not "media": audio and video stream as they play
MEDIA_READY_JS = """() => !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stApp"] img')].every(i => i.complete)"""  # lazy elements drawn
MEDIA_SETTLE_S = 0.5  # a download button checks its file just after it is drawn


class Session:
    """One browser session's page and where it is: console errors name the step they came in."""

    def __init__(self, page, result: SessionResult) -> None:
        self.page, self.result = page, result
        self.step = "home"
        self.media: set[Any] = set()  # /media requests sent and not answered yet
        watch_console(page, result.console_errors, lambda: self.step)
        page.on("request", self._sent)
        page.on("requestfinished", self._answered)
        page.on("requestfailed", self._answered)

    def _sent(self, request) -> None:
        if request.resource_type in MEDIA_TYPES and MEDIA_PATH.match(request.url):
            self.media.add(request)

    def _answered(self, request) -> None:
        self.media.discard(request)

    async def media_loaded(self, timeout_s: float = MEDIA_TIMEOUT_S) -> None:
        """Wait until every element is drawn, every picture loaded (or failed) and no /media request in flight.

        Streamlit drops a session's media files when its next full run starts, so a picture or a download
        button's source check still on its way when the visitor clicks is answered 404. Both come late under
        load: an element type's code loads on its first use (a skeleton shows meanwhile), and only then does a
        download button check its file. A visitor looks at the page before the next click.
        """
        deadline = time.monotonic() + timeout_s
        ready_since = None
        while True:
            now = time.monotonic()
            if not self.media and await self.page.evaluate(MEDIA_READY_JS):
                ready_since = ready_since or now
                if now - ready_since >= MEDIA_SETTLE_S:
                    return
            else:
                ready_since = None
            if now > deadline:
                raise TimeoutError(
                    f"{len(self.media)} media requests unanswered, or elements or pictures still loading, "
                    f"after {timeout_s:.0f} s"
                )
            await asyncio.sleep(0.1)

    async def screenshot(self, name: str) -> str:
        """A screenshot of the page now, under SHOTS_DIR (never in the repository); its path or why none."""
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SHOTS_DIR / f"{time.strftime('%H%M%S')}-session{self.result.session}-{name}.png"
        try:
            await self.page.screenshot(path=str(path), full_page=True, timeout=30_000)
        except Exception as exc:  # noqa: BLE001 - the failure is reported without its picture
            return f"no screenshot ({type(exc).__name__})"
        return str(path)


async def run_session(
    browser, server: Server, demos: tuple[Demo, ...], mine: Private, everyone: list[Private], timeout_s: float
) -> tuple[SessionResult, Any, Any]:
    """Phase 1 of one session: every page (rotated per session), its main action, its private item."""
    result = SessionResult(mine.session)
    others = [p for p in everyone if p.session != mine.session]
    context = await browser.new_context(viewport=VIEWPORT)
    session = Session(await context.new_page(), result)
    start = time.monotonic()
    await open_url(session.page, server.url, HOME_TITLE, timeout_s)
    shift = mine.session % len(demos)
    for demo in (*demos[shift:], *demos[:shift]):
        await visit(session, demo, mine, others, timeout_s, act=True)
        result.pages_done += 1
        progress(f"concurrency: session {mine.session} done {demo.key} ({result.pages_done}/{len(demos)})")
    result.seconds = time.monotonic() - start
    return result, context, session


async def visit(session: Session, demo: Demo, mine: Private, others: list[Private], timeout_s: float, act: bool):
    """One page in one session; a failed step is reported with a screenshot, and the session goes on.

    Console errors are labelled with the step they came in: ``a -> b`` while leaving page a for page b (a late
    answer to page a's media shows then), ``b`` once b's heading is there.
    """
    page, result, left = session.page, session.result, session.step
    step = "navigate"
    try:
        session.step = f"{left} -> {demo.key}"
        reclicks = await navigate(page, demo, min(timeout_s, STEP_TIMEOUT_S))
        session.step = demo.key
        if reclicks:
            result.reclicks.append(f"{left} -> {demo.key}: the link clicked {reclicks + 1} times")
        step = "media"
        await session.media_loaded()
        if act:
            step = "preset"
            await run_preset(page, demo, timeout_s)
            await session.media_loaded()
            step = "plant"
            planted = await plant(page, demo, mine, min(timeout_s, STEP_TIMEOUT_S))
            if planted:
                await session.media_loaded()
                result.planted.append(planted)
                if planted != "liked a story" and mine.marks()[planted == "resume upload"] not in await shown(page):
                    result.failures.append(f"{demo.key}: planted {planted} but the page does not show it")
        step = "leak check"
        result.leaks += await find_leaks(page, demo, mine, others)
    except Exception as exc:  # noqa: BLE001 - a failed step is reported, the session goes on
        shot = await session.screenshot(demo.key)
        result.failures.append(
            f"{demo.key} ({step}): {type(exc).__name__}: {str(exc).splitlines()[0][:200]} [screenshot: {shot}]"
        )
        session.step = demo.key
    result.exceptions += [f"{demo.key}: {t.splitlines()[0] if t else ''}" for t in await exception_texts(page)]


CHECK_AGAIN = ("spam", "sentiment", "chatbot", "news", "resume")  # pages with private items, rechecked at the end


async def measure_concurrency(
    browser, server: Server, sampler: RssSampler, demos: tuple[Demo, ...], sessions: int, timeout_s: float
) -> dict[str, Any]:
    """N sessions at once over every page; then every session rechecks the private pages after all have planted."""
    everyone = privates(sessions)
    sampler.new_part()
    start = time.monotonic()
    outcomes = await asyncio.gather(
        *(run_session(browser, server, demos, p, everyone, timeout_s) for p in everyone), return_exceptions=True
    )
    results: list[SessionResult] = []
    open_pages = []
    for p, outcome in zip(everyone, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            failed = SessionResult(p.session, failures=[f"session failed: {type(outcome).__name__}: {outcome}"[:300]])
            results.append(failed)
        else:
            result, context, session = outcome
            results.append(result)
            open_pages.append((context, session, p))
    progress("concurrency: every session has planted its items; rechecking the private pages in every session")
    recheck = [d for d in demos if d.key in CHECK_AGAIN]

    async def again(session: Session, mine: Private) -> None:
        others = [p for p in everyone if p.session != mine.session]
        for demo in recheck:
            await visit(session, demo, mine, others, timeout_s, act=False)

    await asyncio.gather(*(again(session, p) for _, session, p in open_pages))
    for context, _, _ in open_pages:
        await context.close()
    return {
        "sessions": sessions,
        "seconds": time.monotonic() - start,
        "peak_mb": sampler.part_peak_mb,
        "rss_after_mb": sampler.sample(),
        "tokens": {p.session: {"token": p.token, "name": p.name} for p in everyone},
        "results": [asdict(r) for r in results],
        "exceptions": sum(len(r.exceptions) + len(r.console_errors) for r in results),
        "leaks": sum(len(r.leaks) for r in results),
        "failures": sum(len(r.failures) for r in results),
        "reclicks": sum(len(r.reclicks) for r in results),
        "passed": all(
            not (r.exceptions or r.console_errors or r.leaks or r.failures) and r.pages_done == len(demos)
            for r in results
        ),
    }


def concurrency_report(result: dict[str, Any]) -> str:
    rows = [
        [
            r["session"],
            r["pages_done"],
            r["seconds"],
            len(r["exceptions"]),
            len(r["console_errors"]),
            len(r["leaks"]),
            len(r["failures"]),
            len(r.get("reclicks", ())),
            ", ".join(r["planted"]),
        ]
        for r in result["results"]
    ]
    head = ["session", "pages", "seconds", "exceptions", "console errors", "leaks", "failed steps", "clicked again",
            "planted"]  # fmt: skip
    text = table(head, rows)
    text += (
        f"\n{result['sessions']} sessions in {result['seconds']:.0f} s, server peak {result['peak_mb']:,.0f} MiB: "
        f"{result['exceptions']} exceptions/console errors, {result['leaks']} cross-session leaks, "
        f"{result.get('failures', 0)} failed steps (target 0, 0 and 0): {'PASS' if result['passed'] else 'FAIL'}"
    )
    if result.get("reclicks"):
        text += f"\n{result['reclicks']} navigations needed a second click (the first was lost; not a failure)"
    for r in result["results"]:
        for kind in ("exceptions", "console_errors", "leaks", "failures", "reclicks"):
            for item in r.get(kind, ()):
                text += f"\n  session {r['session']} {kind.replace('_', ' ')}: {item}"
    return text


# ------------------------------------------------------------------ soak
async def measure_soak(browser, server: Server, sampler: RssSampler, demos: tuple[Demo, ...], minutes: float):
    """One session cycling through every page with its main action; RSS after each full cycle."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    console: list[str] = []
    watch_console(page, console, lambda: "soak")
    await open_url(page, server.url, HOME_TITLE, FIRST_VISIT_TIMEOUT_S)
    end = time.monotonic() + minutes * 60
    cycles: list[dict[str, Any]] = []
    exceptions: list[str] = []
    while time.monotonic() < end or not cycles:
        start = time.monotonic()
        for demo in demos:
            try:
                await navigate(page, demo, FIRST_VISIT_TIMEOUT_S)
                await run_preset(page, demo, FIRST_VISIT_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - reported, the soak goes on
                exceptions.append(f"cycle {len(cycles) + 1} {demo.key}: {type(exc).__name__}: {str(exc)[:160]}")
            exceptions += [f"cycle {len(cycles) + 1} {demo.key}: {t[:160]}" for t in await exception_texts(page)]
        rss = sampler.sample()
        cycles.append({"cycle": len(cycles) + 1, "rss_mb": rss, "peak_mb": sampler.peak_mb,
                       "seconds": time.monotonic() - start})  # fmt: skip
        progress(f"soak: cycle {len(cycles)} {rss:.0f} MiB in {cycles[-1]['seconds']:.0f} s")
    await context.close()
    first, last = cycles[0]["rss_mb"], cycles[-1]["rss_mb"]
    growth = (last - first) / first if first else 0.0
    return {
        "minutes": minutes,
        "cycles": cycles,
        "rss_after_cycle_1_mb": first,
        "rss_end_mb": last,
        "growth": growth,
        "target_growth": SOAK_GROWTH_TARGET,
        "passed": growth < SOAK_GROWTH_TARGET and len(cycles) > 1,
        "exceptions": exceptions,
        "console_errors": console,
    }


def soak_report(result: dict[str, Any]) -> str:
    text = table(["cycle", "RSS after (MiB)", "peak so far (MiB)", "seconds"],
                 [[c["cycle"], c["rss_mb"], c["peak_mb"], c["seconds"]] for c in result["cycles"]])  # fmt: skip
    text += (
        f"\nRSS after cycle 1 {result['rss_after_cycle_1_mb']:,.0f} MiB, at the end {result['rss_end_mb']:,.0f} MiB: "
        f"growth {result['growth']:+.1%} vs target < {result['target_growth']:.0%}: "
        f"{'PASS' if result['passed'] else 'FAIL (one cycle only)' if len(result['cycles']) < 2 else 'FAIL'}"
    )
    for e in result["exceptions"] + result["console_errors"]:
        text += f"\n  {e}"
    return text


# ------------------------------------------------------------------ cold start (issue 25)
COLD_CAP_S = 600.0  # per first result and per action; past it the row says "> 600 s" and the run goes on
COLD_SETTLE_S = 3.0  # settled this long, continuously, counts: longer than the 2 s period of a progress fragment
COLD_POLL_S = 0.1
COLD_PROBE_TIMEOUT_S = 30.0  # one look at the page; a page busy in JavaScript answers late
COLD_CLICK_TIMEOUT_S = 30.0
COLD_VIEWPORT = {"width": 1440, "height": 900}
GOAL_FIRST_IDLE_S = 3.0
GOAL_FIRST_BUSY_S = 6.0
GOAL_ACTION_S = 2.0
COLD_PASSES = ("idle", "busy")
HOME_KEY, SYSTEM_KEY, TRIVIAL_KEY = "home", "system", "trivial"
# Removed from the cold server's environment: a visitor's server (the README's `streamlit run app.py`) gets none,
# so the server's own thread budget is what is measured, not the harness's.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "TORCH_NUM_THREADS",
)  # fmt: skip
# A CPU-bound neighbour (a busy shared host): `while True: pass`, which dies with the harness even when the
# harness is killed before its finally block runs (PR_SET_PDEATHSIG on Linux; argv[1] is the harness's pid).
NEIGHBOUR_CODE = """import os, sys
try:
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except (AttributeError, OSError):
    pass
if os.getppid() == int(sys.argv[1]):
    while True: pass
"""
# Installed in every document before Streamlit's own scripts: counts the script runs (whole page or fragment)
# that start, so that a page rerun by a timer (a training job's progress fragment) never counts as settled.
RUNS_JS = """window.__galleryRuns = 0;
new MutationObserver((records) => {
    for (const r of records) {
        if (r.target.getAttribute('data-test-script-state') === 'running' && r.oldValue !== 'running') {
            window.__galleryRuns += 1;
        }
    }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state'],
                      attributeOldValue: true});
// Messages from the server, counted: a script run so fast that React never draws the "running" state (the trivial
// page's button on an idle server) still sends its deltas, so a click's rerun is seen either way.
(() => {
    const Native = window.WebSocket;
    window.__galleryFrames = 0;
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => { window.__galleryFrames += 1; });
        }
    };
})();"""
# Facts about the page, gathered in one evaluate; busy_reasons() and SettleClock turn them into a verdict.
SNAPSHOT_JS = """(title) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const main = document.querySelector('[data-testid="stMain"]');
    const inMain = (selector) => main ? main.querySelectorAll(selector).length : 0;
    const heading = !!main && [...main.querySelectorAll('h1, h2, h3')].some(h => h.innerText.includes(title));
    const skip = 'label, button, summary, [role="tab"], [role="radiogroup"], [data-baseweb="select"], '
        + '[data-testid="stWidgetLabel"], [data-testid="stMetricLabel"], [data-testid="stTooltipContent"], '
        + '[data-testid="stPlotlyChart"], [data-testid="stVegaLiteChart"], [data-testid="stTable"], '
        + '[data-testid="stDataFrame"], [data-testid="stCode"]';
    const training = [];
    if (main) {
        const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node && training.length < 20; node = walker.nextNode()) {
            if (!/training/i.test(node.nodeValue)) continue;
            const element = node.parentElement;
            if (!element || element.closest(skip) || !element.checkVisibility()) continue;
            const block = element.closest('p, li, h1, h2, h3, h4, h5, h6') || element;
            const text = block.innerText.trim().slice(0, 200);
            if (!training.includes(text)) training.push(text);
        }
    }
    return {
        app: !!app,
        connection: app ? app.getAttribute('data-test-connection-state') : null,
        script: app ? app.getAttribute('data-test-script-state') : null,
        stale: document.querySelectorAll('[data-stale="true"]').length,
        status_widget: !!document.querySelector('[data-testid="stStatusWidget"]'),
        heading: heading,
        spinners: inMain('[data-testid="stSpinner"]'),
        bars: main ? [...main.querySelectorAll('[data-testid="stProgress"]')].filter(e => e.checkVisibility())
            .map(e => (e.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ?? '?') + ' '
                + e.innerText.trim().slice(0, 80)) : [],
        runs: window.__galleryRuns ?? null,
        frames: window.__galleryFrames ?? null,
        running_status: inMain('[data-testid="stExpanderIconSpinner"]'),
        skeletons: inMain('[data-testid="stSkeleton"]'),
        training: training,
    };
}"""
# Visible main-area text that says training is under way. Not any "training": the pages' prose says it too
# ("drops implausible training rows", "never saw in training", a "Training time" tile), and a page that explains
# its model has finished nothing less for it. A status line starts with it ("Training gradient boosting on 2,000
# rows", "⏳ Training the digits CNN"), or it trails off ("before training…"), or is/still/now training.
TRAINING_NOW = re.compile(
    r"^\W*training\b|\btraining\s*(?:…|\.\.\.)|\b(?:is|are|still|now)\s+training\b|\bbeing\s+trained\b"
    r"|\btraining\s+in\s+the\s+background\b",
    re.IGNORECASE,
)


def is_training_text(text: str) -> bool:
    """Whether one block of main-area text says that training is under way (see TRAINING_NOW)."""
    return bool(TRAINING_NOW.search(text.strip()))


def busy_reasons(snapshot: dict[str, Any] | None, min_runs: int = 0, min_frames: int | None = None) -> list[str]:
    """Why the page has not settled on a real result yet (empty: nothing holds it); see :class:`SettleClock`.

    Nothing holds it when: the app is connected; its script has finished (``data-test-script-state`` is
    ``notRunning``, Streamlit's running indicator ``stStatusWidget`` is gone, no element of the previous run is
    left stale); at least ``min_runs`` script runs have started in this document (a click's own rerun), or, with
    ``min_frames``, at least that many messages came from the server (a rerun too quick to be drawn); the page's
    title is shown in the main area; and the main area has no spinner, no ``st.status`` still running, no skeleton
    placeholder and no visible text that says training is under way (:func:`is_training_text`). ``None`` is a
    page that did not answer (loading, or navigating).
    """
    if snapshot is None:
        return ["the page did not answer"]
    if not snapshot.get("app") or snapshot.get("connection") != "CONNECTED":
        return [f"not connected ({snapshot.get('connection')})"]
    reasons = []
    if snapshot.get("script") != "notRunning":
        reasons.append(f"script {snapshot.get('script')}")
    if snapshot.get("status_widget"):
        reasons.append("running indicator")
    if snapshot.get("stale"):
        reasons.append("stale elements")
    if (snapshot.get("runs") or 0) < min_runs and (min_frames is None or (snapshot.get("frames") or 0) < min_frames):
        reasons.append("its rerun has not started")
    if not snapshot.get("heading"):
        reasons.append("title not shown")
    for field_name, what in (("spinners", "spinner"), ("running_status", "status running"), ("skeletons", "skeleton")):
        if snapshot.get(field_name):
            reasons.append(what)
    reasons += [f"training text: {t[:80]}" for t in snapshot.get("training", ()) if is_training_text(t)]
    return reasons


def rerun_since(before: dict[str, Any] | None) -> tuple[int, int | None]:
    """``(min_runs, min_frames)`` for busy_reasons: one more script run, or one more server message, than ``before``.

    No snapshot before (none taken, or the page did not answer): nothing to wait for.
    """
    if before is None:
        return 0, None
    return (before.get("runs") or 0) + 1, (before.get("frames") or 0) + 1


def marks(snapshot: dict[str, Any] | None) -> tuple[Any, ...]:
    """What must stand still while a settled stretch lasts: script runs started, messages from the server and the
    visible progress bars. The messages count too because a fragment rerun by a timer that redraws the same bar can
    finish before the browser ever draws the "running" state, so the run counter alone may miss it; an idle page
    gets no messages."""
    if snapshot is None:
        return (None, None, ())
    return (snapshot.get("runs"), snapshot.get("frames"), tuple(snapshot.get("bars", ())))


@dataclass
class SettleClock:
    """When a page first settled: the start of a stretch of ``settle_s`` with nothing holding it and nothing moving.

    A stretch ends at any look with a busy reason, and restarts when its marks change: a script run started (a
    fragment rerun by a timer, a training job's live panel) or a progress bar moved. A progress bar that stands
    still with no run at all is a gauge (the System page's memory), not progress. The time reported is the start
    of the stretch, so a longer ``settle_s`` costs waiting, not seconds in the table.
    """

    settle_s: float = COLD_SETTLE_S
    since: float | None = None
    marks: Any = None
    last_reasons: list[str] = field(default_factory=lambda: ["not looked at yet"])

    def observe(self, now: float, reasons: list[str], seen: Any = None) -> float | None:
        """Feed one look (its time, busy reasons and marks); the start of the stretch once it lasted, else None."""
        if reasons:
            self.since, self.last_reasons = None, reasons
            return None
        if self.since is not None and seen != self.marks:
            self.since, self.last_reasons = None, ["reruns or a moving progress bar"]
        if self.since is None:
            self.since, self.marks = now, seen
        return self.since if now - self.since >= self.settle_s else None


@dataclass
class Timing:
    """One measured wait: seconds until settled, or why there is no number."""

    seconds: float | None = None
    capped: bool = False  # still busy at the cap
    waiting_on: list[str] = field(default_factory=list)  # what still held it at the cap
    error: str | None = None
    skipped: str | None = None  # not measured, and why


@dataclass(frozen=True)
class ColdPage:
    key: str
    title: str  # what its heading contains
    path: str  # below the server's URL


def cold_pages(keys: tuple[str, ...] | None = None) -> list[ColdPage]:
    """The gallery home, every demo of the registry (in its order) and the System page; or only ``keys``."""
    pages = [ColdPage(HOME_KEY, HOME_TITLE, ""), *(ColdPage(d.key, d.title, d.key) for d in DEMOS),
             ColdPage(SYSTEM_KEY, "System", "system")]  # fmt: skip
    return [p for p in pages if not keys or p.key in keys]


def cold_env(cache_dir: Path, data_dir: Path | None = None) -> dict[str, str]:
    """A visitor's fresh server: offline, an empty cache (and Hugging Face home), no model folder, no thread caps."""
    drop = ("GALLERY_DATA_DIR", "GALLERY_MODEL_DIR", *THREAD_VARIABLES)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"GALLERY_OFFLINE": "1", "GALLERY_CACHE_DIR": str(cache_dir), "HF_HOME": str(cache_dir / "hf"),
                "PYTHONUNBUFFERED": "1"})  # fmt: skip
    if data_dir is not None:
        env["GALLERY_DATA_DIR"] = str(data_dir)
    return env


@contextmanager
def neighbours(count: int) -> Iterator[list[subprocess.Popen]]:
    """``count`` CPU-bound processes for the duration of the block; always killed when it ends."""
    processes: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and code
                    [sys.executable, "-c", NEIGHBOUR_CODE, str(os.getpid())],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        for process in processes:
            process.wait(timeout=10)


async def look(page, title: str) -> dict[str, Any] | None:
    """One snapshot of the page (SNAPSHOT_JS), or None when it does not answer."""
    try:
        return await asyncio.wait_for(page.evaluate(SNAPSHOT_JS, title), COLD_PROBE_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - navigating, reloading or hung: not settled
        return None


async def wait_settled(
    page, title: str, start: float, cap_s: float, done: Any = None, after: dict[str, Any] | None = None
) -> Timing:
    """Poll until the page has settled (:class:`SettleClock`); the seconds from ``start`` to that.

    ``done``, a locator, must also be visible (the chatbot's new answer); ``after``, the snapshot taken just before
    a click: a rerun must have started since (see busy_reasons). Bounded:
    the wait ends ``cap_s`` after ``start`` (plus the settling time) whatever the page does.
    """
    clock = SettleClock()
    deadline = start + cap_s + clock.settle_s
    while time.monotonic() < deadline:
        snapshot = await look(page, title)
        reasons = busy_reasons(snapshot, *rerun_since(after))
        if done is not None and not reasons and not await done.is_visible():
            reasons = ["the answer is not shown"]
        since = clock.observe(time.monotonic(), reasons, marks(snapshot))
        if since is not None:
            if since - start > cap_s:
                break
            return Timing(seconds=since - start)
        await asyncio.sleep(COLD_POLL_S)
    return Timing(capped=True, waiting_on=clock.last_reasons[:5])


# Main actions of the pages that have none among the browser tests' MAIN_ACTIONS: read a random test digit,
# transcribe the sample recording, like the top story.
COLD_ACTIONS = ("🎲 Random test digit", "Transcribe", "👍 Like")


async def cold_visit(page, base_url: str, target: ColdPage, cap_s: float, extra_actions: tuple[str, ...] = ()):
    """Open ``target`` (a fresh navigation) until its first result, then time its main action the same way."""
    row: dict[str, Any] = {"key": target.key, "title": target.title, "action_label": None}
    start = time.monotonic()
    try:
        await page.goto(f"{base_url}/{target.path}", wait_until="commit", timeout=cap_s * 1000)
        first = await wait_settled(page, target.title, start, cap_s)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
        first = Timing(error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    action = None
    if first.seconds is None:
        action = Timing(skipped="the first result never came")
    else:
        try:
            found = await find_action(page, target.key, extra_actions)
            if found is not None:
                row["action_label"], button, done = found
                before = await look(page, target.title)
                start = time.monotonic()
                await button.click(timeout=COLD_CLICK_TIMEOUT_S * 1000)
                action = await wait_settled(page, target.title, start, cap_s, done, after=before)
        except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
            action = Timing(error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    row["first"] = asdict(first)
    row["action"] = None if action is None else asdict(action)  # None: the page has no main action
    row["exceptions"] = [t.splitlines()[0][:200] if t else "" for t in await exception_texts(page)]
    return row


def git_state(root: Path = ROOT) -> dict[str, Any]:
    """The commit of the tree served and how many files differ from it there (others work in the same tree)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603, S607
        return done.stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "changed_files": len(git("status", "--porcelain").splitlines()),
        }
    except (OSError, subprocess.SubprocessError) as exc:
        return {"commit": f"unknown ({exc})", "changed_files": None}


@dataclass(frozen=True)
class ColdSettings:
    """What a cold run measures and how."""

    keys: tuple[str, ...] | None = None  # pages (cold_pages keys); None: all
    passes: tuple[str, ...] = COLD_PASSES
    neighbours: int = 2  # CPU-bound processes during the busy pass
    cap_s: float = COLD_CAP_S
    data_dir: Path | None = None  # GALLERY_DATA_DIR for the server; None: the bundled samples
    app_root: Path = ROOT  # the checkout served (another one measures a before/after on the same machine)


async def cold_visits(playwright, name: str, visits: list[tuple[str, ColdPage, str]], cap_s: float) -> dict[str, Any]:
    """Each ``(when, page, server URL)`` in turn in one browser tab at 1440x900; the rows and console errors."""
    rows: list[dict[str, Any]] = []
    console: list[str] = []
    current = ["start"]
    browser = await launch(playwright)
    try:
        context = await browser.new_context(viewport=COLD_VIEWPORT)
        await context.add_init_script(RUNS_JS)
        page = await context.new_page()
        watch_console(page, console, lambda: current[0])
        for when, target, url in visits:
            current[0] = f"{target.key} {when}".strip()
            row = await cold_visit(page, url, target, cap_s, ("Go",) if target.key == TRIVIAL_KEY else COLD_ACTIONS)
            row.update(reference=target.key in (TRIVIAL_KEY, HOME_KEY), when=when)
            rows.append(row)
            first, action = timing_cell(row["first"], None, cap_s), timing_cell(row["action"], None, cap_s)
            progress(f"cold {name}: {current[0]:<15} first result {first} · {row['action_label'] or '-'} {action}")
    finally:
        await browser.close()
    return {"rows": rows, "console_errors": console}


async def cold_pass(playwright, name: str, settings: ColdSettings, workdir: Path) -> dict[str, Any]:
    """One pass: neighbours (if any), a trivial server and a fresh gallery server, every page in turn."""
    neighbour_count = settings.neighbours if name == "busy" else 0
    workdir.mkdir(parents=True)
    (workdir / "cache").mkdir()
    (workdir / "trivial_app.py").write_text(TRIVIAL_APP, encoding="utf-8")
    trivial_page = ColdPage(TRIVIAL_KEY, TRIVIAL_TITLE, "trivial")
    with neighbours(neighbour_count):
        load_start = os.getloadavg()
        started = time.monotonic()
        env = offline_env(workdir / "cache-trivial")
        trivial = start_server(workdir / "trivial_app.py", workdir, env, workdir / "trivial.log")
        server = None
        try:
            env = cold_env(workdir / "cache", settings.data_dir)
            server = start_server(settings.app_root / "app.py", settings.app_root, env, workdir / "server.log")
            server_start_s = time.monotonic() - started
            progress(f"cold {name}: servers up in {server_start_s:.1f} s ({neighbour_count} neighbours)")
            visits = [
                ("start", trivial_page, trivial.url),
                *(("", p, server.url) for p in cold_pages(settings.keys)),
                ("end", trivial_page, trivial.url),
            ]
            measured = await cold_visits(playwright, name, visits, settings.cap_s)
        finally:
            if server is not None:
                server.stop()
            trivial.stop()
        load_end = os.getloadavg()
    return {
        "neighbours": neighbour_count,
        "server_start_s": server_start_s,
        "load_average_start": load_start,
        "load_average_end": load_end,
        **measured,
        "server_log_tail": _tail(workdir / "server.log", 40),
    }


async def run_cold(settings: ColdSettings, workdir: Path) -> dict[str, Any]:
    """The cold mode: each pass on its own fresh server and empty cache; returns the results with their table."""
    from playwright.async_api import async_playwright

    result: dict[str, Any] = {
        **git_state(settings.app_root),
        "app_root": str(settings.app_root),
        "cpus": os.cpu_count(),
        "cap_s": settings.cap_s,
        "settle_s": COLD_SETTLE_S,
        "viewport": COLD_VIEWPORT,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "goals": {"first_idle_s": GOAL_FIRST_IDLE_S, "first_busy_s": GOAL_FIRST_BUSY_S, "action_s": GOAL_ACTION_S},
        "passes": {},
    }
    async with async_playwright() as playwright:
        for name in settings.passes:
            progress(f"cold {name}: a fresh server and an empty cache, {len(cold_pages(settings.keys))} pages")
            result["passes"][name] = await cold_pass(playwright, name, settings, workdir / name)
    result["passed"] = cold_goals_met(result)
    result["markdown"] = cold_markdown(result)
    return result


def timing_cell(timing: dict[str, Any] | None, goal: float | None, cap_s: float) -> str:
    """``2.1 s ✅``, ``> 600 s ❌``, ``—`` (no such action), ``not reached`` or ``error``; no mark without a goal."""
    if timing is None:
        return "—"
    if timing.get("skipped"):
        return "not reached"
    if timing.get("error"):
        return "error" + (" ❌" if goal is not None else "")
    if timing.get("capped") or timing.get("seconds") is None:
        return f"> {cap_s:.0f} s" + (" ❌" if goal is not None else "")
    text = f"{timing['seconds']:.1f} s"
    return text if goal is None else f"{text} {'✅' if timing['seconds'] <= goal else '❌'}"


def _goal(name: str, column: str) -> float:
    if column == "action":
        return GOAL_ACTION_S
    return GOAL_FIRST_BUSY_S if name == "busy" else GOAL_FIRST_IDLE_S


def _row_label(row: dict[str, Any]) -> str:
    if row["key"] == TRIVIAL_KEY:
        return f"trivial page (2nd server, reference, at the {row['when']})"
    if row["key"] == HOME_KEY:
        return "Gallery home (reference)"
    return row["title"]


def _row_id(row: dict[str, Any]) -> str:
    return f"{row['key']} {row.get('when', '')}".strip()


def cold_markdown(result: dict[str, Any]) -> str:
    """The cold-mode table (page | first result and main action, idle and busy) with its goals and notes."""
    cap_s = result["cap_s"]
    passes = result["passes"]
    order: dict[str, dict[str, Any]] = {}
    for data in passes.values():
        for row in data["rows"]:
            order.setdefault(_row_id(row), row)
    lines = [
        "| page | first result idle | main action idle | first result busy | main action busy |",
        "|---|---|---|---|---|",
    ]
    for row_id, row in order.items():
        cells = [_row_label(row)]
        for name in COLD_PASSES:
            match = next((r for r in passes.get(name, {}).get("rows", ()) if _row_id(r) == row_id), None)
            if match is None:
                cells += ["not run", "not run"]
                continue
            for column in ("first", "action"):
                goal = None if match.get("reference") else _goal(name, column)
                cells.append(timing_cell(match[column], goal, cap_s))
        lines.append("| " + " | ".join(cells) + " |")
    goals = result["goals"]
    lines.append("")
    lines.append(
        f"Goals: first result ≤ {goals['first_idle_s']:g} s idle and ≤ {goals['first_busy_s']:g} s busy, main action "
        f"≤ {goals['action_s']:g} s; cap {cap_s:.0f} s. Measured at commit {result['commit'][:12]} "
        f"({result['changed_files']} tracked files changed in the working tree) on {result['cpus']} CPUs."
    )
    actions = {_row_label(r): r["action_label"] for r in order.values() if r["action_label"]}
    if actions:
        lines.append("Main actions: " + "; ".join(f"{page}: {name}" for page, name in actions.items()) + ".")
    for name, data in passes.items():
        start, end = data["load_average_start"][0], data["load_average_end"][0]
        lines.append(
            f"{name.capitalize()} pass: {data['neighbours']} CPU-bound neighbours, servers up in "
            f"{data['server_start_s']:.1f} s, load average {start:.1f} at the start and {end:.1f} at the end."
        )
        for row in data["rows"]:
            for column in ("first", "action"):
                timing = row[column] or {}
                if timing.get("capped"):
                    lines.append(
                        f"- {name}, {_row_id(row)} {column}: still {'; '.join(timing['waiting_on'])} at the cap"
                    )
                if timing.get("error"):
                    lines.append(f"- {name}, {_row_id(row)} {column}: {timing['error']}")
            for text in row["exceptions"]:
                lines.append(f"- {name}, {_row_id(row)}: exception box: {text}")
        for text in data["console_errors"][:10]:
            lines.append(f"- {name}: {text}")
    return "\n".join(lines)


def cold_goals_met(result: dict[str, Any]) -> bool:
    """Every demo and the System page within the goals, in every pass run (the reference rows are not judged)."""
    for name, data in result["passes"].items():
        for row in data["rows"]:
            if row.get("reference"):
                continue
            for column in ("first", "action"):
                timing = row[column]
                if timing is None:
                    continue
                seconds = timing.get("seconds")
                if seconds is None or seconds > _goal(name, column):
                    return False
    return True


# ------------------------------------------------------------------ contention (issue 25)
CONTENTION_REPEATS = 5
GOAL_CONTENTION_RATIO = 2.0
WARM_UP_WAIT_S = 300.0  # the server's own warm-up (about 20 s here) must be over before the baseline
JOB_START_WAIT_S = 180.0  # from the trainer's click until its job runs (not queued)
JOB_FINISH_WAIT_S = 600.0  # from closing the trainer's tab until its job's row says it finished
SYSTEM_POLL_S = 5.0
ACTIVE_STATES = ("queued", "running")
# The System page's tables as text (Streamlit's data grid keeps an accessible <table> with the visible rows).
TABLES_JS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')].map(df =>
    [...df.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('th, td')].map(c => c.innerText.trim())))"""
# The trainer tab's live panel: its visible progress bars' text and whether a Stop button shows.
PANEL_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main) return null;
    return {
        bars: [...main.querySelectorAll('[data-testid="stProgress"]')].filter(e => e.checkVisibility())
            .map(e => e.innerText.trim().slice(0, 200)),
        stop: [...main.querySelectorAll('button')].some(b => b.innerText.trim() === 'Stop' && b.checkVisibility()),
    };
}"""


@dataclass(frozen=True)
class Trainer:
    """A page whose button starts a long shared training in the background queue, with a live progress panel."""

    key: str
    path: str  # below the server's URL (query parameters choose a training that is not cached or shipped)
    button: str
    job_title: str  # how its row in the System page's job table begins
    what: str


TRAINERS = {
    "imageclf": Trainer(
        "imageclf",
        "imageclf?ic_epochs=200",
        "Train the CNN",
        "Training the digits CNN",
        "the digits CNN with 200 epochs (the shipped one has 40; the page's time budget stops it at 120 s)",
    ),
}


def job_table(tables: list[list[list[str]]]) -> list[dict[str, str]]:
    """The System page's job table (the one headed job, state, ...) as rows of column -> text; [] when absent."""
    for rows in tables:
        if rows and rows[0][:2] == ["job", "state"]:
            head = rows[0]
            return [dict(zip(head, row, strict=False)) for row in rows[1:] if row]
    return []


def job_row(rows: list[dict[str, str]], title: str) -> dict[str, str] | None:
    """The newest row (the table lists the newest first) whose job begins with ``title``."""
    return next((row for row in rows if row.get("job", "").startswith(title)), None)


PERCENT = re.compile(r"\((\d+)%")


def panel_state(panel: dict[str, Any] | None) -> str:
    """What the trainer's live panel says of its job.

    ``gone`` (no progress bar and no Stop button), ``queued`` (it waits for another training), ``starting`` (its
    bar still at 0%: importing, loading data) or ``running`` (its bar has moved: it trains).
    """
    if not panel or not (panel.get("bars") or panel.get("stop")):
        return "gone"
    bars = panel.get("bars", ())
    if any("waiting for another training" in text for text in bars):
        return "queued"
    percents = [int(m.group(1)) for text in bars for m in PERCENT.finditer(text)]
    return "running" if any(percents) else "starting"


def contention_summary(baseline: list[float], loaded: list[float]) -> dict[str, Any]:
    """Both medians, their ratio and whether it meets the goal (no ratio without numbers on both sides)."""
    before = statistics.median(baseline) if baseline else None
    during = statistics.median(loaded) if loaded else None
    ratio = during / before if before and during is not None else None
    return {
        "baseline_median_s": before,
        "loaded_median_s": during,
        "ratio": ratio,
        "passed": ratio is not None and ratio <= GOAL_CONTENTION_RATIO,
    }


async def system_jobs(page, base_url: str, cap_s: float) -> list[dict[str, str]]:
    """Open the System page afresh until settled and read its job table."""
    start = time.monotonic()
    await page.goto(f"{base_url}/system", wait_until="commit", timeout=cap_s * 1000)
    await wait_settled(page, "System", start, cap_s)
    return job_table(await page.evaluate(TABLES_JS))


async def wait_jobs(page, base_url: str, done: Callable[[list[dict[str, str]]], bool], wait_s: float):
    """Poll the System page's job table until ``done(rows)``; ``(rows, seconds, met)``, bounded by ``wait_s``."""
    start = time.monotonic()
    rows: list[dict[str, str]] = []
    while time.monotonic() - start < wait_s:
        try:
            rows = await system_jobs(page, base_url, COLD_PROBE_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a slow look: try again until the bound
            log.warning("System page: %s", exc)
        if done(rows):
            return rows, time.monotonic() - start, True
        await asyncio.sleep(SYSTEM_POLL_S)
    return rows, time.monotonic() - start, False


async def time_action(page, target: ColdPage, cap_s: float) -> tuple[str | None, Timing]:
    """Press the page's main action once (as the cold mode does) and time it until settled again."""
    found = await find_action(page, target.key, COLD_ACTIONS)
    if found is None:
        return None, Timing(error="no main action on the page")
    label, button, done = found
    before = await look(page, target.title)
    start = time.monotonic()
    try:
        await button.click(timeout=COLD_CLICK_TIMEOUT_S * 1000)
        return label, await wait_settled(page, target.title, start, cap_s, done, after=before)
    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
        return label, Timing(error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


async def time_actions(page, target: ColdPage, repeats: int, cap_s: float, between=None) -> list[dict[str, Any]]:
    """``repeats`` timings of the main action; ``between()`` (awaited after each) adds to its record."""
    records = []
    for _ in range(repeats):
        label, timing = await time_action(page, target, cap_s)
        record = {"action": label, **asdict(timing)}
        if between is not None:
            record.update(await between())
        records.append(record)
        extra = f" (trainer {record['trainer']}: {record['trainer_progress']})" if "trainer" in record else ""
        progress(f"contention: {target.key} {label}: {timing_cell(asdict(timing), None, cap_s)}{extra}")
    return records


def _seconds(records: list[dict[str, Any]]) -> list[float]:
    return [r["seconds"] for r in records if r.get("seconds") is not None]


async def measure_contention(playwright, settings: ContentionSettings, base_url: str) -> dict[str, Any]:
    """Baseline timings of the victim's action, then the same while the trainer's job runs in a second tab."""
    victim = cold_pages((settings.victim,))[0]
    trainer = TRAINERS[settings.trainer]
    trainer_page = cold_pages((trainer.key,))[0]
    out: dict[str, Any] = {"victim": victim.title, "trainer": trainer.what, "trainer_button": trainer.button}
    browser = await launch(playwright)
    try:
        context = await browser.new_context(viewport=COLD_VIEWPORT)
        await context.add_init_script(RUNS_JS)
        page = await context.new_page()
        rows, waited, met = await wait_jobs(page, base_url, lambda r: not any(
            row.get("state") in ACTIVE_STATES for row in r), WARM_UP_WAIT_S)  # fmt: skip
        out["warm_up"] = {"seconds_waited": waited, "idle": met, "jobs": rows}
        progress(f"contention: queue idle after {waited:.0f} s: {met}")
        start = time.monotonic()
        await page.goto(f"{base_url}/{victim.path}", wait_until="commit", timeout=settings.cap_s * 1000)
        out["victim_first"] = asdict(await wait_settled(page, victim.title, start, settings.cap_s))
        out["baseline"] = await time_actions(page, victim, settings.repeats, settings.cap_s)

        trainer_context = await browser.new_context(viewport=COLD_VIEWPORT)
        await trainer_context.add_init_script(RUNS_JS)
        other = await trainer_context.new_page()
        start = time.monotonic()
        await other.goto(f"{base_url}/{trainer.path}", wait_until="commit", timeout=settings.cap_s * 1000)
        out["trainer_first"] = asdict(await wait_settled(other, trainer_page.title, start, settings.cap_s))
        await other.get_by_role("button", name=trainer.button, exact=True).first.click(
            timeout=COLD_CLICK_TIMEOUT_S * 1000
        )
        clicked = time.monotonic()
        state, panel, seen = "gone", None, {}
        while time.monotonic() - clicked < JOB_START_WAIT_S:
            panel = await other.evaluate(PANEL_JS)
            state = panel_state(panel)
            seen.setdefault(state, time.monotonic() - clicked)
            if state == "running":
                break
            await asyncio.sleep(0.5)
        out["job_start"] = {"state": state, "seconds": time.monotonic() - clicked, "panel": panel, "seen": seen}
        progress(f"contention: {trainer.key} job {state} {time.monotonic() - clicked:.1f} s after the click: {panel}")
        if state != "running":
            out["loaded"] = []
            out["error"] = f"the trainer's job did not start running within {JOB_START_WAIT_S:.0f} s ({state})"
        else:

            async def still_training() -> dict[str, Any]:
                now = await other.evaluate(PANEL_JS)
                return {"trainer": panel_state(now), "trainer_progress": (now or {}).get("bars", [])[:1]}

            out["loaded"] = await time_actions(page, victim, settings.repeats, settings.cap_s, still_training)
        await trainer_context.close()
        closed = time.monotonic()
        rows, _, met = await wait_jobs(page, base_url, lambda r: (job_row(r, trainer.job_title) or {}).get(
            "state") not in (*ACTIVE_STATES, None), JOB_FINISH_WAIT_S)  # fmt: skip
        out["job_after_close"] = {
            "finished": met,
            "seconds_after_close": time.monotonic() - closed,
            "row": job_row(rows, trainer.job_title),
        }
        progress(f"contention: after closing the trainer's tab: {out['job_after_close']}")
        out["exceptions"] = [t.splitlines()[0][:200] if t else "" for t in await exception_texts(page)]
    finally:
        await browser.close()
    out.update(contention_summary(_seconds(out["baseline"]), _seconds(out.get("loaded", []))))
    out["loaded_while_running"] = sum(r.get("trainer") == "running" for r in out.get("loaded", []))
    return out


@dataclass(frozen=True)
class ContentionSettings:
    victim: str = "spam"
    trainer: str = "imageclf"
    repeats: int = CONTENTION_REPEATS
    neighbours: int = 0
    cap_s: float = COLD_CAP_S
    app_root: Path = ROOT


async def run_contention(settings: ContentionSettings, workdir: Path) -> dict[str, Any]:
    """The contention mode: one fresh server on an empty cache, with ``neighbours`` CPU-bound processes."""
    from playwright.async_api import async_playwright

    workdir.mkdir(parents=True)
    (workdir / "cache").mkdir()
    result: dict[str, Any] = {**git_state(settings.app_root), "cpus": os.cpu_count(), **asdict(settings)}
    result["app_root"] = str(settings.app_root)
    with neighbours(settings.neighbours):
        result["load_average_start"] = os.getloadavg()
        server = start_server(settings.app_root / "app.py", settings.app_root, cold_env(workdir / "cache"),
                              workdir / "server.log")  # fmt: skip
        try:
            async with async_playwright() as playwright:
                result.update(await measure_contention(playwright, settings, server.url))
        finally:
            server.stop()
        result["load_average_end"] = os.getloadavg()
    result["server_log_tail"] = _tail(workdir / "server.log", 40)
    result["markdown"] = contention_markdown(result)
    return result


def _list(records: list[dict[str, Any]], cap_s: float) -> str:
    return ", ".join(timing_cell(r, None, cap_s) for r in records) or "none"


def contention_markdown(result: dict[str, Any]) -> str:
    """The two medians, their ratio against the goal, the raw timings and what the trainer's job did."""
    cap_s = result["cap_s"]

    def median(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f} s"

    ratio = result.get("ratio")
    verdict = "—" if ratio is None else f"{ratio:.2f}× {'✅' if result['passed'] else '❌'}"
    label = next((r["action"] for r in result.get("baseline", []) if r.get("action")), "main action")
    loaded = result.get("loaded", [])
    lines = [
        f"| {result['victim']}: {label} | median | timings |",
        "|---|---|---|",
        f"| alone | {median(result.get('baseline_median_s'))} | {_list(result.get('baseline', []), cap_s)} |",
        f"| while a training runs in another tab | {median(result.get('loaded_median_s'))} | {_list(loaded, cap_s)} |",
        f"| ratio (goal ≤ {GOAL_CONTENTION_RATIO:g}×) | {verdict} | |",
        "",
        f"Trainer: {result['trainer']}, started with **{result['trainer_button']}** in a second browser context; "
        f"the victim was timed {len(loaded)} times while it trained, its job running after "
        f"{result.get('loaded_while_running', 0)} of them. {result['neighbours']} CPU-bound neighbours; load "
        f"average {result['load_average_start'][0]:.1f} at the start and {result['load_average_end'][0]:.1f} at the "
        f"end; measured at commit {result['commit'][:12]} ({result['changed_files']} tracked files changed) on "
        f"{result['cpus']} CPUs.",
    ]
    start = result.get("job_start") or {}
    if start:
        seen = ", ".join(f"{k} at {v:.1f} s" for k, v in (start.get("seen") or {}).items())
        lines.append(f"- The trainer's panel after the click: {seen or start['state']} (timing began then).")
    after = result.get("job_after_close") or {}
    if after:
        row = after.get("row") or {}
        what = f"{row.get('state')} after {row.get('seconds')} s of training" if row else "no row"
        lines.append(
            f"- After its tab closed the System page's job table says: {what} "
            f"({'finished' if after.get('finished') else 'not finished'} "
            f"{after['seconds_after_close']:.0f} s after the close)."
        )
    if result.get("error"):
        lines.append(f"- {result['error']}")
    for text in result.get("exceptions", ()):
        lines.append(f"- exception box: {text}")
    return "\n".join(lines)


# ------------------------------------------------------------------ command line
async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    demos = tuple(d for d in DEMOS if not args.pages or d.key in args.pages)
    results: dict[str, Any] = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count()}
    cache = workdir / "cache"
    cache.mkdir()
    progress(f"starting the app server (offline, cache {cache})")
    root = args.app_root or ROOT
    server = start_server(root / "app.py", root, offline_env(cache), workdir / "server.log")
    trivial = None
    try:
        with RssSampler(server.pid) as sampler:
            results["rss_idle_server_mb"] = sampler.sample()
            progress(f"server pid {server.pid} at {server.url}, {results['rss_idle_server_mb']:.0f} MiB")
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                try:
                    if args.memory:
                        results["memory"] = await measure_memory(browser, server, sampler, demos)
                        print("\n## Memory\n" + memory_report(results["memory"]) + "\n", flush=True)
                    if args.responsiveness:
                        trivial_dir = workdir / "trivial"
                        trivial_dir.mkdir()
                        (trivial_dir / "trivial_app.py").write_text(TRIVIAL_APP, encoding="utf-8")
                        trivial = start_server(trivial_dir / "trivial_app.py", trivial_dir,
                                               offline_env(workdir / "cache-trivial"), workdir / "trivial.log")  # fmt: skip
                        results["responsiveness"] = await measure_responsiveness(
                            browser, server, trivial, demos, warm=args.memory
                        )
                        print("\n## Responsiveness\n" + responsiveness_report(results["responsiveness"]) + "\n")
                        trivial.stop()
                        trivial = None
                    if args.concurrency:
                        progress(f"concurrency: {args.concurrency} sessions")
                        results["concurrency"] = await measure_concurrency(
                            browser, server, sampler, demos, args.concurrency, CONCURRENT_TIMEOUT_S
                        )
                        print("\n## Concurrency\n" + concurrency_report(results["concurrency"]) + "\n", flush=True)
                    if args.soak:
                        results["soak"] = await measure_soak(browser, server, sampler, demos, args.soak)
                        print("\n## Soak\n" + soak_report(results["soak"]) + "\n", flush=True)
                finally:
                    await browser.close()
            results["peak_mb"] = sampler.peak_mb
            results["samples"] = sampler.samples
    finally:
        if trivial is not None:
            trivial.stop()
        server.stop()
    results["load_average_end"] = os.getloadavg()
    results["server_log_tail"] = _tail(workdir / "server.log", 40)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("--memory", action="store_true", help="peak RSS after every page with its preset")
    parser.add_argument("--responsiveness", action="store_true", help="time to interactive vs a trivial page")
    parser.add_argument("--concurrency", type=int, default=0, metavar="N", help="N sessions at once (default 8)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="MINUTES", help="cycle through every page")
    parser.add_argument("--cold", action="store_true", help="first result and main action on a fresh, empty server")
    parser.add_argument("--contention", action="store_true", help="a page's main action while another page trains")
    parser.add_argument("--victim", default="spam", help="contention: the page whose main action is timed")
    parser.add_argument("--trainer", default="imageclf", choices=sorted(TRAINERS), help="contention: who trains")
    parser.add_argument("--repeats", type=int, default=CONTENTION_REPEATS, help="contention: timings per side")
    parser.add_argument("--neighbours", type=int, default=None, metavar="N",
                        help="CPU-bound processes in the busy pass (default 2) or during contention (default 0)")  # fmt: skip
    parser.add_argument("--passes", nargs="+", choices=COLD_PASSES, default=list(COLD_PASSES), help="cold passes")
    parser.add_argument("--cap", type=float, default=COLD_CAP_S, metavar="SECONDS", help="cold: the most to wait")
    parser.add_argument("--data-dir", type=Path, help="cold: GALLERY_DATA_DIR for the server (default: none)")
    parser.add_argument(
        "--app-root", type=Path, default=ROOT, help="serve the app from this checkout (a before/after on one machine)"
    )
    parser.add_argument("--pages", nargs="*", help="only these registry keys (cold mode: also home, system)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--markdown", type=Path, help="cold: write its table here")
    args = parser.parse_args(argv)
    only_cold = (args.cold or args.contention) and not (
        args.memory or args.responsiveness or args.concurrency or args.soak
    )
    if not (args.memory or args.responsiveness or args.concurrency or args.soak or args.cold or args.contention):
        args.memory = args.responsiveness = True
        args.concurrency = 8
    unknown = set(args.pages or ()) - {d.key for d in DEMOS} - ({HOME_KEY, SYSTEM_KEY} if args.cold else set())
    if unknown:
        parser.error(f"unknown pages {sorted(unknown)}; valid: {', '.join(d.key for d in DEMOS)}")
    if (args.neighbours or 0) < 0 or args.cap <= 0 or args.repeats < 1:
        parser.error("--neighbours must be 0 or more, --cap above 0 and --repeats 1 or more")
    if args.contention and args.victim not in {p.key for p in cold_pages()} - {args.trainer}:
        parser.error(f"--victim must be a page other than the trainer; valid: {', '.join(p.key for p in cold_pages())}")
    if not CHROMIUM.exists():
        parser.error(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gallery-load-") as tmp:
        if not only_cold:
            results = asyncio.run(run(args, Path(tmp)))
            print(f"overall server peak {results['peak_mb']:,.0f} MiB over {results['samples']} samples; "
                  f"load average {results['load_average_start'][0]:.1f} at the start, "
                  f"{results['load_average_end'][0]:.1f} at the end on {results['cpus']} CPUs")  # fmt: skip
        if args.cold:
            settings = ColdSettings(tuple(args.pages) if args.pages else None, tuple(args.passes),
                                    2 if args.neighbours is None else args.neighbours, args.cap, args.data_dir,
                                    args.app_root.resolve())  # fmt: skip
            results["cold"] = asyncio.run(run_cold(settings, Path(tmp) / "cold"))
            print("\n## Cold start\n" + results["cold"]["markdown"] + "\n", flush=True)
        if args.contention:
            contention = ContentionSettings(args.victim, args.trainer, args.repeats, args.neighbours or 0, args.cap,
                                            args.app_root.resolve())  # fmt: skip
            results["contention"] = asyncio.run(run_contention(contention, Path(tmp) / "contention"))
            print("\n## Contention\n" + results["contention"]["markdown"] + "\n", flush=True)
        if args.markdown:
            tables = [results[p]["markdown"] for p in ("cold", "contention") if p in results]
            args.markdown.write_text("\n\n".join(tables) + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    parts = ("memory", "responsiveness", "concurrency", "soak", "cold", "contention")
    return 0 if all(results[p]["passed"] for p in parts if p in results) else 1


if __name__ == "__main__":
    sys.exit(main())
