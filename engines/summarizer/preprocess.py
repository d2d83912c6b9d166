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
3. **Tokenised text** (:func:`is_tokenised`, :func:`detokenise`): text distributed the way CNN/DailyMail is
   (lower-cased, every mark a token: ``kathmandu , nepal -lrb- cnn -rrb- -- `` we do n't know , '' he said .``)
   has `` . `` between lower-case words at every sentence end, so step 2 would join all its sentences. Such a
   text is recognised by its detached punctuation and put back together instead (``kathmandu, nepal (cnn) --
   "we don't know," he said.``); step 2 is skipped for it, and the dateline is found whatever its casing.
4. **Structure**: sentences come from :func:`engines.core.text.split_sentences` with their
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
CNN_DATELINE_ANY_CASE = re.compile(r"^\s*(?:[^()\n]{0,60}?\s*)?\(cnn\)\s*(?:--|—|-)?\s*", flags=re.IGNORECASE)
DM_BYLINE_ANY_CASE = re.compile(
    r"(?:(?<=^)|(?<=[.!?\"'’”]\s))by\.?\s+(?:\.\s+)?[^.!?]{1,80}?\.\s+(?=published|updated|last)", flags=re.IGNORECASE
)
# In any case, a Daily Mail byline opening a paragraph: "by. daily mail reporter." (a few words between stops).
DM_BYLINE_OPENING = re.compile(r"^by\.\s+(?:[^.!?\s]+\s+){0,5}[^.!?\s]+\.\s+", flags=re.IGNORECASE)
VIDEO_PROMPT_ANY_CASE = re.compile(r"\s*\bscroll down for (?:the )?video\b\s*\.?\s*", flags=re.IGNORECASE)
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
# PTB tokenisation (CNN/DailyMail, Penn Treebank): brackets spelled out, quotes as `` and '', clitics split.
PTB_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_PTB_BRACKET = re.compile(r"-(?:lrb|rrb|lsb|rsb|lcb|rcb)-", re.IGNORECASE)
# A mark standing alone after a word ("said ." "nepal ,") and one glued to it ("said." "nepal,").
_DETACHED_MARK = re.compile(r"(?<=\w) [.,;:!?](?=\s|$)")
_ATTACHED_MARK = re.compile(r"\w[.,;:!?](?=\s|$)")
# In tokenised lower-case text, " . " is also the line break a scraper turned into a full stop ("a woman who .
# claims"); step 2 tells it from a sentence end by capitals, which this text lacks. It is an artefact when the
# word before cannot end a sentence, the word after cannot start one, or a comma comes right before it.
NEVER_LAST = frozenset((
    "a", "an", "the", "of", "and", "or", "nor", "but", "his", "their", "its", "our", "my", "your", "whose",
    "into", "onto", "than", "very", "with", "from", "at", "by", "who", "which", "such",
))  # fmt: skip
NEVER_FIRST = frozenset(("of", "than"))
_FALSE_STOP = re.compile(r"(?<= )(\w+) \.(?= ([a-z]+)\b)")
MIN_DETACHED_MARKS = 3  # fewer: too little to tell (a stray " . " is a scraping artefact, step 2)
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
        tokenised: The text came tokenised (" . " between words, ``-lrb-``) and was put back together.
    """

    text: str
    sentences: tuple[DocSentence, ...]
    removed: tuple[str, ...]
    tokenised: bool = False

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


def strip_boilerplate(text: str, *, any_case: bool = False) -> tuple[str, list[str]]:
    """Remove bylines, datelines, time-stamps and video prompts from a (whitespace-normalised) text.

    Args:
        text: Paragraphs separated by blank lines, as ``clean_text`` returns them.
        any_case: Find the dateline and the Daily Mail byline in lower-case text too ("(cnn) --").

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
            para = _cut(CNN_DATELINE_ANY_CASE if any_case else CNN_DATELINE, para, removed, repl="")
        para = _cut(DM_BYLINE_ANY_CASE if any_case else DM_BYLINE, para, removed)
        if any_case:
            para = _cut(DM_BYLINE_OPENING, para, removed, repl="")
        para = _cut(DM_STAMP, para, removed)
        para = _cut(VIDEO_PROMPT_ANY_CASE if any_case else VIDEO_PROMPT, para, removed)
        para = re.sub(r"^\s*(?:[.|]\s*)+", "", para)  # separators left at the start
        para = re.sub(r"\s{2,}", " ", para).strip()
        if para:
            kept.append(para)
    return "\n\n".join(kept), removed


def repair_artefacts(text: str) -> str:
    """Undo the `` . `` that scraped news puts where a line broke inside a sentence."""
    text = MID_SENTENCE_DOT.sub(" ", text)
    return DETACHED_STOP.sub(".", text)


def is_tokenised(text: str) -> bool:
    """True for PTB-tokenised text: most punctuation marks stand apart from the word before them."""
    detached = len(_DETACHED_MARK.findall(text))
    return detached >= MIN_DETACHED_MARKS and detached > 2 * len(_ATTACHED_MARK.findall(text))


def detokenise(text: str) -> str:
    """PTB-tokenised text put back together: marks glued to their word, brackets and quotes restored.

    Line breaks are kept, so paragraphs stay paragraphs; the casing is left as it is.
    """
    text = re.sub(r"(?<= [,;:]) \.(?= )", "", text)  # "tested , . because": a line break, not an end
    text = _FALSE_STOP.sub(
        lambda m: m.group(1) if m.group(1).lower() in NEVER_LAST or m.group(2) in NEVER_FIRST else m.group(), text
    )
    text = _PTB_BRACKET.sub(lambda m: PTB_BRACKETS[m.group().lower()], text)
    text = re.sub(r"``[ \t]*", '"', text)  # an opening quote joins the word after it
    text = re.sub(r"[ \t]*''", '"', text)  # a closing quote joins the word before it
    text = re.sub(r"(?<!`)`(?!`)[ \t]*", "'", text)  # a single opening quote
    text = re.sub(r"([(\[{])[ \t]+", r"\1", text)
    text = re.sub(r"[ \t]+([)\]}])", r"\1", text)
    text = re.sub(r"[ \t]+(n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"[ \t]+([.,;:!?%]+)(?=[\s\"')\]}]|$)", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text)


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
    tokenised = False
    if strip:
        tokenised = is_tokenised(text)
        if tokenised:
            text = detokenise(text)
        text, removed = strip_boilerplate(text, any_case=tokenised)
        if not tokenised:
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
    return Prepared(text, sentences, tuple(removed), tokenised)
