"""Anomaly engine: NAB scoring by hand, detectors on known anomalies, the stream, alerts, webhook, bad input."""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from engines import anomaly as an
from engines.anomaly import alerts, scoring
from engines.core.errors import InputError

# ------------------------------------------------------------------ NAB scoring, by hand
N = 1000  # probationary period: 150 rows
WINDOW = (400, 499)  # 100 rows
SIGMA_START = 2 / (1 + math.exp(-5)) - 1  # 0.986614: σ at the window's first row; NAB divides TP scores by it


def test_scaled_sigmoid_matches_the_paper():
    assert scoring.scaled_sigmoid(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert scoring.scaled_sigmoid(0.0) == 0.0
    assert scoring.scaled_sigmoid(10.0) == pytest.approx(-1.0, abs=1e-9)
    assert scoring.probationary_rows(1000) == 150 and scoring.probationary_rows(22695) == 750


def test_null_scores_zero_and_perfect_one_hundred():
    null = scoring.score_file(N, [WINDOW], [])
    assert (null.raw, null.null, null.fn) == (-1.0, -1.0, 1)
    assert an.normalised([null]) == 0.0
    perfect = scoring.score_file(N, [WINDOW], [400])
    assert perfect.raw == pytest.approx(1.0) and perfect.perfect == 1.0 and perfect.tp == 1
    assert an.normalised([perfect]) == pytest.approx(100.0)


def test_a_late_detection_scores_less_and_only_the_first_detection_counts():
    late = scoring.score_file(N, [WINDOW], [449, 499])
    # y = -(499 - 449 + 1) / 100 = -0.51; sigma = 2 / (1 + e^-2.55) - 1 = 0.855147; / 0.986614 = 0.866749
    assert late.raw == pytest.approx((2 / (1 + math.exp(-2.55)) - 1) / SIGMA_START, abs=1e-12)
    assert late.raw == pytest.approx(0.866749, abs=1e-6)
    assert an.normalised([late]) == pytest.approx(100 * 1.866749 / 2, abs=1e-4)  # 93.34
    last_row = scoring.score_file(N, [WINDOW], [499])  # y = -0.01: almost nothing
    assert last_row.raw == pytest.approx((2 / (1 + math.exp(-0.05)) - 1) / SIGMA_START, abs=1e-9)


def test_false_positive_right_after_a_window_costs_less_than_far_away():
    near = scoring.score_file(N, [WINDOW], [400, 500])
    far = scoring.score_file(N, [WINDOW], [400, 999])
    before = scoring.score_file(N, [WINDOW], [400, 200])  # no preceding window: the full -A_FP
    # near: y = 1 / 99, sigma = 2 / (1 + e^(5/99)) - 1 = -0.025245; times 0.11
    assert near.raw - 1.0 == pytest.approx(0.11 * (2 / (1 + math.exp(5 / 99)) - 1), abs=1e-9)
    assert near.raw - 1.0 == pytest.approx(-0.002777, abs=1e-6)
    assert far.raw - 1.0 == pytest.approx(-0.11)  # 500 rows past a 100-row window: y >= 3, sigma is exactly -1
    assert before.raw - 1.0 == pytest.approx(-0.11)
    assert (near.fp, far.fp, before.fp) == (1, 1, 1)


def test_detections_in_the_probationary_period_are_ignored():
    early = scoring.score_file(N, [WINDOW], [0, 10, 149, 400])
    assert early.raw == pytest.approx(1.0) and early.fp == 0
    # A window wholly inside the probationary period is not scored at all (NAB's sweeper leaves it out).
    hidden = scoring.score_file(N, [(20, 60), WINDOW], [30, 400])
    assert (hidden.tp, hidden.fn, hidden.null, hidden.perfect) == (1, 0, -1.0, 1.0)
    assert scoring.window_precision_recall(N, [WINDOW], [10, 400, 700]) == (0.5, 1.0)


def test_threshold_optimisation_picks_the_threshold_that_catches_the_window_only():
    scores = np.zeros(N)
    scores[410] = 5.0  # in the window
    scores[800] = 3.0  # a false positive, below the best threshold
    best = an.optimise_threshold([(scores, [WINDOW])], candidates=[1.0, 4.0, 6.0])
    assert best.threshold == 4.0 and best.files[0].tp == 1 and best.files[0].fp == 0
    assert an.detections_from_scores(np.array([0, 2, 2, 2, 0, 2]), 1.0, cooldown=2).tolist() == [1, 5]


def test_windows_are_checked():
    with pytest.raises(InputError, match="not inside rows"):
        scoring.score_file(10, [(5, 12)], [])
    with pytest.raises(InputError, match="overlap"):
        scoring.score_file(100, [(10, 20), (15, 30)], [])


# ------------------------------------------------------------------ detectors on known anomalies
@pytest.fixture(scope="module")
def mixed():
    return an.generate_series(an.PRESETS["Mixed (one of each kind)"])


def test_default_detector_finds_every_injected_anomaly_of_the_mixed_preset(mixed):
    result = an.detect(mixed)
    assert len(mixed.windows) == 4 and len(mixed.events) == 4
    assert result.metrics["window_recall"] == 1.0 and result.metrics["window_precision"] == 1.0
    assert result.metrics["nab_score"] > 90
    frame = result.frame()
    assert frame["detected"].sum() == len(result.detections) and frame["in_window"].any()


def test_generator_is_seeded():
    a, b = an.generate_series(), an.generate_series()
    assert a.values.equals(b.values) and a.windows == b.windows
    assert not an.generate_series(an.GeneratorConfig(seed=5)).values.equals(a.values)


@pytest.mark.parametrize("name", [d for d in an.DetectorName if d not in ("stl", "ensemble")])
def test_every_detector_scores_a_spike_higher_than_the_rest(name):
    rng = np.random.default_rng(0)
    x = 10 + rng.normal(0, 1, 600)
    x[400] += 25
    scores = an.score_series(x, name, season=0)
    assert scores.shape == (600,) and np.isfinite(scores).all()
    assert scores[400:425].max() >= np.quantile(scores, 0.97)  # smoothed detectors peak just after


def test_stl_and_batch_ensemble_see_a_seasonal_break():
    t = np.arange(24 * 30)
    x = 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(1).normal(0, 0.5, len(t))
    x[500:510] = 0.0  # the daily cycle stops
    for name in ("stl", "ensemble"):
        scores = an.score_series(x, name, season=24)
        assert 495 <= int(np.argmax(scores)) <= 515, name


def test_online_detector_is_incremental_and_matches_its_batch_run():
    x = np.random.default_rng(2).normal(0, 1, 500)
    detector = an.OnlineDetector(an.OnlineConfig(season=24))
    batch = detector.run(x)
    detector.reset()
    live = [detector.update(v) for v in x]
    assert np.allclose(batch, live) and detector.n_ == 500
    assert an.OnlineDetector().update(float("nan")) == 0.0  # a missing value never raises


def test_windowed_gaussian_follows_nab():
    g = an.WindowedGaussian(window=4, step=2)
    assert g.update(1.0) == 0.0  # nothing seen yet
    assert g.update(1.0) == pytest.approx(1 - 0.5 * math.erfc(0))  # std 0 -> 1e-6, z = 0 -> 0.5
    for v in (2.0, 3.0):
        g.update(v)
    # window [1, 1, 2, 3]: mean 1.75, std 0.829156; 5 is 3.919 std away
    assert g.update(5.0) == pytest.approx(1 - 0.5 * math.erfc((5 - 1.75) / 0.8291562 / math.sqrt(2)), rel=1e-6)
    with pytest.raises(InputError, match="window must be"):
        an.WindowedGaussian(window=1)


def test_unknown_detector_and_bad_settings_are_refused():
    with pytest.raises(InputError, match="Unknown detector 'magic'"):
        an.DetectConfig(detector="magic")
    with pytest.raises(InputError, match="spans"):
        an.OnlineConfig(spans=(1,))
    with pytest.raises(InputError, match="at least 3"):
        an.score_series(np.array([1.0, 2.0]))


# ------------------------------------------------------------------ data
def test_corpus_falls_back_to_generated_series_offline():
    corpus = an.load_corpus()
    assert not corpus.is_nab and corpus.source.is_sample
    assert set(corpus.series) == set(an.PRESETS)
    assert any("Downloads are off" in n for n in corpus.source.notes)


def test_nab_layout_is_read_with_windows_as_row_indices(tmp_path, monkeypatch):
    folder = tmp_path / "nab-realKnownCause"
    (folder / "data").mkdir(parents=True)
    (folder / "labels").mkdir()
    index = pd.date_range("2014-01-01", periods=300, freq="5min")
    windows = {}
    for name in an.data.NAB_SERIES:
        pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M:%S"), "value": np.arange(300.0)}).to_csv(
            folder / "data" / f"{name}.csv", index=False
        )
        windows[f"realKnownCause/{name}.csv"] = [["2014-01-01 10:00:00.000000", "2014-01-01 11:00:00.000000"]]
    (folder / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    corpus = an.load_corpus()
    assert corpus.is_nab and corpus.source.provenance == "local copy"
    nyc = corpus.series["nyc_taxi"]
    assert nyc.windows == ((120, 132),) and nyc.season == 288


def test_nab_download_writes_the_sub_folders(http_server, monkeypatch):
    from engines.anomaly import data

    body = b"timestamp,value\n2014-01-01 00:00:00,1.0\n2014-01-01 00:05:00,2.0\n2014-01-01 00:10:00,3.0\n"
    remote = {f"data/{s}.csv": an.data.RemoteFile(http_server.add(f"/{s}.csv", body)) for s in data.NAB_SERIES}
    remote[data.WINDOWS_FILE] = an.data.RemoteFile(http_server.add("/windows.json", b"{}"))
    monkeypatch.setattr(data, "NAB", an.data.DatasetSpec(**{**data.NAB.__dict__, "remote": remote}))
    monkeypatch.setenv("GALLERY_OFFLINE", "0")
    corpus = an.load_corpus()
    assert corpus.source.provenance == "downloaded" and len(corpus.series) == 7
    assert corpus.series["nyc_taxi"].windows == ()


def test_a_million_points_are_downsampled_with_a_notice():
    index = pd.date_range("2020-01-01", periods=1_000_000, freq="min")
    x = pd.Series(np.random.default_rng(0).normal(0, 1, len(index)), index=index)
    x.iloc[600_000:600_100] += 50
    series = an.from_values(x)
    assert len(series.values) <= an.data.MAX_POINTS and any("downsampled" in n for n in series.notes)
    result = an.detect(series)
    assert any(abs(int(d) * 20 - 600_000) < 2_000 for d in result.detections), result.detections


def test_constant_series_is_explained_and_flags_nothing():
    index = pd.date_range("2024-01-01", periods=200, freq="h")
    series = an.from_values(pd.Series(5.0, index=index))
    assert any("same" in n for n in series.notes)
    assert len(an.detect(series).detections) == 0


def _csv(rows: list[str]) -> bytes:
    return ("timestamp,value\n" + "\n".join(rows)).encode()


def test_user_csv_with_duplicates_is_averaged_and_reported():
    days = pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d")
    rows = [f"{d},{i + 1}" for i, d in enumerate(days)] + ["2024-01-05,100"]
    series, report = an.read_user_csv(_csv(rows), "metric.csv")
    assert report.duplicates == 1 and len(series.values) == 120 and series.season == 7
    assert series.values.loc["2024-01-05"] == pytest.approx(52.5)


BAD_CSV = [
    ("no-dates.csv", b"name,value\na,1\nb,2\nc,3\nd,4\n", "date"),
    ("words.csv", _csv([f"2024-01-{d:02d},high" for d in range(1, 20)]), "number"),
    (
        "three.csv",
        _csv(["2024-01-01,1", "2024-01-02,2", "2024-01-03,3"]),
        r"3 daily point\(s\); at least 100 are needed",
    ),
    ("empty.csv", b"", "empty"),
]


@pytest.mark.parametrize(("name", "payload", "message"), BAD_CSV, ids=[b[0] for b in BAD_CSV])
def test_bad_csv_gives_a_helpful_error(name, payload, message):
    with pytest.raises(InputError, match=message):
        an.read_user_csv(payload, name)


def test_two_points_are_too_few():
    index = pd.date_range("2024-01-01", periods=2, freq="D")
    with pytest.raises(InputError, match="at least 3"):
        an.from_values(pd.Series([1.0, 2.0], index=index))


# ------------------------------------------------------------------ stream and alerts
def test_stream_advances_batch_by_batch_and_raises_alerts(mixed):
    stream = an.start_stream(mixed)
    assert stream.step(500) == [] and stream.position == 500
    raised = []
    while not stream.done:
        raised += stream.step(700)
    assert len(stream.scores) == len(mixed.values) and stream.points_per_s > 0
    assert len(raised) == 4 and [a.id for a in raised] == [1, 2, 3, 4]
    assert np.allclose(stream.scores, an.detect(mixed).scores)
    with pytest.raises(InputError, match="online detector"):
        an.start_stream(mixed, detector="lof")


def test_alert_rule_needs_consecutive_points_and_respects_cooldown():
    manager = an.AlertManager(an.AlertRule(threshold=1.0, min_consecutive=2, cooldown=3, severity="critical"))
    scores = [2, 0, 2, 2, 2, 2, 2, 2, 2]
    fired = [i for i, s in enumerate(scores) if manager.feed(i, f"t{i}", 1.0, s)]
    assert fired == [3, 8]  # 2 in a row at 2-3; silent through 6; 7-8 is the next pair
    manager.acknowledge(1)
    table = manager.frame()
    assert table["acknowledged"].tolist() == [True, False] and set(table["severity"]) == {"critical"}
    assert manager.to_csv().splitlines()[0] == "id,time,value,score,severity,acknowledged,webhook,index"
    with pytest.raises(InputError, match="Severity"):
        an.AlertRule(severity="panic")
    with pytest.raises(InputError, match="at least 1"):
        an.AlertRule(min_consecutive=0)


# ------------------------------------------------------------------ webhook
@pytest.fixture
def post_server():
    """A receiver on 127.0.0.1 that records JSON bodies (the shared http_server answers GET only)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def do_POST(self):
            if self.path == "/slow":
                time.sleep(1.0)  # past the client's timeout
                return
            if self.path == "/moved":
                self.send_response(307)
                self.send_header("Location", "/hook")
                self.end_headers()
                return
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.daemon_threads = True
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/x", "http:// or https://"),
        ("http:///nohost", "no host"),
        ("https://user:secret@10.1.2.3/x", "no user name or password"),
        ("http://127.0.0.1:9/x", "loopback, private or link-local"),
        ("http://10.0.0.7/x", "loopback, private or link-local"),
        ("http://169.254.169.254/latest", "loopback, private or link-local"),
        ("http://[::1]/x", "loopback, private or link-local"),
        ("http://localhost/x", "loopback, private or link-local"),
        ("http://127.0.0.1:notaport/", "malformed"),
    ],
)
def test_webhook_urls_are_validated(url, message):
    with pytest.raises(InputError, match=message):
        an.validate_webhook_url(url, allow_private=False)


def test_webhook_posts_to_a_local_receiver_only_when_allowed(post_server, network_guard, monkeypatch):
    url, received = post_server
    monkeypatch.delenv(an.ALLOW_PRIVATE_ENV, raising=False)
    refused = an.post_webhook(url, {"a": 1})
    assert refused.startswith("failed:") and "private" in refused and received == []
    assert an.post_webhook(url, {"a": 1}, allow_private=True) == "sent (HTTP 204)"
    monkeypatch.setenv(an.ALLOW_PRIVATE_ENV, "1")
    sender = an.WebhookSender(url)
    manager = an.AlertManager()
    alert = manager.feed(0, "2024-01-01 00:00", 9.0, 5.0)
    sender.send(alert)
    assert sender.collect(manager, wait=5.0) == 1
    assert manager.alerts[0].webhook == "sent (HTTP 204)"
    assert received == [{"a": 1}, {"alert": 1, "time": "2024-01-01 00:00", "value": 9.0, "score": 5.0,
                                    "severity": "warning", "text": alert.message}]  # fmt: skip
    sender.close()
    assert network_guard.attempts == []


def test_a_failing_webhook_is_recorded_never_raised(post_server, http_server, closed_port):
    stalled = post_server[0].replace("/hook", "/slow")
    unreachable = alerts.UNREACHABLE.format(seconds=0.3)
    started = time.monotonic()
    assert an.post_webhook(stalled, {}, timeout=0.3, allow_private=True) == unreachable
    assert time.monotonic() - started < 1.0  # the whole POST is bounded by its deadline
    assert an.post_webhook(http_server.url("/hook"), {}, allow_private=True).startswith("failed: HTTP 501")
    closed = an.post_webhook(f"http://127.0.0.1:{closed_port}/x", {}, timeout=0.3, allow_private=True)
    assert closed == unreachable  # a closed port reads like a silent one: the page tells no port apart
    assert an.post_webhook("not a url", {}).startswith("failed: The webhook URL must start")
    moved = post_server[0].replace("/hook", "/moved")
    assert an.post_webhook(moved, {"a": 1}, allow_private=True) == "failed: HTTP 307"  # redirects are not followed
    assert post_server[1] == []


# ------------------------------------------------------------------ multivariate
def test_multivariate_detectors_rank_injected_fraud_high(progress_log):
    frame = an.generate_transactions(n=800, fraud_share=0.03, seed=0)
    result = an.detect_multivariate(frame, progress=progress_log)
    progress_log.assert_complete()
    metrics = result.metrics.set_index("method")
    assert set(metrics.index) == {m.value for m in an.Method}
    assert metrics.loc["Isolation Forest", "roc_auc"] > 0.9
    assert metrics.loc["Ensemble (mean rank)", "roc_auc"] > 0.85
    assert result.pca.shape == (800, 2) and result.flagged["Isolation Forest"].sum() == 16
    with pytest.raises(InputError, match="Missing feature columns: amount"):
        an.detect_multivariate(frame.drop(columns="amount"))


def test_compare_detectors_reports_every_detector(progress_log):
    corpus = an.Corpus({"Spikes only": an.generate_series(an.PRESETS["Spikes only"], "Spikes only")}, None)
    table = an.compare_detectors(corpus, (an.DetectorName.ONLINE, an.DetectorName.WGAUSS), progress=progress_log)
    progress_log.assert_complete()
    assert table["key"].iloc[0] == "online" and table["nab_score"].iloc[0] > 90
    assert {"threshold", "windows_detected", "false_positives", "window_precision", "window_recall"} <= set(table)


def test_model_card_describes_the_run(mixed):
    card = an.card_for(an.DetectorName.ONLINE, an.detect(mixed), "generated", "Generated series")
    text = card.to_markdown()
    assert "Online ensemble" in text and "nab_score" in text and "probationary" in text


# ------------------------------------------------------------------ what ships: the comparison and the transactions
def test_the_shipped_comparison_and_transaction_scores_are_present_and_current():
    from engines.core.lifecycle import SHIPPED

    comparison, scores, transactions = an.shipped_requests()
    found = comparison.find()
    assert found is not None and found[1] == SHIPPED, "run python -m engines.build_models --only anomaly"
    table = found[0].table
    assert set(table["key"]) == {d.value for d in an.DetectorName} and found[0].config == an.CompareConfig()
    found = transactions.find()
    assert found is not None and found[1] == SHIPPED
    # What ships is what the code computes today (same rows, same scores).
    fresh = an.score_transactions(an.TransactionsConfig())
    pd.testing.assert_frame_equal(found[0].frame, fresh.frame)
    pd.testing.assert_frame_equal(found[0].result.metrics, fresh.result.metrics)
    # Every detector's scores of every stand-in series, as the detectors compute them today.
    found = scores.find()
    assert found is not None and found[1] == SHIPPED
    stored = found[0]
    corpus = an.stand_in_corpus()
    assert set(stored.scores) == set(corpus.series) and all(len(d) == 9 for d in stored.scores.values())
    series = corpus.series["Spikes only"]
    for detector in ("online", "stl", "iforest"):
        fresh_scores = an.score_series(series.values.to_numpy(), detector, season=series.season)
        np.testing.assert_allclose(stored.get(series, detector)[0], fresh_scores)


def test_the_stand_in_corpus_is_keyed_by_its_generator_settings(monkeypatch):
    corpus = an.stand_in_corpus()
    assert corpus.source.sha256 == an.generated_sha256() and not corpus.is_nab
    assert an.request(an.CompareConfig(), corpus).data_sha256 == an.generated_sha256()
    changed = dict(an.PRESETS, **{"Spikes only": an.GeneratorConfig(kinds=(an.AnomalyKind.SPIKE,), seed=9)})
    monkeypatch.setattr("engines.anomaly.data.PRESETS", changed)
    assert an.generated_sha256() != corpus.source.sha256


def test_comparison_and_transaction_settings_are_checked():
    with pytest.raises(InputError, match="cooldown"):
        an.CompareConfig(cooldown=-1)
    with pytest.raises(InputError, match="Unknown detector"):
        an.CompareConfig(detectors=("nope",))
    with pytest.raises(InputError, match="contamination"):
        an.TransactionsConfig(contamination=0.7)
    small = an.compare(an.stand_in_corpus(), an.CompareConfig(detectors=("online", "zscore")))
    assert list(small.table["key"]) != [] and set(small.table["key"]) == {"online", "zscore"}
    assert small.corpus == "the generated series"


def test_detect_on_stored_scores_is_detect_on_fresh_ones():
    series = an.generate_series(an.PRESETS["Noisy metric"], "Noisy metric")
    config = an.DetectConfig(detector="mad", cooldown=50)
    fresh = an.detect(series, config)
    stored = an.detect(series, config, scored=(fresh.scores, 1.5))
    assert list(stored.detections) == list(fresh.detections) and stored.metrics == fresh.metrics
    assert stored.seconds == 1.5
    with pytest.raises(InputError, match="precomputed scores"):
        an.detect(series, config, scored=(fresh.scores[:10], 0.0))
    other = an.generate_series(an.PRESETS["Spikes only"], "Spikes only")
    scores = an.score_corpus(
        an.Corpus({"Noisy metric": series}, an.stand_in_corpus().source), an.ScoresConfig(("mad",))
    )
    assert scores.get(series, "mad") is not None and scores.get(series, "online") is None
    assert scores.get(other, "mad") is None  # a series it never scored


# ------------------------------------------------------------------ adaptive threshold, every series counts (issue 28)
def bursty_series(seed: int = 0, n: int = 4000) -> tuple[an.LabelledSeries, tuple[int, int]]:
    """Counts at another scale than NAB's with everyday bursts every ~100 points, and one real surge."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(20, n).astype(float)
    for start in range(50, n - 30, 100):
        first = start + int(rng.integers(0, 40))
        x[first : first + int(rng.integers(5, 20))] *= rng.uniform(3, 8)
    surge = (3000, 3199)
    x[surge[0] : surge[1] + 1] = rng.poisson(600, surge[1] - surge[0] + 1)
    values = pd.Series(1e-3 * x, index=pd.date_range("2024-01-01", periods=n, freq="5min"))
    return an.from_values(values, "bursty"), surge


def test_the_adaptive_threshold_learns_a_noisier_series_and_still_catches_its_incident():
    series, (first, last) = bursty_series()
    start = scoring.probationary_rows(len(series.values))
    fixed = an.detect(series, an.DetectConfig(adaptive=False))
    adaptive = an.detect(series, an.DetectConfig())
    rule = an.ADAPTIVE_THRESHOLDS[an.DetectorName.ONLINE]
    assert fixed.threshold == an.DEFAULT_THRESHOLDS[an.DetectorName.ONLINE]
    assert adaptive.threshold > 1.3 * rule.floor and "adapted to this series" in adaptive.how
    # The fixed corpus threshold fires on the everyday bursts; the series' own threshold mostly does not.
    scored_fixed = int((fixed.detections >= start).sum())
    scored_adaptive = int((adaptive.detections >= start).sum())
    assert scored_fixed >= 10 and scored_adaptive <= scored_fixed // 3, (scored_fixed, scored_adaptive)
    assert ((adaptive.detections >= first) & (adaptive.detections <= last)).any()
    # It is learnt from the first 15% only: what comes later cannot move it.
    later = series.values.copy()
    later.iloc[start:] *= 3
    moved = an.detect(an.from_values(later, "later"), an.DetectConfig())
    assert moved.threshold == pytest.approx(adaptive.threshold)
    # A threshold given by hand, or another detector, is fixed.
    assert an.DetectConfig(threshold=2.0).rule is None and an.DetectConfig(detector="mad").rule is None


def test_the_adaptive_threshold_never_goes_below_the_corpus_one_and_short_series_keep_it():
    rule = an.AdaptiveThreshold(floor=1.5, quantile=0.9, factor=1.15, skip=10)
    assert rule(np.zeros(2000)) == 1.5  # quiet: the floor
    assert rule(np.full(2000, 4.0)) == pytest.approx(4.6)  # 1.15 x the learning-period quantile
    assert rule(np.full(100, 4.0)) == 1.5  # 15 rows of learning, 5 after warm-up: too few to learn from
    with pytest.raises(InputError, match="quantile"):
        an.AdaptiveThreshold(floor=1.0, quantile=0.0)


def test_series_without_a_labelled_window_count_their_false_alarms():
    labelled = an.generate_series(an.PRESETS["Spikes only"], "spikes")
    noisy, _ = bursty_series(seed=1)
    source = an.stand_in_corpus().source
    alone = an.compare_detectors(an.Corpus({"spikes": labelled}, source), (an.DetectorName.ONLINE,))
    both = an.compare_detectors(an.Corpus({"spikes": labelled, "bursty": noisy}, source), (an.DetectorName.ONLINE,))
    a, b = alone.iloc[0], both.iloc[0]
    assert b["windows"] == a["windows"]  # the unlabelled series adds no window...
    assert b["false_positives"] > a["false_positives"] and b["nab_score"] < a["nab_score"]  # ...but its alarms cost
    # Its detections at the chosen threshold are all false positives (NAB's -A_FP each).
    scores = an.score_series(noisy.values.to_numpy(), "online", season=noisy.season)
    found = an.detections_from_scores(scores, b["threshold"], an.DEFAULT_COOLDOWN)
    file = an.score_file(len(scores), (), found)
    assert file.fp == int((found >= scoring.probationary_rows(len(scores))).sum()) > 0
    assert file.raw == pytest.approx(-0.11 * file.fp)
    with pytest.raises(InputError, match="No labelled series"):
        an.compare_detectors(an.Corpus({"bursty": noisy}, source), (an.DetectorName.ONLINE,))
