"""Free text from users, made safe to model: cleaning, size cap, language check, sentences, text columns.

Every language demo reads pasted or uploaded text through this module, so an empty
text, a text with no words, 2 MB of text, a non-English text or a column of numbers
gets the same clear message everywhere.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress

MAX_TEXT_CHARS = 200_000  # ~35,000 words: a long report; more is cut (with a note) so work stays interactive
MIN_LANGUAGE_LETTERS = 25  # fewer letters than this: too short to tell the language reliably
LANGUAGE_CONFIDENCE = 0.9  # call a text non-English only when the detector is at least this sure
ENGLISH_STOPWORD_SHARE = 0.12  # ...and fewer than this share of its words are common English words
# langid is restricted to widely used languages: on short texts, the full 97-language set mislabels English.
LANGUAGES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "pl": "Polish",
    "cs": "Czech", "ro": "Romanian", "hu": "Hungarian", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian",
    "el": "Greek", "ar": "Arabic", "he": "Hebrew", "fa": "Persian", "hi": "Hindi", "bn": "Bengali",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian",
}  # fmt: skip
ENGLISH_STOPWORDS = frozenset((
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "from", "by", "is",
    "are", "was", "were", "be", "been", "it", "this", "that", "these", "those", "i", "you", "he", "she",
    "we", "they", "my", "your", "his", "her", "our", "their", "me", "him", "us", "them", "not", "no", "do",
    "does", "did", "have", "has", "had", "will", "would", "can", "could", "should", "so", "very", "just",
    "about", "what", "which", "who", "when", "where", "how", "all", "there", "here", "if", "than", "then"
))  # fmt: skip
# Words that end with a period without ending a sentence.
ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "u.n",
    "inc", "ltd", "co", "corp", "no", "nos", "gen", "sen", "rep", "gov", "lt", "col", "capt", "sgt", "mt",
    "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig",
    "figs", "approx", "dept", "est", "vol", "p", "pp", "ph.d", "a.m", "p.m"
))  # fmt: skip
# Markdown syntax in user text becomes character references, so a page that renders HTML through
# Markdown shows "**", "_" or "$" as typed instead of formatting them.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|~$"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A candidate sentence end: terminal punctuation, closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_BULLET = re.compile(r"^\s*(?:[-*•–·▪]|\d{1,3}[.)]|[a-z][.)])\s+")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a cleaned text.

    Attributes:
        text: The sentence.
        start: Offset of its first character in the cleaned text.
        end: Offset just past its last character (``text == cleaned[start:end]``).
        paragraph: Index of its paragraph (paragraphs are separated by blank lines).
    """

    text: str
    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class CleanText:
    """A user's text after cleaning.

    Attributes:
        text: Normalised text: NFC, no control characters, single spaces, paragraphs separated by one blank line.
        original_chars: Length of the text as given.
        language: ISO 639-1 code of the detected language, or "unknown" when too short to tell.
        language_name: The language in words ("French"), or "unknown".
        language_confidence: The detector's probability for that language (0 when unknown).
        notes: What was changed, in words for the page (the cap, removed characters).
    """

    text: str
    original_chars: int
    language: str
    language_name: str
    language_confidence: float
    notes: tuple[str, ...] = ()

    @property
    def truncated(self) -> bool:
        """True when the text was cut to the size cap."""
        return any(note.startswith("Cut to") for note in self.notes)

    @property
    def is_english(self) -> bool:
        """True for English, or a text too short to tell."""
        return self.language in ("en", "unknown")

    @property
    def words(self) -> int:
        """Number of words."""
        return len(_WORD.findall(self.text))


def _normalise(raw: str) -> tuple[str, list[str]]:
    notes = []
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    stripped = _CONTROL.sub("", text)
    if len(stripped) != len(text):
        notes.append(f"Removed {len(text) - len(stripped):,} invisible control characters.")
    lines = [_SPACES.sub(" ", line).strip() for line in stripped.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, notes


def _cut(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars``, at a paragraph or sentence end in the last tenth when there is one."""
    window = text[:max_chars]
    floor = int(max_chars * 0.9)
    for boundary in ("\n\n", ". ", "\n", " "):
        at = window.rfind(boundary)
        if at >= floor:
            return window[: at + (1 if boundary == ". " else 0)].rstrip()
    return window.rstrip()


@functools.lru_cache(maxsize=1)
def _identifier():  # langid has no types
    from langid.langid import LanguageIdentifier, model  # lazy: loading the model takes about a second

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> tuple[str, float]:
    """The language of ``text`` as (ISO 639-1 code, probability); ("unknown", 0.0) when too short to tell.

    Links, e-mail addresses, @handles and #hashtags are left out first: they are not written in any language,
    and their letters ("t.co/Xk29sLpQ", "#JetBlueFail") fool the character n-grams. A text counts as English
    when enough of its words are common English words, whatever the detector says: short informal English
    ("gr8 phone lol") fools character n-grams. Another language is only named when the detector is sure *and*
    the text, without those parts, has enough letters to judge (40): a short text stays "unknown" (accepted).
    """
    sample = re.sub(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+|[@#][\w_]+", " ", text[:5000])
    letters = len(_LETTER.findall(sample))
    if letters < MIN_LANGUAGE_LETTERS:
        return "unknown", 0.0
    words = [w.lower() for w in _WORD.findall(sample)]
    share = sum(w in ENGLISH_STOPWORDS for w in words) / max(len(words), 1)
    code, probability = _identifier().classify(sample)
    if code != "en" and (share >= ENGLISH_STOPWORD_SHARE or probability < LANGUAGE_CONFIDENCE):
        return "en", share
    if code != "en" and letters < 40:  # sure, but on a few words: too little to refuse someone's text
        return "unknown", 0.0
    return code, float(probability)


def clean_text(raw: str, *, max_chars: int = MAX_TEXT_CHARS, what: str = "text") -> CleanText:
    """Clean a user's text, cap its size and detect its language.

    Args:
        raw: Text as typed, pasted or extracted from a file.
        max_chars: Characters kept; a longer text is cut at a paragraph or sentence end, with a note.
        what: What the page calls the text ("review", "document"), for messages.

    Raises:
        InputError: for an empty text, or one without a single word (only emoji, punctuation or numbers).
    """
    if not isinstance(raw, str):
        raise InputError(f"The {what} must be text, not {type(raw).__name__}.")
    text, notes = _normalise(raw)
    if not text:
        raise InputError(f"The {what} is empty. Type or paste some English text.")
    if not _LETTER.search(text):
        raise InputError(
            f"The {what} has no words, only emoji, punctuation or numbers. Type or paste a sentence in English."
        )
    if len(text) > max_chars:
        kept = _cut(text, max_chars)
        notes.append(
            f"Cut to the first {len(kept):,} of {len(text):,} characters ({len(kept) / len(text):.0%}) to keep "
            f"this fast. Split the {what} into parts to cover the rest."
        )
        text = kept
    code, confidence = detect_language(text)
    name = LANGUAGES.get(code, "unknown")
    return CleanText(text, len(raw), code, name, confidence, tuple(notes))


def require_english(clean: CleanText, what: str = "text") -> None:
    """Refuse a text in another language, naming it.

    Raises:
        InputError: when ``clean`` was detected as a language other than English.
    """
    if not clean.is_english:
        raise InputError(
            f"This {what} looks like {clean.language_name} ({clean.language_confidence:.0%} sure). The models here "
            f"were trained on English only, so their answer would be meaningless: paste an English {what}."
        )


def english_text(raw: str, *, max_chars: int = MAX_TEXT_CHARS, what: str = "text") -> CleanText:
    """:func:`clean_text` then :func:`require_english`: the boundary check of engines whose models read English.

    Raises:
        InputError: for a non-string, an empty text, a text without words, or a non-English text.
    """
    clean = clean_text(raw, max_chars=max_chars, what=what)
    require_english(clean, what)
    return clean


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period at ``text[end - 1]`` closes an abbreviation or an initial, not a sentence."""
    before = text[:end].rstrip(".")
    token = before.rsplit(maxsplit=1)[-1].lower().lstrip("(\"'“‘") if before.strip() else ""
    if token in ABBREVIATIONS:
        return True
    return len(token) == 1 and token.isalpha() and token.upper() == before[-1]  # "J. K. Rowling"


def _line_breaks_sentence(line: str, following: str) -> bool:
    """Inside a paragraph, a line break ends a sentence after a heading or before a list item."""
    if _BULLET.match(following) or _BULLET.match(line):
        return True
    heading = len(line) < 60 and line[-1:] not in ",;:-" and line[:1].isupper()
    return heading and following.lstrip()[:1].isupper()


def _spans(paragraph: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets within one paragraph."""
    cuts = []
    offset = 0
    lines = paragraph.split("\n")
    for i, line in enumerate(lines[:-1]):
        offset += len(line) + 1
        if line.rstrip()[-1:] in ".!?…" or _line_breaks_sentence(line, lines[i + 1]):
            cuts.append(offset - 1)
    for match in _END.finditer(paragraph):
        end = match.end()
        if paragraph[match.start()] == "." and match.end() - match.start() == 1 and _is_abbreviation(paragraph, end):
            continue
        rest = paragraph[end:].lstrip()
        ellipsis = paragraph[match.start() : end].startswith(("…", ".."))
        if ellipsis and not rest[:1].isupper():
            continue  # "I was... well" goes on
        cuts.append(end)
    spans, start = [], 0
    for cut in sorted(set(cuts)):
        if paragraph[start:cut].strip():
            spans.append((start, cut))
        start = cut
    if paragraph[start:].strip():
        spans.append((start, len(paragraph)))
    trimmed = []
    for a, b in spans:
        piece = paragraph[a:b]
        a += len(piece) - len(piece.lstrip())
        b -= len(piece) - len(piece.rstrip())
        trimmed.append((a, b))
    return trimmed


def inert_html(text: str) -> str:
    """User text made inert for HTML *and* Markdown, for engines that build highlighted HTML."""
    return text.translate(_ENTITIES)


def split_sentences(text: str) -> list[Sentence]:
    """Split a cleaned text into sentences with their offsets and paragraph numbers.

    Rules: terminal punctuation followed by whitespace ends a sentence unless it closes a
    known abbreviation ("Dr.", "U.S.") or an initial; a blank line ends a paragraph; inside
    a paragraph a line break ends a sentence after a heading-like short line or around
    list items, and otherwise joins hard-wrapped lines.
    """
    sentences: list[Sentence] = []
    position = 0
    for number, block in enumerate(re.split(r"\n\s*\n", text)):
        start = text.find(block, position)
        position = start + len(block)
        for a, b in _spans(block):
            body = text[start + a : start + b]
            sentences.append(Sentence(body, start + a, start + b, number))
    return sentences


def text_column(frame: pd.DataFrame, column: str, *, what: str = "texts") -> list[str]:
    """The non-empty values of a column that holds free text.

    Raises:
        InputError: when the column is missing, empty, or holds numbers, dates or codes rather than text.
    """
    columns = ", ".join(f"`{c}`" for c in frame.columns)
    if column not in frame.columns:
        raise InputError(f"There is no column `{column}`. Pick one of: {columns}.")
    values = frame[column].fillna("").astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        raise InputError(f"Column `{column}` is empty. Pick the column that holds the {what} ({columns}).")
    numeric = pd.to_numeric(values.str.replace(",", "", regex=False), errors="coerce").notna().mean()
    if numeric >= 0.8:
        raise InputError(
            f"Column `{column}` holds numbers, not text. Pick the column that holds the {what} ({columns})."
        )
    wordy = values.map(lambda v: len(_WORD.findall(v)) >= 1).mean()
    if wordy < 0.5:
        raise InputError(
            f"Column `{column}` does not look like text (most values have no words). "
            f"Pick the column that holds the {what} ({columns})."
        )
    return values.tolist()


def score_batch(
    texts: Sequence[Any],
    score: Callable[[list[str]], np.ndarray],
    check: Callable[[str], tuple[str, str]],
    *,
    max_batch: int,
    noun: str = "texts",
    chunk: int = 256,
    progress: Progress = null_progress,
) -> tuple[np.ndarray, list[str]]:
    """Score many texts; a text that fails ``check`` gets a note and NaN instead of stopping the batch.

    Args:
        texts: The texts (None and NaN count as empty).
        score: Scores a list of valid texts, one number each.
        check: Returns (the text to score, "") or ("", a short reason it cannot be scored).
        max_batch: Most texts one batch takes.
        noun: What the texts are, for messages ("messages").
        chunk: Texts per call of ``score`` (progress is reported after each).
        progress: Receives the share scored; ends at 1.0.

    Returns:
        One score per text (NaN where the note is not empty) and the notes.

    Raises:
        InputError: when there are no texts or more than ``max_batch``.
    """
    if len(texts) == 0:
        raise InputError(f"No {noun} to score: the file or column is empty. Paste some lines or pick a text column.")
    if len(texts) > max_batch:
        raise InputError(f"{len(texts):,} {noun} is more than the {max_batch:,} a batch takes; split the file.")
    clean: list[str] = []
    notes: list[str] = []
    for raw in texts:
        text = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
        text, note = check(text)
        notes.append(note)
        clean.append("" if note else text)
    ok = [i for i, note in enumerate(notes) if not note]
    values = np.full(len(clean), np.nan)
    for start in range(0, len(ok), chunk):
        idx = ok[start : start + chunk]
        values[idx] = score([clean[i] for i in idx])
        done = min(start + chunk, len(ok))
        progress(done / len(ok), f"Scored {done:,} of {len(ok):,} {noun}")
    progress(1.0, "Done")
    return values, notes
