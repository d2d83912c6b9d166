"""Text summarizer page: text or document -> engines.summarizer -> summary beside the highlighted source."""

import hashlib

import plotly.express as px
import streamlit as st

from app_pages import jobs, ui
from engines.core.documents import read_document
from engines.core.errors import InputError
from engines.core.text import detect_language
from engines.registry import get_demo
from engines.summarizer import abstractive
from engines.summarizer import model as sm

DEMO = get_demo("summarizer")
TEXT_KEY = "summ_text"
REFERENCE_KEY = "summ_reference"
LONG_TEXT = 30_000  # characters: show a progress box from here on
ABSTRACTIVE = "abstractive"

ui.page_header(
    DEMO,
    "An extractive summariser picks the sentences that carry a document; this one ranks them with a sentence "
    "graph that knows where in the text each sentence sits (articles state their point early), then skips "
    "near-duplicates. Paste an article or upload a TXT, PDF or Word file: you get the summary beside the source "
    "with the chosen sentences highlighted, compression figures, ROUGE against a reference summary if you give "
    "one, why each sentence was chosen, and every method side by side. Bylines and datelines are stripped first.",
)


@st.cache_data(max_entries=1, show_spinner=False)
def samples() -> dict[str, sm.Sample]:
    """The bundled sample documents."""
    return sm.load_samples()


@st.cache_resource(max_entries=1, show_spinner="Looking for an abstractive model…")
def abstractive_model(settings_key: tuple):
    """The abstractive model when one is found (None otherwise), and where it was looked for."""
    resolved = abstractive.resolve()
    return abstractive.load(resolved), resolved


@st.cache_data(max_entries=4, show_spinner="Summarising the samples for the model card…")
def card(method: str, sentences: int):
    """The model card of a method (ROUGE on the bundled samples)."""
    return sm.model_card(sm.SummarizerConfig(method=method, sentences=sentences), samples())


SAMPLES = samples()
FIRST = next(iter(SAMPLES.values()))
st.session_state.setdefault(TEXT_KEY, SAMPLES["news_ferry"].text if "news_ferry" in SAMPLES else FIRST.text)
st.session_state.setdefault(REFERENCE_KEY, SAMPLES["news_ferry"].reference if "news_ferry" in SAMPLES else "")

with st.sidebar:
    st.subheader("Summariser")
    options = [sm.DEFAULT_METHOD, *(m for m in sm.Method if m != sm.DEFAULT_METHOD), ABSTRACTIVE]
    titles = {**{m: sm.METHODS[m]["title"] for m in sm.Method}, ABSTRACTIVE: "Abstractive model (DistilBART / T5)"}
    choice = st.selectbox(
        "Method", options, index=0, format_func=lambda m: titles[m], key="summ_method", bind="query-params"
    )
    similarity = st.selectbox(
        "Sentence similarity",
        list(sm.Similarity),
        format_func=lambda s: {"tfidf": "TF-IDF (instant)", "minilm": "MiniLM sentence embeddings"}[s],
        key="summ_similarity",
        bind="query-params",
        help="For the graph methods (TextRank and the default).",
    )
    by = st.radio(
        "Length", ["Sentences", "Share of the document"], horizontal=True, key="summ_length_by", bind="query-params"
    )
    if by == "Sentences":
        n_sentences = st.slider("Sentences in the summary", 1, 15, 3, key="summ_sentences", bind="query-params")
        ratio = None
    else:
        n_sentences = 3
        ratio = st.slider("Share of the sentences", 0.05, 0.6, 0.2, 0.05, format="%.2f", key="summ_ratio")
    strip = st.checkbox("Strip bylines, datelines and time-stamps", value=True, key="summ_strip", bind="query-params")

method = sm.Method.CENTRALITY if choice == ABSTRACTIVE else sm.Method(choice)
config = sm.SummarizerConfig(
    method=method, similarity=similarity, sentences=n_sentences, ratio=ratio, strip_boilerplate=strip
)
encoder = None
if similarity == sm.Similarity.MINILM:
    encoder, where = ui.sentence_encoder(ui.settings_key())
    if encoder is None:
        st.info(
            f"MiniLM is not available here ({getattr(where, 'notice', where)}); TF-IDF similarity is used.", icon="ℹ️"
        )
generator = None
if choice == ABSTRACTIVE:
    generator, resolved = abstractive_model(ui.settings_key())
    if generator is None:
        st.info(
            f"**No abstractive model is available here.** {resolved.notice} Put DistilBART-CNN or T5-small in "
            "`GALLERY_MODEL_DIR` (folders `distilbart-cnn-12-6` or `t5-small`) or allow the Hugging Face hub. "
            "Meanwhile the extractive default is shown: it works offline.",
            icon="ℹ️",
        )
model_title = generator.title if generator is not None else sm.METHODS[method]["title"]
ui.source_caption(
    "Your text (or a bundled sample written by this project)", "", "pasted or uploaded", "yours", model_title
)


def text_digest(text: str) -> str:
    """A short key for a text (to keep an abstractive result only while its text is unchanged)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


# ------------------------------------------------------------------ input
def render_input() -> None:
    def use_sample(key: str) -> None:
        st.session_state[TEXT_KEY] = SAMPLES[key].text
        st.session_state[REFERENCE_KEY] = SAMPLES[key].reference
        st.session_state.pop("summ_upload_seen", None)

    st.caption("Samples written for this demo (each with a reference summary):")
    columns = st.columns(len(SAMPLES))
    for column, (key, sample) in zip(columns, SAMPLES.items(), strict=True):
        column.button(sample.title.split(":")[0], key=f"summ_sample_{key}", on_click=use_sample, args=(key,),
                      help=sample.title, width="stretch")  # fmt: skip
    upload = st.file_uploader("…or upload a document", type=["txt", "md", "pdf", "docx"], key="summ_upload")
    if upload is not None:
        seen = (ui.upload_name(upload), upload.size)
        if st.session_state.get("summ_upload_seen") != seen:
            try:
                with st.spinner(f"Reading `{ui.upload_name(upload)}`…"):
                    document = read_document(upload.getvalue(), ui.upload_name(upload))
            except InputError as exc:
                st.error(str(exc))
            else:
                st.session_state["summ_upload_seen"] = seen
                st.session_state[TEXT_KEY] = document.text
                st.session_state[REFERENCE_KEY] = ""
                pages = f", {document.pages} page(s)" if document.pages else ""
                st.session_state["summ_upload_notes"] = (
                    f"Read `{ui.upload_name(upload)}` ({document.kind.upper()}{pages}).",
                    *document.notes,
                )
        for note in st.session_state.get("summ_upload_notes", ()):
            st.caption(note)
    st.text_area("Text to summarise", key=TEXT_KEY, height=220, help="Paragraphs separated by blank lines are kept.")
    st.text_area("Reference summary (optional: ROUGE compares the summary with it)", key=REFERENCE_KEY, height=90)
    st.button("Summarize", type="primary", key="summ_run")


def warm_language_detector() -> None:
    """Load the language detector in the background queue while the visitor reads the sample's summary.

    Its model takes seconds to load on a cold, busy server; the sample needs no detection, a pasted text does,
    and by the time one is pasted the detector is ready. One job per server (keyed), at background priority.
    """
    jobs.warm(
        "text/language-detector",
        "Loading the language detector",
        lambda _job: detect_language(SAMPLES[next(iter(SAMPLES))].text),
    )


def run_summary(text: str) -> sm.Summary:
    """The extractive summary, with a progress box for long texts (a bundled sample skips language detection)."""
    sample = next((s for s in SAMPLES.values() if s.text == text), None)
    if sample is not None:
        return sm.summarize_sample(sample, config, encoder=encoder)
    if len(text) > LONG_TEXT:
        with ui.progress_status(f"Summarising {len(text):,} characters") as report:
            return sm.summarize(text, config, encoder=encoder, progress=report)
    return sm.summarize(text, config, encoder=encoder)


def render_sections(sections: list[sm.Section]) -> None:
    for section in sections:
        if section.heading:
            st.markdown(f"**{ui.escape_markdown(section.heading)}**")
        for paragraph in section.paragraphs:
            st.markdown(ui.escape_markdown(" ".join(paragraph)))


def render_try() -> None:
    render_input()
    text = st.session_state.get(TEXT_KEY, "")
    reference = st.session_state.get(REFERENCE_KEY, "")
    try:
        summary = run_summary(text)
    except InputError as exc:
        st.error(str(exc))
        return
    st.session_state["summ_last"] = summary
    for note in summary.notes:
        st.info(note, icon="ℹ️")
    generated = None
    if generator is not None:
        digest = (text_digest(text), generator.title)
        if st.session_state.get("summ_run") or st.session_state.get("summ_abstractive_key") == digest:
            if st.session_state.get("summ_abstractive_key") != digest:
                with ui.progress_status(f"Generating with {generator.title}") as report:
                    try:
                        st.session_state["summ_abstractive"] = generator.summarize(text, progress=report)
                        st.session_state["summ_abstractive_key"] = digest
                    except InputError as exc:
                        st.error(str(exc))
                    except Exception as exc:  # noqa: BLE001 (a model failure must not take the page down)
                        st.error(
                            f"{generator.title} failed on this text ({type(exc).__name__}); the extractive summary is shown."
                        )
            generated = st.session_state.get("summ_abstractive")
        else:
            st.info(f"Press **Summarize** to generate a summary with {generator.title}.", icon="✍️")
    shown_text = generated.text if generated is not None else summary.text
    stats = generated.stats if generated is not None else summary.stats
    tiles = st.columns(4)
    tiles[0].metric("Summary words", f"{int(stats['summary_words']):,}", help=f"of {int(stats['source_words']):,}")
    tiles[1].metric("Summary sentences", int(stats["summary_sentences"]), help=f"of {int(stats['source_sentences'])}")
    tiles[2].metric("Compression", ui.percent(stats["word_ratio"]), help="Summary words / source words.")
    tiles[3].metric("Time", f"{(generated or summary).seconds:.2f} s")
    if reference.strip():
        try:
            scores = sm.rouge(shown_text, reference)
        except InputError as exc:
            st.error(str(exc))
        else:
            rouge_tiles = st.columns(3)
            for tile, (name, value) in zip(rouge_tiles, scores.items(), strict=True):
                tile.metric(f"{name.replace('rouge', 'ROUGE-')} F1", f"{value:.3f}")
    left, right = st.columns(2)
    with left:
        if generated is not None:
            st.markdown(f"#### Summary ({generator.title})")
            st.markdown(ui.escape_markdown(generated.text) or "*(the model produced no text)*")
            for note in generated.notes:
                st.caption(note)
            if len(generated.chunks) > 1:
                with st.expander(f"The {len(generated.chunks)} part summaries (map step)"):
                    for i, part in enumerate(generated.chunk_summaries, start=1):
                        st.markdown(f"{i}. {ui.escape_markdown(part)}")
            st.markdown(f"#### Extractive summary ({summary.title})")
        else:
            st.markdown(f"#### Summary ({summary.title})")
        render_sections(summary.sections)
        st.download_button(
            "Download the summary (text)", shown_text, file_name="summary.txt", mime="text/plain", key="summ_dl"
        )
    with right:
        st.markdown("#### Source, chosen sentences highlighted")
        with st.container(height=520):
            st.markdown(summary.highlighted_html(), unsafe_allow_html=True)
        if summary.document.removed:
            with st.expander(f"Boilerplate removed ({len(summary.document.removed)})"):
                for snippet in summary.document.removed:
                    st.text(snippet)


# ------------------------------------------------------------------ explain
def render_explain() -> None:
    summary = st.session_state.get("summ_last")
    if summary is None:
        st.info("Summarise a text in the first tab first.")
        return
    st.markdown(
        {
            sm.Method.CENTRALITY: (
                "**Position-aware centrality.** Each sentence is compared with every other (cosine similarity). "
                "It *gains* 0.7 per unit of similarity to sentences that come **after** it and *loses* 0.3 per unit "
                "of similarity to sentences **before** it: a sentence that the rest of the text elaborates on is "
                "central. Then sentences are taken greedily by relevance minus a **redundancy penalty** (0.5 x the "
                "similarity to a sentence already chosen), so near-duplicates are skipped."
            ),
            sm.Method.TEXTRANK: (
                "**TextRank.** PageRank over the sentence-similarity graph: a sentence is central when central "
                "sentences resemble it. The top sentences are taken; there is no redundancy control."
            ),
            sm.Method.LEAD: "**Lead-k.** The first k sentences, in order: no scoring at all.",
        }[summary.method]
    )
    table = summary.scores.copy()
    table["position"] += 1
    shown = table[["position", "words", "centrality", "relevance", "redundancy", "score", "chosen", "pick", "text"]]
    if summary.method is not sm.Method.LEAD:
        plotted = table.dropna(subset=["score"]).assign(
            status=lambda f: f["chosen"].map({True: "chosen", False: "not chosen"})
        )
        chart = px.scatter(
            plotted,
            x="position",
            y="relevance",
            color="status",
            size="words",
            hover_data={"text": True, "redundancy": ":.3f", "score": ":.3f"},
            color_discrete_map={"chosen": "#ca8a04", "not chosen": "#94a3b8"},
            title="Relevance of every sentence by its position (size: words)",
            labels={"position": "sentence position", "relevance": "relevance (centrality scaled to 0-1)"},
        )
        chart.update_layout(height=380)
        st.plotly_chart(chart, width="stretch")
    st.dataframe(
        shown.sort_values(["chosen", "score"], ascending=False),
        hide_index=True,
        width="stretch",
        column_config={
            "centrality": st.column_config.NumberColumn(format="%.3f"),
            "relevance": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
            "redundancy": st.column_config.NumberColumn("redundancy penalty", format="%.3f"),
            "score": st.column_config.NumberColumn(format="%.3f"),
            "pick": st.column_config.NumberColumn("picked as", help="Order of the greedy choice (0: not chosen)."),
        },
    )
    st.caption(f"Sentences shorter than {config.min_words} words are never chosen by the graph methods (no score).")


# ------------------------------------------------------------------ compare
def render_compare() -> None:
    st.markdown(
        "Every method on **the current text** with the same length setting. With a reference summary each one gets "
        "ROUGE F1. `python -m benchmarks summarizer` runs the same comparison on 100 CNN/DailyMail articles."
    )
    text = st.session_state.get(TEXT_KEY, "")
    reference = st.session_state.get(REFERENCE_KEY, "")
    if st.button("Compare methods", type="primary", key="summ_compare"):
        extra = abstractive.as_extra(generator) if generator is not None else None
        with ui.progress_status("Running every method on this text") as report:
            try:
                table = sm.compare_methods(
                    text, config, reference=reference or None, encoder=encoder, extra=extra, progress=report
                )
            except InputError as exc:
                st.error(str(exc))
                return
        st.session_state["summ_compare_table"] = table
    table = st.session_state.get("summ_compare_table")
    if table is None:
        return
    st.dataframe(
        table.drop(columns=["key"]).style.format(
            {"word_ratio": "{:.1%}", "seconds": "{:.3f} s", "rouge1": "{:.3f}", "rouge2": "{:.3f}", "rougeL": "{:.3f}"},
            na_rep="–",
        ),
        hide_index=True,
        width="stretch",
    )
    if table["rouge1"].notna().any():
        long = table.melt(id_vars="method", value_vars=list(sm.ROUGE_TYPES), var_name="metric", value_name="F1")
        chart = px.bar(
            long, x="method", y="F1", color="metric", barmode="group", title="ROUGE F1 against your reference"
        )
    else:
        chart = px.bar(table, x="method", y="words", title="Summary length (add a reference summary for ROUGE)")
    chart.update_layout(height=380, xaxis_title="")
    st.plotly_chart(chart, width="stretch")


# ------------------------------------------------------------------ card
def render_card() -> None:
    ui.model_card(card(method.value, n_sentences), file_name=f"model-card-summarizer-{method.value}.md")


TABS = {
    "📝 Summarize": render_try,
    "🔍 Why these sentences": render_explain,
    "⚖️ Compare methods": render_compare,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="summ_tab")
warm_language_detector()
