"""Anomaly monitor page: widgets -> engines.anomaly -> charts, a live stream, alerts."""

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, on_demand, ui
from engines import anomaly as an
from engines.anomaly import alerts as webhooks
from engines.core import jobs
from engines.core.errors import InputError
from engines.core.lifecycle import DISK, SHIPPED, TRAINED
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import get_demo

DEMO = get_demo("anomaly")
GENERATED = "Generated: "  # prefix of generated series in the series list
LIVE_WINDOW = 600  # points shown on the live chart
TICK_SECONDS = 1.0  # the live stream's timer
WEBHOOK_POLL_SECONDS = 0.5  # how often the Alerts tab looks for the test alert's outcome while it is on its way
WEBHOOK_TEST = "anomaly_webhook_test_post"  # session state: (url, future) of the last test alert
WEBHOOK_CHECKED = "anomaly_webhook_checked"  # session state: (url, allow, error or "") of the last URL check
SEVERITIES = list(an.Severity)
ORIGINS = {
    SHIPPED: "precomputed when the gallery was built (`python -m engines.build_models`, checksums verified)",
    DISK: "computed on this server earlier (disk cache, checksums verified)",
    TRAINED: "computed a moment ago on this server, kept for later visitors",
}

ui.page_header(
    DEMO,
    "Servers, sensors and business metrics rarely fail quietly: a temperature creeps up before a machine breaks, "
    "taxi demand collapses in a snow storm. This monitor flags such moments as the data arrives. Pick a series: "
    "a real one from the **Numenta Anomaly Benchmark** (NAB, whose anomalies have documented causes, shaded in red) "
    "or a generated one where we injected spikes, level shifts, drifts and seasonal breaks ourselves. Then watch "
    "the **online detector** score each point in constant time, **replay it live** with alert rules, toasts and an "
    "optional webhook, and see how nine detectors, from a rolling z-score to Isolation Forest, compare under "
    "NAB's scoring rules. A multivariate mode hunts fraud-like card transactions without labels.",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the series…")
def load_corpus(settings_key: tuple) -> an.Corpus:
    """NAB realKnownCause, or generated series when it is not available."""
    return an.load_corpus()


@st.cache_resource(max_entries=8, show_spinner=False)
def generated(preset: str) -> an.LabelledSeries:
    """One generated series (seeded, so every session sees the same)."""
    return an.generate_series(an.PRESETS[preset], preset)


@st.cache_data(max_entries=24, show_spinner="Scoring the series…")
def run_detect(
    series_key: str,
    detector: str,
    threshold: float | None,
    cooldown: int,
    settings_key: tuple,
    stored: bool,
    _series,
    _scored,
):
    """Detections of one detector on one series (cached per series, detector and threshold).

    ``threshold``: None adapts it to the series (the default detector's rule). ``_scored``: the detector's scores
    shipped for this series (the generated stand-ins), else None (scored now).
    """
    config = an.DetectConfig(detector=detector, threshold=threshold, cooldown=cooldown)
    return an.detect(_series, config, scored=_scored)


corpus = load_corpus(ui.settings_key())
names = list(corpus.series)
if corpus.is_nab:
    names += [GENERATED + p for p in an.PRESETS]


def pick_series(name: str) -> an.LabelledSeries:
    """The series called ``name`` in the picker."""
    if name.startswith(GENERATED):
        return generated(name.removeprefix(GENERATED))
    return corpus.series[name]


with st.sidebar:
    st.subheader("Series and detector")
    series_name = st.selectbox(
        "Series",
        names,
        key="anomaly_series",
        bind="query-params",
        help="NAB realKnownCause series with their labelled windows, or generated series with injected anomalies.",
    )
    detector = st.selectbox(
        "Detector",
        list(an.DetectorName),
        format_func=lambda d: an.DETECTORS[d]["title"] + (" (default)" if d == an.DEFAULT_DETECTOR else ""),
        key="anomaly_detector",
        bind="query-params",
    )
    adaptive = an.DetectorName(detector) in an.ADAPTIVE_THRESHOLDS and st.toggle(
        "Adapt the threshold to the series",
        value=True,
        key="anomaly_adaptive",
        help="Learn the threshold from the series' own scores in its first 15% (NAB's learning period, where "
        "nothing is scored): the corpus threshold, raised where the series is noisier than NAB's, so its everyday "
        "wiggles do not raise alarms. Off: the fixed threshold below.",
    )
    fixed_threshold = st.number_input(
        "Threshold on the anomaly score",
        value=float(an.DEFAULT_THRESHOLDS[detector]),
        step=0.1 if detector != an.DetectorName.WGAUSS else 0.00001,
        format="%.5g",
        key=f"anomaly_threshold_{detector}",
        disabled=adaptive,
        help="The default is the threshold that maximised this detector's NAB score on realKnownCause "
        "(NAB's protocol optimises one threshold per detector over the whole corpus).",
    )
    threshold = None if adaptive else float(fixed_threshold)
    cooldown = st.number_input(
        "Cooldown (points of silence after a detection)",
        min_value=0,
        max_value=5000,
        value=an.DEFAULT_COOLDOWN,
        step=10,
        key="anomaly_cooldown",
    )
series = pick_series(series_name)


def detection():
    """The sidebar's detector on the picked series. A batch detector's scores of a stand-in series come from the
    shipped scores (fitting it here would take seconds); the online detectors score a series faster than those
    load, so they always score it now."""
    scored = None
    if an.DetectorName(detector) not in (an.DetectorName.ONLINE, an.DetectorName.WGAUSS):
        found = lifecycle.cached_model(an.scores_request(corpus)) if series_name in corpus.series else None
        scored = found[0].get(series, detector) if found is not None else None
    key = (series_name, detector, threshold, int(cooldown), ui.settings_key(), scored is not None)
    return run_detect(*key, series, scored)


ui.source_notice(corpus.source, an.DETECTORS[detector]["title"])


def series_chart(
    frame: pd.DataFrame, windows, threshold: float, title: str, *, start: int = 0, height: int = 440
) -> go.Figure:
    """Values with labelled windows shaded and detections marked, and the score below.

    Two stacked y-axes on one x-axis and the bands as layout shapes, written out in one go: ``make_subplots`` with
    ``add_vrect`` for each window re-validated the whole layout each time (about 0.3 s a chart, on every rerun and
    every live tick).
    """
    hits = frame[frame["detected"]]
    traces = [
        go.Scatter(x=frame["time"], y=frame["value"], name="value", line={"width": 1}, yaxis="y"),
        go.Scatter(
            x=hits["time"],
            y=hits["value"],
            mode="markers",
            name="detected anomaly",
            marker={"color": "#d62728", "size": 11, "symbol": "x"},
            yaxis="y",
        ),
        go.Scatter(
            x=frame["time"],
            y=frame["score"],
            name="anomaly score",
            line={"width": 1, "color": "#7f7f7f"},
            yaxis="y2",
        ),
    ]
    shapes = [
        {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y2", "y0": threshold, "y1": threshold,
         "line": {"dash": "dot", "color": "#d62728"}}
    ]  # fmt: skip
    annotations = []
    times = frame["time"].to_numpy()
    for a, b in windows:
        a, b = a - start, b - start
        if b < 0 or a >= len(times):
            continue
        x0, x1 = times[max(a, 0)], times[min(b, len(times) - 1)]
        shapes += [
            {"type": "rect", "xref": "x", "x0": x0, "x1": x1, "yref": f"{axis} domain", "y0": 0, "y1": 1,
             "fillcolor": "#d62728", "opacity": 0.12, "line": {"width": 0}, "layer": "below"}
            for axis in ("y", "y2")
        ]  # fmt: skip
        if not annotations:  # only the first band is labelled
            annotations.append(
                {"text": "labelled window", "xref": "x", "x": x0, "yref": "y domain", "y": 1, "xanchor": "left",
                 "yanchor": "bottom", "showarrow": False}
            )  # fmt: skip
    layout = {
        "height": height,
        "title": {"text": title},
        "margin": {"t": 50, "b": 10},
        "legend": {"orientation": "h", "y": -0.08},
        "xaxis": {"anchor": "y2"},
        "yaxis": {"domain": [0.355, 1.0], "title": {"text": "value"}},
        "yaxis2": {"domain": [0.0, 0.305], "title": {"text": "score"}},
        "shapes": shapes,
        "annotations": annotations,
    }
    return go.Figure(data=traces, layout=layout)


def show_notes(notes) -> None:
    """What the engine wants the visitor to know (downsampling, constant series, ...)."""
    for note in notes:
        st.info(note)


# ------------------------------------------------------------------ detect
def render_detect() -> None:
    st.markdown(
        "The chart shows the series, the **labelled anomaly windows** (red bands: NAB's ground truth, or where we "
        "injected an anomaly) and the **detections** (red crosses) of the detector picked in the sidebar. Below it, "
        "the anomaly score and the threshold (dotted). Change the series, detector or threshold in the sidebar."
    )
    st.button("Detect anomalies", type="primary", key="anomaly_detect")
    try:
        result = detection()
    except InputError as exc:
        st.error(str(exc))
        return
    show_notes(series.notes)
    cols = st.columns(4)
    cols[0].metric("Detections", f"{len(result.detections):,}")
    if series.has_labels:
        cols[1].metric(
            "NAB score (this series)", f"{result.metrics['nab_score']:.1f}", help="0 = never fires, 100 = perfect"
        )
        cols[2].metric("Window precision", ui.percent(result.metrics["window_precision"], 0))
        cols[3].metric("Window recall", ui.percent(result.metrics["window_recall"], 0))
    title = f"{series.name}: {an.DETECTORS[detector]['title']}"
    st.plotly_chart(series_chart(result.frame(), series.windows, result.threshold, title), width="stretch")
    if series.events:
        st.caption("Injected: " + "; ".join(series.events) + ".")
    st.caption(
        f"{result.how} Scored {len(result.scores):,} points in {result.seconds:.2f} s. NAB ignores detections in the first "
        "15% of a series (at most 750 points): the detector is still learning what normal looks like."
    )


# ------------------------------------------------------------------ live stream
def current_rule() -> an.AlertRule:
    """The alert rule set in the Alerts tab (defaults until visited)."""
    state = st.session_state
    return an.AlertRule(
        threshold=float(state.get("anomaly_rule_threshold", an.DEFAULT_THRESHOLDS[an.DEFAULT_DETECTOR])),
        min_consecutive=int(state.get("anomaly_rule_consecutive", 1)),
        cooldown=int(state.get("anomaly_rule_cooldown", an.DEFAULT_COOLDOWN)),
        severity=state.get("anomaly_rule_severity", an.Severity.WARNING),
    )


def stream_state() -> an.StreamState:
    """The replay of the picked series, restarted when the series or the rule changes."""
    rule = current_rule()
    stream = st.session_state.get("anomaly_stream")
    if stream is None or stream.series.name != series.name or stream.alerts.rule != rule:
        stream = an.start_stream(series, rule)
        st.session_state["anomaly_stream"] = stream
    return stream


def webhook_sender() -> an.WebhookSender | None:
    """The webhook sender for the URL in the Alerts tab, or None."""
    url = st.session_state.get("anomaly_webhook_url", "").strip()
    if not url:
        return None
    sender = st.session_state.get("anomaly_webhook_sender")
    if sender is None or sender.url != url:
        try:
            sender = an.WebhookSender(url)
        except InputError:
            return None  # the Alerts tab shows why
        st.session_state["anomaly_webhook_sender"] = sender
    return sender


def live_tick() -> None:
    """One tick of the replay: push a batch (when streaming), toast alerts, redraw."""
    stream = stream_state()
    running = st.session_state.get("anomaly_live", False)
    if running and not stream.done:
        raised = stream.step(int(st.session_state.get("anomaly_batch", 50)))
        sender = webhook_sender()
        for alert in raised[-3:]:  # at most three toasts a tick
            st.toast(alert.message, icon="🚨")
        for alert in raised:
            if sender is not None:
                sender.send(alert)
        if sender is not None:
            sender.collect(stream.alerts)
    n = stream.position
    cols = st.columns(4)
    cols[0].metric("Points streamed", f"{n:,} / {len(stream.series.values):,}")
    cols[1].metric("Throughput, points/s (detector + rules)", f"{stream.points_per_s:,.0f}")
    cols[2].metric("Alerts raised", len(stream.alerts.alerts))
    cols[3].metric("Unacknowledged", sum(not a.acknowledged for a in stream.alerts.alerts))
    if n == 0:
        st.info("Switch **Stream** on to start the replay.")
        return
    start = max(0, n - LIVE_WINDOW)
    values = stream.series.values.iloc[start:n]
    flags = np.zeros(n - start, dtype=bool)
    for alert in stream.alerts.alerts:
        if alert.index >= start:
            flags[alert.index - start] = True
    frame = pd.DataFrame(
        {"time": values.index, "value": values.to_numpy(), "score": stream.scores[start:n], "detected": flags}
    )
    title = f"Live: {stream.series.name} (last {len(frame):,} points; crosses are alerts)"
    st.plotly_chart(
        series_chart(frame, stream.series.windows, stream.alerts.rule.threshold, title, start=start), width="stretch"
    )
    if stream.done:
        st.success("The whole series was replayed. Press **Restart** to replay it again.")


def restart_stream() -> None:
    st.session_state.pop("anomaly_stream", None)


def render_live() -> None:
    st.markdown(
        "Replays the picked series point by point through the **online detector** (constant work per point: "
        "exponentially weighted statistics and a ring buffer, no refitting), applies the alert rule from the "
        "**Alerts** tab, pops a toast for each alert and posts it to your webhook if you set one. Every second, one "
        "batch of points arrives."
    )
    cols = st.columns([1, 2, 1])
    cols[0].toggle("Stream", value=False, key="anomaly_live", help="Start or pause the replay.")
    cols[1].slider("Points per tick", 10, 2000, 200, step=10, key="anomaly_batch")
    cols[2].button("Restart", key="anomaly_restart", on_click=restart_stream)
    # The timer runs only while streaming: a paused page does not rerun every second.
    stream = st.session_state.get("anomaly_stream")
    running = st.session_state.get("anomaly_live", False) and not (stream is not None and stream.done)
    st.fragment(live_tick, run_every=TICK_SECONDS if running else None)()


# ------------------------------------------------------------------ alerts
def acknowledge(alert_id: int | None) -> None:
    stream = st.session_state.get("anomaly_stream")
    if stream is None:
        return
    for alert in list(stream.alerts.alerts):
        if alert_id is None or alert.id == alert_id:
            stream.alerts.acknowledge(alert.id)


def checked_webhook_url(url: str) -> str:
    """Why the typed webhook URL is refused ("" when it is fine); checked once per URL, not on every rerun (the
    check may look the host name up, for up to two seconds)."""
    allow = webhooks.allow_private_default()
    known = st.session_state.get(WEBHOOK_CHECKED)
    if known is not None and known[:2] == (url, allow):
        return known[2]
    try:
        an.validate_webhook_url(url, allow_private=allow)
        error = ""
    except InputError as exc:
        error = str(exc)
    st.session_state[WEBHOOK_CHECKED] = (url, allow, error)
    return error


def webhook_test_outcome() -> None:
    """The test alert's outcome once known; while it is on its way the fragment polls (the page is free)."""
    pending = st.session_state.get(WEBHOOK_TEST)
    url = st.session_state.get("anomaly_webhook_url", "").strip()
    if pending is None or pending[0] != url:
        return
    future = pending[1]
    if not future.done():
        st.info(
            f"Webhook: sending the test alert… the outcome shows here within {webhooks.WEBHOOK_TIMEOUT:g} s; the page "
            "stays usable meanwhile."
        )
        return
    outcome = future.result()
    (st.success if outcome.startswith("sent") else st.error)(f"Webhook: {outcome}")
    if st.session_state.get(WEBHOOK_TEST + "_shown") is not future:
        st.session_state[WEBHOOK_TEST + "_shown"] = future
        st.rerun()  # one full rerun turns the fragment's timer off


def render_alerts() -> None:
    st.markdown(
        "An alert fires when the score stays at or above the **threshold** for **minimum consecutive points**; the "
        "rule then stays quiet for the **cooldown**, so one incident gives one alert. Changing the rule restarts the "
        "live stream."
    )
    with st.container(border=True):
        cols = st.columns(4)
        cols[0].number_input(
            "Threshold",
            value=float(an.DEFAULT_THRESHOLDS[an.DEFAULT_DETECTOR]),
            step=0.1,
            key="anomaly_rule_threshold",
        )
        cols[1].number_input("Minimum consecutive points", 1, 100, 1, key="anomaly_rule_consecutive")
        cols[2].number_input("Cooldown (points)", 0, 10_000, an.DEFAULT_COOLDOWN, step=10, key="anomaly_rule_cooldown")
        cols[3].selectbox("Severity", SEVERITIES, index=1, key="anomaly_rule_severity")
    url = st.text_input(
        "Webhook URL (optional)",
        key="anomaly_webhook_url",
        placeholder="https://hooks.example.com/alerts",
        help=f"Each alert is POSTed as JSON ({webhooks.WEBHOOK_TIMEOUT:g} s in all, on a worker thread). Loopback and "
        f"private addresses are refused unless the server sets {an.ALLOW_PRIVATE_ENV}=1.",
    )
    if url.strip():
        error = checked_webhook_url(url)
        if error:
            st.error(error)
        else:
            st.caption("The webhook URL is valid.")
        if st.button("Send a test alert", key="anomaly_webhook_test"):
            if error:  # nothing is sent: the reason is the one above
                st.session_state.pop(WEBHOOK_TEST, None)
                st.error(f"Webhook: failed: {ui.escape_markdown(error)}")
            else:  # posted on a worker thread: the page never waits for the receiver
                payload = {"text": "Test alert from the anomaly monitor", "severity": "info"}
                st.session_state[WEBHOOK_TEST] = (url.strip(), webhooks.post_in_background(url, payload))
        pending = st.session_state.get(WEBHOOK_TEST)
        polling = pending is not None and pending[0] == url.strip() and not pending[1].done()
        st.fragment(webhook_test_outcome, run_every=WEBHOOK_POLL_SECONDS if polling else None)()
    stream = st.session_state.get("anomaly_stream")
    log = stream.alerts.frame() if stream is not None else an.AlertManager().frame()
    st.subheader(f"Alert log ({len(log)})")
    if log.empty:
        st.info("No alert yet: start the **Live stream** tab's replay and alerts appear here.")
        return
    st.dataframe(log.drop(columns="index"), hide_index=True, width="stretch")
    cols = st.columns([2, 1, 1, 2])
    open_ids = [int(i) for i in log.loc[~log["acknowledged"], "id"]]
    chosen = cols[0].selectbox("Alert", open_ids or [None], key="anomaly_ack_id", disabled=not open_ids)
    cols[1].button("Acknowledge", key="anomaly_ack", on_click=acknowledge, args=(chosen,), disabled=not open_ids)
    cols[2].button("Acknowledge all", key="anomaly_ack_all", on_click=acknowledge, args=(None,))
    cols[3].download_button(
        "Download the log (CSV)", stream.alerts.to_csv(), file_name="alerts.csv", mime="text/csv", key="anomaly_log_csv"
    )


# ------------------------------------------------------------------ multivariate
def render_multivariate() -> None:
    st.markdown(
        "Card transactions (amount, hour, distance from home, how familiar the merchant is, transactions in the last "
        "24 hours) with a few **fraud-like rows injected**: large, at night, far away, in bursts; half of them "
        "disguise one feature. The detectors never see the labels; the labels only score them afterwards."
    )
    cols = st.columns(3)
    n = cols[0].select_slider("Transactions", [1000, 2000, 5000], value=2000, key="anomaly_mv_n")
    share = cols[1].slider("Injected fraud share", 0.005, 0.1, 0.02, step=0.005, key="anomaly_mv_share")
    contamination = cols[2].slider("Flag the top share", 0.005, 0.1, 0.02, step=0.005, key="anomaly_mv_flag")
    st.button("Score transactions", type="primary", key="anomaly_mv_run")
    try:
        config = an.TransactionsConfig(n=n, fraud_share=share, contamination=contamination)
    except InputError as exc:
        st.error(str(exc))
        return
    # The default ships with the gallery; other settings are scored in the background queue (a progress panel).
    served = lifecycle.serve(an.transactions_request(config), what="the transaction scores")
    frame, result = served.model.frame, served.model.result
    st.caption(f"Scores {ORIGINS.get(served.source, served.source)}.")
    st.dataframe(
        result.metrics,
        hide_index=True,
        width="stretch",
        column_config={
            "roc_auc": st.column_config.NumberColumn("ROC AUC", format="%.3f"),
            "precision_at_k": st.column_config.NumberColumn("precision@k (k = true frauds)", format="%.2f"),
        },
    )
    method = st.radio("Show flags of", list(result.scores.columns), horizontal=True, key="anomaly_mv_method")
    view = result.pca.assign(
        status=np.select(
            [result.flagged[method] & (frame["fraud"] == 1), result.flagged[method], frame["fraud"] == 1],
            ["flagged, fraud", "flagged, normal", "missed fraud"],
            "normal",
        ),
        amount=frame["amount"],
        hour=frame["hour"],
    )
    chart = px.scatter(
        view,
        render_mode="svg",  # 2,000 points draw at once in SVG; WebGL must first start a context (seconds without a GPU)
        x="pc1",
        y="pc2",
        color="status",
        hover_data=["amount", "hour"],
        color_discrete_map={
            "normal": "#c7c7c7",
            "flagged, fraud": "#2ca02c",
            "flagged, normal": "#ff7f0e",
            "missed fraud": "#d62728",
        },
        title=f"Transactions in two principal components: what {method} flagged",
    )
    chart.update_traces(marker={"size": 6})
    st.plotly_chart(chart, width="stretch")


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    what = "the 7 NAB realKnownCause series" if corpus.is_nab else "the generated series"
    st.markdown(
        f"Every detector on {what}, scored with NAB's standard profile (a detected window +1 at best, a missed "
        "window -1, a false positive -0.11; normalised so that never firing scores 0 and perfect scores 100). As in "
        "NAB, each detector gets the single threshold that maximises its score over all series."
    )
    try:
        request = an.request(an.CompareConfig(cooldown=int(cooldown)), corpus)
    except InputError as exc:
        st.error(str(exc))
        return
    # Shipped for the generated series with the default cooldown (or computed earlier): shown at once. Otherwise
    # the button queues the comparison in the background and the tab shows its progress.
    comparison = on_demand.result(
        request, button="Compare all detectors", key="anomaly_compare", what="the comparison of every detector"
    )
    job = jobs.queue().get(request.job_key)
    if comparison is None:
        if job is None:
            st.info(
                "Press **Compare all detectors**: it runs in the background (about 20 seconds on NAB: STL and the "
                "batch models take longest) and is kept for every later visitor."
            )
        return
    found = lifecycle.cached_model(request)
    source = TRAINED if job is not None and job.state == jobs.DONE else found[1] if found else TRAINED
    table = comparison.table
    st.caption(
        f"Comparison {ORIGINS.get(source, source)}: {comparison.corpus}, cooldown "
        f"{comparison.config.cooldown} points, {comparison.seconds:.1f} s to score."
    )
    chart = px.bar(
        table.sort_values("nab_score"),
        x="nab_score",
        y="detector",
        orientation="h",
        title="NAB score (standard profile, 0 = never fires, 100 = perfect)",
    )
    chart.update_layout(height=420, yaxis_title=None)
    st.plotly_chart(chart, width="stretch")
    st.dataframe(
        table.drop(columns="key"),
        hide_index=True,
        width="stretch",
        column_config={
            "nab_score": st.column_config.NumberColumn("NAB score", format="%.1f"),
            "threshold": st.column_config.NumberColumn(format="%.5g"),
            "window_precision": st.column_config.NumberColumn(format="%.2f"),
            "window_recall": st.column_config.NumberColumn(format="%.2f"),
            "seconds": st.column_config.NumberColumn(format="%.2f"),
        },
    )


# ------------------------------------------------------------------ your data
def example_csv() -> bytes:
    """A generated series as CSV, for people without a file at hand."""
    example = generated(next(iter(an.PRESETS))).values
    return pd.DataFrame({"timestamp": example.index, "value": example.round(3).to_numpy()}).to_csv(index=False).encode()


def render_upload() -> None:
    st.markdown(
        f"Upload a **CSV** with a date column and a numeric column (up to {MAX_UPLOAD_BYTES // 2**20} MB). Dates "
        "are parsed, duplicated timestamps averaged, gaps filled and long series downsampled; every such step is "
        "reported below. The default online detector then scores it."
    )
    st.download_button("Download an example CSV", example_csv(), file_name="example-metric.csv", key="anomaly_example")
    upload = st.file_uploader("Your series", type=["csv", "tsv"], key="anomaly_upload")
    if upload is None:
        st.caption("No file yet: the example CSV above is scored instead.")
        name, payload = "example-metric.csv", example_csv()
    else:
        name, payload = ui.upload_name(upload), upload.getvalue()
    try:
        user, report = an.read_user_csv(payload, name)
        result = an.detect(user, an.DetectConfig(cooldown=int(cooldown)))
    except InputError as exc:
        st.error(str(exc))
        return
    st.success(
        f"Read `{ui.upload_name(report.value_column)}` by `{ui.upload_name(report.date_column)}`: "
        f"{report.points:,} {report.freq_label} points; "
        f"{len(result.detections):,} anomalies flagged."
    )
    show_notes(user.notes)
    st.caption(result.how)
    st.plotly_chart(
        series_chart(result.frame(), (), result.threshold, f"{name}: {an.DETECTORS[an.DEFAULT_DETECTOR]['title']}"),
        width="stretch",
    )
    flagged = result.frame().loc[lambda f: f["detected"], ["time", "value", "score"]]
    st.dataframe(flagged, hide_index=True, width="stretch")


# ------------------------------------------------------------------ card
def render_card() -> None:
    try:
        result = detection()
    except InputError as exc:
        st.error(str(exc))
        return
    title = corpus.source.spec.title if not series_name.startswith(GENERATED) and corpus.is_nab else "Generated series"
    provenance = corpus.source.provenance if corpus.is_nab and not series_name.startswith(GENERATED) else "generated"
    ui.model_card(an.card_for(detector, result, provenance, title), file_name=f"model-card-anomaly-{detector}.md")


TABS = {
    "🔎 Detect": render_detect,
    "📡 Live stream": render_live,
    "🚨 Alerts": render_alerts,
    "🧮 Multivariate": render_multivariate,
    "⚖️ Compare detectors": render_compare,
    "📂 Your data": render_upload,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="anomaly_tab")
