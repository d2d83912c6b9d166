"""Issue 26, untrusted images, video and audio: every attack refused with a clear message or handled harmlessly.

Each attack file is built here, at test time, small on disk and costly to decode: huge dimensions in tiny headers,
modes that take 2 to 16 bytes a pixel (float, int32, RGBA, CMYK, 16-bit, WebP), a TIFF of 160,000 pages, a GIF
of 200,000 frames, 8000×8000 video frames (one container that lies about them), audio with absurd channel counts
and rates. Every call runs in a child process (tests/security/measure.py) and must answer within 30 s with a peak
memory growth under 400 MB.
"""

from __future__ import annotations

import io
import math
import struct
import tempfile
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.security.measure import MEMORY_LIMIT_MB, TIME_LIMIT_S, measure

READ_IMAGE = "engines.core.images:read_image"
DECODE_AUDIO = "engines.speech.audio:decode_audio"
RUN_VIDEO = "tests.security.test_media:run_video"


def _bounded(outcome) -> None:
    assert outcome.kind in ("ok", "refused"), str(outcome)
    assert outcome.seconds < TIME_LIMIT_S, str(outcome)
    assert outcome.growth_mb < MEMORY_LIMIT_MB, str(outcome)


def _refused(outcome, *words: str) -> None:
    _bounded(outcome)
    assert outcome.kind == "refused", str(outcome)
    for word in words:
        assert word in outcome.message, str(outcome)


# --- image builders ----------------------------------------------------------------------------------------------


def _zeros_deflated(size: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = bytes(min(size, 2**20))
    parts = [packer.compress(chunk[: min(len(chunk), size - done)]) for done in range(0, size, len(chunk))]
    return b"".join([*parts, packer.flush()])


def tiff(
    width: int,
    height: int,
    *,
    samples: int = 1,
    bits: int = 8,
    sample_format: int = 1,
    photometric: int = 1,
    extra_samples: int | None = None,
    pages: int = 1,
    tile: tuple[int, int] | None = None,
) -> bytes:
    """A little-endian deflate TIFF of zeros: every strip and every page points at one shared copy of the data."""
    row_bytes = width * samples * bits // 8
    rows = min(height, max(1, 2**22 // max(1, row_bytes)))
    data = _zeros_deflated(rows * row_bytes)
    strips = math.ceil(height / rows)
    blob = bytearray(b"II*\x00\x00\x00\x00\x00")

    def put(payload: bytes) -> int:
        blob.extend(payload + b"\x00" * (len(payload) % 2))
        return len(blob) - len(payload) - len(payload) % 2

    at_data = put(data)
    at_bits = put(struct.pack(f"<{samples}H", *[bits] * samples)) if samples > 2 else None
    at_format = put(struct.pack(f"<{samples}H", *[sample_format] * samples)) if samples > 2 else None
    at_offsets = put(struct.pack(f"<{strips}I", *[at_data] * strips)) if strips > 1 else None
    at_counts = put(struct.pack(f"<{strips}I", *[len(data)] * strips)) if strips > 1 else None

    def short(tag: int, values: list[int], offset: int | None) -> bytes:
        if offset is not None:
            return struct.pack("<HHII", tag, 3, len(values), offset)
        return struct.pack("<HHI", tag, 3, len(values)) + struct.pack(f"<{len(values)}H", *values).ljust(4, b"\x00")

    def long(tag: int, values: list[int], offset: int | None) -> bytes:
        return struct.pack("<HHII", tag, 4, len(values), offset if offset is not None else values[0])

    entries = [
        long(256, [width], None),
        long(257, [height], None),
        short(258, [bits] * samples, at_bits),
        short(259, [8], None),
        short(262, [photometric], None),
        long(273, [at_data] * strips, at_offsets),
        short(277, [samples], None),
        long(278, [rows], None),
        long(279, [len(data)] * strips, at_counts),
        short(284, [1], None),
    ]
    if tile:
        entries += [long(322, [tile[0]], None), long(323, [tile[1]], None)]
    if extra_samples is not None:
        entries.append(short(338, [extra_samples], None))
    entries.append(short(339, [sample_format] * samples, at_format))
    body = struct.pack("<H", len(entries)) + b"".join(entries)
    first = len(blob)
    size = len(body) + 4
    ifds = [body + struct.pack("<I", first + (i + 1) * size if i + 1 < pages else 0) for i in range(pages)]
    blob[4:8] = struct.pack("<I", first)
    return bytes(blob) + b"".join(ifds)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2, rows: bool = True, before=b"") -> bytes:
    """A PNG of zeros (``rows=False``: the header alone, a lie about the size); ``before``: chunks ahead of IDAT."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = b""
    if rows:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
        idat = _chunk(b"IDAT", _zeros_deflated(height * (1 + math.ceil(width * channels * bit_depth / 8))))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + before + idat + _chunk(b"IEND", b"")


def bmp(width: int, height: int, bits: int = 32) -> bytes:
    """A BMP header with no pixels after it."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


def gif(width: int = 1, height: int = 1, frames: int = 1) -> bytes:
    """A GIF of ``frames`` one-pixel frames on a ``width``×``height`` screen (15 bytes a frame)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame * frames + b"\x3b"


def webp_header(width: int, height: int) -> bytes:
    """A lossless WebP header declaring a size, with no image data."""
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + bytes(16)
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBPVP8L" + struct.pack("<I", len(payload)) + payload


def progressive_jpeg_header(width: int, height: int) -> bytes:
    """SOI, a progressive SOF2 (three components, no subsampling) and a scan header: what Pillow opens."""
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x00\x03\x00" + b"\x00\x3f\x00"
    return b"\xff\xd8" + sof + sos + bytes(64) + b"\xff\xd9"


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


# --- images: refused before decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "words"),
    [
        (lambda: tiff(10_000, 10_000, bits=32, sample_format=3), "float.tif", ["32-bit floating-point", "MB"]),
        (lambda: tiff(10_000, 10_000, bits=32, sample_format=2), "int32.tif", ["32-bit integer", "MB"]),
        (lambda: tiff(9_000, 9_000, samples=4, photometric=2, extra_samples=2), "rgba.tif", ["RGBA", "MB"]),
        (lambda: tiff(9_000, 9_000, samples=4, photometric=5), "cmyk.tif", ["CMYK", "MB"]),
        (lambda: tiff(512, 512, tile=(65_535, 65_535)), "tile.tif", ["MB of memory"]),
        (lambda: png(9_000, 9_000, color_type=6, rows=False), "rgba.png", ["MB of memory"]),
        (lambda: png(9_500, 9_500, color_type=6), "rgba-real.png", ["MB of memory"]),
        (lambda: png(60_000, 60_000, rows=False), "huge.png", ["pixels"]),
        (lambda: bmp(9_000, 9_000), "huge.bmp", ["MB of memory"]),
        (lambda: gif(65_535, 65_535), "huge.gif", ["pixels"]),
        (lambda: webp_header(16_383, 16_383), "huge.webp", ["pixels"]),
        (lambda: webp_header(6_000, 6_000), "big.webp", []),
        (lambda: progressive_jpeg_header(8_000, 8_000), "progressive.jpg", ["MB of memory"]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_costly_images_are_refused_before_decoding(make, name, words):
    data = make()
    assert len(data) < 25 * 2**20
    outcome = measure(READ_IMAGE, data, name, timeout_s=60)
    _refused(outcome, *words)
    if "MB of memory" in outcome.message:
        assert "Export it as an 8-bit PNG or JPEG under 50 megapixels" in outcome.message
    assert outcome.growth_mb < 100, str(outcome)  # refused from the header: nothing was decoded


# --- images: decoded within the budget ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "note"),
    [
        (lambda: tiff(10_000, 10_000, bits=16), "scan16.tif", "Scaled 16-bit values"),
        (lambda: png(10_000, 10_000, bit_depth=16, color_type=0), "scan16.png", "Scaled 16-bit values"),
        (lambda: tiff(7_000, 7_000, bits=32, sample_format=3), "depth.tif", "Scaled floating-point"),
        (lambda: tiff(7_000, 7_000, bits=32, sample_format=2), "counts.tif", "Rounded 32-bit"),
        (lambda: tiff(7_000, 7_000, samples=4, photometric=5), "print.tif", "Converted from CMYK"),
        (lambda: png(7_000, 7_000, color_type=6), "logo.png", "Filled transparent areas"),
        (lambda: png(9_000, 9_000, bit_depth=1, color_type=0), "fax.png", "Converted from 1-bit"),
        (lambda: gif(9_000, 9_000), "screen.gif", "Downscaled"),
        (lambda: tiff(1, 1, pages=160_000), "pages.tif", "first of at least 100 pages"),
        (lambda: gif(frames=200_000), "frames.gif", "first of at least 100 frames"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_large_but_affordable_images_are_read_within_the_limits(make, name, note):
    data = make()
    assert len(data) < 25 * 2**20
    outcome = measure(READ_IMAGE, data, name, timeout_s=60)
    _bounded(outcome)
    assert outcome.kind == "ok" and note in outcome.result, str(outcome)


def test_a_50_megapixel_rgb_png_still_passes():
    outcome = measure(READ_IMAGE, png(8_660, 5_773), "photo.png", timeout_s=60)
    _bounded(outcome)
    assert outcome.kind == "ok" and "Downscaled from 8660×5773 to 1024×683" in outcome.result, str(outcome)


def test_decode_cost_covers_what_a_webp_really_takes():
    picture = Image.new("RGB", (3_000, 3_000), (200, 30, 30))
    outcome = measure(READ_IMAGE, _encode(picture, "WEBP", lossless=True), "big.webp", timeout_s=60)
    _bounded(outcome)
    assert outcome.kind == "ok", str(outcome)
    # decode_cost's model: 4 bytes a pixel in Pillow plus libwebp's three canvases, and the four 1024x1024 RGBA
    # copies made at the end (measured with the child's VmHWM: +159 MB)
    cost = 9e6 * 16 + 4 * 1024 * 1024 * 4
    assert outcome.growth_mb * 2**20 < cost * 1.1, str(outcome)


@pytest.mark.parametrize("kind", [b"zzZz", b"tEXt"], ids=["private", "text"])
def test_a_png_of_two_million_chunks_is_refused_from_its_chunk_headers(kind):
    payload = b"" if kind == b"zzZz" else b"k\x00v"
    chunks = _chunk(kind, payload) * (2_000_000 if not payload else 1_500_000)  # ~25 MB ahead of the pixels
    _refused(measure(READ_IMAGE, png(16, 16, before=chunks), "chunks.png", timeout_s=60), "PNG chunks")


def test_a_png_of_many_small_idat_chunks_still_passes():
    from engines.core.images import read_image

    pixels = zlib.compress(bytes(64 * (1 + 64 * 3)))
    idats = b"".join(_chunk(b"IDAT", pixels[i : i + 1]) for i in range(len(pixels)))
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + header + _chunk(b"zzZz", b"") * 20_000 + idats + _chunk(b"IEND", b"")
    assert read_image(data, "many.png").image.size == (64, 64)


def test_a_tiff_ifd_of_65535_entries_is_bounded():
    base = tiff(8, 8)
    first = struct.unpack("<I", base[4:8])[0]
    count = struct.unpack("<H", base[first : first + 2])[0]
    junk = b"".join(struct.pack("<HHII", 65_000, 4, 1, 7) for _ in range(65_535 - count))
    data = base[:first] + struct.pack("<H", 65_535) + base[first + 2 : first + 2 + 12 * count] + junk + bytes(4)
    _bounded(measure(READ_IMAGE, data, "tags.tif", timeout_s=60))


def test_the_memory_limit_and_deadline_are_parameters():
    from engines.core.errors import InputError
    from engines.core.images import read_image

    with pytest.raises(InputError, match="limit is 1 MB"):
        read_image(png(1_000, 1_000), "x.png", max_decoded_bytes=2**20)
    with pytest.raises(InputError, match="took too long"):
        read_image(png(100, 100), "x.png", max_seconds=-1)


# --- video -------------------------------------------------------------------------------------------------------


class BrightBox:
    """A stand-in detector: nothing found (the attacks are about decoding, not detecting)."""

    name = "nothing"
    labels = ("box",)

    def detect(self, frame, threshold=0.5):
        return []


def run_video(data: bytes, name: str, max_frames: int = 1800, max_seconds: float = 300.0) -> str:
    """annotate_video with a trivial detector in a temporary folder (what measure() calls in its child)."""
    from engines.detect.video import annotate_video

    with tempfile.TemporaryDirectory() as folder:
        summary = annotate_video(
            data, name, BrightBox(), workdir=Path(folder), max_frames=max_frames, max_seconds=max_seconds
        )
        return f"{summary.frames} frames {summary.size} {summary.notes}"


def encoded_video(width: int, height: int, frames: int, *, fmt: str, codec: str, declare=None) -> bytes:
    """Flat grey frames encoded with PyAV; ``declare``: the (width, height) the container claims instead."""
    import av

    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    encoder.time_base = Fraction(1, 10)
    image = av.VideoFrame(width, height, encoder.pix_fmt)
    for plane in image.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    packets = []
    for i in range(frames):
        image.pts = i
        packets += encoder.encode(image)
    packets += encoder.encode(None)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height = declare or (width, height)
        stream.pix_fmt = encoder.pix_fmt
        stream.time_base = Fraction(1, 10)
        for i, packet in enumerate(packets):
            packet.stream = stream
            packet.pts = packet.dts = i
            packet.time_base = Fraction(1, 10)
            out.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "codec", "name"), [("avi", "mjpeg", "huge.avi"), ("matroska", "ffv1", "huge.mkv")], ids=["avi", "mkv"]
)
def test_8000_pixel_frames_are_refused_before_decoding(fmt, codec, name):
    data = encoded_video(8_000, 8_000, 2, fmt=fmt, codec=codec)
    assert len(data) < 25 * 2**20
    _refused(measure(RUN_VIDEO, data, name, timeout_s=60), "8,000×8,000", "4K")


def test_a_container_that_understates_its_frames_is_caught_by_the_decoder():
    data = encoded_video(8_000, 8_000, 2, fmt="matroska", codec="mjpeg", declare=(320, 240))
    outcome = measure(RUN_VIDEO, data, "liar.mkv", timeout_s=60)
    _refused(outcome)
    assert outcome.growth_mb < 150, str(outcome)


def test_many_frames_stop_at_the_frame_cap():
    data = encoded_video(32, 32, 3_000, fmt="matroska", codec="ffv1")
    outcome = measure(RUN_VIDEO, data, "long.mkv", 1_800, timeout_s=120)
    _bounded(outcome)
    assert outcome.kind == "ok" and "1800 frames" in outcome.result and "first 1,800" in outcome.result


def test_processing_stops_at_the_time_limit():
    data = encoded_video(32, 32, 300, fmt="matroska", codec="ffv1")
    outcome = measure(RUN_VIDEO, data, "slow.mkv", 1_800, 0.0, timeout_s=60)
    _bounded(outcome)
    assert outcome.kind == "ok" and "1 frames" in outcome.result and "seconds of work" in outcome.result


# --- audio -------------------------------------------------------------------------------------------------------


def wav(channels: int = 1, rate: int = 16_000, bits: int = 16, data: bytes = b"\x00" * 3200) -> bytes:
    """A PCM WAV header with whatever it claims, and ``data``."""
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * align) & 0xFFFFFFFF, align & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (wav(channels=40, data=bytes(40 * 2 * 1600)), ["40 audio channels", "mono or stereo"]),
        (wav(channels=512, data=bytes(512 * 2 * 160)), []),
        (wav(channels=65_535, data=bytes(2**20)), []),
        (wav(rate=1, bits=8, data=bytes(2**20)), ["1 Hz"]),
        (wav(rate=0xFFFFFFFF), []),
        (wav(rate=5_000_000, data=bytes(2**20)), []),
    ],
    ids=["40-channels", "512-channels", "65535-channels", "1-hz", "4-ghz", "5-mhz"],
)
def test_absurd_audio_formats_are_refused(data, words):
    _refused(measure(DECODE_AUDIO, data, "attack.wav", timeout_s=60), *words)


def test_a_long_recording_is_cut_at_ten_minutes_within_the_limits():
    data = wav(rate=8_000, bits=8, data=bytes(24 * 2**20))  # 52 minutes
    outcome = measure(DECODE_AUDIO, data, "long.wav", timeout_s=60)
    _bounded(outcome)
    assert outcome.kind == "ok" and "first 10 minutes" in outcome.result, str(outcome)


def test_a_recording_with_a_huge_video_track_is_bounded():
    import av

    video = encoded_video(8_000, 8_000, 1, fmt="matroska", codec="mjpeg")
    buffer = io.BytesIO()
    with av.open(io.BytesIO(video)) as source, av.open(buffer, "w", format="matroska") as out:
        copy = out.add_stream_from_template(source.streams.video[0])
        sound = out.add_stream("pcm_s16le", rate=16_000, layout="mono")
        for packet in source.demux(source.streams.video[0]):
            if packet.size:
                packet.stream = copy
                out.mux(packet)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 16_000), np.int16), format="s16", layout="mono")
        samples.sample_rate = 16_000
        for packet in sound.encode(samples) + sound.encode(None):
            out.mux(packet)
    outcome = measure(DECODE_AUDIO, buffer.getvalue(), "clip.webm", timeout_s=60)
    _bounded(outcome)
    assert outcome.growth_mb < 150, str(outcome)


def test_audio_limits_are_sane():
    from engines.speech import audio

    assert audio.MAX_CHANNELS >= 8 and audio.MIN_RATE <= 8_000 and audio.MAX_RATE >= 192_000
    assert audio.MAX_FRAME_BYTES <= 256 * 2**20


# --- images in the sandbox ---------------------------------------------------------------------------------------


def test_the_isolated_read_gives_what_read_image_gives():
    from engines.core.images import read_image, read_image_isolated

    data = png(3_000, 2_000, color_type=6)
    isolated, direct = read_image_isolated(data, "logo.png"), read_image(data, "logo.png")
    assert isolated.image.tobytes() == direct.image.tobytes() and isolated.image.size == (1024, 683)
    assert (isolated.notes, isolated.original_size, isolated.original_mode, isolated.format) == (
        direct.notes,
        direct.original_size,
        direct.original_mode,
        direct.format,
    )


def test_the_isolated_read_caps_what_the_checks_let_through():
    from engines.core.errors import InputError
    from engines.core.images import read_image_isolated

    data = tiff(7_000, 7_000, bits=32, sample_format=3)  # 196 MB decoded: within the checks, over a 64 MB cap
    with pytest.raises(InputError, match=r"ran out of memory|needs more memory than the gallery allows"):
        read_image_isolated(data, "depth.tif", memory_mb=64)
    with pytest.raises(InputError, match="limit is 256 MB"):
        read_image_isolated(tiff(10_000, 10_000, bits=32, sample_format=3), "float.tif")


def test_audio_decoding_stops_at_its_deadline_and_bounds_each_frame(monkeypatch):
    from engines.core.errors import InputError
    from engines.speech import audio

    data = wav(rate=8_000, data=bytes(8_000 * 2 * 30))  # 30 seconds
    monkeypatch.setattr(audio, "MAX_DECODE_SECONDS", -1.0)
    with pytest.raises(InputError, match="took longer than -1 seconds to decode"):
        audio.decode_audio(data, "stuck.wav")
    calls = iter(range(10**6))
    monkeypatch.setattr(audio, "MAX_DECODE_SECONDS", 20.0)
    monkeypatch.setattr(audio.time, "monotonic", lambda: 0.0 if next(calls) < 30 else 1e9)  # late after 30 checks
    cut = audio.decode_audio(data, "slow.wav")
    assert any("were decoded (the file is slow)" in note for note in cut.notes), cut.notes
    assert 0 < cut.seconds < 30
    monkeypatch.undo()
    monkeypatch.setattr(audio, "MAX_FRAME_BYTES", 1_000)
    with pytest.raises(InputError, match="holds a frame of"):
        audio.decode_audio(data, "frames.wav")
