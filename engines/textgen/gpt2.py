"""A pretrained GPT-2 family model through transformers, when one can be loaded.

The offline-first ladder (local model directory, Hugging Face cache, download
when allowed) looks for DistilGPT2 first, then GPT-2 small. Offline, nothing is
found and the page says so and keeps the LSTM. Generation streams token by
token with the same temperature / top-k / top-p filter as the LSTM.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from engines.core.errors import InputError
from engines.core.model_sources import ModelSpec, ResolvedModel, resolve_model
from engines.core.progress import Progress, null_progress, scaled
from engines.textgen.sampling import MAX_GENERATE, SamplingConfig, Suggestion, filtered_probs

OFFLINE = "the LSTM trained by this gallery (no pretrained GPT-2 here)"
DISTILGPT2 = ModelSpec(
    name="distilgpt2", title="DistilGPT2 (82M parameters)", offline=OFFLINE, hub_id="distilbert/distilgpt2"
)
GPT2 = ModelSpec(name="gpt2", title="GPT-2 small (124M parameters)", offline=OFFLINE, hub_id="openai-community/gpt2")
MODELS = (DISTILGPT2, GPT2)  # tried in this order
MAX_CONTEXT_TOKENS = 512  # the prompt is cut to its last 512 tokens


def resolve(progress: Progress = null_progress) -> ResolvedModel:
    """The first GPT-2 model found on the ladder, or the offline fallback."""
    first: ResolvedModel | None = None
    for i, spec in enumerate(MODELS):
        found = resolve_model(spec, scaled(progress, i / len(MODELS), (i + 1) / len(MODELS)))
        if not found.is_offline:
            return found
        first = first or found
    assert first is not None
    return first


class PretrainedLM:
    """A causal language model and its tokenizer, loaded from a folder."""

    def __init__(self, path: Path, title: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer  # lazy: heavy
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.torch = torch
        self.path, self.title = Path(path), title
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForCausalLM.from_pretrained(self.path).eval()

    def _ids(self, prompt: str):
        ids = self.tokenizer(prompt or self.tokenizer.bos_token or "\n", return_tensors="pt").input_ids
        return ids[:, -MAX_CONTEXT_TOKENS:]

    def generate(self, prompt: str, length: int = 60, config: SamplingConfig | None = None) -> Iterator[str]:
        """Yield the continuation piece by piece (``length`` tokens)."""
        torch = self.torch
        config = (config or SamplingConfig()).validate()
        if not (isinstance(length, int) and 1 <= length <= MAX_GENERATE):
            raise InputError(f"Length must be between 1 and {MAX_GENERATE:,} tokens.")
        generator = torch.Generator()
        if config.seed is None:
            generator.seed()
        else:
            generator.manual_seed(config.seed)
        ids = self._ids(prompt)
        past, produced, shown = None, [], ""
        limit = getattr(self.model.config, "n_positions", 1024)
        with torch.no_grad():
            for _ in range(length):
                out = self.model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                probs = filtered_probs(out.logits[0, -1], config)
                token = int(torch.multinomial(probs, 1, generator=generator))
                produced.append(token)
                text = self.tokenizer.decode(produced, skip_special_tokens=True)
                if len(text) > len(shown) and not text.endswith("\ufffd"):
                    yield text[len(shown) :]
                    shown = text
                ids = torch.tensor([[token]])
                if past is not None and hasattr(past, "get_seq_length") and past.get_seq_length() >= limit - 1:
                    break

    def next_words(self, prompt: str, k: int = 5) -> list[Suggestion]:
        """The ``k`` most likely next whole words (tokens that start a word), with probabilities."""
        torch = self.torch
        with torch.no_grad():
            logits = self.model(input_ids=self._ids(prompt)).logits[0, -1]
        probs = torch.softmax(logits.float(), -1)
        out: list[Suggestion] = []
        for index in torch.argsort(probs, descending=True)[:400].tolist():
            piece = self.tokenizer.decode([index])
            word = piece.strip()
            if not word or not word[0].isalnum() or word.lower() in {s.word.lower() for s in out}:
                continue
            if not prompt or prompt[-1].isspace():
                text = piece.lstrip()  # the prompt already ends in a space (or is empty): no second one
            elif piece[:1].isspace():
                text = piece
            else:
                text = " " + word
            out.append(Suggestion(word, float(probs[index]), text))
            if len(out) == k:
                break
        return out

    def loss(self, text: str) -> float:
        """Cross-entropy on ``text`` in nats per character, read in windows of the model's context.

        GPT-2's tokens span several characters, so per-character figures are what compares with a character LSTM.
        """
        torch = self.torch
        ids = self.tokenizer(text, return_tensors="pt").input_ids[0]
        if len(ids) < 2:
            raise InputError("The held-out text needs at least two tokens to measure perplexity.")
        window = min(getattr(self.model.config, "n_positions", 1024), 1024)
        total, count = 0.0, 0
        with torch.no_grad():
            for start in range(0, len(ids) - 1, window):
                chunk = ids[start : start + window + 1]
                if len(chunk) < 2:
                    break
                logits = self.model(input_ids=chunk[None, :-1]).logits[0]
                total += torch.nn.functional.cross_entropy(logits, chunk[1:], reduction="sum").item()
                count += len(chunk) - 1
        first = len(self.tokenizer.decode(ids[:1]))
        return total / max(len(text) - first, 1)

    def perplexity(self, text: str) -> float:
        """exp(loss): per-character perplexity."""
        return math.exp(self.loss(text))


def load(progress: Progress = null_progress) -> tuple[PretrainedLM | None, ResolvedModel]:
    """The first GPT-2 model that can be loaded, or None with the reason in the resolved notice."""
    found = resolve(progress)
    if found.is_offline or found.path is None:
        return None, found
    return PretrainedLM(found.path, found.spec.title), found
