"""Voice to text page: the microphone over WebRTC (live partial and final transcript), a recording or an upload,
translation beside the transcript, sentiment and keywords, TXT and SRT downloads -> engines.speech.

The WebRTC sink hands each audio frame to ``LiveTranscriber.feed_frame`` (cheap: resample and queue); the
transcriber's own worker thread runs the recognizer, and a fragment of this page reads its snapshot twice a
second while the microphone is on. pocketsphinx, av and (for Whisper and translation) torch and transformers
load only when this page is visited.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages import jobs as background
from app_pages import ui
from app_pages import webrtc as rtc
from engines.core import jobs, settings, stacks
from engines.core.errors import InputError, SourceError
from engines.core.hashing import sha256_file
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import ROOT, get_demo
from engines.speech import transcript as tx
from engines.speech.audio import AUDIO_EXTENSIONS, MAX_SECONDS, decode_audio, is_silent
from engines.speech.live import LiveTranscriber
from engines.speech.segments import SAMPLE_RATE, Segment, transcribe
from engines.speech.translate import TARGETS, check_target

DEMO = get_demo("voice")
ui.require_stacks(DEMO)  # PyAV decodes every recording and streamlit-webrtc carries the microphone
TAB_KEY = "vo_tab"
RECOGNIZER_KEY = "vo_recognizer"
TARGET_KEY = "vo_target"
LIVE_KEY = "vo_live"
PLAYING_KEY = "vo_was_playing"
FILE_RESULT = "vo_file"
TRANSLATIONS = "vo_translations"
SPHINX, WHISPER = "sphinx", "whisper"
RECOGNIZER_TITLES = {SPHINX: "PocketSphinx (offline, English)", WHISPER: "Whisper (transformers)"}
NONE = "none"
LIVE_TAB, FILE_TAB, ABOUT_TAB = "🎙️ Live microphone", "⏺️ Record or upload", "🪪 About the models"
SAMPLE = ROOT / "data" / "speech_sample.wav"
SPEECH_DIR = "speech-samples"

ui.page_header(
    DEMO,
    "Speak into your microphone: the audio travels to the server over WebRTC, a voice activity detector cuts it "
    "into utterances, and a speech recognizer turns each into text, with a running guess while you are still "
    "talking. The transcript can be translated as it grows, and is scored for sentiment and keywords. Offline it "
    "runs CMU PocketSphinx, whose model ships inside its wheel; Whisper and the Marian translation models join "
    "when their weights can be loaded. No microphone connection? Record in the browser or upload a file.",
)
# PocketSphinx publishes wheels for Python 3.11-3.13 only: elsewhere Whisper (when its weights are here) transcribes
# recordings and files, and what needs no recognizer stays.
HAS_SPHINX = ui.needs_stack(
    stacks.SPHINX, "The live transcript (and the offline recognizer)", modules=("pocketsphinx",)
)


# ------------------------------------------------------------------ models
@st.cache_resource(max_entries=1, show_spinner=False)
def sphinx_recognizer():
    """PocketSphinx (its decoder takes a second and 80 MB to load)."""
    from engines.speech.sphinx import SphinxRecognizer

    return SphinxRecognizer()


@st.cache_resource(max_entries=1, show_spinner=False)
def whisper_recognizer(settings_key: tuple[str, ...]):
    """Whisper through transformers, or None and why not."""
    try:
        from engines.speech.whisper import load_whisper

        model = load_whisper()
    except SourceError as exc:
        return None, str(exc)
    return model, model.notice


@st.cache_resource(show_spinner=False, max_entries=4)
def translator(code: str, settings_key: tuple[str, ...]):
    """The English -> ``code`` translator, or None and why not."""
    try:
        from engines.speech.translate import load_translator

        model = load_translator(code)
    except SourceError as exc:
        return None, str(exc)
    return model, model.notice


def chosen_recognizer():
    """The recognizer picked in the controls (Whisper falls back to PocketSphinx when it cannot load).

    Without PocketSphinx: Whisper, or ``(None, why not)`` when it cannot load either.
    """
    if not HAS_SPHINX or st.session_state.get(RECOGNIZER_KEY, SPHINX) == WHISPER:
        with st.spinner("Loading Whisper…"):
            model, notice = whisper_recognizer(ui.settings_key())
        if model is not None:
            return model, notice
        if not HAS_SPHINX:
            return None, notice
        st.warning(f"**Whisper is not available here,** so PocketSphinx listens instead. {notice}", icon="📦")
    with st.spinner("Loading PocketSphinx…"):
        return sphinx_recognizer(), "ships inside the pocketsphinx wheel (offline)"


def controls():
    """Recognizer and target language, shared by every tab."""
    left, right = st.columns(2)
    with left:
        offered = list(RECOGNIZER_TITLES) if HAS_SPHINX else [WHISPER]
        st.selectbox("Recognizer", offered, format_func=RECOGNIZER_TITLES.get, key=RECOGNIZER_KEY)
    with right:
        st.selectbox(
            "Translate into",
            [NONE, *TARGETS],
            format_func=lambda c: "no translation" if c == NONE else TARGETS[c],
            key=TARGET_KEY,
            help="Marian (opus-mt) models through transformers, English to each language.",
        )
    recognizer, where = chosen_recognizer()
    target = st.session_state.get(TARGET_KEY, NONE)
    model = None
    if target != NONE:
        try:
            target = check_target(target)
        except InputError as exc:
            st.error(str(exc))
            target = NONE
        else:
            with st.spinner(f"Loading the English → {TARGETS[target]} model…"):
                model, notice = translator(target, ui.settings_key())
            if model is None:
                st.info(
                    f"**No English → {TARGETS[target]} model here, so the transcript stays untranslated.** {notice} "
                    "See the README, *Offline first*, for putting models in the local model directory.",
                    icon="🌐",
                )
    translation = f" · **Translation:** {model.name} ({model.notice})" if model is not None else ""
    if recognizer is None:
        st.caption(
            "**Model:** no speech recognizer on this server: PocketSphinx is not installed and Whisper is not "
            f"available ({where}). Recordings can still be played back; the model table is under 🪪."
        )
    else:
        st.caption(
            f"**Model:** {recognizer.name} · {where}{translation}  \n**Data:** your voice, a recording or a file"
        )
    return recognizer, target, model


def translate_all(model, target: str, texts: list[str]) -> list[str]:
    """Translations of ``texts`` (kept in the session, so each sentence is translated once)."""
    if model is None or not texts:
        return []
    done = st.session_state.setdefault(TRANSLATIONS, {})
    missing = [t for t in dict.fromkeys(texts) if (target, t) not in done]
    if missing:
        for text, out in zip(missing, model.translate(missing), strict=True):
            done[target, text] = out
    return [done[target, t] for t in texts]


def downloads(segments: list[Segment], translations: list[str], target: str, stem: str, key: str) -> None:
    language = TARGETS.get(target, "")
    a, b = st.columns(2)
    a.download_button(
        "Download the transcript (TXT)", tx.to_text(segments, translations, language), file_name=f"{stem}.txt",
        mime="text/plain", key=f"{key}_txt", disabled=not segments,
    )  # fmt: skip
    b.download_button(
        "Download subtitles (SRT)", tx.to_srt(segments, translations), file_name=f"{stem}.srt",
        mime="application/x-subrip", key=f"{key}_srt", disabled=not segments,
    )  # fmt: skip


def transcript_table(segments: list[Segment], translations: list[str], target: str) -> pd.DataFrame:
    rows = []
    for i, segment in enumerate(segments):
        row = {"from": f"{segment.start:.1f} s", "to": f"{segment.end:.1f} s", "said": segment.text}
        if translations:
            row[TARGETS[target]] = translations[i]
        rows.append(row)
    return pd.DataFrame(rows)


def transcribe_audio(recognizer, samples, progress=None) -> list[Segment]:
    """Final segments of a whole clip. Without PocketSphinx (whose endpointer cuts the utterances) Whisper hears
    the clip in 30-second pieces and gives one segment for all of it."""
    if HAS_SPHINX:
        return transcribe(recognizer, samples, progress)
    text = recognizer.transcribe_samples(samples)
    if progress is not None:
        progress(1.0, "transcribed in one piece")
    return [Segment(text, 0.0, len(samples) / SAMPLE_RATE)] if text else []


# ------------------------------------------------------------------ 🎙️ live microphone
def live_transcriber(recognizer) -> LiveTranscriber:
    """This listener's transcriber, kept across reruns (a new one when the recognizer changes)."""
    live = st.session_state.get(LIVE_KEY)
    if live is None or live.recognizer is not recognizer:
        live = st.session_state[LIVE_KEY] = LiveTranscriber(recognizer)
    return live


def render_live(recognizer, target: str, model) -> None:
    if not HAS_SPHINX:  # Whisper streams through PocketSphinx's endpointer too
        st.caption(
            "The live transcript needs PocketSphinx (see above). **⏺️ Record or upload** records in the browser "
            "or reads a file instead."
        )
        return
    live = live_transcriber(recognizer)
    ice = rtc.ice_config()
    if ice.problem:
        st.warning(ice.problem, icon="⚙️")
    mic, panel = st.columns([2, 3])
    with mic:
        st.markdown("Press **START**, allow the microphone and speak; pause briefly between sentences.")
        context = rtc.stream("vo-webrtc", ice=ice, audio_sink=live.feed_frame, video=False, audio=True)
        playing = bool(context is not None and context.state.playing)
        if st.session_state.get(PLAYING_KEY) and not playing:
            live.finish()  # STOP: the sentence being spoken becomes final
        st.session_state[PLAYING_KEY] = playing
        servers = ", ".join(u for s in ice.servers for u in s["urls"]) or "none (direct connections only)"
        st.caption(f"ICE servers from {ice.source}: {servers}.")
        if st.button("Clear the transcript", key="vo_clear"):
            live.reset()
            st.session_state.pop(TRANSLATIONS, None)
        with st.expander("The microphone does not connect?"):
            st.markdown(
                "- The browser must allow the microphone, and the page must be served over https or from "
                "localhost.\n"
                "- On a hosted app (Streamlit Community Cloud) the audio needs a **TURN relay**: see the README, "
                "*Deploy*.\n"
                "- Meanwhile **⏺️ Record or upload** records in the browser with `st.audio_input` or reads a file."
            )
    with panel:
        live_panel(live, playing, target, model)


def live_panel(live: LiveTranscriber, playing: bool, target: str, model) -> None:
    @st.fragment(run_every=0.5 if playing else None)
    def panel() -> None:
        snap = live.snapshot()
        level = max(0.0, min(1.0, (snap.level_dbfs + 60) / 60))
        st.progress(level, text=f"Microphone level: {snap.level_dbfs:.0f} dBFS" if playing else "Microphone off")
        a, b, c = st.columns(3)
        a.metric("Heard", f"{snap.seconds_heard:.0f} s")
        b.metric("Utterances", len(snap.finals))
        c.metric("Final text after", f"{statistics.median(snap.delays):.2f} s" if snap.delays else "–",
                 help="Median time from the end of an utterance reaching the server to its final text.")  # fmt: skip
        if snap.error:
            st.error(snap.error)
        if snap.dropped_s:
            st.warning(f"Recognition fell behind: {snap.dropped_s:.0f} s of audio were skipped.")
        if snap.partial:
            st.markdown(f"🗨️ *{ui.escape_markdown(snap.partial)}…*")
        segments = list(snap.finals)
        if not segments:
            if not snap.partial:
                st.info("Nothing yet: start the microphone and speak. The transcript appears here as you talk.")
            return
        translations = translate_all(model, target, [s.text for s in segments])
        said, translated = st.columns(2) if translations else (st.container(), None)
        said.markdown("**Transcript**  \n" + "  \n".join(ui.escape_markdown(s.text) for s in segments))
        if translated is not None:
            translated.markdown(f"**{TARGETS[target]}**  \n" + "  \n".join(ui.escape_markdown(t) for t in translations))
        downloads(segments, translations, target, "live-transcript", "vo_live")

    panel()


# ------------------------------------------------------------------ ⏺️ record or upload
def speech_samples() -> dict[str, tuple[Path, str]]:
    """One-click samples: the project's synthetic sentence, then the real recordings of the data directory."""
    found = {}
    if SAMPLE.is_file():
        found["A synthetic voice ordering pizza (eSpeak NG, made by the project)"] = (
            SAMPLE,
            SAMPLE.with_suffix(".txt").read_text(encoding="utf-8").strip(),
        )
    folder = settings.data_dir()
    listing = folder / SPEECH_DIR / "transcripts.csv" if folder is not None else None
    if listing is not None and listing.is_file():
        table = pd.read_csv(listing)
        for row in table.itertuples():
            path = folder / SPEECH_DIR / row.file
            if path.is_file():
                found[f"{Path(row.file).name} ({row.duration_s:.0f} s, data directory)"] = (path, str(row.transcript))
    return found


def sample_work(recognizer, path: Path) -> tuple[str, str, Callable[[jobs.Job], tuple]]:
    """Key, title and work of a sample's transcription: one job per sample and recognizer per server.

    The file tab starts it at background priority when it shows the sample, so **Transcribe** finds it done
    (decoding 6 s of speech takes PocketSphinx 6 to 9 s on a busy two-core server); the queue keeps the result
    for an hour for every visitor. VADER, which the result panel uses, is loaded by the job too.
    """

    def work(job: jobs.Job) -> tuple:
        audio = decode_audio(path.read_bytes(), path.name)
        segments = transcribe_audio(recognizer, audio.samples, job.report)
        tx.analyse(segments)  # imports VADER here rather than in the visitor's click
        return audio, segments

    return f"voice/sample/{sha256_file(path)[:16]}/{recognizer.name}", f"Transcribing the sample {path.name}", work


def transcribe_sample(recognizer, path: Path) -> tuple:
    """The sample's audio and segments: from the queue's job, waiting for it (with its progress) when it runs."""
    job = background.light_queue().submit(*sample_work(recognizer, path))
    if not job.done.is_set():
        bar = st.progress(job.fraction, text=job.status_line())
        while not job.done.wait(0.25):
            bar.progress(job.fraction, text=job.status_line())
        bar.empty()
    if job.state != jobs.DONE:
        raise InputError(job.error or f"Transcribing {path.name} was cancelled: press Transcribe again.")
    return job.result


def render_file(recognizer, target: str, model) -> None:
    source = st.radio(
        "Audio", ["Sample", "Record", "Upload"], horizontal=True, key="vo_source", bind="query-params",
        format_func={"Sample": "Sample recording", "Record": "Record in the browser", "Upload": "Upload a file"}.get,
    )  # fmt: skip
    data, name, reference, sample_path = None, "", "", None
    if source == "Sample":
        samples = speech_samples()
        choice = st.selectbox("Sample", list(samples), key="vo_sample", bind="query-params")
        if choice is not None:
            sample_path, reference = samples[choice]
            data, name = sample_path.read_bytes(), sample_path.name
            if sample_path == SAMPLE and HAS_SPHINX and st.session_state.get(RECOGNIZER_KEY, SPHINX) == SPHINX:
                # Ready before Transcribe is pressed; started here, not on arrival, so it never competes with
                # the live microphone's recognizer on the first tab.
                background.warm(*sample_work(recognizer, SAMPLE))
            st.caption(f"What is said: “{reference}”")
    elif source == "Record":
        recording = st.audio_input("Record a few sentences", key="vo_record", sample_rate=16000)
        if recording is not None:
            data, name = recording.getvalue(), "recording.wav"
    else:
        upload = st.file_uploader(
            "A WAV, MP3, OGG, FLAC, M4A or WebM recording", type=[e.lstrip(".") for e in AUDIO_EXTENSIONS],
            key="vo_upload",
            help=f"Up to {MAX_UPLOAD_BYTES // 2**20} MB; the first {MAX_SECONDS / 60:g} minutes are transcribed.",
        )  # fmt: skip
        if upload is not None:
            data, name = upload.getvalue(), ui.upload_name(upload)
    if data is None:
        return
    if recognizer is None:
        st.audio(data)
        st.caption("Transcribing needs a recognizer: PocketSphinx or a Whisper model (see above).")
        return
    if st.button("Transcribe", type="primary", key="vo_go"):
        try:
            if sample_path is not None:  # a sample: its transcription was started when the page opened
                audio, segments = transcribe_sample(recognizer, sample_path)
            else:
                audio = decode_audio(data, name)
                if is_silent(audio):
                    raise InputError(
                        f"`{name}` is silent ({audio.seconds:.1f} s without sound loud enough to be speech): record "
                        "again closer to the microphone, or pick another file."
                    )
                with ui.progress_status(f"Listening to {audio.seconds:.0f} s of audio") as progress:
                    segments = transcribe_audio(recognizer, audio.samples, progress)
            st.session_state[FILE_RESULT] = (name, audio, segments, reference, recognizer.name)
        except InputError as exc:
            st.error(str(exc))
            st.session_state.pop(FILE_RESULT, None)
    result = st.session_state.get(FILE_RESULT)
    if result is not None:
        show_file_result(*result, target=target, model=model)


def show_file_result(name, audio, segments, reference, recognizer_name, *, target, model) -> None:
    from engines.speech.audio import to_wav

    st.audio(to_wav(audio.samples), format="audio/wav")
    for note in audio.notes:
        st.caption(note)
    if not segments:
        st.warning(
            f"No words were recognised in `{name}`: it may be noise, music or another language than English. "
            "Try a clearer recording."
        )
        return
    text = " ".join(s.text for s in segments)
    translations = translate_all(model, target, [s.text for s in segments])
    said, translated = st.columns(2) if translations else (st.container(), None)
    said.markdown(f"**Transcript**  \n{ui.escape_markdown(text)}")
    if translated is not None:
        translated.markdown(f"**{TARGETS[target]}**  \n{ui.escape_markdown(' '.join(translations))}")
    st.dataframe(transcript_table(segments, translations, target), hide_index=True, width="stretch")
    if reference:
        error = tx.word_error_rate(reference, text)
        st.metric("Word error rate against what was said", ui.percent(error, 0),
                  help="Substituted, missing and extra words over the words said (lower is better).")  # fmt: skip
        if "espeak" in name or name == SAMPLE.name:
            st.caption("A synthetic voice: PocketSphinx was trained on people and gets more of a person's words right.")
    analysis = tx.analyse(segments)
    a, b = st.columns([1, 2])
    with a:
        st.metric("Sentiment (VADER)", f"{analysis.label} ({analysis.sentiment:+.2f})")
        st.metric("Words", analysis.words)
    with b:
        if analysis.keywords:
            words = pd.DataFrame(analysis.keywords, columns=["keyword", "count"])
            figure = px.bar(words, x="count", y="keyword", orientation="h", title="Keywords")
            figure.update_layout(
                height=240, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis={"autorange": "reversed"}
            )
            st.plotly_chart(figure, width="stretch", key="vo_keywords")
    downloads(segments, translations, target, Path(name).stem or "transcript", "vo_file")
    st.caption(f"Transcribed by {recognizer_name}.")


# ------------------------------------------------------------------ 🪪 about
ABOUT = """
| model | what it is | trained on | size |
|---|---|---|---|
| **PocketSphinx** (CMU Sphinx 5) | a hidden-Markov-model recognizer with a 3-gram language model and the CMU pronouncing dictionary; streams, and gives partial results | US English read speech | ships inside the `pocketsphinx` wheel (about 40 MB) |
| **Whisper** tiny.en / base.en (Radford et al., 2022) | an encoder-decoder transformer over 30-second log-mel windows | 680,000 hours of web audio | 39M / 74M parameters; loaded from the local model directory, the Hugging Face cache or a download |
| **Marian opus-mt** (Tiedemann & Thottingal, 2020) | one small transformer per language pair, English to each target | OPUS parallel corpora | about 300 MB each; same sources as Whisper |

**How the live transcript works.** The browser sends Opus audio at 48 kHz; the server resamples it to
16 kHz mono. A voice activity detector (WebRTC's, inside pocketsphinx) marks where speech starts and ends,
smoothed over 0.3 s. PocketSphinx decodes while you speak, so a partial transcript appears, and finalises
each utterance when the detector hears it end. Whisper transcribes each utterance once it has ended. The
sentiment score is VADER's (from the sentiment analyzer's engine); keywords are the most frequent content
words.

**Limitations.** PocketSphinx makes many mistakes on casual, accented or noisy speech (its word error rate
on the benchmark's read speech is in the README), and knows English only. Translation sees one utterance at a
time, without the sentences around it. Nothing you say is stored: audio lives in memory for the session.
"""


def render_about(recognizer) -> None:
    st.markdown(ABOUT)
    st.caption(f"In use now: {recognizer.name if recognizer is not None else 'no recognizer (see above)'}.")


# ------------------------------------------------------------------ the page
recognizer, target, model = controls()
ui.stateful_tabs(
    {
        LIVE_TAB: lambda: render_live(recognizer, target, model),
        FILE_TAB: lambda: render_file(recognizer, target, model),
        ABOUT_TAB: lambda: render_about(recognizer),
    },
    key=TAB_KEY,
)
