"""The model lifecycle every demo follows: the engine contract as code, shipped models, one load order.

A page asks for a model with a :class:`ModelRequest` (engine cache, frozen config, data checksum, how to
train). The model is found in this order, and training is the last resort:

1. the memory cache (the page's ``st.cache_resource``; see ``app_pages/lifecycle.py``),
2. a model **shipped with the repository** (``assets/models/<engine>/<key>/``, built by
   ``python -m engines.build_models``): its manifest records the sha256 of every file and the library
   versions; the key leaves Python's version out, so a 3.12 deployment loads what a 3.11 machine built,
3. the disk cache (``GALLERY_CACHE_DIR/artifacts``: models trained here earlier),
4. training, in the process-wide background queue (:mod:`engines.core.jobs`), saved to the disk cache.

A shipped model whose libraries no longer match has another key, so it is simply not found: the model is
rebuilt in the background (step 4) and the page says so. Shipped files are pickles (joblib) only because
the project built them and their sha256 is checked before loading; nothing uploaded is ever unpickled.
Torch weights are safetensors.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from engines.core.artifacts import ArtifactStore, EngineCache
from engines.core.card import ModelCard
from engines.core.progress import Progress, null_progress, scaled

log = logging.getLogger(__name__)
T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ROOT = ROOT / "assets" / "models"
SHIPPED, DISK, TRAINED = "shipped with the gallery", "trained here earlier (disk cache)", "trained just now"


@runtime_checkable
class TrainedModel(Protocol):
    """What every trained model offers a page: its card, as one attribute, and its held-out metrics."""

    card_: ModelCard
    metrics_: dict[str, float]


class ModelEngine(Protocol[T]):
    """The engine contract: an engine module with these names follows it.

    ``request(config, data)`` says which model a page wants without doing any work: ``config`` is the
    engine's frozen dataclass, ``data`` what the engine's own loader returned (one argument order for every
    engine). :func:`load_or_train` is the blocking form tests, benchmarks and notebooks use.
    ``shipped_requests()`` lists the models the repository ships: the offline defaults, trained on the
    bundled samples (:func:`engines.core.data_sources.bundled_sample`, never the cache or a data directory).
    """

    ENGINE: str
    CACHE: EngineCache[T]

    def request(self, config: Any, data: Any) -> ModelRequest[T]:
        """The model for ``config`` trained on ``data``, described, not loaded."""
        ...

    def shipped_requests(self) -> list[ModelRequest[T]]:
        """The offline defaults the repository ships, trained on the bundled samples."""
        ...


def load_or_train(engine: ModelEngine[T], config: Any, data: Any, *, progress: Progress = null_progress) -> T:
    """Any engine's model for ``config`` and ``data``, blocking: shipped, disk cache, else trained and saved."""
    return engine.request(config, data).load_or_train(progress=progress)[0]


class ShippedStore(ArtifactStore):
    """The models that come with the repository: read-only, verified like any artifact.

    A shipped model that fails its checks is reported and skipped, never deleted (it belongs to the
    repository, and a deployment may mount it read-only).
    """

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(SHIPPED_ROOT if root is None else root)

    def discard(self, engine: str, key: str) -> None:
        """Never delete a shipped model: say it needs rebuilding."""
        log.warning(
            "Shipped model %s/%s failed its checks; rebuild it with python -m engines.build_models", engine, key
        )


@dataclass(frozen=True)
class ModelRequest(Generic[T]):
    """One model a page wants: which engine, which config, which data, and how to train it.

    Attributes:
        cache: The engine's artifact glue (key, write, verified read).
        config: The engine's frozen config.
        data_sha256: Checksum of the training data.
        train: Trains the model, reporting progress (the slow path).
        title: What training does, in words ("Gradient boosting on 2,000 rows").
        label: A short name for the System page and the build command ("california/boosting").
    """

    cache: EngineCache[T]
    config: Any
    data_sha256: str
    train: Callable[[Progress], T]
    title: str
    label: str = ""

    @property
    def engine(self) -> str:
        """The engine's artifact folder."""
        return self.cache.engine

    @property
    def key(self) -> str:
        """The disk cache's key (Python's version included)."""
        return self.cache.key(self.config, self.data_sha256)

    @property
    def shipped_key(self) -> str:
        """The shipped store's key (library versions, not Python's)."""
        return self.cache.key(self.config, self.data_sha256, python=False)

    @property
    def job_key(self) -> str:
        """The background queue's key: one job per engine, config and data."""
        return f"{self.engine}/{self.key}"

    def find(self, store: ArtifactStore | None = None, shipped: ArtifactStore | None = None) -> tuple[T, str] | None:
        """The model without training: shipped, else the disk cache; with where it came from, or None."""
        shipped = shipped or ShippedStore()
        model = shipped.load(self.engine, self.shipped_key, self.cache.read)
        if model is not None:
            return model, SHIPPED
        model = (store or ArtifactStore()).load(self.engine, self.key, self.cache.read)
        if model is not None:
            return model, DISK
        return None

    def available(self, store: ArtifactStore | None = None, shipped: ArtifactStore | None = None) -> bool:
        """Whether :meth:`find` would answer (manifest present; cheap, files not hashed)."""
        return (shipped or ShippedStore()).exists(self.engine, self.shipped_key) or (store or ArtifactStore()).exists(
            self.engine, self.key
        )

    def train_and_save(self, store: ArtifactStore | None = None, progress: Progress = null_progress) -> T:
        """Train (the slow path) and save to the disk cache; a full or read-only disk only logs."""
        model = self.train(scaled(progress, 0.0, 0.98))
        try:
            save(store or ArtifactStore(), self, model, self.key)
        except OSError as exc:
            log.warning("Could not cache %s/%s: %s", self.engine, self.key, exc)
        progress(1.0, "Model trained")
        return model

    def load_or_train(
        self,
        store: ArtifactStore | None = None,
        shipped: ArtifactStore | None = None,
        progress: Progress = null_progress,
    ) -> tuple[T, str]:
        """The model by the lifecycle's order, blocking; with where it came from."""
        found = self.find(store, shipped)
        if found is not None:
            progress(1.0, f"Loaded the model ({found[1]})")
            return found
        return self.train_and_save(store, progress), TRAINED


def save(store: ArtifactStore, request: ModelRequest[T], model: T, key: str) -> Path:
    """Write ``model`` under ``key`` with a manifest (sha256 of every file, library versions, card)."""
    card = getattr(model, "card_", None)
    info = {
        "label": request.label,
        "title": request.title,
        "config": request.config,
        "data_sha256": request.data_sha256,
        "metrics": getattr(model, "metrics_", {}),
        "card": getattr(card, "model", ""),
        "data": getattr(card, "data", ""),
    }
    return store.save(
        request.engine, key, lambda folder: request.cache.write(model, folder), info, request.cache.libraries
    )


def build_shipped(
    requests: Iterable[ModelRequest[Any]], root: Path = SHIPPED_ROOT, progress: Progress = null_progress
) -> list[Path]:
    """Train every request and write it to the shipped store; returns the folders written.

    Folders of an engine that no request wrote any more (an old key) are removed, so the repository keeps
    exactly the current models.
    """
    requests = list(requests)
    store = ShippedStore(root)
    written: list[Path] = []
    for i, request in enumerate(requests):
        report = scaled(progress, i / max(len(requests), 1), (i + 1) / max(len(requests), 1))
        model = request.train(report)
        written.append(save(store, request, model, request.shipped_key))
    for engine in {r.engine for r in requests}:
        for folder in (root / engine).iterdir():
            if folder.is_dir() and folder not in written:
                shutil.rmtree(folder)
    return written
