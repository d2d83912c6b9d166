"""Decode uploaded images safely into small RGB pictures, and turn pictures into model inputs.

:func:`read_image` is the one door for image bytes: it refuses what it cannot read with an
:class:`InputError` that says what to do, and returns an RGB picture no larger than the
working size plus notes, in words, on what it changed (mode conversions, transparency,
downscaling, EXIF rotation, a first frame taken from an animation). Only the formats in
:data:`FORMATS` are ever opened: Pillow plugins such as EPS run external programs.

:class:`Preprocess`, :func:`to_tensor`, :func:`to_batch` and :func:`preprocessed_preview`
are the one geometric and colour pipeline that training and inference share.
:func:`to_digit_grid` maps a photo or drawing of a digit onto scikit-learn's 8x8 digits.

torch is imported inside the functions that return tensors, never at import time.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from engines.core.errors import InputError
from engines.core.uploads import MAGIC, MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from collections.abc import Sequence

    import torch

MAX_PIXELS = 100_000_000  # larger images are refused as decompression bombs; a 50-megapixel photo passes
MAX_SIDE = 1024  # longer side of the picture read_image returns, by default
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # JPEG includes MPO, the variant many phones write
READABLE = "PNG, JPEG, GIF, BMP, WebP or TIFF"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".dib", ".webp", ".tif", ".tiff")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
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


def _flatten(image: Image.Image) -> tuple[Image.Image, bool]:
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
    picture, was_transparent = _flatten(picture)
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


# --- model inputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preprocess:
    """How a picture becomes a model input: geometry, then per-channel normalisation.

    Attributes:
        size: Side of the square the model sees (ImageNet-pretrained networks use 224).
        mean: Per-channel mean subtracted after scaling pixels to 0..1 (ImageNet's).
        std: Per-channel standard deviation divided by (ImageNet's).
        fit: "crop" resizes the shorter side then crops the centre; "pad" fits the whole picture and pads it.
        crop_ratio: With "crop", the shorter side is resized to size / crop_ratio (256 for 224, as in
            ImageNet evaluation), so the centre crop keeps 87.5% of it.
    """

    size: int = 224  # pretrained backbones expect 224x224
    mean: tuple[float, float, float] = IMAGENET_MEAN  # statistics the pretrained weights were trained with
    std: tuple[float, float, float] = IMAGENET_STD  # idem
    fit: Literal["crop", "pad"] = (
        "crop"  # crop: standard ImageNet eval; pad: keeps the whole picture (logos, screenshots)
    )
    crop_ratio: float = 0.875  # ImageNet evaluation: resize to 256, crop 224

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or not 8 <= self.size <= 1024:
            raise InputError(f"Preprocess size must be a whole number of pixels from 8 to 1024, not {self.size!r}.")
        if self.fit not in ("crop", "pad"):
            raise InputError(f"Preprocess fit must be 'crop' or 'pad', not {self.fit!r}.")
        if not 0.0 < self.crop_ratio <= 1.0:
            raise InputError(f"Preprocess crop_ratio must be in (0, 1], not {self.crop_ratio!r}.")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise InputError("Preprocess mean and std need three values each (R, G, B), and std must be positive.")

    @property
    def pad_color(self) -> tuple[int, int, int]:
        """Padding colour: the mean colour, which normalises to zero."""
        r, g, b = (round(m * 255) for m in self.mean)
        return (r, g, b)


def preprocessed_preview(image: Image.Image, preprocess: Preprocess | None = None) -> Image.Image:
    """The square RGB picture the model sees, before normalisation (for display and for :func:`to_tensor`)."""
    preprocess = preprocess or Preprocess()
    image = _flatten(image)[0] if image.mode != "RGB" else image
    size = preprocess.size
    width, height = image.size
    if preprocess.fit == "crop":
        scale = size / preprocess.crop_ratio / min(width, height)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        resized = image.resize(new, Image.Resampling.BILINEAR)
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        return resized.crop((left, top, left + size, top + size))
    scale = size / max(width, height)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = Image.new("RGB", (size, size), preprocess.pad_color)
    canvas.paste(image.resize(new, Image.Resampling.BILINEAR), ((size - new[0]) // 2, (size - new[1]) // 2))
    return canvas


def _normalised(image: Image.Image, preprocess: Preprocess) -> np.ndarray:
    pixels = np.asarray(preprocessed_preview(image, preprocess), dtype=np.float32) / 255.0
    pixels = (pixels - np.asarray(preprocess.mean, dtype=np.float32)) / np.asarray(preprocess.std, dtype=np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def to_tensor(image: Image.Image, preprocess: Preprocess | None = None) -> torch.Tensor:
    """A picture -> float32 tensor (3, size, size), resized, cropped or padded, and normalised."""
    import torch

    return torch.from_numpy(_normalised(image, preprocess or Preprocess()))


def to_batch(images: Sequence[Image.Image], preprocess: Preprocess | None = None) -> torch.Tensor:
    """Pictures -> float32 tensor (N, 3, size, size), each as :func:`to_tensor` makes it."""
    import torch

    if not images:
        raise InputError("There are no images to prepare. Add at least one image.")
    preprocess = preprocess or Preprocess()
    return torch.from_numpy(np.stack([_normalised(image, preprocess) for image in images]))


# --- scikit-learn digits ---------------------------------------------------------------------------------

DIGIT_SIDE = 8  # scikit-learn's load_digits: 8x8 cells
DIGIT_MAX = 16.0  # each cell counts the inked pixels of a 4x4 block of a 32x32 bitmap: 0..16
_DIGIT_WORK = 32  # the 32x32 bitmap the UCI digits were counted from
_MIN_CONTRAST = 40.0  # grey levels between paper and ink below which there is no digit to read
_MIN_INK = 0.12  # strokes thinner than this share of the square get thickened (a fine pen photographed big)


def to_digit_grid(image: Image.Image) -> np.ndarray:
    """A photo, scan or drawing of one digit -> an (8, 8) float grid in 0..16, like scikit-learn's digits.

    The digits data set is light ink (high values) on a dark background (0), the digit's height filling
    the grid. So: grayscale (transparency on white), ink made bright whichever way round the picture is,
    background removed, cropped to the ink, padded to a centred square, area-averaged to 32x32 with thin
    strokes thickened, then counted in 4x4 blocks as the original data set was.

    Raises:
        InputError: when the picture is blank (no ink stands out from the background).
    """
    gray = np.asarray(_flatten(image)[0].convert("L"), dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:  # light paper, dark ink: turn it round
        gray = 255.0 - gray
        border = 255.0 - border
    background = float(np.median(border))
    ink = float(np.percentile(gray, 99.5))
    if ink - background < _MIN_CONTRAST:
        raise InputError(
            "No digit found: the picture is blank or has too little contrast. "
            "Draw or photograph one dark digit on light paper (or a light digit on a dark background)."
        )
    soft = np.clip((gray - background) / (ink - background), 0.0, 1.0)
    rows = np.flatnonzero((soft > 0.3).any(axis=1))
    cols = np.flatnonzero((soft > 0.3).any(axis=0))
    soft = soft[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(soft.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - soft.shape[0]) // 2, (side - soft.shape[1]) // 2
    square[top : top + soft.shape[0], left : left + soft.shape[1]] = soft
    work = np.asarray(
        Image.fromarray(square).resize((_DIGIT_WORK, _DIGIT_WORK), Image.Resampling.BOX), dtype=np.float32
    )
    strokes = work[work > 0.05]
    if strokes.size:
        work = np.clip(work / max(float(np.percentile(strokes, 90)), 1e-3), 0.0, 1.0)
    for _ in range(2):
        if work.mean() >= _MIN_INK:
            break
        padded = np.pad(work, 1)
        work = np.max(
            [padded[dy : dy + _DIGIT_WORK, dx : dx + _DIGIT_WORK] for dy in range(3) for dx in range(3)], axis=0
        )
    blocks = work.reshape(DIGIT_SIDE, 4, DIGIT_SIDE, 4).mean(axis=(1, 3))
    return (blocks * DIGIT_MAX).astype(np.float64)
