"""Forecasting dashboard page: widgets -> engines.forecast -> charts."""

import threading

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app_pages import lifecycle, ui
from engines import forecast as fc
from engines.core import jobs
from engines.core.errors import InputError, SourceError
from engines.core.timeseries import guess_columns, read_series_table
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import get_demo

DEMO = get_demo("forecast")
DATASET = "forecast_dataset"
CUSTOM = "forecast_custom_series"  # the user's series, once they press "Forecast this series"
LIVE = "forecast_live_state"
GOTO_FORECAST = "forecast_goto_forecast"  # set by the upload tab: open the Forecast tab on the next run
PRESETS = {
    fc.Dataset.PEYTON: "📰 Page views (daily)",
    fc.Dataset.AIR: "✈️ Air passengers (monthly)",
    fc.Dataset.RETAIL: "🛒 Retail sales (monthly)",
    fc.Dataset.CO2: "🌋 Mauna Loa CO2 (weekly)",
    fc.Dataset.STOCKS: "💹 Stock prices (weekly)",
}
FREQUENCIES = {"inferred from the dates": None, "hourly": "h", "daily": "D", "weekly": "W", "monthly": "MS"}
BUTTONS_PER_ROW = 3  # six preset buttons in one row cut their labels short
LIVE_HOLDBACK = 30  # points held back from the series and replayed one per tick in live mode
LIVE_WINDOW = 200  # points shown (and refitted) in live mode
LIVE_SECONDS = {"every 2 seconds": 2.0, "every 5 seconds": 5.0}
PRELOAD_AFTER_S = 6.0  # the first view is on screen by then; opening Live sooner imports statsmodels in the script
COLORS = {"history": "#334155", "forecast": "#2563eb", "band": "rgba(37, 99, 235, 0.18)", "new": "#f97316"}

ui.page_header(
    DEMO,
    "How many visitors will the site get next month, and how sure can we be? Pick a series below: page views, "
    "passengers, sales, CO2 or a stock price, or upload your own CSV. The page splits it into trend, seasonality "
    "and noise, then compares six forecasting models: a seasonal naive baseline, exponential smoothing, SARIMA, Prophet, "
    "gradient boosting on lag features and an ensemble. Each model is scored the honest way, by a **rolling-origin "
    "backtest**: it forecasts from several past dates using only the data before them, exactly as Prophet's "
    "cross-validation does. The forecast shown is the mean of the two models with the lowest backtest error (a "
    "forecast combination: steadier than trusting a single winner of a few backtest origins), not of the ones that "
    "fit the past best. "
    "Turn on live mode to watch new points arrive and the forecast update.",
)


@st.cache_resource(max_entries=8, show_spinner="Loading the series…")
def load_data(dataset: str, ticker: str, settings_key: tuple):
    """One series and its provenance (re-resolved when the data settings change)."""
    return fc.load_series(dataset, ticker=ticker)


@st.cache_resource(max_entries=16, show_spinner=False)
def quick_model(data_sha256: str, cutoffs: int, coverage: float, metric: str, _data: fc.SeriesData):
    """The quick forecast (seasonal naive against ETS, well under a second) shown while the comparison trains."""
    return fc.quick_train(_data, fc.ForecastConfig(cutoffs=cutoffs, coverage=coverage, metric=metric))


def comparison_job(request, *, private: bool) -> jobs.Job:
    """The background job of the full comparison; a failed one is kept (shown), not retried on every rerun."""
    job = jobs.queue().get(request.job_key)
    if job is not None and job.state == jobs.FAILED:
        return job
    return lifecycle.start_training(request, private=private)


def full_model(request):
    """The full comparison's model and where it came from, once it exists; else None."""
    found = lifecycle.cached_model(request)
    job = jobs.queue().get(request.job_key)
    trained = job is not None and job.state == jobs.DONE
    if found is not None:
        return found[0], lifecycle.TRAINED if trained else found[1]
    if trained and job.result is not None:  # trained, but the disk refused it
        return job.result, lifecycle.TRAINED
    return None


@st.fragment(run_every=2.0)
def comparison_status(job: jobs.Job) -> None:
    """The background comparison's progress, on every tab; the page reruns with the full model when it ends."""
    job.touch()
    if job.done.is_set():
        st.rerun(scope="app")
    st.progress(job.fraction, text=job.status_line())


@st.cache_resource(max_entries=1, show_spinner=False)
def preload_statsmodels() -> threading.Timer:
    """Once per server, a few seconds after the first view: import what live mode and the quick forecast use.

    Started at once, the import (about 1.2 s of CPU, holding the GIL) competed with sending the first view itself.
    """
    timer = threading.Timer(PRELOAD_AFTER_S, fc.preload)
    timer.name, timer.daemon = "forecast-preload", True
    timer.start()
    return timer


@st.cache_data(max_entries=16, show_spinner=False)
def decomposition(data_sha256: str, period: int, _y: pd.Series) -> pd.DataFrame:
    """STL parts, cached per series and period."""
    return fc.decompose(_y, period)


@st.cache_data(max_entries=16, show_spinner=False)
def correlations(data_sha256: str, lags: int, _y: pd.Series) -> pd.DataFrame:
    """ACF and PACF, cached per series."""
    return fc.autocorrelation(_y, lags)


def choose(dataset: fc.Dataset) -> None:
    """A preset button: switch to that series."""
    st.session_state[DATASET] = dataset.value


def number(value: float) -> str:
    """A value with sensible digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"


# ------------------------------------------------------------------ which series
st.session_state.setdefault(DATASET, fc.Dataset.PEYTON.value)
st.caption("One click picks a series (each preset's forecast ships with the gallery, its models already compared):")
choices = [*PRESETS.items(), (fc.Dataset.CUSTOM, "📂 Your CSV")]
for start in range(0, len(choices), BUTTONS_PER_ROW):
    row = st.columns(BUTTONS_PER_ROW)
    for column, (dataset, label) in zip(row, choices[start : start + BUTTONS_PER_ROW], strict=False):
        column.button(
            label,
            key=f"forecast_preset_{dataset.value}",
            on_click=choose,
            args=(dataset,),
            type="primary" if st.session_state[DATASET] == dataset.value else "secondary",
            width="stretch",
            disabled=dataset is fc.Dataset.CUSTOM and CUSTOM not in st.session_state,
            help="Upload a CSV in the Your data tab first" if dataset is fc.Dataset.CUSTOM else None,
        )
current = fc.Dataset(st.session_state[DATASET])
if current is fc.Dataset.CUSTOM and CUSTOM not in st.session_state:
    current = fc.Dataset.PEYTON

with st.sidebar:
    st.subheader("Backtest and selection")
    ticker = st.selectbox("Stock (for stock prices)", fc.TICKERS, key="forecast_ticker", bind="query-params")
    cutoffs = st.slider(
        "Backtest origins",
        1,
        5,
        3,
        key="forecast_cutoffs",
        bind="query-params",
        help="How many past dates each model forecasts from (every half horizon back from the end). More origins: "
        "a steadier score, a slower fit. `python -m benchmarks forecast` runs Prophet's full protocol. Settings other "
        "than the defaults compare the models in the background; a quick forecast answers meanwhile.",
    )
    coverage = st.select_slider(
        "Prediction interval",
        [0.8, 0.9, 0.95],
        value=0.8,
        key="forecast_coverage",
        bind="query-params",
        format_func=ui.percent,
    )
    metric = st.selectbox(
        "Rank the models by",
        fc.model.METRIC_NAMES,
        key="forecast_metric",
        bind="query-params",
        format_func=str.upper,
        help="The best two by this backtest metric are averaged into the selected forecast when the second's error "
        f"is within {fc.model.COMBINE_WITHIN:g} times the best's; otherwise the best is taken alone. MASE: error relative "
        "to the seasonal naive forecast's (below 1 beats it); scale-free and safe with zeros.",
    )

try:
    data = (
        st.session_state[CUSTOM]
        if current is fc.Dataset.CUSTOM
        else load_data(current.value, ticker, ui.settings_key())
    )
except (SourceError, InputError) as exc:
    st.error(f"No data is available for this series: {exc}")
    st.stop()

config = fc.ForecastConfig(cutoffs=cutoffs, coverage=coverage, metric=metric)
request = fc.request(config, data)
job = None
found = full_model(request)
if found is None and lifecycle.wait_for_training():  # page tests: the script waits for the queued comparison
    job = comparison_job(request, private=current is fc.Dataset.CUSTOM)
    job.done.wait(lifecycle.WAIT_LIMIT_S)
    found = full_model(request)
try:
    model, source = found if found is not None else (quick_model(data.sha256, cutoffs, coverage, metric, data), "")
except InputError as exc:
    st.error(f"This series cannot be forecast: {exc}")
    st.stop()
quick = found is None
if quick and job is None:
    # No shipped or cached comparison for this series and these settings: it runs in the background queue, started
    # after the quick fit (on two CPUs the script should not race it), and the page never waits for it.
    job = comparison_job(request, private=current is fc.Dataset.CUSTOM)
comparing = quick and job is not None and job.state not in jobs.FINISHED

selected_title = model.selected_title
model_title = f"{selected_title}, chosen by backtest"
if quick:
    note = (
        "Quick forecast while the comparison of six models runs in the background; the page switches when it is ready."
        if comparing
        else "Quick forecast: the comparison of six models could not run (see below)."
    )
else:
    note = lifecycle.source_note(lifecycle.Served(model, source, request))
if data.resolved is not None:
    ui.source_notice(data.resolved, model_title, note)
else:
    ui.source_caption(data.title, data.homepage, data.provenance, data.licence or "your file", model_title, note)
if comparing:
    comparison_status(job)
elif quick and job is not None and job.state == jobs.FAILED:
    st.warning(f"The comparison of the six models failed: {job.error} The quick forecast is shown.", icon="⚠️")
if data.is_sample:
    st.caption("The sample is a made-up series written by `data/make_forecast_sample.py`, not real traffic or sales.")


# ------------------------------------------------------------------ charts
def forecast_chart(history: pd.Series, future: pd.DataFrame, title: str, *, new: pd.Series | None = None) -> go.Figure:
    """History, the forecast line and its interval band (and, in live mode, the points that just arrived)."""
    chart = go.Figure()
    chart.add_trace(
        go.Scatter(
            x=history.index,
            y=history.values,
            name="history",
            mode="lines",
            line={"color": COLORS["history"], "width": 1.4},
        )
    )
    if new is not None and len(new):
        chart.add_trace(
            go.Scatter(
                x=new.index,
                y=new.values,
                name="arrived live",
                mode="markers",
                marker={"color": COLORS["new"], "size": 7},
            )
        )
    chart.add_trace(
        go.Scatter(
            x=future["ds"], y=future["yhat_upper"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
        )
    )
    chart.add_trace(
        go.Scatter(
            x=future["ds"],
            y=future["yhat_lower"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=COLORS["band"],
            name=f"{model.config.coverage:.0%} interval",
        )
    )
    chart.add_trace(
        go.Scatter(
            x=future["ds"],
            y=future["yhat"],
            name="forecast",
            mode="lines",
            line={"color": COLORS["forecast"], "width": 2.2},
        )
    )
    chart.update_layout(
        title=title,
        height=460,
        margin={"t": 50, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.12},
    )
    chart.update_yaxes(title_text=data.unit or "value")
    return chart


def kpi_tiles(history: pd.Series, future: pd.DataFrame, where) -> None:
    """Next period, growth over the horizon, uncertainty."""
    tiles = fc.kpis(history, future)
    first, second, third = where.columns(3)
    first.metric(
        f"Next period ({pd.Timestamp(future['ds'].iloc[0]):%Y-%m-%d})",
        number(tiles["next"]),
        delta=f"{'+' if tiles['next'] >= tiles['last'] else '-'}{number(abs(tiles['next'] - tiles['last']))} vs last",
        help="The first forecast value against the last observed one.",
    )
    second.metric(
        f"Growth over the next {len(future)} periods",
        ui.percent(tiles["growth"]),
        help="Mean of the forecast against the mean of the same number of periods just before it.",
    )
    third.metric(
        "Uncertainty",
        f"±{ui.percent(tiles['uncertainty'] / 2)}",
        help=f"Half the mean width of the {model.config.coverage:.0%} interval, relative to the forecast.",
    )


# ------------------------------------------------------------------ forecast
def render_forecast() -> None:
    names = model.models
    left, right = st.columns([3, 2])
    horizon = left.slider(
        "Forecast horizon (steps ahead)",
        1,
        model.horizon,
        model.horizon,
        key=f"forecast_horizon_{model.horizon}",
        help=f"Up to the {model.horizon} steps the models were backtested on.",
    )
    choice = right.selectbox(
        "Model",
        names,
        index=names.index(model.selected_),
        format_func=lambda m: model.title(m) + (" (selected by backtest)" if m == model.selected_ else ""),
        key=f"forecast_model_{data.sha256[:8]}_{'quick' if quick else 'full'}",
    )
    future = model.forecast(choice, steps=horizon)
    history = data.y
    kpi_tiles(history, future, st)
    shown = history.iloc[-max(4 * horizon, 3 * model.season, 60) :]
    st.plotly_chart(
        forecast_chart(shown, future, f"{model.title(choice)}: the next {horizon} steps ({data.report.freq_label})"),
        width="stretch",
    )
    row = model.leaderboard_.set_index("model").loc[choice.value]
    st.caption(
        f"Backtest of this model: sMAPE {ui.percent(row['smape'])}, MASE {row['mase']:.2f} (below 1 beats the seasonal "
        f"naive baseline), interval coverage {ui.percent(row['coverage'])} for a nominal {model.config.coverage:.0%}. "
        f"Zoom out (double-click) to see the whole history."
    )
    for note in (*data.notes, *model.notes_):
        st.info(note, icon="ℹ️")
    st.download_button(
        "Download this forecast (CSV)",
        # Built when clicked: the button then needs no media file per run, which a quick rerun (another click while
        # the page draws) could drop before the browser checked it (a 404 under load, seen by the 8-session run).
        lambda: future.to_csv(index=False),
        file_name=f"forecast-{data.dataset.value}-{choice.value}.csv",
        mime="text/csv",
        key="forecast_download",
    )


# ------------------------------------------------------------------ decomposition
def render_decomposition() -> None:
    shape = fc.seasonality(model.freq)
    periods = {f"{shape.season} steps ({shape.label.split(' +')[0]})": shape.season} if shape.season > 1 else {}
    if shape.yearly and round(shape.yearly) != shape.season:
        periods[f"{round(shape.yearly)} steps (yearly)"] = round(shape.yearly)
    if not periods:
        st.info("This series has no seasonal period to decompose (yearly data, or an irregular frequency).")
        return
    label = st.radio("Seasonal period for STL", list(periods), horizontal=True, key="forecast_stl_period")
    try:
        parts = decomposition(data.sha256, periods[label], data.y)
    except InputError as exc:
        st.error(str(exc))
        return
    strength = fc.seasonal_strength(parts)
    a, b = st.columns(2)
    a.metric(
        "Trend strength", f"{strength['trend']:.2f}", help="0: no trend, 1: all trend (Wang, Smith & Hyndman 2006)."
    )
    b.metric("Seasonal strength", f"{strength['seasonal']:.2f}", help="0: no seasonality, 1: pure seasonality.")
    chart = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=("observed", "trend", "seasonal", "residual"),
    )
    for i, part in enumerate(("observed", "trend", "seasonal", "resid"), start=1):
        chart.add_trace(
            go.Scatter(x=parts["ds"], y=parts[part], mode="lines", line={"width": 1}, name=part), row=i, col=1
        )
    chart.update_layout(height=640, showlegend=False, margin={"t": 40, "b": 10}, title="STL decomposition (robust)")
    st.plotly_chart(chart, width="stretch")
    lags = int(min(max(3 * periods[label], 24), 400, len(data.y) // 2 - 1))
    try:
        table = correlations(data.sha256, lags, data.y)
    except InputError as exc:
        st.error(str(exc))
        return
    bars = make_subplots(rows=1, cols=2, subplot_titles=("autocorrelation (ACF)", "partial autocorrelation (PACF)"))
    for col, name in ((1, "acf"), (2, "pacf")):
        bars.add_trace(
            go.Bar(x=table["lag"], y=table[name], marker_color=COLORS["forecast"], name=name), row=1, col=col
        )
        for sign in (1, -1):
            bars.add_hline(y=sign * table["bound"].iloc[0], line_dash="dot", line_color="gray", row=1, col=col)
    bars.update_layout(height=340, showlegend=False, margin={"t": 40, "b": 10})
    st.plotly_chart(bars, width="stretch")
    st.caption(
        "Bars outside the dotted band (95% for white noise) are real correlations: a slowly decaying ACF means a trend "
        "(difference it: the d of ARIMA), spikes at the season (7, 12, 52) mean seasonality, and where the PACF cuts "
        "off suggests the AR order."
    )


# ------------------------------------------------------------------ leaderboard
def render_leaderboard() -> None:
    if quick:
        st.info(
            "The leaderboard of the six models appears here when their comparison has run (progress above). "
            "Meanwhile, the quick forecast's two models on one backtest origin:",
            icon="⏳",
        )
    st.markdown(
        f"Every model forecast **{model.horizon} steps** from **{model.backtest_['cutoff'].nunique()} past origins** "
        f"using only the data before each one (Prophet's `cross_validation` protocol), and was scored on what "
        f"actually happened. "
        + (
            f"The {len(model.members_)} best by **{model.config.metric.upper()}** are averaged (their forecasts "
            f"and interval bounds): **{selected_title}**. Its row is scored on the same backtest that chose it, so "
            "it flatters it a little; the benchmark scores the choice on data it never saw."
            if model.selected_ is fc.ModelName.COMBINATION
            else f"The best **{model.config.metric.upper()}** wins: **{selected_title}**"
            + (
                f" (taken alone: the next best's error is more than {model.config.combine_within:g} times its own, "
                "so averaging would throw its accuracy away)."
                if model.config.combine > 1 and len(model.leaderboard_) > 1
                else "."
            )
        )
    )
    board = model.leaderboard_.assign(model=lambda t: t["title"] + t["selected"].map({True: " ✅", False: ""}))[
        ["rank", "model", "mase", "smape", "mape", "rmse", "coverage", "fit_s"]
    ]
    st.dataframe(
        board,
        hide_index=True,
        width="stretch",
        column_config={
            "mase": st.column_config.NumberColumn("MASE", format="%.3f", help="Below 1 beats the seasonal naive."),
            "smape": st.column_config.NumberColumn("sMAPE", format="percent"),
            "mape": st.column_config.NumberColumn("MAPE", format="percent"),
            "rmse": st.column_config.NumberColumn("RMSE", format="%.3g"),
            "coverage": st.column_config.NumberColumn(
                f"coverage ({model.config.coverage:.0%} nominal)", format="percent"
            ),
            "fit_s": st.column_config.NumberColumn("fit time (all origins)", format="%.2f s"),
        },
    )
    chart = px.line(
        model.by_step_,
        x="step",
        y="smape",
        color="model",
        title="Error by horizon: sMAPE at each step ahead, averaged over the origins",
        labels={"step": "steps ahead", "smape": "sMAPE"},
    )
    chart.update_layout(height=400, yaxis_tickformat=".0%", legend={"orientation": "h", "y": -0.25})
    st.plotly_chart(chart, width="stretch")
    cv = model.backtest_[model.backtest_["model"] == model.selected_.value]
    pictured = go.Figure()
    pictured.add_trace(
        go.Scatter(
            x=data.y.index, y=data.y.values, mode="lines", name="actual", line={"color": COLORS["history"], "width": 1}
        )
    )
    for cutoff, part in cv.groupby("cutoff"):
        pictured.add_trace(
            go.Scatter(
                x=part["ds"],
                y=part["yhat"],
                mode="lines",
                name=f"from {pd.Timestamp(cutoff):%Y-%m-%d}",
                line={"width": 2},
            )
        )
    start = cv["ds"].min() - (cv["ds"].max() - cv["ds"].min())
    pictured.update_xaxes(range=[start, cv["ds"].max()])
    pictured.update_layout(
        title=f"The backtest of {selected_title}: each origin's forecast against the truth", height=380
    )
    st.plotly_chart(pictured, width="stretch")
    if model.failed_:
        st.warning(
            "Left out: " + "; ".join(f"{fc.MODEL_TITLES[fc.ModelName(m)]}: {why}" for m, why in model.failed_.items())
        )


# ------------------------------------------------------------------ live
def live_state() -> dict:
    """The live replay of this series: history so far, the points still to arrive, ticks done."""
    state = st.session_state.get(LIVE)
    if state is None or state["sha"] != data.sha256:
        holdback = min(LIVE_HOLDBACK, len(data.y) // 4)
        state = {
            "sha": data.sha256,
            "history": data.y.iloc[: len(data.y) - holdback],
            "pending": data.y.iloc[len(data.y) - holdback :],
            "arrived": 0,
            "ticks": 0,
        }
        st.session_state[LIVE] = state
    return state


def advance(state: dict) -> None:
    """One new point: the next held-back one, then a seeded made-up continuation."""
    if len(state["pending"]):
        point = state["pending"].iloc[:1]
        state["pending"] = state["pending"].iloc[1:]
    else:
        point = fc.continuation(state["history"], 1, seed=state["ticks"])
    state["history"] = pd.concat([state["history"], point])
    state["history"].index.freq = data.y.index.freq
    state["arrived"] += 1
    state["ticks"] += 1


def live_panel() -> None:
    state = live_state()
    running = st.session_state.get("forecast_live", False)
    if running:
        advance(state)
    history = state["history"]
    steps = min(model.horizon, 30)
    future = fc.quick_forecast(history, steps, coverage=model.config.coverage)
    kpi_tiles(history, future, st)
    new = history.iloc[len(history) - state["arrived"] :] if state["arrived"] else None
    window = history.iloc[-LIVE_WINDOW:]
    title = f"Live: {len(history):,} points, {state['arrived']} arrived since start, refitted each time"
    st.plotly_chart(forecast_chart(window, future, title, new=new), width="stretch", key="forecast_live_chart")
    replaying = len(state["pending"])
    st.caption(
        (
            f"Replaying the last {LIVE_HOLDBACK} points of the series: {replaying} still to come; after them, "
            if replaying
            else "The held-back points are used up: "
        )
        + "a seeded made-up continuation (seasonal naive plus noise). The quick model is exponential smoothing on "
        "the last 400 points (refit in well under a second); the full leaderboard is in the other tabs."
    )


def render_live() -> None:
    st.markdown(
        "Live mode replays the end of the series as if the points were arriving now: each tick appends one point, "
        "refits a fast model and redraws the forecast and the tiles, without reloading the page."
    )
    left, mid, right = st.columns([2, 2, 1])
    running = left.toggle(
        "Live mode", value=False, key="forecast_live", help="Off by default; appends one point per tick."
    )
    speed = mid.radio("Tick", list(LIVE_SECONDS), horizontal=True, key="forecast_live_speed")
    if right.button("Reset", key="forecast_live_reset"):
        st.session_state.pop(LIVE, None)
    st.fragment(live_panel, run_every=LIVE_SECONDS[speed] if running else None)()


# ------------------------------------------------------------------ your data
def render_upload() -> None:
    st.markdown(
        f"Upload a **CSV** with a date column and a numeric column (up to {MAX_UPLOAD_BYTES // 2**20} MB). The page "
        "infers the frequency, combines duplicated timestamps, fills gaps by interpolation, downsamples very long "
        "series, and tells you what it did. Then press **Forecast this series**."
    )
    upload = st.file_uploader("Your series", type=["csv", "tsv"], key="forecast_upload")
    if upload is None:
        sample = fc.data.TRAFFIC_SAMPLE
        st.caption(f"No file yet: the bundled made-up traffic sample (`{sample.name}`) is shown as an example.")
        name, payload = sample.name, sample.read_bytes()
    else:
        name, payload = ui.upload_name(upload), upload.getvalue()
    try:
        table = read_series_table(payload, name)
    except InputError as exc:
        st.error(str(exc))
        return
    guessed_date, guessed_value = guess_columns(table.frame)
    columns = list(table.frame.columns)
    left, mid, right = st.columns(3)
    date_column = left.selectbox(
        "Date column",
        columns,
        index=columns.index(guessed_date) if guessed_date in columns else 0,
        key="forecast_date_column",
    )
    value_index = columns.index(guessed_value) if guessed_value in columns else min(1, len(columns) - 1)
    value_column = mid.selectbox("Value column", columns, index=value_index, key="forecast_value_column")
    freq_label = right.selectbox("Frequency", list(FREQUENCIES), key="forecast_frequency")
    try:
        series = fc.series_from_frame(
            table.frame, date_column, value_column, freq=FREQUENCIES[freq_label], title=f"Your CSV `{name}`"
        )
    except InputError as exc:
        st.error(str(exc))
        return
    st.success(f"`{name}`: {series.report.rows_in:,} rows -> {len(series.y):,} {series.report.freq_label} points.")
    for note in series.notes:
        st.info(note, icon="🧹")
    preview = px.line(
        x=series.y.index, y=series.y.values, labels={"x": "", "y": value_column}, title="Your series after cleaning"
    )
    preview.update_layout(height=300, margin={"t": 40, "b": 10})
    st.plotly_chart(preview, width="stretch")
    if st.button("Forecast this series", type="primary", key="forecast_upload_run"):
        try:
            fc.check_forecastable(series)
        except InputError as exc:
            st.error(str(exc))
            return
        st.session_state[CUSTOM] = series
        st.session_state[DATASET] = fc.Dataset.CUSTOM.value
        st.session_state[GOTO_FORECAST] = True
        st.rerun()


def render_card() -> None:
    ui.model_card(model.card_, file_name=f"model-card-forecast-{data.dataset.value}.md")


TABS = {
    "📈 Forecast": render_forecast,
    "🧩 Decomposition & autocorrelation": render_decomposition,
    "🏁 Backtest leaderboard": render_leaderboard,
    "📡 Live": render_live,
    "📂 Your data": render_upload,
    "🪪 Model card": render_card,
}
if st.session_state.pop(GOTO_FORECAST, False):
    st.session_state["forecast_tab"] = next(iter(TABS))
ui.stateful_tabs(TABS, key="forecast_tab")
preload_statsmodels()
