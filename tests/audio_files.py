"""Audio for the speech tests, made in memory: tones, noise, WAV/MP3/Ogg bytes, browser frames, a silent video."""

from __future__ import annotations

import io
import wave

import numpy as np

SR = 16_000  # the engine's rate
PNG_MAGIC = b"\x89PNG\r\n\x1a\n" + bytes(100)


def tone(seconds: float, rate: int = SR, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    """A sine, float64 in [-amplitude, amplitude]."""
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def noise(seconds: float, amplitude: float = 0.3, seed: int = 0, rate: int = SR) -> np.ndarray:
    """White noise, float32 (pocketsphinx's VAD takes it for speech)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1.0, 1.0, round(seconds * rate)) * amplitude).astype(np.float32)


def silence(seconds: float, rate: int = SR) -> np.ndarray:
    """Digital silence, float32."""
    return np.zeros(round(seconds * rate), np.float32)


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 (clipped)."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def wav_bytes(samples: np.ndarray, rate: int = SR) -> bytes:
    """A 16-bit PCM WAV; ``samples`` is (n,) for mono or (n, channels), float in [-1, 1]."""
    frames = np.asarray(samples)
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16(frames).astype("<i2").tobytes())
    return buffer.getvalue()


def encoded(samples: np.ndarray, rate: int, fmt: str, codec: str) -> bytes:
    """Mono float samples compressed with PyAV (``("mp3", "mp3")``, ``("ogg", "libopus")``...)."""
    import av

    pcm = pcm16(samples)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        size = stream.codec_context.frame_size or 1024
        for i in range(0, len(pcm), size):
            frame = av.AudioFrame.from_ndarray(pcm[None, i : i + size], format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def video_without_audio(frames: int = 5, size: int = 32) -> bytes:
    """A tiny VP8 WebM with a video track and no audio track."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            picture = np.full((size, size, 3), 40 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def upsample(samples: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Linear interpolation from ``rate`` to ``to`` (good enough to feed a resampler under test)."""
    positions = np.arange(int(len(samples) * to / rate)) * rate / to
    return np.interp(positions, np.arange(len(samples)), np.asarray(samples, np.float64))


def browser_frames(samples: np.ndarray, rate: int = 48_000, size: int = 960) -> list:
    """Float mono samples at ``rate`` as the browser sends them: stereo, packed s16 ``av.AudioFrame`` of 20 ms."""
    import av

    pcm = pcm16(samples)
    frames = []
    for i in range(0, len(pcm) - size + 1, size):
        chunk = pcm[i : i + size]
        packed = np.stack([chunk, chunk], axis=1).reshape(1, -1)  # L R L R ...
        frame = av.AudioFrame.from_ndarray(packed, format="s16", layout="stereo")
        frame.sample_rate = rate
        frames.append(frame)
    return frames


def peak_hz(samples: np.ndarray, rate: int = SR) -> float:
    """The frequency of the strongest FFT bin."""
    x = np.asarray(samples, np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))
