"""engines.speech: audio decoding and resampling, the VAD, PocketSphinx, live transcription and transcripts.

PocketSphinx runs for real (its wheel carries the English model) on the bundled synthetic sentence
(data/speech_sample.wav), on eSpeak NG's voice when ``espeak-ng`` is installed, and on the real LibriVox and
speech_recognition clips of ../shared/data/speech-samples when present. Everything else is generated: tones,
white-noise bursts (which the VAD takes for speech), files written with ``wave`` and PyAV, and the 48 kHz
stereo ``av.AudioFrame`` objects a browser sends. The live transcriber's worker thread is tested with fake
recognizers (slow, failing, counting) so each case is quick and deterministic.
"""

from __future__ import annotations

import csv
import itertools
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engines.core.errors import InputError
from engines.speech import live as live_module
from engines.speech.audio import (
    AUDIO_EXTENSIONS,
    MAX_SECONDS,
    Audio,
    FrameResampler,
    decode_audio,
    is_silent,
    level_dbfs,
    to_wav,
)
from engines.speech.live import LiveTranscriber
from engines.speech.segments import SAMPLE_RATE, Segment, transcribe
from engines.speech.sphinx import SphinxRecognizer, SphinxStream
from engines.speech.transcript import analyse, keywords, srt_time, to_srt, to_text, word_error_rate
from engines.speech.vad import MAX_UTTERANCE_S, UtteranceSplitter, as_int16
from tests.audio_files import (
    PNG_MAGIC,
    browser_frames,
    encoded,
    noise,
    pcm16,
    peak_hz,
    silence,
    tone,
    upsample,
    video_without_audio,
    wav_bytes,
)
from tests.conftest import ROOT, require_dataset

SR = SAMPLE_RATE
CHUNK = SR // 50  # 20 ms, as a microphone delivers
SAMPLE_WAV = ROOT / "data" / "speech_sample.wav"
SAMPLE_TXT = ROOT / "data" / "speech_sample.txt"
ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")


# --- helpers and fixtures -------------------------------------------------------------------------------------


def chunks(samples: np.ndarray, size: int = CHUNK):
    for i in range(0, len(samples), size):
        yield samples[i : i + size]


def run_stream(stream, samples: np.ndarray, finish: bool = True) -> list[Segment]:
    """Every segment (partials too) of a clip fed in 20 ms chunks."""
    out: list[Segment] = []
    for chunk in chunks(as_int16(samples)):
        out += stream.accept(chunk)
    return out + (stream.finish() if finish else [])


def text_of(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments if s.final)


def wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def feed(live: LiveTranscriber, samples: np.ndarray) -> int:
    """Feed int16 samples in 20 ms chunks as fast as possible; the number of samples fed."""
    samples = as_int16(samples)
    for chunk in chunks(samples):
        live.feed(chunk)
    return len(samples)


@pytest.fixture(scope="module")
def sphinx() -> SphinxRecognizer:
    return SphinxRecognizer()


@pytest.fixture(scope="module")
def sample() -> Audio:
    return decode_audio(SAMPLE_WAV.read_bytes(), SAMPLE_WAV.name)


@pytest.fixture(scope="module")
def reference() -> str:
    return SAMPLE_TXT.read_text().strip()


@pytest.fixture(scope="module")
def streamed_sample(sphinx, sample) -> list[Segment]:
    """The sample sentence through one stream in 20 ms chunks: partials and finals, in order."""
    return run_stream(sphinx.stream(), sample.int16)


class CountingRecognizer:
    """A real recognizer whose streams count the samples they have finished (to wait for the worker)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.language = inner.language
        self.done = 0

    def stream(self):
        inner, owner = self.inner.stream(), self

        class Counting:
            def accept(self, chunk):
                out = inner.accept(chunk)
                owner.done += len(chunk)
                return out

            def finish(self):
                return inner.finish()

        return Counting()


class FakeStream:
    """Records what it is fed (and by which thread); one final segment per chunk, named after the stream."""

    def __init__(self, owner: FakeRecognizer, ident: int) -> None:
        self.owner, self.ident = owner, ident
        self.chunks: list[np.ndarray] = []
        self.threads: list[threading.Thread] = []
        self.busy = self.overlapped = self.finished = False
        self.after_finish = 0

    @property
    def samples(self) -> int:
        return sum(len(c) for c in self.chunks)

    def accept(self, chunk: np.ndarray) -> list[Segment]:
        self.busy = True
        try:
            if self.owner.fail_above is not None and int(np.max(chunk)) > self.owner.fail_above:
                raise RuntimeError("decoder exploded")
            time.sleep(self.owner.delay)
            start = self.samples / SR
            self.chunks.append(np.array(chunk))
            self.threads.append(threading.current_thread())
            self.after_finish += self.finished
            return [Segment(f"{self.ident}:{len(self.chunks)}", start, self.samples / SR, final=self.owner.finals)]
        finally:
            self.busy = False

    def finish(self) -> list[Segment]:
        self.overlapped |= self.busy
        self.finished = True
        return [Segment(f"{len(self.chunks)} chunks", 0.0, self.samples / SR, final=True)]


class FakeRecognizer:
    name = "Fake recognizer"
    language = "en"

    def __init__(self, delay: float = 0.0, fail_above: int | None = None, finals: bool = True) -> None:
        self.delay, self.fail_above, self.finals = delay, fail_above, finals
        self.streams: list[FakeStream] = []

    def stream(self) -> FakeStream:
        stream = FakeStream(self, len(self.streams))
        self.streams.append(stream)
        return stream

    @property
    def accepted(self) -> int:
        return sum(s.samples for s in self.streams)


@pytest.fixture
def short_idle(monkeypatch):
    """Workers of these tests end 1 s after their last audio instead of 30 s."""
    monkeypatch.setattr(live_module, "IDLE_STOP_S", 1.0)


# --- decode_audio ---------------------------------------------------------------------------------------------


def test_a_16_khz_mono_wav_passes_through_untouched():
    x = tone(1.5, amplitude=0.4)
    audio = decode_audio(wav_bytes(x), "clip.wav")
    assert audio.samples.dtype == np.float32 and len(audio.samples) == len(x)
    assert audio.seconds == pytest.approx(1.5)
    assert audio.notes == () and audio.source_rate == SR and audio.source_channels == 1
    np.testing.assert_allclose(audio.samples, pcm16(x) / 32767, atol=1e-4)
    # FFmpeg reads s16 as x / 32768 and Audio.int16 writes x * 32767, truncated: at most one step off
    assert np.max(np.abs(audio.int16.astype(np.int32) - pcm16(x))) <= 1


def test_44_khz_stereo_is_resampled_and_mixed_down_keeping_duration_and_pitch():
    x = tone(3.0, rate=44_100)
    audio = decode_audio(wav_bytes(np.stack([x, x], axis=1), 44_100), "stereo.wav")
    assert audio.source_rate == 44_100 and audio.source_channels == 2
    assert any("Resampled from 44.1 kHz to 16 kHz" in n for n in audio.notes), audio.notes
    assert any("Mixed 2 channels down to mono" in n for n in audio.notes), audio.notes
    assert audio.seconds == pytest.approx(3.0, rel=0.01)
    assert peak_hz(audio.samples) == pytest.approx(440, abs=3)


def test_mixing_identical_stereo_channels_down_keeps_the_level_and_does_not_clip():
    x = tone(1.0, rate=44_100, amplitude=0.9)
    stereo = decode_audio(wav_bytes(np.stack([x, x], axis=1), 44_100), "loud.wav")
    mono = decode_audio(wav_bytes(x, 44_100), "loud.wav")
    assert np.mean(np.abs(stereo.samples) >= 0.999) < 0.001  # no clipped samples
    assert level_dbfs(stereo.samples) == pytest.approx(level_dbfs(mono.samples), abs=0.5)


def test_8_khz_is_resampled_up():
    audio = decode_audio(wav_bytes(tone(2.0, rate=8_000), 8_000), "phone.wav")
    assert audio.notes == ("Resampled from 8 kHz to 16 kHz.",)
    assert audio.seconds == pytest.approx(2.0, rel=0.01) and audio.source_rate == 8_000
    assert peak_hz(audio.samples) == pytest.approx(440, abs=3)


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "name"),
    [("mp3", "mp3", 44_100, "clip.mp3"), ("mp3", "mp3", 16_000, "clip16.mp3"), ("ogg", "libopus", 48_000, "clip.ogg")],
)
def test_compressed_files_decode_to_the_right_duration_and_pitch(fmt, codec, rate, name):
    audio = decode_audio(encoded(tone(2.0, rate=rate), rate, fmt, codec), name)
    assert audio.seconds == pytest.approx(2.0, rel=0.01)
    assert audio.source_rate == rate and audio.source_channels == 1
    assert any("Resampled" in n for n in audio.notes) == (rate != SR), audio.notes
    assert peak_hz(audio.samples) == pytest.approx(440, abs=3)
    assert level_dbfs(audio.samples) == pytest.approx(level_dbfs(tone(2.0)), abs=1.0)


HEADER_ONLY = wav_bytes(tone(1.0))[:44]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "is empty"),
        (b"hello, this is not a sound file at all\n" * 20, "could not be read as audio"),
        (wav_bytes(tone(1.0))[:30], "could not be read as audio"),  # cut inside the header
        (HEADER_ONLY, "holds no sound"),  # a header and no samples
        (np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes(), "could not be read as audio"),
        (PNG_MAGIC, "no audio track"),
    ],
    ids=["empty", "text", "truncated-header", "header-only", "random", "png"],
)
def test_anything_but_audio_is_an_input_error_naming_the_file(data, expected):
    with pytest.raises(InputError) as caught:
        decode_audio(data, "clip.wav")
    assert "`clip.wav`" in str(caught.value) and expected in str(caught.value)


def test_an_unnamed_recording_is_called_the_recording():
    with pytest.raises(InputError, match=r"^The recording is empty"):
        decode_audio(b"", "")


def test_a_wav_cut_in_the_middle_gives_what_is_there():
    data = wav_bytes(tone(1.0))
    audio = decode_audio(data[: 44 + (len(data) - 44) // 2], "half.wav")
    assert audio.seconds == pytest.approx(0.5, abs=0.01)


def test_a_video_without_sound_has_no_audio_track():
    with pytest.raises(InputError, match=r"`silent\.webm` holds no audio track"):
        decode_audio(video_without_audio(), "silent.webm")


def test_too_many_bytes_is_an_input_error_in_megabytes():
    data = wav_bytes(tone(2.0))  # 64 kB
    with pytest.raises(InputError, match=r"`big\.wav` is 0\.1 MB; the limit is 0 MB"):
        decode_audio(data, "big.wav", max_bytes=50_000)
    assert decode_audio(data, "big.wav", max_bytes=len(data)).seconds == pytest.approx(2.0)


def test_a_long_file_is_cut_at_max_seconds_with_a_note():
    x = np.concatenate([tone(2.0), noise(3.0)])
    audio = decode_audio(wav_bytes(x), "long.wav", max_seconds=2)
    assert len(audio.samples) == 2 * SR
    assert audio.notes == ("Only the first 2 seconds were transcribed (the file is longer).",)
    assert level_dbfs(audio.samples) == pytest.approx(level_dbfs(tone(2.0)), abs=0.1)  # the start, not the noise
    resampled = decode_audio(wav_bytes(tone(5.0, rate=44_100), 44_100), "long.wav", max_seconds=2)
    assert resampled.seconds == pytest.approx(2.0) and any("Only the first 2 seconds" in n for n in resampled.notes)


def test_a_file_exactly_max_seconds_long_has_no_cut_note():
    audio = decode_audio(wav_bytes(tone(2.0)), "exact.wav", max_seconds=2)
    assert audio.seconds == pytest.approx(2.0)
    assert audio.notes == ()


def test_the_limits_and_extensions():
    assert MAX_SECONDS == 600
    assert {".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".webm"} <= set(AUDIO_EXTENSIONS)
    assert all(e.startswith(".") and e == e.lower() for e in AUDIO_EXTENSIONS)


# --- levels, resampling, WAV out ------------------------------------------------------------------------------


def test_level_dbfs_of_a_full_scale_sine_silence_and_nothing():
    sine = tone(1.0, amplitude=1.0)
    assert level_dbfs(sine) == pytest.approx(-3.01, abs=0.05)
    assert level_dbfs(pcm16(sine)) == pytest.approx(level_dbfs(sine), abs=0.01)
    assert level_dbfs(pcm16(tone(1.0, amplitude=0.1))) == pytest.approx(-23.01, abs=0.05)
    assert level_dbfs(np.zeros(1000)) == -100.0 and level_dbfs(np.zeros(100, np.int16)) == -100.0
    assert level_dbfs(np.zeros(0)) == -100.0
    assert level_dbfs(np.full(10, 1e-9)) == -100.0  # below -100 dB counts as silence


def test_is_silent(sample):
    assert is_silent(Audio(silence(1.0), SR, 1))
    assert is_silent(Audio(noise(1.0, amplitude=0.002), SR, 1))  # about -55 dBFS
    assert not is_silent(sample)


def test_frame_resampler_turns_browser_frames_into_16_khz_mono():
    frames = browser_frames(tone(1.0, rate=48_000))
    assert len(frames) == 50 and frames[0].samples == 960 and frames[0].layout.name == "stereo"
    resampler = FrameResampler()
    pieces = [resampler(frame) for frame in frames]
    out = np.concatenate(pieces)
    assert all(p.dtype == np.int16 for p in pieces)
    assert len(out) == pytest.approx(SR, rel=0.05)
    assert peak_hz(out) == pytest.approx(440, abs=3)
    steady = out[SR // 10 :]  # past the filter's start-up
    assert level_dbfs(steady) == pytest.approx(level_dbfs(tone(1.0)), abs=0.5)
    assert np.max(np.abs(np.diff(steady.astype(np.int32)))) < 3000  # no clicks between frames


def test_to_wav_round_trips_through_decode_audio():
    x = tone(0.75, amplitude=0.3).astype(np.float32)
    data = to_wav(x)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    back = decode_audio(data, "out.wav")
    assert back.notes == () and len(back.samples) == len(x)
    np.testing.assert_allclose(back.samples, x, atol=1e-4)
    assert decode_audio(to_wav(pcm16(x)), "out.wav").samples.tolist() == back.samples.tolist()


# --- the VAD --------------------------------------------------------------------------------------------------


def test_as_int16_scales_clips_and_passes_through():
    floats = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, np.nan], np.float32)
    assert as_int16(floats).tolist() == [-32767, -32767, 0, 16383, 32767, 32767, 0]
    ints = np.array([[1, -2], [300, -32768]], np.int16)
    assert as_int16(ints).dtype == np.int16 and as_int16(ints).tolist() == [1, -2, 300, -32768]
    wide = np.array([-40_000, 40_000, 5], np.int32)
    assert as_int16(wide).dtype == np.int16 and as_int16(wide).tolist() == [-32768, 32767, 5]


def test_two_noise_bursts_are_two_utterances_at_their_times():
    x = np.concatenate([silence(0.5), noise(1.0), silence(1.0), noise(1.0, seed=1), silence(1.0)])
    splitter = UtteranceSplitter()
    utterances, inside = [], []
    for i, chunk in enumerate(chunks(x)):
        utterances += splitter.accept(chunk)
        if i * CHUNK == SR or i * CHUNK == 3 * SR:  # 1.0 s and 3.0 s: the middle of each burst
            inside.append((splitter.in_speech, splitter.open_start, len(splitter.open_samples())))
    utterances += splitter.finish()
    assert len(utterances) == 2
    for utterance, (start, end) in zip(utterances, [(0.5, 1.5), (2.5, 3.5)], strict=True):
        assert utterance.start == pytest.approx(start, abs=0.4) and utterance.end == pytest.approx(end, abs=0.4)
        assert utterance.samples.dtype == np.int16
        assert len(utterance.samples) / SR == pytest.approx(utterance.end - utterance.start, abs=0.05)
    assert inside[0][0] and inside[0][1] == pytest.approx(0.5, abs=0.4) and inside[0][2] > 0
    assert inside[1][0] and inside[1][1] == pytest.approx(2.5, abs=0.4)
    assert not splitter.in_speech and splitter.open_start is None and len(splitter.open_samples()) == 0


def test_finish_closes_an_open_utterance():
    splitter = UtteranceSplitter()
    done = []
    for chunk in chunks(np.concatenate([silence(0.5), noise(1.0)])):
        done += splitter.accept(chunk)
    assert done == [] and splitter.in_speech
    (last,) = splitter.finish()
    assert last.start == pytest.approx(0.5, abs=0.4) and last.end == pytest.approx(1.5, abs=0.1)
    assert not splitter.in_speech and splitter.finish() == []


def test_a_burst_longer_than_the_limit_is_cut_into_pieces():
    assert MAX_UTTERANCE_S == 20.0
    splitter = UtteranceSplitter(max_utterance_s=2)
    pieces = []
    for chunk in chunks(np.concatenate([silence(0.5), noise(5.0)])):
        pieces += splitter.accept(chunk)
    pieces += splitter.finish()
    assert len(pieces) == 3
    assert all(p.end - p.start <= 2.05 for p in pieces)
    assert [p.start for p in pieces[1:]] == pytest.approx([p.end for p in pieces[:-1]])  # back to back
    assert pieces[-1].end == pytest.approx(5.5, abs=0.1)
    assert sum(len(p.samples) for p in pieces) / SR == pytest.approx(5.0, abs=0.4)


def test_silence_is_no_utterance():
    splitter = UtteranceSplitter()
    assert [u for c in chunks(silence(3.0)) for u in splitter.accept(c)] == []
    assert splitter.finish() == [] and not splitter.in_speech


# --- PocketSphinx ---------------------------------------------------------------------------------------------


def test_sphinx_transcribes_the_sample_sentence(sphinx, sample, reference, progress_log):
    segments = transcribe(sphinx, sample.samples, progress=progress_log)
    text = text_of(segments)
    assert "pizza" in text.split()
    assert word_error_rate(reference, text) < 0.6
    assert all(s.final and 0 <= s.start < s.end <= sample.seconds + 0.05 for s in segments)
    progress_log.assert_complete()
    assert progress_log.calls[-1][1] == f"{len(segments)} utterance{'s' if len(segments) != 1 else ''}"


def test_partials_come_before_the_final(streamed_sample, sample):
    partials = [s for s in streamed_sample if not s.final]
    finals = [s for s in streamed_sample if s.final]
    assert len(partials) >= 3 and len(finals) == 1
    assert streamed_sample.index(finals[0]) > streamed_sample.index(partials[0])
    assert all(a.text != b.text for a, b in itertools.pairwise(partials))  # only changes are sent
    assert all(p.start == pytest.approx(finals[0].start) and p.end <= finals[0].end + 0.05 for p in partials)
    assert "pizza" in finals[0].text and finals[0].end <= sample.seconds


def test_two_streams_of_one_recognizer_are_independent(sphinx, sample, streamed_sample):
    other = sample.int16[: int(2.5 * SR)]  # just the start of the sentence: another text
    alone = run_stream(sphinx.stream(), other)
    first, second = sphinx.stream(), sphinx.stream()
    assert isinstance(first, SphinxStream) and first is not second
    got_first, got_second = [], []
    a, b = list(chunks(sample.int16)), list(chunks(other))
    for i in range(max(len(a), len(b))):
        if i < len(a):
            got_first += first.accept(a[i])
        if i < len(b):
            got_second += second.accept(b[i])
    got_second += second.finish()
    got_first += first.finish()
    assert got_first == streamed_sample and got_second == alone
    assert text_of(got_second) and text_of(got_second) != text_of(got_first)


def test_silence_makes_no_segments(sphinx):
    assert transcribe(sphinx, silence(2.0)) == []


@needs_espeak
def test_espeak_speech_is_recognised(sphinx, tmp_path):
    # "one two three four five" (as first planned) comes out as "well you do if we pull out ah i knew it":
    # PocketSphinx's language model needs a sentence, so eSpeak says the bundled one in another voice.
    sentence = "I would like to order a pizza with cheese and a glass of water please."
    out = tmp_path / "espeak.wav"
    subprocess.run([ESPEAK, "-v", "en-us+f2", "-s", "120", "-w", str(out), sentence], check=True, timeout=30)
    audio = decode_audio(out.read_bytes(), out.name)
    assert audio.source_rate == 22_050 and audio.notes == ("Resampled from 22.05 kHz to 16 kHz.",)
    segments = transcribe(sphinx, audio.samples)
    text = text_of(segments)
    assert segments and all(0 <= s.start < s.end <= audio.seconds + 0.05 for s in segments)
    assert word_error_rate(sentence, text) < 0.75, text
    assert {"would", "like"} <= set(text.split()), text


def _speech_rows(shared_data) -> tuple[Path, list[dict]]:
    folder = require_dataset(shared_data, "speech-samples")
    with (folder / "transcripts.csv").open(newline="") as handle:
        return folder, list(csv.DictReader(handle))


@pytest.mark.realdata
def test_librivox_clips_mean_wer_below_one_half(sphinx, shared_data):
    folder, rows = _speech_rows(shared_data)
    rows = [r for r in rows if r["file"].startswith("pocketsphinx-librivox/")]
    assert len(rows) == 5
    rates = []
    for row in rows:
        audio = decode_audio((folder / row["file"]).read_bytes(), row["file"])
        assert audio.seconds == pytest.approx(float(row["duration_s"]), abs=0.02)
        assert audio.source_rate == int(row["sample_rate_hz"]) and audio.notes == ()
        rates.append(word_error_rate(row["transcript"], text_of(transcribe(sphinx, audio.samples))))
    assert np.mean(rates) < 0.5, rates
    assert max(rates) < 0.9, rates


@pytest.fixture(scope="module")
def english_wav(sphinx, shared_data) -> tuple[Audio, str]:
    folder, rows = _speech_rows(shared_data)
    row = next(r for r in rows if r["file"] == "speechrecognition/english.wav")
    audio = decode_audio((folder / row["file"]).read_bytes(), "english.wav")
    return audio, text_of(transcribe(sphinx, audio.samples))


@pytest.mark.realdata
def test_english_wav_is_resampled_and_two_three_recognised(english_wav):
    audio, text = english_wav
    assert audio.source_rate == 44_100 and audio.notes == ("Resampled from 44.1 kHz to 16 kHz.",)
    assert audio.seconds == pytest.approx(2.74, abs=0.02)
    assert "two three" in text, text


@pytest.mark.realdata
def test_live_transcriber_hears_the_sentence_once(sphinx, sample, streamed_sample, short_idle):
    counting = CountingRecognizer(sphinx)
    live = LiveTranscriber(counting)
    assert live.snapshot().level_dbfs == -100.0 and live.snapshot().recognizer == sphinx.name
    x = sample.int16
    fed = feed(live, x[: 3 * SR])  # mid-sentence
    assert live.snapshot().level_dbfs > -60
    fed += feed(live, x[3 * SR :])
    fed += feed(live, silence(1.0))
    assert wait_for(lambda: counting.done == fed), "the worker did not get through the audio"
    snap = live.snapshot()
    expected = [s for s in streamed_sample if s.final]
    assert [s.text for s in snap.finals] == [s.text for s in expected] and "pizza" in snap.finals[0].text
    assert snap.finals[0].start == pytest.approx(expected[0].start) and snap.finals[0].end <= fed / SR
    assert len(snap.delays) == 1 and 0 <= snap.delays[0] < 20
    assert snap.seconds_heard == pytest.approx(sample.seconds + 1.0)
    assert snap.level_dbfs < -99 and snap.partial == "" and snap.dropped_s == 0 and snap.error is None

    live.reset()
    cleared = live.snapshot()
    assert cleared.finals == () and cleared.delays == () and cleared.partial == ""
    assert cleared.seconds_heard == 0 and cleared.level_dbfs == -100 and cleared.dropped_s == 0
    assert cleared.error is None


def test_finish_while_speaking_makes_the_open_utterance_final(sphinx, sample, short_idle):
    counting = CountingRecognizer(sphinx)
    live = LiveTranscriber(counting)
    fed = feed(live, sample.int16[: int(3.5 * SR)])  # stops mid-sentence
    assert wait_for(lambda: counting.done == fed)
    before = live.snapshot()
    assert before.finals == () and before.partial
    live.finish()
    after = live.snapshot()
    assert len(after.finals) == 1 and after.partial == "" and len(after.delays) == 1
    assert {"would", "like"} <= set(after.finals[0].text.split()), after.finals[0].text
    assert after.finals[0].end <= 3.5 + 0.05


def test_feed_frame_takes_the_browsers_48_khz_stereo_frames(sphinx, sample, short_idle):
    counting = CountingRecognizer(sphinx)
    live = LiveTranscriber(counting)
    audio48 = upsample(np.concatenate([sample.samples, silence(1.0)]), SR, 48_000)
    frames = browser_frames(audio48)
    for frame in frames:
        live.feed_frame(frame)
    heard = live.snapshot().seconds_heard
    assert heard == pytest.approx(len(frames) * 0.02, rel=0.01)
    assert wait_for(lambda: counting.done == round(heard * SR))
    snap = live.snapshot()
    assert len(snap.finals) == 1 and "pizza" in snap.finals[0].text.split(), snap.finals


def test_reset_ignores_audio_queued_before_it(short_idle):
    fake = FakeRecognizer(delay=0.02)
    live = LiveTranscriber(fake)
    feed(live, np.full(50 * CHUNK, 500, np.int16))  # 1 s, far faster than the fake keeps up
    live.reset()
    assert live.snapshot().seconds_heard == 0
    feed(live, np.full(5 * CHUNK, 1000, np.int16))
    assert len(fake.streams) == 2
    assert wait_for(lambda: len(fake.streams[1].chunks) == 5, 5)
    old, new = fake.streams
    assert len(old.chunks) < 25  # the few taken before reset(), not the queue
    assert all(np.all(c == 1000) for c in new.chunks)
    assert wait_for(lambda: len(live.snapshot().finals) == 5, 5)
    snap = live.snapshot()
    assert [s.text for s in snap.finals] == [f"1:{i}" for i in range(1, 6)]  # nothing from the old stream
    assert snap.seconds_heard == pytest.approx(0.1)


def test_a_failing_recognizer_is_reported_and_the_stream_goes_on(short_idle):
    fake = FakeRecognizer(fail_above=30_000)
    live = LiveTranscriber(fake)
    live.feed(np.full(CHUNK, 32_000, np.int16))
    assert wait_for(lambda: live.snapshot().error is not None, 5)
    assert live.snapshot().error == "Fake recognizer failed: RuntimeError: decoder exploded"
    live.feed(np.full(CHUNK, 100, np.int16))
    assert wait_for(lambda: len(live.snapshot().finals) == 1, 5)
    snap = live.snapshot()
    assert snap.error is None and snap.finals[0].text == "0:1" and snap.seconds_heard == pytest.approx(0.04)


def test_falling_behind_drops_the_oldest_audio(monkeypatch, short_idle):
    monkeypatch.setattr(live_module, "MAX_BACKLOG_S", 0.5)
    fake = FakeRecognizer(delay=0.05)
    live = LiveTranscriber(fake)
    fed = feed(live, noise(3.0))
    assert wait_for(lambda: fake.accepted + round(live.snapshot().dropped_s * SR) == fed, 10)
    snap = live.snapshot()
    assert snap.dropped_s > 1.5 and snap.seconds_heard == pytest.approx(3.0)
    assert fake.accepted / SR >= 0.45  # the newest half second is always heard
    assert np.array_equal(fake.streams[0].chunks[-1], as_int16(noise(3.0))[-CHUNK:])


def test_the_worker_stops_when_idle_and_starts_again(monkeypatch):
    monkeypatch.setattr(live_module, "IDLE_STOP_S", 0.2)
    fake = FakeRecognizer()
    live = LiveTranscriber(fake)
    live.feed(np.full(CHUNK, 7, np.int16))
    assert wait_for(lambda: fake.accepted == CHUNK, 5)
    first = fake.streams[0].threads[0]
    assert first.name == "live-transcriber" and first is not threading.current_thread()
    first.join(5)
    assert not first.is_alive()
    live.feed(np.full(CHUNK, 8, np.int16))
    assert wait_for(lambda: fake.accepted == 2 * CHUNK, 5)
    second = fake.streams[0].threads[1]
    assert second is not first
    second.join(5)
    assert not second.is_alive()
    assert [s.text for s in live.snapshot().finals] == ["0:1", "0:2"]


def test_empty_feeds_are_ignored(short_idle):
    fake = FakeRecognizer()
    live = LiveTranscriber(fake)
    live.feed(np.zeros(0, np.int16))
    live.feed(np.zeros(0, np.float32))
    time.sleep(0.05)
    assert live.snapshot().seconds_heard == 0 and fake.accepted == 0


def test_finish_includes_the_audio_still_queued(short_idle):
    fake = FakeRecognizer(delay=0.05)
    live = LiveTranscriber(fake)
    feed(live, np.full(10 * CHUNK, 300, np.int16))
    live.finish()
    assert wait_for(lambda: fake.accepted == 10 * CHUNK, 5)
    stream = fake.streams[0]
    assert [s.text for s in live.snapshot().finals][-1] == "10 chunks"
    assert stream.after_finish == 0 and not stream.overlapped


# --- transcripts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [
        (0, "00:00:00,000"),
        (3661.5, "01:01:01,500"),
        (-2.0, "00:00:00,000"),
        (59.9996, "00:01:00,000"),
        (0.0004, "00:00:00,000"),
        (36_000.25, "10:00:00,250"),
    ],
)
def test_srt_time(seconds, stamp):
    assert srt_time(seconds) == stamp


SEGMENTS = [
    Segment("hello there ", 0.0, 1.5),
    Segment("hello th", 1.5, 2.0, final=False),
    Segment("   ", 2.0, 3.0),
    Segment("second", 3.0, 3.0),
]


def test_to_srt_numbers_final_cues_and_adds_translations():
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:01,500\nhello there\n\n2\n00:00:03,000 --> 00:00:03,500\nsecond\n"
    )
    assert to_srt(SEGMENTS, ["hallo", "zweite"]) == (
        "1\n00:00:00,000 --> 00:00:01,500\nhello there\nhallo\n\n2\n00:00:03,000 --> 00:00:03,500\nsecond\nzweite\n"
    )
    assert to_srt(SEGMENTS, ["hallo"]).endswith("\nsecond\n")  # a missing translation: one line
    assert to_srt([]) == "" and to_srt([Segment("x", 0, 1, final=False)]) == ""


def test_to_text_with_and_without_translations():
    assert to_text(SEGMENTS) == "hello there\nsecond\n"
    assert to_text(SEGMENTS, ["hallo", "zweite"], "German") == (
        "hello there\nsecond\n\n--- Translation (German) ---\nhallo\nzweite\n"
    )
    assert to_text(SEGMENTS, ["hallo"]) == "hello there\nsecond\n\n--- Translation ---\nhallo\n"
    assert to_text(SEGMENTS, ["", " "]) == "hello there\nsecond\n"
    assert to_text([]) == "" and to_text([Segment(" ", 0, 1)]) == ""


def test_keywords_count_content_words():
    text = "The pizza and the PIZZA, cheese; an ox is here. Pizza! Cheese's 'cheese' go"
    assert keywords(text) == [("pizza", 3), ("cheese", 2), ("cheese's", 1)]
    assert keywords("the and is was with") == [] and keywords("") == []
    assert keywords("alpha beta gamma delta", top=2) == [("alpha", 1), ("beta", 1)]


@pytest.mark.parametrize(
    ("texts", "label"),
    [
        (["I love this wonderful pizza", "it is great"], "positive"),
        (["This is terrible and I hate it"], "negative"),
        (["The table is brown", "it has four legs"], "neutral"),
    ],
)
def test_analyse_labels_the_sentiment(texts, label):
    segments = [Segment(t, i, i + 1) for i, t in enumerate(texts)]
    segments.append(Segment("awful horrible disgusting" if label == "positive" else "wonderful", 9, 10, final=False))
    result = analyse(segments)
    assert result.label == label
    assert len(result.per_segment) == len(texts) and all(-1 <= s <= 1 for s in result.per_segment)
    if label == "positive":
        assert result.sentiment >= 0.05 and ("pizza", 1) in result.keywords
    elif label == "negative":
        assert result.sentiment <= -0.05 and result.per_segment[0] < 0
    else:
        assert abs(result.sentiment) < 0.05


def test_analyse_counts_every_word():
    assert analyse([Segment("I want a pizza", 0, 1)]).words == 4


def test_analyse_counts_words_of_the_finals_only():
    result = analyse([Segment("hello there world", 0, 1), Segment("more words here", 1, 2, final=False)])
    assert result.words == 3


def test_analyse_of_nothing():
    result = analyse([Segment("  ", 0, 1), Segment("partial words", 1, 2, final=False)])
    assert result.words == 0 and result.sentiment == 0 and result.label == "neutral"
    assert result.per_segment == () and result.keywords == ()


@pytest.mark.parametrize(
    ("reference", "hypothesis", "rate"),
    [
        ("the cat sat down", "the cat sat down", 0.0),
        ("the cat sat down", "the dog sat down", 0.25),
        ("the cat sat down", "the cat sat right down", 0.25),  # one insertion
        ("the cat sat down", "the cat down", 0.25),  # one deletion
        ("the cat sat down", "", 1.0),
        ("a b", "c d e f", 2.0),  # insertions can take it past 1
        ("", "", 0.0),
        ("", "something", 1.0),
        ("  ...  ", "", 0.0),
        ("The Cat, sat: DOWN!", "the cat sat down", 0.0),
        ("don't stop", "dont stop", 0.5),
        ("1, 2, 3", "one two three", 1.0),
    ],
)
def test_word_error_rate(reference, hypothesis, rate):
    assert word_error_rate(reference, hypothesis) == pytest.approx(rate)
