"""Articles and sources: RSS/Atom parsing with feedparser, article pages with BeautifulSoup.

Everything that leaves this module is plain text (see :func:`engines.news.clean.plain_text`),
dates are timezone-aware UTC (or None when a feed gives none), and a feed that cannot be
read raises :class:`FeedError` with a message for the source-health table.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from engines.core.errors import InputError, SourceError
from engines.news.clean import MAX_TITLE_CHARS, plain_text, title_key
from engines.news.fetch import check_url

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FEEDS = ROOT / "data" / "news_feeds.tsv"
MAX_ENTRIES = 200  # per feed: the newest are first; a feed with thousands of items is an archive
MAX_SOURCES = 50  # per refresh; more is a paste error or a crawl
MAX_FUTURE = timedelta(days=1)  # dates further ahead than this are wrong; treated as missing
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
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body[:500_000], "html.parser")
    links = []
    for tag in soup.find_all("link", href=True):
        rel = " ".join(tag.get("rel") or []).lower()
        kind = str(tag.get("type", "")).lower()
        if "alternate" in rel and ("rss" in kind or "atom" in kind):
            links.append(urljoin(base_url, str(tag["href"])))
    return links[:5]


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
        FeedError: for an HTML page, a document that is not a feed, or XML too broken to recover any entry.
    """
    import feedparser  # lazy: only the news engine needs it

    now = now or datetime.now(UTC)
    if looks_like_html(body, content_type):
        hint = feed_links(body, url)
        where = f" The page advertises a feed at {hint[0]}." if hint else " Use the address of its RSS or Atom feed."
        raise FeedError(f"Not a feed: the address returned an HTML page.{where}")
    headers = {"content-location": url} if url else {}
    if charset:
        headers["content-type"] = f"application/xml; charset={charset}"
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    notes: list[str] = []
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
        title = plain_text(entry.get("title", ""), max_chars=MAX_TITLE_CHARS, single_line=True)
        summary_html = entry.get("summary", "") or ""
        contents = entry.get("content") or []
        body_html = max((c.get("value", "") for c in contents), key=len, default="")
        summary = plain_text(summary_html)
        text = plain_text(body_html) if body_html and plain_text(body_html) != summary else ""
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


def extract_page(body: bytes, *, charset: str | None = None, now: datetime | None = None) -> PageText:
    """The title, description and body text of an article page (never HTML).

    Raises:
        FeedError: when the page has no readable text.
    """
    from bs4 import BeautifulSoup

    now = now or datetime.now(UTC)
    soup = BeautifulSoup(body, "html.parser", from_encoding=charset)

    def meta(*names: str) -> str:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag is not None and tag.get("content"):
                return str(tag["content"])
        return ""

    h1 = soup.find("h1")
    title = meta("og:title") or (h1.get_text(" ") if h1 else "") or (soup.title.get_text(" ") if soup.title else "")
    description = meta("og:description", "description")
    stamp = meta("article:published_time")
    for tag in soup.find_all(PAGE_NOISE):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    paragraphs = [p.get_text(" ") for p in root.find_all("p")]
    text = "\n\n".join(t for t in (plain_text(p, single_line=True) for p in paragraphs) if len(t) > 30)
    if not text:
        text = plain_text(root.get_text("\n"))
    published = None
    if stamp:
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            published = moment.astimezone(UTC) if moment <= now + MAX_FUTURE else None
        except ValueError:
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
