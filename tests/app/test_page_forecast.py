"""AppTest of the forecasting page: presets, horizon and model pickers, every tab, live mode, uploads and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engines import forecast as fc
from engines.core import jobs
from tests.app.helpers import open_page, open_tab, texts

TAB = "forecast_tab"
LIVE = "forecast_live_state"


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_forecast_page_presets_pickers_and_tabs():
    at = open_page("forecast")
    # Offline: the daily page-view preset runs on the labelled made-up traffic sample.
    assert any("Sample data" in t for t in texts(at.warning)), texts(at.warning)
    # The preset's six-model comparison ships with the gallery: nothing is fitted on arrival.
    assert any("Model shipped with the gallery" in t for t in texts(at.caption)), texts(at.caption)
    labels = tiles(at)
    assert any(k.startswith("Next period") for k in labels) and "Uncertainty" in labels, labels
    assert "Growth over the next 90 periods" in labels
    assert len(at.get("plotly_chart")) == 1
    assert any("duplicated timestamp" in t for t in texts(at.info)), texts(at.info)
    horizon = next(s for s in at.slider if s.key.startswith("forecast_horizon_"))
    horizon.set_value(14).run()
    assert "Growth over the next 14 periods" in tiles(at)
    picker = next(s for s in at.selectbox if s.key.startswith("forecast_model_"))
    assert picker.value == "combination" and "(selected by backtest)" in picker.format_func(picker.value)
    assert picker.format_func(picker.value).startswith("Combination: mean of the best 2")
    picker.set_value("seasonal_naive").run()
    assert not at.exception
    # Decomposition and autocorrelation.
    open_tab(at, TAB, "🧩 Decomposition & autocorrelation")
    assert {"Trend strength", "Seasonal strength"} <= set(tiles(at))
    assert len(at.get("plotly_chart")) == 2
    at.radio(key="forecast_stl_period").set_value("365 steps (yearly)").run()
    assert not at.exception
    # Leaderboard: six models and their combination (the selected one), error by horizon and the backtest picture.
    open_tab(at, TAB, "🏁 Backtest leaderboard")
    board = at.dataframe[0].value
    assert len(board) == 7 and board["model"].str.endswith("✅").sum() == 1, board
    assert board.loc[board["model"].str.endswith("✅"), "model"].iloc[0].startswith("Combination: mean of"), board
    assert any("best by **MASE** are averaged" in t for t in texts(at.markdown))
    assert len(at.get("plotly_chart")) == 2
    open_tab(at, TAB, "🪪 Model card")
    assert any("Model card: Combination" in t and "Rolling-origin backtest" in t for t in texts(at.markdown))
    # Another preset: monthly sales, then the stock prices shipped with plotly.
    open_tab(at, TAB, "📈 Forecast")
    at.button(key="forecast_preset_air_passengers").click().run()
    assert not at.exception
    assert "Growth over the next 12 periods" in tiles(at)
    at.button(key="forecast_preset_stocks").click().run()
    assert not at.exception
    assert any("package dataset (plotly)" in t for t in texts(at.caption)), texts(at.caption)
    at.selectbox(key="forecast_ticker").set_value("NFLX").run()
    assert not at.exception and any("NFLX" in t for t in texts(at.caption))


def test_other_settings_show_a_quick_forecast_while_the_comparison_runs_in_the_queue(monkeypatch):
    at = open_page("forecast")
    at.button(key="forecast_preset_stocks").click().run()
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "0")  # as on a server: the script never waits
    queue = jobs.queue()
    release = __import__("threading").Event()
    blockers = [
        queue.submit(f"test-blocker-{i}", "Another training", lambda job: release.wait(120))
        for i in range(queue.concurrency)
    ]  # the queue is busy, so the comparison stays queued while the test looks
    try:
        at.slider(key="forecast_cutoffs").set_value(1).run()
        assert not at.exception
        assert any("Quick forecast while the comparison of six models" in t for t in texts(at.caption))
        picker = next(s for s in at.selectbox if s.key.startswith("forecast_model_"))
        assert set(picker.options) == {"seasonal_naive", "ets"} or len(picker.options) == 2, picker.options
        assert any(k.startswith("Next period") for k in tiles(at))
        progress = at.get("progress")
        assert progress and "waiting for another training" in progress[0].proto.text, progress
        open_tab(at, TAB, "🏁 Backtest leaderboard")
        assert any("appears here when their comparison has run" in t for t in texts(at.info))
        assert len(at.dataframe[0].value) == 2
        open_tab(at, TAB, "🪪 Model card")
        assert any("A quick forecast" in t for t in texts(at.markdown))
    finally:
        release.set()
    request = fc.request(fc.ForecastConfig(cutoffs=1), fc.load_series(fc.Dataset.STOCKS))
    job = queue.get(request.job_key)
    assert job is not None and job.done.wait(300) and job.state == jobs.DONE, job and job.error
    assert all(b.done.wait(10) for b in blockers)
    at.run()  # what the progress fragment does when the job ends
    assert any("Model trained a moment ago" in t for t in texts(at.caption)), texts(at.caption)
    open_tab(at, TAB, "🏁 Backtest leaderboard")
    assert len(at.dataframe[0].value) >= 5 and not any("appears here" in t for t in texts(at.info))
    assert any("from **1 past origins**" in t for t in texts(at.markdown)), texts(at.markdown)


def test_live_mode_is_off_by_default_and_each_tick_appends_a_point():
    at = open_page("forecast")
    at.button(key="forecast_preset_air_passengers").click().run()
    open_tab(at, TAB, "📡 Live")
    assert at.toggle(key="forecast_live").value is False
    assert at.session_state[LIVE]["arrived"] == 0
    start = len(at.session_state[LIVE]["history"])
    at.toggle(key="forecast_live").set_value(True).run()
    assert not at.exception
    assert at.session_state[LIVE]["arrived"] == 1
    at.run()  # what the run_every timer does: the fragment runs again
    state = at.session_state[LIVE]
    assert state["arrived"] == 2 and len(state["history"]) == start + 2
    assert {"Uncertainty"} <= set(tiles(at)) and len(at.get("plotly_chart")) == 1
    at.toggle(key="forecast_live").set_value(False).run()
    assert at.session_state[LIVE]["arrived"] == 2
    at.button(key="forecast_live_reset").click().run()
    assert at.session_state[LIVE]["arrived"] == 0


@pytest.fixture(scope="module")
def upload_page():
    at = open_page("forecast")
    open_tab(at, TAB, "📂 Your data")
    return at


def _csv(rows: list[str], header: str = "date,visits") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _daily(n: int, value=lambda i: 100 + 10 * np.sin(i / 3) + i) -> list[str]:
    return [f"{d:%Y-%m-%d},{value(i):.2f}" for i, d in enumerate(pd.date_range("2024-01-01", periods=n))]


BAD_UPLOADS = [
    ("empty.csv", b"", "is empty", False),
    ("no-dates.csv", _csv([f"row {i},{i}" for i in range(30)], "when,visits"), "does not hold dates", False),
    ("words.csv", _csv([f"2024-01-{d:02d},lots" for d in range(1, 29)]), "does not hold numbers", False),
    ("three.csv", _csv(_daily(3)), "at least 10", False),
    ("flat.csv", _csv(_daily(60, lambda i: 5)), "constant", True),
]


@pytest.mark.parametrize(("name", "payload", "message", "press"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_show_an_error_and_the_page_survives(upload_page, name, payload, message, press):
    at = upload_page
    at.file_uploader(key="forecast_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    if press:
        at.button(key="forecast_upload_run").click().run()
        assert not at.exception
    assert any(message in t for t in texts(at.error)), (texts(at.error), texts(at.info))


def test_an_upload_with_duplicates_and_gaps_is_cleaned_reported_and_forecast(upload_page):
    at = upload_page
    rows = _daily(120)
    rows = [*rows[:50], *rows[55:], rows[10].split(",")[0] + ",999"]  # a 5-day gap and a duplicated day
    at.file_uploader(key="forecast_upload").set_value(("visits.csv", _csv(rows), "text/csv")).run()
    assert not at.exception
    notes = texts(at.info)
    assert any("duplicated timestamp" in t for t in notes) and any("5 missing period" in t for t in notes), notes
    assert at.selectbox(key="forecast_date_column").value == "date"
    assert at.selectbox(key="forecast_value_column").value == "visits"
    at.button(key="forecast_upload_run").click().run()
    assert not at.exception
    assert at.session_state[TAB] == "📈 Forecast"
    assert any("user upload" in t for t in texts(at.caption)), texts(at.caption)
    assert any(k.startswith("Next period") for k in tiles(at))


def test_an_hourly_upload_forecasts_48_hours_ahead(upload_page, monkeypatch):
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "0")  # the quick forecast answers; the comparison stays queued
    queue = jobs.queue()
    release = __import__("threading").Event()
    blockers = [
        queue.submit(f"test-hourly-blocker-{i}", "Another training", lambda job: release.wait(120))
        for i in range(queue.concurrency)
    ]
    at = upload_page
    hours = pd.date_range("2024-03-01", periods=24 * 12, freq="h")
    rows = [f"{d:%Y-%m-%d %H:%M},{20 + 5 * np.sin(2 * np.pi * i / 24):.3f}" for i, d in enumerate(hours)]
    try:
        open_tab(at, TAB, "📂 Your data")
        at.file_uploader(key="forecast_upload").set_value(("temps.csv", _csv(rows, "time,temp"), "text/csv")).run()
        at.button(key="forecast_upload_run").click().run()
        assert not at.exception
        horizon = next(s for s in at.slider if s.key.startswith("forecast_horizon_"))
        assert horizon.max == 48 and horizon.value == 48, (horizon.min, horizon.max)
        assert "Growth over the next 48 periods" in tiles(at), tiles(at)
    finally:
        release.set()
        for job in queue.jobs():
            if "temps.csv" in job.title:
                job.cancel()  # the full comparison of the upload is not this test's subject
        assert all(b.done.wait(10) for b in blockers)
