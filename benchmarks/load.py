"""The whole gallery under load (issue 14): memory, responsiveness, concurrency and soak, in a real browser.

``python -m benchmarks.load [--memory] [--responsiveness] [--concurrency N] [--soak MINUTES] [--json out.json]``
(with no part named: memory, responsiveness and 8 concurrent sessions; the soak only when asked).

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
  with a unique fictional name, a liked story in session 0 only) and checking it never sees another's.
- soak: one session cycling through every page for M minutes; RSS after each cycle, growth after cycle 1.

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
from collections.abc import Awaitable, Callable
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
CONCURRENT_TIMEOUT_S = 600.0  # 8 sessions share 2 cores
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


async def navigate(page, demo: Demo, timeout_s: float) -> None:
    """Go to ``demo`` through the sidebar navigation: the same Streamlit session, as a visitor clicks."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    await nav.get_by_text(demo.title, exact=True).first.click(timeout=timeout_s * 1000)
    await wait_heading(page, demo.title, timeout_s)
    await wait_idle(page, timeout_s)


async def _sentiment_ready(page, timeout_s: float) -> None:
    # The first visit fine-tunes MiniLM in a background thread (the page polls it): its preset is that model.
    await page.get_by_text("Training Fine-tuned MiniLM").first.wait_for(state="hidden", timeout=timeout_s * 1000)


async def _chatbot_ready(page, timeout_s: float) -> None:
    await page.locator('[data-testid="stChatInputTextArea"]').wait_for(state="visible", timeout=timeout_s * 1000)


async def _news_ready(page, timeout_s: float) -> None:
    await page.get_by_text("Why am I seeing this?").first.wait_for(state="visible", timeout=timeout_s * 1000)


READY: dict[str, Callable[[Any, float], Awaitable[None]]] = {
    "sentiment": _sentiment_ready,
    "chatbot": _chatbot_ready,
    "news": _news_ready,
}  # pages whose first run is not finished when the title shows


async def run_preset(page, demo: Demo, timeout_s: float) -> str:
    """Wait until the page's preset has run, press its main action, wait for idle; returns what was done."""
    if demo.key in READY:
        await READY[demo.key](page, timeout_s)
        await wait_idle(page, timeout_s)
    if demo.key == "chatbot":
        preset = page.locator(".st-key-kb_preset_0 button")
        if await preset.count():
            before = await assistant_messages(page).count()
            await preset.first.click()
            await assistant_messages(page).nth(before).wait_for(state="visible", timeout=timeout_s * 1000)
            await wait_idle(page, timeout_s)
            return "first preset question"
    for name in MAIN_ACTIONS:
        button = page.get_by_role("button", name=name, exact=True)
        if await button.count():
            await button.first.click()
            await wait_idle(page, timeout_s)
            return name
    return "(page load only)"


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
    pages_done: int = 0
    seconds: float = 0.0


async def run_session(
    browser, server: Server, demos: tuple[Demo, ...], mine: Private, everyone: list[Private], timeout_s: float
) -> tuple[SessionResult, Any, Any]:
    """Phase 1 of one session: every page (rotated per session), its main action, its private item."""
    result = SessionResult(mine.session)
    others = [p for p in everyone if p.session != mine.session]
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    current = ["home"]
    watch_console(page, result.console_errors, lambda: current[0])
    start = time.monotonic()
    await open_url(page, server.url, HOME_TITLE, timeout_s)
    shift = mine.session % len(demos)
    for demo in (*demos[shift:], *demos[:shift]):
        current[0] = demo.key
        await visit(page, demo, mine, others, result, timeout_s, act=True)
        result.pages_done += 1
        progress(f"concurrency: session {mine.session} done {demo.key} ({result.pages_done}/{len(demos)})")
    result.seconds = time.monotonic() - start
    return result, context, page


async def visit(page, demo: Demo, mine: Private, others: list[Private], result: SessionResult, timeout_s, act: bool):
    try:
        await navigate(page, demo, timeout_s)
        if act:
            await run_preset(page, demo, timeout_s)
            planted = await plant(page, demo, mine, timeout_s)
            if planted:
                result.planted.append(planted)
                if planted != "liked a story" and mine.marks()[planted == "resume upload"] not in await shown(page):
                    result.failures.append(f"{demo.key}: planted {planted} but the page does not show it")
        result.leaks += await find_leaks(page, demo, mine, others)
    except Exception as exc:  # noqa: BLE001 - a failed step is reported, the session goes on
        result.failures.append(f"{demo.key}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
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
            result, context, page = outcome
            results.append(result)
            open_pages.append((result, context, page, p))
    progress("concurrency: every session has planted its items; rechecking the private pages in every session")
    recheck = [d for d in demos if d.key in CHECK_AGAIN]

    async def again(result: SessionResult, page, mine: Private) -> None:
        others = [p for p in everyone if p.session != mine.session]
        for demo in recheck:
            await visit(page, demo, mine, others, result, timeout_s, act=False)

    await asyncio.gather(*(again(r, page, p) for r, _, page, p in open_pages))
    for _, context, _, _ in open_pages:
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
        "passed": all(not (r.exceptions or r.console_errors or r.leaks) for r in results),
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
            ", ".join(r["planted"]),
        ]
        for r in result["results"]
    ]
    head = ["session", "pages", "seconds", "exceptions", "console errors", "leaks", "failed steps", "planted"]
    text = table(head, rows)
    text += (
        f"\n{result['sessions']} sessions in {result['seconds']:.0f} s, server peak {result['peak_mb']:,.0f} MiB: "
        f"{result['exceptions']} exceptions/console errors, {result['leaks']} cross-session leaks "
        f"(target 0 and 0): {'PASS' if result['passed'] else 'FAIL'}"
    )
    for r in result["results"]:
        for kind in ("exceptions", "console_errors", "leaks", "failures"):
            for item in r[kind]:
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


# ------------------------------------------------------------------ command line
async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    demos = tuple(d for d in DEMOS if not args.pages or d.key in args.pages)
    results: dict[str, Any] = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count()}
    cache = workdir / "cache"
    cache.mkdir()
    progress(f"starting the app server (offline, cache {cache})")
    server = start_server(ROOT / "app.py", ROOT, offline_env(cache), workdir / "server.log")
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
    parser.add_argument("--pages", nargs="*", help="only these registry keys (default: every demo)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if not (args.memory or args.responsiveness or args.concurrency or args.soak):
        args.memory = args.responsiveness = True
        args.concurrency = 8
    unknown = set(args.pages or ()) - {d.key for d in DEMOS}
    if unknown:
        parser.error(f"unknown pages {sorted(unknown)}; valid: {', '.join(d.key for d in DEMOS)}")
    if not CHROMIUM.exists():
        parser.error(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="gallery-load-") as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    print(f"overall server peak {results['peak_mb']:,.0f} MiB over {results['samples']} samples; "
          f"load average {results['load_average_start'][0]:.1f} at the start, {results['load_average_end'][0]:.1f} "
          f"at the end on {results['cpus']} CPUs")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    passed = [results[p]["passed"] for p in ("memory", "responsiveness", "concurrency", "soak") if p in results]
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
