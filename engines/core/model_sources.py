"""Resolve a pretrained model offline first.

Order: local model directory -> installed package that carries the weights ->
Hugging Face cache -> hub download (when allowed) -> the engine's own offline model.
``HF_HUB_OFFLINE=1`` and ``GALLERY_OFFLINE=1`` both forbid the hub.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from engines.core import stacks
from engines.core.errors import InputError, SourceError
from engines.core.progress import Progress, null_progress, scaled
from engines.core.settings import hub_allowed, model_dir

log = logging.getLogger(__name__)

ModelKind = Literal[
    "local directory", "installed package", "Hugging Face cache", "downloaded from the hub", "offline model"
]


@dataclass(frozen=True)
class ModelSpec:
    """A pretrained model, described once.

    Attributes:
        name: Folder name under GALLERY_MODEL_DIR.
        title: Human name shown on pages.
        hub_id: Hugging Face repository id, or None when the hub has no copy.
        package: Importable package whose files include the weights, or None.
        package_subdir: Folder inside that package holding the weights.
        offline: What the engine uses when nothing else is found.
        marker: A file whose presence proves a folder holds the model.
        revision: Hub revision to pin.
    """

    name: str
    title: str
    offline: str
    hub_id: str | None = None
    package: str | None = None
    package_subdir: str = ""
    marker: str = "config.json"
    revision: str | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """Where a pretrained model was found.

    Attributes:
        spec: The model.
        kind: Which rung answered.
        path: Folder holding the weights (None for the offline model).
        notes: Why earlier rungs were skipped.
    """

    spec: ModelSpec
    kind: ModelKind
    path: Path | None
    notes: tuple[str, ...] = ()

    @property
    def is_offline(self) -> bool:
        """True when the engine must use its own offline model."""
        return self.kind == "offline model"

    @property
    def notice(self) -> str:
        """One sentence for the page: which model is in use."""
        if self.is_offline and stacks.unavailable(stacks.ML) in self.notes:
            return f"{self.spec.title} is not available: {stacks.unavailable(stacks.ML)} Using {self.spec.offline}."
        if self.is_offline:
            return f"{self.spec.title} is not available here; using {self.spec.offline}."
        return f"{self.spec.title} ({self.kind})."


def _package_path(spec: ModelSpec) -> Path | None:
    if spec.package is None:
        return None
    try:
        found = importlib.util.find_spec(spec.package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        folder = Path(location) / spec.package_subdir
        if (folder / spec.marker).is_file():
            return folder
    return None


def _hf_snapshot(spec: ModelSpec, *, local_only: bool) -> Path | None:
    from huggingface_hub import snapshot_download  # lazy: heavy-ish, not needed on most pages

    assert spec.hub_id is not None
    path = Path(snapshot_download(spec.hub_id, revision=spec.revision, local_files_only=local_only))
    return path if (path / spec.marker).is_file() else None


HUB_RETRY_SECONDS = 300.0  # after the hub could not be reached, later lookups skip it this long
_hub_down_until = 0.0  # time.monotonic() before which the hub is not tried again (process-wide)
_UNREACHABLE = {"ConnectError", "ConnectTimeout", "ConnectionError", "ConnectTimeoutError", "NewConnectionError"}


def _unreachable(exc: BaseException) -> bool:
    """Whether a hub failure means no connection at all (refused, no DNS, timed out), not an answer such as 404."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _UNREACHABLE or isinstance(
            current, (ConnectionError, TimeoutError, socket.gaierror)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def _mark_hub_down() -> None:
    global _hub_down_until
    _hub_down_until = time.monotonic() + HUB_RETRY_SECONDS


def forget_unreachable_hub() -> None:
    """Try the hub again at the next lookup (tests; a page could offer it after the network returns)."""
    global _hub_down_until
    _hub_down_until = 0.0


def resolve_model(spec: ModelSpec, progress: Progress = null_progress) -> ResolvedModel:
    """Find ``spec`` on the offline-first ladder.

    Args:
        spec: The model.
        progress: Receives a report per rung tried; ends at 1.0.

    Returns:
        Where the model is, or the offline fallback. Never raises for a missing model.
    """
    lacking = stacks.missing(stacks.ML)
    if lacking:  # a pretrained model needs torch and transformers: the engine's own offline model answers
        progress(1.0, f"Using {spec.offline}")
        return ResolvedModel(spec, "offline model", None, (stacks.unavailable(stacks.ML),))
    notes: list[str] = []
    root = model_dir()
    if root is not None and (root / spec.name / spec.marker).is_file():
        progress(1.0, f"Using local {spec.title}")
        return ResolvedModel(spec, "local directory", root / spec.name, tuple(notes))
    packaged = _package_path(spec)
    if packaged is not None:
        progress(1.0, f"Using {spec.title} from package {spec.package}")
        return ResolvedModel(spec, "installed package", packaged, tuple(notes))
    if spec.package:
        notes.append(f"Package {spec.package} is not installed.")
    if spec.hub_id:
        try:
            cached = _hf_snapshot(spec, local_only=True)
        except Exception as exc:  # noqa: BLE001 (huggingface_hub raises several kinds)
            log.info("%s not in the HF cache: %s", spec.hub_id, exc)
            cached = None
        if cached is not None:
            progress(1.0, f"Using cached {spec.title}")
            return ResolvedModel(spec, "Hugging Face cache", cached, tuple(notes))
        notes.append(f"{spec.hub_id} is not in the Hugging Face cache.")
        if not hub_allowed():
            notes.append("The hub is off (GALLERY_OFFLINE or HF_HUB_OFFLINE).")
        elif time.monotonic() < _hub_down_until:
            # One unreachable hub per few minutes is enough: a machine behind a firewall that drops packets
            # would otherwise wait out a timeout for every model of every page.
            notes.append(
                f"The hub could not be reached a moment ago; it is tried again after {HUB_RETRY_SECONDS / 60:.0f} "
                "minutes."
            )
        else:
            progress(0.1, f"Downloading {spec.hub_id} from the Hugging Face hub")
            try:
                fetched = _hf_snapshot(spec, local_only=False)
            except Exception as exc:  # noqa: BLE001
                log.warning("Hub download of %s failed: %s", spec.hub_id, exc)
                fetched = None
                notes.append(f"Hub download failed: {type(exc).__name__}.")
                if _unreachable(exc):
                    _mark_hub_down()
            if fetched is not None:
                progress(1.0, f"Downloaded {spec.title}")
                return ResolvedModel(spec, "downloaded from the hub", fetched, tuple(notes))
    progress(1.0, f"Using {spec.offline}")
    return ResolvedModel(spec, "offline model", None, tuple(notes))


Loaded = TypeVar("Loaded")


def where_looked(specs: Sequence[ModelSpec], what: str, failures: Sequence[str] = ()) -> str:
    """Why none of ``specs`` is available, and what to do about it (for a SourceError and the page)."""
    root = model_dir()
    names = ", ".join(spec.name for spec in specs)
    local = (
        f"GALLERY_MODEL_DIR ({root}) has no folder {names}"
        if root is not None
        else "GALLERY_MODEL_DIR is not set (or is not a folder)"
    )
    hub = (
        "downloads are off (GALLERY_OFFLINE or HF_HUB_OFFLINE)" if not hub_allowed() else "the hub could not be reached"
    )
    extra = f" Found but not loadable: {' '.join(failures)}" if failures else ""
    return (
        f"No {what} is available here: {local}, none is in the Hugging Face cache, "
        f"and {hub}. To use one, save it (save_pretrained of the model and its processor or tokenizer) into "
        f"GALLERY_MODEL_DIR/{specs[0].name}, or allow downloads (unset GALLERY_OFFLINE and HF_HUB_OFFLINE) "
        f"so {specs[0].hub_id} is fetched. Until then the gallery uses {specs[0].offline}.{extra}"
    )


def load_first(
    specs: ModelSpec | Sequence[ModelSpec],
    load: Callable[[ResolvedModel], Loaded],
    what: str,
    progress: Progress = null_progress,
) -> Loaded:
    """The first of ``specs`` that resolves (offline first) and that ``load`` can open.

    Args:
        specs: One model or several, tried in order.
        load: Opens a resolved folder; raises SourceError when the folder does not hold such a model.
        what: What is looked for, in words ("pretrained ImageNet classifier"), for the error message.
        progress: A report per model tried; ends at 1.0.

    Raises:
        SourceError: when none can be found or loaded; the message says where it looked and what to do.
    """
    specs = (specs,) if isinstance(specs, ModelSpec) else tuple(specs)
    if not specs:
        raise InputError("Name at least one pretrained model to load.")
    failures: list[str] = []
    for i, spec in enumerate(specs):
        resolved = resolve_model(spec, scaled(progress, i / len(specs), (i + 0.5) / len(specs)))
        if resolved.is_offline or resolved.path is None:
            continue
        progress((i + 0.5) / len(specs), f"Loading {spec.title}")
        try:
            loaded = load(resolved)
        except SourceError as exc:
            failures.append(str(exc))
            continue
        progress(1.0, f"Using {spec.title} ({resolved.kind})")
        return loaded
    progress(1.0, f"No {what} found")
    raise SourceError(where_looked(specs, what, failures))


def from_folder(resolved: ResolvedModel, what: str, *auto_classes) -> tuple:
    """Each of ``auto_classes`` (transformers' Auto classes) loaded from a resolved folder, quietly.

    No progress bars, warnings or log lines. Whatever transformers raises for missing or corrupt files or an
    unknown architecture becomes a SourceError that names the folder and ``what`` it should hold ("a NER
    model"), so ``load_first`` goes on to the next model.
    """
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # engines never print
    try:
        with quiet_transformers():
            return tuple(cls.from_pretrained(resolved.path) for cls in auto_classes)
    except Exception as exc:  # missing or corrupt files, an unknown architecture: transformers raises many kinds
        hint = " Install sentencepiece (pip install sentencepiece)." if "sentencepiece" in str(exc).lower() else ""
        raise SourceError(f"{resolved.path} does not hold {what} ({type(exc).__name__}: {exc}).{hint}") from exc


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence what transformers logs and warns about its own defaults while a model loads or runs.

    Engines never print. The warnings filter is process-wide while it is held.
    """
    hf_logger = logging.getLogger("transformers")
    level = hf_logger.level
    hf_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logger.setLevel(level)
