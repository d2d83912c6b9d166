"""engines.speech.whisper and engines.speech.translate with tiny random models saved like real ones.

A 1-layer random Whisper (with a working WhisperProcessor) stands in for whisper-tiny.en / whisper-tiny, and the
tiny random BART of tests.tiny_bart for opus-mt-en-de; both are found through GALLERY_MODEL_DIR with the hub off
and the Hugging Face cache hidden. Their text is gibberish: the tests check shapes, bounds, times and errors.
The audio is generated (white-noise bursts, which pocketsphinx's VAD takes for speech, between silences).
"""

from __future__ import annotations

import csv
import wave
from pathlib import Path

import numpy as np
import pytest

from engines.core.errors import InputError, SourceError
from engines.speech import translate, whisper
from engines.speech.segments import SAMPLE_RATE, Segment
from tests.conftest import require_dataset
from tests.tiny_speech import make_tiny_translator, make_tiny_whisper

pytestmark = pytest.mark.usefixtures("no_hf_cache", "one_torch_thread")

SR = SAMPLE_RATE
CHUNK = SR // 50  # 20 ms, as a microphone delivers


# --- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("whisper-models")
    make_tiny_whisper(root / whisper.WHISPER_TINY_EN.name)
    return root


@pytest.fixture(scope="module")
def multilingual_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("whisper-multi")
    make_tiny_whisper(root / whisper.WHISPER_TINY.name, multilingual=True, seed=1)
    return root


@pytest.fixture(scope="module")
def translator_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("translation-models")
    make_tiny_translator(root / "opus-mt-en-de")
    return root


def _use(monkeypatch, root: Path) -> None:
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(root))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")


@pytest.fixture
def recognizer(whisper_root, monkeypatch) -> whisper.WhisperRecognizer:
    _use(monkeypatch, whisper_root)
    return whisper.load_whisper()


@pytest.fixture
def translator(translator_root, monkeypatch) -> translate.Translator:
    _use(monkeypatch, translator_root)
    return translate.load_translator("de")


def spy_generate(monkeypatch, model) -> list[dict]:
    """Record the keyword arguments and input shapes of every ``model.generate`` call."""
    calls: list[dict] = []
    real = model.generate

    def generate(*args, **kwargs):
        inputs = args[0] if args else kwargs.get("input_features", kwargs.get("input_ids"))
        calls.append({"shape": tuple(inputs.shape), **kwargs})
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "generate", generate)
    return calls


def noise(seconds: float, amplitude: float = 0.3, seed: int = 0) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).standard_normal(int(seconds * SR)) * amplitude, -1, 1)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR))


def as_pcm(audio: np.ndarray) -> np.ndarray:
    return (np.asarray(audio) * 32767).astype(np.int16)


def run_stream(stream, audio: np.ndarray, finish: bool = True) -> list[Segment]:
    pcm = as_pcm(audio)
    segments: list[Segment] = []
    for i in range(0, len(pcm), CHUNK):
        segments += stream.accept(pcm[i : i + CHUNK])
    if finish:
        segments += stream.finish()
    return segments


TWO_BURSTS = np.concatenate([silence(0.5), noise(1.5), silence(1.0), noise(4.5, seed=1), silence(1.0)])


# --- translation ----------------------------------------------------------------------------------------------


def test_targets_have_opus_mt_specs():
    assert len(translate.TARGETS) >= 8 and {"de", "fr", "es", "it", "nl"} <= set(translate.TARGETS)
    for code in translate.TARGETS:
        model = translate.spec(code)
        assert model.name == f"opus-mt-en-{code}" and model.hub_id == f"Helsinki-NLP/opus-mt-en-{code}"
        assert translate.TARGETS[code] in model.title and "untranslated" in model.offline
    assert translate.check_target(" DE ") == "de"


@pytest.mark.parametrize("code", [None, "", "xx", "english", 3, "en"])
def test_unsupported_targets_name_the_supported_ones(code):
    with pytest.raises(InputError, match=r"choose one of de \(German\), fr \(French\)"):
        translate.check_target(code)
    with pytest.raises(InputError):
        translate.load_translator(code)


def test_the_local_translator_is_found(translator):
    assert translator.target == "de" and translator.resolved.kind == "local directory"
    assert "German" in translator.name and "local directory" in translator.notice


def test_a_batch_comes_back_one_string_per_text_blank_for_blank(translator):
    out = translator.translate(["Hello, world.", "", "   \n", "How are you today?", None])
    assert len(out) == 5 and all(isinstance(text, str) for text in out)
    assert out[1] == out[2] == out[4] == ""
    assert out[0] and out[3]  # the random model still says something (seeded, deterministic)
    assert translator.translate([]) == []
    assert translator.translate(["", " "]) == ["", ""]


def test_a_long_text_is_truncated_and_generation_bounded(translator, monkeypatch):
    calls = spy_generate(monkeypatch, translator.model)
    (out,) = translator.translate(["This sentence goes on and on. " * 200])
    assert isinstance(out, str)
    (call,) = calls
    assert call["shape"][1] <= translator.max_input <= 512
    assert 1 <= call["max_new_tokens"] <= min(256, translator.max_new_cap) and call["num_beams"] <= 2


def test_twenty_texts_go_in_batches_of_eight(translator, monkeypatch):
    calls = spy_generate(monkeypatch, translator.model)
    texts = [f"Sentence number {i} is short." for i in range(20)]
    out = translator.translate(texts)
    assert len(out) == 20 and all(isinstance(text, str) for text in out)
    assert [call["shape"][0] for call in calls] == [8, 8, 4]
    assert out[3] == translator.translate([texts[3]])[0]  # batching and padding do not change a result


def test_translate_wants_a_list_of_strings(translator):
    with pytest.raises(InputError, match="list of texts"):
        translator.translate("Hello")
    with pytest.raises(InputError, match="string"):
        translator.translate(["fine", 3])


def test_a_missing_translation_model_says_where_to_put_it(tmp_path, monkeypatch, progress_log):
    _use(monkeypatch, tmp_path)
    with pytest.raises(SourceError) as info:
        translate.load_translator("de", progress=progress_log)
    message = str(info.value)
    assert "opus-mt-en-de" in message and "GALLERY_MODEL_DIR" in message
    assert "save_pretrained" in message and "tokenizer" in message.lower()
    progress_log.assert_complete()


def test_a_folder_with_junk_is_a_source_error(tmp_path, monkeypatch):
    folder = tmp_path / "opus-mt-en-fr"
    folder.mkdir()
    (folder / "config.json").write_text("not json at all")
    _use(monkeypatch, tmp_path)
    with pytest.raises(SourceError, match="does not hold a translation model"):
        translate.load_translator("fr")


# --- Whisper: loading -----------------------------------------------------------------------------------------


def test_whisper_specs_in_order():
    assert [m.name for m in whisper.MODELS] == ["whisper-tiny.en", "whisper-base.en", "whisper-tiny"]
    assert [m.hub_id for m in whisper.MODELS] == [
        "openai/whisper-tiny.en",
        "openai/whisper-base.en",
        "openai/whisper-tiny",
    ]


def test_the_local_whisper_is_found(recognizer):
    assert recognizer.name == "Whisper tiny.en (transformers)" and recognizer.language == "en"
    assert recognizer.resolved.kind == "local directory" and "local directory" in recognizer.notice
    assert callable(recognizer.stream().accept) and callable(recognizer.stream().finish)


def test_no_whisper_anywhere_says_where_to_put_one(tmp_path, monkeypatch, progress_log):
    _use(monkeypatch, tmp_path)
    with pytest.raises(SourceError) as info:
        whisper.load_whisper(progress=progress_log)
    message = str(info.value)
    assert "whisper-tiny.en" in message and "GALLERY_MODEL_DIR" in message and "WhisperProcessor" in message
    progress_log.assert_complete()


def test_a_folder_without_whisper_is_skipped_with_the_reason(tmp_path, monkeypatch):
    (tmp_path / "whisper-tiny.en").mkdir()
    (tmp_path / "whisper-tiny.en" / "config.json").write_text("{broken")
    make_tiny_translator(tmp_path / "whisper-base.en")  # a real model, but not Whisper
    _use(monkeypatch, tmp_path)
    with pytest.raises(SourceError) as info:
        whisper.load_whisper()
    message = str(info.value)
    assert "whisper-tiny.en does not hold a Whisper model" in message
    assert "whisper-base.en" in message.split("Found but not loadable:")[1]


def test_a_multilingual_checkpoint_is_forced_to_transcribe_english(multilingual_root, monkeypatch):
    _use(monkeypatch, multilingual_root)
    recognizer = whisper.load_whisper()  # tiny.en and base.en are absent: the ladder goes on to whisper-tiny
    assert recognizer.name == "Whisper tiny (transformers)" and recognizer.language == "en"
    calls = spy_generate(monkeypatch, recognizer.model)
    assert isinstance(recognizer.transcribe_samples(noise(2.0)), str)
    assert calls[0]["language"] == "en" and calls[0]["task"] == "transcribe"


# --- Whisper: whole recordings ------------------------------------------------------------------------------


def test_int16_and_float32_give_the_same_text(recognizer, monkeypatch):
    calls = spy_generate(monkeypatch, recognizer.model)
    audio = noise(2.0)
    pcm = as_pcm(audio)
    text = recognizer.transcribe_samples(pcm)
    assert isinstance(text, str) and text == text.strip() and text
    assert recognizer.transcribe_samples(pcm.astype(np.float32) / 32768.0) == text
    assert recognizer.transcribe_samples(pcm.reshape(-1, 1)) == text  # a (n, 1) column is mono too
    assert "language" not in calls[0]  # English-only checkpoints refuse a language
    assert calls[0]["shape"] == (1, 80, 3000) and calls[0]["max_new_tokens"] <= 64 - 5  # the decoder's table


def test_no_audio_is_no_text_and_bad_audio_an_input_error(recognizer):
    assert recognizer.transcribe_samples(np.zeros(0, np.int16)) == ""
    with pytest.raises(InputError, match="mono"):
        recognizer.transcribe_samples(np.zeros((SR, 2), np.float32))
    with pytest.raises(InputError, match="numpy array"):
        recognizer.transcribe_samples("audio.wav")


def test_long_audio_is_cut_into_30_s_pieces(recognizer, monkeypatch):
    audio = np.concatenate([noise(25.0), silence(0.5), noise(25.0, seed=2), silence(0.5), noise(14.0, seed=3)])
    pieces = whisper.split_pieces(audio)
    assert len(pieces) == 3 and sum(len(p) for p in pieces) == len(audio)
    assert all(len(p) <= 30 * SR for p in pieces)
    assert abs(len(pieces[0]) / SR - 25.25) < 0.3  # cut in the silence, not at 30 s
    cut = whisper.split_pieces(audio, cuts=[10.0, 20.0, 40.0])
    assert [len(p) / SR for p in cut[:2]] == [20.0, 20.0]  # the last boundary that fits the window
    short = whisper.split_pieces(noise(5.0), window_s=1.5)
    assert sum(len(p) for p in short) == 5 * SR and all(0 < len(p) <= 1.5 * SR for p in short)
    with pytest.raises(InputError, match="at least 1 s"):
        whisper.split_pieces(noise(5.0), window_s=0.5)
    calls = spy_generate(monkeypatch, recognizer.model)
    text = recognizer.transcribe_samples(audio)
    assert isinstance(text, str) and text
    assert [c["shape"][0] for c in calls] == [3]  # one batch of three windows


# --- Whisper: streaming -------------------------------------------------------------------------------------


def test_two_bursts_make_two_final_segments(recognizer):
    segments = run_stream(recognizer.stream(partials=False), TWO_BURSTS)
    assert len(segments) == 2 and all(s.final for s in segments)
    first, second = segments
    assert all(isinstance(s.text, str) and s.text for s in segments)
    assert 0.2 <= first.start < first.end <= 2.5  # noise from 0.5 s to 2.0 s (plus the VAD's tail)
    assert first.end < second.start
    assert 2.7 <= second.start < second.end <= 8.0  # noise from 3.0 s to 7.5 s (the VAD keeps a short tail)


def test_partials_only_when_asked_and_replaced_by_the_final(recognizer):
    segments = run_stream(whisper.WhisperStream(recognizer, partials=True), TWO_BURSTS)
    finals = [s for s in segments if s.final]
    partials = [s for s in segments if not s.final]
    assert len(finals) == 2
    assert len(partials) == 2  # the 4.5 s burst: at 2 s and 4 s of speech; the 1.5 s one never reaches 2 s
    last_final = segments.index(finals[1])
    assert all(segments.index(p) < last_final for p in partials)  # they come before the final they preview
    assert all(finals[0].end <= p.start <= p.end <= finals[1].end + 0.5 for p in partials)
    assert all(isinstance(p.text, str) and p.text for p in partials)
    quiet = run_stream(whisper.WhisperStream(recognizer, partials=False), TWO_BURSTS)
    assert all(s.final for s in quiet) and len(quiet) == 2
    with pytest.raises(InputError, match="partial_every"):
        whisper.WhisperStream(recognizer, partial_every=0)


def test_finish_closes_the_open_utterance(recognizer):
    stream = recognizer.stream(partials=False)
    audio = np.concatenate([silence(0.5), noise(2.0)])
    assert run_stream(stream, audio, finish=False) == []  # still talking
    (last,) = stream.finish()
    assert last.final and last.text and 0.2 <= last.start < last.end <= 2.6
    assert stream.finish() == []


def test_silence_makes_no_segments(recognizer, monkeypatch):
    calls = spy_generate(monkeypatch, recognizer.model)
    stream = recognizer.stream()
    assert run_stream(stream, np.concatenate([silence(2.0), noise(2.0, amplitude=0.0005)])) == []
    assert calls == []  # nothing was even transcribed


def test_float_chunks_work_like_int16(recognizer):
    stream = recognizer.stream(partials=False)
    segments = []
    for i in range(0, len(TWO_BURSTS), CHUNK):
        segments += stream.accept(TWO_BURSTS[i : i + CHUNK].astype(np.float32))
    segments += stream.finish()
    assert [round(s.start, 2) for s in segments] == [
        round(s.start, 2) for s in run_stream(recognizer.stream(partials=False), TWO_BURSTS)
    ]


@pytest.mark.realdata
def test_real_speech_streams_through_the_tiny_model(recognizer, shared_data):
    folder = require_dataset(shared_data, "speech-samples")
    with open(folder / "transcripts.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sample_rate_hz"] == "16000"]
    if not rows:
        pytest.skip("no 16 kHz sample in speech-samples")
    path = folder / rows[0]["file"]
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == SR and wav.getsampwidth() == 2 and wav.getnchannels() == 1
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    stream = recognizer.stream()
    segments = []
    for i in range(0, len(pcm), CHUNK):
        segments += stream.accept(pcm[i : i + CHUNK])
    segments += stream.finish()
    finals = [s for s in segments if s.final]
    assert finals, f"no speech found in {path.name}"
    duration = len(pcm) / SR
    assert all(0 <= s.start < s.end <= duration + 0.1 for s in finals)
