"""The digits CNN in the model lifecycle: its artifact, the request a page makes, and the model the gallery ships.

A trained digits network is stored with everything the page draws, so a shipped or cached model shows its
learning curve, confusion matrix, mistakes and baseline at once, without training:

- ``net/``: the weights as safetensors beside their own manifest (``digits.save``: config, sha256 of the weights);
- ``results.json``: the measurements on the test half (accuracy, per-class scores, confusion matrix, mistakes,
  the learning curve, scikit-learn's SVC baseline on the same split). Plain JSON: nothing here is unpickled.

The artifact store adds its manifest with the sha256 of every file, checked before anything is read.
``python -m engines.build_models --only imageclf`` writes the shipped default (the page's settings, trained on
scikit-learn's bundled digits). This module imports no torch until a model is trained, written or read.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from engines.core.artifacts import ArtifactStore, EngineCache
from engines.core.errors import SourceError
from engines.core.hashing import sha256_file
from engines.core.lifecycle import ModelRequest, save
from engines.core.progress import Progress, null_progress, scaled

if TYPE_CHECKING:
    from engines.imageclf.digits import DigitsConfig, DigitsResult, EpochPoint

log = logging.getLogger(__name__)
ENGINE = "imageclf"
ENGINE_VERSION = 1  # bump when the artifact's layout changes, so old ones retrain
LIBRARIES = ("torch", "safetensors", "scikit-learn", "numpy")
NET_FOLDER = "net"
RESULTS = "results.json"
ALL_EPOCHS = "all epochs"  # a training that ran its whole schedule (the only kind saved for the next visitor)


class DigitsCache(EngineCache["DigitsResult"]):
    """Writes and reads a trained digits network with its measurements (safetensors + JSON, no pickle)."""

    def write(self, model: DigitsResult, folder: Path) -> None:
        """The weights under ``net/`` and the measurements in ``results.json``."""
        from engines.imageclf import digits as dg

        dg.save(model.model, Path(folder) / NET_FOLDER)
        results = {
            "engine_version": self.version,
            "accuracy": model.accuracy,
            "per_class": model.per_class,
            "confusion": [[int(n) for n in row] for row in model.confusion],
            "mistakes": [asdict(m) for m in model.mistakes],
            "train_seconds": model.train_seconds,
            "curve": [asdict(p) for p in model.curve],
            "stopped_by": model.stopped_by,
            "n_train": model.n_train,
            "n_val": model.n_val,
            "n_test": model.n_test,
            "threads": model.threads,
            "svc_baseline": list(model.svc_baseline) if model.svc_baseline else None,
        }
        (Path(folder) / RESULTS).write_text(json.dumps(results, indent=1))

    def read(self, folder: Path) -> DigitsResult:
        """A model written by :meth:`write` (its weights checked against their own manifest too)."""
        import numpy as np

        from engines.imageclf import digits as dg

        folder = Path(folder)
        results = json.loads((folder / RESULTS).read_text())
        if results.get("engine_version") != self.version:
            raise TypeError(f"stale {self.engine} artifact")
        baseline = results.get("svc_baseline")
        return dg.DigitsResult(
            model=dg.load(folder / NET_FOLDER),
            accuracy=float(results["accuracy"]),
            per_class=list(results["per_class"]),
            confusion=np.asarray(results["confusion"], dtype=np.int64),
            mistakes=[dg.Mistake(**m) for m in results["mistakes"]],
            train_seconds=float(results["train_seconds"]),
            curve=[dg.EpochPoint(**p) for p in results["curve"]],
            stopped_by=str(results["stopped_by"]),
            n_train=int(results["n_train"]),
            n_val=int(results["n_val"]),
            n_test=int(results["n_test"]),
            threads=int(results["threads"]),
            svc_baseline=(float(baseline[0]), float(baseline[1])) if baseline else None,
        )


CACHE = DigitsCache(ENGINE, ENGINE_VERSION, object, LIBRARIES)


def digits_file() -> Path:
    """scikit-learn's bundled digits (``digits.csv.gz``), found without importing scikit-learn (seconds cold)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise SourceError("scikit-learn is not installed: its bundled handwritten digits are the training data.")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"


@functools.cache
def data_sha256() -> str:
    """The checksum of scikit-learn's bundled digits file."""
    return sha256_file(digits_file())


def page_config() -> DigitsConfig:
    """The page's default settings (the engine's defaults with a time budget): the shipped model's config."""
    from engines.imageclf.digits import DigitsConfig

    return DigitsConfig(max_seconds=120.0)  # ~10 s on two idle cores; a shared server never trains for longer


def train(
    config: DigitsConfig,
    progress: Progress = null_progress,
    on_epoch: Callable[[EpochPoint], None] | None = None,
    stop: threading.Event | None = None,
) -> DigitsResult:
    """Train the network on scikit-learn's digits and fit the SVC baseline on the same split."""
    from engines.imageclf import digits as dg

    split = dg.load_split()
    result = dg.train_digits(config, scaled(progress, 0.0, 0.95), on_epoch, stop, split)
    progress(0.96, "Fitting scikit-learn's SVC baseline on the same split")
    result.svc_baseline = dg.svc_baseline(split)
    progress(1.0, f"Trained {len(result.curve)} epochs; test accuracy {result.accuracy:.1%}")
    return result


def request(config: DigitsConfig) -> ModelRequest[DigitsResult]:
    """The digits network a page wants for ``config`` (validated), described, not trained."""
    config = config.validate()
    return ModelRequest(
        CACHE,
        config,
        data_sha256(),
        lambda progress: train(config, progress),
        title=f"Training the digits CNN ({config.epochs} epochs, width {config.width})",
        label=f"digits / width {config.width}, {config.epochs} epochs, seed {config.seed}",
    )


def train_and_save(
    wanted: ModelRequest[DigitsResult],
    progress: Progress = null_progress,
    on_epoch: Callable[[EpochPoint], None] | None = None,
    stop: threading.Event | None = None,
    store: ArtifactStore | None = None,
) -> DigitsResult:
    """Train ``wanted``'s network live (curve, Stop) and save it to the disk cache when it ran all its epochs.

    A network stopped early (by its Stop button or the time budget) is returned but not saved: the next
    visitor asking for the same settings must get the whole training, not a partial one.
    """
    result = train(wanted.config, progress, on_epoch, stop)
    if result.stopped_by == ALL_EPOCHS:
        try:
            save(store or ArtifactStore(), wanted, result, wanted.key)
        except OSError as exc:  # a full or read-only disk: the visitor still gets the model
            log.warning("Could not cache the digits network %s: %s", wanted.key, exc)
    return result


def shipped_requests() -> list[ModelRequest[DigitsResult]]:
    """The model the repository ships: the page's default settings on scikit-learn's bundled digits."""
    return [request(page_config())]
