"""Decode uploaded images safely into small RGB pictures: the one door for image bytes.

:func:`read_image` refuses what it cannot read with an :class:`InputError` that says what
to do, and returns an RGB picture no larger than the working size plus notes, in words, on
what it changed (mode conversions, transparency, downscaling, EXIF rotation, a first frame
taken from an animation). Only the formats in :data:`FORMATS` are ever opened: Pillow
plugins such as EPS run external programs. The image classifier and the object detector
both read uploads through it.

Untrusted files are bounded before anything is decoded (issue 26): the memory a decode will
take is computed from the header (pixels x Pillow's bytes per pixel for the file's mode, plus
the decoder's own buffers: libwebp's canvases, libtiff's strip or tile, libjpeg's coefficients
of a progressive JPEG) and refused over :data:`MAX_DECODED_BYTES`. Conversions (16/32-bit and
float to 8 bits, palettes, CMYK, transparency) run strip by strip while the picture is reduced,
so they never copy the full-size picture. Pages and frames are counted up to :data:`MAX_FRAMES`
and only the first is decoded; the whole read has a deadline (:data:`MAX_SECONDS`).
"""

from __future__ import annotations

import base64
import io
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from engines.core.errors import InputError
from engines.core.uploads import MAGIC, MAX_UPLOAD_BYTES

MAX_PIXELS = 100_000_000  # larger images are refused as decompression bombs; a 50-megapixel photo passes
# Memory one decode may take (the picture in Pillow's layout plus the decoder's buffers): a 50-megapixel RGB PNG
# (200 MB) passes, a 100-megapixel float TIFF (400 MB) does not. The whole app, every visitor together, has ~2.7 GB.
MAX_DECODED_BYTES = 256 * 2**20
SAFE_MEGAPIXELS = 50  # what the refusal suggests: an 8-bit PNG or JPEG this size always fits MAX_DECODED_BYTES
MAX_FRAMES = 100  # pages or frames counted at most (only the first is decoded; a 160k-page TIFF is not walked)
MAX_SECONDS = 20.0  # one read_image call at most, checked between its steps
# Chunks in a PNG at most (walked before Pillow opens it): a 25 MB photo split into 8 KB IDATs has ~3,200, an
# APNG a few per frame. Pillow keeps every private chunk and pays an exception for each unknown one: 2 million
# empty chunks (25 MB) took 10 s and 250 MB.
MAX_PNG_CHUNKS = 65_536
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 1024  # longer side of the picture read_image returns, by default
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # JPEG includes MPO, the variant many phones write
READABLE = "PNG, JPEG, GIF, BMP, WebP or TIFF"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".dib", ".webp", ".tif", ".tiff")
WHITE = (255, 255, 255)
_STRIP_BYTES = 8 * 2**20  # a full-size picture is converted this many bytes of rows at a time, never copied whole
_REDUCING_GAP = 2.0  # as Image.thumbnail: reduce by an integer factor first, at most to twice the final size
# Bytes per pixel in Pillow's memory (RGB is stored as 4 bytes, LA as 4); every mode not named here takes 4.
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transpose that makes the picture upright (as PIL.ImageOps.exif_transpose does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_MODE_NAMES = {
    "1": "1-bit black and white",
    "L": "grayscale",
    "LA": "grayscale with transparency",
    "La": "grayscale with transparency",
    "P": "a colour palette",
    "PA": "a colour palette with transparency",
    "RGBA": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGBX",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "Lab",
    "HSV": "HSV",
    "I": "32-bit integer grayscale",
    "I;16": "16-bit grayscale",
    "I;16L": "16-bit grayscale",
    "I;16B": "16-bit grayscale",
    "I;16N": "16-bit grayscale",
    "F": "32-bit floating-point grayscale",
}
_ANIMATED = {"GIF": "Animated GIF", "WEBP": "Animated WebP", "PNG": "Animated PNG"}


@dataclass(frozen=True)
class LoadedImage:
    """A decoded upload.

    Attributes:
        image: RGB picture whose longer side is at most the requested ``max_side``, upright.
        original_size: (width, height) of the file's picture as a person sees it (after EXIF rotation).
        original_mode: Pillow mode of the file ("RGB", "CMYK", "I;16", "P", ...).
        notes: What was changed, as sentences for the page ("Converted from CMYK to RGB.").
        format: Pillow format name ("PNG", "JPEG", ...).
    """

    image: Image.Image
    original_size: tuple[int, int]
    original_mode: str
    notes: tuple[str, ...]
    format: str = ""


def _label(filename: str) -> str:
    return f"`{filename}`" if filename else "That file"


def _not_an_image(data: bytes, filename: str) -> InputError:
    label = _label(filename)
    brand = data[4:12]
    if brand.startswith(b"ftyp") and brand[4:8] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif", b"avis"):
        kind = "an AVIF image" if brand[4:8] in (b"avif", b"avis") else "a HEIC photo (the iPhone default)"
        return InputError(
            f"{label} is {kind}, which this demo cannot read. Export it as JPEG or PNG "
            "(on an iPhone: Settings → Camera → Formats → Most Compatible) and upload it again."
        )
    for magic, kind in MAGIC.items():
        if data.startswith(magic) and "image" in kind:
            return InputError(
                f"{label} starts like {kind} but is damaged and cannot be read. "
                "Re-save or re-download it and upload it again."
            )
        if data.startswith(magic):
            return InputError(f"{label} is {kind}, not an image. Upload a {READABLE} picture: a photo or a screenshot.")
    return InputError(f"{label} is not an image Pillow can read ({READABLE}). Upload a photo or a screenshot.")


def _damaged(filename: str, kind: str, exc: BaseException) -> InputError:
    what = f"a {kind} image" if kind else "an image"
    return InputError(
        f"{_label(filename)} looks like {what} but is damaged or incomplete ({exc or type(exc).__name__}). "
        "Re-save or re-download it and upload it again."
    )


def _png_chunks(data: bytes, cap: int) -> int:
    """Chunks in a PNG up to IEND, counted from their headers alone, and no more than ``cap + 1``."""
    position, count, size = len(_PNG_SIGNATURE), 0, len(data)
    while position + 8 <= size and count <= cap:
        count += 1
        if data[position + 4 : position + 8] == b"IEND":
            break
        position += 12 + int.from_bytes(data[position : position + 4], "big")
    return count


def _too_many_pixels(filename: str, size: tuple[int, int], max_pixels: int) -> InputError:
    width, height = size
    return InputError(
        f"{_label(filename)} is {width:,}×{height:,} pixels ({width * height / 1e6:,.0f} megapixels); "
        f"the limit is {max_pixels / 1e6:,.0f} megapixels. Resize it (or take a screenshot of it) and upload it again."
    )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 (a malformed EXIF block only loses the rotation, never the picture)
        return 1
    return value if value in _TRANSPOSE else 1


def _rows(image: Image.Image) -> int:
    """Rows per strip so that one strip of the picture, in any mode, is about _STRIP_BYTES."""
    return max(1, _STRIP_BYTES // (image.size[0] * 4))


def _strips(image: Image.Image, rows: int, deadline: float, filename: str):
    """(top, strip) of a loaded picture, ``rows`` at a time: small copies, never the whole picture."""
    width, height = image.size
    for top in range(0, height, rows):
        _check_deadline(deadline, filename)
        yield top, image.crop((0, top, width, min(height, top + rows)))


def _levels(image: Image.Image, deadline: float, filename: str) -> tuple[float, float, str]:
    """The range that 16-bit, 32-bit integer and float grayscale is scaled from, and a note saying which."""
    if image.mode.startswith("I;16"):
        return 0.0, 65535.0, "Scaled 16-bit values to 8 bits."
    low, high, is_float = math.inf, -math.inf, image.mode == "F"
    for _top, strip in _strips(image, _rows(image), deadline, filename):
        pixels = np.asarray(strip)
        finite = pixels[np.isfinite(pixels)] if is_float else pixels
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if low > high:  # nothing finite
        low = high = 0.0
    if is_float and low >= 0.0 and high <= 1.0:
        return 0.0, 1.0, "Scaled floating-point values (0 to 1) to 8 bits."
    if low >= 0.0 and high <= 255.0:  # already on the 8-bit scale (what Pillow itself writes as I or F)
        return 0.0, 255.0, "Rounded 32-bit values to 8 bits."
    if low >= 0.0 and high <= 65535.0:
        return 0.0, 65535.0, "Scaled 16-bit values to 8 bits."
    return low, high, f"Stretched values from {low:g}..{high:g} to 8 bits."


def _to_8bit(image: Image.Image, low: float, high: float) -> Image.Image:
    """16-bit, 32-bit integer or float grayscale (a strip) -> "L", scaled (not clipped) from low..high to 0..255."""
    span = (high - low) or 1.0
    block = np.nan_to_num(np.asarray(image).astype(np.float32), nan=low, posinf=high, neginf=low)
    return Image.fromarray(np.clip(np.rint((block - low) * (255.0 / span)), 0, 255).astype(np.uint8))


def _working_mode(image: Image.Image, levels: tuple[float, float] | None = None) -> Image.Image:
    """Any Pillow mode -> one that resizes well: L, LA, RGB or RGBA (``levels``: the range of I, I;16 and F)."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        if "transparency" in image.info and mode in ("L", "RGB"):
            image = image.convert("RGBA")
        return image
    if mode.startswith("I") or mode == "F":
        return _to_8bit(image, *(levels or (0.0, 255.0)))
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA", "La", "RGBa"):
        has_alpha = mode != "P" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    return image.convert("RGB")


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size Image.thumbnail((max_side, max_side)) gives a picture of ``size``."""
    width, height = size
    if width <= max_side and height <= max_side:
        return size

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    aspect = width / height
    if aspect <= 1:
        return round_aspect(max_side * aspect, key=lambda n: abs(aspect - n / max_side)), max_side
    return max_side, round_aspect(max_side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - max_side / n))


def _reduced(image: Image.Image, target: tuple[int, int], levels, deadline: float, filename: str) -> Image.Image:
    """The loaded picture in a working mode and at ``target`` size, converted and reduced strip by strip."""
    width, height = image.size
    factor = max(1, int(min(width / target[0], height / target[1]) / _REDUCING_GAP))
    rows = max(factor, _rows(image) // factor * factor)  # whole blocks of the reduction in every strip
    if rows >= height:
        picture = _working_mode(image, levels)
        picture = picture.reduce(factor) if factor > 1 else picture
    else:
        picture = None
        for top, strip in _strips(image, rows, deadline, filename):
            small = _working_mode(strip, levels)
            small = small.reduce(factor) if factor > 1 else small
            if picture is None:
                picture = Image.new(small.mode, (math.ceil(width / factor), math.ceil(height / factor)))
            picture.paste(small, (0, top // factor))
    _check_deadline(deadline, filename)
    return picture.resize(target, Image.Resampling.BICUBIC) if picture.size != target else picture


def flatten(image: Image.Image) -> tuple[Image.Image, bool]:
    """Composite transparency onto white (a transparent logo on white, not on black); True when any pixel was see-through."""
    if image.mode not in ("LA", "RGBA"):
        return image.convert("RGB"), False
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return rgba.convert("RGB"), False
    background = Image.new("RGB", rgba.size, WHITE)
    background.paste(rgba.convert("RGB"), mask=alpha)
    return background, True


def _check_deadline(deadline: float, filename: str) -> None:
    if time.monotonic() > deadline:
        raise InputError(
            f"{_label(filename)} took too long to read (over {MAX_SECONDS:g} seconds). "
            f"Export it as an 8-bit PNG or JPEG under {SAFE_MEGAPIXELS} megapixels and upload it again."
        )


def _frames(image: Image.Image, deadline: float, filename: str, cap: int = MAX_FRAMES) -> int:
    """Pages or frames in the file, counted up to ``cap`` (a TIFF's pages and a GIF's frames are walked one by one)."""
    if image.format not in ("TIFF", "GIF"):
        return int(getattr(image, "n_frames", 1) or 1)  # read from the header: an APNG's acTL, WebP's, MPO's index
    count = 1
    try:
        while count < cap:
            _check_deadline(deadline, filename)
            if image.format == "GIF":
                image._seek(count, False)  # what GifImageFile.n_frames does: skips the frame, never decodes it
            else:
                image.seek(count)  # one more IFD parsed; the pixels are not read
            count += 1
    except EOFError:
        pass
    except InputError:
        raise
    except Exception:  # noqa: BLE001, S110 (a damaged later page ends the count; the first page is what is read)
        pass
    finally:
        image.seek(0)
    return count


def _tiff_buffer(image: Image.Image) -> int:
    """Bytes libtiff's decoder holds besides the picture: one strip or tile in the file's layout (or as RGBA)."""
    tags = getattr(image, "tag_v2", {})
    width, height = image.size
    samples = int(tags.get(277, 1) or 1)
    bits = tags.get(258, (8,))
    bits = sum(bits) if isinstance(bits, tuple) else int(bits or 8) * samples
    per_pixel = max(4, math.ceil(bits / 8))
    if 322 in tags and 323 in tags:
        area = int(tags[322] or 0) * int(tags[323] or 0)
    else:
        area = width * min(height, int(tags.get(278, height) or height))
    return area * per_pixel


def _jpeg_coefficients(image: Image.Image, size: tuple[int, int]) -> int:
    """Bytes libjpeg holds for a progressive JPEG: every DCT coefficient of the full-size picture (2 bytes each)."""
    if not (image.info.get("progressive") or image.info.get("progression")):
        return 0
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * 3
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    blocks_w, blocks_h = math.ceil(size[0] / (8 * h_max)), math.ceil(size[1] / (8 * v_max))
    return sum(blocks_w * layer[1] * blocks_h * layer[2] * 64 * 2 for layer in layers)


def decode_cost(image: Image.Image, full_size: tuple[int, int], target: tuple[int, int], data_bytes: int = 0) -> int:
    """Bytes of memory that decoding the opened ``image`` into a ``target``-size picture takes at its peak.

    The picture in Pillow's layout (``image.size`` after a JPEG draft), the decoder's own buffers, the strips
    converted at a time and the few ``target``-size copies made at the end. ``full_size``: before any draft.
    """
    width, height = image.size
    pixels = width * height
    cost = pixels * _PIXEL_BYTES.get(image.mode, 4)
    if image.format == "WEBP":
        cost += 3 * pixels * 4  # libwebp's canvas, its copy of the previous frame, and the bytes handed to Pillow
    elif image.format == "TIFF":
        cost += _tiff_buffer(image) + data_bytes  # libtiff is handed the whole file
    elif image.format in ("JPEG", "MPO"):
        cost += _jpeg_coefficients(image, full_size)
    strip = min(cost, 3 * _STRIP_BYTES)  # a strip, its working-mode copy and its reduction
    return cost + strip + 4 * target[0] * target[1] * 4


def _too_much_memory(filename: str, what: str, kind: str, size: tuple[int, int], cost: int, limit: int) -> InputError:
    width, height = size
    return InputError(
        f"{_label(filename)} is {width:,}×{height:,} pixels of {what} ({kind or 'image'}): decoding it would take "
        f"{cost / 2**20:,.0f} MB of memory; the limit is {limit / 2**20:,.0f} MB. Export it as an 8-bit PNG or JPEG under "
        f"{SAFE_MEGAPIXELS} megapixels and upload it again."
    )


def read_image(
    data: bytes,
    filename: str = "",
    *,
    max_side: int = MAX_SIDE,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> LoadedImage:
    """Decode an uploaded image into an upright RGB picture no larger than ``max_side``.

    Handles every Pillow mode of the supported formats (grayscale, palette, transparency composited
    on white, CMYK, 16-bit and float grayscale scaled to 8 bits, 1-bit), EXIF orientation, and
    animations (the first frame). JPEGs are decoded at a reduced scale when they are much larger
    than ``max_side``, so a 50-megapixel photo costs little memory.

    Args:
        data: The file's bytes.
        filename: Its name, quoted in messages.
        max_side: Longest side of the returned picture; larger pictures are downscaled.
        max_pixels: Pictures with more pixels are refused (decompression-bomb guard).
        max_bytes: Files larger than this are refused.
        max_decoded_bytes: Pictures whose decoding would take more memory are refused before decoding
            (pixels x bytes per pixel of the file's mode, plus the decoder's buffers: see :func:`decode_cost`).
        max_seconds: The read is abandoned (an InputError) when it has taken longer.

    Returns:
        The picture, its original size and mode, and notes on what was changed.

    Raises:
        InputError: empty, oversize, not an image, damaged or truncated, too many pixels, too much memory, too slow.
    """
    label = _label(filename)
    deadline = time.monotonic() + max_seconds
    if max_side < 1:
        raise InputError(f"max_side must be at least 1 pixel, not {max_side}.")
    if not data:
        raise InputError(f"{label} is empty (0 bytes). Upload a photo or a screenshot ({READABLE}).")
    if len(data) > max_bytes:
        raise InputError(
            f"{label} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB. "
            "Upload a smaller image (resize it or save it as JPEG)."
        )
    if data.startswith(_PNG_SIGNATURE) and _png_chunks(data, MAX_PNG_CHUNKS) > MAX_PNG_CHUNKS:
        raise InputError(
            f"{label} holds more than {MAX_PNG_CHUNKS:,} PNG chunks (a photo has a few thousand at most), which "
            "costs too much to read. Re-save it with an image editor and upload it again."
        )
    # Pillow warns between MAX_IMAGE_PIXELS and twice that and raises above; our own limit below decides
    # instead, so the global Image.MAX_IMAGE_PIXELS is neither read for policy nor changed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            Image.init()  # registers every plugin once; Image.open(formats=...) only looks among registered ones
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as exc:
            raise InputError(
                f"{label} has too many pixels to open safely ({exc}). Resize it and upload it again."
            ) from exc
        except UnidentifiedImageError as exc:
            raise _not_an_image(data, filename) from exc
        except Exception as exc:  # Pillow's parsers raise many kinds on malformed headers
            raise _damaged(filename, "", exc) from exc
        kind = image.format or ""
        limits = {"max_pixels": max_pixels, "max_decoded_bytes": max_decoded_bytes}
        try:
            return _decode(image, filename, kind, len(data), max_side=max_side, deadline=deadline, **limits)
        except InputError:
            raise
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(filename, image.size, max_pixels) from exc
        except MemoryError as exc:
            raise InputError(
                f"{label} ran out of memory while being decoded. Export it as an 8-bit PNG or JPEG under "
                f"{SAFE_MEGAPIXELS} megapixels and upload it again."
            ) from exc
        except Exception as exc:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, ...
            raise _damaged(filename, kind, exc) from exc
        finally:
            image.close()


def _decode(
    image: Image.Image,
    filename: str,
    kind: str,
    data_bytes: int,
    *,
    max_side: int,
    max_pixels: int,
    max_decoded_bytes: int,
    deadline: float,
) -> LoadedImage:
    width, height = image.size
    if width < 1 or height < 1:
        raise _damaged(filename, kind, ValueError(f"it says it is {width}×{height} pixels"))
    if width * height > max_pixels:
        raise _too_many_pixels(filename, (width, height), max_pixels)
    notes: list[str] = []
    frames = _frames(image, deadline, filename)
    count = f"{frames:,}" if frames < MAX_FRAMES else f"at least {MAX_FRAMES:,}"
    if frames > 1 and image.format == "TIFF":
        notes.append(f"Multi-page TIFF: using the first of {count} pages.")
    elif frames > 1 and getattr(image, "is_animated", False) and image.format in _ANIMATED:
        notes.append(f"{_ANIMATED[image.format]}: using the first of {count} frames.")
    if frames > 1 and image.format not in ("TIFF", "GIF"):
        image.seek(0)
    width, height = image.size  # the first page's (a TIFF's pages each have their own)
    if width * height > max_pixels:
        raise _too_many_pixels(filename, (width, height), max_pixels)
    original_mode = image.mode
    scale = min(1.0, max_side / max(width, height))
    if scale < 1.0 and image.format in ("JPEG", "MPO"):
        # Decode at 1/2, 1/4 or 1/8 scale, never below the target: memory follows the output, not the photo.
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
    target = _fit(image.size, max_side)
    cost = decode_cost(image, (width, height), target, data_bytes)
    if cost > max_decoded_bytes:
        what = _MODE_NAMES.get(original_mode, original_mode)
        raise _too_much_memory(filename, what, kind, (width, height), cost, max_decoded_bytes)
    _check_deadline(deadline, filename)
    orientation = _orientation(image)  # after the check: a PNG's EXIF may follow its pixels, so Pillow decodes them
    shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    image.load()  # inside read_image's try: a truncated file fails here instead of becoming a half picture
    _check_deadline(deadline, filename)
    levels, how = None, ""
    if image.mode.startswith("I") or image.mode == "F":
        low, high, how = _levels(image, deadline, filename)
        levels = (low, high)
    picture = _reduced(image, target, levels, deadline, filename)
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
        notes.append("Rotated upright as the camera's EXIF orientation says.")
    picture, was_transparent = flatten(picture)
    if original_mode != "RGB":
        notes.append(f"Converted from {_MODE_NAMES.get(original_mode, original_mode)} to RGB.")
    if how:
        notes.append(how)
    if was_transparent:
        notes.append("Filled transparent areas with white.")
    if picture.size != shown:
        notes.append(f"Downscaled from {shown[0]}×{shown[1]} to {picture.size[0]}×{picture.size[1]}.")
    return LoadedImage(picture, shown, original_mode, tuple(notes), kind)


def _read_image_worker(data: bytes, filename: str, max_side: int, limits: dict) -> dict:
    """:func:`read_image` in the sandbox's worker: the picture travels back as base64 RGB bytes (JSON, never pickle)."""
    loaded = read_image(data, filename, max_side=max_side, **limits)
    return {
        "pixels": base64.b64encode(loaded.image.tobytes()).decode("ascii"),
        "size": list(loaded.image.size),
        "original_size": list(loaded.original_size),
        "original_mode": loaded.original_mode,
        "notes": list(loaded.notes),
        "format": loaded.format,
    }


def read_image_isolated(
    data: bytes,
    filename: str = "",
    *,
    max_side: int = MAX_SIDE,
    memory_mb: int | None = None,
    timeout_s: float = 25.0,
    **limits,
) -> LoadedImage:
    """:func:`read_image` run in a worker process with a hard memory cap and a deadline (engines.core.sandbox).

    For a single upload on a page: the checks of :func:`read_image` refuse what they can foresee, and the worker's
    address-space cap and kill stop what they cannot (a decoder bug, a format quirk). About 0.3 s more per call,
    so folders and ZIPs of many images use :func:`read_image` directly. ``limits``: its other keyword arguments.
    """
    from engines.core.sandbox import run_isolated

    reply = run_isolated(
        _read_image_worker,
        data,
        filename,
        max_side,
        limits,
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        what=_label(filename) if filename else "this image",
        advice=f"Export it as an 8-bit PNG or JPEG under {SAFE_MEGAPIXELS} megapixels and upload it again.",
    )
    picture = Image.frombytes("RGB", tuple(reply["size"]), base64.b64decode(reply["pixels"]))
    return LoadedImage(
        picture, tuple(reply["original_size"]), reply["original_mode"], tuple(reply["notes"]), reply["format"]
    )


def load_image(data: bytes, filename: str = "", *, max_side: int = MAX_SIDE) -> Image.Image:
    """The picture of :func:`read_image` without its notes (same checks, same errors)."""
    return read_image(data, filename, max_side=max_side).image


def is_image_name(name: str) -> bool:
    """True when a file name has one of the supported image extensions."""
    return name.lower().endswith(IMAGE_EXTENSIONS)
