"""Using a trained LSTM: streamed generation, next-word suggestions, perplexity.

Sampling reshapes the next-token distribution with a temperature, then keeps
only the ``top_k`` most likely tokens and/or the smallest set whose probability
reaches ``top_p`` (nucleus sampling). Next-word suggestions for a character
model come from a beam search over characters that ends at a word boundary, so
each suggestion carries the model's probability of that whole word.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from engines.core.errors import InputError
from engines.textgen.model import LanguageModel
from engines.textgen.train import mean_loss
from engines.textgen.vocab import UNK, Level

MAX_GENERATE = 5000  # tokens per request at most
MAX_PROMPT_TOKENS = 20_000  # the prompt is read up to this many tokens from its end
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'")


@dataclass(frozen=True)
class SamplingConfig:
    """How a continuation is drawn."""

    temperature: float = 0.8  # below 1: safer, more repetitive; above 1: more surprising
    top_k: int = 0  # keep only the k most likely tokens (0: all)
    top_p: float = 0.95  # keep the smallest set of tokens holding this probability (1: all)
    seed: int | None = 0  # None: a different continuation every time

    def validate(self) -> SamplingConfig:
        """The config, or an InputError that names the setting to fix."""
        if not (isinstance(self.temperature, (int, float)) and 0.05 <= self.temperature <= 5):
            raise InputError("Temperature must be between 0.05 and 5.")
        if not (isinstance(self.top_k, int) and 0 <= self.top_k <= 100_000):
            raise InputError("Top-k must be 0 (off) or a positive whole number.")
        if not (isinstance(self.top_p, (int, float)) and 0.01 <= self.top_p <= 1):
            raise InputError("Top-p must be between 0.01 and 1.")
        return self


def filtered_probs(logits: torch.Tensor, config: SamplingConfig) -> torch.Tensor:
    """Next-token probabilities after temperature, top-k and top-p (a 1-D tensor summing to 1)."""
    logits = logits.float() / config.temperature
    if 0 < config.top_k < logits.numel():
        threshold = torch.topk(logits, config.top_k).values[-1]
        logits = logits.masked_fill(logits < threshold, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    if config.top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True)
        before = torch.cumsum(sorted_probs, 0) - sorted_probs  # mass of the more likely tokens
        drop = order[before >= config.top_p]
        probs[drop] = 0.0
        probs = probs / probs.sum()
    return probs


def _context_ids(model: LanguageModel, prompt: str) -> list[int]:
    ids = model.vocab.encode(prompt)[-MAX_PROMPT_TOKENS:]
    return ids


@torch.no_grad()
def _prime(model: LanguageModel, ids: list[int]):
    """The state after reading ``ids`` except the last, and the last id (the model's next input)."""
    net = model.net
    net.eval()
    if not ids:
        # Nothing to read: start from a line break when the model knows one, else from the unknown token.
        start = model.vocab.id("\n")
        return None, start
    state = None
    if len(ids) > 1:
        _, state = net(torch.tensor([ids[:-1]]), None)
    return state, ids[-1]


@torch.no_grad()
def generate(
    model: LanguageModel, prompt: str, length: int = 300, config: SamplingConfig = SamplingConfig()
) -> Iterator[str]:
    """Yield the continuation of ``prompt`` token by token (characters, or words with their spacing).

    Args:
        model: A trained model.
        prompt: Text to continue (may be empty; unknown characters are read as the unknown token).
        length: Tokens to generate, 1..MAX_GENERATE.
        config: Temperature, top-k, top-p and seed.
    """
    config = config.validate()
    if not (isinstance(length, int) and 1 <= length <= MAX_GENERATE):
        raise InputError(
            f"Length must be between 1 and {MAX_GENERATE:,} {'characters' if model.vocab.level is Level.CHAR else 'words'}."
        )
    generator = torch.Generator()
    if config.seed is None:
        generator.seed()
    else:
        generator.manual_seed(config.seed)
    ids = _context_ids(model, prompt)
    state, current = _prime(model, ids)
    previous = _previous_piece(model.vocab, ids, prompt)
    for _ in range(length):
        logits, state = model.net(torch.tensor([[current]]), state)
        logits = logits[0, -1]
        logits[0] = -math.inf  # never emit the unknown token
        probs = filtered_probs(logits, config)
        current = int(torch.multinomial(probs, 1, generator=generator))
        token = model.vocab.tokens[current]
        if model.vocab.level is Level.CHAR:
            yield token
        else:
            yield _spaced(previous, token)
        previous = token


def _previous_piece(vocab, ids: list[int], prompt: str) -> str:
    """What word-level spacing treats as the text before the first generated word.

    A prompt that is empty or already ends in whitespace counts as a line start, so
    the first word gets no second space.
    """
    if not ids or not prompt or prompt[-1].isspace():
        return "\n"
    return vocab.tokens[ids[-1]]


def _spaced(previous: str, token: str) -> str:
    from engines.textgen.vocab import NO_SPACE_AFTER, NO_SPACE_BEFORE

    if token in NO_SPACE_BEFORE or previous[-1:] in NO_SPACE_AFTER:
        return token
    return " " + token


@dataclass(frozen=True)
class Suggestion:
    """One likely next word and the model's probability of it."""

    word: str
    probability: float
    text: str  # what to append to the prompt (with its leading space or line break)


@torch.no_grad()
def next_words(
    model: LanguageModel, prompt: str, k: int = 5, *, beam: int = 24, max_chars: int = 16
) -> list[Suggestion]:
    """The ``k`` most likely next words after ``prompt``, with probabilities.

    A word model reads them off its softmax (skipping punctuation and the unknown
    token). A character model runs a beam search: a hypothesis starts with a
    space or line break when the prompt ends inside a word, then letters, and counts as a word when the model
    predicts a non-letter after it; its probability is the product of all those
    characters' probabilities, the closing character's included.
    """
    if model.vocab.level is Level.WORD:
        ids = _context_ids(model, prompt)
        state, current = _prime(model, ids)
        logits, _ = model.net(torch.tensor([[current]]), state)
        probs = torch.softmax(logits[0, -1].float(), -1)
        out: list[Suggestion] = []
        for index in torch.argsort(probs, descending=True).tolist():
            token = model.vocab.tokens[index]
            if token == UNK or not any(c.isalnum() for c in token):
                continue
            spacer = "" if not prompt or prompt[-1].isspace() else " "
            out.append(Suggestion(token, float(probs[index]), spacer + token))
            if len(out) == k:
                break
        return out

    vocab = model.vocab
    ids = _context_ids(model, prompt)
    state, current = _prime(model, ids)
    letters = torch.tensor([c in WORD_CHARS for c in vocab.tokens])
    spaces = torch.tensor([t in (" ", "\n") for t in vocab.tokens])
    needs_space = bool(prompt) and prompt[-1] in WORD_CHARS
    # After punctuation ("mat.", "will,") the next word may follow a space or come at once.
    after_punctuation = bool(prompt) and not needs_space and not prompt[-1].isspace()
    if state is None:
        layers, hidden = model.net.lstm.num_layers, model.net.lstm.hidden_size
        state = (torch.zeros(layers, 1, hidden), torch.zeros(layers, 1, hidden))
    # Each hypothesis: (text so far, log probability, state after its last char, last id).
    beams = [("", 0.0, state, current)]
    finished: dict[str, tuple[float, str]] = {}
    for _ in range(max_chars + 2):
        candidates = []
        # One forward pass for every open hypothesis: states are stacked along the batch axis.
        h = torch.cat([b[2][0] for b in beams], dim=1)
        c = torch.cat([b[2][1] for b in beams], dim=1)
        logits, (h, c) = model.net(torch.tensor([[b[3]] for b in beams]), (h, c))
        all_logprobs = torch.log_softmax(logits[:, -1].float(), -1)
        for row, (text, logp, _state, _last) in enumerate(beams):
            new_state = (h[:, row : row + 1], c[:, row : row + 1])
            logprobs = all_logprobs[row]
            word = text.lstrip(" \n")
            if word:
                # Closing here: the probability that a non-letter comes next.
                close = torch.logsumexp(logprobs[~letters], 0).item()
                total = logp + close
                if word not in finished or finished[word][0] < total:
                    finished[word] = (total, text)
                allowed = letters
            elif not text:
                if needs_space:
                    allowed = spaces  # the prompt ends inside a word: the next word starts after a space
                elif after_punctuation:
                    allowed = letters | spaces
                else:
                    allowed = letters
            else:
                allowed = letters | (spaces if len(text) < 2 else torch.zeros_like(spaces))
            masked = logprobs.masked_fill(~allowed, -math.inf)
            top = torch.topk(masked, min(beam, int(allowed.sum())))
            for value, index in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                if math.isfinite(value):
                    candidates.append((text + vocab.tokens[index], logp + value, new_state, index))
        if not candidates:
            break
        candidates.sort(key=lambda c: c[1], reverse=True)
        beams = candidates[:beam]
        if finished and len(finished) >= k and beams[0][1] < sorted(v[0] for v in finished.values())[-k]:
            break  # no open hypothesis can beat the k-th finished word any more
    ranked = sorted(finished.items(), key=lambda item: item[1][0], reverse=True)[:k]
    return [Suggestion(word, math.exp(logp), text) for word, (logp, text) in ranked]


def loss_on(model: LanguageModel, text: str) -> float:
    """Mean cross-entropy (nats per token) of ``model`` on ``text``."""
    ids = torch.tensor(model.vocab.encode(text), dtype=torch.long)
    if len(ids) < 2:
        raise InputError("The held-out text needs at least two tokens to measure perplexity.")
    return mean_loss(model.net, ids)


def perplexity(model: LanguageModel, text: str) -> float:
    """exp(mean cross-entropy): how many tokens the model is 'choosing between' on average."""
    return math.exp(loss_on(model, text))
