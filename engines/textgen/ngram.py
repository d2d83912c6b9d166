"""The baseline: a count-based n-gram language model with interpolated Kneser-Ney smoothing.

Counts are kept as sorted integer codes (an n-gram of ids read as a number in
base ``V``), so training and scoring are a few NumPy sorts and binary searches,
fast enough for a million characters. Kneser-Ney: the highest order uses raw
counts minus a discount; lower orders use continuation counts (in how many
different contexts a token appears), interpolated down to a uniform distribution,
so every token, even an unseen one, keeps a non-zero probability.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from engines.core.errors import InputError
from engines.textgen.vocab import UNK, Level, Vocabulary


@dataclass
class _Table:
    """Counts of the k-grams of one order and totals per (k-1)-gram context."""

    codes: np.ndarray  # sorted unique k-gram codes
    counts: np.ndarray  # their counts (raw for the top order, continuation counts below)
    context_codes: np.ndarray  # sorted unique context codes
    context_totals: np.ndarray  # sum of counts per context
    context_types: np.ndarray  # distinct followers per context
    discount: float


def _codes(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """Code of the k-gram ending at each position i >= k-1 (length len(ids) - k + 1)."""
    code = np.zeros(len(ids) - k + 1, dtype=np.int64)
    for j in range(k):
        code = code * base + ids[j : len(ids) - k + 1 + j]
    return code


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[keys == q] for each q, 0 where q is absent (keys sorted)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    where = np.searchsorted(keys, query)
    where = np.minimum(where, len(keys) - 1)
    return np.where(keys[where] == query, values[where], 0)


def _discount(counts: np.ndarray) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2), clipped to a sensible range."""
    n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
    return float(np.clip(n1 / (n1 + 2 * n2), 0.1, 0.95)) if n1 + n2 else 0.75


class NGramModel:
    """An order-``n`` interpolated Kneser-Ney model over a character or word vocabulary."""

    def __init__(self, vocab: Vocabulary, order: int, tables: list[_Table], data_name: str = "text") -> None:
        self.vocab, self.order, self.tables, self.data_name = vocab, order, tables, data_name

    @classmethod
    def fit(
        cls,
        text: str,
        level: Level | str = Level.CHAR,
        order: int = 5,
        *,
        vocab: Vocabulary | None = None,
        data_name: str = "text",
    ) -> NGramModel:
        """Count the n-grams of ``text``.

        Args:
            text: Training text.
            level: Characters or words (ignored when ``vocab`` is given).
            order: n, from 1 to 12 (the vocabulary size limits it: codes must fit 62 bits).
            vocab: Reuse a vocabulary (to compare with an LSTM on the same tokens).
            data_name: Where the text came from.
        """
        vocab = vocab or Vocabulary.build(text, level)
        base = len(vocab)
        if not (isinstance(order, int) and 1 <= order <= 12):
            raise InputError("The n-gram order must be a whole number from 1 to 12.")
        if order * math.log2(base) > 62:
            raise InputError(f"An order-{order} model over {base:,} tokens is too large; use a lower order.")
        ids = np.asarray(vocab.encode(text), dtype=np.int64)
        if len(ids) < order + 1:
            raise InputError(f"The text has {len(ids)} tokens; an order-{order} model needs more text.")
        tables: list[_Table] = []
        for k in range(1, order + 1):
            if k == order:
                codes, counts = np.unique(_codes(ids, k, base), return_counts=True)
            else:
                # Continuation counts: distinct tokens seen before each k-gram.
                longer = np.unique(_codes(ids, k + 1, base))
                codes, counts = np.unique(longer % base**k, return_counts=True)
            contexts = codes // base
            context_codes, start = np.unique(contexts, return_index=True)
            totals = np.add.reduceat(counts, start) if len(counts) else counts
            types = np.diff(np.append(start, len(codes)))
            tables.append(_Table(codes, counts, context_codes, totals, types, _discount(counts)))
        return cls(vocab, order, tables, data_name)

    def _probs(self, ids: np.ndarray, positions: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        """P(token | history) for each position (or for each candidate token after one position)."""
        base = len(self.vocab)
        if candidates is None:
            targets = ids[positions]
        else:
            targets = candidates
            positions = np.full(len(candidates), positions[0])
        p = np.full(len(targets), 1.0 / base)
        for k, table in enumerate(self.tables, start=1):
            have = positions >= k - 1  # enough history for this order
            context = np.zeros(len(targets), dtype=np.int64)
            for j in range(k - 1, 0, -1):
                context = context * base + np.where(have, ids[np.maximum(positions - j, 0)], 0)
            code = context * base + targets
            count = _lookup(table.codes, table.counts, code).astype(float)
            total = _lookup(table.context_codes, table.context_totals, context).astype(float)
            types = _lookup(table.context_codes, table.context_types, context).astype(float)
            seen = have & (total > 0)
            safe = np.where(seen, total, 1.0)
            mixed = np.maximum(count - table.discount, 0) / safe + table.discount * types / safe * p
            p = np.where(seen, mixed, p)
        return p

    def loss(self, text: str) -> float:
        """Mean cross-entropy in nats per token on ``text`` (unknown tokens included)."""
        ids = np.asarray(self.vocab.encode(text), dtype=np.int64)
        if len(ids) < 2:
            raise InputError("The held-out text needs at least two tokens to measure perplexity.")
        positions = np.arange(1, len(ids))
        chunks = [self._probs(ids, positions[i : i + 200_000]) for i in range(0, len(positions), 200_000)]
        return float(-np.log(np.concatenate(chunks)).mean())

    def perplexity(self, text: str) -> float:
        """exp(loss)."""
        return math.exp(self.loss(text))

    def next_probs(self, history: list[int]) -> np.ndarray:
        """The distribution of the token after ``history`` (ids)."""
        ids = np.asarray([*history[-(self.order - 1) :], 0] if self.order > 1 else [0], dtype=np.int64)
        return self._probs(ids, np.array([len(ids) - 1]), np.arange(len(self.vocab)))

    def generate(self, prompt: str, length: int = 300, temperature: float = 0.8, seed: int | None = 0) -> Iterator[str]:
        """Yield a sampled continuation of ``prompt`` token by token."""
        from engines.textgen.sampling import _previous_piece, _spaced

        rng = np.random.default_rng(seed)
        history = self.vocab.encode(prompt) or [self.vocab.id("\n")]
        previous = _previous_piece(self.vocab, history, prompt)
        for _ in range(length):
            p = self.next_probs(history)
            p[0] = 0.0  # never the unknown token
            logp = np.log(np.maximum(p, 1e-300)) / temperature
            p = np.exp(logp - logp.max())
            token_id = int(rng.choice(len(p), p=p / p.sum()))
            history.append(token_id)
            token = self.vocab.tokens[token_id]
            yield token if self.vocab.level is Level.CHAR else _spaced(previous, token)
            previous = token

    @property
    def size(self) -> int:
        """Number of stored n-gram counts."""
        return sum(len(t.codes) for t in self.tables)


def best_order(
    train_text: str, held_out: str, level: Level | str = Level.CHAR, orders=range(2, 9)
) -> tuple[int, dict[int, float]]:
    """The order with the lowest loss on ``held_out`` (a validation text, not the test text) and every order's loss."""
    vocab = Vocabulary.build(train_text, level)
    losses = {n: NGramModel.fit(train_text, order=n, vocab=vocab).loss(held_out) for n in orders}
    return min(losses, key=losses.get), losses


__all__ = ["UNK", "NGramModel", "best_order"]
