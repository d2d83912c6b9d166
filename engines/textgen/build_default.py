"""The training command of the shipped model: a character-level LSTM on Tiny Shakespeare.

    python -m engines.textgen.build_default --data-dir ../shared/data

Reads ``<data dir>/tiny-shakespeare/input.txt`` (never copied into the repository),
trains on its first 90% (nanoGPT's split; the last 10% is the benchmark's
validation text and is not looked at here), early-stopping on the last 5% of that
training part, and writes ``assets/models/textgen/shakespeare-char/`` (float16
safetensors weights plus the manifest). Rerunning it with the same settings, torch
version and thread count reproduces the model. ``--device cuda`` trains on a GPU.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from engines.core.hashing import sha256_bytes
from engines.registry import ROOT

SHIPPED_DIR = ROOT / "assets" / "models" / "textgen" / "shakespeare-char"
DATASET = "tiny-shakespeare"
TRAIN_FRACTION = 0.9  # nanoGPT's split: train on text[: int(0.9 n)], validate on the rest
EARLY_STOP_FRACTION = 0.05  # the tail of the training part used for early stopping


def shakespeare_path(data_dir: Path) -> Path:
    """Where Tiny Shakespeare lives in the data directory."""
    return Path(data_dir) / DATASET / "input.txt"


def nanogpt_split(text: str) -> tuple[str, str]:
    """Training and validation text exactly as nanoGPT's ``prepare.py`` cuts them."""
    cut = int(len(text) * TRAIN_FRACTION)
    return text[:cut], text[cut:]


def shipped_config():
    """The settings of the shipped model."""
    from engines.textgen.train import TrainConfig
    from engines.textgen.vocab import Level

    return TrainConfig(
        level=Level.CHAR,
        embed_dim=64,
        hidden_size=512,
        num_layers=2,
        dropout=0.5,
        seq_len=128,
        batch_size=64,
        learning_rate=2e-3,
        weight_decay=0.1,
        warmup_steps=100,
        min_lr_ratio=0.05,
        clip_norm=1.0,
        max_steps=3000,
        eval_every=100,
        patience=30,
        seed=1337,
    )


def main(argv: list[str] | None = None) -> int:
    """Train and write the shipped model; prints progress lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding tiny-shakespeare/input.txt")
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR, help="output folder (default: the shipped model's)")
    parser.add_argument("--steps", type=int, default=None, help="override the number of training steps")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    from engines.textgen import model as model_io
    from engines.textgen.train import train

    torch.set_num_threads(args.threads)
    path = shakespeare_path(args.data_dir)
    if not path.is_file():
        print(f"{path} not found: pass the data directory that holds {DATASET}/input.txt", file=sys.stderr)
        return 2
    text = path.read_text(encoding="utf-8")
    train_part, _benchmark_part = nanogpt_split(text)
    cut = int(len(train_part) * (1 - EARLY_STOP_FRACTION))
    config = shipped_config()
    if args.steps:
        from dataclasses import replace

        config = replace(config, max_steps=args.steps)
    started = time.time()
    model = train(
        train_part[:cut],
        config,
        validation_text=train_part[cut:],
        data_name="Tiny Shakespeare (first 90%)",
        progress=lambda f, m: print(f"[{time.time() - started:7.0f}s] {f:5.1%} {m}", flush=True),
        device=args.device,
    )
    model.info["data"] = {
        **model.info["data"],
        "name": "Tiny Shakespeare",
        "file": f"{DATASET}/input.txt",
        "sha256": sha256_bytes(text.encode("utf-8")),
        "split": "trained on the first 95% of text[: int(0.9 * len(text))], early-stopped on the last 5% of it; "
        "text[int(0.9 * len(text)):] is the benchmark's validation text, unseen in training",
    }
    model.info["command"] = "python -m engines.textgen.build_default --data-dir <data dir>" + (
        f" --steps {args.steps}" if args.steps else ""
    )
    model.info["threads"] = args.threads
    model_io.save(model, args.out, half=True)
    print(f"Wrote {args.out} in {time.time() - started:.0f} s: {model.info['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
