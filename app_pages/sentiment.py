"""Sentiment analyzer page: widgets -> engines.sentiment -> charts."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, minilm, on_demand, ui
from engines import sentiment
from engines.core import jobs, stacks
from engines.core.errors import InputError, SourceError
from engines.core.text import detect_language, text_column
from engines.core.uploads import FORMULA_NOTE, MAX_UPLOAD_BYTES, defuse_formulas, read_table
from engines.registry import get_demo
from engines.sentiment.scorers import EmbeddingScorer

DEMO = get_demo("sentiment")
TEXT_KEY = "sentiment_text"
LINES_KEY = "sentiment_lines"
COLOURS = {"positive": "#16a34a", "neutral": "#6b7280", "negative": "#dc2626"}
ICONS = {"positive": "😊", "neutral": "😐", "negative": "😞"}
TRAIN, LOADING = "must be trained", "MiniLM is loading"  # why a model cannot answer yet
NO_STACK = "needs the transformer stack"  # a reduced install: the model cannot run on this server at all
NEEDS_ML = (*sentiment.NEEDS_ENCODER, sentiment.ModelName.HUB)
FALLBACK = sentiment.ModelName.TFIDF_LR  # answers at once while a transformer trains, or when it cannot load
FINE_TUNE_MINUTES = "4 to 5"  # measured: 4.5 minutes for the 3-epoch fine-tune on the bundled sample (issue 25)
BATCH_EXAMPLE = "\n".join(
    [
        "Battery life is fantastic, easily two days per charge.",
        "The waiter was rude and the soup was cold.",
        "Package arrived on Thursday.",
        "Best film I have seen this year, the cast is brilliant!",
        "Stopped working after a week. Total waste of money.",
        "The pasta was fine, nothing special.",
        "Love the new update, so much faster now :)",
        "Terrible customer service, never ordering again.",
    ]
)

ui.page_header(
    DEMO,
    "Sentiment analysis reads opinion from text: is a review, a tweet or a comment positive, negative or neutral, "
    "and how strongly? Type a text or pick an example: you get the label with a signed score from −1 to +1 at once, "
    "the words that drove it, and for longer texts the sentiment of every sentence. Batch mode scores a whole list or "
    "CSV with a distribution chart, and the comparison puts a lexicon (VADER), classic word models and a fine-tuned "
    "MiniLM transformer side by side on labelled review sentences from Amazon, IMDb and Yelp.",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the labelled sentences…")
def load_data(settings_key: tuple):
    """The dataset and its provenance (re-resolved when the data settings change)."""
    return sentiment.load_dataset()


def ready_model(wanted) -> tuple[sentiment.SentimentModel | None, str]:
    """``(model, where it came from)`` when ``wanted`` can answer now, else ``(None, why not)``.

    Why not: ``TRAIN`` (it must be trained: the page queues that after drawing), ``LOADING`` (the MiniLM head waits
    for the shared encoder), or the error of a training that failed. Shipped or cached models answer at once.
    """
    found = lifecycle.cached_model(wanted)
    if found is None:
        earlier = jobs.queue().get(wanted.job_key)
        if earlier is not None and earlier.state == jobs.FAILED:
            return None, earlier.error or "Training failed."
        if not lifecycle.wait_for_training():
            return None, TRAIN
        job = lifecycle.start_training(wanted)
        job.done.wait(lifecycle.WAIT_LIMIT_S)
        found = lifecycle.cached_model(wanted) or ((job.result, lifecycle.TRAINED) if job.result else None)
        if found is None:
            return None, job.error or "Training failed."
    model, source = found
    scorer = model.scorer_
    if isinstance(scorer, EmbeddingScorer) and not scorer.has_encoder:
        loaded = minilm.loaded_encoder()
        if loaded is None:
            return None, LOADING
        if loaded[0] is None:
            return None, str(getattr(loaded[1], "notice", loaded[1]))
        scorer.attach(loaded[0])  # the shared weights: the model's key names them
    return model, source


@st.cache_resource(max_entries=1, show_spinner="Looking for the pretrained pipeline…")
def load_hub(data_sha256: str, settings_key: tuple):
    """The pretrained transformer pipeline, or the reason it is not available here."""
    resolved, frame = load_data(settings_key)
    try:
        return sentiment.load_or_train(sentiment.SentimentConfig(model="hub"), resolved, frame), None
    except SourceError as exc:
        return None, str(exc)


try:
    resolved, frame = load_data(ui.settings_key())
except (SourceError, InputError) as exc:
    st.error(f"No data is available for this demo: {exc}")
    st.stop()

with st.sidebar:
    st.subheader("Model")
    names = list(sentiment.ModelName)
    choice = st.selectbox(
        "Sentiment model",
        names,
        index=names.index(sentiment.DEFAULT_MODEL),
        format_func=lambda n: sentiment.MODELS[n]["title"] + (" (default)" if n == sentiment.DEFAULT_MODEL else ""),
        key="sentiment_model",
        bind="query-params",
    )

settings = ui.settings_key()
config = sentiment.SentimentConfig(model=choice)
title, fallback_title = sentiment.MODELS[choice]["title"], sentiment.MODELS[FALLBACK]["title"]
model, source, why, wanted, fast = None, "", "", None, None
if choice in NEEDS_ML and not stacks.has(stacks.ML):
    why, fast = NO_STACK, sentiment.request(sentiment.SentimentConfig(model=FALLBACK), (resolved, frame))
    ui.stack_caption(stacks.ML, f"{title} needs PyTorch: {fallback_title} answers instead")
elif choice is sentiment.ModelName.HUB:
    model, hub_error = load_hub(resolved.sha256, settings)
    if model is None:
        st.warning(f"**Not available here.** {hub_error} Showing {fallback_title} instead.")
else:
    wanted = sentiment.request(config, (resolved, frame))
    fast = sentiment.request(sentiment.SentimentConfig(model=FALLBACK), (resolved, frame))
    model, why = ready_model(wanted)
    source, why = (why, "") if model is not None else ("", why)
if model is None:
    fallback = lifecycle.cached_model(fast) if fast is not None else None
    fallback = fallback or lifecycle.cached_model(sentiment.sample_request(FALLBACK))
    if fallback is None:  # nothing shipped (a broken install): train the fast model, with its progress panel
        served = lifecycle.serve(sentiment.sample_request(FALLBACK), what="the TF-IDF model")
        fallback = (served.model, served.source)
    model, source = fallback
    if why not in ("", TRAIN, LOADING, NO_STACK):
        st.warning(f"**{title} is not available here.** {why} Showing {fallback_title} instead.")
note = lifecycle.source_note(lifecycle.Served(model, source, None)) if source else ""
running = jobs.queue().get(wanted.job_key) if why == TRAIN else None
if running is not None and running.done.is_set():
    running = None
ui.source_notice(resolved, sentiment.MODELS[model.name]["title"], note)
offer = st.container()  # the fine-tune offer or its progress, drawn once the first answer is on screen (the end)


# ------------------------------------------------------------------ try it
def verdict(pred: sentiment.Prediction) -> None:
    text = f"**{ICONS[pred.label]} {pred.label.capitalize()}**, score {pred.score:+.2f}  \n"
    text += f"Neutral when the score is within ±{pred.band:g}."
    {"positive": st.success, "negative": st.error, "neutral": st.info}[pred.label](text)


def score_gauge(pred: sentiment.Prediction) -> go.Figure:
    gauge = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=pred.score,
            number={"valueformat": "+.2f"},
            title={"text": "Sentiment score"},
            gauge={
                "axis": {"range": [-1, 1]},
                "bar": {"color": COLOURS[pred.label]},
                "steps": [{"range": [-pred.band, pred.band], "color": "#e5e7eb"}],
            },
        )
    )
    gauge.update_layout(height=230, margin={"t": 50, "b": 10, "l": 30, "r": 30})
    return gauge


def render_try() -> None:
    st.session_state.setdefault(TEXT_KEY, sentiment.EXAMPLES["Happy customer"])

    def use_example(name: str) -> None:
        st.session_state[TEXT_KEY] = sentiment.EXAMPLES[name]

    example_columns = st.columns(len(sentiment.EXAMPLES))
    for column, name in zip(example_columns, sentiment.EXAMPLES, strict=True):
        column.button(name, key=f"sentiment_example_{name}", on_click=use_example, args=(name,), width="stretch")
    text = st.text_area(
        "Text (a review, a tweet, a comment)",
        key=TEXT_KEY,
        bind="query-params",
        height=120,
        help=f"English. Texts longer than {sentiment.MAX_TEXT_CHARS:,} characters are cut, with a notice.",
    )
    st.button("Analyze", type="primary", key="sentiment_analyze")
    try:
        analysis = model.analyze(text)
        explanation = model.explain(analysis.text)
    except InputError as exc:
        st.error(str(exc))
        return
    for note in analysis.notes:
        st.info(note, icon="✂️")
    pred = analysis.prediction
    verdict_col, gauge_col = st.columns([3, 2])
    with verdict_col:
        verdict(pred)
        st.markdown("**Why: each word tinted by how much it pushed towards positive (green) or negative (red)**")
        st.markdown(
            # The text may come from the URL: html_block keeps it one HTML block, never Markdown.
            f'<div style="line-height:2; font-size:1.05rem">{ui.html_block(explanation.highlighted_html())}</div>',
            unsafe_allow_html=True,
        )
        if explanation.truncated:
            st.caption(f"Only the first {len(explanation.tokens)} words are explained.")
        phrases = explanation.top_phrases()
        if not phrases.empty:
            shown = ", ".join(
                f"**{ui.escape_markdown(p)}** ({e:+.2f})"
                for p, e in zip(phrases["phrase"], phrases["effect"], strict=True)
            )
            st.markdown(f"Phrases that count more together than word by word: {shown}")
    with gauge_col:
        st.plotly_chart(score_gauge(pred), width="stretch")
    top = explanation.top_tokens(10).iloc[::-1]
    if not top.empty:
        seen: dict[str, int] = {}
        labels = []
        for word in top["word"]:
            seen[word] = seen.get(word, 0) + 1
            labels.append(word + "\u200b" * (seen[word] - 1))  # a repeated word keeps its own bar
        top = top.assign(label=labels, direction=["positive" if e > 0 else "negative" for e in top["effect"]])
        bars = px.bar(
            top,
            x="effect",
            y="label",
            orientation="h",
            color="direction",
            color_discrete_map=COLOURS,
            labels={"effect": "drop in the score when the word is removed", "label": ""},
            title="Words that drove it",
        )
        bars.update_yaxes(categoryorder="array", categoryarray=labels)
        bars.update_layout(showlegend=False, height=320, margin={"t": 40, "b": 10})
        st.plotly_chart(bars, width="stretch")
    sentences = analysis.sentences
    if len(sentences) > 1:
        st.subheader("Sentence by sentence")
        shown = sentences.assign(n=range(1, len(sentences) + 1))
        chart = px.bar(
            shown,
            x="n",
            y="score",
            color="label",
            color_discrete_map=COLOURS,
            hover_data={"sentence": True},
            labels={"n": "sentence", "score": "score"},
        )
        chart.update_layout(height=280, yaxis_range=[-1, 1], margin={"t": 20, "b": 10})
        chart.update_xaxes(tickmode="linear", dtick=1)  # sentence numbers, not 0.5 steps
        st.plotly_chart(chart, width="stretch")
        st.dataframe(
            sentences[["sentence", "label", "score"]],
            hide_index=True,
            width="stretch",
            column_config={"score": st.column_config.NumberColumn("score", format="%+.2f")},
        )


# ------------------------------------------------------------------ batch
def batch_texts() -> tuple[str, list[str]] | None:
    """The texts to score and a name for the download, or None (after showing why)."""
    mode = st.radio("Input", ["Paste lines", "Upload a CSV or TXT"], horizontal=True, key="sentiment_batch_mode")
    if mode == "Paste lines":
        st.session_state.setdefault(LINES_KEY, BATCH_EXAMPLE)
        pasted = st.text_area("One text per line", key=LINES_KEY, height=200)
        return "pasted", [line for line in pasted.splitlines() if line.strip()]
    upload = st.file_uploader(
        f"Texts file (CSV/TSV with a header row, or TXT with one text per line; up to {MAX_UPLOAD_BYTES // 2**20} MB)",
        type=["csv", "tsv", "txt"],
        key="sentiment_upload",
    )
    if upload is None:
        st.caption("Upload a file to pick its text column.")
        return None
    try:
        table = read_table(
            upload.getvalue(),
            ui.upload_name(upload),
            max_rows=sentiment.MAX_BATCH,
            expected="a CSV with a text column, or a TXT with one text per line",
        )
    except InputError as exc:
        st.error(str(exc))
        return None
    if table.truncated:
        st.warning(
            f"`{ui.upload_name(upload)}` has {table.total_rows:,} rows; only the first {sentiment.MAX_BATCH:,} are analysed."
        )
    columns = list(table.frame.columns)
    if table.text_column is None:
        st.info("No column is obviously the text: pick it below.")
    column = st.selectbox(
        "Column with the texts",
        columns,
        index=columns.index(table.text_column) if table.text_column in columns else 0,
        key="sentiment_batch_column",
    )
    try:
        return ui.upload_name(upload).rsplit(".", 1)[0], text_column(table.frame, column)
    except InputError as exc:
        st.error(str(exc))
        return None


def render_batch() -> None:
    st.markdown(
        f"Score many texts at once: paste them one per line, or upload a file and pick the column. Up to "
        f"{sentiment.MAX_BATCH:,} texts; rows that are empty, wordless or not English get a note instead of a label."
    )
    got = batch_texts()
    if got is not None and st.button("Analyze all", type="primary", key="sentiment_batch_run"):
        name, texts = got
        bar = st.progress(0.0)
        try:
            results = model.classify_batch(texts, progress=lambda f, m: bar.progress(f, text=m))
        except InputError as exc:
            st.error(str(exc))
        else:
            results, defused = defuse_formulas(results)
            st.session_state["sentiment_batch_results"] = (name, results)
            st.session_state["sentiment_batch_defused"] = defused
    if "sentiment_batch_results" not in st.session_state:
        return
    name, results = st.session_state["sentiment_batch_results"]
    if st.session_state.get("sentiment_batch_defused"):
        st.warning(FORMULA_NOTE.format(n=st.session_state["sentiment_batch_defused"]), icon="🛡️")
    counts = results["label"].replace("", "skipped").value_counts()
    tiles = st.columns(4)
    for tile, label in zip(tiles, ["positive", "neutral", "negative", "skipped"], strict=True):
        tile.metric(label.capitalize(), int(counts.get(label, 0)))
    scored = results[results["label"] != ""]
    if not scored.empty:
        pie_col, hist_col = st.columns(2)
        with pie_col:
            share = scored["label"].value_counts().rename_axis("label").reset_index(name="texts")
            pie = px.pie(share, names="label", values="texts", color="label", color_discrete_map=COLOURS, hole=0.4)
            pie.update_layout(title="Distribution of sentiment", height=320)
            st.plotly_chart(pie, width="stretch")
        with hist_col:
            hist = px.histogram(scored, x="score", color="label", color_discrete_map=COLOURS, nbins=20, range_x=[-1, 1])
            hist.update_layout(title="Scores", height=320, bargap=0.05)
            st.plotly_chart(hist, width="stretch")
    st.dataframe(
        results,
        hide_index=True,
        width="stretch",
        column_config={"score": st.column_config.NumberColumn("score", format="%+.2f")},
    )
    st.download_button(
        "Download results (CSV)",
        results.to_csv(index=False).encode("utf-8"),
        file_name=f"sentiment-{name}.csv",
        mime="text/csv",
        key="sentiment_batch_download",
    )


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    st.markdown(
        f"Every model trained on **the same {1 - config.test_size:.0%} of the labelled sentences** and scored on the "
        "same held-out rest: accuracy and F1 on the positive/negative sentences, accuracy per source, the confusion "
        "matrix with the neutral band, and the time to score one sentence. `python -m benchmarks sentiment` repeats "
        "this with 5-fold cross-validation on all 3,000 UCI sentences."
    )
    if resolved.is_sample:
        st.info(
            "The bundled sample is written from templates, so most models separate it almost perfectly; the "
            "differences show on the real UCI sentences (set GALLERY_DATA_DIR, or run the benchmark).",
            icon="ℹ️",
        )
    compared = on_demand.result(
        sentiment.compare_request((resolved, frame)),
        button="Train and compare the models",
        key="sentiment_compare",
        what="the comparison of the models",
    )
    if compared is None:
        return
    comparison = compared.comparison
    if model.name in (sentiment.ModelName.ENSEMBLE, sentiment.ModelName.FINETUNED):  # the default, trained already
        comparison = comparison.plus(trained_rows(f"{resolved.sha256}|{model.name}|{id(model)}", model))
    table = comparison.table
    per_source = [c for c in table.columns if c.startswith("accuracy_") and c not in ("accuracy_3class",)]
    shown = ["model", "accuracy", "f1", *per_source, "latency_ms", "train_s"]
    shown += [c for c in ("accuracy_3class",) if c in table.columns]
    formats = {c: "{:.1%}" for c in shown if c.startswith("accuracy")}
    formats.update({"f1": "{:.3f}", "latency_ms": "{:.1f} ms", "train_s": "{:.1f} s"})
    st.dataframe(table[shown].style.format(formats), hide_index=True, width="stretch")
    for key, why in comparison.skipped.items():
        st.caption(f"{sentiment.MODELS[sentiment.ModelName(key)]['title']}: not available here ({why})")
    if per_source:
        long = table.melt(id_vars="key", value_vars=per_source, var_name="source", value_name="held-out accuracy")
        long["source"] = long["source"].str.removeprefix("accuracy_")
        chart = px.bar(
            long, x="key", y="held-out accuracy", color="source", barmode="group", title="Accuracy per source"
        )
        chart.update_layout(yaxis_range=[0.5, 1.0], height=340)
        st.plotly_chart(chart, width="stretch")
    keys = list(comparison.confusions)
    picked = st.selectbox(
        "Confusion matrix of",
        keys,
        format_func=lambda k: sentiment.MODELS[sentiment.ModelName(k)]["title"],
        key="sentiment_confusion_model",
    )
    heat = px.imshow(
        comparison.confusions[picked],
        text_auto=True,
        color_continuous_scale="Blues",
        labels={"x": "predicted", "y": "actual", "color": "sentences"},
        x=list(sentiment.LABELS),
        y=list(sentiment.LABELS),
    )
    heat.update_layout(height=360, coloraxis_showscale=False)
    st.plotly_chart(heat, width="stretch")


@st.cache_resource(max_entries=2, show_spinner="Scoring the default model on the same held-out sentences…")
def trained_rows(model_key: str, _model: sentiment.SentimentModel) -> sentiment.Comparison:
    """The trained default's rows (and its fine-tuned member's), scored on the comparison's split (no training)."""
    return sentiment.compare_models(frame, sentiment.SentimentConfig(), names=(), trained=_model)


# ------------------------------------------------------------------ card
def render_card() -> None:
    m = model.metrics_
    tiles = st.columns(3)
    tiles[0].metric("Held-out accuracy", ui.percent(m["accuracy"], 1))
    tiles[1].metric("F1 (positive)", f"{m['f1']:.3f}")
    if "accuracy_3class" in m:
        tiles[2].metric("3-class accuracy (with neutral)", ui.percent(m["accuracy_3class"], 1))
    if not model.errors_.empty:
        with st.expander(f"Held-out sentences it got wrong ({len(model.errors_)})"):
            st.dataframe(model.errors_, hide_index=True, width="stretch")
    ui.model_card(model.card_, file_name=f"model-card-sentiment-{model.name.value}.md")


TABS = {
    "🔎 Try it": render_try,
    "📦 Batch": render_batch,
    "⚖️ Compare models": render_compare,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="sentiment_tab")

# Background work starts once the first answer is drawn: a training or an import running meanwhile would slow it.
# The language detector first: the presets skip it, a typed text needs it (its model takes seconds to load).
minilm.in_background("language-detector", lambda: detect_language(sentiment.EXAMPLES["Happy customer"]))
if why == TRAIN and not resolved.is_sample and lifecycle.cached_model(fast) is None:
    lifecycle.start_training(fast)  # the fast model of the real data: ready in seconds, then it answers
if why == TRAIN:
    with offer:
        if running is None:
            # Never on arrival: a 4-minute fine-tune on two shared CPUs would slow every page of every visitor
            # (issue 25). The shipped model answers meanwhile; the visitor who wants the transformer asks for it.
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.info(
                f"**{title}** is not trained on this server yet, so **{fallback_title}** answers. Fine-tuning "
                f"takes about {FINE_TUNE_MINUTES} minutes on two CPUs, once per server: it runs in the background, "
                "is saved for every later visitor, and this page switches to it when it is done.",
                icon="🧠",
            )
            if button.button("Fine-tune MiniLM now", key="sentiment_fine_tune", type="primary", width="stretch"):
                lifecycle.start_training(wanted)
                st.rerun()
        else:
            minilm.switch_when_ready(f"{title} is training; {fallback_title} answers until it is ready", running)
elif why == LOADING:
    with offer:
        minilm.switch_when_ready(f"MiniLM is loading for {title}; {fallback_title} answers until then")
