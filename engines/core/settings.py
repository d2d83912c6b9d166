"""Where data, caches and models live, and whether the network may be used.

Everything is read from environment variables at call time (never at import),
so tests and pages can change them.

| variable               | meaning                                                   |
|------------------------|-----------------------------------------------------------|
| ``GALLERY_DATA_DIR``   | local datasets, layout ``<dir>/<dataset>/<original files>`` |
| ``GALLERY_MODEL_DIR``  | local pretrained models, layout ``<dir>/<model name>/``     |
| ``GALLERY_CACHE_DIR``  | downloads and trained artifacts (default: user cache)       |
| ``GALLERY_OFFLINE``    | ``1`` forbids every download (tests and CI set it)          |
| ``GALLERY_DOWNLOAD_TIMEOUT`` | seconds before a download attempt gives up (10)      |
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ml-gallery"
TRUE_VALUES = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_VALUES


def data_dir() -> Path | None:
    """The local data directory, or None when unset or missing."""
    value = os.environ.get("GALLERY_DATA_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def model_dir() -> Path | None:
    """The local pretrained-model directory, or None when unset or missing."""
    value = os.environ.get("GALLERY_MODEL_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def cache_dir() -> Path:
    """The cache root (created on demand by the code that writes there)."""
    value = os.environ.get("GALLERY_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / APP_NAME


def downloads_allowed() -> bool:
    """Whether engines may download datasets (``GALLERY_OFFLINE=1`` forbids it; see :func:`hub_allowed` for models)."""
    return not _flag("GALLERY_OFFLINE")


def hub_allowed() -> bool:
    """Whether the Hugging Face hub may be contacted."""
    return downloads_allowed() and not _flag("HF_HUB_OFFLINE")


def download_timeout() -> float:
    """Seconds a download waits for the server before giving up."""
    try:
        return max(0.5, float(os.environ.get("GALLERY_DOWNLOAD_TIMEOUT", "10")))
    except ValueError:
        return 10.0
