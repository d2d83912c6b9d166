"""Preprocessing for the summariser: strip news boilerplate, repair scraping artefacts, find the structure.

A person who pastes a news article wants its story summarised, not its byline. Our
methods therefore run on a *prepared* text:

1. **Boilerplate stripping** (:func:`strip_boilerplate`): agency datelines such as
   ``Canberra, Australia (CNN) --``; Daily Mail style bylines and timestamps
   (``By . Associated Press . PUBLISHED: . 14:11 EST, 25 October 2013 . | . UPDATED: ...``);
   short byline/date paragraphs at the top of a pasted article (``By Jane Doe``,
   ``Published 3 May 2024``); "Scroll down for video" prompts.
2. **Artefact repair**: scraped news often turns a line break into `` . `` in the middle of
   a sentence (``his . voice``); a dot between two lower-case words is removed and a
   detached full stop (``family .``) is re-attached, so that sentences split where the
   author ended them.
3. **Structure**: sentences come from :func:`engines.core.text.split_sentences` with their
   character offsets and paragraph; a paragraph that is a single short line without a
   closing full stop (or a Markdown ``#`` line) is a *heading*: it is never chosen as a
   summary sentence, but summary sentences are grouped under it.

Everything removed is returned, so a page can show what was dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engines.core.text import split_sentences

# A dateline before "(CNN)": a place name of at most ~60 characters, then an optional "--".
CNN_DATELINE = re.compile(r"^\s*(?:[A-Z][^()\n]{0,60}?\s*)?\(CNN\)\s*(?:--|—|-)?\s*")
# A time-stamp as the Daily Mail prints it: "14:11 EST, 25 October 2013" or "2:18 PM on 30th December 2011".
_STAMP = (
    r"\d{1,2}:\d{2}\s*(?:EST|EDT|GMT|BST|[AP]M)?,?\s*(?:on\s+)?"
    r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}"
)
DM_STAMP = re.compile(
    rf"\s*(?:\|\s*\.\s*)?(?:PUBLISHED|UPDATED|Last updated at|Last updated)\s*:?\s*\.?\s*{_STAMP}\s*\.?\s*(?:\|\s*\.?\s*)?",
    flags=re.IGNORECASE,
)
# "By . Rob Cooper . " (a Daily Mail byline, names separated from the text by " . ").
DM_BYLINE = re.compile(r"(?:(?<=^)|(?<=[.!?\"'’”]\s))By\s+\.\s+[^.!?]{1,80}?\s+\.\s+(?=[A-Z(]|PUBLISHED|UPDATED|Last)")
VIDEO_PROMPT = re.compile(r"\s*\b(?:Scroll down for (?:video|the video)|SCROLL DOWN FOR VIDEO)\b\s*\.?\s*")
# A short paragraph at the top that is only a byline, a date or a share prompt.
# "By" must be followed by at least two capitalised names ("By Jane Doe"), so "By the end of..." is prose.
BYLINE_PARAGRAPH = re.compile(
    r"^(?:By\s+[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|and|&))+\b"
    r"|(?:Published|PUBLISHED|Updated|UPDATED|Posted|Last updated)\b[^.]*\d|Share this\b|Follow\s+@)"
)
MAX_BYLINE_WORDS = 25  # a byline/date paragraph is short; a longer one is prose that starts with "By"
TOP_PARAGRAPHS = 4  # byline paragraphs are only looked for near the top
# " . " between two lower-case words: a line break the scraper turned into a full stop.
MID_SENTENCE_DOT = re.compile(r"(?<=[a-z,;])\s+\.\s+(?=[a-z])")
DETACHED_STOP = re.compile(r"(?<=\w)\s+\.(?=\s|$)")
HEADING_MAX_WORDS = 12  # a heading is a short line
SENTENCE_END = (".", "!", "?", '"', "”", "’", "'", ")", ";", ",")


@dataclass(frozen=True)
class DocSentence:
    """One sentence of the prepared text.

    Attributes:
        index: Position among all sentences (headings included).
        text: The sentence.
        start: Character offset of its first character in the prepared text.
        end: Offset one past its last character.
        paragraph: Index of its paragraph.
        is_heading: True for a heading line (never chosen, used to group the summary).
        words: Number of words.
    """

    index: int
    text: str
    start: int
    end: int
    paragraph: int
    is_heading: bool
    words: int


@dataclass(frozen=True)
class Prepared:
    """A text ready for ranking.

    Attributes:
        text: The prepared text (offsets of ``sentences`` point into it).
        sentences: Every sentence, in order.
        removed: Boilerplate snippets that were stripped, in order.
    """

    text: str
    sentences: tuple[DocSentence, ...]
    removed: tuple[str, ...]

    @property
    def body(self) -> list[DocSentence]:
        """The sentences that are not headings."""
        return [s for s in self.sentences if not s.is_heading]

    @property
    def words(self) -> int:
        """Words in the body (headings excluded)."""
        return sum(s.words for s in self.body)


def _cut(pattern: re.Pattern[str], text: str, removed: list[str], repl: str = " ") -> str:
    def keep(match: re.Match[str]) -> str:
        snippet = match.group().strip(" .|")
        if snippet:
            removed.append(snippet)
        return repl

    return pattern.sub(keep, text)


def strip_boilerplate(text: str) -> tuple[str, list[str]]:
    """Remove bylines, datelines, time-stamps and video prompts from a (whitespace-normalised) text.

    Args:
        text: Paragraphs separated by blank lines, as ``clean_text`` returns them.

    Returns:
        The text without boilerplate and the snippets that were removed.
    """
    removed: list[str] = []
    paragraphs = text.split("\n\n")
    kept: list[str] = []
    for i, para in enumerate(paragraphs):
        if i < TOP_PARAGRAPHS and BYLINE_PARAGRAPH.match(para) and len(para.split()) <= MAX_BYLINE_WORDS:
            removed.append(para.strip())
            continue
        if not kept:  # the dateline only opens an article
            para = _cut(CNN_DATELINE, para, removed, repl="")
        para = _cut(DM_BYLINE, para, removed)
        para = _cut(DM_STAMP, para, removed)
        para = _cut(VIDEO_PROMPT, para, removed)
        para = re.sub(r"^\s*(?:[.|]\s*)+", "", para)  # separators left at the start
        para = re.sub(r"\s{2,}", " ", para).strip()
        if para:
            kept.append(para)
    return "\n\n".join(kept), removed


def repair_artefacts(text: str) -> str:
    """Undo the `` . `` that scraped news puts where a line broke inside a sentence."""
    text = MID_SENTENCE_DOT.sub(" ", text)
    return DETACHED_STOP.sub(".", text)


def _is_heading(text: str, alone: bool) -> bool:
    """A Markdown heading, or a short line without closing punctuation that stands on its own line."""
    stripped = text.strip()
    if stripped.startswith("#"):
        return True
    return alone and len(stripped.split()) <= HEADING_MAX_WORDS and not stripped.endswith(SENTENCE_END)


def prepare(text: str, *, strip: bool = True) -> Prepared:
    """Prepare a clean text for ranking: optional boilerplate stripping and repair, sentences, headings.

    Args:
        text: Output of ``clean_text`` (paragraphs separated by blank lines).
        strip: Strip boilerplate and repair artefacts (``False`` keeps the text as is: the raw Lead-3 baseline).

    Returns:
        The prepared text with its sentences.
    """
    removed: list[str] = []
    if strip:
        text, removed = strip_boilerplate(text)
        text = repair_artefacts(text)
    raw = [s for s in split_sentences(text) if s.text.strip()]
    per_paragraph: dict[int, int] = {}
    for s in raw:
        per_paragraph[s.paragraph] = per_paragraph.get(s.paragraph, 0) + 1
    sentences = tuple(
        DocSentence(
            index=i,
            text=s.text.strip(),
            start=s.start,
            end=s.end,
            paragraph=s.paragraph,
            is_heading=_is_heading(s.text, per_paragraph[s.paragraph] == 1 or text[s.end : s.end + 1] == "\n"),
            words=len(s.text.split()),
        )
        for i, s in enumerate(raw)
    )
    return Prepared(text, sentences, tuple(removed))
