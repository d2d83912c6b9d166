"""A tiny randomly initialised BART summariser saved locally, for tests of the abstractive code path.

How transformers tests its own pipelines: a config with one small layer, random weights, a real
byte-level BPE tokenizer over the 256 byte symbols (no merges). Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (the byte-level BPE alphabet)."""
    keep = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def make_tiny_bart(folder: Path, *, seed: int = 0, max_length: int = 64) -> Path:
    """Save a 1-layer BART (d_model 16) and its tokenizer to ``folder``; ``max_length`` tokens per input.

    A small ``max_length`` makes a few paragraphs span several chunks, so the map-reduce path is exercised.
    """
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(SPECIALS + _byte_symbols())}
    tokenizer = BartTokenizer(vocab=vocab, merges=[], model_max_length=max_length)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=max_length + 8,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=0,
    )
    BartForConditionalGeneration(config).save_pretrained(folder)
    return folder
