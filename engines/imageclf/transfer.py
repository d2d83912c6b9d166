"""Transfer learning: a pretrained ImageNet classifier through transformers, and "teach it your own classes".

**The pretrained classifier.** :data:`MODELS` lists the ImageNet networks tried, smallest first
(MobileNetV2 at 14 MB suits a 2.7 GB Streamlit Cloud box), each resolved offline first by
:func:`engines.core.model_sources.resolve_model`: ``GALLERY_MODEL_DIR/<spec name>/`` -> the Hugging Face
cache -> a hub download when allowed. :func:`load_pretrained` loads the first one found with
``AutoModelForImageClassification`` and reads its ``AutoImageProcessor`` settings, or raises
:class:`SourceError` saying where it looked and what to do; the page then falls back to the digits
CNN and, for custom classes, to the small CNN below.

**One preprocessing function.** The processor's settings (resize, centre crop, mean, std, EfficientNet's
double division by std) are translated once into our :class:`~engines.imageclf.images.Preprocess`, and
every picture, at training (through :func:`~engines.imageclf.zipdata.iter_batches`) and at inference
(:meth:`PretrainedClassifier.predict`, :meth:`CustomModel.predict`), goes through
:func:`~engines.imageclf.images.to_batch` with it. The transformers processor itself is never called on a
picture, so training and inference cannot drift apart. Two small differences from the processor: the
resize is always bilinear, and a processor that squashes any picture to a square (ViT, EfficientNet) is
approximated by resizing the shorter side and cropping the centre (identical for square pictures).

**Features.** :meth:`PretrainedClassifier.features` returns what the network's own classification layer
reads: the pooled output of the base model for MobileNetV2, ResNet and EfficientNet, the final [CLS]
token for ViT (``pooler_output`` when the base model has one, else the first token). All four classes
then apply ``model.classifier`` to exactly that, so logits are computed from the features in the same
pass; :func:`load_pretrained` checks this on a probe batch and falls back to two passes if it fails.

**Saliency** is occlusion: a grid of grey patches (the mean colour, which normalises to zero) is laid
over the preprocessed picture one cell at a time, all in one batch, and the drop of the class
probability is the map. It needs no gradients, so it works for any network.

**Your own classes.** :func:`train_custom` splits an :class:`ImageFolderDataset` (stratified), then:

* with a pretrained backbone: streams the images from disk ``batch_size`` at a time, keeps only their
  frozen features (N x D floats, never the pictures), and fits a logistic regression (a linear softmax
  layer on standardised features with an L2 penalty, fitted full-batch by L-BFGS as scikit-learn's
  ``LogisticRegression`` is, one curve point per iteration);
* offline: trains a small CNN from scratch at 64x64 (4 conv-BN-ReLU-pool blocks, global average pooling)
  on batches streamed from disk with random flips and small random crops.

Both report accuracy, per-class precision and recall, a confusion matrix and the held-out mistakes.
Torch and transformers are imported at module level: import this module lazily (the page does).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engines.core.artifacts import library_versions
from engines.core.card import ModelCard
from engines.core.errors import InputError, SourceError
from engines.core.model_sources import ModelSpec, ResolvedModel, from_folder, load_first
from engines.core.progress import Progress, null_progress, scaled
from engines.core.validation import check_ranges, check_switch, check_time_budget
from engines.imageclf import zipdata
from engines.imageclf.images import IMAGENET_MEAN, IMAGENET_STD, Preprocess, to_batch

if TYPE_CHECKING:
    from PIL import Image

    from engines.imageclf.zipdata import ImageFolderDataset

OFFLINE = "the digits CNN, and a small CNN trained from scratch for your own classes"
MOBILENET_V2 = ModelSpec(
    name="mobilenet_v2_1.0_224",
    title="MobileNetV2 (ImageNet, 3.5M parameters, 14 MB)",
    offline=OFFLINE,
    hub_id="google/mobilenet_v2_1.0_224",
)
RESNET_50 = ModelSpec(
    name="resnet-50",
    title="ResNet-50 (ImageNet, 25.6M parameters, 100 MB)",
    offline=OFFLINE,
    hub_id="microsoft/resnet-50",
)
EFFICIENTNET_B0 = ModelSpec(
    name="efficientnet-b0",
    title="EfficientNet-B0 (ImageNet, 5.3M parameters, 21 MB)",
    offline=OFFLINE,
    hub_id="google/efficientnet-b0",
)
VIT_BASE = ModelSpec(
    name="vit-base-patch16-224",
    title="ViT-Base/16 (ImageNet, 86M parameters, 350 MB)",
    offline=OFFLINE,
    hub_id="google/vit-base-patch16-224",
)
# Tried in this order: the smallest, most memory-friendly first (a Streamlit Cloud box has 2.7 GB).
MODELS = (MOBILENET_V2, RESNET_50, EFFICIENTNET_B0, VIT_BASE)
SHORT_NAMES = {
    "mobilenet_v2": "MobileNetV2",
    "resnet": "ResNet",
    "efficientnet": "EfficientNet",
    "vit": "ViT",
}  # config.model_type -> the name used in "… features + logistic regression"

CITATIONS = {
    "MobileNetV2": "Sandler et al. (2018). MobileNetV2: Inverted Residuals and Linear Bottlenecks. CVPR.",
    "ResNet": "He et al. (2016). Deep Residual Learning for Image Recognition. CVPR.",
    "EfficientNet": "Tan & Le (2019). EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks. ICML.",
    "ViT": "Dosovitskiy et al. (2021). An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR.",
}  # the backbone's paper, for the model card

FEATURE_BATCH = 16  # pictures per forward pass when extracting features (memory, not speed, decides)
SALIENCY_GRID = 7  # occlusion cells per side: 49 occluded copies, one batched pass
HEAD_LINE_SEARCH = 25  # loss evaluations one L-BFGS iteration of the head may spend on its line search
HEAD_TOLERANCE = 1e-7  # relative change of the head's penalised loss below which it has converged
EARLY_STOPS = ("stopped by the user", "time budget")  # ways training ends before it is done
CNN_BACKBONE = "small CNN trained from scratch at {size}×{size}"
Backbone = Literal["auto", "pretrained", "small_cnn"]
BACKBONES = ("auto", "pretrained", "small_cnn")


# --- the pretrained classifier ------------------------------------------------------------------------------


def clean_label(label: str) -> str:
    """An ImageNet label as a person says it: the first of its comma-separated synonyms.

    ``"tabby, tabby cat"`` -> ``"tabby"``, ``"goldfish, Carassius auratus"`` -> ``"goldfish"``. Underscores
    become spaces. Labels that would collide after cleaning are kept unique by :func:`human_labels`.
    """
    first = str(label).split(",")[0].replace("_", " ").strip()
    return first or str(label).strip()


def human_labels(id2label: dict[int, str] | dict[str, str], num_labels: int) -> tuple[str, ...]:
    """Unique human labels for class ids 0..num_labels-1 from a transformers ``config.id2label``.

    Each label is :func:`clean_label` of the original; when two classes would read the same (ImageNet has
    two "crane"s and two "maillot"s), the full original label is used, then the class id is appended.
    """
    raw = {int(k): str(v) for k, v in (id2label or {}).items()}
    originals = [raw.get(i, f"class {i}") for i in range(num_labels)]
    short = [clean_label(label) for label in originals]
    counts: dict[str, int] = {}
    for label in short:
        counts[label] = counts.get(label, 0) + 1
    chosen = [s if counts[s] == 1 else o.strip() for s, o in zip(short, originals, strict=True)]
    seen: dict[str, int] = {}
    for label in chosen:
        seen[label] = seen.get(label, 0) + 1
    return tuple(label if seen[label] == 1 else f"{label} (class {i})" for i, label in enumerate(chosen))


def _size_value(size: Any, key: str) -> int | None:
    """A field of a transformers size (SizeDict in transformers 5, a dict before, or an int)."""
    if size is None:
        return None
    if isinstance(size, int):
        return size
    value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
    return int(value) if value else None


def preprocess_from_processor(processor: Any) -> tuple[Preprocess, tuple[str, ...]]:
    """Translate a transformers image processor's settings into our :class:`Preprocess` (and notes).

    Geometry: a centre crop (``do_center_crop`` with ``crop_size``, as MobileNetV2) keeps its side and the
    ratio crop/resize; ConvNeXt-style ``crop_pct`` (ResNet-50) becomes ``crop_ratio``; a plain resize to a
    square (ViT, EfficientNet) becomes a crop with ratio 1. Colour: ``image_mean``/``image_std`` after
    scaling to 0..1, adjusted for EfficientNet's ``rescale_offset`` (-1..1) and ``include_top`` (a second
    division by std).
    """
    notes: list[str] = []
    size = getattr(processor, "size", None)
    crop_size = getattr(processor, "crop_size", None)
    shortest = _size_value(size, "shortest_edge")
    height = _size_value(size, "height")
    crop_pct = getattr(processor, "crop_pct", None)
    side: int | None
    if getattr(processor, "do_center_crop", False) and _size_value(crop_size, "height"):
        side = _size_value(crop_size, "height")
        resized = shortest or height or side
        ratio = min(1.0, side / resized) if resized else 1.0
    elif shortest and crop_pct:
        side, ratio = shortest, (float(crop_pct) if shortest < 384 else 1.0)  # ConvNeXt: no crop from 384 up
    elif height:
        side, ratio = height, 1.0
        width = _size_value(size, "width")
        if width and width != height:
            notes.append(f"The model expects {width}×{height} pictures; they are cropped to {height}×{height}.")
    elif shortest:
        side, ratio = shortest, 1.0
    else:
        side, ratio = 224, 0.875
        notes.append("The image processor gives no size; using 224×224 with ImageNet's centre crop.")
    if getattr(processor, "do_normalize", True):
        mean = np.asarray(getattr(processor, "image_mean", IMAGENET_MEAN), dtype=np.float64).reshape(-1)
        std = np.asarray(getattr(processor, "image_std", IMAGENET_STD), dtype=np.float64).reshape(-1)
    else:
        mean, std = np.zeros(3), np.ones(3)
    if mean.size == 1:
        mean = np.repeat(mean, 3)
    if std.size == 1:
        std = np.repeat(std, 3)
    effective_mean, effective_std = mean.copy(), std.copy()
    if getattr(processor, "rescale_offset", False):  # pixels scaled to -1..1 before normalising
        effective_mean, effective_std = (1.0 + mean) / 2.0, std / 2.0
    if getattr(processor, "include_top", False):  # EfficientNet divides by std a second time
        effective_std = effective_std * std
    preprocess = Preprocess(
        size=int(side),
        mean=tuple(float(v) for v in effective_mean[:3]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in effective_std[:3]),  # type: ignore[arg-type]
        fit="crop",
        crop_ratio=float(min(max(ratio, 1e-3), 1.0)),
    )
    return preprocess, tuple(notes)


def _check_k(k: Any, n_classes: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(f"The number of answers (k) must be a whole number of at least 1, not {k!r}.")
    return min(k, n_classes)


def _check_images(images: Any) -> list[Image.Image]:
    from PIL import Image as PILImage

    pictures = [images] if isinstance(images, PILImage.Image) else list(images)
    if not pictures:
        raise InputError("There are no images to classify. Add at least one image.")
    for picture in pictures:
        if not isinstance(picture, PILImage.Image):
            raise InputError(
                f"Expected pictures (PIL images), got {type(picture).__name__}; read files with images.read_image first."
            )
    return pictures


def _occlusion(
    probabilities: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    class_index: int | None,
    grid: int,
    batch_size: int,
) -> tuple[np.ndarray, int]:
    """Occlusion saliency of one preprocessed picture x (1, 3, S, S): (S, S) map in 0..1 and the class explained."""
    side = x.shape[-1]
    with torch.inference_mode():
        base = probabilities(x)[0]
        target = int(base.argmax()) if class_index is None else class_index
        cells = [(r, c) for r in range(grid) for c in range(grid)]
        edges = [round(i * side / grid) for i in range(grid + 1)]
        drops = torch.zeros(len(cells))
        for start in range(0, len(cells), batch_size):
            chunk = cells[start : start + batch_size]
            batch = x.repeat(len(chunk), 1, 1, 1)
            for j, (r, c) in enumerate(chunk):
                # zero after normalisation is the mean colour: a grey patch that carries no signal
                batch[j, :, edges[r] : edges[r + 1], edges[c] : edges[c + 1]] = 0.0
            drops[start : start + len(chunk)] = base[target] - probabilities(batch)[:, target]
        heat = drops.clamp(min=0.0).reshape(1, 1, grid, grid)
        heat = F.interpolate(heat, size=(side, side), mode="bilinear", align_corners=False)[0, 0]
    top = float(heat.max())
    out = (heat / top).numpy() if top > 0 else heat.numpy()
    return np.clip(out, 0.0, 1.0).astype(np.float32), target


def _check_batch_size(batch_size: Any) -> int:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InputError(f"The batch size must be a whole number of at least 1, not {batch_size!r}.")
    return batch_size


def _check_grid(grid: Any) -> int:
    if not isinstance(grid, int) or isinstance(grid, bool) or not 2 <= grid <= 32:
        raise InputError(f"The saliency grid must be a whole number of cells per side from 2 to 32, not {grid!r}.")
    return grid


@dataclass
class PretrainedClassifier:
    """An ImageNet classifier loaded from a folder, with the one preprocessing every picture goes through.

    Attributes:
        model: The transformers ``*ForImageClassification`` model, in evaluation mode.
        preprocess: The processor's settings as our :class:`Preprocess` (see the module docstring).
        labels: Unique human labels, index = class id (see :func:`human_labels`).
        resolved: Where the model was found (the page shows ``resolved.notice``).
        name: Short architecture name ("MobileNetV2", "ResNet", ...).
        notes: What a user should know about the preprocessing.
        composed: True when ``model.classifier(features)`` reproduces the model's logits (checked at load),
            so logits and features come from one forward pass.
    """

    model: Any
    preprocess: Preprocess
    labels: tuple[str, ...]
    resolved: ResolvedModel
    name: str
    notes: tuple[str, ...] = ()
    composed: bool = True

    @property
    def title(self) -> str:
        """The model's title for pages and cards."""
        return self.resolved.spec.title

    @property
    def notice(self) -> str:
        """One sentence for the page: which model is in use and where it came from."""
        return self.resolved.notice

    @property
    def feature_dim(self) -> int:
        """Length of one feature vector."""
        return int(self._embed(torch.zeros(1, 3, self.preprocess.size, self.preprocess.size)).shape[1])

    def _forward(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, penultimate features) of a preprocessed batch.

        When ``composed``, one pass: the base model's features, then ``model.classifier`` on them (what the
        model's own forward does in evaluation mode). Otherwise two passes. No hooks: a cached model is
        shared by every Streamlit session, and a hook registered by one thread would see another's batch.
        """
        if self.composed:
            features = _pooled(self.model.base_model(pixel_values=batch))
            return self.model.classifier(features), features
        return self.model(pixel_values=batch).logits, _pooled(self.model.base_model(pixel_values=batch))

    def _embed(self, batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self._forward(batch)[1].float()

    def _probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self._forward(batch)[0].float(), dim=1)

    def predict_proba(self, images: Image.Image | Sequence[Image.Image], batch_size: int = FEATURE_BATCH) -> np.ndarray:
        """ImageNet class probabilities (N, classes) for pictures, ``batch_size`` pictures per forward pass."""
        pictures = _check_images(images)
        batch_size = _check_batch_size(batch_size)
        out = []
        with torch.inference_mode():
            for start in range(0, len(pictures), batch_size):
                out.append(self._probabilities(to_batch(pictures[start : start + batch_size], self.preprocess)))
        return torch.cat(out).numpy()

    def predict(self, image: Image.Image, k: int = 5) -> list[tuple[str, float]]:
        """The top ``k`` (label, probability) pairs for one picture, most probable first.

        Raises:
            InputError: when ``image`` is not a picture or ``k`` is not a whole number of at least 1.
        """
        k = _check_k(k, len(self.labels))
        probs = self.predict_proba(_check_images(image)[:1])[0]
        top = np.argsort(-probs, kind="stable")[:k]
        return [(self.labels[i], float(probs[i])) for i in top]

    def class_index(self, label: str) -> int:
        """The class id of a label that :meth:`predict` returned."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise InputError(f"{label!r} is not one of this model's {len(self.labels)} classes.") from None

    def features(self, images: Image.Image | Sequence[Image.Image], batch_size: int = FEATURE_BATCH) -> np.ndarray:
        """Penultimate features (N, D) float32 of pictures, under ``torch.inference_mode``, in batches."""
        pictures = _check_images(images)
        batch_size = _check_batch_size(batch_size)
        parts = [
            self._embed(to_batch(pictures[start : start + batch_size], self.preprocess)).numpy()
            for start in range(0, len(pictures), batch_size)
        ]
        return np.concatenate(parts).astype(np.float32)

    def saliency(self, image: Image.Image, class_index: int | None = None, *, grid: int = SALIENCY_GRID) -> np.ndarray:
        """Occlusion map (size, size) in 0..1 of ``class_index`` (default: the top class) for one picture.

        The map lies over :func:`~engines.imageclf.images.preprocessed_preview` of the picture with
        ``self.preprocess``: 1 where hiding that part lowers the class probability most. ``grid`` x ``grid``
        occluded copies plus the original are run in batches of :data:`FEATURE_BATCH`.
        """
        picture = _check_images(image)[0]
        grid = _check_grid(grid)
        if class_index is not None and (
            not isinstance(class_index, int) or isinstance(class_index, bool) or not 0 <= class_index < len(self.labels)
        ):
            raise InputError(f"The class index must be from 0 to {len(self.labels) - 1}, not {class_index!r}.")
        heat, _ = _occlusion(
            self._probabilities, to_batch([picture], self.preprocess), class_index, grid, FEATURE_BATCH
        )
        return heat


def _pooled(base_output: Any) -> torch.Tensor:
    """Pooled features (N, D) of a base model's output: its pooler output, else its first token (ViT's [CLS])."""
    pooled = getattr(base_output, "pooler_output", None)
    if pooled is None:
        hidden = base_output.last_hidden_state
        pooled = hidden[:, 0] if hidden.ndim == 3 else hidden.mean(dim=tuple(range(2, hidden.ndim)))
    return pooled.reshape(pooled.shape[0], -1)


def _composes(model: Any, side: int) -> bool:
    """Whether ``model.classifier`` on the pooled base features gives the model's own logits (probe batch)."""
    head = getattr(model, "classifier", None)
    if not isinstance(head, nn.Module):
        return False
    probe = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            expected = model(pixel_values=probe).logits
            got = head(_pooled(model.base_model(pixel_values=probe)))
    except (RuntimeError, AttributeError, TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(torch.allclose(got, expected, rtol=1e-4, atol=1e-5))


def _short_name(model: Any) -> str:
    model_type = str(getattr(getattr(model, "config", None), "model_type", "") or "")
    return SHORT_NAMES.get(model_type, model_type or type(model).__name__)


def _load_folder(resolved: ResolvedModel) -> PretrainedClassifier:
    """Load a resolved folder with the Auto classes; SourceError when it does not hold an image classifier."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    assert resolved.path is not None
    (model,) = from_folder(resolved, "a loadable image classifier", AutoModelForImageClassification)
    model.eval()
    notes: list[str] = []
    try:
        (processor,) = from_folder(resolved, "image processor settings", AutoImageProcessor)
    except SourceError as exc:
        processor = None
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "SourceError"
        notes.append(f"No image processor settings were found ({cause}); using ImageNet's 224×224 crop.")
    if processor is None:
        preprocess = Preprocess()
    else:
        preprocess, more = preprocess_from_processor(processor)
        notes.extend(more)
    labels = human_labels(model.config.id2label, int(model.config.num_labels))
    composed = _composes(model, preprocess.size)
    return PretrainedClassifier(model, preprocess, labels, resolved, _short_name(model), tuple(notes), composed)


def load_pretrained(
    specs: ModelSpec | Sequence[ModelSpec] = MODELS, progress: Progress = null_progress
) -> PretrainedClassifier:
    """The first of ``specs`` found on the offline-first ladder and loadable, in evaluation mode.

    Args:
        specs: One model or several, tried in order (default: :data:`MODELS`).
        progress: Receives a report per model tried; ends at 1.0.

    Raises:
        SourceError: when none can be found or loaded; the message says where it looked and what to do.
    """
    return load_first(specs, _load_folder, "pretrained ImageNet classifier", progress)


# --- teach it your own classes -------------------------------------------------------------------------------

WHOLE_NUMBER_SETTINGS = frozenset(
    {"Batch size", "Head iterations", "CNN epochs", "CNN image size", "CNN width", "Seed"}
)
WHOLE_NUMBER_FIELDS = ("batch_size", "head_iterations", "cnn_epochs", "cnn_size", "cnn_width", "seed")


@dataclass(frozen=True)
class CustomConfig:
    """Everything that decides a custom-classes model; the page's training panel edits these."""

    backbone: Backbone = "auto"  # auto: pretrained features when a model loads, else the small CNN
    test_fraction: float = 0.25  # share of each class held out for the evaluation (at least one image each)
    batch_size: int = 16  # images decoded and held in memory at once (streaming from disk)
    head_iterations: int = 100  # most L-BFGS iterations of the logistic regression (it usually converges in 20-50)
    head_l2: float = 1e-2  # L2 penalty on the head's weights (standardised features), against over-confidence
    cnn_epochs: int = 30  # passes of the small CNN over the training images (each one re-reads them from disk)
    cnn_learning_rate: float = 3e-3  # AdamW peak rate of the CNN's one-cycle schedule
    cnn_size: int = 64  # side of the pictures the small CNN sees: small enough for a CPU, big enough for shapes
    cnn_width: int = 16  # channels of the CNN's first block (then 2x, 4x, 4x)
    augment: bool = True  # CNN only: random horizontal flips and small random crops of each training picture
    seed: int = 0  # split, weights, augmentation and batch order are reproducible
    max_seconds: float | None = None  # wall-clock budget of the training loop; it stops after the epoch exceeding it

    def validate(self) -> CustomConfig:
        """The config itself (counts as ints), or an InputError that names the setting to fix."""
        if self.backbone not in BACKBONES:
            raise InputError(f"Backbone must be one of {', '.join(map(repr, BACKBONES))} (got {self.backbone!r}).")
        checks: list[tuple[str, Any, float, float]] = [
            ("Test fraction", self.test_fraction, 0.05, 0.5),
            ("Batch size", self.batch_size, 1, 256),
            ("Head iterations", self.head_iterations, 1, 10_000),
            ("Head L2 penalty", self.head_l2, 0.0, 100.0),
            ("CNN epochs", self.cnn_epochs, 1, 500),
            ("CNN learning rate", self.cnn_learning_rate, 1e-6, 1.0),
            ("CNN image size", self.cnn_size, 16, 256),
            ("CNN width", self.cnn_width, 4, 128),
            ("Seed", self.seed, 0, 2**31 - 1),
        ]
        check_ranges(checks, WHOLE_NUMBER_SETTINGS)
        check_switch("Augmentation", self.augment)
        check_time_budget(self.max_seconds)
        return replace(self, **{name: int(getattr(self, name)) for name in WHOLE_NUMBER_FIELDS})


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU-max-pool blocks (width, 2x, 4x, 4x channels), global average pooling, dropout, linear."""

    def __init__(self, n_classes: int, width: int = 16, dropout: float = 0.2) -> None:
        super().__init__()
        widths = (width, 2 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        cin = 3
        for cout in widths:
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # any input size works; colour and texture survive, position need not
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, classes) for normalised pictures (N, 3, size, size)."""
        return self.head(self.drop(self.pool(self.features(x)).flatten(1)))


class LinearHead(nn.Module):
    """Logistic regression on frozen features: standardise with the training mean and std, then one linear layer."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, n_classes: int) -> None:
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())
        self.linear = nn.Linear(mean.numel(), n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (N, classes) for raw feature vectors (N, D)."""
        return self.linear((features - self.mean) / self.std)


@dataclass
class CustomModel:
    """A classifier of the user's own classes.

    Attributes:
        class_names: The classes, index = label.
        kind: "pretrained" (frozen features + logistic regression) or "small_cnn" (trained from scratch).
        backbone: In words, e.g. "MobileNetV2 features + logistic regression".
        preprocess: How every picture becomes an input, at training and at inference.
        net: The trained part (the linear head, or the whole CNN), in evaluation mode.
        extractor: The frozen pretrained network (pretrained kind only).
        config: The settings that made it.
        info: What was measured (metrics, times, epochs run, why it stopped).
    """

    class_names: tuple[str, ...]
    kind: Literal["pretrained", "small_cnn"]
    backbone: str
    preprocess: Preprocess
    net: nn.Module
    extractor: PretrainedClassifier | None = None
    config: CustomConfig = field(default_factory=CustomConfig)
    info: dict[str, Any] = field(default_factory=dict)

    def _logits(self, batch: torch.Tensor) -> torch.Tensor:
        inputs = self.extractor._embed(batch) if self.extractor is not None else batch
        return self.net(inputs)

    def _probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self._logits(batch).float(), dim=1)

    def trainable_parameters(self) -> int:
        """Weights that were trained (the frozen backbone does not count)."""
        return sum(p.numel() for p in self.net.parameters())

    def predict_proba(self, images: Image.Image | Sequence[Image.Image], batch_size: int = FEATURE_BATCH) -> np.ndarray:
        """Class probabilities (N, classes) for pictures, through the same preprocessing as training."""
        pictures = _check_images(images)
        batch_size = _check_batch_size(batch_size)
        self.net.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(pictures), batch_size):
                out.append(self._probabilities(to_batch(pictures[start : start + batch_size], self.preprocess)))
        return torch.cat(out).numpy()

    def predict(self, image: Image.Image, k: int | None = None) -> list[tuple[str, float]]:
        """The top ``k`` (class, probability) pairs for one picture (default: every class), most probable first."""
        k = _check_k(len(self.class_names) if k is None else k, len(self.class_names))
        probs = self.predict_proba(_check_images(image)[:1])[0]
        top = np.argsort(-probs, kind="stable")[:k]
        return [(self.class_names[i], float(probs[i])) for i in top]

    def saliency(self, image: Image.Image, class_index: int | None = None, *, grid: int = SALIENCY_GRID) -> np.ndarray:
        """Occlusion map (size, size) in 0..1 for one picture, as :meth:`PretrainedClassifier.saliency`."""
        picture = _check_images(image)[0]
        grid = _check_grid(grid)
        if class_index is not None and (
            not isinstance(class_index, int)
            or isinstance(class_index, bool)
            or not 0 <= class_index < len(self.class_names)
        ):
            raise InputError(f"The class index must be from 0 to {len(self.class_names) - 1}, not {class_index!r}.")
        self.net.eval()
        heat, _ = _occlusion(
            self._probabilities, to_batch([picture], self.preprocess), class_index, grid, FEATURE_BATCH
        )
        return heat


@dataclass(frozen=True)
class CustomEpoch:
    """One pass of training: a CNN epoch, or an L-BFGS iteration of the head (the page draws these as the curve)."""

    epoch: int  # 1-based pass number
    train_loss: float
    train_acc: float
    test_loss: float | None  # linear head only: the held-out part, shown, never used to choose anything
    test_acc: float | None
    seconds: float  # since training started


@dataclass(frozen=True)
class CustomMistake:
    """One misclassified held-out image."""

    path: str  # the image file on disk (inside the dataset's folder)
    true_class: str
    predicted: str
    confidence: float  # probability given to the (wrong) answer


@dataclass
class CustomResult:
    """What :func:`train_custom` returns: the model and its measurements on the held-out part."""

    model: CustomModel
    backbone: str  # "MobileNetV2 features + logistic regression" or "small CNN trained from scratch at 64×64"
    class_names: tuple[str, ...]
    accuracy: float
    per_class: list[dict[str, Any]]  # class, precision, recall, f1, support
    confusion: np.ndarray  # counts, rows true class, columns predicted
    mistakes: list[CustomMistake]  # most confident first
    curve: list[CustomEpoch]
    train_seconds: float  # feature extraction (if any) and training together
    stopped_by: str  # "converged", "all iterations" (head), "all epochs" (CNN), "stopped by the user", "time budget"
    n_train: int
    n_test: int
    source: str  # where the images came from (the ZIP's name or the folder)
    notes: tuple[str, ...] = ()  # e.g. why the small CNN was used


def _stream_features(
    classifier: PretrainedClassifier,
    items: Sequence[tuple[Path, int]],
    batch_size: int,
    progress: Progress,
    what: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen features and labels of ``items``, streamed from disk ``batch_size`` pictures at a time."""
    features: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    done = 0
    progress(0.0, f"Reading the {what} images")
    for batch, label in zipdata.iter_batches(items, batch_size, classifier.preprocess):
        features.append(classifier._embed(batch))
        labels.append(label)
        done += len(label)
        progress(done / len(items), f"Features of {done} of {len(items)} {what} images")
    # clone(): a normal tensor, not an inference tensor, so the head can train on it with autograd
    return torch.cat(features).clone(), torch.cat(labels).clone()


def _fit_head(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    n_classes: int,
    config: CustomConfig,
    progress: Progress,
    stop: threading.Event | None,
) -> tuple[LinearHead, list[CustomEpoch], str]:
    """Multinomial logistic regression with an L2 penalty, fitted full-batch by L-BFGS (as scikit-learn does).

    The problem is convex, so L-BFGS reaches the optimum in a few dozen passes whatever the number of
    pictures, where a few epochs of stochastic steps on 30 pictures are only 30 small steps.
    """
    torch.manual_seed(config.seed)
    std = x_train.std(dim=0, unbiased=False)
    head = LinearHead(x_train.mean(dim=0), torch.where(std > 1e-6, std, torch.ones_like(std)), n_classes)
    optimizer = torch.optim.LBFGS(
        head.parameters(), lr=1.0, max_iter=1, max_eval=HEAD_LINE_SEARCH, history_size=20, line_search_fn="strong_wolfe"
    )

    def objective() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(head(x_train), y_train) + 0.5 * config.head_l2 * head.linear.weight.pow(2).sum()
        loss.backward()
        return loss

    curve: list[CustomEpoch] = []
    stopped_by = "all iterations"
    started = time.perf_counter()
    previous = math.inf
    for iteration in range(1, config.head_iterations + 1):
        optimizer.step(objective)  # one L-BFGS iteration: a direction, then a line search over the full batch
        head.eval()
        with torch.inference_mode():
            logits = head(x_train)
            train_loss = F.cross_entropy(logits, y_train).item()
            train_acc = (logits.argmax(1) == y_train).float().mean().item()
            test_logits = head(x_test)
            test_loss = F.cross_entropy(test_logits, y_test).item()
            test_acc = (test_logits.argmax(1) == y_test).float().mean().item()
            penalised = train_loss + 0.5 * config.head_l2 * float(head.linear.weight.pow(2).sum())
        point = CustomEpoch(iteration, train_loss, train_acc, test_loss, test_acc, time.perf_counter() - started)
        curve.append(point)
        progress(
            iteration / config.head_iterations,
            f"Iteration {iteration} of at most {config.head_iterations}: loss {train_loss:.3f}",
        )
        if abs(previous - penalised) <= HEAD_TOLERANCE * max(1.0, abs(penalised)):
            stopped_by = "converged"
            break
        previous = penalised
        if stop is not None and stop.is_set():
            stopped_by = "stopped by the user"
            break
        if config.max_seconds is not None and point.seconds > config.max_seconds:
            stopped_by = "time budget"
            break
    progress(1.0, f"Logistic regression {stopped_by} after {len(curve)} iterations")
    head.eval()
    return head, curve, stopped_by


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips and random crops (shifts up to 1/8 of the side, reflected borders) of a batch."""
    n, _, side, _ = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = max(1, side // 8)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    return torch.stack(
        [padded[i, :, int(dy) : int(dy) + side, int(dx) : int(dx) + side] for i, (dy, dx) in enumerate(offsets)]
    )


def _fit_cnn(
    train: Sequence[tuple[Path, int]],
    n_classes: int,
    preprocess: Preprocess,
    config: CustomConfig,
    progress: Progress,
    stop: threading.Event | None,
) -> tuple[SmallCNN, list[CustomEpoch], str]:
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    net = SmallCNN(n_classes, config.cnn_width)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.cnn_learning_rate, weight_decay=5e-4)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.cnn_learning_rate, total_steps=config.cnn_epochs * steps_per_epoch, pct_start=0.25
    )
    curve: list[CustomEpoch] = []
    stopped_by = "all epochs"
    started = time.perf_counter()
    for epoch in range(1, config.cnn_epochs + 1):
        net.train()
        total, correct, seen = 0.0, 0, 0
        for batch, labels in zipdata.iter_batches(train, config.batch_size, preprocess, seed=config.seed + epoch):
            xb = _augment(batch, generator) if config.augment else batch
            logits = net(xb)
            loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
            if len(labels) > 1:  # BatchNorm needs two pictures to estimate a variance
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            if schedule.last_epoch + 1 < schedule.total_steps:
                schedule.step()
            total += loss.item() * len(labels)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(labels)
        point = CustomEpoch(epoch, total / seen, correct / seen, None, None, time.perf_counter() - started)
        curve.append(point)
        progress(
            epoch / config.cnn_epochs,
            f"Epoch {epoch} of {config.cnn_epochs}: loss {point.train_loss:.3f}, accuracy {point.train_acc:.0%}",
        )
        if stop is not None and stop.is_set():
            stopped_by = "stopped by the user"
            break
        if config.max_seconds is not None and point.seconds > config.max_seconds:
            stopped_by = "time budget"
            break
    net.eval()
    return net, curve, stopped_by


def _measure(
    probs: np.ndarray, test: Sequence[tuple[Path, int]], class_names: tuple[str, ...]
) -> tuple[float, list[dict[str, Any]], np.ndarray, list[CustomMistake]]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth = np.array([label for _, label in test], dtype=np.int64)
    predicted = probs.argmax(1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_class = [
        {"class": class_names[i], "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for i, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    wrong = np.flatnonzero(predicted != truth)
    mistakes = sorted(
        (
            CustomMistake(
                str(test[i][0]), class_names[truth[i]], class_names[predicted[i]], float(probs[i, predicted[i]])
            )
            for i in wrong
        ),
        key=lambda m: -m.confidence,
    )
    accuracy = float((predicted == truth).mean()) if len(truth) else 0.0
    return accuracy, per_class, confusion_matrix(truth, predicted, labels=labels), mistakes


def _cnn_probabilities(
    net: nn.Module, items: Sequence[tuple[Path, int]], preprocess: Preprocess, batch_size: int, progress: Progress
) -> np.ndarray:
    out = []
    done = 0
    net.eval()
    with torch.inference_mode():
        for batch, labels in zipdata.iter_batches(items, batch_size, preprocess):
            out.append(torch.softmax(net(batch).float(), dim=1))
            done += len(labels)
            progress(done / len(items), f"Classified {done} of {len(items)} held-out images")
    return torch.cat(out).numpy()


def train_custom(
    dataset: ImageFolderDataset,
    config: CustomConfig = CustomConfig(),
    progress: Progress = null_progress,
    stop: threading.Event | None = None,
    *,
    classifier: PretrainedClassifier | None = None,
) -> CustomResult:
    """Teach a classifier the dataset's classes and measure it on a held-out part of each class.

    With ``backbone="auto"``, the pretrained path runs when ``classifier`` is given or
    :func:`load_pretrained` finds a model, the small CNN otherwise (the result's ``notes`` say why).
    Pictures are streamed from disk ``config.batch_size`` at a time through
    :func:`~engines.imageclf.zipdata.iter_batches`; only feature vectors (pretrained) or nothing (CNN)
    stay in memory.

    Args:
        dataset: The images (``zipdata.read_class_zip`` or ``zipdata.from_folder``).
        config: The settings (validated here).
        progress: ``progress(fraction, message)``, ending at 1.0.
        stop: When set, training ends after the current epoch (CNN) or iteration (head), keeping the weights so far (feature
            extraction, which the model cannot do without, always completes).
        classifier: A pretrained classifier already loaded (the page's cached one); skips loading.

    Returns:
        The model, held-out accuracy, per-class precision/recall, confusion matrix, mistakes, curve.

    Raises:
        InputError: bad settings, or a dataset whose classes cannot be split into training and test parts.
        SourceError: ``backbone="pretrained"`` and no pretrained model is available.
    """
    config = config.validate()
    class_names = tuple(dataset.class_names)
    if len(class_names) < 2:
        raise InputError("A classifier needs at least two classes; add a folder of images for another class.")
    counts = dataset.counts
    small = [name for name, count in counts.items() if count < 2]
    if small:
        raise InputError(
            f"Each class needs at least 2 images (one to train on, one to test on); too few in: {', '.join(small)}."
        )
    train, test = dataset.split(config.test_fraction, config.seed)
    notes: list[str] = []
    started = time.perf_counter()
    progress(0.0, f"{len(train)} training and {len(test)} held-out images in {len(class_names)} classes")
    if config.backbone != "small_cnn" and classifier is None:
        try:
            classifier = load_pretrained(progress=scaled(progress, 0.0, 0.05))
        except SourceError as exc:
            if config.backbone == "pretrained":
                raise
            notes.append(f"No pretrained network is available, so a small CNN is trained from scratch. {exc}")
    if config.backbone != "small_cnn" and classifier is not None:
        backbone = f"{classifier.name} features + logistic regression"
        x_train, y_train = _stream_features(
            classifier, train, config.batch_size, scaled(progress, 0.05, 0.55), "training"
        )
        x_test, y_test = _stream_features(classifier, test, config.batch_size, scaled(progress, 0.55, 0.75), "held-out")
        head, curve, stopped_by = _fit_head(
            x_train, y_train, x_test, y_test, len(class_names), config, scaled(progress, 0.75, 0.97), stop
        )
        with torch.inference_mode():
            probs = torch.softmax(head(x_test), dim=1).numpy()
        model = CustomModel(class_names, "pretrained", backbone, classifier.preprocess, head, classifier, config)
        notes.extend(classifier.notes)
    else:
        backbone = CNN_BACKBONE.format(size=config.cnn_size)
        preprocess = Preprocess(size=config.cnn_size)
        net, curve, stopped_by = _fit_cnn(
            train, len(class_names), preprocess, config, scaled(progress, 0.05, 0.9), stop
        )
        probs = _cnn_probabilities(net, test, preprocess, config.batch_size, scaled(progress, 0.9, 0.99))
        model = CustomModel(class_names, "small_cnn", backbone, preprocess, net, None, config)
    train_seconds = time.perf_counter() - started
    accuracy, per_class, confusion, mistakes = _measure(probs, test, class_names)
    model.info = {
        "metrics": {"accuracy": accuracy},
        "train_seconds": train_seconds,
        "epochs_run": len(curve),
        "stopped_by": stopped_by,
        "n_train": len(train),
        "n_test": len(test),
        "threads": torch.get_num_threads(),
    }
    progress(1.0, f"Trained {backbone} in {train_seconds:.1f} s; held-out accuracy {accuracy:.0%}")
    return CustomResult(
        model=model,
        backbone=backbone,
        class_names=class_names,
        accuracy=accuracy,
        per_class=per_class,
        confusion=confusion,
        mistakes=mistakes,
        curve=curve,
        train_seconds=train_seconds,
        stopped_by=stopped_by,
        n_train=len(train),
        n_test=len(test),
        source=dataset.source,
        notes=tuple(notes),
    )


def model_card(result: CustomResult, provenance: str = "user upload") -> ModelCard:
    """The model card of a custom-classes model.

    Args:
        result: What :func:`train_custom` returned.
        provenance: Where the images came from, in the card's words ("user upload", "local copy", ...).
    """
    model = result.model
    pretrained = model.kind == "pretrained"
    if pretrained and model.extractor is not None:
        name = f"{result.backbone} ({model.extractor.title}, frozen; {model.trainable_parameters():,} trained weights)"
        why = (
            "A network pretrained on 1.28 million ImageNet photos already turns a picture into features that "
            "separate most everyday things; a logistic regression on top learns new classes from a few dozen "
            "pictures each, in seconds, without changing the network."
        )
    else:
        name = f"Small CNN trained from scratch at {model.preprocess.size}×{model.preprocess.size} ({model.trainable_parameters():,} weights)"
        why = (
            "No pretrained network is available here, so a small convolutional network learns from your pictures "
            "alone, with random flips and crops so it does not just memorise them. It is weaker than pretrained "
            "features and needs more pictures."
        )
    recalls = [c["recall"] for c in result.per_class]
    metrics = {
        "accuracy": result.accuracy,
        "balanced_accuracy": float(np.mean(recalls)) if recalls else 0.0,
        "macro_f1": float(np.mean([c["f1"] for c in result.per_class])) if result.per_class else 0.0,
    }
    fraction = model.config.test_fraction
    limitations = [
        f"Held out: only {result.n_test} pictures, so the accuracy is a rough estimate "
        f"(one picture is {1 / max(result.n_test, 1):.0%}).",
        "It always answers one of your classes, even for a picture of something else; check the confidence.",
        "It learns whatever differs between your folders: if all cats are indoors and all dogs outdoors, it may "
        "learn the background.",
    ]
    side = model.preprocess.size
    limitations.append(
        f"Pictures are centre-cropped to a square and shrunk to {side}×{side}: the edges of a wide photo and fine detail are lost."
    )
    if result.stopped_by in EARLY_STOPS:
        limitations.append(f"Training ended early ({result.stopped_by}) after {len(result.curve)} passes.")
    return ModelCard(
        model=name,
        why=why,
        data=f"{len(result.class_names)} classes: {', '.join(result.class_names)}"
        + (f" from {result.source}" if result.source else ""),
        provenance=provenance,
        split=(
            f"Stratified random split (seed {model.config.seed}): {fraction:.0%} of each class held out, "
            "at least one picture per class; the held-out pictures are never trained on."
        ),
        metrics=metrics,
        train_seconds=result.train_seconds,
        n_train=result.n_train,
        n_test=result.n_test,
        limitations=tuple(limitations),
        versions=library_versions(["torch", "transformers", "scikit-learn", "numpy", "pillow"]),
        citation=CITATIONS.get(model.extractor.name, "") if pretrained and model.extractor is not None else "",
    )
