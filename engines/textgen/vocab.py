"""Tokenizers for the language models: characters or words, with a fixed vocabulary.

A vocabulary is built from a training corpus and saved in the model's manifest,
so a model always reads text exactly the way it was trained. Characters that the
corpus never contained map to an ``unknown`` id instead of failing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from engines.core.errors import InputError

UNK = "\ufffd"  # the unknown symbol, shown as the replacement character
WORD_RE = re.compile(r"\n|[A-Za-z0-9]+(?:'[A-Za-z]+)*|[^\sA-Za-z0-9]")
NO_SPACE_BEFORE = frozenset(".,;:!?)]}'\n")
NO_SPACE_AFTER = frozenset("([{\n")


class Level(StrEnum):
    """What one token is."""

    CHAR = "char"
    WORD = "word"


def word_tokens(text: str) -> list[str]:
    """Lower-cased words, punctuation marks and line breaks, in order."""
    return [t.lower() for t in WORD_RE.findall(text)]


def join_words(tokens: Iterable[str]) -> str:
    """Words back to readable text (spaces between words, none before punctuation)."""
    out: list[str] = []
    for token in tokens:
        if out and token not in NO_SPACE_BEFORE and out[-1][-1:] not in NO_SPACE_AFTER:
            out.append(" ")
        out.append(token)
    return "".join(out)


@dataclass(frozen=True)
class Vocabulary:
    """The tokens a model knows; id 0 is always the unknown token."""

    level: Level
    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[0] != UNK:
            raise ValueError("A vocabulary starts with the unknown token.")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    @classmethod
    def build(cls, text: str, level: Level | str, *, max_size: int = 10_000, min_count: int = 1) -> Vocabulary:
        """The vocabulary of ``text``: every character, or the ``max_size`` most frequent words."""
        level = Level(level)
        counts = Counter(text) if level is Level.CHAR else Counter(word_tokens(text))
        counts.pop(UNK, None)
        if level is Level.CHAR:
            kept = sorted(counts)
        else:
            common = [t for t, n in counts.most_common(max_size - 1) if n >= min_count]
            kept = sorted(common)
        if len(kept) < 2:
            raise InputError(
                f"The corpus has only {len(kept)} distinct {'character' if level is Level.CHAR else 'word'}"
                f"{'' if len(kept) == 1 else 's'}; a language model needs varied text. Use a longer, real text."
            )
        return cls(level, (UNK, *kept))

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        """``text`` as tokens of this vocabulary's level (unknown ones kept as they are)."""
        return list(text) if self.level is Level.CHAR else word_tokens(text)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; tokens outside the vocabulary become 0 (unknown)."""
        index = self._index  # type: ignore[attr-defined]
        return [index.get(t, 0) for t in self.split(text)]

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of ``text`` this vocabulary does not know, in order of appearance."""
        index = self._index  # type: ignore[attr-defined]
        return list(dict.fromkeys(t for t in self.split(text) if t not in index))

    def id(self, token: str) -> int:
        """The id of one token (0 when unknown)."""
        return self._index.get(token, 0)  # type: ignore[attr-defined]

    def decode(self, ids: Sequence[int]) -> str:
        """Text from token ids."""
        tokens = [self.tokens[i] for i in ids]
        return "".join(tokens) if self.level is Level.CHAR else join_words(tokens)

    def to_json(self) -> dict:
        """The vocabulary as a manifest entry."""
        return {"level": self.level.value, "tokens": list(self.tokens)}

    @classmethod
    def from_json(cls, data: dict) -> Vocabulary:
        """The inverse of :meth:`to_json`."""
        return cls(Level(data["level"]), tuple(data["tokens"]))
