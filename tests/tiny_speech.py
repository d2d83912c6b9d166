"""Tiny randomly initialised speech and translation models saved like real ones, for tests (nothing is downloaded).

:func:`make_tiny_whisper` saves a 1-layer Whisper (d_model 16) with a working ``WhisperProcessor``: the default
80-bin feature extractor and a byte-level BPE tokenizer over the 256 byte symbols (no merges) plus the special
tokens Whisper's ``generate`` needs (``<|endoftext|>``, ``<|startoftranscript|>``, language, task and
``<|notimestamps|>`` tokens). ``multilingual=True`` gives it ``lang_to_id``/``task_to_id`` like openai/whisper-tiny;
``False`` makes it English-only like whisper-tiny.en. :func:`make_tiny_translator` saves the tiny random BART of
:mod:`tests.tiny_bart` where an opus-mt Marian model would be (same seq2seq interface).
"""

from __future__ import annotations

from pathlib import Path

from tests.tiny_bart import _byte_symbols, make_tiny_bart

LANGUAGES = ("en", "de", "fr")
WHISPER_SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    *(f"<|{code}|>" for code in LANGUAGES),
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
]


def make_tiny_whisper(
    folder: Path, *, multilingual: bool = False, seed: int = 0, max_target_positions: int = 64
) -> Path:
    """Save a 1-layer random Whisper and its processor into ``folder``; returns it.

    Args:
        folder: Where to save (created).
        multilingual: Give it language and task tokens in its generation config (like openai/whisper-tiny).
        seed: torch seed for the random weights.
        max_target_positions: The decoder's position table (real Whisper: 448); bounds generation.
    """
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    folder.mkdir(parents=True, exist_ok=True)
    symbols = _byte_symbols()
    vocab = {symbol: i for i, symbol in enumerate(symbols)}
    for token in WHISPER_SPECIALS:
        vocab[token] = len(vocab)
    ids = {token: vocab[token] for token in WHISPER_SPECIALS}
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": WHISPER_SPECIALS[1:]})
    assert tokenizer.convert_tokens_to_ids("<|notimestamps|>") == ids["<|notimestamps|>"], "special ids moved"
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tokenizer)
    processor.save_pretrained(folder)

    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=80,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=1500,
        max_target_positions=max_target_positions,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    model = WhisperForConditionalGeneration(config).eval()
    generation = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        begin_suppress_tokens=[eot],
        is_multilingual=multilingual,
    )
    if multilingual:
        generation.lang_to_id = {f"<|{code}|>": ids[f"<|{code}|>"] for code in LANGUAGES}
        generation.task_to_id = {"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]}
    model.generation_config = generation
    model.save_pretrained(folder)
    return folder


def make_tiny_translator(folder: Path, *, seed: int = 0, max_length: int = 64) -> Path:
    """Save the tiny random BART (a seq2seq model and its tokenizer) where a Marian opus-mt model would be."""
    return make_tiny_bart(folder, seed=seed, max_length=max_length)
