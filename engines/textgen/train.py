"""Training an LSTM language model: truncated back-propagation through time.

The training text is cut into ``batch_size`` contiguous streams that are read
side by side ``seq_len`` tokens at a time, the LSTM state carried from one chunk
to the next (so the model learns from context longer than one chunk). AdamW with a
warm-up and a cosine decay, gradient clipping, a fixed seed, validation loss every
``eval_every`` steps, early stopping that keeps the best weights, a stop event and
an optional time budget. Optionally an exponential moving average of the weights is
kept beside them and measured at every evaluation too; early stopping then keeps
whichever of the two did best (averaging the noisy late steps of an overfitting
model is a cheap regulariser, like the averaged SGD of AWD-LSTM).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from engines.core.errors import InputError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress
from engines.core.validation import check_ranges, check_time_budget
from engines.textgen.model import LanguageModel, LSTMConfig, LSTMLanguageModel
from engines.textgen.vocab import Level, Vocabulary

MIN_TOKENS = {Level.CHAR: 200, Level.WORD: 60}  # below this there is nothing to learn or to validate on


# Settings that count things (units, layers, steps): 32.0 is accepted as 32, 32.5 is not.
WHOLE_NUMBER_SETTINGS = frozenset(
    {
        "Embedding size", "Hidden units", "LSTM layers", "Sequence length", "Batch size", "Warm-up steps",
        "Training steps", "Evaluation interval", "Patience", "Vocabulary size", "Minimum word count",
    }
)  # fmt: skip
WHOLE_NUMBER_FIELDS = (
    "embed_dim", "hidden_size", "num_layers", "seq_len", "batch_size", "warmup_steps",
    "max_steps", "eval_every", "patience", "max_vocab", "min_count",
)  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model; the page's training panel edits these."""

    level: Level = Level.CHAR  # characters (any text, small vocabulary) or words (better suggestions, needs more text)
    embed_dim: int = 64  # size of each token's vector
    hidden_size: int = 256  # LSTM units per layer: capacity, and cost (quadratic)
    num_layers: int = 1  # stacked LSTM layers
    dropout: float = 0.1  # fraction of activations zeroed while training, against overfitting
    seq_len: int = 64  # tokens per back-propagation chunk
    batch_size: int = 32  # streams read side by side
    learning_rate: float = 3e-3  # AdamW peak learning rate
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup_steps: int = 20  # linear warm-up before the cosine decay
    min_lr_ratio: float = 0.05  # the cosine decay ends at this fraction of the peak rate
    clip_norm: float = 1.0  # gradient clipping by global norm
    max_steps: int = 400  # optimisation steps at most
    max_seconds: float | None = None  # wall-clock budget; training stops (keeping the best weights) when it runs out
    eval_every: int = 25  # steps between validation-loss measurements
    patience: int = 6  # evaluations without improvement before early stopping
    val_fraction: float = 0.1  # the last part of the text, held out for validation
    max_vocab: int = 5000  # word level: the most frequent words kept (others become unknown)
    min_count: int = 2  # word level: a word must occur this often to get its own id
    seed: int = 0  # weights, dropout and batch offsets are reproducible
    ema_decay: float = 0.0  # 0: off; else the weight average's decay per step (0.995: about the last 200 steps)

    def validate(self) -> TrainConfig:
        """The config itself, or an InputError that names the setting to fix."""
        try:
            level = Level(self.level)
        except ValueError:
            raise InputError(
                f"Level must be one of {', '.join(repr(v.value) for v in Level)} (got {self.level!r})."
            ) from None
        checks: list[tuple[str, float, float, float]] = [
            ("Embedding size", self.embed_dim, 4, 1024),
            ("Hidden units", self.hidden_size, 8, 2048),
            ("LSTM layers", self.num_layers, 1, 6),
            ("Dropout", self.dropout, 0.0, 0.9),
            ("Sequence length", self.seq_len, 4, 1024),
            ("Batch size", self.batch_size, 1, 1024),
            ("Learning rate", self.learning_rate, 1e-6, 1.0),
            ("Weight decay", self.weight_decay, 0.0, 1.0),
            ("Warm-up steps", self.warmup_steps, 0, 1_000_000),
            ("Minimum learning-rate ratio", self.min_lr_ratio, 0.0, 1.0),
            ("Gradient clipping norm", self.clip_norm, 1e-3, 1e4),
            ("Training steps", self.max_steps, 1, 1_000_000),
            ("Evaluation interval", self.eval_every, 1, 1_000_000),
            ("Patience", self.patience, 1, 10_000),
            ("Validation fraction", self.val_fraction, 0.01, 0.5),
            ("Vocabulary size", self.max_vocab, 10, 200_000),
            ("Minimum word count", self.min_count, 1, 1000),
            ("Weight-average decay", self.ema_decay, 0.0, 0.9999),
        ]
        check_ranges(checks, WHOLE_NUMBER_SETTINGS)
        check_time_budget(self.max_seconds)
        params = 4 * self.hidden_size * (
            self.embed_dim + self.hidden_size
        ) + 4 * self.hidden_size * 2 * self.hidden_size * (self.num_layers - 1)
        if params > 60_000_000:
            raise InputError(
                f"That LSTM would have about {params / 1e6:.0f} million weights: too big to train here. "
                "Use fewer hidden units or layers."
            )
        return replace(self, level=level, **{field: int(getattr(self, field)) for field in WHOLE_NUMBER_FIELDS})


@dataclass(frozen=True)
class Evaluation:
    """One validation measurement during training (the page draws these as the loss curve)."""

    step: int
    tokens_seen: int
    train_loss: float
    val_loss: float
    seconds: float
    learning_rate: float
    average_val_loss: float | None = None  # the weight average's validation loss, when one is kept


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """The first part for training and the last ``val_fraction`` for validation (cut at a line break when one is near)."""
    cut = int(len(text) * (1 - val_fraction))
    newline = text.rfind("\n", int(cut * 0.98), cut + 1)
    cut = newline + 1 if newline > 0 else cut
    return text[:cut], text[cut:]


def streams(ids: torch.Tensor, count: int) -> torch.Tensor:
    """``ids`` as ``count`` contiguous rows of equal length (the tail that does not fit is dropped)."""
    length = len(ids) // count
    return ids[: length * count].view(count, length)


@torch.no_grad()
def mean_loss(net: LSTMLanguageModel, ids: torch.Tensor, *, n_streams: int = 16, seq_len: int = 256) -> float:
    """Average next-token cross-entropy (nats per token) over ``ids``, the state carried through each stream.

    The text is read as ``n_streams`` contiguous pieces side by side; only each
    piece's first token lacks context, so this is the loss of reading the text
    from start to end, at a fraction of the time.
    """
    was_training = net.training
    net.eval()
    n_streams = max(1, min(n_streams, (len(ids) - 1) // 2))
    inputs, targets = streams(ids[:-1], n_streams), streams(ids[1:], n_streams)
    total, count, state = 0.0, 0, None
    for start in range(0, inputs.shape[1], seq_len):
        logits, state = net(inputs[:, start : start + seq_len], state)
        chunk = targets[:, start : start + seq_len]
        total += nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), chunk.reshape(-1), reduction="sum"
        ).item()
        count += chunk.numel()
    net.train(was_training)
    return total / max(count, 1)


def _lr(config: TrainConfig, step: int) -> float:
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    span = max(config.max_steps - config.warmup_steps, 1)
    cosine = 0.5 * (1 + math.cos(math.pi * min((step - config.warmup_steps) / span, 1.0)))
    return config.learning_rate * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def train(
    text: str,
    config: TrainConfig = TrainConfig(),
    *,
    data_name: str = "text",
    progress: Progress = null_progress,
    on_eval: Callable[[Evaluation], None] | None = None,
    stop: threading.Event | None = None,
    validation_text: str | None = None,
    device: str = "cpu",
    init: LanguageModel | None = None,
    keep_best: bool = True,
) -> LanguageModel:
    """Train an LSTM language model on ``text``.

    Args:
        text: The corpus (already cleaned and capped by the caller).
        config: Settings; validated here.
        data_name: Where the text came from (kept in the manifest and model card).
        progress: Reports ``(fraction, message)``.
        on_eval: Called with each validation measurement (for a live loss curve).
        stop: When set, training ends after the current step, keeping the best weights so far.
        validation_text: Held-out text; by default the last ``val_fraction`` of ``text``.
        device: ``cpu`` or ``cuda`` (the returned model is always on the CPU).
        init: Continue training this model (its vocabulary and architecture; ``config``'s level and layer
            sizes are ignored, its schedule and regularisation apply) instead of starting from random weights.
        keep_best: Return the weights of the best evaluation (early stopping); False returns the last ones
            (for a final pass on a fixed schedule, when the validation text is not held out).

    Returns:
        The model with its training curve, metrics and data checksum in ``info``.

    Raises:
        InputError: Absurd settings, or a corpus too short or too uniform to learn from.
    """
    config = config.validate()
    if validation_text is None:
        train_text, val_text = split_text(text, config.val_fraction)
    else:
        train_text, val_text = text, validation_text
    if init is not None:
        vocab = init.vocab
        config = replace(
            config,
            level=vocab.level,
            embed_dim=init.config.embed_dim,
            hidden_size=init.config.hidden_size,
            num_layers=init.config.num_layers,
        )
    else:
        vocab = Vocabulary.build(train_text, config.level, max_size=config.max_vocab, min_count=config.min_count)
    train_ids = torch.tensor(vocab.encode(train_text), dtype=torch.long)
    val_ids = torch.tensor(vocab.encode(val_text), dtype=torch.long)
    unit = "characters" if config.level is Level.CHAR else "words"
    need = MIN_TOKENS[config.level]
    if len(train_ids) + len(val_ids) < need or len(val_ids) < 8:
        raise InputError(
            f"The corpus has {len(train_ids) + len(val_ids)} {unit}; training needs at least {need} "
            f"(and a tenth of them to validate on). Use a longer text."
        )

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    seq_len = min(config.seq_len, max(4, (len(train_ids) - 1) // 4))
    batch = max(1, min(config.batch_size, (len(train_ids) - 1) // (seq_len + 1)))
    net = LSTMLanguageModel(
        LSTMConfig(len(vocab), config.embed_dim, config.hidden_size, config.num_layers, config.dropout)
    )
    if init is not None:
        net.load_state_dict(init.net.state_dict())
    net.to(device).train()
    train_ids, val_ids = train_ids.to(device), val_ids.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    average = copy.deepcopy(net) if config.ema_decay > 0 else None
    best_source = "weights"
    loss_fn = nn.CrossEntropyLoss()

    curve: list[Evaluation] = []
    best_loss, best_state, best_step, stale = math.inf, copy.deepcopy(net.state_dict()), 0, 0
    running: float | None = None
    started = time.perf_counter()
    step, tokens_seen, stopped_by = 0, 0, "step limit"
    state = None
    inputs = targets = None
    position = 0

    def evaluate() -> Evaluation:
        nonlocal best_loss, best_state, best_step, stale, best_source
        val = mean_loss(net, val_ids, seq_len=max(seq_len, 64))
        average_val = mean_loss(average, val_ids, seq_len=max(seq_len, 64)) if average is not None and step else None
        point = Evaluation(
            step,
            tokens_seen,
            running if running is not None else val,
            val,
            time.perf_counter() - started,
            _lr(config, step),
            average_val,
        )
        curve.append(point)
        candidate, source, weights = val, "weights", net
        if average_val is not None and average_val < val:
            candidate, source, weights = average_val, "weight average", average
        if candidate < best_loss - 1e-4:
            best_loss, best_state, best_step, stale = candidate, copy.deepcopy(weights.state_dict()), step, 0
            best_source = source
        else:
            stale += 1
        if on_eval is not None:
            on_eval(point)
        return point

    evaluate()
    progress(0.0, f"Training on {len(train_ids):,} {unit}; validation loss {best_loss:.3f} before training")
    while step < config.max_steps:
        if stop is not None and stop.is_set():
            stopped_by = "stopped by the user"
            break
        if config.max_seconds is not None and time.perf_counter() - started > config.max_seconds:
            stopped_by = "time budget"
            break
        if inputs is None or position + seq_len > inputs.shape[1]:
            # A new pass: shift the chunk boundaries so every pass sees different cuts.
            offset = (
                int(torch.randint(0, seq_len, (1,), generator=generator)) if len(train_ids) > 2 * seq_len * batch else 0
            )
            inputs = streams(train_ids[offset:-1], batch)
            targets = streams(train_ids[offset + 1 :], batch)
            position, state = 0, None
            if inputs.shape[1] < seq_len:
                inputs, targets = streams(train_ids[:-1], batch), streams(train_ids[1:], batch)
        x = inputs[:, position : position + seq_len]
        y = targets[:, position : position + seq_len]
        position += seq_len
        for group in optimizer.param_groups:
            group["lr"] = _lr(config, step)
        state = None if state is None else tuple(s.detach() for s in state)
        logits, state = net(x, state)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        optimizer.step()
        if average is not None:
            # The usual warm-up of the decay, so the first steps' random weights fade fast.
            decay = min(config.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                for kept, current in zip(average.parameters(), net.parameters(), strict=True):
                    kept.lerp_(current, 1 - decay)
        step += 1
        tokens_seen += y.numel()
        value = loss.item()
        if not math.isfinite(value):
            raise InputError("Training diverged (the loss became infinite). Lower the learning rate.")
        running = value if running is None else 0.95 * running + 0.05 * value
        if step % config.eval_every == 0 or step == config.max_steps:
            point = evaluate()
            progress(
                step / config.max_steps,
                f"Step {step:,}/{config.max_steps:,}: training loss {point.train_loss:.3f}, validation loss {point.val_loss:.3f}",
            )
            if stale >= config.patience:
                stopped_by = "early stopping"
                break
    if not curve or curve[-1].step != step:
        evaluate()
    if keep_best:
        net.load_state_dict(best_state)
    else:
        best_loss, best_step, best_source = curve[-1].val_loss, step, "weights"
    net.to("cpu").eval()
    seconds = time.perf_counter() - started
    info: dict[str, Any] = {
        "training": {**asdict(config), "level": config.level.value, "batch_size_used": batch, "seq_len_used": seq_len},
        "data": {
            "name": data_name,
            "sha256": sha256_bytes(text.encode("utf-8")),
            "train_tokens": len(train_ids),
            "val_tokens": len(val_ids),
            "unit": unit,
        },
        "metrics": {
            "val_loss": best_loss,
            "val_perplexity": math.exp(best_loss),
            "best_step": best_step,
            "steps": step,
            "tokens_seen": tokens_seen,
            "seconds": seconds,
            "stopped_by": stopped_by,
            "best_weights": best_source,
        },
        "curve": [asdict(p) for p in curve],
    }
    progress(1.0, f"Trained {step:,} steps in {seconds:.0f} s ({stopped_by}); best validation loss {best_loss:.3f}")
    return LanguageModel(net, vocab, info)
