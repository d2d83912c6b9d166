"""Predictive text generator: character- and word-level LSTM language models you can watch learn.

The page imports this facade lazily (it pulls in torch). What it offers:

- the shipped model (``load_shipped``): a 2-layer character LSTM trained on Tiny
  Shakespeare by ``python -m engines.textgen.build_default``;
- training on any corpus (``train`` with a ``TrainConfig``; ``PAGE_DEFAULT`` is the
  small model the page trains in well under a minute);
- streamed generation, next-word suggestions and perplexity (``sampling``);
- the count-based Kneser-Ney n-gram baseline (``NGramModel``);
- a pretrained GPT-2 through transformers when one can be loaded (``gpt2.load``);
- a model card for any trained model (``model_card``).
"""

from __future__ import annotations

from engines.core.card import ModelCard
from engines.core.errors import SourceError
from engines.textgen import corpus
from engines.textgen.build_default import SHIPPED_DIR
from engines.textgen.model import LanguageModel, LSTMConfig, load, save
from engines.textgen.ngram import NGramModel
from engines.textgen.sampling import (
    MAX_GENERATE,
    SamplingConfig,
    Suggestion,
    generate,
    loss_on,
    next_words,
    perplexity,
)
from engines.textgen.train import Evaluation, TrainConfig, split_text, train
from engines.textgen.vocab import Level, Vocabulary

PAGE_DEFAULT = TrainConfig(
    level=Level.CHAR,  # characters: works on any text, even a short one
    embed_dim=32,  # a few dimensions per character are enough
    hidden_size=192,  # small enough to train in seconds on two cores
    num_layers=1,  # one layer: the curve moves fast
    dropout=0.1,  # light regularisation for a short text
    seq_len=64,  # characters per back-propagation chunk
    batch_size=32,  # streams side by side
    learning_rate=4e-3,  # high: a small model on a short run
    warmup_steps=10,  # a short warm-up
    max_steps=300,  # the whole run, well under a minute here
    eval_every=20,  # fifteen points on the live curve
    patience=5,  # stop when validation stops improving
    max_seconds=55.0,  # a hard budget so the page never trains longer than a minute
)
PAGE_WORD_DEFAULT = TrainConfig(
    level=Level.WORD,  # words: next-word suggestions come straight from the softmax
    embed_dim=96,  # words need more dimensions than characters
    hidden_size=192,  # same cost class as the character default
    num_layers=1,  # one layer
    dropout=0.3,  # a short text has few examples per word: regularise more
    seq_len=32,  # words per chunk
    batch_size=16,  # fewer streams: a short text has few words
    learning_rate=4e-3,  # high: a small model on a short run
    warmup_steps=10,  # a short warm-up
    max_steps=300,  # the whole run
    eval_every=20,  # fifteen points on the live curve
    patience=4,  # word models overfit a short text quickly
    max_seconds=55.0,  # a hard budget
    max_vocab=3000,  # most frequent words kept
    min_count=2,  # rarer words become unknown
)


def load_shipped() -> LanguageModel:
    """The shipped Tiny Shakespeare character model (SourceError when its files are missing or corrupted)."""
    if not (SHIPPED_DIR / "manifest.json").is_file():
        raise SourceError(
            f"The shipped model is missing from {SHIPPED_DIR}. Recreate it with "
            "`python -m engines.textgen.build_default --data-dir <data dir>`."
        )
    return load(SHIPPED_DIR)


def model_card(model: LanguageModel, *, name: str | None = None) -> ModelCard:
    """The model card of a trained LSTM, from its manifest."""
    info = model.info
    data, metrics, training = info.get("data", {}), info.get("metrics", {}), info.get("training", {})
    config = model.config
    unit = data.get("unit", "tokens")
    level = "character" if model.vocab.level is Level.CHAR else "word"
    title = (
        name
        or f"{config.num_layers}-layer {level}-level LSTM ({config.hidden_size} units, {model.net.parameter_count():,} weights)"
    )
    held_out = {
        "validation loss (nats per token)": float(metrics.get("val_loss", float("nan"))),
        "validation perplexity": float(metrics.get("val_perplexity", float("nan"))),
    }
    return ModelCard(
        model=title,
        why=(
            "An LSTM reads text one token at a time and carries a memory cell, so it learns spelling, words and "
            "the shape of lines from raw text alone; small enough to train on a CPU and to run at hundreds of "
            "tokens per second. The count-based n-gram model is the baseline it has to beat."
        ),
        data=str(data.get("name", "unknown")),
        provenance=str(data.get("file", data.get("source", "see the page"))),
        split=(
            str(data.get("split"))
            if data.get("split")
            else f"The last {training.get('val_fraction', 0.1):.0%} of the text is held out for validation and early stopping."
        )
        + f" Data sha256 {str(data.get('sha256', ''))[:12]}…; stopped by {metrics.get('stopped_by', 'n/a')} "
        f"after {metrics.get('steps', 0):,} steps (best at step {metrics.get('best_step', 0):,}"
        + (", by the running average of the weights" if metrics.get("best_weights") == "weight average" else "")
        + ").",
        metrics=held_out,
        train_seconds=float(metrics.get("seconds", 0.0)),
        n_train=int(data.get("train_tokens", 0)),
        n_test=int(data.get("val_tokens", 0)),
        limitations=(
            f"It only knows the {len(model.vocab):,} {unit} of its training text; anything else is read as unknown.",
            "It imitates the style of its corpus and has no knowledge of facts: its text is fluent-looking, not true.",
            "The counts of examples above are tokens, not documents.",
            "Sampling is random: the same prompt gives different text unless the seed is fixed.",
        ),
        versions=info.get("versions", {}),
        citation=corpus.SHAKESPEARE.citation if "Shakespeare" in str(data.get("name", "")) else "",
    )


__all__ = [
    "MAX_GENERATE",
    "PAGE_DEFAULT",
    "PAGE_WORD_DEFAULT",
    "SHIPPED_DIR",
    "Evaluation",
    "LSTMConfig",
    "LanguageModel",
    "Level",
    "NGramModel",
    "SamplingConfig",
    "Suggestion",
    "TrainConfig",
    "Vocabulary",
    "corpus",
    "generate",
    "load",
    "load_shipped",
    "loss_on",
    "model_card",
    "next_words",
    "perplexity",
    "save",
    "split_text",
    "train",
]
