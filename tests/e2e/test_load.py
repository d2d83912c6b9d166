"""The gallery under load, short version of ``python -m benchmarks.load`` (issue 14): two browser sessions at
once over three light pages, each planting a private item the other must never see, and the server's resident
memory sampled from /proc against the budget.

It starts its own server (offline, a fresh cache) so that the memory is that of a server only these sessions
used, and drives Chromium with Playwright's async API in a worker thread (the other tests' sync Playwright owns
the main thread).

The cold mode (issue 25) gets two short checks: its settled rule on a made-up two-page app (a gauge that is a
result, a job whose progress fragment is not), and one gallery page timed on a fresh server.
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
JOB_S = 4.0
RULE_APP = f'''"""Two pages for the cold mode's settled rule (tests/e2e/test_load.py)."""
import time

import streamlit as st


def gauge():
    st.title("Gauge")
    st.progress(0.4, text="40% of the budget in use")  # stands still: a result, not progress
    st.markdown("The outlier step drops implausible training rows.")
    st.metric("Training time", "1.0 s")


def job():
    st.title("Job")
    started = st.session_state.setdefault("started", time.monotonic())

    @st.fragment(run_every=1.0)
    def live():
        elapsed = time.monotonic() - started
        if elapsed >= {JOB_S}:
            st.rerun(scope="app")
        st.progress(0.5, text="Working")  # the same bar every time: only the reruns show the work

    if time.monotonic() - started < {JOB_S}:
        live()
    else:
        st.write("The answer: 42")


st.navigation([st.Page(gauge, title="Gauge", default=True), st.Page(job, title="Job", url_path="job")]).run()
'''


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


async def _rule_visits(url: str) -> dict:
    from playwright.async_api import async_playwright

    visits = [("", load.ColdPage("gauge", "Gauge", ""), url), ("", load.ColdPage("job", "Job", "job"), url)]
    async with async_playwright() as playwright:
        return await load.cold_visits(playwright, "rule", visits, cap_s=60.0)


def test_cold_rule_settles_on_a_still_gauge_and_waits_for_a_job_that_reruns(tmp_path):
    _require_browser_stack()
    (tmp_path / "rule_app.py").write_text(RULE_APP, encoding="utf-8")
    (tmp_path / "cache").mkdir()
    server = load.start_server(tmp_path / "rule_app.py", tmp_path, load.offline_env(tmp_path / "cache"),
                               tmp_path / "server.log")  # fmt: skip
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            measured = pool.submit(asyncio.run, _rule_visits(server.url)).result(timeout=300)
    finally:
        server.stop()
    gauge, job = (r["first"] for r in measured["rows"])
    assert gauge["seconds"] is not None, gauge  # the prose and the "Training time" tile do not hold it
    assert job["seconds"] is not None, job
    assert job["seconds"] >= JOB_S, job  # not while the fragment reran, though its bar stood still
    assert measured["console_errors"] == []


def test_cold_mode_times_a_gallery_page_and_its_action_against_the_trivial_page(tmp_path):
    _require_browser_stack()
    settings = load.ColdSettings(keys=("spam",), passes=("idle",), cap_s=TIMEOUT_S)
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(asyncio.run, load.run_cold(settings, tmp_path)).result(timeout=600)
    rows = result["passes"]["idle"]["rows"]
    report = result["markdown"]
    assert [(r["key"], r["when"]) for r in rows] == [("trivial", "start"), ("spam", ""), ("trivial", "end")], report
    for r in rows:
        assert r["first"]["seconds"] is not None, report
        assert r["action"]["seconds"] is not None, report
        assert r["exceptions"] == [], report
    assert [r["action_label"] for r in rows] == ["Go", "Classify", "Go"], report
    assert report.splitlines()[2].startswith("| trivial page (2nd server, reference, at the start) | "), report
    assert "| Spam detector | " in report
    assert result["commit"] in report or result["commit"][:12] in report
