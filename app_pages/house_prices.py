"""House price estimator page: widgets -> engines.house_prices -> charts."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import lifecycle, ui
from engines import house_prices as hp
from engines.core.errors import InputError, SourceError
from engines.core.tabular import infer_types
from engines.core.uploads import MAX_UPLOAD_BYTES, read_table
from engines.registry import get_demo

DEMO = get_demo("house_prices")
DATASETS = {
    "California (census blocks, 1990)": hp.Dataset.CALIFORNIA,
    "Ames, Iowa (house sales, 2006-10)": hp.Dataset.AMES,
}
MAP_POINTS = 6000  # points drawn on the California map (the full 20,640 make the page heavy)
PRICE_WORDS = ("price", "saleprice", "value", "median_house_value", "target")

ui.page_header(
    DEMO,
    "How much is a house worth? This estimator learns it from real sales and census data: square footage, "
    "bedrooms and bathrooms, location, age and quality. It starts from the seed article's plain linear regression, "
    "then adds regularised linear models that select features, random forests and gradient boosting, with an "
    "outlier step that drops implausible training rows. Pick a dataset and a preset house: you get a price with a "
    "90% prediction interval whose coverage is measured on held-out houses, what drove the price, and how every "
    "approach compares in cross-validation. You can also train it on your own table.",
)


@st.cache_resource(max_entries=4, show_spinner="Loading the data…")
def load_data(dataset: str, settings_key: tuple):
    """A dataset and its provenance (re-resolved when the data settings change)."""
    return hp.load_dataset(dataset)


@st.cache_data(max_entries=4, show_spinner=False)
def compare(dataset: str, data_sha256: str, folds: int, _frame: pd.DataFrame, _progress) -> pd.DataFrame:
    """Cross-validate every model (cached per dataset)."""
    return hp.compare_models(_frame, dataset, folds=folds, progress=_progress)


def money(value: float) -> str:
    """$123,400."""
    return f"${value:,.0f}"


label = st.radio("Dataset", list(DATASETS), horizontal=True, key="house_prices_dataset", bind="query-params")
dataset = DATASETS[label]
try:
    resolved, frame = load_data(dataset.value, ui.settings_key())
except (SourceError, InputError) as exc:
    st.error(f"No data is available for this dataset: {exc}")
    st.stop()
target = hp.TARGETS[dataset]

with st.sidebar:
    st.subheader("Model")
    names = list(hp.ModelName)
    default_model = hp.DEFAULT_MODEL[dataset]
    choice = st.selectbox(
        "Model",
        names,
        index=names.index(default_model),
        format_func=lambda n: hp.MODELS[n]["title"] + (" (default)" if n == default_model else ""),
        key=f"house_prices_model_{dataset.value}",
    )
    drop_outliers = st.toggle(
        "Outlier step",
        value=True,
        key="house_prices_outliers",
        bind="query-params",
        help="Drop implausible rows (e.g. Ames houses above 4,000 sq ft, per De Cock) from the training part only.",
    )
config = hp.HouseConfig(dataset=dataset, model=choice, drop_outliers=drop_outliers)
served = lifecycle.serve(
    hp.request(config, (resolved, frame)),
    fallback=None if resolved.is_sample else hp.sample_request(dataset),
    what=f"the {hp.MODELS[choice]['title'].lower()} model",
)
model = served.model
ui.source_notice(resolved, hp.MODELS[choice]["title"], lifecycle.source_note(served))


def field_key(name: str) -> str:
    """Session-state key of one form field."""
    return f"house_prices_{dataset.value}_{name}".replace(" ", "_").replace("/", "_")


def choices(field: hp.Field) -> list[str]:
    """The levels a choice field offers."""
    if dataset is hp.Dataset.CALIFORNIA:
        return ["<1H OCEAN", "INLAND", "NEAR OCEAN", "NEAR BAY", "ISLAND"]
    return sorted(frame[field.key].dropna().astype(str).unique())


def apply_preset(name: str) -> None:
    """Fill the form with one preset house."""
    for key, value in hp.PRESETS[dataset][name].items():
        st.session_state[field_key(key)] = value


# ------------------------------------------------------------------ estimate
def render_estimate() -> None:
    presets = hp.PRESETS[dataset]
    if field_key(hp.FIELDS[dataset][0].key) not in st.session_state:
        apply_preset("Family house")
    st.caption("Presets: pick one, then change any value.")
    columns = st.columns(len(presets))
    for column, name in zip(columns, presets, strict=True):
        column.button(name, key=f"house_prices_preset_{name}", on_click=apply_preset, args=(name,), width="stretch")
    values = {}
    with st.container(border=True):
        grid = st.columns(3)
        for i, field in enumerate(hp.FIELDS[dataset]):
            with grid[i % 3]:
                key = field_key(field.key)
                if field.is_choice:
                    options = choices(field)
                    if st.session_state.get(key) not in options:
                        st.session_state[key] = options[0]
                    values[field.key] = st.selectbox(field.label, options, key=key)
                else:
                    values[field.key] = st.number_input(
                        field.label, step=float(field.step), key=key, help=field.help or None, format="%g"
                    )
    st.button("Estimate the price", type="primary", key="house_prices_estimate")
    try:
        row = hp.check_form(dataset, values)
        estimate = model.estimate(row)
        drivers = hp.explain_form(model, dataset, values)
    except InputError as exc:
        st.error(str(exc))
        return
    unit = " (block-group median)" if dataset is hp.Dataset.CALIFORNIA else ""
    price_col, interval_col = st.columns([2, 3])
    price_col.metric(f"Estimated price{unit}", money(estimate.price))
    interval_col.success(
        f"**{estimate.coverage:.0%} prediction interval: {money(estimate.low)} to {money(estimate.high)}**  \n"
        f"On {model.card_.n_test:,} held-out {'blocks' if dataset is hp.Dataset.CALIFORNIA else 'sales'} this interval "
        f"contained the true price {ui.percent(model.metrics_['coverage'])} of the time (split-conformal)."
    )
    if dataset is hp.Dataset.CALIFORNIA and estimate.price > 450_000:
        st.caption("Census values were capped at $500,001, so estimates near the top are conservative.")
    shown = drivers.assign(direction=np.where(drivers["effect"] > 0, "raises the price", "lowers the price"))
    bars = px.bar(
        shown.iloc[::-1],
        x="effect",
        y="feature",
        orientation="h",
        color="direction",
        color_discrete_map={"raises the price": "#16a34a", "lowers the price": "#dc2626"},
        labels={"effect": "price change versus the typical value ($)", "feature": ""},
        title="What drove this price: each value against the typical one",
        hover_data={"value": True, "typical": True},
    )
    bars.update_layout(height=380, margin={"t": 50, "b": 10}, legend_title_text="")
    st.plotly_chart(bars, width="stretch")
    st.caption(
        "Each bar: the estimate minus the estimate with that one value replaced by the training data's typical "
        "value. Features not in the form take their typical values."
    )


# ------------------------------------------------------------------ map
def render_map() -> None:
    if dataset is hp.Dataset.CALIFORNIA:
        points = frame.sample(min(MAP_POINTS, len(frame)), random_state=0) if len(frame) > MAP_POINTS else frame
        chart = px.scatter(
            points,
            x="longitude",
            y="latitude",
            color=target,
            color_continuous_scale="Viridis",
            opacity=0.55,
            labels={target: "median value ($)"},
            title=f"Median house value by census block group ({len(points):,} of {len(frame):,} shown)",
            hover_data={"median_income": True, "ocean_proximity": True},
        )
        chart.update_traces(marker={"size": 4})
        # Degrees of longitude are shorter than degrees of latitude at 37°N: keep the state's shape.
        chart.update_yaxes(scaleanchor="x", scaleratio=1.25)
        chart.update_layout(height=620)
        st.plotly_chart(chart, width="stretch")
        st.caption(
            "Drawn without a tile server (works offline): the coast and the Bay Area stand out as the most expensive."
        )
        return
    table = hp.price_by_group(frame, "Neighborhood", target)
    chart = px.bar(
        table,
        x="Neighborhood",
        y="median price",
        color="median price",
        color_continuous_scale="Viridis",
        hover_data={"sales": True},
        title="Median sale price by neighborhood (Ames has no coordinates in this file)",
        labels={"median price": "median price ($)"},
    )
    chart.update_layout(height=460, coloraxis_showscale=False)
    st.plotly_chart(chart, width="stretch")
    scatter = px.scatter(
        frame,
        x="Gr Liv Area",
        y=target,
        color="Overall Qual",
        opacity=0.6,
        title="Price against living area, coloured by overall quality",
        labels={"Gr Liv Area": "living area (sq ft)", target: "sale price ($)"},
    )
    scatter.add_vline(x=4000, line_dash="dash", line_color="gray", annotation_text="De Cock's 4,000 sq ft cut")
    st.plotly_chart(scatter, width="stretch")


# ------------------------------------------------------------------ performance
def show_performance(trained: hp.HouseModel) -> None:
    m = trained.metrics_
    st.markdown(f"Measured on **{trained.card_.n_test:,} held-out rows** the model never saw in training.")
    tiles = [*st.columns(3), *st.columns(3)]
    tiles[0].metric("R²", f"{m['r2']:.3f}", help="Share of the price variance explained.")
    tiles[1].metric("RMSE", money(m["rmse"]), help="Root mean squared error.")
    tiles[2].metric("MAE", money(m["mae"]), help="Typical absolute error.")
    tiles[3].metric("RMSE of log price", f"{m['rmse_log']:.3f}" if "rmse_log" in m else "n/a")
    tiles[4].metric(f"Interval coverage (nominal {trained.config.coverage:.0%})", ui.percent(m["coverage"]))
    tiles[5].metric("Median interval width", money(m["interval_width"]))
    test = trained.test_.assign(residual=trained.test_["actual"] - trained.test_["predicted"])
    left, right = st.columns(2)
    with left:
        chart = px.scatter(
            test, x="actual", y="predicted", opacity=0.5, title="Predicted against actual (held-out)", render_mode="svg"
        )
        top = float(max(test["actual"].max(), test["predicted"].max()))
        chart.add_shape(type="line", x0=0, y0=0, x1=top, y1=top, line={"dash": "dash", "color": "gray"})
        chart.update_layout(height=400)
        st.plotly_chart(chart, width="stretch")
    with right:
        chart = px.scatter(
            test, x="predicted", y="residual", opacity=0.5, title="Residuals (actual - predicted)", render_mode="svg"
        )
        chart.add_hline(y=0, line_dash="dash", line_color="gray")
        chart.update_layout(height=400)
        st.plotly_chart(chart, width="stretch")
    importance = trained.importance_.head(15).iloc[::-1]
    chart = px.bar(
        importance,
        x="importance",
        y="feature",
        orientation="h",
        title="Feature importance: R² lost when the column is shuffled (held-out rows)",
        labels={"importance": "R² lost", "feature": ""},
    )
    chart.update_layout(height=460)
    st.plotly_chart(chart, width="stretch")


def render_performance() -> None:
    show_performance(model)
    if model.outliers_:
        dropped = ", ".join(f"{n} × {reason}" for reason, n in model.outliers_.items())
        st.caption(f"Outlier step dropped from the training part: {dropped}. Toggle it in the sidebar to compare.")


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    folds = 5 if len(frame) <= 5000 else 3
    st.markdown(
        f"Every model, **{folds}-fold cross-validated** on the same folds, plus the default once more **without the "
        "outlier step** (outliers are only ever dropped from training folds: every house is scored). "
        "`python -m benchmarks house_prices` runs the full 5-fold protocol on the real datasets."
    )
    if len(frame) > 5000:
        st.caption("On the full dataset this takes a few minutes on two cores.")
    key = f"house_prices_compare_{dataset.value}"
    if st.button("Run the cross-validation", type="primary", key="house_prices_compare"):
        with ui.progress_status("Cross-validating every model") as report:
            st.session_state[key] = compare(dataset.value, resolved.sha256, folds, frame, report)
    if key in st.session_state:
        table = st.session_state[key]
        shown = table.assign(model=table["model"] + np.where(table["outlier step"] == "off", " (no outlier step)", ""))
        shown = shown[["model", "r2", "rmse", "mae", "rmse_log", "train_s", "default"]]
        st.dataframe(
            shown.style.format(
                {"r2": "{:.3f}", "rmse": "${:,.0f}", "mae": "${:,.0f}", "rmse_log": "{:.4f}", "train_s": "{:.2f} s"}
            ),
            hide_index=True,
            width="stretch",
        )
        chart = px.bar(
            shown,
            x="rmse_log",
            y="model",
            orientation="h",
            color="default",
            title="RMSE of log price (lower is better)",
            labels={"rmse_log": "RMSE of log price", "model": ""},
        )
        chart.update_layout(height=360, showlegend=False)
        st.plotly_chart(chart, width="stretch")


# ------------------------------------------------------------------ your data
def render_upload() -> None:
    st.markdown(
        f"Upload a **CSV** with one row per house and a price column (up to {hp.model.MAX_UPLOAD_ROWS:,} rows and "
        f"{MAX_UPLOAD_BYTES // 2**20} MB). Column types are inferred and shown; pick the column to predict and train "
        "the default gradient boosting model on it."
    )
    upload = st.file_uploader("Your table", type=["csv", "tsv"], key="house_prices_upload")
    if upload is None:
        st.caption(f"No file yet: the bundled Ames sample (`{hp.AMES.sample.name}`) is used as an example.")
        name, payload = hp.AMES.sample.name, hp.AMES.sample.read_bytes()
    else:
        name, payload = ui.upload_name(upload), upload.getvalue()
    try:
        table = read_table(
            payload, name, max_rows=hp.model.MAX_UPLOAD_ROWS, expected="a CSV with a header row and one row per house"
        )
        typed = infer_types(table.frame)
    except InputError as exc:
        st.error(str(exc))
        return
    if table.truncated:
        st.warning(f"`{name}` has {table.total_rows:,} rows; only the first {len(table.frame):,} are used.")
    with st.expander(f"Inferred column types ({len(typed.kinds)} used, {len(typed.dropped)} dropped)", expanded=False):
        st.dataframe(typed.summary(), hide_index=True, width="stretch")
    numeric = [c for c, kind in typed.kinds.items() if kind == "numeric"]
    if not numeric:
        st.error(f"`{name}` has no numeric column to predict: a price column must hold numbers.")
        return
    guess = next((c for c in numeric if c.lower().replace(" ", "_") in PRICE_WORDS), numeric[-1])
    columns = list(typed.kinds) + list(typed.dropped)
    column = st.selectbox(
        "Column to predict (the price)", columns, index=columns.index(guess), key="house_prices_target"
    )
    if st.button("Train on this table", type="primary", key="house_prices_train_upload"):
        st.session_state.pop("house_prices_upload_model", None)
        try:
            with ui.progress_status(f"Training gradient boosting on {len(typed.frame):,} rows of `{name}`") as report:
                trained = hp.train_table(typed, column, progress=report)
        except InputError as exc:
            st.error(str(exc))
            return
        st.session_state["house_prices_upload_model"] = (name, column, trained)
    if "house_prices_upload_model" in st.session_state:
        trained_name, trained_column, trained = st.session_state["house_prices_upload_model"]
        st.success(f"Trained on `{trained_name}` to predict `{ui.upload_name(str(trained_column))}`.")  # a CSV header
        show_performance(trained)


# ------------------------------------------------------------------ card
def render_card() -> None:
    ui.model_card(model.card_, file_name=f"model-card-house-prices-{dataset.value}-{choice.value}.md")


TABS = {
    "🔎 Estimate": render_estimate,
    "🗺️ Map": render_map,
    "📈 Performance": render_performance,
    "⚖️ Compare approaches": render_compare,
    "📂 Your data": render_upload,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="house_prices_tab")
