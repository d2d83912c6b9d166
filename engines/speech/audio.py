"""Audio in: uploaded files and the browser's frames, decoded and resampled to 16 kHz mono.

Files are decoded with PyAV (FFmpeg inside the wheel: WAV, MP3, OGG/Opus, FLAC, M4A/AAC, WebM), read from
memory and never written anywhere; decoding stops at ``max_seconds`` (a two-hour file costs no more than
that) and the result says what was cut. Untrusted files are bounded before decoding (issue 26): the channel
count and sample rate are checked (:data:`MAX_CHANNELS`, :data:`MIN_RATE`..:data:`MAX_RATE`), each decoded
frame's size is checked before it is resampled, FFmpeg probes with one thread and refuses video frames
over 4K (a "recording" with a huge video track), and decoding stops after :data:`MAX_DECODE_SECONDS`. The browser's WebRTC frames (48 kHz, often stereo) go through
``FrameResampler``, which keeps the resampler's state between frames so the stream has no clicks.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np

from engines.core.errors import InputError
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.speech.segments import SAMPLE_RATE

MAX_SECONDS = 600.0  # audio transcribed from an upload at most (ten minutes); the rest is left out, with a note
AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".webm")
SILENCE_DBFS = -50.0  # quieter than this over the whole clip counts as silence
MAX_CHANNELS = 32  # more channels than 22.2 surround or third-order ambisonics is not a recording
# Sample rates outside this range are refused (a 1 Hz file is a bomb when resampled to 16 kHz).
MIN_RATE, MAX_RATE = 1_000, 384_000
MAX_FRAME_BYTES = 64 * 2**20  # one decoded frame, resampled to 16 kHz with all its channels, at most
MAX_DECODE_SECONDS = 20.0  # decoding work at most; what was decoded by then is kept, with a note
_PROBE_OPTIONS = {"threads": "1", "max_pixels": str(4096 * 2160)}  # for FFmpeg's probe of every stream in the file


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for a recognizer."""

    samples: np.ndarray  # float32 in [-1, 1], 16 kHz mono
    source_rate: int  # the file's sample rate
    source_channels: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / SAMPLE_RATE

    @property
    def int16(self) -> np.ndarray:
        """The samples as 16-bit integers (what pocketsphinx reads)."""
        from engines.speech.vad import as_int16

        return as_int16(self.samples)


def level_dbfs(samples: np.ndarray) -> float:
    """Loudness of some samples (int16 or float in [-1, 1]) as RMS in dB below full scale; -100 for silence."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0:
        return -100.0
    if np.asarray(samples).dtype == np.int16:
        x = x / 32768.0
    rms = float(np.sqrt(np.mean(np.square(x))))
    return max(-100.0, 20 * np.log10(rms)) if rms > 0 else -100.0


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


def _resampler():
    import av

    return av.AudioResampler(format="fltp", rate=SAMPLE_RATE)  # every channel kept: they are averaged below


def _planes(frames) -> np.ndarray:
    """Planar float frames to mono, averaging the channels.

    FFmpeg's own downmix adds them at -3 dB each, which makes identical channels 3 dB louder and clips loud ones.
    """
    chunks = [frame.to_ndarray().mean(axis=0) for frame in frames]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def _check_format(label: str, rate: int, channels: int) -> None:
    """Refuse channel counts and sample rates no recording has, before anything is decoded."""
    if channels > MAX_CHANNELS:
        raise InputError(
            f"{label} says it has {channels:,} audio channels; the limit is {MAX_CHANNELS}. "
            "Export it as mono or stereo WAV, MP3 or OGG and upload it again."
        )
    if rate and not MIN_RATE <= rate <= MAX_RATE:
        raise InputError(
            f"{label} says its sample rate is {rate:,} Hz; rates from {MIN_RATE:,} to {MAX_RATE:,} Hz are read. "
            "Export it at 16, 44.1 or 48 kHz and upload it again."
        )


def _check_frame(label: str, frame) -> None:
    """One decoded frame: its layout and rate checked again (a stream may change them) and its resampled size bounded."""
    channels = len(frame.layout.channels or ()) or 1
    rate = int(frame.sample_rate or 0)
    _check_format(label, rate, channels)
    resampled = frame.samples * channels * 4 * max(1.0, SAMPLE_RATE / (rate or SAMPLE_RATE))
    if resampled > MAX_FRAME_BYTES:
        raise InputError(
            f"{label} holds a frame of {frame.samples:,} samples × {channels} channels ({resampled / 2**20:,.0f} MB "
            f"resampled); the limit is {MAX_FRAME_BYTES / 2**20:.0f} MB. It may be damaged: export it again."
        )


def decode_audio(
    data: bytes, filename: str, *, max_seconds: float = MAX_SECONDS, max_bytes: int = MAX_UPLOAD_BYTES
) -> Audio:
    """Decode an uploaded or recorded audio file to 16 kHz mono float32.

    Raises:
        InputError: empty, too large, not audio (or damaged), or without a single sample.
    """
    import av

    label = f"`{filename}`" if filename else "The recording"
    if not data:
        raise InputError(f"{label} is empty: record again or upload a WAV, MP3 or OGG file.")
    if len(data) > max_bytes:
        raise InputError(
            f"{label} is {len(data) / 2**20:,.1f} MB; the limit is {max_bytes / 2**20:,.0f} MB. Cut a shorter clip."
        )
    notes: list[str] = []
    deadline = time.monotonic() + MAX_DECODE_SECONDS
    try:
        with av.open(io.BytesIO(data), mode="r", options=_PROBE_OPTIONS, metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                raise InputError(f"{label} holds no audio track: upload a WAV, MP3 or OGG recording.")
            stream = streams[0]
            stream.codec_context.thread_count = 1
            rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            channels = int(getattr(stream.codec_context, "channels", 0) or len(stream.layout.channels or []) or 1)
            _check_format(label, rate, channels)
            resampler, pieces, total = _resampler(), [], 0
            limit = int(max_seconds * SAMPLE_RATE)
            for frame in container.decode(stream):
                if total >= limit:  # a frame beyond the limit: the file is longer than what is kept
                    if frame.samples:
                        notes.append(f"Only the first {_duration(max_seconds)} were transcribed (the file is longer).")
                        break
                    continue
                if time.monotonic() > deadline:
                    if not total:
                        raise InputError(
                            f"{label} took longer than {MAX_DECODE_SECONDS:g} seconds to decode without giving a "
                            "sound. Export it as WAV or MP3 and upload it again."
                        )
                    notes.append(f"Only the first {_duration(total / SAMPLE_RATE)} were decoded (the file is slow).")
                    break
                _check_frame(label, frame)
                frame.pts = None  # the resampler keeps its own clock
                piece = _planes(resampler.resample(frame))
                pieces.append(piece)
                total += len(piece)
            else:
                pieces.append(_planes(resampler.resample(None)))
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, IndexError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{label} could not be read as audio ({type(exc).__name__}); it may be damaged or not a sound file. "
            "Upload a WAV, MP3 or OGG recording."
        ) from exc
    samples = np.concatenate(pieces)[: int(max_seconds * SAMPLE_RATE)] if pieces else np.zeros(0, np.float32)
    if samples.size == 0:
        raise InputError(f"{label} holds no sound (zero samples): record again or upload another file.")
    samples = np.nan_to_num(samples).clip(-1.0, 1.0).astype(np.float32)
    if rate and rate != SAMPLE_RATE:
        notes.append(f"Resampled from {rate / 1000:g} kHz to 16 kHz.")
    if channels > 1:
        notes.append(f"Mixed {channels} channels down to mono.")
    return Audio(samples, rate or SAMPLE_RATE, channels, tuple(notes))


def is_silent(audio: Audio) -> bool:
    """Whether the clip is too quiet to hold speech."""
    return level_dbfs(audio.samples) < SILENCE_DBFS


class FrameResampler:
    """The browser's audio frames (``av.AudioFrame``, any rate and layout) to 16 kHz mono int16, statefully."""

    def __init__(self) -> None:
        import av

        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def __call__(self, frame) -> np.ndarray:
        """The samples of one frame at 16 kHz (a few more or fewer than rate x duration: the filter's delay)."""
        frame.pts = None
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.int16) if out else np.zeros(0, np.int16)


def to_wav(samples: np.ndarray) -> bytes:
    """16 kHz mono samples (float or int16) as WAV bytes (for playback and download)."""
    import wave

    from engines.speech.vad import as_int16

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(as_int16(samples).tobytes())
    return buffer.getvalue()
