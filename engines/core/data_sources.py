"""Resolve a dataset offline first: local directory -> cache -> download -> bundled sample.

Each dataset is described once by a :class:`DatasetSpec`; engines call
:func:`resolve_dataset` and get back paths plus the provenance the page shows.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engines.core.download import download, extract_member
from engines.core.errors import SourceError
from engines.core.hashing import sha256_bytes, sha256_file
from engines.core.progress import Progress, null_progress, scaled
from engines.core.settings import cache_dir, data_dir, downloads_allowed

log = logging.getLogger(__name__)

Provenance = Literal["local copy", "cache", "downloaded", "bundled sample"]


@dataclass(frozen=True)
class RemoteFile:
    """Where one original file can be downloaded from.

    Attributes:
        url: http(s) address of the file, or of a zip archive holding it.
        member: Name of the file inside the zip archive; None when ``url`` is the file.
    """

    url: str
    member: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A public dataset, described once.

    Attributes:
        name: Folder name under the data directory (reference layout of ../shared/data).
        title: Human name shown on pages.
        files: Original file name -> expected sha256 (None: not verified).
        remote: Original file name -> where to download it.
        sample: Bundled sample written by the project (under data/), used last: a file, or a folder of files.
        citation: How to cite the publisher.
        licence: Licence in a few words.
        homepage: Where a person reads about the dataset.
    """

    name: str
    title: str
    files: Mapping[str, str | None]
    remote: Mapping[str, RemoteFile] = field(default_factory=dict)
    sample: Path | None = None
    citation: str = ""
    licence: str = ""
    homepage: str = ""


@dataclass(frozen=True)
class ResolvedDataset:
    """Where a dataset was found and how to describe it.

    Attributes:
        spec: The dataset.
        provenance: Which rung of the ladder answered.
        paths: Original file name -> path (for the sample: ``{"sample": path}``).
        sha256: One checksum over all files, for artifact keys.
        notes: Why earlier rungs were skipped (shown on the page).
    """

    spec: DatasetSpec
    provenance: Provenance
    paths: Mapping[str, Path]
    sha256: str
    notes: tuple[str, ...] = ()

    @property
    def is_sample(self) -> bool:
        """True when the page runs on the bundled sample, not the real dataset."""
        return self.provenance == "bundled sample"

    @property
    def notice(self) -> str:
        """One sentence for the page: which data this is and where it came from."""
        if self.is_sample:
            return (
                f"Running on a small sample written by this project, not on the real {self.spec.title}. "
                f"Set GALLERY_DATA_DIR to a folder holding `{self.spec.name}/` or allow downloads for the real data."
            )
        where = {
            "local copy": "local data directory",
            "cache": "download cache",
            "downloaded": "downloaded just now from the publisher",
        }[self.provenance]
        return f"{self.spec.title} ({where})."


def _combined_sha(paths: Mapping[str, Path]) -> str:
    parts = []
    for name, path in sorted(paths.items()):
        if path.is_dir():  # a bundled sample may be a folder of files
            parts += [f"{name}/{f.relative_to(path)}:{sha256_file(f)}" for f in sorted(path.rglob("*")) if f.is_file()]
        else:
            parts.append(f"{name}:{sha256_file(path)}")
    return sha256_bytes("\n".join(parts).encode())


def _complete(folder: Path, spec: DatasetSpec, *, verify: bool) -> dict[str, Path] | None:
    paths = {name: folder / name for name in spec.files}
    if not all(path.is_file() for path in paths.values()):
        return None
    if verify:
        for name, path in paths.items():
            expected = spec.files[name]
            if expected is not None and sha256_file(path) != expected:
                log.warning("Cached %s/%s fails its checksum; ignoring it", spec.name, name)
                return None
    return paths


def dataset_cache(spec: DatasetSpec) -> Path:
    """The folder where downloads of ``spec`` are kept."""
    return cache_dir() / "data" / spec.name


def _download(spec: DatasetSpec, progress: Progress) -> dict[str, Path]:
    target = dataset_cache(spec)
    target.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    names = list(spec.files)
    for i, name in enumerate(names):
        source = spec.remote.get(name)
        if source is None:
            raise SourceError(f"No download address is known for {spec.name}/{name}.")
        step = scaled(progress, i / len(names), (i + 1) / len(names))
        if source.member is None:
            paths[name] = download(source.url, target / name, sha256=spec.files[name], progress=step)
            continue
        with tempfile.TemporaryDirectory(dir=target) as tmp:
            archive = download(source.url, Path(tmp) / "archive.zip", progress=step)
            paths[name] = extract_member(archive, source.member, target / name, sha256=spec.files[name])
    return paths


def resolve_dataset(spec: DatasetSpec, progress: Progress = null_progress) -> ResolvedDataset:
    """Find ``spec``: local data dir, then cache, then download, then the bundled sample.

    Args:
        spec: The dataset.
        progress: Receives download progress; always ends at 1.0.

    Returns:
        Paths and provenance.

    Raises:
        SourceError: when every rung failed and no sample is bundled.
    """
    notes: list[str] = []
    root = data_dir()
    if root is not None:
        paths = _complete(root / spec.name, spec, verify=False)
        if paths is not None:
            progress(1.0, f"Using local copy of {spec.title}")
            return ResolvedDataset(spec, "local copy", paths, _combined_sha(paths), tuple(notes))
        notes.append(f"GALLERY_DATA_DIR has no complete `{spec.name}/` folder.")
    paths = _complete(dataset_cache(spec), spec, verify=True)
    if paths is not None:
        progress(1.0, f"Using cached {spec.title}")
        return ResolvedDataset(spec, "cache", paths, _combined_sha(paths), tuple(notes))
    if not downloads_allowed():
        notes.append("Downloads are off (GALLERY_OFFLINE=1).")
    elif not spec.remote:
        notes.append("No download address is known.")
    else:
        try:
            paths = _download(spec, scaled(progress, 0.0, 0.99))
            progress(1.0, f"Downloaded {spec.title}")
            return ResolvedDataset(spec, "downloaded", paths, _combined_sha(paths), tuple(notes))
        except SourceError as exc:
            log.warning("Download of %s failed: %s", spec.name, exc)
            notes.append(f"Download failed: {exc}")
    resolved = bundled_sample(spec, notes)
    progress(1.0, f"Using the bundled sample of {spec.title}")
    return resolved


def bundled_sample(spec: DatasetSpec, notes: Sequence[str] = ()) -> ResolvedDataset:
    """The last rung alone: the sample this project bundles (the data the shipped models were trained on).

    Raises:
        SourceError: when no sample is bundled.
    """
    if spec.sample is None or not spec.sample.exists():
        raise SourceError(f"{spec.title} is not available: " + " ".join(notes))
    paths = {"sample": spec.sample}
    return ResolvedDataset(spec, "bundled sample", paths, _combined_sha(paths), tuple(notes))
