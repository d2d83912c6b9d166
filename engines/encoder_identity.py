"""Which MiniLM weights an artifact was computed with: part of the key of every shipped model that uses them.

A model or an array of embeddings made with one encoder means nothing with another, so the language demos put
this identity in their artifacts' keys: the page tests' tiny random encoder (``GALLERY_MODEL_DIR``) never loads
what the repository ships for the real all-MiniLM-L6-v2, and a different copy of the real weights (the package,
the Hugging Face cache) loads the same shipped files. It names the weights by their sha256, not by their path.
"""

from __future__ import annotations

import functools
from pathlib import Path

from engines.core.embeddings import MINILM, MINILM_SAFETENSORS_SHA256, WEIGHTS_FILE
from engines.core.hashing import sha256_file
from engines.core.model_sources import ModelSpec, resolve_model

NO_ENCODER = "none"
WEIGHT_FILES = (WEIGHTS_FILE, "pytorch_model.bin")


@functools.lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:  # noqa: ARG001 (size and time key the cache)
    return sha256_file(Path(path))


def weights_sha256(folder: Path) -> str | None:
    """The sha256 of a model folder's weights file (cached per file, size and time), None when there is none."""
    for name in WEIGHT_FILES:
        path = Path(folder) / name
        if path.is_file():
            stat = path.stat()
            return _file_sha256(str(path), stat.st_size, stat.st_mtime_ns)
    return None


def encoder_identity(spec: ModelSpec = MINILM) -> str:
    """``sha256:<hex>`` of the weights the offline-first ladder finds now, or ``none`` without an encoder.

    The installed package's weights are verified against the publisher's sha256 when they are loaded
    (:func:`engines.core.embeddings.resolve_weights`), so their identity is that published checksum and costs no
    hashing here; other copies are hashed once per file.
    """
    resolved = resolve_model(spec)
    if resolved.is_offline or resolved.path is None:
        return NO_ENCODER
    if spec == MINILM and resolved.kind == "installed package":
        return f"sha256:{MINILM_SAFETENSORS_SHA256}"
    digest = weights_sha256(resolved.path)
    return f"sha256:{digest}" if digest else f"{resolved.kind}:{resolved.path.name}"
