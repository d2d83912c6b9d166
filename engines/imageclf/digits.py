"""Handwritten digits: a small convolutional network on scikit-learn's 8x8 digits, and its files.

The data is scikit-learn's bundled copy of the UCI optical digits test set (1,797
images of 8x8 pixels, values 0..16). The held-out protocol is the one of
scikit-learn's "Recognizing hand-written digits" example: the first half of the
images trains, the second half (written by other people) tests, no shuffling.
Tuning uses a validation part carved from the end of the training half only.

The network is two VGG-style blocks (conv-BN-ReLU twice, then max-pooling) and a
linear layer, trained with AdamW under a one-cycle schedule, label smoothing and
small random affine distortions (shifts of about a pixel, rotations, scaling,
shear), which is what lets 900 images train a network that generalises to new
writers. Torch is imported here: import this module lazily (never from the home page).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from engines.core import weights as weights_io
from engines.core.artifacts import library_versions
from engines.core.card import ModelCard
from engines.core.errors import InputError, SourceError
from engines.core.hashing import sha256_file
from engines.core.progress import Progress, null_progress
from engines.core.validation import check_ranges, check_switch, check_time_budget

DATASET = "scikit-learn digits (UCI optical recognition of handwritten digits, 8x8)"
CITATION = (
    "Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits. UCI Machine Learning Repository."
)
CLASSES = tuple(str(d) for d in range(10))
SIDE = 8  # pixels per side of one image
MAX_PIXEL = 16.0  # the digits' pixel values run from 0 to this
WEIGHTS = "model.safetensors"
MANIFEST = weights_io.MANIFEST
FORMAT = 1  # bump when the file layout changes
ARCHITECTURE = "digits-cnn"

# Settings that count things: 32.0 is accepted as 32, 32.5 is not.
WHOLE_NUMBER_SETTINGS = frozenset({"Epochs", "Batch size", "Network width", "Seed"})
WHOLE_NUMBER_FIELDS = ("epochs", "batch_size", "width", "seed")


@dataclass(frozen=True)
class DigitsConfig:
    """Everything that decides a trained digits network; the page's training panel edits these."""

    epochs: int = 40  # passes over the training images; the one-cycle schedule spans all of them
    batch_size: int = 32  # images per step: small batches give ~28 steps an epoch on 900 images
    learning_rate: float = 3e-3  # AdamW peak rate of the one-cycle schedule
    weight_decay: float = 5e-4  # AdamW decoupled weight decay
    label_smoothing: float = 0.1  # target mass spread over the other classes, against over-confidence
    augment: bool = True  # random shifts, rotations, scaling and shear of each training image
    width: int = 32  # channels of the first block (the second has twice as many)
    dropout: float = 0.2  # fraction of features zeroed before the last layer, training only
    val_fraction: float = 0.1  # the end of the training half, held out for the curve and tuning
    seed: int = 0  # weights, augmentation and batch order are reproducible
    max_seconds: float | None = None  # wall-clock budget; training stops after the epoch that exceeds it

    def validate(self) -> DigitsConfig:
        """The config itself (counts as ints), or an InputError that names the setting to fix."""
        checks: list[tuple[str, Any, float, float]] = [
            ("Epochs", self.epochs, 1, 1000),
            ("Batch size", self.batch_size, 1, 2048),
            ("Learning rate", self.learning_rate, 1e-6, 1.0),
            ("Weight decay", self.weight_decay, 0.0, 1.0),
            ("Label smoothing", self.label_smoothing, 0.0, 0.5),
            ("Network width", self.width, 4, 256),
            ("Dropout", self.dropout, 0.0, 0.9),
            ("Validation fraction", self.val_fraction, 0.0, 0.5),
            ("Seed", self.seed, 0, 2**31 - 1),
        ]
        check_ranges(checks, WHOLE_NUMBER_SETTINGS)
        check_switch("Augmentation", self.augment)
        check_time_budget(self.max_seconds)
        return replace(self, **{name: int(getattr(self, name)) for name in WHOLE_NUMBER_FIELDS})


@dataclass(frozen=True)
class DigitsSplit:
    """The benchmark split: grids are (N, 8, 8) float arrays of values 0..16, labels are ints 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_split() -> DigitsSplit:
    """scikit-learn's digits, split like its example: first half trains, second half tests, no shuffle.

    Read from scikit-learn's own file as ``load_digits`` reads it (64 pixels and the label per row), without
    importing scikit-learn: a page showing the shipped network needs the digits, not seconds of imports.
    """
    from engines.imageclf.digits_store import digits_file

    table = np.loadtxt(digits_file(), delimiter=",", ndmin=2)
    images = table[:, :-1].reshape(-1, SIDE, SIDE).astype(np.float32)
    labels = table[:, -1].astype(np.int64)
    # train_test_split(test_size=0.5, shuffle=False) puts ceil(n/2) in the test part: 898 train, 899 test.
    half = len(images) - math.ceil(len(images) * 0.5)
    return DigitsSplit(images[:half], labels[:half], images[half:], labels[half:])


class DigitsNet(nn.Module):
    """conv-BN-ReLU x2, max-pool, conv-BN-ReLU x2, max-pool, dropout, linear (a named Sequential, easy to fuse)."""

    def __init__(self, width: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        wide = 2 * width
        self.width = width
        self.features = nn.Sequential()
        for name, cin, cout in (("1", 1, width), ("2", width, width), ("3", width, wide), ("4", wide, wide)):
            self.features.add_module(f"conv{name}", nn.Conv2d(cin, cout, 3, padding=1, bias=False))
            self.features.add_module(f"bn{name}", nn.BatchNorm2d(cout))
            self.features.add_module(f"relu{name}", nn.ReLU())
            if name in {"2", "4"}:
                self.features.add_module(f"pool{name}", nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(wide * 2 * 2, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, 10) for images (N, 1, 8, 8) scaled to 0..1."""
        return self.head(self.drop(self.flatten(self.features(x))))


@dataclass
class DigitsModel:
    """A trained network with the config that made it and what was measured (``info``)."""

    net: nn.Module
    config: DigitsConfig
    info: dict[str, Any] = field(default_factory=dict)

    def parameter_count(self) -> int:
        """Trainable weights."""
        return sum(p.numel() for p in self.net.parameters())


@dataclass(frozen=True)
class EpochPoint:
    """One epoch of training (the page draws these as the learning curve)."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None  # None when no validation part was held out
    val_acc: float | None
    seconds: float  # since training started


@dataclass(frozen=True)
class Mistake:
    """One misread test image."""

    index: int  # position in the test half (DigitsSplit.x_test)
    true_label: int
    predicted: int
    confidence: float  # probability the network gave its (wrong) answer


@dataclass
class DigitsResult:
    """What training returns: the model and its measurements on the test half."""

    model: DigitsModel
    accuracy: float
    per_class: list[dict[str, float]]  # digit, precision, recall, f1, support
    confusion: np.ndarray  # 10x10 counts, rows true digit, columns predicted
    mistakes: list[Mistake]  # most confident first
    train_seconds: float
    curve: list[EpochPoint]
    stopped_by: str
    n_train: int
    n_val: int
    n_test: int
    threads: int
    svc_baseline: tuple[float, float] | None = None  # scikit-learn's SVC on the same split: (accuracy, seconds)

    @property
    def metrics_(self) -> dict[str, float]:
        """Held-out metrics (the lifecycle's manifest records them)."""
        return {"accuracy": self.accuracy}

    @property
    def card_(self) -> ModelCard:
        """The model card (the lifecycle's manifest records its title)."""
        return model_card(self)


def _to_tensor(grids: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(grids, dtype=np.float32) / MAX_PIXEL).unsqueeze(1)


def check_grids(grids: Any) -> np.ndarray:
    """``grids`` as a float32 (N, 8, 8) array of values 0..16, or an InputError saying what to fix."""
    try:
        array = np.asarray(grids, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError("Digits must be an array of numbers (8x8 grids of values 0 to 16).") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (SIDE, SIDE):
        raise InputError(f"Each digit must be an 8x8 grid (got an array of shape {tuple(np.shape(grids))}).")
    if len(array) == 0:
        raise InputError("Give at least one digit.")
    if not np.isfinite(array).all():
        raise InputError("Digit pixels must be finite numbers (found NaN or infinity).")
    if array.min() < 0 or array.max() > MAX_PIXEL:
        raise InputError(f"Digit pixels must lie between 0 and 16 (got {array.min():g} to {array.max():g}).")
    return array


def _net(model: DigitsModel | nn.Module) -> nn.Module:
    net = model.net if isinstance(model, DigitsModel) else model
    if not callable(net):
        raise InputError("That is not a trained digits model; train one with train_digits or load one.")
    return net


def predict_digits(model: DigitsModel | nn.Module, grids: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (N, 10) for grids (N, 8, 8) or one grid (8, 8) of values 0..16.

    Also accepts an optimised network from ``engines.imageclf.optimize`` (any module mapping
    (N, 1, 8, 8) images scaled to 0..1 to logits).
    """
    net = _net(model)
    array = check_grids(grids)
    was_training = getattr(net, "training", False)
    if hasattr(net, "eval"):
        net.eval()
    try:
        with torch.inference_mode():
            out = [
                torch.softmax(net(_to_tensor(array[i : i + batch_size])).float(), dim=1)
                for i in range(0, len(array), batch_size)
            ]
    finally:
        if was_training:
            net.train()
    return torch.cat(out).numpy()


def saliency(model: DigitsModel | nn.Module, grid: np.ndarray) -> np.ndarray:
    """Which pixels moved the answer: |d top logit / d pixel| for one 8x8 grid, scaled to 0..1."""
    net = _net(model)
    array = check_grids(grid)
    if len(array) != 1:
        raise InputError(f"Saliency explains one digit at a time (got {len(array)}).")
    net.eval()
    x = _to_tensor(array).requires_grad_(True)
    with torch.enable_grad():
        logits = net(x)
        # autograd.grad, not backward(): the (possibly shared, cached) model's parameter gradients stay untouched
        (grad,) = torch.autograd.grad(logits[0, int(logits[0].argmax())], x)
    grad = grad[0, 0].abs().numpy()
    top = float(grad.max())
    return (grad / top if top > 0 else grad).astype(np.float32)


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random small affine distortions of a batch (N, 1, 8, 8): about +-1 pixel, +-12 degrees, +-10% scale."""
    n = x.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-12.0, 12.0) * math.pi / 180
    scale = uniform(0.9, 1.1)
    shear = uniform(-0.15, 0.15)
    shift = 2.0 / SIDE  # one pixel in affine_grid's -1..1 coordinates
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin + shear, tx], dim=1), torch.stack([sin, cos, ty], dim=1)],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, smoothing: float) -> tuple[float, float]:
    net.eval()
    with torch.inference_mode():
        logits = net(x)
        loss = F.cross_entropy(logits, y, label_smoothing=smoothing).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


def train_digits(
    config: DigitsConfig = DigitsConfig(),
    progress: Progress = null_progress,
    on_epoch: Callable[[EpochPoint], None] | None = None,
    stop: threading.Event | None = None,
    split: DigitsSplit | None = None,
) -> DigitsResult:
    """Train the digits network on the training half and measure it on the test half.

    Args:
        config: The settings (validated here).
        progress: ``progress(fraction, message)``, ending at 1.0.
        on_epoch: Called after every epoch with its losses and accuracies (for a live curve).
        stop: When set, training ends after the current epoch, keeping the weights so far.
        split: The data (default: ``load_split()``); tests pass smaller ones.

    Returns:
        The model and its test-half metrics, confusion matrix, mistakes and learning curve.
    """
    config = config.validate()
    progress(0.0, "Loading the handwritten digits")
    split = split or load_split()
    n_val = round(len(split.x_train) * config.val_fraction)
    n_fit = len(split.x_train) - n_val
    if n_fit < 10 or len(split.x_test) < 1:
        raise InputError("Too few digits to train on: give at least 10 training and 1 test image.")
    x_fit, y_fit = _to_tensor(split.x_train[:n_fit]), torch.from_numpy(split.y_train[:n_fit].astype(np.int64))
    x_val, y_val = _to_tensor(split.x_train[n_fit:]), torch.from_numpy(split.y_train[n_fit:].astype(np.int64))

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    net = DigitsNet(config.width, config.dropout)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(n_fit / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch, pct_start=0.25
    )
    curve: list[EpochPoint] = []
    stopped_by = "all epochs"
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        net.train()
        order = torch.randperm(n_fit, generator=generator)
        total_loss, correct = 0.0, 0
        for i in range(0, n_fit, config.batch_size):
            index = order[i : i + config.batch_size]
            if len(index) < 2:  # BatchNorm needs two images to estimate a variance
                continue
            xb, yb = x_fit[index], y_fit[index]
            if config.augment:
                xb = _augment(xb, generator)
            logits = net(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(index)
            correct += int((logits.argmax(1) == yb).sum())
        val_loss, val_acc = _evaluate(net, x_val, y_val, config.label_smoothing) if n_val else (None, None)
        point = EpochPoint(epoch, total_loss / n_fit, correct / n_fit, val_loss, val_acc, time.perf_counter() - started)
        curve.append(point)
        if on_epoch is not None:
            on_epoch(point)
        shown = f", validation accuracy {val_acc:.1%}" if val_acc is not None else ""
        progress(0.95 * epoch / config.epochs, f"Epoch {epoch} of {config.epochs}: loss {point.train_loss:.3f}{shown}")
        if stop is not None and stop.is_set():
            stopped_by = "stopped by the user"
            break
        if config.max_seconds is not None and point.seconds > config.max_seconds:
            stopped_by = "time budget"
            break
    train_seconds = time.perf_counter() - started
    net.eval()
    progress(0.97, "Reading the test half (digits written by other people)")
    model = DigitsModel(net, config)
    result = _measure(model, split, curve, train_seconds, stopped_by, n_fit, n_val)
    model.info = {
        "metrics": {"accuracy": result.accuracy, **({"val_accuracy": curve[-1].val_acc} if n_val else {})},
        "train_seconds": train_seconds,
        "epochs_run": len(curve),
        "stopped_by": stopped_by,
        "n_train": n_fit,
        "n_val": n_val,
        "n_test": len(split.x_test),
        "threads": torch.get_num_threads(),
    }
    progress(1.0, f"Trained {len(curve)} epochs in {train_seconds:.1f} s; test accuracy {result.accuracy:.1%}")
    return result


def _measure(
    model: DigitsModel,
    split: DigitsSplit,
    curve: list[EpochPoint],
    train_seconds: float,
    stopped_by: str,
    n_fit: int,
    n_val: int,
) -> DigitsResult:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probs = predict_digits(model, split.x_test)
    predicted = probs.argmax(1)
    truth = split.y_test
    labels = list(range(len(CLASSES)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_class = [
        {"digit": d, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for d, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    wrong = np.flatnonzero(predicted != truth)
    mistakes = sorted(
        (Mistake(int(i), int(truth[i]), int(predicted[i]), float(probs[i, predicted[i]])) for i in wrong),
        key=lambda m: -m.confidence,
    )
    return DigitsResult(
        model=model,
        accuracy=float((predicted == truth).mean()),
        per_class=per_class,
        confusion=confusion_matrix(truth, predicted, labels=labels),
        mistakes=mistakes,
        train_seconds=train_seconds,
        curve=curve,
        stopped_by=stopped_by,
        n_train=n_fit,
        n_val=n_val,
        n_test=len(truth),
        threads=torch.get_num_threads(),
    )


def svc_baseline(split: DigitsSplit | None = None) -> tuple[float, float]:
    """scikit-learn's example: SVC(gamma=0.001) on the raw flattened pixels. Returns (accuracy, train seconds)."""
    from sklearn import svm

    split = split or load_split()
    clf = svm.SVC(gamma=0.001)
    started = time.perf_counter()
    clf.fit(split.x_train.reshape(len(split.x_train), -1), split.y_train)
    seconds = time.perf_counter() - started
    accuracy = float((clf.predict(split.x_test.reshape(len(split.x_test), -1)) == split.y_test).mean())
    return accuracy, seconds


def model_card(result: DigitsResult) -> ModelCard:
    """The model card of a trained digits network."""
    config = result.model.config
    metrics = {"accuracy": result.accuracy, "macro_f1": float(np.mean([c["f1"] for c in result.per_class]))}
    if result.curve and result.curve[-1].val_acc is not None:
        metrics["validation_accuracy"] = float(result.curve[-1].val_acc)
    return ModelCard(
        model=f"Small CNN ({result.model.parameter_count():,} weights, width {config.width})",
        why=(
            "Two convolution blocks see strokes and their positions; with random shifts, rotations and shear "
            "during training it generalises to new writers better than an SVM on raw pixels."
        ),
        data=DATASET,
        provenance="bundled with scikit-learn",
        split=(
            "scikit-learn example protocol: first half of the 1,797 images trains (its last "
            f"{result.n_val} are the validation part), the second half, written by other people, tests; no shuffling."
        ),
        metrics=metrics,
        train_seconds=result.train_seconds,
        n_train=result.n_train,
        n_test=result.n_test,
        limitations=(
            "Images are 8x8 at 17 grey levels: a photo or drawing must be centred, cropped and shrunk the same way.",
            "Trained on about 900 digits from 30 writers, so unusual handwriting styles are misread more often.",
            "It always answers one of 0-9, even for something that is not a digit; check the confidence.",
        ),
        versions=library_versions(["torch", "scikit-learn", "numpy"]),
        citation=CITATION,
    )


def save(model: DigitsModel, folder: Path) -> Path:
    """Write ``model.safetensors`` and ``manifest.json`` (config, metrics, sha256 of the weights) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.net.state_dict().items()}
    save_file(tensors, str(folder / WEIGHTS), metadata={"format": str(FORMAT)})
    manifest = {
        "format": FORMAT,
        "architecture": ARCHITECTURE,
        "config": asdict(model.config),
        "weights": {"file": WEIGHTS, "sha256": sha256_file(folder / WEIGHTS)},
        "parameters": model.parameter_count(),
        "versions": library_versions(["torch", "safetensors"]),
        **model.info,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, default=_json_default))
    return folder


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def load(folder: Path) -> DigitsModel:
    """A saved digits network, verified against its manifest, in evaluation mode.

    Raises:
        SourceError: Missing files, another format, a checksum mismatch or weights that do not fit.
    """
    folder = Path(folder)
    manifest = weights_io.read_manifest(folder, fmt=FORMAT, architecture=ARCHITECTURE, what="digits model")
    weights = weights_io.verified_weights(folder, manifest)
    try:
        config = DigitsConfig(**manifest["config"]).validate()
    except (TypeError, InputError) as exc:
        raise SourceError(f"The manifest in {folder} has settings this version does not know: {exc}") from exc
    net = DigitsNet(config.width, config.dropout)
    try:
        net.load_state_dict(load_file(str(weights)))
    except (RuntimeError, OSError, ValueError) as exc:
        raise SourceError(f"The weights in {folder} do not fit the model: {exc}") from exc
    net.eval()
    info = {k: v for k, v in manifest.items() if k not in {"format", "architecture", "config", "weights"}}
    return DigitsModel(net, config, info)
