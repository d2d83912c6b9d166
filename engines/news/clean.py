"""Plain text from feed and page HTML, and near-duplicate grouping of stories.

Feed titles and descriptions are HTML fragments written by someone else: they are parsed
with a streaming parser (no tree is built), scripts, styles and other non-content elements are removed with their
contents, and only the text is kept, so the page can render it as text. The same story
published by several outlets is grouped into one :class:`Cluster` by TF-IDF cosine over
title and lead (leader clustering: an article joins a cluster only when it resembles the
cluster's representative, so chains of loosely related stories do not merge).

Markup from the internet is read under limits (issue 26): never a DOM, a streaming parser fed in
chunks, a cap on the characters read, on nesting depth and on element count, and a deadline checked
inside the parse. :class:`Budget` does the counting for every parser of the news engine.
"""

from __future__ import annotations

import codecs
import contextlib
import html
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import numpy as np

from engines.core.errors import InputError, SourceError

if TYPE_CHECKING:
    from engines.news.feeds import Article

# Elements whose *contents* are never text a reader should see.
DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head", "form")
BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article")
MAX_TITLE_CHARS = 300  # a headline; longer is a feed stuffing its body into the title
MAX_TEXT_CHARS = 20_000  # an article body; enough for a summary, bounded for speed
LEAD_CHARS = 300  # the part of the body compared for near-duplicates (the lead paragraph)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_BLANKS = re.compile(r"\n\s*\n\s*")
# [^<>]{0,4096}: bounded, so a million unclosed "<a" cost one pass, not a pass each.
_LOOKS_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]{0,4096}>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


def plain_text(value: object, *, max_chars: int = MAX_TEXT_CHARS, single_line: bool = False) -> str:
    """Text from an HTML fragment (or already plain text), safe to show as text.

    Scripts, styles and similar elements are removed *with their contents*; tags are dropped,
    entities decoded, control and bidirectional-override characters removed, whitespace
    collapsed, and the result cut at ``max_chars`` on a word boundary.

    Args:
        value: HTML or text (None gives "").
        max_chars: Longest result.
        single_line: Join paragraphs with spaces (titles) instead of blank lines.
    """
    if value is None:
        return ""
    # Markup or text past this cannot add to the max_chars kept (issue 26: a 5 MB description is cut first).
    text = str(value)[: _markup_cap(max_chars)]
    if _LOOKS_HTML.search(text):
        text = _html_to_text(text, max_chars)
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = _BLANKS.sub("\n\n", text).strip()
    if single_line:
        text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:") + "…"
    return text


def _markup_cap(max_chars: int) -> int:
    return max(FRAGMENT_MIN_MARKUP, max_chars * FRAGMENT_MARKUP_PER_CHAR)


def _html_to_text(markup: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    # A stream, never a DOM; at most FRAGMENT_MARKUP_PER_CHAR characters of markup per character kept.
    # Past a limit the text read so far is kept: a headline or a summary degrades, it never fails.
    limits = Limits(max_bytes=_markup_cap(max_chars), seconds=FRAGMENT_SECONDS)
    text = _TextParser.read(markup, limits, max_chars)
    # The parser decodes entities once; a second pass catches double-escaped feeds (&amp;lt;b&amp;gt;).
    if _LOOKS_HTML.search(text):  # escaped markup inside the text: parse once more, never render it
        text = _TextParser.read(html.unescape(text), limits, max_chars)
    return text


# ---------------------------------------------------------------- bounded markup parsing (issue 26)

MAX_DEPTH = 256  # real pages nest 20-40 deep; thousands of levels is an attack on the parser
MAX_ELEMENTS = 100_000  # a long article page has a few thousand elements
FRAGMENT_MIN_MARKUP = 20_000  # characters of markup read for a short fragment (a headline)
FRAGMENT_MARKUP_PER_CHAR = 20  # markup read per character of text kept: styled HTML is ~5-10x its text
FRAGMENT_SECONDS = 5.0
CHUNK_CHARS = 1 << 16  # the streaming parsers are fed this much at a time; the deadline is checked in between
VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "basefont", "frame", "keygen",
})  # fmt: skip
OPTIONAL_END_TAGS = frozenset({
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "rt", "rp",
})  # fmt: skip
_UNSAFE_CODECS = frozenset({"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined"})


class MarkupLimit(SourceError):
    """A document is larger, deeper, busier or slower to read than the limits allow (the message says which)."""


@dataclass(frozen=True)
class Limits:
    """How much of one document is read.

    Attributes:
        max_bytes: Bytes (or characters) parsed; a longer document is cut or refused by the caller.
        max_depth: Open elements at once.
        max_elements: Start tags in all.
        seconds: Wall time for the whole parse, checked inside it.
    """

    max_bytes: int
    max_depth: int = MAX_DEPTH
    max_elements: int = MAX_ELEMENTS
    seconds: float = 10.0


class Budget:
    """Counts one document's elements and open elements, and watches its deadline.

    ``start``/``end`` keep the stack of open elements as an HTML reader would: void elements never open,
    a ``<p>`` or ``<li>`` closes the one left open before it, an end tag closes everything opened after
    its start tag, and an end tag with no start tag is ignored.
    """

    def __init__(self, limits: Limits, what: str = "document") -> None:
        self.limits = limits
        self.what = what
        self.deadline = time.monotonic() + limits.seconds
        self.elements = 0
        self.stack: list[str] = []
        self._open: Counter[str] = Counter()
        self._ticks = 0

    def start(self, tag: str) -> list[str]:
        """Count a start tag; returns the elements it closed implicitly. Raises MarkupLimit past a limit."""
        self.elements += 1
        if self.elements > self.limits.max_elements:
            raise MarkupLimit(
                f"Too many elements: more than {self.limits.max_elements:,} in one {self.what}; not read."
            )
        self.tick()
        if tag in VOID_TAGS:
            return []
        closed = []
        if tag in OPTIONAL_END_TAGS and self.stack and self.stack[-1] == tag:
            closed.append(self._pop())
        self.stack.append(tag)
        self._open[tag] += 1
        if len(self.stack) > self.limits.max_depth:
            raise MarkupLimit(
                f"Too deeply nested: more than {self.limits.max_depth} levels of elements in one {self.what}; not read."
            )
        return closed

    def end(self, tag: str) -> list[str]:
        """Close ``tag`` and everything opened inside it; returns the closed elements, innermost first."""
        self.tick()
        if not self._open[tag]:
            return []
        closed = []
        while self.stack:
            closed.append(self._pop())
            if closed[-1] == tag:
                break
        return closed

    def _pop(self) -> str:
        tag = self.stack.pop()
        self._open[tag] -= 1
        return tag

    def tick(self) -> None:
        """Check the deadline every 256 calls (a clock read per tag would cost more than the tag)."""
        self._ticks += 1
        if not self._ticks & 255:
            self.check_time()

    def check_time(self) -> None:
        """Raise MarkupLimit once the deadline has passed."""
        if time.monotonic() > self.deadline:
            raise MarkupLimit(f"Reading the {self.what} took longer than {self.limits.seconds:g} s; gave up.")


class StopParsing(Exception):
    """Raised by a :class:`StreamParser` callback once it has read what it wanted."""


TAG_REACH = 65_536  # a tag or comment that has not closed after this many characters is text, not markup


def defuse(markup: str, budget: Budget | None = None, reach: int = TAG_REACH) -> tuple[str, int]:
    """``markup`` with every "<" that does not close within ``reach`` characters escaped, and how many were.

    HTMLParser (and feedparser's sgmllib) rescan an unclosed ``<a b='``, ``<!--`` or ``</`` to the end of the
    document, once per occurrence: two megabytes of them take minutes. A browser shows such a "<" as text;
    so does this. Linear: the next ">" and "-->" are found once and reused until passed.
    """
    parts: list[str] = []
    last = escaped = 0
    find, size = markup.find, len(markup)
    never = size + reach
    next_gt = next_close = -1
    i = find("<")
    while i != -1:
        if budget is not None:
            budget.tick()
        if markup.startswith("<!--", i):
            if next_close < i + 4:
                found = find("-->", i + 4)
                next_close = never if found == -1 else found
            closes = next_close - i < reach
        else:
            if next_gt <= i:
                found = find(">", i + 1)
                next_gt = never if found == -1 else found
            closes = next_gt - i < reach
        if not closes:
            parts += (markup[last:i], "&lt;")
            last = i + 1
            escaped += 1
        i = find("<", i + 1)
    if not escaped:
        return markup, 0
    parts.append(markup[last:])
    return "".join(parts), escaped


class StreamParser(HTMLParser):
    """An event parser that keeps no tree: subclasses see start, end and text with the elements' stack."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(convert_charrefs=True)
        self.budget = budget

    def run(self, markup: str) -> None:
        """Parse ``markup`` (already cut to size) in chunks, checking the deadline between them."""
        markup, _ = defuse(markup, self.budget)
        try:
            for at in range(0, len(markup), CHUNK_CHARS):
                self.budget.check_time()
                self.feed(markup[at : at + CHUNK_CHARS])
            self.close()
        except StopParsing:
            pass
        except AssertionError as exc:  # Python 3.11's HTMLParser asserts on some malformed declarations ("<![x>")
            raise MarkupLimit(f"Malformed markup in the {self.budget.what}: {str(exc)[:80]}") from None

    # HTMLParser's callbacks, routed through the budget
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: D102
        for closed in self.budget.start(tag):
            self.closed(closed)
        self.opened(tag, attrs)
        if tag in VOID_TAGS:
            self.closed(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: D102
        for closed in self.budget.start(tag):
            self.closed(closed)
        self.opened(tag, attrs)
        for closed in [tag] if tag in VOID_TAGS else self.budget.end(tag):
            self.closed(closed)

    def handle_endtag(self, tag: str) -> None:  # noqa: D102
        for closed in self.budget.end(tag):
            self.closed(closed)

    def handle_data(self, data: str) -> None:  # noqa: D102
        self.budget.tick()
        self.text(data)

    def opened(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """An element started (``self.budget.stack`` already holds it unless it is void)."""

    def closed(self, tag: str) -> None:
        """An element ended (explicitly, implicitly, or at once for a void element)."""

    def text(self, data: str) -> None:
        """Text (entities decoded)."""


class _TextParser(StreamParser):
    """The visible text of an HTML fragment: DROP_TAGS removed with their contents, newlines around blocks."""

    def __init__(self, budget: Budget, max_chars: int) -> None:
        super().__init__(budget)
        self.parts: list[str] = []
        self.size = 0
        self.want = max_chars * 2 + 1000  # whitespace is collapsed afterwards: read a little more than kept
        self.dropping = 0

    @classmethod
    def read(cls, markup: str, limits: Limits, max_chars: int) -> str:
        parser = cls(Budget(limits, "text fragment"), max_chars)
        with contextlib.suppress(MarkupLimit):  # keep what was read: a fragment's text degrades, it never fails
            parser.run(markup[: limits.max_bytes])
        return "".join(parser.parts)

    def opened(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if tag in DROP_TAGS and tag not in VOID_TAGS:
            self.dropping += 1
        if tag in BLOCK_TAGS:
            self.text("\n")

    def closed(self, tag: str) -> None:
        if tag in DROP_TAGS and tag not in VOID_TAGS:
            self.dropping = max(0, self.dropping - 1)
        if tag in BLOCK_TAGS:
            self.text("\n")

    def text(self, data: str) -> None:
        if self.dropping:
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.want:
            raise StopParsing


def safe_charset(name: object) -> str | None:
    """``name`` when it is a character set documents can be decoded with, else None.

    Unknown names, bytes-to-bytes codecs and decoders that are slow or odd on hostile input
    (punycode and idna are quadratic, the escape codecs interpret backslashes) give None.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 40:
        return None
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _UNSAFE_CODECS:
        return None
    return info.name


def hostile_charset(name: object) -> bool:
    """True when ``name`` is a codec Python knows but that must not decode a document (see :func:`safe_charset`).

    Unknown names are not hostile: a decoder tries them, fails, and falls back.
    """
    if not isinstance(name, str) or not name.strip():
        return False
    if len(name) > 40:
        return True
    try:
        codecs.lookup(name.strip())
    except (LookupError, ValueError):
        return False
    return safe_charset(name) is None


_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([-\w.:]{1,40})""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_markup(body: bytes, charset: str | None = None) -> str:
    """Text of an HTML document: its BOM, else the HTTP charset, else ``<meta charset>``, else UTF-8, else Windows-1252.

    Never fails: undecodable bytes become U+FFFD, a character cut at the end of ``body`` is dropped.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    meta = _META_CHARSET.search(body[:4096])
    for name in (safe_charset(charset), safe_charset(meta.group(1).decode("ascii", "replace")) if meta else None):
        if name:
            return codecs.getincrementaldecoder(name)(errors="replace").decode(body, final=False)
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return body.decode("windows-1252", errors="replace")


_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’-]*[a-z0-9][\w'’-]*")
_COMMON_CAPS = frozenset({"the", "a", "an", "in", "on", "at", "of", "and", "to", "for", "mr", "mrs", "ms", "dr"})


def names(text: str) -> frozenset[str]:
    """Capitalised words that do not start a sentence: a cheap stand-in for named entities.

    Two reports of one story almost always name the same person, firm, team or place; two stories
    written from the same mould (" X profits rise as sales recover") do not.
    """
    found = {
        re.sub(r"['’]s$", "", m.group().lower()) for line in text.splitlines() for m in _NAME.finditer(line.strip())
    }
    return frozenset(found - _COMMON_CAPS)


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[\w'’-]+")


def _numbers(text: str) -> set[str]:
    return {m.group().replace(",", "") for m in _NUMBER.finditer(text)}


def details(title: str, text: str = "") -> frozenset[str]:
    """What a headline states that a retelling of the same story would repeat: its names and numbers.

    The headline's first word counts as a name when ``text`` (the article, headline included) never
    writes it in lower case: "Quillsoft fined over data" names a firm, "Update urged after bug" does not.
    """
    found = set(names(title)) | _numbers(title)
    first = _WORD.match(title.strip())
    if first and first.group()[:1].isupper():
        word = re.sub(r"['’]s$", "", first.group())
        if word.lower() not in _COMMON_CAPS and not re.search(rf"\b{re.escape(word.lower())}\b", text):
            found.add(word.lower())
    return frozenset(found)


def vocabulary(text: str) -> frozenset[str]:
    """Every word (lower case, possessive dropped) and number in ``text``: where a headline's details are looked up."""
    words = {re.sub(r"['’]s$", "", w.lower()) for w in _WORD.findall(text)}
    return frozenset(words | _numbers(text))


def facts(title: str, text: str) -> tuple[frozenset[str], frozenset[str]]:
    """A headline's details and its article's vocabulary: what :func:`conflicting` compares."""
    return details(title, text), vocabulary(text)


def conflicting(a: tuple[frozenset[str], frozenset[str]], b: tuple[frozenset[str], frozenset[str]]) -> bool:
    """True when each headline states a name or number the other article never mentions (``a``, ``b``: :func:`facts`).

    "Bank of Larkfield holds rates as inflation eases to 3%" and "... to 7%", or "Redhill Albion beat
    Ashford Rovers 0-2" and "Portwell City beat Ashford Rovers 4-2", are two stories however alike their
    words. One-sided absence is not enough: a rewrite often adds a detail ("$310m") the terse version
    leaves out, but it does not contradict it.
    """
    (details_a, words_a), (details_b, words_b) = a, b
    return bool(details_a - words_b) and bool(details_b - words_a)


def title_key(title: str) -> str:
    """A normalised title for exact-duplicate detection (case, punctuation and spacing ignored)."""
    return " ".join(re.findall(r"\w+", title.lower()))


# ---------------------------------------------------------------- near-duplicates


@dataclass(frozen=True)
class DedupeConfig:
    """How near-duplicate stories are grouped.

    Attributes:
        threshold: TF-IDF cosine (title + lead) at or above which two articles tell the same story.
        lead_chars: Characters of the description/body compared with the title.
        require_shared_name: Also require a shared capitalised name when both articles have names.
        refuse_conflicts: Never group two articles whose headlines each state a name or number the
            other article does not mention (see :func:`conflicting`).
    """

    threshold: float = 0.5  # rewrites of one wire story score 0.6-0.9; different stories on one topic < 0.35
    lead_chars: int = LEAD_CHARS  # the lead paragraph: where rewrites of one story overlap most
    require_shared_name: bool = True  # "Acme profits rise" and "Zenith profits rise" are two stories
    refuse_conflicts: bool = True  # "... inflation eases to 3%" and "... to 7%" are two stories

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise InputError(f"The duplicate threshold must be above 0 and at most 1, got {self.threshold}.")
        if self.lead_chars < 0:
            raise InputError(f"lead_chars must be 0 or more, got {self.lead_chars}.")


@dataclass(frozen=True)
class Cluster:
    """One story, possibly told by several sources.

    Attributes:
        representative: The article shown (the most informative one, the earliest on a tie).
        others: The other versions, most similar first.
        similarity: Cosine of each of ``others`` to the representative.
    """

    representative: Article
    others: tuple[Article, ...] = ()
    similarity: tuple[float, ...] = ()

    @property
    def size(self) -> int:
        """Articles in the cluster."""
        return 1 + len(self.others)

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct source names, representative's first."""
        names = [self.representative.source, *(a.source for a in self.others)]
        return tuple(dict.fromkeys(names))

    @property
    def other_sources(self) -> tuple[str, ...]:
        """Sources other than the representative's."""
        return tuple(s for s in self.sources if s != self.representative.source)


def dedupe_text(article: Article, lead_chars: int = LEAD_CHARS) -> str:
    """Title plus lead: what near-duplicate detection compares."""
    lead = (article.summary or article.text)[:lead_chars]
    return f"{article.title}. {lead}"


def _quality(article: Article) -> tuple:
    # Prefer the version with the most text, then one with a date, then the earliest, then a stable id.
    body = len(article.text) + len(article.summary)
    stamp = article.published.timestamp() if article.published is not None else float("inf")
    return (-min(body, 5000), article.published is None, stamp, article.id)


def cluster(articles: Sequence[Article], config: DedupeConfig | None = None) -> list[Cluster]:
    """Group the same story from several sources; exact repeats (same link or title) always group.

    Args:
        articles: Cleaned articles (any order).
        config: Threshold and lead length.

    Returns:
        Clusters, ordered by their representative's position in ``articles``.
    """
    config = config or DedupeConfig()
    if not articles:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [dedupe_text(a, config.lead_chars) for a in articles]
    try:
        vectors = TfidfVectorizer(
            stop_words="english",
            sublinear_tf=True,
            ngram_range=(1, 2),
            token_pattern=r"(?u)\b\w\w+\b",  # noqa: S106 (a regex)
        ).fit_transform(texts)
    except ValueError:  # only stop words: fall back to exact matches
        vectors = None
    entity = [names(t) for t in texts]
    stated = [facts(a.title, t) for a, t in zip(articles, texts, strict=True)] if config.refuse_conflicts else []
    order = sorted(range(len(articles)), key=lambda i: _quality(articles[i]))
    leaders: list[int] = []
    members: dict[int, list[tuple[int, float]]] = {}
    by_key: dict[str, int] = {}
    for i in order:
        article = articles[i]
        tkey = title_key(article.title)
        keys = [f"link:{article.link}" if article.link else "", f"title:{tkey}" if tkey else ""]
        leader = next((by_key[k] for k in keys if k and k in by_key), None)
        sim = 1.0
        if leader is None and leaders and vectors is not None:
            sims = (vectors[leaders] @ vectors[i].T).toarray().ravel()
            for best in np.argsort(-sims):
                if sims[best] < config.threshold:
                    break
                other = leaders[int(best)]
                mine, theirs = entity[i], entity[other]
                if config.require_shared_name and mine and theirs and not mine & theirs:
                    continue
                if config.refuse_conflicts and conflicting(stated[i], stated[other]):
                    continue
                leader, sim = other, float(sims[best])
                break
        if leader is None:
            leaders.append(i)
            members[i] = []
            leader = i
        else:
            members[leader].append((i, sim))
        for k in keys:
            if k:
                by_key.setdefault(k, leader)
    result = []
    for lead in sorted(leaders):
        others = sorted(members[lead], key=lambda m: -m[1])
        result.append(
            Cluster(articles[lead], tuple(articles[j] for j, _ in others), tuple(round(s, 4) for _, s in others))
        )
    return result


def pair_agreement(clusters: Sequence[Cluster], story_of: dict[str, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a grouping against known stories (``story_of``: article id -> story).

    Every two articles grouped together are a predicted pair, every two articles of one story a true pair.
    """
    from itertools import combinations

    def pairs(groups) -> set[frozenset[str]]:
        return {frozenset(p) for group in groups for p in combinations(group, 2)}

    predicted = pairs([[c.representative.id, *(a.id for a in c.others)] for c in clusters])
    stories: dict[str, list[str]] = {}
    for c in clusters:
        for a in (c.representative, *c.others):
            stories.setdefault(story_of[a.id], []).append(a.id)
    true = pairs(stories.values())
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pair_precision": precision, "pair_recall": recall, "pair_f1": f1, "clusters": float(len(clusters))}
