"""A disk cache of trained models with a manifest, checksums and versions.

Layout: ``<root>/<engine>/<key>/`` holding the model files and ``manifest.json``
(sha256 of every file, library versions, metrics). A missing, corrupted or
stale artifact is detected on load and the caller retrains. Only files this
project wrote are ever loaded; nothing a user uploads is unpickled here.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from enum import Enum
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, TypeVar

from engines.core.hashing import sha256_bytes, sha256_file
from engines.core.progress import Progress, null_progress, scaled
from engines.core.settings import cache_dir

log = logging.getLogger(__name__)
T = TypeVar("T")
MANIFEST = "manifest.json"
FORMAT = 1  # bump when the layout changes


def library_versions(names: Iterable[str], *, python: bool = True) -> dict[str, str]:
    """Installed versions of ``names`` plus Python's, for artifact keys and model cards.

    ``python=False`` gives the portable form a shipped model's key uses: no Python version, and no local
    version label (torch ``2.13.0+cpu`` here is the same release as ``2.13.0`` from PyPI on a deployment).
    """
    versions = {"python": platform.python_version()} if python else {}
    for name in names:
        version = installed_version(name)
        versions[name] = version if python else version.split("+", 1)[0]
    return versions


@lru_cache(maxsize=256)
def installed_version(name: str) -> str:
    """A package's installed version, or "absent".

    Cached: a page computes several keys on every rerun, and reading package metadata costs about 20 ms a key;
    installing a package restarts the server anyway.
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def artifact_key(engine: str, config: Any, data_sha256: str, libraries: Iterable[str], *, python: bool = True) -> str:
    """A short stable key from engine, config, data checksum and library versions.

    ``python=False`` leaves Python's own version out: the key of a model shipped with the repository, which
    Community Cloud (Python 3.12) loads as well as a 3.11 machine, as long as the libraries match.
    """
    payload = {
        "format": FORMAT,
        "engine": engine,
        "config": _plain(config),
        "data": data_sha256,
        "versions": library_versions(libraries, python=python),
    }
    return sha256_bytes(json.dumps(payload, sort_keys=True, default=str).encode())[:20]


class ArtifactStore:
    """Trained models on disk, verified on every load."""

    def __init__(self, root: Path | None = None) -> None:
        """Use ``root`` or ``<cache dir>/artifacts``."""
        self.root = Path(root) if root is not None else cache_dir() / "artifacts"

    def path(self, engine: str, key: str) -> Path:
        """The folder of one artifact."""
        return self.root / engine / key

    def exists(self, engine: str, key: str) -> bool:
        """Whether a manifest is there (cheap; :meth:`load` still verifies)."""
        return (self.path(engine, key) / MANIFEST).is_file()

    def save(
        self,
        engine: str,
        key: str,
        write: Callable[[Path], None],
        info: Mapping[str, Any],
        libraries: Iterable[str] = (),
    ) -> Path:
        """Write an artifact atomically.

        Args:
            engine: Engine name (a folder).
            key: From :func:`artifact_key`.
            write: Fills the given empty folder with the model files.
            info: JSON-able facts kept in the manifest (metrics, card).
            libraries: Packages whose versions the manifest records (Python's always is).

        Returns:
            The artifact's folder.
        """
        final = self.path(engine, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{key}-"))
        try:
            write(tmp)
            # Every file, sub-folders included (a saved tokenizer/ is part of the model).
            files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            if not files:
                raise ValueError(f"write() saved no files for {engine}/{key}; nothing to cache.")
            manifest = {
                "format": FORMAT,
                "engine": engine,
                "key": key,
                "files": files,
                "created": time.time(),
                "versions": library_versions(libraries),
                "info": _plain(info),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
            # mkdtemp makes the folder 0700; a model is readable by whoever can read the store (the shipped models
            # in a container image run as another user than the one who built them), like the files inside it.
            tmp.chmod(0o755)
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def verify(self, engine: str, key: str) -> dict[str, Any] | None:
        """The manifest when every file matches its sha256, else None."""
        folder = self.path(engine, key)
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            files = manifest["files"]
            if manifest.get("format") != FORMAT or manifest.get("key") != key or not files:
                return None
            for name, digest in files.items():
                if sha256_file(folder / name) != digest:
                    log.warning("Artifact %s/%s: %s is corrupted", engine, key, name)
                    return None
            return manifest
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self, engine: str, key: str, read: Callable[[Path], T]) -> T | None:
        """Read a verified artifact; a corrupted or unreadable one is deleted and None returned."""
        if not self.exists(engine, key):
            return None
        if self.verify(engine, key) is None:
            self.discard(engine, key)
            return None
        try:
            return read(self.path(engine, key))
        except Exception as exc:  # noqa: BLE001 (any failure to read means retrain)
            log.warning("Artifact %s/%s unreadable (%s); retraining", engine, key, exc)
            self.discard(engine, key)
            return None

    def discard(self, engine: str, key: str) -> None:
        """Delete one artifact."""
        shutil.rmtree(self.path(engine, key), ignore_errors=True)


def load_or_train(
    store: ArtifactStore,
    engine: str,
    key: str,
    *,
    train: Callable[[Progress], T],
    write: Callable[[T, Path], None],
    read: Callable[[Path], T],
    info: Callable[[T], Mapping[str, Any]],
    libraries: Iterable[str] = (),
    progress: Progress = null_progress,
) -> T:
    """Load a cached model or train, save and return a new one.

    Args:
        store: Where artifacts live.
        engine: Engine name.
        key: Artifact key.
        train: Trains a model, reporting progress.
        write: Saves a model into a folder.
        read: Loads a model from a folder.
        info: Facts about a model for its manifest.
        libraries: Packages whose versions the manifest records.
        progress: Ends at 1.0 either way.

    Returns:
        The model.
    """
    cached = store.load(engine, key, read)
    if cached is not None:
        progress(1.0, "Loaded the trained model from the cache")
        return cached
    model = train(scaled(progress, 0.0, 0.97))
    try:
        store.save(engine, key, lambda folder: write(model, folder), info(model), libraries)
    except OSError as exc:  # a read-only or full disk must not break the page
        log.warning("Could not cache %s/%s: %s", engine, key, exc)
    progress(1.0, "Model trained")
    return model


def trainer_for(train: Callable[..., T], config: Any, data: Any, resolved: Any) -> Callable[[Progress], T]:
    """``train(config, data, ...)`` as the one-argument trainer that the cached-or-train helpers call.

    It passes the resolved dataset's title, provenance and citation on, for the model card.
    """
    return lambda progress: train(
        config,
        data,
        data_title=resolved.spec.title,
        provenance=resolved.provenance,
        citation=resolved.spec.citation,
        progress=progress,
    )


class EngineCache(Generic[T]):
    """The artifact glue every engine needs: key, joblib write, verified read, cached-or-train.

    Engines keep their own thin ``is_cached`` / ``load_or_train`` functions and delegate here.
    """

    def __init__(self, engine: str, version: int, model_type: type[T], libraries: tuple[str, ...]) -> None:
        """Describe one engine's artifacts.

        Args:
            engine: Engine name (a folder of the store).
            version: Bumped when the model class changes, so old artifacts retrain.
            model_type: Class of the trained model (checked on load).
            libraries: Packages whose versions key and describe the artifact.
        """
        self.engine, self.version, self.model_type, self.libraries = engine, version, model_type, libraries

    def key(self, config: Any, data_sha256: str, *, python: bool = True) -> str:
        """The artifact key of a config trained on data with that checksum (``python=False``: a shipped model's)."""
        return artifact_key(f"{self.engine}-v{self.version}", config, data_sha256, self.libraries, python=python)

    def write(self, model: T, folder: Path) -> None:
        """Save a model (joblib: only this project's own, sha256-verified files are ever read back)."""
        import joblib

        joblib.dump(model, folder / "model.joblib", compress=3)  # shipped models stay small in git

    def read(self, folder: Path) -> T:
        """Load a model written by :meth:`write`; a stale one raises, so the store retrains."""
        import joblib

        model = joblib.load(folder / "model.joblib")
        if not isinstance(model, self.model_type) or getattr(model, "engine_version", None) != self.version:
            raise TypeError(f"stale {self.engine} artifact")
        return model

    def is_cached(self, config: Any, data_sha256: str, store: ArtifactStore | None = None) -> bool:
        """Whether a trained model for this config and data is on disk (cheap check)."""
        return (store or ArtifactStore()).exists(self.engine, self.key(config, data_sha256))

    def load_or_train(
        self,
        config: Any,
        data_sha256: str,
        train: Callable[[Progress], T],
        *,
        store: ArtifactStore | None = None,
        progress: Progress = null_progress,
    ) -> T:
        """The cached model for this config and data, training it on a miss."""
        return load_or_train(
            store or ArtifactStore(),
            self.engine,
            self.key(config, data_sha256),
            train=train,
            write=self.write,
            read=self.read,
            info=lambda m: {
                "metrics": getattr(m, "metrics_", {}),
                "card": getattr(getattr(m, "card_", None), "model", ""),
            },
            libraries=self.libraries,
            progress=progress,
        )

    def load_or_train_on(
        self,
        config: Any,
        resolved: Any,
        train: Callable[..., T],
        data: Any,
        *,
        store: ArtifactStore | None = None,
        progress: Progress = null_progress,
    ) -> T:
        """The cached model for this config and resolved dataset (a ``ResolvedDataset``), trained on a miss.

        ``train(config, data, data_title=..., provenance=..., citation=..., progress=...)`` trains it.
        """
        return self.load_or_train(
            config, resolved.sha256, trainer_for(train, config, data, resolved), store=store, progress=progress
        )
