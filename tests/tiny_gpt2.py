"""A tiny randomly initialised GPT-2 saved locally, for tests of the pretrained text-generation path.

As in ``tests/tiny_bart.py``: one small layer, random weights, a real byte-level BPE tokenizer over
the 256 byte symbols plus GPT-2's ``<|endoftext|>`` and three merges that make `` the`` one token (so a
word piece with a leading space exists, as in the real vocabulary). Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

from tests.tiny_bart import _byte_symbols

EOS = "<|endoftext|>"
MERGES = [("Ġ", "t"), ("Ġt", "h"), ("Ġth", "e")]  # "Ġ" stands for the space byte
THE = "Ġthe"  # the token " the"


def make_tiny_gpt2(folder: Path, *, seed: int = 0, n_positions: int = 64) -> Path:
    """Save a 1-layer GPT-2 (n_embd 16, 2 heads, ``n_positions`` positions) and its tokenizer to ``folder``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate([*_byte_symbols(), "Ġt", "Ġth", THE, EOS])}
    tokenizer = GPT2Tokenizer(
        vocab=vocab,
        merges=list(MERGES),
        unk_token=EOS,
        bos_token=EOS,
        eos_token=EOS,
        model_max_length=n_positions,
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=n_positions,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=vocab[EOS],
        eos_token_id=vocab[EOS],
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder
