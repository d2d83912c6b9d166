"""Decode uploaded images safely into small RGB pictures: the one door for image bytes.

:func:`read_image` refuses what it cannot read with an :class:`InputError` that says what
to do, and returns an RGB picture no larger than the working size plus notes, in words, on
what it changed (mode conversions, transparency, downscaling, EXIF rotation, a first frame
taken from an animation). Only the formats in :data:`FORMATS` are ever opened: Pillow
plugins such as EPS run external programs. The image classifier and the object detector
both read uploads through it.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from engines.core.errors import InputError
from engines.core.uploads import MAGIC, MAX_UPLOAD_BYTES

MAX_PIXELS = 100_000_000  # larger images are refused as decompression bombs; a 50-megapixel photo passes
MAX_SIDE = 1024  # longer side of the picture read_image returns, by default
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # JPEG includes MPO, the variant many phones write
READABLE = "PNG, JPEG, GIF, BMP, WebP or TIFF"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".dib", ".webp", ".tif", ".tiff")
WHITE = (255, 255, 255)
_CHUNK_ROWS = 1024  # rows converted at a time from 16/32-bit pixels, so a big image needs no float copy
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


def _to_8bit(image: Image.Image) -> tuple[Image.Image, str]:
    """16-bit, 32-bit integer and float grayscale -> "L", scaled (not clipped) to 0..255, row block by row block."""
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        low, high, how = 0.0, 65535.0, "Scaled 16-bit values to 8 bits."
    else:
        finite = pixels[np.isfinite(pixels)] if pixels.dtype.kind == "f" else pixels
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 0.0
        if pixels.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
            low, high, how = 0.0, 1.0, "Scaled floating-point values (0 to 1) to 8 bits."
        elif low >= 0.0 and high <= 255.0:  # already on the 8-bit scale (what Pillow itself writes as I or F)
            low, high, how = 0.0, 255.0, "Rounded 32-bit values to 8 bits."
        elif low >= 0.0 and high <= 65535.0:
            low, high, how = 0.0, 65535.0, "Scaled 16-bit values to 8 bits."
        else:
            how = f"Stretched values from {low:g}..{high:g} to 8 bits."
    span = (high - low) or 1.0
    out = np.empty(pixels.shape, dtype=np.uint8)
    for start in range(0, pixels.shape[0], _CHUNK_ROWS):
        block = np.nan_to_num(pixels[start : start + _CHUNK_ROWS].astype(np.float32), nan=low, posinf=high, neginf=low)
        out[start : start + _CHUNK_ROWS] = np.clip(np.rint((block - low) * (255.0 / span)), 0, 255).astype(np.uint8)
    return Image.fromarray(out), how


def _working_mode(image: Image.Image) -> tuple[Image.Image, list[str]]:
    """Any Pillow mode -> one that resizes well: L, LA, RGB or RGBA."""
    mode = image.mode
    notes: list[str] = []
    if mode in ("L", "LA", "RGB", "RGBA"):
        if "transparency" in image.info and mode in ("L", "RGB"):
            image = image.convert("RGBA")
        return image, notes
    if mode.startswith("I") or mode == "F":
        image, how = _to_8bit(image)
        notes.append(how)
        return image, notes
    if mode == "1":
        return image.convert("L"), notes
    if mode in ("P", "PA", "La", "RGBa"):
        has_alpha = mode != "P" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB"), notes
    return image.convert("RGB"), notes


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


def read_image(
    data: bytes,
    filename: str = "",
    *,
    max_side: int = MAX_SIDE,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_UPLOAD_BYTES,
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

    Returns:
        The picture, its original size and mode, and notes on what was changed.

    Raises:
        InputError: empty, oversize, not an image, damaged or truncated, too many pixels.
    """
    label = _label(filename)
    if max_side < 1:
        raise InputError(f"max_side must be at least 1 pixel, not {max_side}.")
    if not data:
        raise InputError(f"{label} is empty (0 bytes). Upload a photo or a screenshot ({READABLE}).")
    if len(data) > max_bytes:
        raise InputError(
            f"{label} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB. "
            "Upload a smaller image (resize it or save it as JPEG)."
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
        try:
            return _decode(image, filename, kind, max_side=max_side, max_pixels=max_pixels)
        except InputError:
            raise
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(filename, image.size, max_pixels) from exc
        except Exception as exc:  # truncated or corrupt data: Pillow raises OSError, SyntaxError, ...
            raise _damaged(filename, kind, exc) from exc
        finally:
            image.close()


def _decode(image: Image.Image, filename: str, kind: str, *, max_side: int, max_pixels: int) -> LoadedImage:
    width, height = image.size
    if width < 1 or height < 1:
        raise _damaged(filename, kind, ValueError(f"it says it is {width}×{height} pixels"))
    if width * height > max_pixels:
        raise _too_many_pixels(filename, (width, height), max_pixels)
    notes: list[str] = []
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format == "TIFF":
        notes.append(f"Multi-page TIFF: using the first of {frames} pages.")
    elif frames > 1 and getattr(image, "is_animated", False) and image.format in _ANIMATED:
        notes.append(f"{_ANIMATED[image.format]}: using the first of {frames} frames.")
    if frames > 1:
        image.seek(0)
    orientation = _orientation(image)
    original_mode = image.mode
    shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    scale = min(1.0, max_side / max(width, height))
    if scale < 1.0 and image.format in ("JPEG", "MPO"):
        # Decode at 1/2, 1/4 or 1/8 scale, never below the target: memory follows the output, not the photo.
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
    image.load()  # inside read_image's try: a truncated file fails here instead of becoming a half picture
    picture, mode_notes = _working_mode(image)
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
        notes.append("Rotated upright as the camera's EXIF orientation says.")
    picture, was_transparent = flatten(picture)
    if original_mode != "RGB":
        notes.append(f"Converted from {_MODE_NAMES.get(original_mode, original_mode)} to RGB.")
    notes.extend(mode_notes)
    if was_transparent:
        notes.append("Filled transparent areas with white.")
    if picture.size != shown:
        notes.append(f"Downscaled from {shown[0]}×{shown[1]} to {picture.size[0]}×{picture.size[1]}.")
    return LoadedImage(picture, shown, original_mode, tuple(notes), kind)


def load_image(data: bytes, filename: str = "", *, max_side: int = MAX_SIDE) -> Image.Image:
    """The picture of :func:`read_image` without its notes (same checks, same errors)."""
    return read_image(data, filename, max_side=max_side).image


def is_image_name(name: str) -> bool:
    """True when a file name has one of the supported image extensions."""
    return name.lower().endswith(IMAGE_EXTENSIONS)
