"""Saved model folders: a ``manifest.json`` beside a weights file whose SHA-256 the manifest records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engines.core.errors import SourceError
from engines.core.hashing import sha256_file

MANIFEST = "manifest.json"


def read_manifest(folder: Path, *, fmt: int, architecture: str, what: str) -> dict[str, Any]:
    """The manifest in ``folder``; SourceError when it is missing, unreadable or of another format.

    Args:
        folder: The saved model's folder.
        fmt: The manifest format this version writes.
        architecture: The architecture name this loader understands.
        what: What the model is, in words ("language model"), for the message.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise SourceError(f"No readable {what} in {folder}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != fmt or manifest.get("architecture") != architecture:
        raise SourceError(f"{folder} holds a model of another format; retrain it with this version of the gallery.")
    return manifest


def verified_weights(folder: Path, manifest: dict[str, Any]) -> Path:
    """The weights file the manifest names, after checking its SHA-256 (SourceError when missing or changed)."""
    folder = Path(folder)
    try:
        weights = folder / manifest["weights"]["file"]
        expected = manifest["weights"]["sha256"]
    except (KeyError, TypeError) as exc:
        raise SourceError(f"The manifest in {folder} does not name its weights file and checksum.") from exc
    try:
        digest = sha256_file(weights)
    except OSError as exc:
        raise SourceError(f"The weights file {weights.name} is missing from {folder}.") from exc
    if digest != expected:
        raise SourceError(f"{weights.name} in {folder} does not match its manifest (corrupted or edited); retrain it.")
    return weights
