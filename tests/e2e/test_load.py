"""The gallery under load, short version of ``python -m benchmarks.load`` (issue 14): two browser sessions at
once over three light pages, each planting a private item the other must never see, and the server's resident
memory sampled from /proc against the budget.

It starts its own server (offline, a fresh cache) so that the memory is that of a server only these sessions
used, and drives Chromium with Playwright's async API in a worker thread (the other tests' sync Playwright owns
the main thread).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks import load
from engines.core.system import DEFAULT_BUDGET_MB
from engines.registry import ROOT, get_demo

from .conftest import _require_browser_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PAGES = ("spam", "summarizer", "news")  # light: no fine-tuning on the first visit
SESSIONS = 2
TIMEOUT_S = 180.0


async def _two_sessions(server: load.Server) -> dict:
    from playwright.async_api import async_playwright

    demos = tuple(get_demo(key) for key in PAGES)
    with load.RssSampler(server.pid) as sampler:
        async with async_playwright() as playwright:
            browser = await load.launch(playwright)
            try:
                result = await load.measure_concurrency(browser, server, sampler, demos, SESSIONS, TIMEOUT_S)
            finally:
                await browser.close()
        result["peak_mb"] = sampler.peak_mb
    return result


def test_two_sessions_at_once_see_no_exception_no_leak_and_stay_in_the_memory_budget(tmp_path):
    _require_browser_stack()
    (tmp_path / "cache").mkdir()
    server = load.start_server(ROOT / "app.py", ROOT, load.offline_env(tmp_path / "cache"), tmp_path / "server.log")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(asyncio.run, _two_sessions(server)).result(timeout=600)
    finally:
        server.stop()
    report = load.concurrency_report(result)
    sessions = result["results"]
    assert [r["pages_done"] for r in sessions] == [len(PAGES)] * SESSIONS, report
    assert result["failures"] == 0, report
    assert result["exceptions"] == 0, report
    assert result["leaks"] == 0, report
    # The leak checks had something to find: each session typed its token, session 0 liked a story.
    assert all("spam text" in r["planted"] for r in sessions), report
    assert "liked a story" in sessions[0]["planted"], report
    assert 0 < result["peak_mb"] <= DEFAULT_BUDGET_MB, report
