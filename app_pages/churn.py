"""Customer churn predictor page: widgets -> engines.churn -> charts."""

import hashlib

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, on_demand, ui
from engines import churn
from engines.churn.data import MAX_ROWS, MIN_ROWS
from engines.core.errors import InputError, SourceError
from engines.core.tabular import infer_types
from engines.core.uploads import MAX_UPLOAD_BYTES, read_table
from engines.registry import get_demo

DEMO = get_demo("churn")
FIELD = "churn_f_"  # session-state prefix of the what-if fields
BUSINESS = "churn_business"
OWN_JOB, OWN_MODEL = "churn_own_job", "churn_user_model"  # the visitor's training on their upload, and its model

ui.page_header(
    DEMO,
    "A telecom operator loses about a quarter of its customers a year. This model reads a customer's contract, "
    "services, charges and tenure and estimates the probability that they leave. Try a customer below and see which "
    "of their details moved the risk; then set what a retention offer costs and what a kept customer is worth, and "
    "the page finds the risk cut-off that earns the most. Every number is measured on customers the model did not "
    "see (cross-validation), and a fairness check compares how it treats women and men, seniors and non-seniors.",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the Telco customer data…")
def load_data(settings_key: tuple):
    """The dataset and its provenance (re-resolved when the data settings change)."""
    return churn.load_dataset()


try:
    resolved, data = load_data(ui.settings_key())
except (SourceError, InputError) as exc:
    st.error(f"No data is available for this demo: {exc}")
    st.stop()

with st.sidebar:
    st.subheader("Model")
    names = list(churn.ModelName)
    choice = st.selectbox(
        "Classifier",
        names,
        index=names.index(churn.DEFAULT_MODEL),
        format_func=lambda n: churn.MODELS[n]["title"] + (" (default)" if n == churn.DEFAULT_MODEL else ""),
        key="churn_model",
        bind="query-params",
    )
config = churn.ChurnConfig(model=choice)
served = lifecycle.serve(
    churn.request(config, (resolved, data)),
    fallback=None if resolved.is_sample else churn.sample_request(choice),
    what="the churn model",
)
model = served.model
ui.source_notice(resolved, churn.MODELS[choice]["title"], lifecycle.source_note(served))

on_demand.sidebar_progress(st.session_state.get(OWN_JOB), "Training on your file")
business = st.session_state.get(BUSINESS, churn.Business())
curve, best = model.profit(business)
threshold = float(best["threshold"])


# ------------------------------------------------------------------ try it
def set_customer(values: dict) -> None:
    for name, value in values.items():
        st.session_state[FIELD + name] = float(value) if model.kinds_.get(name) == "numeric" else value


def render_try() -> None:
    if FIELD + "tenure" not in st.session_state:
        set_customer(churn.PRESETS["Likely to leave"])
    st.caption("Preset customers (invented):")
    cols = st.columns(len(churn.PRESETS) + 2)
    for col, name in zip(cols, churn.PRESETS, strict=False):
        col.button(
            name, key=f"churn_preset_{name}", on_click=set_customer, args=(churn.PRESETS[name],), width="stretch"
        )
    customer: dict = {}
    with st.container(border=True):
        numeric = [n for n, k in model.kinds_.items() if k == "numeric"]
        categorical = [n for n, k in model.kinds_.items() if k == "categorical"]
        num_cols = st.columns(len(numeric))
        for col, name in zip(num_cols, numeric, strict=True):
            st.session_state.setdefault(FIELD + name, float(model.typical_[name]))
            lo, hi = model.data_range_[name]
            customer[name] = col.number_input(
                name, key=FIELD + name, step=1.0, help=f"Training data: {lo:,.6g} to {hi:,.6g}."
            )
        cat_cols = st.columns(4)
        for i, name in enumerate(categorical):
            options = model.vocab_[name]
            if st.session_state.get(FIELD + name) not in options:
                st.session_state[FIELD + name] = model.typical_[name]
            customer[name] = cat_cols[i % 4].selectbox(name, options, key=FIELD + name)
    st.button("Predict churn", type="primary", key="churn_predict")
    try:
        p = model.predict_one(customer)
        effects = model.explain(customer)
    except InputError as exc:
        st.error(str(exc))
        return
    verdict_col, gauge_col = st.columns([3, 2])
    with verdict_col:
        st.metric("Probability of leaving", ui.percent(p))
        if p >= threshold:
            st.error(
                f"**Likely to leave.** P(churn) = {p:.3f} is above the business threshold {threshold:.2f}: "
                "worth a retention offer."
            )
        else:
            st.success(
                f"**Likely to stay.** P(churn) = {p:.3f} is below the business threshold {threshold:.2f}: "
                "no offer needed."
            )
        st.caption(
            f"The threshold comes from the 💰 Business threshold tab (offer {business.offer_cost:g}, "
            f"kept customer {business.customer_value:g}, acceptance {business.acceptance:.0%})."
        )
    with gauge_col:
        gauge = go.Figure(
            go.Indicator(
                mode="gauge+number",
                value=p * 100,
                number={"suffix": "%"},
                title={"text": "Churn risk"},
                gauge={
                    "axis": {"range": [0, 100]},
                    "bar": {"color": "#dc2626" if p >= threshold else "#16a34a"},
                    "threshold": {"line": {"color": "#111827", "width": 3}, "value": threshold * 100},
                },
            )
        )
        gauge.update_layout(height=220, margin={"t": 40, "b": 10, "l": 30, "r": 30})
        st.plotly_chart(gauge, width="stretch")
    top = pd.DataFrame(
        [
            {
                "feature": f"{c.feature} = {c.value:g}" if isinstance(c.value, float) else f"{c.feature} = {c.value}",
                "effect": c.effect * 100,
                "typical": c.typical,
                "direction": "raises risk" if c.effect > 0 else "lowers risk",
            }
            for c in [e for e in effects if abs(e.effect) >= 0.0005][
                :10
            ]  # a detail equal to the typical one moves nothing
        ]
    ).iloc[::-1]
    if top.empty:
        st.info("This customer is the typical customer in every detail: no feature moves the risk away from it.")
        return
    bars = px.bar(
        top,
        x="effect",
        y="feature",
        orientation="h",
        color="direction",
        color_discrete_map={"raises risk": "#dc2626", "lowers risk": "#16a34a"},
        hover_data={"typical": True},
        labels={"effect": "percentage points of churn risk vs. the typical value", "feature": ""},
        title="Why: what moved this customer's risk",
    )
    bars.update_layout(height=400, margin={"t": 40, "b": 10}, legend_title_text="")
    st.plotly_chart(bars, width="stretch")
    st.caption(
        "Each bar: this customer's risk minus the risk with that one detail replaced by the typical customer's "
        "(median number or most common category), everything else unchanged; details equal to the typical ones get no "
        "bar. Model-agnostic; details that act together (tenure and total charges) are credited separately."
    )


# ------------------------------------------------------------------ business
def render_business() -> None:
    st.markdown(
        "Who should get a retention offer? Everyone whose churn risk is above a threshold. Set the economics; the "
        "profit is computed on held-out predictions for every customer in the data."
    )
    cols = st.columns(3)
    cost = cols[0].number_input(
        "Cost of one retention offer",
        value=float(business.offer_cost),
        step=10.0,
        key="churn_cost",
        bind="query-params",
    )
    value = cols[1].number_input(
        "Value of a kept customer",
        value=float(business.customer_value),
        step=50.0,
        key="churn_value",
        bind="query-params",
    )
    accept = cols[2].slider(
        "Share of would-be leavers the offer keeps", 0.05, 1.0, float(business.acceptance), 0.05, key="churn_accept"
    )
    try:
        chosen = churn.Business(offer_cost=cost, customer_value=value, acceptance=accept)
    except InputError as exc:
        st.error(str(exc))
        return
    if chosen != business:
        st.session_state[BUSINESS] = chosen
        st.rerun()
    everyone = curve.iloc[0]
    tiles = st.columns(4)
    tiles[0].metric("Best threshold", f"{threshold:.2f}")
    tiles[1].metric("Expected profit", f"{best['profit']:,.0f}")
    tiles[2].metric("Customers targeted", f"{int(best['targeted']):,} of {len(model.oof_):,}")
    tiles[3].metric("Profit if everyone gets the offer", f"{everyone['profit']:,.0f}")
    left, right = st.columns(2)
    with left:
        fig = px.line(
            curve, x="threshold", y="profit", title="Profit by threshold", labels={"profit": "expected profit"}
        )
        fig.add_vline(x=threshold, line_dash="dash", line_color="#dc2626", annotation_text=f"best {threshold:.2f}")
        fig.add_hline(y=0, line_color="gray")
        fig.update_layout(height=380)
        st.plotly_chart(fig, width="stretch")
    with right:
        gains = model.gains()
        fig = go.Figure()
        fig.add_scatter(x=gains["contacted"], y=gains["churners_reached"], mode="lines", name="model")
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="random", line={"dash": "dash", "color": "gray"})
        fig.update_layout(
            title="Cumulative gains: contact the riskiest x% first",
            xaxis_title="share of customers contacted",
            yaxis_title="share of all leavers reached",
            xaxis_tickformat=".0%",
            yaxis_tickformat=".0%",
            height=380,
        )
        st.plotly_chart(fig, width="stretch")
    top10 = gains.iloc[(gains["contacted"] - 0.1).abs().argmin()]
    st.markdown(
        f"Contacting the riskiest **{top10['contacted']:.0%}** of customers reaches **{top10['churners_reached']:.0%}** "
        f"of everyone who leaves: a lift of **{top10['lift']:.1f}x** over picking customers at random."
    )


# ------------------------------------------------------------------ performance
def render_perf() -> None:
    perf = model.performance(threshold)
    m = perf["metrics"]
    st.markdown(
        f"Measured on held-out predictions: {model.config.n_splits}-fold cross-validation, every one of the "
        f"**{len(model.oof_):,} customers** scored by a model that did not see them. Threshold {threshold:.2f} "
        "(from the business tab)."
    )
    tiles = st.columns(5)
    tiles[0].metric("ROC AUC", f"{m['roc_auc']:.3f}")
    tiles[1].metric(
        "PR AUC", f"{m['pr_auc']:.3f}", help=f"Chance level is the churn rate, {model.oof_['y'].mean():.2f}."
    )
    tiles[2].metric("F1", f"{m['f1']:.3f}")
    tiles[3].metric("Leavers caught (recall)", ui.percent(m["recall"]))
    tiles[4].metric("Precision", ui.percent(m["precision"]))
    c1, c2 = st.columns(2)
    with c1:
        roc = px.area(
            perf["roc"], x="false_positive_rate", y="true_positive_rate", title=f"ROC curve (AUC {m['roc_auc']:.3f})"
        )
        roc.add_shape(type="line", line={"dash": "dash", "color": "gray"}, x0=0, x1=1, y0=0, y1=1)
        roc.update_layout(height=340)
        st.plotly_chart(roc, width="stretch")
        cal = px.line(perf["calibration"], x="predicted", y="observed", markers=True, title="Calibration")
        cal.add_shape(type="line", line={"dash": "dash", "color": "gray"}, x0=0, x1=1, y0=0, y1=1)
        cal.update_layout(height=340, xaxis_title="predicted churn probability", yaxis_title="observed churn rate")
        st.plotly_chart(cal, width="stretch")
    with c2:
        pr = px.line(perf["pr"], x="recall", y="precision", title=f"Precision-recall (AP {m['pr_auc']:.3f})")
        pr.update_layout(height=340, yaxis_range=[0, 1.02])
        st.plotly_chart(pr, width="stretch")
        heat = px.imshow(
            perf["confusion"],
            text_auto=True,
            color_continuous_scale="Blues",
            title=f"Confusion matrix at threshold {threshold:.2f}",
            labels={"x": "predicted", "y": "actual", "color": "customers"},
            x=["stays", "leaves"],
            y=["stayed", "left"],
        )
        heat.update_layout(height=340, coloraxis_showscale=False)
        st.plotly_chart(heat, width="stretch")
    st.subheader("What drives churn overall")
    left, right = st.columns(2)
    with left:
        imp = model.importance_.head(12).iloc[::-1]
        fig = px.bar(
            imp,
            x="importance",
            y="feature",
            orientation="h",
            error_x="std",
            title="Permutation importance (drop in held-out ROC AUC when shuffled)",
        )
        fig.update_layout(height=420, yaxis_title="")
        st.plotly_chart(fig, width="stretch")
    with right:
        for name, table in model.pdp_.items():
            fig = px.line(table, x=name, y="churn_probability", title=f"Partial dependence on {name}")
            fig.update_layout(height=205, margin={"t": 40, "b": 10}, yaxis_tickformat=".0%")
            st.plotly_chart(fig, width="stretch")


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    st.markdown(
        f"Every classifier x every way of handling the imbalance (26% leavers), trained and tested on **the same "
        f"{churn.CompareConfig().n_splits} stratified folds**. Threshold moving reuses the plain fit and cuts at "
        "the churn rate instead of 0.5. `python -m benchmarks churn` repeats the comparison with 5 folds on the real "
        "data. It runs once per dataset in the background and is kept (the bundled sample's ships with the gallery)."
    )
    compared = on_demand.result(
        churn.compare_request((resolved, data)),
        button="Train and compare all approaches",
        key="churn_compare",
        what="the comparison of every approach",
    )
    if compared is not None:
        table = compared.table_
        shown = table[["model", "imbalance", "roc_auc", "pr_auc", "f1", "recall", "precision", "train_s"]]
        st.dataframe(
            shown.style.format(
                {
                    "roc_auc": "{:.3f}",
                    "pr_auc": "{:.3f}",
                    "f1": "{:.3f}",
                    "recall": "{:.1%}",
                    "precision": "{:.1%}",
                    "train_s": "{:.2f} s",
                }
            ),
            hide_index=True,
            width="stretch",
        )
        fig = px.bar(
            table,
            x="key",
            y="f1",
            color="imbalance",
            barmode="group",
            title="F1 by model and imbalance strategy",
            labels={"key": "model"},
        )
        fig.update_layout(height=360)
        st.plotly_chart(fig, width="stretch")
        st.caption(
            "ROC AUC hardly moves with the imbalance strategy (it only ranks); F1 and recall depend on where the cut is."
        )


# ------------------------------------------------------------------ fairness
def render_fairness() -> None:
    table, sentences = model.fairness(threshold)
    if table.empty:
        st.info("This data has no gender or SeniorCitizen column to check.")
        return
    st.markdown(
        f"At the business threshold **{threshold:.2f}**, on held-out predictions: how often each group is flagged, "
        "how many of its leavers are caught, and how many of its stayers are wrongly flagged."
    )
    for sentence in sentences:
        st.markdown(f"- {sentence}")
    st.dataframe(
        table.style.format(
            {"churn_rate": "{:.1%}", "selection_rate": "{:.1%}", "recall": "{:.1%}", "false_positive_rate": "{:.1%}"}
        ),
        hide_index=True,
        width="stretch",
    )
    long = table.melt(id_vars=["attribute", "group"], value_vars=["selection_rate", "recall", "false_positive_rate"])
    long["group"] = long["attribute"] + " = " + long["group"]
    fig = px.bar(long, x="variable", y="value", color="group", barmode="group", labels={"variable": "", "value": ""})
    fig.update_layout(height=340, yaxis_tickformat=".0%")
    st.plotly_chart(fig, width="stretch")
    st.caption(
        "A gap in selection rate can simply follow a gap in churn rate; gaps in recall and false-positive rate mean "
        "the model's mistakes fall unevenly. Seniors churn more in this data, so they are flagged more."
    )


# ------------------------------------------------------------------ your data
def render_upload() -> None:
    st.markdown(
        f"Upload a **CSV** of your own customers with a header row and a column saying whether each one left "
        f"(two values, e.g. Yes/No). At least {MIN_ROWS} rows, up to {MAX_UPLOAD_BYTES // 2**20} MB; "
        f"the first {MAX_ROWS:,} rows are used. Nothing is stored."
    )
    upload = st.file_uploader("Customers file", type=["csv", "tsv", "txt"], key="churn_upload")
    if upload is None:
        st.download_button(
            "Download an example file (50 customers)",
            churn.data.telco_csv_bytes(data),
            file_name="churn-example.csv",
            mime="text/csv",
            key="churn_example_download",
        )
        return
    try:
        table = read_table(
            upload.getvalue(),
            ui.upload_name(upload),
            max_rows=MAX_ROWS,
            expected="a CSV with a header row and one row per customer",
        )
        typed = infer_types(table.frame, min_rows=MIN_ROWS)
    except InputError as exc:
        st.error(str(exc))
        return
    st.markdown("**Column types inferred from the file**")
    st.dataframe(typed.summary(), hide_index=True, width="stretch")
    columns = [str(c) for c in table.frame.columns]
    guess = churn.guess_target(columns)
    target = st.selectbox(
        "Column that says whether the customer left",
        columns,
        index=columns.index(guess) if guess else len(columns) - 1,
        key="churn_target",
    )
    job_key = f"churn/upload/{hashlib.sha256(upload.getvalue()).hexdigest()}/{target}/{choice.value}"
    work = None
    if st.button("Train on my data", type="primary", key="churn_train_upload"):
        try:
            prepared = churn.prepare_user_table(typed, target)
        except InputError as exc:
            st.error(str(exc))
            return
        config = churn.ChurnConfig(model=choice)

        def work(progress):
            trained = churn.train(
                config, prepared, data_title=ui.upload_name(upload), provenance="user upload", progress=progress
            )
            return prepared.notes, trained

        st.session_state[OWN_JOB] = job_key
    if st.session_state.get(OWN_JOB) == job_key:
        title = f"Training {churn.MODELS[choice]['title']} on `{ui.upload_name(upload)}`"
        trained = on_demand.own_training(job_key, title, work)
        if trained is not None:
            st.session_state[OWN_MODEL] = (job_key, ui.upload_name(upload), *trained)
    stored = st.session_state.get(OWN_MODEL)
    if stored and stored[0] == job_key:
        _, name, notes, mine = stored
        for note in notes:
            st.caption(note)
        m = mine.metrics_
        st.success(
            f"Trained on `{name}`: '{ui.escape_markdown(str(mine.positive_))}' counted as leaving ({mine.oof_['y'].mean():.1%} of rows)."
        )
        tiles = st.columns(3)
        tiles[0].metric("ROC AUC (held out)", f"{m['roc_auc']:.3f}")
        tiles[1].metric("PR AUC (held out)", f"{m['pr_auc']:.3f}")
        tiles[2].metric("F1 at 0.5", f"{m['f1']:.3f}")
        imp = mine.importance_.head(10).iloc[::-1]
        fig = px.bar(imp, x="importance", y="feature", orientation="h", title="What drives churn in your data")
        fig.update_layout(height=360, yaxis_title="")
        st.plotly_chart(fig, width="stretch")


def render_card() -> None:
    ui.model_card(model.card_, file_name=f"model-card-churn-{choice.value}.md")


TABS = {
    "🔎 Try it": render_try,
    "💰 Business threshold": render_business,
    "📈 Performance": render_perf,
    "⚖️ Compare approaches": render_compare,
    "🧭 Fairness": render_fairness,
    "📂 Your data": render_upload,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="churn_tab")
