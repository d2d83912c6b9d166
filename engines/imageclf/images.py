"""Turn pictures into model inputs; image bytes are decoded by :mod:`engines.core.images` (re-exported here).

:func:`read_image` (in core) is the one door for image bytes: it refuses what it cannot
read with an :class:`InputError` that says what to do and returns an upright RGB picture
plus notes on what it changed.

:class:`Preprocess`, :func:`to_tensor`, :func:`to_batch` and :func:`preprocessed_preview`
are the one geometric and colour pipeline that training and inference share.
:func:`to_digit_grid` maps a photo or drawing of a digit onto scikit-learn's 8x8 digits.

torch is imported inside the functions that return tensors, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

from engines.core.errors import InputError
from engines.core.images import (  # noqa: F401  (re-exported: the image classifier's callers use these names)
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    READABLE,
    flatten,
    is_image_name,
    load_image,
    read_image,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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
    image = flatten(image)[0] if image.mode != "RGB" else image
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
    gray = np.asarray(flatten(image)[0].convert("L"), dtype=np.float32)
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
