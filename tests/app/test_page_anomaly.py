"""AppTest of the anomaly monitor page: detection, a live stream tick by tick, alerts, every tab, bad uploads."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.app.helpers import open_page, open_tab, texts

TAB = "anomaly_tab"


def metrics(at) -> dict[str, str]:
    """Metric tiles, label -> value."""
    return {m.label: m.value for m in at.metric}


def streamed(at) -> int:
    """Points the live stream has processed."""
    return int(metrics(at)["Points streamed"].split("/")[0].replace(",", ""))


def test_detect_tab_scores_the_generated_series_offline():
    at = open_page("anomaly")
    assert any("Sample data" in t for t in texts(at.warning)), "offline: the generated stand-in is announced"
    tiles = metrics(at)
    assert float(tiles["NAB score (this series)"]) > 90 and tiles["Window recall"] == "100%", tiles
    assert len(at.get("plotly_chart")) == 1
    at.button(key="anomaly_detect").click().run()
    assert not at.exception
    at.selectbox(key="anomaly_series").set_value("Spikes only").run()
    at.selectbox(key="anomaly_detector").set_value("iforest").run()
    assert not at.exception and "NAB score (this series)" in metrics(at)
    at.number_input(key="anomaly_threshold_iforest").set_value(1000.0).run()
    assert metrics(at)["Detections"] == "0" and metrics(at)["Window recall"] == "0%"


def test_the_default_threshold_adapts_to_the_series_and_can_be_fixed():
    at = open_page("anomaly")
    at.selectbox(key="anomaly_series").set_value("Noisy metric").run()
    assert at.toggle(key="anomaly_adaptive").value and at.number_input(key="anomaly_threshold_online").disabled
    assert any("own scores over its first" in t for t in texts(at.caption)), texts(at.caption)
    at.toggle(key="anomaly_adaptive").set_value(False).run()
    assert not at.exception and not at.number_input(key="anomaly_threshold_online").disabled
    assert any("the detector's fixed threshold" in t for t in texts(at.caption)), texts(at.caption)
    at.number_input(key="anomaly_threshold_online").set_value(1000.0).run()
    assert metrics(at)["Detections"] == "0"
    # Detectors without an adaptive rule show no toggle.
    at.selectbox(key="anomaly_detector").set_value("mad").run()
    assert not at.exception and not [t for t in at.toggle if t.key == "anomaly_adaptive"]


def test_live_stream_advances_each_tick_raises_alerts_and_the_log_acknowledges_them():
    at = open_page("anomaly")
    open_tab(at, TAB, "📡 Live stream")
    assert streamed(at) == 0 and any("Switch **Stream** on" in t for t in texts(at.info))
    at.slider(key="anomaly_batch").set_value(300).run()
    at.toggle(key="anomaly_live").set_value(True).run()
    assert streamed(at) == 300  # each run of the fragment is one tick of the timer
    at.run()
    assert (
        streamed(at) == 600
        and float(metrics(at)["Throughput, points/s (detector + rules)"].split()[0].replace(",", "")) > 0
    )
    at.run()  # the first injected anomaly (a spike at point 601) arrives in this batch
    assert int(metrics(at)["Alerts raised"]) >= 1
    assert any("anomaly at" in t for t in texts(at.toast)), texts(at.toast)
    at.toggle(key="anomaly_live").set_value(False).run()
    paused = streamed(at)
    at.run()
    assert streamed(at) == paused, "paused: no tick advances the stream"
    open_tab(at, TAB, "🚨 Alerts")
    log = at.dataframe[0].value
    assert len(log) >= 1 and not log["acknowledged"].any()
    at.button(key="anomaly_ack").click().run()
    assert at.dataframe[0].value["acknowledged"].iloc[0]
    at.button(key="anomaly_ack_all").click().run()
    assert at.dataframe[0].value["acknowledged"].all()
    assert any(b.label == "Download the log (CSV)" for b in at.get("download_button"))
    # A new rule restarts the stream.
    at.number_input(key="anomaly_rule_consecutive").set_value(3).run()
    open_tab(at, TAB, "📡 Live stream")
    assert streamed(at) == 0
    at.button(key="anomaly_restart").click().run()
    assert not at.exception


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://127.0.0.1:9/hook", "loopback, private or link-local"), ("ftp://example.org/x", "http:// or https://")],
)
def test_webhook_urls_are_checked_on_the_page(url, message):
    at = open_page("anomaly")
    open_tab(at, TAB, "🚨 Alerts")
    at.text_input(key="anomaly_webhook_url").input(url).run()
    assert any(message in t for t in texts(at.error)), texts(at.error)
    at.button(key="anomaly_webhook_test").click().run()
    assert not at.exception and any("Webhook: failed" in t for t in texts(at.error))


def test_multivariate_compare_and_card_tabs():
    at = open_page("anomaly")
    open_tab(at, TAB, "🧮 Multivariate")
    # The default transactions' scores ship with the gallery: shown on arrival, nothing computed.
    assert any("Scores precomputed when the gallery was built" in t for t in texts(at.caption)), texts(at.caption)
    at.button(key="anomaly_mv_run").click().run()
    table = at.dataframe[0].value
    assert len(table) == 4 and table["roc_auc"].max() > 0.9
    at.radio(key="anomaly_mv_method").set_value("Local Outlier Factor").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    # Other settings are scored in the background queue (the test's script waits for the job).
    at.slider(key="anomaly_mv_share").set_value(0.05).run()
    assert not at.exception
    assert any("Scores computed a moment ago" in t for t in texts(at.caption)), texts(at.caption)
    assert len(at.dataframe[0].value) == 4
    # The comparison of the generated series with the default cooldown ships too: shown at once, no button.
    open_tab(at, TAB, "⚖️ Compare detectors")
    assert not at.exception and not [b for b in at.button if b.key == "anomaly_compare"]
    assert any("Comparison precomputed" in t for t in texts(at.caption)), texts(at.caption)
    board = at.dataframe[0].value
    assert len(board) == 9 and board["nab_score"].iloc[0] >= board["nab_score"].iloc[-1]
    # Another cooldown has no stored comparison: the button queues one.
    at.number_input(key="anomaly_cooldown").set_value(50).run()
    assert not at.dataframe and any("Press **Compare all detectors**" in t for t in texts(at.info))
    at.button(key="anomaly_compare").click().run()
    assert not at.exception
    assert any("Comparison computed a moment ago" in t and "cooldown 50" in t for t in texts(at.caption))
    assert len(at.dataframe[0].value) == 9
    open_tab(at, TAB, "🪪 Model card")
    assert any("Model card" in t and "probationary" in t for t in texts(at.markdown))


def _series(n: int, value=lambda i: 10 + (i % 24)) -> str:
    """An hourly series as CSV text."""
    stamps = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    return "timestamp,value\n" + "\n".join(f"{t},{value(i)}" for i, t in enumerate(stamps))


@pytest.fixture(scope="module")
def upload_page():
    at = open_page("anomaly")
    open_tab(at, TAB, "📂 Your data")
    return at


def test_upload_of_a_good_series_is_scored(upload_page):
    at = upload_page
    rows = _series(400, lambda i: 50.0 if i == 300 else 10 + (i % 24) / 10)
    at.file_uploader(key="anomaly_upload").set_value(("metric.csv", rows.encode(), "text/csv")).run()
    assert not at.exception
    assert any("anomalies flagged" in t for t in texts(at.success)), texts(at.error)


BAD_UPLOADS = [
    ("no-dates.csv", b"name,value\na,1\nb,2\nc,3\nd,4\n", "error", "date"),
    ("words.csv", ("timestamp,value\n" + "\n".join(f"2024-01-{d:02d},high" for d in range(1, 20))).encode(), "error", "number"),
    ("binary.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "error", "PNG image"),
    ("three.csv", b"timestamp,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", "error", "at least 100 are needed"),
    ("constant.csv", _series(200, lambda i: 5).encode(), "info", "same"),
    ("duplicates.csv", (_series(100) + "\n2024-01-01 05:00:00,99").encode(), "info", "timestamp"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "payload", "kind", "message"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_are_explained_and_the_page_survives(upload_page, name, payload, kind, message):
    at = upload_page
    at.file_uploader(key="anomaly_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    shown = texts({"error": at.error, "info": at.info, "success": at.success}[kind])
    assert any(message in t for t in shown), (texts(at.error), texts(at.info))
