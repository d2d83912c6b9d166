"""Predictive text generator page: prompt -> engines.textgen (LSTM, n-gram, GPT-2) -> suggestions and streamed text."""

import html
import json
import math
import re
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import jobs, ui
from app_pages.jobs import TrainingJob
from engines.core import threads
from engines.core.errors import InputError, SourceError
from engines.core.hashing import sha256_bytes, sha256_file
from engines.core.settings import hub_allowed
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import get_demo

ui.require_stacks(get_demo("textgen"))  # before the engine imports below: they load torch

from engines import textgen as tg  # noqa: E402
from engines.textgen import gpt2  # noqa: E402
from engines.textgen.build_default import nanogpt_split  # noqa: E402

DEMO = get_demo("textgen")
PROMPT_KEY = "tg_prompt"
PROMPT_READ_CHARS = 20_000  # the end of a longer text is what the model continues; reading all of it takes seconds
MODEL_KEY = "tg_model"
JOB_KEY = "tg_job"
MINE_KEY = "tg_job_mine"  # the session's job was started here (its model is then selected for writing)
TRAINED_KEY = "tg_trained"
OUTPUT_KEY = "tg_output"
TAB_KEY = "tg_tab"
GPT2_REQUESTED_KEY = "tg_gpt2_requested"
TRAIN_TAB = "🏋️ Train your own"
SHIPPED, TRAINED, GPT2 = "shipped", "trained", "gpt2"
PROMPTS = {
    "Romeo": "ROMEO:\n",
    "A king speaks": "KING RICHARD II:\nWhat say you, my lords? Shall we",
    "Juliet's balcony": "JULIET:\nO Romeo, Romeo! wherefore art thou",
    "Stage direction": "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\n",
    "Blank page": "",
}
STYLES = {  # one-click sampling presets: (temperature, top-k, top-p)
    "🧊 Safe": (0.5, 0, 0.9),
    "⚖️ Balanced": (0.8, 0, 0.95),
    "🔥 Wild": (1.3, 0, 1.0),
}
NGRAM_ORDER = {tg.Level.CHAR: 5, tg.Level.WORD: 3}  # Kneser-Ney orders that do well on a short corpus
BUNDLED, UPLOAD, SHAKESPEARE = "bundled", "upload", "shakespeare"
CURVE_COLOURS = {"train_loss": "#4f46e5", "val_loss": "#f97316", "average_val_loss": "#059669"}
PAGE_EMA_DECAY = 0.98  # "Average the weights": about the last 50 steps, for the page's runs of a few hundred

ui.page_header(
    DEMO,
    "A language model reads text one token at a time and predicts what comes next. This one is a two-layer LSTM "
    "that learned to write from the raw characters of Shakespeare's plays: type a few words and it offers the five "
    "most likely next words (click one to accept it), or press **Generate** and watch it write on, with temperature, "
    "top-k and top-p deciding how adventurous it is. Then train your own model on the bundled fables or on a text "
    "you upload and watch its loss fall live, pit it against a count-based Kneser-Ney n-gram model on the same "
    "held-out text, and, where one is installed, compare with a pretrained GPT-2.",
)


# ------------------------------------------------------------------ models and data
def shipped_stamp() -> float:
    """When the shipped model's manifest last changed (so a rebuilt model is reloaded), 0 when missing."""
    try:
        return (tg.SHIPPED_DIR / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=1, show_spinner="Loading the Shakespeare LSTM…")
def shipped_model(stamp: float) -> tg.LanguageModel:
    """The shipped model, shared by every session (a SourceError is raised, so it is not cached)."""
    threads.limit_torch()  # one torch thread on two CPUs, even if torch was imported before the budget was set
    return tg.load_shipped()


@st.cache_resource(max_entries=1, show_spinner="Looking for Tiny Shakespeare…")
def shakespeare(settings_key: tuple) -> tuple[Any, str]:
    """Tiny Shakespeare as a corpus, or None and why it is not available (cached: it may try a download)."""
    try:
        return tg.corpus.shakespeare(), ""
    except (SourceError, InputError, OSError) as exc:
        return None, str(exc)


@st.cache_resource(max_entries=1, show_spinner=False)
def bundled_corpus() -> Any:
    """The fables written for this gallery (the offline training text)."""
    return tg.corpus.bundled()


@st.cache_resource(max_entries=1, show_spinner="Looking for a pretrained GPT-2…")
def gpt2_model(settings_key: tuple) -> tuple[Any, Any, str]:
    """The pretrained GPT-2 (or None), where it was looked for, and why loading failed (if it did)."""
    try:
        model, resolved = gpt2.load()
    except Exception as exc:  # noqa: BLE001 (a broken model folder must not take the page down)
        return None, gpt2.resolve(), f"{type(exc).__name__}: {exc}"
    return model, resolved, ""


@st.cache_data(max_entries=256, show_spinner=False)
def suggestions(model_id: str, prompt: str, _model: Any) -> list[tg.Suggestion]:
    """The five most likely next words after ``prompt`` (``model_id`` names the model in the cache key)."""
    if isinstance(_model, tg.LanguageModel):
        return tg.next_words(_model, prompt, k=5)
    return _model.next_words(prompt, k=5)


def ngram_comparison(lstm: tg.LanguageModel, order: int, train_text: str, held_out: str, prompt: str) -> dict[str, Any]:
    """Loss of the LSTM and of a Kneser-Ney n-gram (same text, same vocabulary), and a sample of each from ``prompt``."""
    started = time.perf_counter()
    lstm_loss = tg.loss_on(lstm, held_out)
    lstm_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ngram = tg.NGramModel.fit(train_text, order=order, vocab=lstm.vocab)
    ngram_loss = ngram.loss(held_out)
    ngram_seconds = time.perf_counter() - started
    length = 300 if lstm.vocab.level is tg.Level.CHAR else 60  # tokens
    sampling = tg.SamplingConfig(temperature=0.8, top_p=1.0, seed=0)  # what the n-gram sampler does too
    return {
        "lstm": (lstm_loss, lstm_seconds, lstm.net.parameter_count()),
        "ngram": (ngram_loss, ngram_seconds, ngram.size),
        "held_out_tokens": len(lstm.vocab.encode(held_out)),
        "prompt": prompt,
        "length": length,
        "lstm_sample": "".join(tg.generate(lstm, prompt, length, sampling)),
        "ngram_sample": "".join(ngram.generate(prompt, length, temperature=0.8, seed=0)),
    }


@dataclass
class Trained:
    """A model trained in this session, with the corpus it learned from."""

    model: tg.LanguageModel
    corpus: Any  # tg.corpus.Corpus
    config: tg.TrainConfig
    id: str = field(default_factory=lambda: f"trained-{uuid.uuid4().hex}")

    @property
    def title(self) -> str:
        level = "character" if self.config.level is tg.Level.CHAR else "word"
        return f"Your {level} LSTM trained on {self.corpus.name}"


def training_key(source: str, config: tg.TrainConfig) -> str:
    """The queue's key of a training on a shared text: the text's identity and the settings (no text is read).

    The bundled fables are named by their file's checksum and Tiny Shakespeare by the checksum its source
    verifies, so a returning visitor's page can look the job up without cleaning the text again.
    """
    text_id = (
        f"fables-{sha256_file(tg.corpus.BUNDLED_PATH)[:16]}"
        if source == BUNDLED
        else f"shakespeare-{tg.corpus.SHAKESPEARE.files['input.txt'][:16]}"
    )
    settings_id = sha256_bytes(json.dumps(asdict(config), sort_keys=True, default=str).encode())[:16]
    return f"textgen/{text_id}/{settings_id}"


def start_training(source: str, corpus: Any, config: tg.TrainConfig) -> TrainingJob:
    """Train an LSTM on ``corpus`` in the background queue; its curve grows at every evaluation.

    On the fables or Tiny Shakespeare the job is shared (keyed by text and settings: joined, never copied, and
    finished when its visitor leaves); on an upload it is private (cancelled once its visitor stops watching).
    """

    def work(job: TrainingJob) -> tg.LanguageModel:
        def on_eval(point: tg.Evaluation) -> None:
            job.curve.append(
                {
                    "step": point.step,
                    "train_loss": point.train_loss,
                    "val_loss": point.val_loss,
                    "average_val_loss": point.average_val_loss,
                }
            )

        return tg.train(corpus.text, config, data_name=corpus.name, progress=job.report, on_eval=on_eval, stop=job.stop)

    level = "character" if config.level is tg.Level.CHAR else "word"
    title = f"Training a {level} LSTM on {corpus.name}"
    if source == UPLOAD:
        return jobs.start(f"textgen/upload/{corpus.sha256[:16]}", title, work, private=True, context=(corpus, config))
    return jobs.start(training_key(source, config), title, work, private=False, context=(corpus, config))


def shared_job_of_settings() -> TrainingJob | None:
    """The shared training of the text and settings now in the training panel, when the queue holds one.

    A visitor who comes back (a new session) finds the training of those settings still running, with its
    progress, or finished, with its model, instead of starting a copy.
    """
    source = st.session_state.get("tg_corpus", BUNDLED)
    if source not in (BUNDLED, SHAKESPEARE):
        return None
    try:
        config = settings_config(tg.Level(st.session_state.get("tg_level", tg.Level.CHAR))).validate()
    except (InputError, ValueError):
        return None
    return jobs.find(training_key(source, config))


def harvest_job() -> None:
    """Move a finished training into the session's models (selected for writing when this session started it)."""
    job: TrainingJob | None = st.session_state.get(JOB_KEY)
    if not jobs.running(job):
        shared = shared_job_of_settings()
        if shared is not None and shared is not job and (jobs.running(shared) or job is None):
            st.session_state[JOB_KEY] = job = shared
            st.session_state[MINE_KEY] = False
    if not jobs.harvest(job):
        return
    st.session_state[TRAINED_KEY] = Trained(job.result, *job.context)
    if st.session_state.get(MINE_KEY, True):
        st.session_state[MODEL_KEY] = TRAINED
        st.session_state.pop(OUTPUT_KEY, None)
    st.session_state.pop("tg_comparison", None)


def loss_chart(curve: list[dict[str, float]], title: str):
    """Training and validation loss against the step (and the weight average's, when one was kept)."""
    frame = pd.DataFrame(curve)
    names = {"train_loss": "training", "val_loss": "validation", "average_val_loss": "validation, averaged weights"}
    columns = [c for c in names if c in frame and frame[c].notna().any()]
    long = frame.melt(id_vars="step", value_vars=columns, var_name="loss", value_name="nats").dropna()
    long["loss"] = long["loss"].map(names)
    chart = px.line(
        long,
        x="step",
        y="nats",
        color="loss",
        markers=True,
        color_discrete_map={names[c]: CURVE_COLOURS[c] for c in names},
        labels={"nats": "loss (nats per token)", "step": "training step"},
        title=title,
    )
    chart.update_layout(height=320, margin={"t": 40, "b": 10}, legend_title_text="")
    return chart


def widget_defaults() -> dict[str, Any]:
    """The starting value of every widget whose value must survive a visit to another tab."""
    defaults: dict[str, Any] = {
        PROMPT_KEY: PROMPTS["Romeo"],
        "tg_temperature": 0.8,
        "tg_length": 400,
        "tg_top_k": 0,
        "tg_top_p": 0.95,
        "tg_seed": 0,
        "tg_random": False,
        "tg_corpus": BUNDLED,
        "tg_level": tg.Level.CHAR,
    }
    for level, base in ((tg.Level.CHAR, tg.PAGE_DEFAULT), (tg.Level.WORD, tg.PAGE_WORD_DEFAULT)):
        key = level.value
        defaults |= {
            f"tg_hidden_{key}": base.hidden_size,
            f"tg_layers_{key}": base.num_layers,
            f"tg_seq_{key}": base.seq_len,
            f"tg_lr_{key}": base.learning_rate,
            f"tg_steps_{key}": base.max_steps,
            f"tg_dropout_{key}": base.dropout,
            f"tg_average_{key}": base.ema_decay > 0,
            f"tg_order_{key}": NGRAM_ORDER[level],
        }
    return defaults


def keep_widget_state() -> None:
    """Only the open tab is drawn, and Streamlit forgets the values of widgets it did not draw: keep them.

    Re-assigning a widget's key from session state is Streamlit's documented way to stop that clean-up; the
    widgets take no ``value`` argument, so they read these values without a "set twice" warning.
    """
    for key, value in widget_defaults().items():
        st.session_state[key] = st.session_state.get(key, value)


def settings_config(level: tg.Level) -> tg.TrainConfig:
    """The training settings of ``level`` as the session holds them (drawn or not: see keep_widget_state)."""
    base = tg.PAGE_DEFAULT if level is tg.Level.CHAR else tg.PAGE_WORD_DEFAULT
    key, state = level.value, st.session_state
    return replace(
        base,
        hidden_size=int(state[f"tg_hidden_{key}"]),
        num_layers=int(state[f"tg_layers_{key}"]),
        seq_len=int(state[f"tg_seq_{key}"]),
        learning_rate=float(state[f"tg_lr_{key}"]),
        max_steps=int(state[f"tg_steps_{key}"]),
        dropout=float(state[f"tg_dropout_{key}"]),
        ema_decay=PAGE_EMA_DECAY if state[f"tg_average_{key}"] else 0.0,
    )


# ------------------------------------------------------------------ which model writes
keep_widget_state()
harvest_job()
settings = ui.settings_key()
shipped, shipped_error = None, ""
try:
    shipped = shipped_model(shipped_stamp())
except SourceError as exc:
    shipped_error = str(exc)
# Offline, finding GPT-2 is a look at two folders: do it now. Online it may be a 350 MB download: on request only.
gpt2_looked_for = not hub_allowed() or st.session_state.get(GPT2_REQUESTED_KEY, False)
pretrained, gpt2_resolved, gpt2_error = gpt2_model(settings) if gpt2_looked_for else (None, None, "")
trained: Trained | None = st.session_state.get(TRAINED_KEY)

titles: dict[str, str] = {}
if shipped is not None:
    titles[SHIPPED] = "Shakespeare LSTM (shipped, 2 layers, characters)"
if trained is not None:
    titles[TRAINED] = trained.title
if pretrained is not None:
    titles[GPT2] = pretrained.title
if st.session_state.get(MODEL_KEY) not in titles:
    st.session_state.pop(MODEL_KEY, None)

with st.sidebar:
    st.subheader("Model")
    choice = st.selectbox("Writes with", list(titles), format_func=titles.get, key=MODEL_KEY) if titles else None
    job: TrainingJob | None = st.session_state.get(JOB_KEY)
    if jobs.running(job) and st.session_state.get(TAB_KEY) != TRAIN_TAB:
        jobs.sidebar_progress(job, f"⏳ {job.title} (see **Train your own**)")

if shipped is None:
    st.error(
        f"**The shipped Shakespeare model is not available.** {shipped_error} You can still train your own model in "
        "the **Train your own** tab: it becomes selectable for writing as soon as it is trained.",
        icon="🚫",
    )

model: Any = {SHIPPED: shipped, TRAINED: trained.model if trained else None, GPT2: pretrained}.get(choice)
model_id = {SHIPPED: f"shipped-{shipped_stamp()}", TRAINED: trained.id if trained else "", GPT2: "gpt2"}.get(choice, "")
is_lstm = isinstance(model, tg.LanguageModel)
if choice == SHIPPED:
    spec = tg.corpus.SHAKESPEARE
    ui.source_caption(
        spec.title,
        spec.homepage,
        "the shipped model's training text",
        spec.licence,
        f"2-layer character LSTM ({shipped.config.hidden_size} units, {shipped.net.parameter_count():,} weights), "
        "trained on Tiny Shakespeare and shipped with the gallery",
    )
elif choice == TRAINED:
    ui.source_caption(
        ui.escape_markdown(trained.corpus.name),
        "",
        trained.corpus.source,
        "yours",
        ui.escape_markdown(f"{trained.title} in this session"),
    )
elif choice == GPT2:
    ui.source_caption("WebText (OpenAI)", "", "pretrained", "MIT", gpt2_resolved.notice)


# ------------------------------------------------------------------ write
def inert(text: str) -> str:
    """Text as HTML on one line: escaped, line breaks as <br> (a blank line would end the HTML block in Markdown)."""
    return re.sub(r"\r\n|\r|\n", "<br>", html.escape(text))  # a lone \r ends a line in Markdown too


def render_text(prompt: str, continuation: str) -> str:
    """The prompt and the model's continuation (highlighted), as inert HTML that keeps line breaks and spaces."""
    return (
        '<div style="white-space: pre-wrap; font-family: Georgia, serif; font-size: 1.05rem; line-height: 1.5; '
        'padding: 0.8rem 1rem; border: 1px solid #e5e7eb; border-radius: 0.5rem; background: #fafafa">'
        f'<span style="color:#6b7280">{inert(prompt)}</span>'
        f'<span style="background:#eef2ff">{inert(continuation)}</span></div>'
    )


def sampling_controls() -> tuple[tg.SamplingConfig, int]:
    """Temperature, length, top-k, top-p and seed, with one-click style presets."""

    def use_style(name: str) -> None:
        temperature, top_k, top_p = STYLES[name]
        st.session_state["tg_temperature"] = temperature
        st.session_state["tg_top_k"] = top_k
        st.session_state["tg_top_p"] = top_p

    style_columns = st.columns(len(STYLES))
    for column, name in zip(style_columns, STYLES, strict=True):
        column.button(name, key=f"tg_style_{name}", on_click=use_style, args=(name,), width="stretch")
    left, right = st.columns(2)
    temperature = left.slider(
        "Temperature",
        0.1,
        2.0,
        step=0.05,
        key="tg_temperature",
        bind="query-params",
        help="Below 1: safer and more repetitive; above 1: more surprising (and more misspelt).",
    )
    length = right.slider("Length (characters)", 50, 2000, step=50, key="tg_length", bind="query-params")
    left, middle, right = st.columns(3)
    top_k = left.number_input(
        "Top-k (0: off)",
        0,
        500,
        step=1,
        key="tg_top_k",
        bind="query-params",
        help="Only the k most likely tokens can be drawn.",
    )
    top_p = middle.slider(
        "Top-p (nucleus)",
        0.05,
        1.0,
        step=0.05,
        key="tg_top_p",
        bind="query-params",
        help="Only the most likely tokens that together hold this probability can be drawn.",
    )
    seed = right.number_input("Seed", 0, 1_000_000, step=1, key="tg_seed", help="The same seed gives the same text.")
    random = right.checkbox("New text every time", key="tg_random")
    return tg.SamplingConfig(float(temperature), int(top_k), float(top_p), None if random else int(seed)), int(length)


def stream_into(placeholder, prompt: str, pieces) -> tuple[str, float]:
    """Draw the continuation as it comes, up to the requested characters; the text and the seconds it took."""
    text, started, drawn = "", time.perf_counter(), 0.0
    for piece in pieces:
        text += piece
        now = time.perf_counter()
        if now - drawn > 0.05:  # redraw at most 20 times a second
            placeholder.markdown(render_text(prompt, text + "▌"), unsafe_allow_html=True)
            drawn = now
    return text, time.perf_counter() - started


def capped(pieces, characters: int):
    """Stop a token stream once it has produced ``characters`` characters (words and GPT-2 tokens vary in length)."""
    produced = 0
    for piece in pieces:
        yield piece
        produced += len(piece)
        if produced >= characters:
            return


def render_write() -> None:
    if model is None:
        st.info("No model to write with yet: train one in the **Train your own** tab.", icon="✍️")
        return

    def use_prompt(name: str) -> None:
        st.session_state[PROMPT_KEY] = PROMPTS[name]
        st.session_state.pop(OUTPUT_KEY, None)

    def append(text: str) -> None:
        st.session_state[PROMPT_KEY] = st.session_state.get(PROMPT_KEY, "") + text

    def keep(output: dict[str, Any]) -> None:
        st.session_state[PROMPT_KEY] = st.session_state.get(PROMPT_KEY, "") + output["text"]
        st.session_state.pop(OUTPUT_KEY, None)

    st.caption("Start from a preset, or type your own opening:")
    columns = st.columns(len(PROMPTS))
    for column, name in zip(columns, PROMPTS, strict=True):
        column.button(name, key=f"tg_prompt_{name}", on_click=use_prompt, args=(name,), width="stretch")
    prompt = st.text_area(
        "Your text (the model continues it)",
        key=PROMPT_KEY,
        height=140,
        help="An empty text is fine: the model starts a new line of its own.",
    )
    if len(prompt) > PROMPT_READ_CHARS:
        st.info(
            f"Your text is {len(prompt):,} characters long: the model reads only the last {PROMPT_READ_CHARS:,} "
            "(what it continues from); the rest is left out.",
            icon="✂️",
        )
        prompt = prompt[-PROMPT_READ_CHARS:]
    if is_lstm:
        unknown = model.vocab.unknown(prompt)
        if unknown:
            unit = "characters" if model.vocab.level is tg.Level.CHAR else "words"
            shown = ", ".join(f"“{ui.escape_markdown(u)}”" if u.strip() else repr(u) for u in unknown[:20])
            more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            st.info(
                f"The model never saw these {unit} in training, so it reads them as *unknown*: {shown}{more}. "
                "It still writes on; its guesses right after them are just less informed.",
                icon="🔤",
            )

    st.markdown("**Most likely next words** (click one to add it)")
    try:
        with st.spinner("Reading your text…"):
            words = suggestions(model_id, prompt, model)
    except InputError as exc:
        st.error(str(exc))
        words = []
    if words:
        chips = st.columns(len(words))
        for i, (chip, word) in enumerate(zip(chips, words, strict=True)):
            chip.button(
                f"{word.word} · {ui.percent(word.probability)}",
                key=f"tg_next_{i}",
                on_click=append,
                args=(word.text,),
                width="stretch",
                help=f"Adds {word.text!r}: the model gives this word a probability of {word.probability:.3%}.",
            )
    else:
        st.caption("No whole word stands out here: generate a few characters instead.")

    st.divider()
    config, length = sampling_controls()
    generate = st.button("Generate", type="primary", key="tg_generate")
    placeholder = st.empty()
    if generate:
        try:
            if is_lstm:
                tokens = min(length, tg.MAX_GENERATE)
                pieces = tg.generate(model, prompt, tokens, config)
            else:
                pieces = model.generate(prompt, min(length, tg.MAX_GENERATE), config)
            text, seconds = stream_into(placeholder, prompt, capped(pieces, length))
        except InputError as exc:
            st.error(str(exc))
            return
        st.session_state[OUTPUT_KEY] = {"model": model_id, "prompt": prompt, "text": text, "seconds": seconds}
    output = st.session_state.get(OUTPUT_KEY)
    if output is None or output["model"] != model_id:
        placeholder.caption("Press **Generate**: the continuation appears here as it is written.")
        return
    placeholder.markdown(render_text(output["prompt"], output["text"]), unsafe_allow_html=True)
    speed = len(output["text"]) / output["seconds"] if output["seconds"] > 0 else 0.0
    st.caption(
        f"{len(output['text']):,} characters in {output['seconds']:.1f} s ({speed:,.0f} characters per second). "
        f"Grey: your text; tinted: the model's."
    )
    left, right = st.columns(2)
    left.button(
        "Keep it: add to my text",
        key="tg_keep",
        on_click=keep,
        args=(output,),
        help="Appends the continuation to your text, so the next words and generation carry on from it.",
    )
    right.download_button(
        "Download the text",
        output["prompt"] + output["text"],
        file_name="generated.txt",
        mime="text/plain",
        key="tg_download",
    )


# ------------------------------------------------------------------ train
def training_corpus() -> Any:
    """The corpus picked in the training panel, or None (after saying why)."""
    found, why = shakespeare(settings)
    options = {BUNDLED: "Bundled fables (written for this gallery)", UPLOAD: "Upload a text"}
    if found is not None:
        options[SHAKESPEARE] = "Tiny Shakespeare (1.1 M characters)"
    if st.session_state.get("tg_corpus") not in options:  # Tiny Shakespeare went away with the settings
        st.session_state["tg_corpus"] = BUNDLED
    source = st.radio("Training text", list(options), format_func=options.get, horizontal=True, key="tg_corpus")
    if found is None:
        st.caption(
            f"{why} To train on Tiny Shakespeare, set `GALLERY_DATA_DIR` to a folder holding "
            "`tiny-shakespeare/input.txt`, or allow downloads (unset `GALLERY_OFFLINE`)."
        )
    if source == SHAKESPEARE and found is not None:
        return found
    if source == BUNDLED:
        return bundled_corpus()
    upload = st.file_uploader(
        f"A text to learn from (TXT, Markdown, PDF or Word; up to {MAX_UPLOAD_BYTES // 2**20} MB)",
        type=["txt", "md", "pdf", "docx"],
        key="tg_upload",
    )
    if upload is None:
        st.caption("A few pages of prose, poems, lyrics or code: the more text, the better the model.")
        return None
    seen = (ui.upload_name(upload), upload.size, upload.file_id)
    if st.session_state.get("tg_upload_seen", (None,))[0] != seen:
        try:
            with st.spinner(f"Reading `{ui.upload_name(upload)}`…"):
                read = tg.corpus.from_upload(upload.getvalue(), ui.upload_name(upload)), ""
        except InputError as exc:
            read = None, str(exc)
        st.session_state["tg_upload_seen"] = (seen, *read)
    _, corpus, error = st.session_state["tg_upload_seen"]
    if corpus is None:
        st.error(error)
    return corpus


def hyperparameters(level: tg.Level) -> tg.TrainConfig:
    """The training settings; each level keeps its own widgets, starting from its page default."""
    key = level.value
    columns = st.columns(3)
    columns[0].number_input("Hidden units", 8, 2048, step=32, key=f"tg_hidden_{key}", help="Capacity, and cost.")
    columns[1].number_input("LSTM layers", 1, 6, step=1, key=f"tg_layers_{key}")
    columns[2].number_input(
        "Sequence length",
        4,
        512,
        step=8,
        key=f"tg_seq_{key}",
        help=f"{'Characters' if level is tg.Level.CHAR else 'Words'} read before each weight update.",
    )
    columns = st.columns(3)
    columns[0].number_input("Learning rate", 1e-5, 1.0, step=1e-3, format="%.4f", key=f"tg_lr_{key}")
    columns[1].number_input("Training steps", 10, 20_000, step=50, key=f"tg_steps_{key}")
    columns[2].number_input("Dropout", 0.0, 0.9, step=0.05, key=f"tg_dropout_{key}")
    st.checkbox(
        "Average the weights",
        key=f"tg_average_{key}",
        help="Keep a running average of the weights (about the last 50 steps) and measure it at every "
        "evaluation too; the better of the two is kept. Averaging smooths the noise of the last steps, "
        "which helps most when the model starts to overfit.",
    )
    return settings_config(level)


def render_job(job: TrainingJob) -> None:
    """Progress, live loss curve and the Stop button of a running training (polled once a second)."""
    corpus = job.context[0]
    st.info(
        f"**Training on {ui.escape_markdown(corpus.name)}** ({corpus.characters:,} characters). You can keep writing with "
        "the other models meanwhile; the new one is selected when it is ready. "
        + (
            "It trains on your upload: leave the page and it is cancelled."
            if job.private
            else "It trains on a text every visitor has: it finishes even if you leave, and the page shows it "
            "again when you come back with the same settings."
        ),
        icon="⏳",
    )
    jobs.live_panel(
        job,
        stop_key="tg_stop",
        stop_help="Ends training after the current step and keeps the best weights so far.",
        draw_curve=lambda curve: st.plotly_chart(
            loss_chart(curve, "Loss while it trains"), width="stretch", key="tg_live_curve"
        ),
        waiting="Measuring the loss before training…",
    )


def render_result(result: Trained) -> None:
    """Metrics and loss curve of the model trained in this session."""
    metrics = result.model.info.get("metrics", {})
    selected = (
        "is ready and selected for writing"
        if st.session_state.get(MODEL_KEY) == TRAINED
        else "is ready (trained on this server with these settings; pick it in the sidebar to write with it)"
    )
    st.success(
        f"**{result.title}** {selected} ({metrics.get('stopped_by', 'done')}). Open the **Write** tab to try it.",
        icon="✅",
    )
    tiles = st.columns(4)
    tiles[0].metric("Validation loss", f"{metrics.get('val_loss', float('nan')):.3f}", help="nats per token")
    tiles[1].metric("Validation perplexity", f"{metrics.get('val_perplexity', float('nan')):.2f}")
    kept = " (the averaged weights)" if metrics.get("best_weights") == "weight average" else ""
    tiles[2].metric("Steps", f"{metrics.get('steps', 0):,}", help=f"best at step {metrics.get('best_step', 0):,}{kept}")
    tiles[3].metric("Training time", f"{metrics.get('seconds', 0.0):.1f} s")
    curve = result.model.info.get("curve", [])
    if curve:
        st.plotly_chart(loss_chart(curve, "Training curve"), width="stretch", key="tg_final_curve")
    if kept:
        st.caption(f"The averaged weights did best (at step {metrics.get('best_step', 0):,}): they are the model kept.")


def render_train() -> None:
    st.markdown(
        "Train a fresh LSTM in this session: pick a text and settings, press **Train**, and watch the training and "
        "validation loss fall (the last tenth of the text is held out). Training stops at the step limit, when the "
        f"validation loss stops improving, after {tg.PAGE_DEFAULT.max_seconds:.0f} seconds, or when you press "
        "**Stop**; the best weights are kept. Your text and model stay in this browser session."
    )
    job: TrainingJob | None = st.session_state.get(JOB_KEY)
    running = jobs.running(job)
    corpus = training_corpus()
    if corpus is not None:
        distinct = len(set(corpus.text))
        st.caption(
            f"**{ui.escape_markdown(corpus.name)}**: {corpus.characters:,} characters, {distinct} distinct "
            f"({corpus.source})."
        )
        for note in corpus.notes:
            st.caption(note)
        with st.expander("Preview"):
            st.text(corpus.text[:1500])
    levels = {tg.Level.CHAR: "Characters", tg.Level.WORD: "Words"}
    level = st.radio(
        "Tokens",
        list(levels),
        format_func=levels.get,
        horizontal=True,
        key="tg_level",
        help="Characters work on any text; words give better next-word suggestions but need more text.",
    )
    config = hyperparameters(tg.Level(level))
    if st.button("Train", type="primary", key="tg_train", disabled=running or corpus is None):
        try:
            config = config.validate()
        except InputError as exc:
            st.error(str(exc))
        else:
            job = start_training(st.session_state.get("tg_corpus", BUNDLED), corpus, config)
            st.session_state[JOB_KEY] = job
            st.session_state[MINE_KEY] = True
            if not jobs.running(job):  # the same settings finished a moment ago: that model, at once
                st.rerun()
            running = True
    if running:
        render_job(job)
        return
    problem = jobs.outcome(job)
    if problem:
        st.error(problem)
    result: Trained | None = st.session_state.get(TRAINED_KEY)
    if result is not None:
        render_result(result)


# ------------------------------------------------------------------ compare
def comparison_data(which: str) -> tuple[Any, str, str, str] | None:
    """The LSTM, its n-gram training text, the held-out text and what they are; None (after saying why)."""
    if which == SHIPPED:
        found, why = shakespeare(settings)
        if found is None:
            st.info(
                f"The shipped model is compared on the last 10% of Tiny Shakespeare, the text it never saw. {why} "
                "Set `GALLERY_DATA_DIR` to a folder holding `tiny-shakespeare/input.txt`, or allow downloads; or "
                "train a model in the **Train your own** tab and compare that one on its own held-out text.",
                icon="ℹ️",
            )
            return None
        train_text, held_out = nanogpt_split(found.text)
        return shipped, train_text, held_out, "the last 10% of Tiny Shakespeare, which it never saw"
    train_text, held_out = tg.split_text(trained.corpus.text, trained.config.val_fraction)
    return trained.model, train_text, held_out, f"the last {trained.config.val_fraction:.0%} of {trained.corpus.name}"


def render_compare() -> None:
    st.markdown(
        "Is the LSTM worth it? A **Kneser-Ney n-gram model** only counts which token follows the last few, with "
        "clever smoothing for the ones it never saw: the classic baseline. Both read the same held-out text with "
        "the same vocabulary; lower loss (nats per token) and perplexity are better. Perplexity is how many tokens "
        "the model is, on average, hesitating between."
    )
    lstms = {}
    if trained is not None:
        lstms[TRAINED] = trained.title
    if shipped is not None:
        lstms[SHIPPED] = "Shakespeare LSTM (shipped)"
    if not lstms:
        st.info("No LSTM is available: train one in the **Train your own** tab first.")
        return
    which = st.radio("LSTM", list(lstms), format_func=lstms.get, horizontal=True, key="tg_compare_model")
    data = comparison_data(which)
    if data is None:
        return
    lstm, train_text, held_out, described = data
    level = lstm.vocab.level
    order = st.number_input(
        "n-gram order (tokens of context + 1)",
        2,
        10 if level is tg.Level.CHAR else 5,
        step=1,
        key=f"tg_order_{level.value}",
    )
    lstm_id = f"shipped-{shipped_stamp()}" if which == SHIPPED else trained.id
    prompt = st.session_state.get(PROMPT_KEY, PROMPTS["Romeo"])
    if st.button("Compare", type="primary", key="tg_compare"):
        try:
            with st.spinner(f"Scoring both models on {described}…"):
                st.session_state["tg_comparison"] = (
                    lstm_id,
                    int(order),
                    ngram_comparison(lstm, int(order), train_text, held_out, prompt),
                )
        except InputError as exc:
            st.error(str(exc))
            return
    stored = st.session_state.get("tg_comparison")
    if stored is None or stored[0] != lstm_id or stored[1] != int(order):
        st.caption(f"Press **Compare** to score both on {described}.")
        return
    result = stored[2]
    unit = "character" if level is tg.Level.CHAR else "word"
    rows = []
    for name, key in ((f"LSTM ({lstms[which]})", "lstm"), (f"Kneser-Ney {int(order)}-gram", "ngram")):
        loss, seconds, size = result[key]
        rows.append(
            {
                "model": name,
                f"validation loss (nats per {unit})": loss,
                "perplexity": math.exp(loss),
                f"bits per {unit}": loss / math.log(2),
                "size (weights or n-gram counts)": size,
                "time (s)": seconds,
            }
        )
    table = pd.DataFrame(rows)
    st.dataframe(
        table.style.format(
            {
                f"validation loss (nats per {unit})": "{:.3f}",
                "perplexity": "{:.2f}",
                f"bits per {unit}": "{:.3f}",
                "size (weights or n-gram counts)": "{:,}",
                "time (s)": "{:.2f}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    lstm_ppl, ngram_ppl = table["perplexity"]
    better = "LSTM" if lstm_ppl < ngram_ppl else "n-gram"
    st.markdown(
        f"On {described} ({result['held_out_tokens']:,} {unit}s), the **{better}** is less perplexed: "
        f"{lstm_ppl:.2f} against {ngram_ppl:.2f}."
    )

    st.markdown("#### The same prompt, both models")
    st.caption(
        f"Prompt: the text of the **Write** tab when you pressed Compare ({len(result['prompt']):,} characters); "
        f"temperature 0.8, seed 0, {result['length']} {unit}s each."
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**LSTM**")
        st.markdown(render_text(result["prompt"], result["lstm_sample"]), unsafe_allow_html=True)
    with right:
        st.markdown(f"**Kneser-Ney {int(order)}-gram**")
        st.markdown(render_text(result["prompt"], result["ngram_sample"]), unsafe_allow_html=True)


# ------------------------------------------------------------------ GPT-2
def render_gpt2() -> None:
    st.markdown(
        "GPT-2 is a transformer trained by OpenAI on 40 GB of web text: it knows modern English and facts, where "
        "the LSTM only knows its one corpus. DistilGPT2 (82 M weights) is tried first, then GPT-2 small (124 M)."
    )
    if gpt2_resolved is None:
        st.info(
            "GPT-2 is fetched from the Hugging Face hub on request (DistilGPT2, about 350 MB, once); after that it "
            "is listed in the model selector.",
            icon="ℹ️",
        )
        st.button(
            "Load GPT-2",
            type="primary",
            key="tg_gpt2_load",
            on_click=lambda: st.session_state.update({GPT2_REQUESTED_KEY: True}),
        )
        return
    if pretrained is None:
        st.info(
            f"**GPT-2 is not available here.** {gpt2_resolved.notice}"
            + (f" Loading failed: {gpt2_error}" if gpt2_error else ""),
            icon="ℹ️",
        )
        st.markdown(
            "To make it available: put a DistilGPT2 folder (its `config.json`, weights and tokenizer files) in "
            "`$GALLERY_MODEL_DIR/distilgpt2` (or GPT-2 small in `$GALLERY_MODEL_DIR/gpt2`), or allow downloads from "
            "the Hugging Face hub (unset `GALLERY_OFFLINE` and `HF_HUB_OFFLINE`). The page then lists it in the "
            "model selector."
        )
        if gpt2_resolved.notes:
            with st.expander("Where it was looked for"):
                for note in gpt2_resolved.notes:
                    st.markdown(f"- {ui.escape_markdown(note)}")
        return
    st.success(
        f"**{pretrained.title}** is available ({gpt2_resolved.kind}): pick it in the sidebar to write with it.",
        icon="✅",
    )


# ------------------------------------------------------------------ model card
def render_card() -> None:
    if choice == GPT2:
        st.markdown(
            f"### {pretrained.title}\n\nA pretrained transformer from the Hugging Face hub, used as published "
            f"({gpt2_resolved.kind}: `{gpt2_resolved.path}`). See its model card on the hub for its training data "
            "(WebText) and its known biases. Pick an LSTM in the sidebar to see the card of a model this gallery "
            "trained."
        )
        return
    if not is_lstm:
        st.info("No model is loaded: train one in the **Train your own** tab.")
        return
    card = tg.model_card(model)
    ui.model_card(card, file_name=f"model-card-textgen-{choice}.md")
    curve = model.info.get("curve", [])
    if curve:
        st.plotly_chart(loss_chart(curve, "How it learned"), width="stretch", key="tg_card_curve")


TABS = {
    "✍️ Write": render_write,
    TRAIN_TAB: render_train,
    "⚖️ Compare with an n-gram": render_compare,
    "🤖 GPT-2": render_gpt2,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key=TAB_KEY)
