"""Predictive text generator: the shipped LSTM against the Kneser-Ney n-gram baseline, speed, page training.

Dataset 1, ``tiny-shakespeare``, character level, nanoGPT's split (train ``text[:int(0.9 n)]``,
validate on the rest). Rows:

- ``lstm_2x512``: the shipped model (``assets/models/textgen/shakespeare-char``, float16 weights as
  shipped), trained by ``python -m engines.textgen.build_default`` on the training part (its schedule
  on the first 95%, then a short pass at half the peak rate over all of it); the validation text is never seen.
  ``val_loss`` reads the validation text as 16 contiguous streams with the LSTM state carried (the usual
  way to evaluate a recurrent model: only 16 characters lack context); ``val_loss_ctx256`` resets the
  state every 256 characters, which is nanoGPT's block size, so every character sees at most 255 earlier
  ones, as in nanoGPT's evaluation. ``chars_per_s_1core`` streams 2,000 characters through
  ``sampling.generate`` on one thread (temperature 0.8, top-p 0.95); ``load_s`` reads and verifies the
  files. ``peer_ratio`` is the LSTM's generation speed over the n-gram's, measured in the same run.
- ``kneser_ney_<n>gram``: interpolated Kneser-Ney on the same 66-token vocabulary, fitted on the same
  training part; ``n`` is chosen from 2..8 by loss on the last 5% of the training part when fitted on
  the first 95% (the shipped model's held-out slice), never on the validation text.

Dataset 2, ``fables (bundled)``: the page's default training runs (character and word level) from
scratch on the project's own text with two threads: seconds to train, validation loss before and after,
the share of evaluations that improved on the previous one; the n-gram on the same split beside them.

Anchors: nanoGPT's README (Karpathy, 2023) for its character-level Shakespeare model: the 6-layer
Transformer on a GPU reaches val loss 1.4697; the CPU configuration about 1.88.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import torch

from benchmarks.common import Anchor, Record, Skip

ENGINE = "textgen"
SHAKESPEARE = "tiny-shakespeare (char, nanoGPT val = last 10%)"
FABLES = "fables (bundled, last 10% held out)"
GENERATE_CHARS = 2000
ANCHORS = [
    Anchor(ENGINE, SHAKESPEARE, "nanoGPT 6-layer Transformer, GPU (README)", "val_loss", 1.4697),
    Anchor(ENGINE, SHAKESPEARE, "nanoGPT CPU configuration (README)", "val_loss", 1.88),
]


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


def _chars_per_second(pieces) -> tuple[float, str]:
    started = time.perf_counter()
    text = "".join(pieces)
    return len(text) / (time.perf_counter() - started), text


def reset_loss(net, ids: torch.Tensor, block: int = 256) -> float:
    """Mean loss with the state reset every ``block`` tokens (nanoGPT-comparable context)."""
    usable = (len(ids) - 1) // block * block
    inputs = ids[:usable].view(-1, block)
    targets = ids[1 : usable + 1].view(-1, block)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(inputs), 64):
            logits, _ = net(inputs[start : start + 64])
            chunk = targets[start : start + 64]
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), chunk.reshape(-1), reduction="sum"
            ).item()
    return total / targets.numel()


def shakespeare_rows(data_dir: Path, progress) -> list[Record]:
    """The shipped model and the n-gram on Tiny Shakespeare's validation text."""
    from engines import textgen as tg
    from engines.textgen.build_default import EARLY_STOP_FRACTION, nanogpt_split, shakespeare_path
    from engines.textgen.ngram import NGramModel, best_order

    path = shakespeare_path(data_dir)
    if not path.is_file():
        raise Skip(f"{path} not found")
    text = path.read_text(encoding="utf-8")
    train_part, val_text = nanogpt_split(text)
    cut = int(len(train_part) * (1 - EARLY_STOP_FRACTION))
    torch.set_num_threads(2)
    model, load_s = _timed(tg.load_shipped)
    if model.info.get("data", {}).get("sha256") != tg.corpus.SHAKESPEARE.files["input.txt"]:
        progress("textgen: warning: the shipped model's manifest names another training text")
    val_loss = tg.loss_on(model, val_text)
    ids = torch.tensor(model.vocab.encode(val_text), dtype=torch.long)
    ctx256 = reset_loss(model.net, ids)
    progress(f"textgen: shipped LSTM val_loss {val_loss:.4f} (state carried), {ctx256:.4f} (reset every 256)")

    order, losses = best_order(train_part[:cut], train_part[cut:], tg.Level.CHAR, range(2, 9))
    progress(
        f"textgen: n-gram order by early-stopping-slice loss: {order} ({', '.join(f'{n}: {v:.3f}' for n, v in losses.items())})"
    )
    ngram, fit_s = _timed(NGramModel.fit, train_part, order=order, vocab=model.vocab)
    ngram_loss = ngram.loss(val_text)

    torch.set_num_threads(1)
    config = tg.SamplingConfig(temperature=0.8, top_p=0.95, seed=0)
    lstm_speed, sample = _chars_per_second(tg.generate(model, "ROMEO:\n", GENERATE_CHARS, config))
    ngram_speed, _ = _chars_per_second(ngram.generate("ROMEO:\n", 500, temperature=0.8, seed=0))
    torch.set_num_threads(2)
    progress(f"textgen: LSTM sample: {sample[:160]!r}")
    name = f"kneser_ney_{order}gram"
    rows = {
        "lstm_2x512": {
            "val_loss": val_loss,
            "val_perplexity": math.exp(val_loss),
            "val_loss_ctx256": ctx256,
            "chars_per_s_1core": lstm_speed,
            "peer_ratio": lstm_speed / ngram_speed,
            "load_s": load_s,
            "parameters": float(model.net.parameter_count()),
        },
        name: {
            "val_loss": ngram_loss,
            "val_perplexity": math.exp(ngram_loss),
            "chars_per_s_1core": ngram_speed,
            "fit_s": fit_s,
            "parameters": float(ngram.size),
        },
    }
    return [
        Record(ENGINE, SHAKESPEARE, m, k, v, m == "lstm_2x512") for m, values in rows.items() for k, v in values.items()
    ]


def fables_rows(progress, *, max_steps: int | None = None) -> list[Record]:
    """The page's default training runs on the bundled text, with the n-gram beside them."""
    from dataclasses import replace

    from engines import textgen as tg
    from engines.textgen.ngram import NGramModel

    corpus = tg.corpus.bundled()
    torch.set_num_threads(2)
    records: list[Record] = []
    for label, config, order in (("char", tg.PAGE_DEFAULT, 5), ("word", tg.PAGE_WORD_DEFAULT, 3)):
        if max_steps:
            config = replace(config, max_steps=max_steps)
        model, seconds = _timed(tg.train, corpus.text, config, data_name=corpus.name)
        curve = model.info["curve"]
        improved = sum(b["val_loss"] < a["val_loss"] for a, b in itertools.pairwise(curve)) / max(len(curve) - 1, 1)
        train_text, val_text = tg.split_text(corpus.text, config.val_fraction)
        ngram = NGramModel.fit(train_text, order=order, vocab=model.vocab)
        progress(
            f"textgen: page default ({label}) trained in {seconds:.1f} s: val loss {curve[0]['val_loss']:.3f} -> "
            f"{model.info['metrics']['val_loss']:.3f} ({model.info['metrics']['stopped_by']})"
        )
        records += [
            Record(ENGINE, FABLES, f"lstm_page_default_{label}", "train_s", seconds, label == "char"),
            Record(
                ENGINE, FABLES, f"lstm_page_default_{label}", "val_loss_start", curve[0]["val_loss"], label == "char"
            ),
            Record(
                ENGINE,
                FABLES,
                f"lstm_page_default_{label}",
                "val_loss",
                model.info["metrics"]["val_loss"],
                label == "char",
            ),
            Record(ENGINE, FABLES, f"lstm_page_default_{label}", "improving_evals", improved, label == "char"),
            Record(ENGINE, FABLES, f"kneser_ney_{order}gram_{label}", "val_loss", ngram.loss(val_text), False),
        ]
    return records


def run(data_dir: Path, seeds: int = 1, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001
    """Every row (``seeds`` is unused: the shipped model is fixed and the page's training has a fixed seed)."""
    threads = torch.get_num_threads()
    try:
        records = shakespeare_rows(Path(data_dir), progress)
        records += fables_rows(progress)
    finally:
        torch.set_num_threads(threads)
    return records, ANCHORS
