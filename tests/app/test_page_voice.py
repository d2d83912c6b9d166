"""AppTest of the voice-to-text page, with streamlit-webrtc's component replaced.

The fake component records its arguments and, like the real audio sink, hands ``av.AudioFrame``s (48 kHz
stereo, 20 ms, as browsers send them) to the page's sink; the page's LiveTranscriber recognises them in its
worker thread with the real PocketSphinx. Translation runs a tiny random seq2seq model where an opus-mt
model would be (its output is gibberish; what is tested is that the page shows and exports it).
"""

from __future__ import annotations

import io
import time
import types
import wave

import av
import numpy as np
import pytest

from app_pages import webrtc as rtc
from engines.registry import ROOT
from tests.app.helpers import metric, open_page, open_tab, texts
from tests.tiny_speech import make_tiny_translator

pytestmark = pytest.mark.usefixtures("no_hf_cache")

TAB = "vo_tab"
LIVE, FILE, ABOUT = "🎙️ Live microphone", "⏺️ Record or upload", "🪪 About the models"
SAMPLE = ROOT / "data" / "speech_sample.wav"


def sample_samples(trailing_silence_s: float = 1.0) -> np.ndarray:
    with wave.open(str(SAMPLE)) as source:
        speech = np.frombuffer(source.readframes(source.getnframes()), np.int16)
    return np.concatenate([speech, np.zeros(int(16_000 * trailing_silence_s), np.int16)])


def browser_frames(samples16k: np.ndarray) -> list[av.AudioFrame]:
    """16 kHz mono samples as the 20 ms, 48 kHz stereo s16 frames a browser sends."""
    upsampled = np.repeat(samples16k, 3)
    frames = []
    for i in range(0, len(upsampled) - 960 + 1, 960):
        piece = upsampled[i : i + 960]
        frame = av.AudioFrame.from_ndarray(np.repeat(piece, 2)[None, :], format="s16", layout="stereo")
        frame.sample_rate = 48_000
        frames.append(frame)
    return frames


class FakeStream:
    """Stands in for the WebRTC component: records the call, plays audio into the sink, reports playing."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.audio: np.ndarray | None = None
        self.playing = False

    def __call__(self, key, *, ice, audio_sink=None, **kwargs):
        self.calls.append({"key": key, "ice": ice, "audio_sink": audio_sink, **kwargs})
        if audio_sink is not None and self.audio is not None:
            for frame in browser_frames(self.audio):
                audio_sink(frame)
            self.audio = None
        return types.SimpleNamespace(state=types.SimpleNamespace(playing=self.playing))


@pytest.fixture
def stream(monkeypatch) -> FakeStream:
    fake = FakeStream()
    monkeypatch.setattr(rtc, "stream", fake)
    monkeypatch.setenv("GALLERY_ICE_SERVERS", "[]")
    return fake


def wait_for_finals(at, count: int = 1, timeout: float = 30.0):
    live = at.session_state["vo_live"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = live.snapshot()
        if len(snap.finals) >= count:
            return snap
        time.sleep(0.1)
    raise AssertionError(f"no final transcript within {timeout} s: {live.snapshot()}")


def wav_bytes(samples: np.ndarray, rate: int = 16_000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples, np.int16).tobytes())
    return buffer.getvalue()


def test_opens_offline_on_pocketsphinx_and_asks_only_for_the_microphone(stream):
    at = open_page("voice")
    assert any("PocketSphinx" in c and "offline" in c for c in texts(at.caption))
    call = stream.calls[-1]
    assert call["key"] == "vo-webrtc" and call["video"] is False and call["audio"] is True
    assert callable(call["audio_sink"]), "the microphone's frames go to a sink"
    assert call["ice"].rtc_configuration() == {"iceServers": []}
    assert any("Nothing yet" in i for i in texts(at.info))
    assert not at.error


def test_speech_from_the_microphone_becomes_a_live_transcript(stream):
    at = open_page("voice")
    stream.audio, stream.playing = sample_samples(), True
    at.run()
    snap = wait_for_finals(at)
    assert "pizza" in snap.finals[0].text
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "Utterances") == "1"
    assert any(m.startswith("**Transcript**") and "pizza" in m for m in texts(at.markdown))
    assert metric(at, "Final text after").endswith(" s")
    buttons = {b.label: b for b in at.get("download_button")}
    assert "Download the transcript (TXT)" in buttons and "Download subtitles (SRT)" in buttons
    at.button(key="vo_clear").click().run()
    assert at.session_state["vo_live"].snapshot().finals == ()
    assert any("Nothing yet" in i for i in texts(at.info))


def test_stopping_mid_sentence_finalises_it(stream):
    at = open_page("voice")
    stream.audio, stream.playing = sample_samples(trailing_silence_s=0.0)[: 16_000 * 4], True
    at.run()
    live = at.session_state["vo_live"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and live.snapshot().seconds_heard < 3.9:
        time.sleep(0.05)
    time.sleep(1.0)  # the worker catches up with the queued audio
    assert live.snapshot().finals == (), "still talking: nothing final yet"
    stream.playing = False
    at.run()
    assert len(live.snapshot().finals) == 1, "STOP makes the open sentence final"


def test_the_sample_recording_is_transcribed_scored_and_analysed(stream):
    at = open_page("voice")
    open_tab(at, TAB, FILE)
    assert at.selectbox(key="vo_sample").value.startswith("A synthetic voice")
    at.button(key="vo_go").click().run()
    assert not at.exception and not at.error, texts(at.error)
    table = at.dataframe[0].value
    assert "pizza" in " ".join(table["said"])
    assert metric(at, "Word error rate against what was said").endswith("%")
    assert metric(at, "Sentiment (VADER)").split()[0] in {"positive", "negative", "neutral"}
    assert int(metric(at, "Words")) >= 5
    assert at.get("audio"), "the recording can be played back"
    labels = [b.label for b in at.get("download_button")]
    assert "Download subtitles (SRT)" in labels


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.wav", b"this is not audio at all", "could not be read as audio"),
        ("empty.mp3", b"", "is empty"),
        ("quiet.wav", wav_bytes(np.zeros(16_000 * 2, np.int16)), "is silent"),
    ],
)
def test_bad_uploads_get_a_message_and_the_page_keeps_working(stream, name, data, message):
    at = open_page("voice")
    open_tab(at, TAB, FILE)
    at.radio(key="vo_source").set_value("Upload").run()
    at.file_uploader(key="vo_upload").set_value((name, data, "audio/wav")).run()
    at.button(key="vo_go").click().run()
    assert not at.exception
    assert at.error and message in at.error[0].value and name in at.error[0].value
    at.radio(key="vo_source").set_value("Sample").run()
    at.button(key="vo_go").click().run()
    assert not at.error and at.dataframe, "the sample still works afterwards"


def test_stereo_8_khz_audio_is_resampled_with_a_note(stream):
    speech = sample_samples(0.0)[::2]  # 8 kHz (aliasing aside)
    stereo = np.repeat(speech, 2)
    at = open_page("voice")
    open_tab(at, TAB, FILE)
    at.radio(key="vo_source").set_value("Upload").run()
    at.file_uploader(key="vo_upload").set_value(("phone.wav", wav_bytes(stereo, 8_000, 2), "audio/wav")).run()
    at.button(key="vo_go").click().run()
    assert not at.exception and not at.error
    notes = " ".join(texts(at.caption))
    assert "Resampled from 8 kHz" in notes and "Mixed 2 channels" in notes


def test_noise_is_not_an_error_but_says_what_happened(stream):
    noise = (np.random.default_rng(0).normal(0, 0.01, 16_000 * 3) * 32767).astype(np.int16)
    at = open_page("voice")
    open_tab(at, TAB, FILE)
    at.radio(key="vo_source").set_value("Upload").run()
    at.file_uploader(key="vo_upload").set_value(("hiss.wav", wav_bytes(noise), "audio/wav")).run()
    at.button(key="vo_go").click().run()
    assert not at.exception and not at.error
    assert at.warning or at.dataframe, "either no words (a warning) or what the recognizer made of it"


def test_whisper_and_translation_fall_back_offline_with_notices(stream):
    at = open_page("voice")
    at.selectbox(key="vo_recognizer").set_value("whisper").run()
    assert any("Whisper is not available" in w for w in texts(at.warning))
    at.selectbox(key="vo_target").set_value("de").run()
    assert any("No English → German model" in i and "GALLERY_MODEL_DIR" in i for i in texts(at.info))
    assert not at.exception and not at.error


def test_a_local_translation_model_adds_a_column_and_a_subtitle_line(stream, tmp_path, monkeypatch):
    make_tiny_translator(tmp_path / "models" / "opus-mt-en-de")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    at = open_page("voice")
    at.selectbox(key="vo_target").set_value("de").run()
    open_tab(at, TAB, FILE)
    at.button(key="vo_go").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert not at.info, texts(at.info)
    table = at.dataframe[0].value
    assert "German" in table.columns and len(table["German"]) == len(table["said"])
    assert any("Translation:" in c for c in texts(at.caption))


def test_the_about_tab_describes_the_models(stream):
    at = open_page("voice")
    open_tab(at, TAB, ABOUT)
    assert any("PocketSphinx" in m and "Whisper" in m and "Marian" in m for m in texts(at.markdown))


def test_without_pocketsphinx_a_whisper_model_still_transcribes_a_recording(stream, tmp_path, monkeypatch):
    """PocketSphinx has wheels for Python 3.11-3.13 only: elsewhere the page says why, and Whisper (when its
    weights are here) transcribes recordings whole, without PocketSphinx's endpointer."""
    from engines.core import stacks
    from engines.speech import sphinx, vad
    from engines.speech.whisper import WHISPER_TINY_EN
    from tests.tiny_speech import make_tiny_whisper

    found = stacks._found
    monkeypatch.setattr(stacks, "_found", lambda module: module != "pocketsphinx" and found(module))

    def absent(*args, **kwargs):
        raise AssertionError("pocketsphinx is not installed here")

    monkeypatch.setattr(vad.UtteranceSplitter, "__init__", absent)
    monkeypatch.setattr(sphinx.SphinxRecognizer, "__init__", absent)
    make_tiny_whisper(tmp_path / "models" / WHISPER_TINY_EN.name)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    at = open_page("voice")
    assert any("PocketSphinx" in i and "requirements/media.txt" in i for i in texts(at.info)), texts(at.info)
    assert any("Whisper" in c for c in texts(at.caption)), "Whisper is the recognizer now"
    open_tab(at, TAB, FILE)
    at.button(key="vo_go").click().run()
    assert not at.exception and not at.error, texts(at.error)
    # A random tiny Whisper says nothing useful: either its words or "no words", but an answer either way.
    said = any("Transcribed by Whisper" in c for c in texts(at.caption))
    assert said or any("No words were recognised" in w for w in texts(at.warning))
    open_tab(at, TAB, LIVE)
    assert any("live transcript needs PocketSphinx" in c for c in texts(at.caption))
