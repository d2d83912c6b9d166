"""Image datasets from a ZIP of class folders ("teach it your own classes") or a folder on disk, read safely.

A ZIP is checked before any byte of it is trusted: entries with absolute paths, drive letters or ``..``,
symbolic links and password-protected entries refuse the whole archive; the sizes its headers declare
must stay under the limits, and each entry is then read with a byte budget, so an archive that lies
about its sizes cannot fill memory or disk. Names from the archive are only ever labels: every image
that decodes is re-encoded under a generated name inside a fresh folder of the caller's ``workdir``.

Training and evaluation read the images back with :func:`iter_batches`, ``batch_size`` at a time:
a large dataset is streamed from disk, never loaded at once.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.imageclf.images import READABLE, Preprocess, is_image_name, read_image, to_batch

if TYPE_CHECKING:
    import torch
    from PIL import Image

MAX_FILES = 5000  # images per dataset
MAX_TOTAL_BYTES = 500 * 1024 * 1024  # uncompressed bytes of all images in a ZIP
MAX_RATIO = 100  # uncompressed/compressed size of one entry; photos and PNGs compress far less
RATIO_FLOOR = 1024 * 1024  # entries smaller than this skip the ratio test (a flat-colour BMP compresses 1000x)
MIN_PER_CLASS = 2  # one image for training and one for testing, at the very least
MAX_CLASSES = 50  # class folders per dataset
STORE_SIDE = 512  # images are stored at most this size: 2x the 256 the crop needs, small and fast to stream
STORE_QUALITY = 95  # JPEG quality of the stored copies
_READ_CHUNK = 1024 * 1024
_JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXAMPLES = 3  # file names quoted per skip reason

SKIP_SYSTEM = "system or hidden files (__MACOSX, .DS_Store, Thumbs.db)"
SKIP_NOT_IMAGE = "files that are not images"
SKIP_NO_CLASS = "images outside any class folder"
SKIP_TOO_LARGE = f"images larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
SKIP_UNREADABLE = "damaged or unreadable images"
_ONE = {  # how each reason reads for a single file
    SKIP_SYSTEM: "system or hidden file (__MACOSX, .DS_Store, Thumbs.db)",
    SKIP_NOT_IMAGE: "file that is not an image",
    SKIP_NO_CLASS: "image outside any class folder",
    SKIP_TOO_LARGE: f"image larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
    SKIP_UNREADABLE: "damaged or unreadable image",
}


@dataclass(frozen=True)
class ImageFolderDataset:
    """Images on disk, one class per folder.

    Attributes:
        root: Folder the images are in (for an upload: the fresh folder inside ``workdir``).
        class_names: Class names, sorted; a label is an index into this tuple.
        items: (path, label) of every usable image, in class then file order.
        skipped: Files left out, counted by reason (reasons are phrases for the page).
        skipped_examples: Up to three file names per reason.
        source: Where the images came from, in words (the ZIP's name or the folder).
    """

    root: Path
    class_names: tuple[str, ...]
    items: tuple[tuple[Path, int], ...]
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    def __len__(self) -> int:
        return len(self.items)

    @property
    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        tally = Counter(label for _, label in self.items)
        return {name: tally[i] for i, name in enumerate(self.class_names)}

    @property
    def n_skipped(self) -> int:
        """Files left out, all reasons together."""
        return sum(self.skipped.values())

    def skipped_summary(self) -> str:
        """One sentence on what was left out ("" when nothing was)."""
        if not self.skipped:
            return ""
        parts = [
            f"{count} {_ONE.get(reason, reason) if count == 1 else reason}" for reason, count in self.skipped.items()
        ]
        return f"Skipped {self.n_skipped} file{'s' if self.n_skipped != 1 else ''}: {', '.join(parts)}."

    def split(
        self, test_fraction: float = 0.25, seed: int = 0
    ) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
        """Stratified train/test split: each class with two or more images keeps at least one in each part.

        Args:
            test_fraction: Share of each class held out for testing.
            seed: Shuffling seed; the same seed gives the same split.

        Returns:
            (train, test) lists of (path, label), each shuffled.
        """
        if not 0.0 < test_fraction < 1.0:
            raise InputError(f"The test fraction must be between 0 and 1 (exclusive), not {test_fraction}.")
        rng = np.random.default_rng(seed)
        train: list[tuple[Path, int]] = []
        test: list[tuple[Path, int]] = []
        for label in range(len(self.class_names)):
            members = [item for item in self.items if item[1] == label]
            order = rng.permutation(len(members))
            n_test = min(max(round(len(members) * test_fraction), 1), len(members) - 1) if len(members) >= 2 else 0
            test += [members[i] for i in order[:n_test]]
            train += [members[i] for i in order[n_test:]]
        return [train[i] for i in rng.permutation(len(train))], [test[i] for i in rng.permutation(len(test))]


def _load_item(path: Path) -> Image.Image:
    """The picture stored at ``path`` (one open file at a time; tests count the calls)."""
    return read_image(path.read_bytes(), path.name, max_side=STORE_SIDE).image


def iter_batches(
    items: Sequence[tuple[Path, int]],
    batch_size: int,
    preprocess: Preprocess | None = None,
    *,
    seed: int | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Stream (images, labels) batches from disk: only ``batch_size`` images are decoded and held at a time.

    Lazy: nothing is read until the first batch is asked for.

    Args:
        items: (path, label) pairs, e.g. one part of :meth:`ImageFolderDataset.split`.
        batch_size: Images per batch (the last batch may be smaller).
        preprocess: How pictures become tensors (the same one for training and inference).
        seed: When given, the order is shuffled with it (a new seed per epoch gives a new order).

    Yields:
        A float32 tensor (n, 3, size, size) and an int64 tensor (n,) of labels.
    """
    if batch_size < 1:
        raise InputError(f"The batch size must be at least 1, not {batch_size}.")
    return _batches(list(items), batch_size, preprocess or Preprocess(), seed)


def _batches(
    items: list[tuple[Path, int]], batch_size: int, preprocess: Preprocess, seed: int | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    import torch

    order = np.random.default_rng(seed).permutation(len(items)) if seed is not None else np.arange(len(items))
    for start in range(0, len(items), batch_size):
        chunk = [items[i] for i in order[start : start + batch_size]]
        pictures = [_load_item(path) for path, _ in chunk]
        yield to_batch(pictures, preprocess), torch.tensor([label for _, label in chunk], dtype=torch.int64)


# --- shared validation -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Which files become which class, and what was left out."""

    by_class: dict[str, list[str]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, name: str, count: int = 1) -> None:
        self.skipped[reason] += count
        shown = self.examples.setdefault(reason, [])
        if len(shown) < _EXAMPLES:
            shown.append(name)


def _parts(name: str) -> list[str]:
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def _plan(names: Iterable[str], *, max_files: int, max_classes: int, where: str) -> _Plan:
    """Group relative file names into classes by their folder; strip common top folders; skip junk."""
    plan = _Plan()
    candidates: list[tuple[list[str], str]] = []
    for name in names:
        parts = _parts(name)
        if not parts:
            continue
        if any(part.startswith(".") or part.lower() in _JUNK_NAMES for part in parts):
            plan.skip(SKIP_SYSTEM, name)
        elif not is_image_name(parts[-1]):
            plan.skip(SKIP_NOT_IMAGE, name)
        else:
            candidates.append((parts, name))
    # "pets/cats/a.jpg" and "pets/dogs/b.jpg": the class is the folder below the one they share.
    while candidates and all(len(parts) >= 3 for parts, _ in candidates) and len({p[0] for p, _ in candidates}) == 1:
        candidates = [(parts[1:], name) for parts, name in candidates]
    for parts, name in candidates:
        if len(parts) < 2:
            plan.skip(SKIP_NO_CLASS, name)
        else:
            plan.by_class.setdefault(parts[0], []).append(name)
    total = sum(len(files) for files in plan.by_class.values())
    if total > max_files:
        raise InputError(f"{where} holds {total:,} images; the limit is {max_files:,}. Use fewer images per class.")
    if len(plan.by_class) > max_classes:
        raise InputError(
            f"{where} has {len(plan.by_class)} class folders; the limit is {max_classes}. Merge or remove some classes."
        )
    return plan


def _check_classes(by_class: dict[str, list], plan: _Plan, *, min_per_class: int, where: str) -> None:
    """Enough images and classes, or an InputError that says what to add."""
    if not any(by_class.values()):
        found = f"; it has {_plan_summary(plan)}" if plan.skipped else ""
        raise InputError(
            f"{where} contains no usable images{found}. Put {READABLE} images in one folder per class, "
            "e.g. cats/1.jpg, cats/2.jpg, dogs/1.jpg, dogs/2.jpg, and zip those folders."
        )
    classes = [name for name, files in by_class.items() if files]
    if len(classes) < 2:
        raise InputError(
            f"{where} has only one class folder (`{classes[0]}`); a classifier needs at least two. "
            "Add a folder of images for each other class, e.g. cats/ and dogs/."
        )
    small = sorted(name for name, files in by_class.items() if len(files) < min_per_class)
    if small:
        listed = ", ".join(f"`{name}` ({len(by_class[name])})" for name in small)
        raise InputError(
            f"Each class needs at least {min_per_class} images; these class folders have fewer: {listed}. "
            "Add images to them or remove those folders."
        )


def _plan_summary(plan: _Plan) -> str:
    """What was skipped, as a phrase."""
    return ", ".join(f"{count} {reason}" for reason, count in plan.skipped.items())


# --- ZIP uploads ---------------------------------------------------------------------------------------------


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")):
        return "an absolute path"
    if _DRIVE.match(name):
        return "a drive letter"
    if ".." in parts:
        return "a '..' that points outside the archive"
    if "\x00" in name:
        return "a NUL character in its name"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "password protection"
    return None


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """An entry's bytes, never more than its declared size or the remaining budget (a lying header stops here)."""
    limit = min(info.file_size, budget)
    chunks: list[bytes] = []
    received = 0
    with archive.open(info) as stream:
        while chunk := stream.read(min(_READ_CHUNK, limit + 1 - received)):
            chunks.append(chunk)
            received += len(chunk)
            if received > limit:
                raise InputError(
                    f"`{info.filename}` in the ZIP holds more data than its header declares: the archive is damaged "
                    "or crafted. Create the ZIP again from your folders."
                )
    if received != info.file_size:
        raise InputError(
            f"`{info.filename}` in the ZIP holds {received:,} bytes where its header declares {info.file_size:,}: "
            "the archive is damaged. Create the ZIP again from your folders."
        )
    return b"".join(chunks)


def read_class_zip(
    data: bytes,
    *,
    workdir: Path,
    filename: str = "",
    max_files: int = MAX_FILES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
    min_per_class: int = MIN_PER_CLASS,
    max_classes: int = MAX_CLASSES,
    max_zip_bytes: int = MAX_UPLOAD_BYTES,
    progress: Progress = null_progress,
) -> ImageFolderDataset:
    """A ZIP of class folders (``cats/a.jpg``, ``dogs/b.png``, maybe under one top folder) -> a dataset on disk.

    Args:
        data: The ZIP's bytes.
        workdir: A folder the caller owns (a temporary directory); images go into a new folder inside it.
        filename: The upload's name, quoted in messages.
        max_files: Most images accepted.
        max_total_bytes: Most uncompressed bytes of images, by the headers and as actually read.
        max_ratio: Highest compression ratio of one entry of 1 MB or more (zip-bomb guard).
        min_per_class: Fewest images per class.
        max_classes: Most class folders.
        max_zip_bytes: Largest ZIP accepted.
        progress: Called with (fraction, message) while images are checked; ends at 1.0.

    Returns:
        The dataset, its images re-encoded as JPEG under generated names in ``workdir``.

    Raises:
        InputError: not a ZIP, unsafe or password-protected entries, a zip bomb, too many files or classes,
            no images, fewer than two classes, or a class with fewer than ``min_per_class`` images.
    """
    where = f"`{filename}`" if filename else "The ZIP"
    if not data:
        raise InputError(f"{where} is empty (0 bytes). Upload a ZIP with one folder of images per class.")
    if len(data) > max_zip_bytes:
        raise InputError(
            f"{where} is {len(data) / 2**20:.1f} MB; the limit is {max_zip_bytes / 2**20:.0f} MB. "
            "Use fewer or smaller images (JPEG photos of about 1000 pixels are plenty)."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputError(
            f"{where if filename else 'That file'} is not a ZIP archive that can be read ({exc}). Zip your class folders "
            "(on Windows: right-click → Send to → Compressed folder; on a Mac: right-click → Compress) and upload it."
        ) from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > 4 * max_files:
            raise InputError(
                f"{where} holds {len(infos):,} files; the limit is {max_files:,} images. Use fewer images."
            )
        for info in archive.infolist():
            reason = _unsafe_reason(info)
            if reason:
                raise InputError(
                    f"{where} is refused: its entry `{info.filename}` has {reason}. "
                    "Create a plain ZIP (no links, no password) from your class folders and upload that."
                )
        by_name = {info.filename: info for info in infos}
        plan = _plan(by_name, max_files=max_files, max_classes=max_classes, where=where)
        for files in plan.by_class.values():
            for name in list(files):
                if by_name[name].file_size > MAX_UPLOAD_BYTES:
                    files.remove(name)
                    plan.skip(SKIP_TOO_LARGE, name)
        _check_classes(plan.by_class, plan, min_per_class=min_per_class, where=where)
        chosen = [by_name[name] for files in plan.by_class.values() for name in files]
        declared = sum(info.file_size for info in chosen)
        if declared > max_total_bytes:
            raise InputError(
                f"{where} unpacks to {declared / 2**20:,.0f} MB of images; the limit is {max_total_bytes / 2**20:,.0f} MB. "
                "Use fewer or smaller images."
            )
        for info in chosen:
            if info.file_size >= RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
                raise InputError(
                    f"{where} is refused: `{info.filename}` expands {info.file_size / max(info.compress_size, 1):,.0f} "
                    f"times when unpacked (the limit is {max_ratio:g}), as zip bombs do. Zip your real images again."
                )
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="images-", dir=workdir))
        try:
            return _unpack(archive, plan, by_name, root, where, min_per_class, max_total_bytes, progress)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise


def _unpack(
    archive: zipfile.ZipFile,
    plan: _Plan,
    by_name: dict[str, zipfile.ZipInfo],
    root: Path,
    where: str,
    min_per_class: int,
    max_total_bytes: int,
    progress: Progress,
) -> ImageFolderDataset:
    class_names = sorted(plan.by_class)
    total = sum(len(files) for files in plan.by_class.values())
    kept: dict[str, list[Path]] = {name: [] for name in class_names}
    budget = max_total_bytes
    done = 0
    progress(0.0, f"Checking {total} images")
    for label, class_name in enumerate(class_names):
        folder = root / f"class_{label:03d}"
        folder.mkdir()
        for name in sorted(plan.by_class[class_name]):
            info = by_name[name]
            try:
                content = _read_entry(archive, info, budget)
            except InputError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
                raise InputError(
                    f"{where} is damaged: `{name}` cannot be unpacked ({exc}). Create the ZIP again and upload it."
                ) from exc
            budget -= len(content)
            try:
                picture = read_image(content, name, max_side=STORE_SIDE).image
            except InputError:
                plan.skip(SKIP_UNREADABLE, name)
            else:
                path = folder / f"{len(kept[class_name]):05d}.jpg"
                picture.save(path, "JPEG", quality=STORE_QUALITY)
                kept[class_name].append(path)
            done += 1
            progress(done / total, f"Checked {done} of {total} images")
    _check_classes(kept, plan, min_per_class=min_per_class, where=where)
    progress(1.0, f"{sum(len(paths) for paths in kept.values())} images in {len(class_names)} classes")
    return _dataset(root, class_names, kept, plan, where)


def _dataset(
    root: Path, class_names: list[str], kept: dict[str, list[Path]], plan: _Plan, source: str
) -> ImageFolderDataset:
    items = tuple((path, label) for label, name in enumerate(class_names) for path in kept[name])
    return ImageFolderDataset(
        root=root,
        class_names=tuple(class_names),
        items=items,
        skipped=dict(plan.skipped),
        skipped_examples={reason: tuple(names) for reason, names in plan.examples.items()},
        source=source.strip("`"),
    )


# --- folders on disk ---------------------------------------------------------------------------------------------


def from_folder(
    path: Path,
    *,
    max_files: int = MAX_FILES,
    min_per_class: int = MIN_PER_CLASS,
    max_classes: int = MAX_CLASSES,
    verify: bool = True,
    progress: Progress = null_progress,
) -> ImageFolderDataset:
    """A folder of class folders on disk -> a dataset that reads the files where they are (nothing is copied).

    The same rules as :func:`read_class_zip`: hidden and system files and non-images are skipped, common
    top folders are stripped, and the class checks are the same. Symbolic links to folders are not followed.

    Args:
        path: The folder.
        max_files: Most images accepted.
        min_per_class: Fewest images per class.
        max_classes: Most class folders.
        verify: Decode every image once and skip those that fail (slower; off for a trusted copy).
        progress: Called with (fraction, message) while images are checked; ends at 1.0.

    Raises:
        InputError: not a folder, no images, fewer than two classes, too small or too many classes.
    """
    path = Path(path)
    where = f"`{path}`"
    if not path.is_dir():
        raise InputError(f"{where} is not a folder. Point to a folder that has one sub-folder of images per class.")
    names = []
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        relative = PurePosixPath(Path(folder).relative_to(path).as_posix())
        names += [str(relative / name) for name in sorted(files)]
    plan = _plan(names, max_files=max_files, max_classes=max_classes, where=where)
    _check_classes(plan.by_class, plan, min_per_class=min_per_class, where=where)
    class_names = sorted(plan.by_class)
    total = sum(len(files) for files in plan.by_class.values())
    kept: dict[str, list[Path]] = {name: [] for name in class_names}
    done = 0
    progress(0.0, f"Checking {total} images")
    for class_name in class_names:
        for name in sorted(plan.by_class[class_name]):
            file = path / name
            if verify:
                try:
                    read_image(file.read_bytes(), name, max_side=STORE_SIDE)
                except (InputError, OSError):
                    plan.skip(SKIP_UNREADABLE, name)
                    done += 1
                    continue
            kept[class_name].append(file)
            done += 1
            if verify:
                progress(done / total, f"Checked {done} of {total} images")
    _check_classes(kept, plan, min_per_class=min_per_class, where=where)
    progress(1.0, f"{sum(len(paths) for paths in kept.values())} images in {len(class_names)} classes")
    return _dataset(path, class_names, kept, plan, str(path))
