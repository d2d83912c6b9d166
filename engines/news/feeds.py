"""Articles and sources: RSS/Atom parsing with feedparser, article pages with a streaming HTML parser.

Everything that leaves this module is plain text (see :func:`engines.news.clean.plain_text`),
dates are timezone-aware UTC (or None when a feed gives none), and a feed that cannot be
read raises :class:`FeedError` with a message for the source-health table.

Hostile documents (issue 26): a feed is refused past ``FEED_LIMITS`` (bytes, nesting depth, element
count, all checked by a fast scan before feedparser sees it) and feedparser runs under a deadline
checked in its own tag and text callbacks; an article page is cut to ``PAGE_LIMITS.max_bytes`` and
read by a streaming parser that builds no tree, under the same kind of limits.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from engines.core.errors import InputError, SourceError
from engines.news.clean import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    Budget,
    Limits,
    MarkupLimit,
    StopParsing,
    StreamParser,
    decode_markup,
    defuse,
    hostile_charset,
    plain_text,
    title_key,
)
from engines.news.fetch import check_url

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FEEDS = ROOT / "data" / "news_feeds.tsv"
MAX_ENTRIES = 200  # per feed: the newest are first; a feed with thousands of items is an archive
MAX_SOURCES = 50  # per refresh; more is a paste error or a crawl
MAX_FUTURE = timedelta(days=1)  # dates further ahead than this are wrong; treated as missing
# A feed is a list of links and short descriptions: real ones are well under 1 MB, nest under 20 levels
# and hold a few thousand elements. Past these limits the source fails with the reason (issue 26).
FEED_LIMITS = Limits(max_bytes=2 * 1024 * 1024, max_depth=100, max_elements=100_000, seconds=10.0)
# An article's text is in the first part of its page; the rest (scripts, comments, footers) is not read.
PAGE_LIMITS = Limits(max_bytes=2 * 1024 * 1024, max_depth=512, max_elements=100_000, seconds=10.0)
MAX_UNCLOSED = 1000  # "<" that never close: a few in text ("a < b"), thousands only in an attack on the parser
LINK_LIMITS = Limits(max_bytes=500_000, max_depth=512, max_elements=20_000, seconds=5.0)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)


class SourceKind(StrEnum):
    """What a source's URL points at."""

    FEED = "feed"  # RSS 0.9x/1.0/2.0 or Atom
    PAGE = "page"  # one article page
    NEWSAPI = "newsapi"  # a NewsAPI.org endpoint (needs a key)


@dataclass(frozen=True)
class Source:
    """A place articles come from.

    Attributes:
        name: Shown in the health table and on each article.
        url: http(s) address of the feed, page or API endpoint.
        kind: What the address is.
    """

    name: str
    url: str
    kind: SourceKind = SourceKind.FEED

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", SourceKind(str(self.kind).strip().lower()))
        except ValueError:
            valid = ", ".join(k.value for k in SourceKind)
            raise InputError(f"Unknown source kind {self.kind!r} for {self.name!r}. Choose one of: {valid}.") from None
        object.__setattr__(self, "url", check_url(self.url))
        name = plain_text(self.name, max_chars=80, single_line=True) or urlsplit(self.url).hostname or "source"
        object.__setattr__(self, "name", name)


@dataclass(frozen=True)
class Article:
    """One news article, as plain text.

    Attributes:
        id: Stable identifier (hash of the link, or of source and title when there is no link).
        title: Headline.
        link: Address of the article ("" when unknown).
        source: Name of the source it came from.
        published: Publication time in UTC, None when the source gave none.
        summary: The source's own description or lead.
        text: Body text when known (article page, NewsAPI content, bundled sample), else "".
        category: One of the classifier's categories once categorised (the bundled sample carries its own).
        category_score: The classifier's probability for ``category`` (None when not from the classifier).
        provenance: Where it came from: "feed", "article page", "newsapi" or "bundled sample".
        tags: The source's own tags or categories, as given.
    """

    id: str
    title: str
    link: str
    source: str
    published: datetime | None
    summary: str = ""
    text: str = ""
    category: str | None = None
    category_score: float | None = None
    provenance: str = "feed"
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def body(self) -> str:
        """The longest text known about the article (body, else summary, else title)."""
        return self.text or self.summary or self.title

    @property
    def lead(self) -> str:
        """Title and the start of the text: what categorisation and embeddings read."""
        return f"{self.title}. {(self.summary or self.text)[:600]}"


def article_id(link: str, source: str, title: str) -> str:
    """A short stable id: from the link when there is one, else from source and title."""
    basis = link.strip() or f"{source}\n{title_key(title)}"
    return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:16]


class FeedError(SourceError):
    """A feed could not be read; the message says why (for the health table)."""


@dataclass(frozen=True)
class ParsedFeed:
    """Articles read from one feed.

    Attributes:
        articles: Unique entries with a title, newest first as the feed gave them.
        title: The feed's own title.
        notes: What was repaired or dropped (encoding guessed, duplicates, entries without a title...).
    """

    articles: list[Article]
    title: str
    notes: tuple[str, ...] = ()


def _utc(parsed: object, now: datetime) -> datetime | None:
    if parsed is None:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)  # feedparser gives UTC struct_time
    except (TypeError, ValueError, OverflowError):
        return None
    return None if moment > now + MAX_FUTURE else moment


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """True when ``body`` is an HTML page rather than a feed."""
    return content_type in ("text/html", "application/xhtml+xml") or bool(_HTML_START.match(body[:2048]))


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Feed addresses an HTML page advertises with ``<link rel="alternate" type="application/rss+xml">``."""
    parser = _FeedLinks(Budget(LINK_LIMITS, "page"))
    with contextlib.suppress(MarkupLimit):  # only a hint for the error message: what was found so far will do
        parser.run(decode_markup(body[: LINK_LIMITS.max_bytes]))
    return [urljoin(base_url, href) for href in parser.links]


class _FeedLinks(StreamParser):
    """The feed links of a page's head; stops at ``<body>`` or the fifth link."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(budget)
        self.links: list[str] = []

    def opened(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            raise StopParsing
        if tag != "link":
            return
        values = {k: (v or "") for k, v in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower()
        if "alternate" in rel and ("rss" in kind or "atom" in kind) and values.get("href"):
            self.links.append(values["href"][:2048])
            if len(self.links) >= 5:
                raise StopParsing


_TAG = re.compile(rb"<(/?)([A-Za-z_][-\w:.]{0,100})[^<>]{0,65536}?(/?)>")
_ESCAPED_BRACKETS = re.compile(rb"&(?:(lt)|gt|#0*(60)|#0*62|#x0*(3c)|#x0*3e);", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([^"']{0,60})["']""")


def scan_markup(body: bytes, budget: Budget) -> None:
    """Count the elements and nesting of a feed before it is parsed, in one fast pass.

    Escaped markup (``&lt;p&gt;``) counts too: feedparser unescapes and sanitises it as HTML.
    Raises MarkupLimit past the budget's depth, element count or deadline.
    """
    unescaped = _ESCAPED_BRACKETS.sub(lambda m: b"<" if m.group(1) or m.group(2) or m.group(3) else b">", body)
    _, unclosed = defuse(unescaped.decode("latin-1"), budget)
    if unclosed > MAX_UNCLOSED:
        raise MarkupLimit(
            f"Malformed markup: {unclosed:,} tags or comments in one {budget.what} never close "
            f"(at most {MAX_UNCLOSED:,} are tolerated); not read."
        )
    for n, match in enumerate(_TAG.finditer(unescaped)):
        if not n & 4095:
            budget.check_time()
        closing, name, empty = match.groups()
        tag = name.decode("ascii", "replace").lower()
        if closing:
            budget.end(tag)
        else:
            budget.start(tag)
            if empty:
                budget.end(tag)


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str = "",
    content_type: str = "",
    charset: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Read an RSS or Atom document into articles.

    Args:
        body: The raw bytes (feedparser reads the XML encoding declaration; ``charset`` from the
            HTTP header wins when given; undeclared non-UTF-8 text is decoded as Windows-1252).
        source: Name put on every article.
        url: Where the feed came from (relative links are resolved against it).
        content_type: The HTTP media type, to spot an HTML page served instead of a feed.
        charset: The HTTP charset parameter, if any.
        now: Reference time for rejecting dates in the future.

    Raises:
        FeedError: for an HTML page, a document that is not a feed, XML too broken to recover any entry,
            or a document past ``FEED_LIMITS`` (size, nesting, elements, time).
    """
    now = now or datetime.now(UTC)
    if not isinstance(body, bytes | bytearray):
        raise FeedError(f"A feed is read from bytes, got {type(body).__name__}.")
    body = bytes(body)
    if looks_like_html(body, content_type):
        hint = feed_links(body, url)
        where = f" The page advertises a feed at {hint[0]}." if hint else " Use the address of its RSS or Atom feed."
        raise FeedError(f"Not a feed: the address returned an HTML page.{where}")
    if len(body) > FEED_LIMITS.max_bytes:
        raise FeedError(
            f"Feed too large to read: {len(body) / 1e6:.1f} MB, the limit is {FEED_LIMITS.max_bytes / 1e6:.1f} MB "
            "(real feeds are well under 1 MB)."
        )
    notes: list[str] = []
    declared = _XML_ENCODING.match(body[:300])
    if declared and hostile_charset(declared.group(1).decode("ascii", "replace")):
        name = declared.group(1).decode("ascii", "replace")[:40]
        raise FeedError(f"The feed declares the encoding {name!r}, which is not a character set it can be read in.")
    if charset and hostile_charset(charset):
        notes.append(f"Ignored the server's charset {charset[:40]!r} (not a character set for documents).")
        charset = None
    headers = {"content-location": url} if url else {}
    if charset:
        headers["content-type"] = f"application/xml; charset={charset}"
    budget = Budget(FEED_LIMITS, "feed")  # one deadline for the scan, feedparser and the cleaning of entries
    try:
        parsed = _feedparser(body, headers, budget)
    except MarkupLimit as exc:
        raise FeedError(str(exc)) from None
    except RecursionError:
        raise FeedError("Too deeply nested to read; not read.") from None
    problem = parsed.get("bozo_exception")
    if not parsed.entries:
        if parsed.get("version") and problem is None:
            return ParsedFeed(
                [], plain_text(parsed.feed.get("title", ""), single_line=True), ("The feed has no entries.",)
            )
        if problem is not None:
            raise FeedError(f"Malformed feed: {_describe(problem)}.")
        raise FeedError("Not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root element).")
    if problem is not None:
        name = type(problem).__name__
        if name == "CharacterEncodingOverride":
            notes.append(
                f"Encoding repaired: the feed was not valid in its declared encoding; read as {parsed.encoding}."
            )
        elif name != "NonXMLContentType":
            notes.append(f"XML errors ({_describe(problem)}); {len(parsed.entries)} entries recovered.")
    articles: list[Article] = []
    seen: set[str] = set()
    untitled = duplicates = undated = 0
    for entry in parsed.entries[:MAX_ENTRIES]:
        try:
            budget.check_time()  # the deadline covers the cleaning of every entry too
        except MarkupLimit as exc:
            raise FeedError(str(exc)) from None
        title = plain_text(entry.get("title", ""), max_chars=MAX_TITLE_CHARS, single_line=True)
        summary_html = entry.get("summary", "") or ""
        contents = entry.get("content") or []
        body_html = max((c.get("value", "") for c in contents), key=len, default="")
        summary = plain_text(summary_html)
        text = plain_text(body_html) if body_html else ""
        text = "" if text == summary else text
        if not title:
            title = plain_text(summary, max_chars=120, single_line=True)
        if not title:
            untitled += 1
            continue
        link = _safe_link(str(entry.get("link", "") or ""), url)
        key = link or f"{title_key(title)}"
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        published = _utc(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"), now)
        undated += published is None
        tags = tuple(plain_text(t.get("term", ""), max_chars=40, single_line=True) for t in entry.get("tags", []) or [])
        articles.append(
            Article(
                id=article_id(link, source, title),
                title=title,
                link=link,
                source=source,
                published=published,
                summary=summary,
                text=text,
                provenance="feed",
                tags=tuple(t for t in tags if t),
            )
        )
    if not articles and problem is not None and type(problem).__name__ != "CharacterEncodingOverride":
        raise FeedError(f"Malformed feed: {_describe(problem)}; no complete entry could be recovered.")
    if len(parsed.entries) > MAX_ENTRIES:
        notes.append(f"Read the first {MAX_ENTRIES} of {len(parsed.entries)} entries.")
    if duplicates:
        notes.append(f"Dropped {duplicates} duplicate entr{'y' if duplicates == 1 else 'ies'}.")
    if untitled:
        notes.append(f"Skipped {untitled} entr{'y' if untitled == 1 else 'ies'} without a title or text.")
    if undated:
        notes.append(f"{undated} entr{'y has' if undated == 1 else 'ies have'} no valid date (ranked as not recent).")
    title = plain_text(parsed.feed.get("title", ""), max_chars=MAX_TITLE_CHARS, single_line=True)
    return ParsedFeed(articles, title, tuple(notes))


def _feedparser(body: bytes, headers: dict[str, str], budget: Budget):
    """``feedparser.parse`` for bytes already fetched, under ``budget``'s deadline.

    The steps of feedparser 6's ``parse`` after it has the data, with three differences: the bytes are never
    taken for a file name or a URL (``feedparser.parse(b"/dev/zero")`` opens and reads that file), the
    document, once converted to UTF-8, is scanned by :func:`scan_markup` before any parser sees it, and the
    parsers check the deadline in their tag and text callbacks, inside the parse. feedparser's HTML sanitiser
    and relative-link resolver are off: they run sgmllib over every description with no deadline (a
    description of 2 MB of "<!--" kept them busy for minutes), and nothing here is shown as HTML: every
    field goes through :func:`plain_text`, which keeps only text.

    Raises:
        MarkupLimit: past the budget's depth, element count or deadline.
    """
    import xml.sax

    from feedparser import api
    from feedparser.util import FeedParserDict

    result = FeedParserDict(bozo=False, entries=[], feed=FeedParserDict(), headers=dict(headers))
    if not body:
        return result
    data = api.convert_to_utf8(result["headers"], body, result)
    # Scanned as UTF-8, as feedparser will read it: a UTF-16 or EBCDIC feed cannot hide its tags from the scan.
    scan = Budget(budget.limits, budget.what)
    scan.deadline = budget.deadline
    scan_markup(data, scan)
    strict = bool(result["encoding"]) and api._XML_AVAILABLE
    result["version"], data, entities = api.replace_doctype(data)
    location = result["headers"].get("content-location", "")
    base = api.make_safe_absolute_uri("", location) or api.make_safe_absolute_uri(location) or ""
    budget.check_time()
    if strict:
        parser = _timed(api.StrictFeedParser)(base, None, "utf-8")
        parser.budget, parser.resolve_relative_uris, parser.sanitize_html = budget, False, False
        # feedparser's own SAX set-up: external entities off; expat >= 2.4 caps entity expansion (billion laughs)
        sax = xml.sax.make_parser(api.PREFERRED_XML_PARSERS)  # noqa: S317
        sax.setFeature(xml.sax.handler.feature_namespaces, 1)
        with contextlib.suppress(xml.sax.SAXNotSupportedException):
            sax.setFeature(xml.sax.handler.feature_external_ges, 0)  # never fetch external entities
        sax.setContentHandler(parser)
        sax.setErrorHandler(parser)
        source = xml.sax.xmlreader.InputSource()
        source.setByteStream(io.BytesIO(data))
        try:
            sax.parse(source)
        except xml.sax.SAXException as exc:
            result["bozo"] = 1
            result["bozo_exception"] = parser.exc or exc
            strict = False
    if not strict:
        parser = _timed(api.LooseFeedParser)(base, None, "utf-8", entities)
        parser.budget, parser.resolve_relative_uris, parser.sanitize_html = budget, False, False
        parser.feed(data.decode("utf-8", "replace"))
    result["feed"] = parser.feeddata
    result["entries"] = parser.entries
    result["version"] = result["version"] or parser.version
    result["namespaces"] = parser.namespaces_in_use
    return result


_TIMED: dict[type, type] = {}


def _timed(base: type) -> type:
    """A subclass of feedparser's parser ``base`` whose tag and text callbacks tick ``self.budget``."""
    if base not in _TIMED:

        def unknown_starttag(self, tag, attrs):
            self.budget.tick()
            return base.unknown_starttag(self, tag, attrs)

        def unknown_endtag(self, tag):
            self.budget.tick()
            return base.unknown_endtag(self, tag)

        def handle_data(self, text, escape=1):
            self.budget.tick()
            return base.handle_data(self, text, escape)

        members = {"unknown_starttag": unknown_starttag, "unknown_endtag": unknown_endtag, "handle_data": handle_data}
        _TIMED[base] = type(f"Timed{base.__name__}", (base,), members)
    return _TIMED[base]


def _describe(problem: BaseException) -> str:
    text = str(problem).strip() or type(problem).__name__
    return text[:200]


def _safe_link(link: str, base: str) -> str:
    """An absolute http(s) link, or "" (javascript:, data: and other schemes are dropped)."""
    link = link.strip()
    if not link:
        return ""
    if base:
        link = urljoin(base, link)
    try:
        return check_url(link)
    except InputError:
        return ""


@dataclass(frozen=True)
class PageText:
    """What an article page says.

    Attributes:
        title: og:title, else the first <h1>, else <title>.
        description: og:description or meta description.
        text: The article body (paragraphs of <article>, <main> or the page).
        published: article:published_time when present.
    """

    title: str
    description: str
    text: str
    published: datetime | None


PAGE_NOISE = ("nav", "header", "footer", "aside", "form", "button", "figure", "noscript", "script", "style")
_META_WANTED = frozenset({"og:title", "og:description", "description", "article:published_time"})
_HIDDEN = frozenset({"script", "style", "template"})  # never part of a heading's text


class _Region:
    """Text of the first element of one kind outside the page's noise (``<article>``, ``<main>``, ``<body>``)."""

    def __init__(self) -> None:
        self.depth = 0  # stack depth of the element while it is open, 0 before and after
        self.done = False
        self.seen = False
        self.paragraphs: list[str] = []
        self.strings: list[str] = []
        self.sizes = {"paragraphs": 0, "strings": 0}

    def add(self, kind: str, text: str, cap: int) -> None:
        """Keep ``text`` in ``self.<kind>`` until that list holds ``cap`` characters."""
        if self.sizes[kind] < cap:
            getattr(self, kind).append(text)
            self.sizes[kind] += len(text)


class _PageParser(StreamParser):
    """What :func:`extract_page` needs, read in one pass without a tree.

    It mirrors the tree version it replaces: metadata and the first ``<h1>`` and ``<title>``; then,
    with noise elements (:data:`PAGE_NOISE`) removed with their contents, the paragraphs of the first
    ``<article>``, else of the first ``<main>``, else of ``<body>``, else of the whole page.
    """

    TEXT_CAP = MAX_TEXT_CHARS * 4  # characters kept per region: the article keeps MAX_TEXT_CHARS

    def __init__(self, budget: Budget) -> None:
        super().__init__(budget)
        self.meta: dict[tuple[str, str], str] = {}
        self.title: list[str] | None = None
        self.h1: list[str] | None = None
        self.in_title = self.in_h1 = False
        self.h1_depth = 0
        self.noise = 0
        self.hidden = 0
        self.regions = {"article": _Region(), "main": _Region(), "body": _Region(), "": _Region()}
        self.regions[""].depth = 1  # the whole page is always open
        self.paragraph: list[str] | None = None
        self.paragraph_depth = 0
        self.paragraph_in: list[_Region] = []

    def opened(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        depth = len(self.budget.stack)
        if tag == "meta":
            values = {k: (v or "") for k, v in attrs}
            for key in ("property", "name"):
                name = values.get(key, "").strip().lower()
                if name in _META_WANTED and values.get("content"):
                    self.meta.setdefault((key, name), values["content"][:4096])
        elif tag == "title" and self.title is None:
            self.title, self.in_title = [], True
        elif tag == "h1" and self.h1 is None:
            self.h1, self.in_h1, self.h1_depth = [], True, depth
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in PAGE_NOISE:
            self.noise += 1
            return
        if self.noise:
            return
        region = self.regions.get(tag)
        if region is not None and tag and not region.seen:
            region.seen, region.depth = True, depth
        if tag == "p":
            self._end_paragraph()
            self.paragraph, self.paragraph_depth = [], depth
            self.paragraph_in = [r for r in self.regions.values() if r.depth and not r.done]

    def closed(self, tag: str) -> None:
        depth = len(self.budget.stack)  # after the pop
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag == "title":
            self.in_title = False
        if self.in_h1 and depth < self.h1_depth:
            self.in_h1 = False
        if tag in PAGE_NOISE:
            self.noise = max(0, self.noise - 1)
            return
        if self.paragraph is not None and depth < self.paragraph_depth:
            self._end_paragraph()
        for name, region in self.regions.items():
            if name and region.depth and not region.done and depth < region.depth:
                region.done = True

    def text(self, data: str) -> None:
        if self.in_title and self.title is not None and not self.hidden and len(self.title) < 1000:
            self.title.append(data)
        if self.in_h1 and self.h1 is not None and not self.hidden and len(self.h1) < 1000:
            self.h1.append(data)
        if self.noise:
            return
        if self.paragraph is not None:
            self.paragraph.append(data)
        for region in self.regions.values():
            if region.depth and not region.done:
                region.add("strings", data, self.TEXT_CAP)

    def _end_paragraph(self) -> None:
        if self.paragraph is None:
            return
        text = " ".join(self.paragraph)
        for region in self.paragraph_in:
            region.add("paragraphs", text, self.TEXT_CAP)
        self.paragraph = None

    def finish(self) -> _Region:
        """The region whose text is the article's."""
        self._end_paragraph()
        for name in ("article", "main", "body"):
            if self.regions[name].seen:
                return self.regions[name]
        return self.regions[""]

    def meta_value(self, *names: str) -> str:
        for name in names:
            value = self.meta.get(("property", name)) or self.meta.get(("name", name))
            if value:
                return value
        return ""


def extract_page(body: bytes, *, charset: str | None = None, now: datetime | None = None) -> PageText:
    """The title, description and body text of an article page (never HTML).

    Only the first ``PAGE_LIMITS.max_bytes`` are read (the article's text is in the first part of its
    page), by a streaming parser: no tree is built, and depth, element count and time are capped.

    Raises:
        FeedError: when the page has no readable text, or passes PAGE_LIMITS' depth, elements or time.
    """
    now = now or datetime.now(UTC)
    parser = _PageParser(Budget(PAGE_LIMITS, "page"))
    try:
        parser.run(decode_markup(bytes(body[: PAGE_LIMITS.max_bytes]), charset))
    except MarkupLimit as exc:
        raise FeedError(f"Article page not read: {exc}") from None
    root = parser.finish()
    title = (
        parser.meta_value("og:title")
        or (" ".join(parser.h1) if parser.h1 else "")
        or (" ".join(parser.title) if parser.title else "")
    )
    description = parser.meta_value("og:description", "description")
    stamp = parser.meta_value("article:published_time")
    text = "\n\n".join(t for t in (plain_text(p, single_line=True) for p in root.paragraphs) if len(t) > 30)
    if not text:
        text = plain_text("\n".join(root.strings))
    published = None
    if stamp:
        try:
            moment = datetime.fromisoformat(stamp.strip()[:64].replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            published = moment.astimezone(UTC) if moment <= now + MAX_FUTURE else None
        except (ValueError, OverflowError):
            published = None
    title = plain_text(title, max_chars=MAX_TITLE_CHARS, single_line=True)
    if not title and not text:
        raise FeedError("The page has no readable title or text.")
    return PageText(title, plain_text(description), plain_text(text), published)


def page_article(body: bytes, *, url: str, source: str, charset: str | None = None) -> Article:
    """One :class:`Article` from an article page."""
    page = extract_page(body, charset=charset)
    title = page.title or plain_text(page.text, max_chars=120, single_line=True)
    return Article(
        id=article_id(url, source, title),
        title=title,
        link=url,
        source=source,
        published=page.published,
        summary=page.description,
        text=page.text,
        provenance="article page",
    )


# ---------------------------------------------------------------- source lists


def load_sources(path: Path = DEFAULT_FEEDS) -> list[Source]:
    """The default source list (``name<TAB>url<TAB>kind`` with a header)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Source(r["name"], r["url"], r.get("kind") or "feed") for r in rows]


def parse_sources(text: str) -> list[Source]:
    """Sources typed by a user, one per line: ``url``, ``name | url`` or ``name | url | kind``.

    Blank lines and lines starting with ``#`` are ignored.

    Raises:
        InputError: naming the line that is wrong and why, or when there is no source or too many.
    """
    if not isinstance(text, str):
        raise InputError(f"The source list must be text, got {type(text).__name__}.")
    sources: list[Source] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in (line.split("|") if "|" in line else line.split("\t"))]
        if len(parts) == 1:
            name, url, kind = "", parts[0], "feed"
        elif len(parts) in (2, 3):
            name, url, kind = parts[0], parts[1], parts[2] if len(parts) == 3 else "feed"
        else:
            raise InputError(f"Line {number}: expected 'url', 'name | url' or 'name | url | kind', got {line[:80]!r}.")
        try:
            source = Source(name, url, kind or "feed")
        except InputError as exc:
            raise InputError(f"Line {number}: {exc}") from None
        if source.url in seen:
            continue
        seen.add(source.url)
        sources.append(source)
    if not sources:
        raise InputError("The source list is empty. Add at least one feed address, one per line.")
    if len(sources) > MAX_SOURCES:
        raise InputError(f"{len(sources)} sources given; at most {MAX_SOURCES} are fetched in one refresh.")
    return sources
