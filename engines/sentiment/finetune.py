"""Fine-tune a sentence encoder (all-MiniLM-L6-v2) end to end for positive/negative sentiment.

Mean pooling + a linear head, AdamW with a larger learning rate for the fresh head,
linear warm-up then linear decay. torch is imported inside functions only.
Weights are saved as safetensors (never pickled).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.core.progress import Progress, null_progress

HEAD_FILE = "head.safetensors"
INFO_FILE = "finetune.json"
INFERENCE_MAX_LENGTH = 256  # tokens read at prediction time (a paragraph); training uses the shorter config value
INFERENCE_BATCH = 64  # sentences per forward pass at prediction time


@dataclass(frozen=True)
class FineTuneSettings:
    """Hyper-parameters of fine-tuning (fixed beforehand, not tuned on test folds).

    Attributes:
        epochs: Passes over the training sentences.
        learning_rate: AdamW learning rate of the encoder.
        head_lr_factor: The fresh linear head learns this many times faster.
        batch_size: Sentences per step.
        max_length: Tokens per training sentence (UCI sentences are short).
        warmup: Share of steps with a linearly rising learning rate.
        weight_decay: AdamW weight decay.
        seed: Seeds the head, dropout and the shuffling.
    """

    epochs: int = 3
    learning_rate: float = 5e-5
    head_lr_factor: float = 20.0
    batch_size: int = 16
    max_length: int = 64
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0


class FineTunedClassifier:
    """An encoder with mean pooling and a 2-way linear head (index 1 = positive)."""

    def __init__(self, tokenizer: Any, encoder: Any, head: Any, max_length: int = INFERENCE_MAX_LENGTH) -> None:
        """Wrap a Hugging Face tokenizer and encoder and a ``torch.nn.Linear`` head."""
        self.tokenizer, self.encoder, self.head = tokenizer, encoder, head
        limit = int(getattr(encoder.config, "max_position_embeddings", max_length) or max_length)
        self.max_length = min(max_length, limit)

    def logits(self, texts: Sequence[str], max_length: int | None = None) -> Any:
        """Raw logits for one batch (gradients follow the caller's torch mode)."""
        from engines.core.embeddings import mean_pool

        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=max_length or self.max_length,
            return_tensors="pt",
        )
        hidden = self.encoder(**batch).last_hidden_state
        return self.head(mean_pool(hidden, batch["attention_mask"]))

    def positive_probability(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) per text, batched by length."""
        import torch

        from engines.core.embeddings import in_length_batches

        texts = [str(t) for t in texts]
        self.encoder.eval()
        with torch.inference_mode():
            probs = in_length_batches(
                texts, lambda batch: torch.softmax(self.logits(batch).float(), dim=1)[:, 1].numpy(), INFERENCE_BATCH
            )
        return probs.astype(np.float64)

    def save(self, folder: Path) -> None:
        """Encoder and tokenizer via ``save_pretrained`` (safetensors), the head as safetensors."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, str(folder / HEAD_FILE))
        (folder / INFO_FILE).write_text(json.dumps({"max_length": self.max_length}))

    @classmethod
    def load(cls, folder: Path) -> FineTunedClassifier:
        """Read a classifier written by :meth:`save`."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        folder = Path(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        encoder = AutoModel.from_pretrained(folder)
        encoder.eval()
        state = load_file(str(folder / HEAD_FILE))
        head = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
        head.load_state_dict(state)
        info = json.loads((folder / INFO_FILE).read_text())
        return cls(tokenizer, encoder, head, info.get("max_length", INFERENCE_MAX_LENGTH))

    def __getstate__(self) -> dict:
        """Refuse pickling: torch weights are only ever stored as safetensors."""
        raise TypeError("FineTunedClassifier is saved with save(), as safetensors, never pickled.")


def fine_tune(
    encoder_path: Path,
    texts: Sequence[str],
    labels: Sequence[int],
    settings: FineTuneSettings,
    progress: Progress = null_progress,
) -> FineTunedClassifier:
    """Fine-tune the encoder at ``encoder_path`` on binary labels (1 = positive).

    Args:
        encoder_path: Folder with a Hugging Face encoder and tokenizer.
        texts: Training sentences.
        labels: 0/1 per sentence.
        settings: Hyper-parameters.
        progress: Reported after every batch ("epoch e/E, batch b/B"); ends at 1.0.

    Returns:
        The trained classifier, in eval mode.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    texts = np.asarray([str(t) for t in texts], dtype=object)
    y = np.asarray(labels, dtype=np.int64)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(encoder_path)
    encoder = AutoModel.from_pretrained(encoder_path)
    head = torch.nn.Linear(int(encoder.config.hidden_size), 2)
    model = FineTunedClassifier(tokenizer, encoder, head)
    optimiser = torch.optim.AdamW(
        [
            {"params": encoder.parameters(), "lr": settings.learning_rate},
            {"params": head.parameters(), "lr": settings.learning_rate * settings.head_lr_factor},
        ],
        weight_decay=settings.weight_decay,
    )
    per_epoch = -(-len(texts) // settings.batch_size)
    total = settings.epochs * per_epoch
    warm = max(1.0, settings.warmup * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warm) * max(0.0, (total - step) / total)
    )
    rng = np.random.default_rng(settings.seed)
    step = 0
    progress(0.0, f"Fine-tuning on {len(texts):,} sentences: {settings.epochs} epochs of {per_epoch} batches")
    for epoch in range(settings.epochs):
        encoder.train()
        order = rng.permutation(len(texts))
        for b, start in enumerate(range(0, len(order), settings.batch_size)):
            idx = order[start : start + settings.batch_size]
            logits = model.logits(texts[idx].tolist(), max_length=settings.max_length)
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[idx]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            progress(
                step / total,
                f"Epoch {epoch + 1}/{settings.epochs}, batch {b + 1}/{per_epoch} (loss {loss.item():.3f})",
            )
    encoder.eval()
    progress(1.0, "Fine-tuned")
    return model
