"""Spam detector page: widgets -> engines.spam -> charts."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, on_demand, ui
from engines import spam
from engines.core.errors import InputError, SourceError
from engines.core.uploads import FORMULA_NOTE, MAX_UPLOAD_BYTES, defuse_formulas, read_table
from engines.registry import ROOT, get_demo

DEMO = get_demo("spam")
SAMPLE_FILE = ROOT / "assets" / "sample_messages.csv"
TEXT_KEY = "spam_text"

ui.page_header(
    DEMO,
    "Spam filtering is one of the oldest practical uses of machine learning. This detector learns from labelled "
    "text messages which word and character patterns mark spam: prize claims, premium numbers, short codes, links. "
    "Type a message or pick an example: you get the verdict with a calibrated probability, the words that pushed it "
    "either way, the hand-made spam indicators, and the model's record on messages it never saw.",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the SMS Spam Collection…")
def load_data(settings_key: tuple):
    """The dataset and its provenance (re-resolved when the data settings change)."""
    return spam.load_dataset()


try:
    resolved, frame = load_data(ui.settings_key())
except SourceError as exc:
    st.error(f"No data is available for this demo: {exc}")
    st.stop()

with st.sidebar:
    st.subheader("Model")
    names = list(spam.PipelineName)
    choice = st.selectbox(
        "Pipeline",
        names,
        index=names.index(spam.DEFAULT_PIPELINE),
        format_func=lambda n: spam.PIPELINES[n]["title"] + (" (default)" if n == spam.DEFAULT_PIPELINE else ""),
        key="spam_pipeline",
        bind="query-params",
    )
config = spam.SpamConfig(pipeline=choice)
served = lifecycle.serve(
    spam.request(config, (resolved, frame)),
    fallback=None if resolved.is_sample else spam.sample_request(choice),
    what="the spam model",
)
model = served.model
ui.source_notice(resolved, spam.PIPELINES[choice]["title"], lifecycle.source_note(served))


# ------------------------------------------------------------------ try it
def render_try() -> None:
    st.session_state.setdefault(TEXT_KEY, spam.EXAMPLES["Prize scam"])

    def use_example(name: str) -> None:
        st.session_state[TEXT_KEY] = spam.EXAMPLES[name]

    st.caption("Examples: three spam, three legitimate.")
    example_columns = st.columns(len(spam.EXAMPLES))
    for column, name in zip(example_columns, spam.EXAMPLES, strict=True):
        column.button(name, key=f"spam_example_{name}", on_click=use_example, args=(name,), width="stretch")
    text = st.text_area(
        "Message", key=TEXT_KEY, bind="query-params", height=110, help=f"Up to {spam.MAX_MESSAGE_CHARS:,} characters."
    )
    st.button("Classify", type="primary", key="spam_classify")
    try:
        explanation = model.explain(text)
    except InputError as exc:
        st.error(str(exc))
    else:
        pred = explanation.prediction
        sure = pred.spam_probability if pred.is_spam else 1 - pred.spam_probability
        verdict_col, gauge_col = st.columns([3, 2])
        with verdict_col:
            if pred.is_spam:
                st.error(f"**🚫 Spam**, {ui.percent(sure)} sure  \nP(spam) = {pred.spam_probability:.3f}")
            else:
                st.success(f"**✅ Not spam (ham)**, {ui.percent(sure)} sure  \nP(spam) = {pred.spam_probability:.3f}")
            st.markdown("**Why: each word tinted by how much it pushed towards spam (red) or ham (green)**")
            # The text may come from the URL (?spam_text=): html_block keeps it one HTML block, never Markdown.
            st.markdown(
                f'<div style="line-height:2; font-size:1.05rem">{ui.html_block(explanation.highlighted_html(text))}</div>',
                unsafe_allow_html=True,
            )
            if explanation.truncated:
                st.caption("Only the first 300 words are explained.")
        with gauge_col:
            gauge = go.Figure(
                go.Indicator(
                    mode="gauge+number",
                    value=pred.spam_probability * 100,
                    number={"suffix": "%"},
                    title={"text": "Probability of spam"},
                    gauge={
                        "axis": {"range": [0, 100]},
                        "bar": {"color": "#dc2626" if pred.is_spam else "#16a34a"},
                        "threshold": {"line": {"color": "#111827", "width": 3}, "value": pred.threshold * 100},
                    },
                )
            )
            gauge.update_layout(height=230, margin={"t": 50, "b": 10, "l": 30, "r": 30})
            st.plotly_chart(gauge, width="stretch")
        words_col, indicator_col = st.columns([5, 6])
        with words_col:
            top = explanation.top_tokens(12).iloc[::-1]
            # A word can occur twice; zero-width suffixes keep each bar on its own row.
            seen: dict[str, int] = {}
            labels = []
            for word in top["word"]:
                seen[word] = seen.get(word, 0) + 1
                labels.append(word + "\u200b" * (seen[word] - 1))
            top = top.assign(
                label=labels, direction=["towards spam" if e > 0 else "towards ham" for e in top["effect"]]
            )
            bars = px.bar(
                top,
                x="effect",
                y="label",
                orientation="h",
                color="direction",
                color_discrete_map={"towards spam": "#dc2626", "towards ham": "#16a34a"},
                labels={"effect": "change in spam log-odds when the word is removed", "label": ""},
                title="Words that mattered most",
            )
            bars.update_yaxes(categoryorder="array", categoryarray=labels)
            bars.update_layout(showlegend=False, height=380, margin={"t": 40, "b": 10})
            st.plotly_chart(bars, width="stretch")
        with indicator_col:
            st.markdown("**Spam indicators** (from the seed article: phrases, punctuation, promotions, links)")
            st.dataframe(
                explanation.indicators,
                hide_index=True,
                width="stretch",
                column_config={
                    "indicator": st.column_config.TextColumn("indicator"),
                    "this message": st.column_config.NumberColumn("message", format="%.2f", width="small"),
                    "typical ham": st.column_config.NumberColumn("typical ham", format="%.2f", width="small"),
                    "typical spam": st.column_config.NumberColumn("typical spam", format="%.2f", width="small"),
                    "looks like": st.column_config.TextColumn("looks like", width="small"),
                },
            )
            st.caption("Typical values are averages over the training messages of each class.")


# ------------------------------------------------------------------ batch
def render_batch() -> None:
    st.markdown(
        f"Upload a **CSV/TSV** (with a header row) or a **TXT** file (one message per line). "
        f"Up to {spam.MAX_BATCH:,} messages and {MAX_UPLOAD_BYTES // 2**20} MB are classified; you can download the results."
    )
    upload = st.file_uploader("Messages file", type=["csv", "tsv", "txt"], key="spam_upload")
    if upload is None:
        st.caption(f"No file yet: the example file `{SAMPLE_FILE.name}` (10 messages) is used.")
        source_name, payload = SAMPLE_FILE.name, SAMPLE_FILE.read_bytes()
    else:
        source_name, payload = ui.upload_name(upload), upload.getvalue()
    if payload is not None:
        try:
            table = read_table(payload, source_name, max_rows=spam.MAX_BATCH)
        except InputError as exc:
            st.error(str(exc))
        else:
            if table.truncated:
                st.warning(
                    f"`{source_name}` has {table.total_rows:,} rows; only the first {spam.MAX_BATCH:,} are classified."
                )
            columns = list(table.frame.columns)
            if table.text_column is None:
                st.info("No column is obviously the message text: pick it below.")
            column = st.selectbox(
                "Column with the messages",
                columns,
                index=columns.index(table.text_column) if table.text_column in columns else 0,
                key="spam_batch_column",
            )
            if st.button("Classify the file", type="primary", key="spam_batch_run"):
                bar = st.progress(0.0)
                try:
                    results = model.classify_batch(
                        table.frame[column].tolist(), progress=lambda f, m: bar.progress(f, text=m)
                    )
                except InputError as exc:
                    st.error(str(exc))
                else:
                    results, defused = defuse_formulas(results)
                    st.session_state["spam_batch_results"] = (source_name, results)
                    st.session_state["spam_batch_defused"] = defused
    if "spam_batch_results" in st.session_state:
        name, results = st.session_state["spam_batch_results"]
        if st.session_state.get("spam_batch_defused"):
            st.warning(FORMULA_NOTE.format(n=st.session_state["spam_batch_defused"]), icon="🛡️")
        counts = results["verdict"].replace("", "skipped").value_counts()
        metric_cols = st.columns(3)
        metric_cols[0].metric("Spam", int(counts.get("spam", 0)))
        metric_cols[1].metric("Ham", int(counts.get("ham", 0)))
        metric_cols[2].metric("Skipped (empty or too long)", int(counts.get("skipped", 0)))
        st.dataframe(
            results,
            hide_index=True,
            width="stretch",
            column_config={
                "spam_probability": st.column_config.ProgressColumn("P(spam)", min_value=0.0, max_value=1.0)
            },
        )
        st.download_button(
            "Download results (CSV)",
            results.to_csv(index=False).encode("utf-8"),
            file_name=f"spam-verdicts-{name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            key="spam_batch_download",
        )


# ------------------------------------------------------------------ performance
def render_perf() -> None:
    m = model.metrics_
    st.markdown(f"Measured on **{model.card_.n_test:,} held-out messages** the model never saw in training.")
    tiles = [*st.columns(3), *st.columns(3)]  # two rows: six long numbers do not fit one
    tiles[0].metric("Accuracy", ui.percent(m["accuracy"], 2))
    tiles[1].metric("Spam caught (recall)", ui.percent(m["spam_caught"]))
    tiles[2].metric("Ham blocked", ui.percent(m["blocked_ham"], 2), help="Legitimate messages wrongly flagged as spam.")
    tiles[3].metric("Precision", ui.percent(m["precision"]))
    tiles[4].metric("F1", f"{m['f1']:.3f}")
    tiles[5].metric("ROC AUC", f"{m['roc_auc']:.4f}")
    cm_col, roc_col, pr_col = st.columns(3)
    with cm_col:
        cm = model.confusion_
        heat = px.imshow(
            cm,
            text_auto=True,
            color_continuous_scale="Blues",
            title="Confusion matrix",
            labels={"x": "predicted", "y": "actual", "color": "messages"},
            x=["ham", "spam"],
            y=["ham", "spam"],
        )
        heat.update_layout(height=360, coloraxis_showscale=False)
        st.plotly_chart(heat, width="stretch")
    with roc_col:
        roc = px.area(
            model.roc_,
            x="false_positive_rate",
            y="true_positive_rate",
            title=f"ROC curve (AUC {m['roc_auc']:.4f})",
            labels={"false_positive_rate": "ham wrongly blocked", "true_positive_rate": "spam caught"},
        )
        roc.add_shape(type="line", line={"dash": "dash", "color": "gray"}, x0=0, x1=1, y0=0, y1=1)
        roc.update_layout(height=360)
        st.plotly_chart(roc, width="stretch")
    with pr_col:
        pr = px.line(model.pr_, x="recall", y="precision", title=f"Precision-recall (AP {m['average_precision']:.4f})")
        pr.update_layout(height=360, yaxis_range=[0, 1.02])
        st.plotly_chart(pr, width="stretch")
    st.subheader("Where it goes wrong")
    if model.errors_.empty:
        st.write("No held-out message was misclassified.")
    else:
        st.dataframe(model.errors_, hide_index=True, width="stretch")


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    st.markdown(
        "All pipelines trained and tested on **the same 70/30 split**: the seed article's naive Bayes baseline, "
        "two classic TF-IDF models and our default. `python -m benchmarks spam` repeats this over 10 splits. It runs "
        "once per dataset in the background and is kept (the bundled sample's ships with the gallery)."
    )
    if resolved.is_sample:
        st.info(
            "The bundled sample is generated from templates, so every pipeline separates it almost perfectly. "
            "The differences show on the real SMS Spam Collection: point GALLERY_DATA_DIR at it (or run online), "
            "or run `python -m benchmarks spam`.",
            icon="ℹ️",
        )
    compared = on_demand.result(
        spam.compare_request((resolved, frame)),
        button="Train and compare all pipelines",
        key="spam_compare",
        what="the comparison of every pipeline",
    )
    if compared is not None:
        table = compared.table_
        shown = table[["pipeline", "accuracy", "spam_caught", "blocked_ham", "f1", "roc_auc", "train_s"]]
        st.dataframe(
            shown.style.format(
                {
                    "accuracy": "{:.2%}",
                    "spam_caught": "{:.1%}",
                    "blocked_ham": "{:.2%}",
                    "f1": "{:.3f}",
                    "roc_auc": "{:.4f}",
                    "train_s": "{:.2f} s",
                }
            ),
            hide_index=True,
            width="stretch",
        )
        long = table.melt(id_vars="key", value_vars=["accuracy", "spam_caught"], var_name="metric")
        chart = px.bar(
            long,
            x="key",
            y="value",
            color="metric",
            barmode="group",
            title="Accuracy and spam caught",
            labels={"key": "pipeline", "value": ""},
        )
        chart.update_layout(yaxis_range=[0.8, 1.0], height=360)
        st.plotly_chart(chart, width="stretch")


# ------------------------------------------------------------------ card
def render_card() -> None:
    ui.model_card(model.card_, file_name=f"model-card-spam-{choice.value}.md")


TABS = {
    "🔎 Try it": render_try,
    "📦 Batch": render_batch,
    "📈 Performance": render_perf,
    "⚖️ Compare approaches": render_compare,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="spam_tab")
