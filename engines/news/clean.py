"""Plain text from feed and page HTML, and near-duplicate grouping of stories.

Feed titles and descriptions are HTML fragments written by someone else: they are parsed
with BeautifulSoup, scripts, styles and other non-content elements are removed with their
contents, and only the text is kept, so the page can render it as text. The same story
published by several outlets is grouped into one :class:`Cluster` by TF-IDF cosine over
title and lead (leader clustering: an article joins a cluster only when it resembles the
cluster's representative, so chains of loosely related stories do not merge).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engines.core.errors import InputError

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
_LOOKS_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


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
    text = str(value)
    if _LOOKS_HTML.search(text):
        text = _html_to_text(text)
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = _BLANKS.sub("\n\n", text).strip()
    if single_line:
        text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:") + "…"
    return text


def _html_to_text(markup: str) -> str:
    from bs4 import BeautifulSoup  # lazy: only the news engine needs it

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    # get_text decodes entities once; a second unescape catches double-escaped feeds (&amp;lt;b&amp;gt;).
    text = soup.get_text()
    if _LOOKS_HTML.search(text):  # escaped markup inside the text: parse once more, never render it
        again = BeautifulSoup(html.unescape(text), "html.parser")
        for tag in again.find_all(DROP_TAGS):
            tag.decompose()
        text = again.get_text()
    return text


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
