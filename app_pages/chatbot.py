"""Knowledge-base chatbot page: chat with streamed, cited answers; uploads for this session; a retrieval debug
view; the evaluation on the project's question sets; the model card -> engines.chatbot.

The sentence encoder (torch, transformers) loads when this page is first visited; the default knowledge base's
embeddings are cached on disk, so later visits start in a second or two.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import lifecycle, minilm, ui
from engines import chatbot as chat_index
from engines.chatbot import evaluation as ev
from engines.chatbot.answer import DONT_KNOW_BELOW as DONT_KNOW_BAR
from engines.chatbot.answer import MAX_MESSAGE_CHARS, SUGGESTIONS, Answer, Chatbot, check_message, stream_words
from engines.chatbot.dialogue import train_intents
from engines.chatbot.index import PassageIndex
from engines.chatbot.knowledge import MAX_SOURCES, Passage, default_sources, passages, upload_source
from engines.chatbot.retrieval import ENCODER_TOKENS, Mode, Retriever, remember_stems
from engines.core import jobs, stacks
from engines.core.documents import DOCUMENT_EXTENSIONS, read_document
from engines.core.errors import InputError, SourceError
from engines.core.lifecycle import ModelRequest
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.encoder_identity import NO_ENCODER
from engines.registry import get_demo

STREAM_S = 0.4  # the answer is typed out within this long, however long it is
DEMO = get_demo("chatbot")
TAB_KEY = "kb_tab"
MESSAGES = "kb_messages"
HISTORY = "kb_history"
UPLOADS = "kb_uploads"
INDEX = "kb_index"
PENDING = "kb_pending"
CHAT_TAB, DEBUG_TAB, EVAL_TAB, CARD_TAB = "💬 Chat", "🔎 Retrieval", "📊 Evaluation", "🪪 Model card"
MODE_TITLES = {Mode.HYBRID: "hybrid (BM25 + MiniLM)", Mode.BM25: "BM25 only", Mode.DENSE: "embeddings only"}

ui.page_header(
    DEMO,
    "Ask about this gallery: how a demo works, which data it uses, how accurate or fast it is, how to run or "
    "deploy it. The bot searches its knowledge base (the README, every demo's description, a support FAQ, and "
    "any document you upload) with BM25 and MiniLM sentence embeddings together, then answers only with what "
    'it found, citing each source, and says "I don\'t know" when nothing it has answers the question. A small '
    "classifier tells questions from greetings, thanks, requests for a human and off-topic chat, and a "
    'follow-up such as "and how fast is it?" is read with the previous question\'s topic.',
)


# ------------------------------------------------------------------ models and the knowledge base
@st.cache_resource(max_entries=2, show_spinner=False)
def knowledge(settings_key: tuple[str, ...]) -> tuple[list[Passage], str]:
    """The default knowledge base's passages, and the identity of the encoder found here (its weights' sha256)."""
    from engines.encoder_identity import encoder_identity

    remember_stems(chat_index.shipped_stems())  # BM25 is built without importing nltk (seconds on a cold server)
    return passages(default_sources()), encoder_identity()


def knowledge_index(base_passages: list[Passage], identity: str) -> tuple[PassageIndex | None, ModelRequest | None]:
    """The passages' MiniLM vectors (shipped, or from the disk cache); else None and the request to rebuild them
    (the page queues it once drawn; page tests wait for it here)."""
    if identity == NO_ENCODER:
        return None, None
    wanted = chat_index.request(base_passages, identity)
    found = lifecycle.cached_model(wanted)
    if found is not None:
        return found[0], None
    earlier = jobs.queue().get(wanted.job_key)
    if earlier is not None and earlier.state == jobs.FAILED:  # not retried on every rerun: BM25 answers
        return None, None
    if lifecycle.wait_for_training():
        job = lifecycle.start_training(wanted)
        job.done.wait(lifecycle.WAIT_LIMIT_S)
        found = lifecycle.cached_model(wanted)
        if found is not None or job.state == jobs.DONE:
            return (found[0] if found is not None else job.result), None
    return None, wanted


@st.cache_resource(max_entries=2, show_spinner=False)
def base_retriever(settings_key: tuple[str, ...], index_key: str, dense: bool, _index: PassageIndex | None, _encoder):
    """The default knowledge base, indexed: hybrid with the shipped vectors and the shared encoder, else BM25."""
    base_passages, _identity = knowledge(settings_key)
    if not dense or not _index.matches(base_passages):
        return Retriever(base_passages)
    reader = copy.copy(_encoder)  # the shared weights, reading passages as long as the index was made with
    positions = getattr(_encoder.model.config, "max_position_embeddings", None) or ENCODER_TOKENS
    reader.max_length = min(ENCODER_TOKENS, int(positions))
    return Retriever(base_passages, reader, vectors=_index.vectors, sentence_rows=_index.sentence_rows)


def intent_classifier():
    """The intent classifier, trained in a background thread from the page's arrival (importing scikit-learn takes
    seconds on a cold server; the first message waits for it only if it comes sooner)."""
    with st.spinner("Loading the intent classifier…"):
        return minilm.in_background("chatbot-intents", train_intents).wait()


@st.cache_resource(max_entries=1, show_spinner=False)
def language_model(settings_key: tuple[str, ...]):
    """An OpenAI-compatible endpoint or a local instruct model when one is configured or installed."""
    try:
        from engines.chatbot.generate import configured_generator

        return configured_generator()
    except (ImportError, SourceError) as exc:
        return None, str(exc)


def session_retriever(base: Retriever) -> Retriever:
    """The default knowledge base plus this session's uploads."""
    uploads = st.session_state.get(UPLOADS, [])
    if not uploads:
        return base
    cached = st.session_state.get(INDEX)
    key = (tuple(s.id for s in uploads), base.has_dense)  # rebuilt when the base switches to hybrid
    if cached is None or cached[0] != key:
        with st.spinner(f"Adding {len(uploads)} document{'s' if len(uploads) != 1 else ''} to the knowledge base…"):
            cached = (key, base.extend(passages(uploads)))
        st.session_state[INDEX] = cached
    return cached[1]


def chatbot(retriever: Retriever, generator, generator_name: str) -> Chatbot:
    """A chatbot over the session's knowledge base with the session's conversation."""
    history = st.session_state.setdefault(HISTORY, [])
    bot = Chatbot(retriever, intent_classifier(), generator=generator, generator_name=generator_name)
    bot.history = history
    return bot


# ------------------------------------------------------------------ 💬 chat
def show_answer(answer: Answer, index: int) -> None:
    """Sources, notes and feedback under an answer."""
    for note in answer.notes:
        st.caption(f"⚠️ {note}")
    if answer.kind == "answer":
        meta = f"confidence {answer.confidence:.2f} · {answer.generated_by} · {answer.seconds * 1000:.0f} ms"
        if answer.rewritten != answer.question:
            meta += f" · searched as “{ui.escape_markdown(answer.rewritten)}”"
        st.caption(meta)
        with st.expander(f"Sources ({len(answer.sources)})"):
            for number, hit in enumerate(answer.sources, start=1):
                st.markdown(
                    f"**[{number}] {ui.escape_markdown(hit.passage.title)}** · score {hit.score:.3f} "
                    f"(BM25 {hit.bm25:.2f}, embeddings {hit.dense:.2f}, best sentence {hit.sentence:.2f})"
                )
                st.text(hit.passage.text[:1500])
    elif answer.kind == "dont_know":
        st.caption(f"confidence {answer.confidence:.2f}: below the bar of {DONT_KNOW_BAR:.2f}, so no answer is made up")
    st.feedback("thumbs", key=f"kb_fb_{index}")  # its value lives in session_state under that key


def render_chat(make_bot: Callable[[], Chatbot], llm_note: str) -> None:
    messages = st.session_state.setdefault(MESSAGES, [])
    st.session_state.setdefault(HISTORY, [])  # the bot is built only for a message; the conversation exists before
    conversation = st.container()  # drawn above the input, so a new exchange appears where it belongs
    suggestions = st.empty()
    if not messages:
        with suggestions.container():
            st.markdown("Try one of these, or type your own question below:")
            columns = st.columns(len(SUGGESTIONS))
            for i, (column, text) in enumerate(zip(columns, SUGGESTIONS, strict=True)):
                if column.button(text, key=f"kb_preset_{i}", width="stretch"):
                    st.session_state[PENDING] = text
    with conversation:
        for i, message in enumerate(messages):
            with st.chat_message(message["role"]):
                st.markdown(ui.escape_markdown(message["content"]))
                if message["role"] == "assistant":
                    show_answer(message["answer"], i)
    prompt = st.chat_input(f"Ask about the gallery (up to {MAX_MESSAGE_CHARS:,} characters)", key="kb_input")
    prompt = prompt if prompt is not None else st.session_state.pop(PENDING, None)
    if prompt is None:
        return
    try:
        question = check_message(prompt)
    except InputError as exc:
        st.error(str(exc))
        return
    suggestions.empty()
    with conversation:
        with st.chat_message("user"):
            st.markdown(ui.escape_markdown(question))
        with st.chat_message("assistant"):
            answer = make_bot().respond(question)
            st.write_stream(stream_words(ui.escape_markdown(answer.text), delay=0.01, total_s=STREAM_S))
            messages += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer.text, "answer": answer},
            ]
            show_answer(answer, len(messages) - 1)


def render_knowledge_base(base: Retriever) -> None:
    """The sidebar: what the bot knows, uploads, and a reset."""
    with st.sidebar:
        st.subheader("Knowledge base")
        kinds = pd.Series([p.kind for p in base.passages]).value_counts()
        st.caption(
            f"{len(base.passages)} passages: README {kinds.get('readme', 0)}, demos {kinds.get('demo', 0)}, "
            f"FAQ {kinds.get('faq', 0)}"
        )
        files = st.file_uploader(
            "Add documents (this session only)", type=[e.lstrip(".") for e in DOCUMENT_EXTENSIONS],
            accept_multiple_files=True, key="kb_files",
            help=f"TXT, Markdown, PDF or Word, up to {MAX_UPLOAD_BYTES // 2**20} MB each and {MAX_SOURCES} per "
            "session. Text in them is treated as information, never as instructions to the bot.",
        )  # fmt: skip
        if files and st.button("Add to the knowledge base", key="kb_add"):
            add_uploads(files)
        uploads = st.session_state.get(UPLOADS, [])
        for source in uploads:
            st.caption(f"📄 {ui.escape_markdown(source.title)}")
        if uploads and st.button("Remove my documents", key="kb_remove"):
            st.session_state[UPLOADS] = []
            st.session_state.pop(INDEX, None)
            st.rerun()
        if st.button("New conversation", key="kb_reset"):
            for key in [MESSAGES, HISTORY, *(k for k in st.session_state if str(k).startswith("kb_fb_"))]:
                st.session_state.pop(key, None)
            st.rerun()
        ratings = [v for k, v in st.session_state.items() if str(k).startswith("kb_fb_") and v is not None]
        if ratings:
            st.caption(f"Your feedback this session: 👍 {ratings.count(1)} · 👎 {ratings.count(0)}")


def add_uploads(files) -> None:
    uploads = list(st.session_state.get(UPLOADS, []))
    room = MAX_SOURCES - len(uploads)
    if len(files) > room:
        st.error(
            f"{len(files)} files were given but the knowledge base takes {MAX_SOURCES} documents per session "
            f"({room} more now): only the first {max(room, 0)} were read. Remove some, or upload fewer."
        )
        files = files[: max(room, 0)]
    known = {s.title for s in uploads}
    for upload in files:
        if ui.upload_name(upload) in known:
            continue
        try:
            document = read_document(upload.getvalue(), ui.upload_name(upload))
            uploads.append(upload_source(document.text, ui.upload_name(upload), len(uploads)))
            for note in document.notes:
                st.caption(f"`{ui.upload_name(upload)}`: {note}")
        except InputError as exc:
            st.error(str(exc))
    st.session_state[UPLOADS] = uploads


# ------------------------------------------------------------------ 🔎 retrieval debug
def render_debug(retriever: Retriever) -> None:
    query = st.text_input("Search the knowledge base", "how is the spam detector evaluated?", key="kb_debug_q",
                          max_chars=MAX_MESSAGE_CHARS)  # fmt: skip
    try:
        check_message(query)
    except InputError as exc:
        st.error(str(exc))
        return
    modes = list(Mode) if retriever.has_dense else [Mode.BM25]
    if not retriever.has_dense:
        st.info("No sentence encoder is available here, so hybrid and embedding rankings are the same as BM25.")
    columns = st.columns(len(modes))
    for column, mode in zip(columns, modes, strict=True):
        with column:
            st.markdown(f"**{MODE_TITLES[mode]}**")
            hits = retriever.search(query, 5, mode)
            st.dataframe(
                pd.DataFrame(
                    {
                        "#": [h.rank for h in hits],
                        "passage": [h.passage.title for h in hits],
                        "score": [round(h.score, 3) for h in hits],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    with st.expander("The passages, in hybrid order"):
        for hit in retriever.search(query, 5, Mode.HYBRID):
            st.markdown(f"**{hit.rank}. {ui.escape_markdown(hit.passage.title)}** · BM25 {hit.bm25:.2f} · embeddings "
                        f"{hit.dense:.2f} · best sentence {hit.sentence:.2f} · question words covered {hit.coverage:.0%}")  # fmt: skip
            st.text(hit.passage.text[:1200])


# ------------------------------------------------------------------ 📊 evaluation
def render_evaluation(base: Retriever) -> None:
    st.markdown(
        "The project wrote a set of questions about the gallery, each with a phrase from the passage that answers "
        "it (plus phrases of other passages judged, blind, to answer it too), and a set of questions the knowledge "
        "base cannot answer. Retrieval is scored by recall@k (is an answering passage among the first k?) and MRR; "
        "answers by whether every sentence is supported by a retrieved passage; refusals on the held-out "
        "unanswerable questions."
    )
    if st.button("Run the evaluation", type="primary", key="kb_eval"):
        with ui.progress_status("Evaluating") as progress:
            report = ev.evaluate(base, intent_classifier(), progress=progress)
        st.session_state["kb_report"] = report
    report = st.session_state.get("kb_report")
    if report is None:
        return
    table = pd.DataFrame(report.retrieval).T.reset_index(names="retrieval")
    st.dataframe(table, hide_index=True, width="stretch")
    figure = px.bar(table, x="retrieval", y=["recall_at_1", "recall_at_3", "recall_at_5"], barmode="group",
                    title="Recall@k on the test questions")  # fmt: skip
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis_range=[0, 1])
    st.plotly_chart(figure, width="stretch", key="kb_eval_chart")
    a, b, c = st.columns(3)
    a.metric("“I don't know” on held-out unanswerable questions", ui.percent(report.dont_know_rate, 0))
    b.metric("Answered questions, every sentence supported", ui.percent(report.grounded_rate, 0))
    c.metric("Answer time (median)", f"{report.answer_ms:.0f} ms")
    if report.misses:
        with st.expander(f"Questions whose passage was not in the top 3 ({len(report.misses)})"):
            st.dataframe(pd.DataFrame(report.misses), hide_index=True, width="stretch")


# ------------------------------------------------------------------ 🪪 model card
def render_card(encoder_notice: str, llm_note: str) -> None:
    intents = intent_classifier()
    st.markdown(
        f"""
**Retrieval.** Okapi BM25 (k1 1.5, b 0.75) over Porter-stemmed words, and all-MiniLM-L6-v2 sentence embeddings
({encoder_notice}); the hybrid score is 0.7 times the embedding similarity (the mean of the passage's cosine and
its best sentence's) plus 0.3 times the BM25 score relative to the best match. Passages are about 200 words of whole sentences (or table rows), overlapping by about 50 words,
each searched with its document's title.

**Answers.** Quoted: the two or three sentences of the retrieved passages that best match the question (word
overlap plus embedding similarity), each cited. The bot says it does not know when the best passage's
confidence (half its passage's cosine similarity, half the share of the question's informative words it contains)
is below {DONT_KNOW_BAR:.2f}, a bar chosen on the development half of the project's questions. Language
model: {llm_note}

**Intents.** TF-IDF over words and character n-grams with logistic regression, on {intents.n_train} examples
written by the project; held-out accuracy **{intents.accuracy:.1%}** on {intents.n_test} more.

**Limitations.** It knows only its documents; numbers it quotes are the README's, measured when they were
written. Quoting keeps answers faithful but sometimes clipped; follow-ups are understood only through the
previous question's words. Uploaded documents last for the session and are never stored.
"""
    )


# ------------------------------------------------------------------ the page
NO_MINILM = (
    f"BM25 alone: MiniLM needs {stacks.STACKS[stacks.ML].name}, not installed here (`{stacks.STACKS[stacks.ML].install}`)"
    if not stacks.has(stacks.ML)
    else "MiniLM is not installed here, so BM25 alone"
)
base_passages, identity = knowledge(ui.settings_key())
index, rebuild = knowledge_index(base_passages, identity)
loaded = minilm.loaded_encoder() if identity != NO_ENCODER else (None, NO_MINILM)
encoder, where = loaded if loaded is not None else (None, None)
index_key = "" if index is None else chat_index.request(base_passages, identity).key
base = base_retriever(ui.settings_key(), index_key, index is not None and encoder is not None, index, encoder)
if base.has_dense:
    encoder_notice = getattr(where, "notice", str(where))
else:
    encoder_notice = getattr(where, "notice", None) or str(where or NO_MINILM)
waiting = ""
if not base.has_dense and identity != NO_ENCODER and (loaded is None or (encoder is not None and rebuild)):
    waiting = "the knowledge base's embeddings are being rebuilt" if loaded is not None else "MiniLM is loading"
    encoder_notice = f"BM25 alone for now: {waiting}"
notice = st.container()  # what answers meanwhile, drawn once the page is (see the end)
generator, llm_note = language_model(ui.settings_key())
generator_name = llm_note if generator is not None else ""
llm_note = llm_note if generator is not None else f"none (answers are quoted). {llm_note}"
render_knowledge_base(base)
retriever = session_retriever(base)
st.caption(
    f"**Data:** this gallery's README, its {len([p for p in base.passages if p.kind == 'demo'])} demo descriptions, "
    f"the support FAQ{' and your documents' if retriever is not base else ''} · **Model:** "
    + (f"BM25 + all-MiniLM-L6-v2 ({encoder_notice})" if base.has_dense else f"BM25 ({encoder_notice})")
    + f" · answers {'by ' + generator_name if generator else 'quoted, with sources'}"
)
ui.stateful_tabs(
    {
        CHAT_TAB: lambda: render_chat(lambda: chatbot(retriever, generator, generator_name), llm_note),
        DEBUG_TAB: lambda: render_debug(retriever),
        EVAL_TAB: lambda: render_evaluation(base),
        CARD_TAB: lambda: render_card(encoder_notice, llm_note),
    },
    key=TAB_KEY,
)

# Background work starts once the page is drawn: an import in another thread holds the GIL and would slow it.
# The intent classifier first (the first message waits for it), then MiniLM (hybrid ranking; BM25 answers meanwhile).
intents = minilm.in_background("chatbot-intents", train_intents)
index_job = lifecycle.start_training(rebuild) if rebuild is not None else None
if identity != NO_ENCODER and intents.done.is_set():
    minilm.encoder()
if waiting:
    with notice:
        minilm.switch_when_ready(
            f"Answers use BM25 alone while {waiting} (seconds on a cold server); the page switches to hybrid "
            "BM25 + MiniLM ranking when it is ready.",
            job=index_job,
            after=intents,
        )
