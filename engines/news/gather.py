"""Refresh: fetch every source concurrently and report each one's health.

One source failing (a timeout, broken XML, an HTML page, a 10 MB dump, a refused address)
only marks that source failed in the health table; the refresh always returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal

import pandas as pd

from engines.core.errors import InputError, SourceError
from engines.core.progress import Progress, null_progress
from engines.news.feeds import Article, Source, SourceKind, page_article, parse_feed
from engines.news.fetch import FetchConfig, Fetcher
from engines.news.newsapi import fetch_newsapi

log = logging.getLogger(__name__)

Status = Literal["ok", "empty", "failed", "skipped"]


@dataclass(frozen=True)
class SourceHealth:
    """How one source fared in a refresh (one row of the health table).

    Attributes:
        source: Source name.
        url: Its address.
        kind: feed, page or newsapi.
        status: ok, empty (reachable, no articles), failed, or skipped (e.g. NewsAPI without a key).
        items: Articles read.
        seconds: Wall time spent on the source (waits for the rate limit included).
        error: Why it failed or was skipped ("" when ok).
        notes: What was repaired or dropped (encoding, duplicates, missing dates, pages not read).
    """

    source: str
    url: str
    kind: str
    status: Status
    items: int
    seconds: float
    error: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Refresh:
    """The result of one refresh.

    Attributes:
        articles: Every article read, source by source (not yet de-duplicated).
        health: One row per source, in the order given.
        fetched_at: When the refresh started (UTC).
        seconds: Wall time of the whole refresh.
    """

    articles: list[Article]
    health: list[SourceHealth]
    fetched_at: datetime
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def health_frame(self) -> pd.DataFrame:
        """The health table as a DataFrame (columns as in :class:`SourceHealth`)."""
        return health_frame(self.health)


def health_frame(rows: Sequence[SourceHealth]) -> pd.DataFrame:
    """Source-health rows as a DataFrame."""
    columns = list(SourceHealth.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in rows], columns=columns)


def fetch_source(
    source: Source, fetcher: Fetcher, *, newsapi_key: str | None = None
) -> tuple[list[Article], list[str]]:
    """Articles of one source and notes on what was repaired.

    Raises:
        SourceError: (FetchError, FeedError) when the source cannot be read.
        InputError: for a bad NewsAPI key.
    """
    if source.kind is SourceKind.NEWSAPI:
        return fetch_newsapi(newsapi_key or "", source.url, fetcher, source=source.name), []
    accept = (
        "text/html,application/xhtml+xml"
        if source.kind is SourceKind.PAGE
        else ("application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
    )
    response = fetcher.get(source.url, accept=accept)
    if source.kind is SourceKind.PAGE:
        return [page_article(response.body, url=response.url, source=source.name, charset=response.charset)], []
    parsed = parse_feed(
        response.body,
        source=source.name,
        url=response.url,
        content_type=response.content_type,
        charset=response.charset,
    )
    articles = list(parsed.articles)
    notes = list(parsed.notes)
    # Title-only feeds: read a few article pages for their text.
    bare = [i for i, a in enumerate(articles) if not a.summary and not a.text and a.link]
    pages_read = failed = 0
    for i in bare[: fetcher.config.max_pages]:
        try:
            page = fetcher.get(articles[i].link, accept="text/html")
            found = page_article(page.body, url=page.url, source=source.name, charset=page.charset)
        except SourceError as exc:
            failed += 1
            log.info("Article page %s unreadable: %s", articles[i].link, exc)
            continue
        old = articles[i]
        articles[i] = Article(
            id=old.id,
            title=old.title,
            link=old.link,
            source=old.source,
            published=old.published or found.published,
            summary=found.summary,
            text=found.text,
            provenance="feed + article page",
            tags=old.tags,
        )
        pages_read += 1
    if bare:
        skipped = max(0, len(bare) - fetcher.config.max_pages)
        notes.append(
            f"{len(bare)} entries had only a title: read {pages_read} article page(s)"
            + (f", {failed} unreadable" if failed else "")
            + (f", {skipped} not fetched (FetchConfig.max_pages)" if skipped else "")
            + "."
        )
    return articles, notes


def refresh(
    sources: Sequence[Source],
    config: FetchConfig | None = None,
    *,
    newsapi_key: str | None = None,
    fetcher: Fetcher | None = None,
    progress: Progress = null_progress,
) -> Refresh:
    """Fetch all ``sources`` concurrently (``config.max_workers`` at a time) and report their health.

    Args:
        sources: Feeds, pages and NewsAPI endpoints (see :func:`engines.news.feeds.parse_sources`).
        config: Timeouts, retries, limits; ignored when ``fetcher`` is given (it has its own).
        newsapi_key: The user's NewsAPI key; NewsAPI sources are skipped without one.
        fetcher: Reuse a fetcher (its robots.txt cache and rate limiter) across refreshes.
        progress: One report per finished source; ends at 1.0.

    Returns:
        Articles and the health table. Never raises for a source's failure.

    Raises:
        InputError: when ``sources`` is empty.
    """
    if not sources:
        raise InputError("No sources to fetch. Add a feed address, or use the bundled sample articles.")
    fetcher = fetcher or Fetcher(config or FetchConfig())
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    progress(0.0, f"Fetching {len(sources)} source(s)")

    def work(source: Source) -> tuple[list[Article], SourceHealth]:
        begin = time.perf_counter()

        def row(status: Status, items: int = 0, error: str = "", notes: Sequence[str] = ()) -> SourceHealth:
            seconds = round(time.perf_counter() - begin, 3)
            return SourceHealth(
                source.name, source.url, source.kind.value, status, items, seconds, error, " ".join(notes)
            )

        if source.kind is SourceKind.NEWSAPI and not newsapi_key:
            return [], row("skipped", error="No NewsAPI key: add NEWSAPI_KEY to the app's secrets to use NewsAPI.")
        try:
            articles, notes = fetch_source(source, fetcher, newsapi_key=newsapi_key)
        except (SourceError, InputError) as exc:
            return [], row("failed", error=str(exc))
        except Exception as exc:  # one odd source must never break the whole refresh
            log.exception("Unexpected failure reading %s", source.url)
            return [], row("failed", error=f"Unexpected error: {type(exc).__name__}: {exc}")
        return articles, row("ok" if articles else "empty", len(articles), notes=notes)

    results: dict[int, tuple[list[Article], SourceHealth]] = {}
    workers = min(fetcher.config.max_workers, len(sources))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="news-fetch") as pool:
        futures = {pool.submit(work, s): i for i, s in enumerate(sources)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            health = results[index][1]
            progress(min(done / len(sources), 0.99), f"{health.source}: {health.status} ({health.items} articles)")
    articles = [a for i in range(len(sources)) for a in results[i][0]]
    health = [results[i][1] for i in range(len(sources))]
    ok = sum(h.status == "ok" for h in health)
    progress(1.0, f"{ok} of {len(sources)} sources answered; {len(articles)} articles")
    return Refresh(articles, health, started_at, time.perf_counter() - started)
