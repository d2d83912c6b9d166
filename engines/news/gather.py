"""Refresh: fetch every source concurrently and report each one's health.

One source failing (a timeout, broken XML, an HTML page, a 10 MB dump, a refused address)
only marks that source failed in the health table; the refresh always returns.

Bounded for the public internet (issue 26): the threads wait on the network together, but at most
``PARSE_SLOTS`` documents are parsed at once in the whole process (parsing is where memory goes),
and a refresh returns within ``REFRESH_SECONDS``: a source still running then is reported as
failed, and a feed's article pages are not fetched once the time is up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

import pandas as pd

from engines.core.errors import InputError, SourceError
from engines.core.progress import Progress, null_progress
from engines.news.feeds import Article, FeedError, Source, SourceKind, page_article, parse_feed
from engines.news.fetch import FetchConfig, Fetcher
from engines.news.newsapi import fetch_newsapi

log = logging.getLogger(__name__)

Status = Literal["ok", "empty", "failed", "skipped"]
T = TypeVar("T")

REFRESH_SECONDS = 60.0  # one refresh, every source and article page included; a slower source fails alone
PARSE_CONCURRENCY = 2  # documents parsed at once in the process: each parse may hold tens of MB while it runs
PARSE_SLOTS = threading.BoundedSemaphore(PARSE_CONCURRENCY)


def _parse_slot(until: float | None, parse: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``parse(*args, **kwargs)`` once a parse slot is free; FeedError when ``until`` (monotonic) passes first."""
    wait_s = -1 if until is None else max(0.0, until - time.monotonic())
    if not PARSE_SLOTS.acquire(timeout=wait_s):
        raise FeedError("The refresh ran out of time before this source could be read; try again.")
    try:
        return parse(*args, **kwargs)
    finally:
        PARSE_SLOTS.release()


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
    source: Source, fetcher: Fetcher, *, newsapi_key: str | None = None, until: float | None = None
) -> tuple[list[Article], list[str]]:
    """Articles of one source and notes on what was repaired.

    Args:
        source: What to read.
        fetcher: Shared by the refresh (robots.txt cache, rate limit).
        newsapi_key: For NewsAPI sources.
        until: ``time.monotonic()`` after which no further article page is fetched (None: no limit).

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
        page = _parse_slot(
            until, page_article, response.body, url=response.url, source=source.name, charset=response.charset
        )
        return [page], []
    parsed = _parse_slot(
        until,
        parse_feed,
        response.body,
        source=source.name,
        url=response.url,
        content_type=response.content_type,
        charset=response.charset,
    )
    del response  # the feed's bytes are not needed while its article pages are read
    articles = list(parsed.articles)
    notes = list(parsed.notes)
    # Title-only feeds: read a few article pages for their text.
    bare = [i for i, a in enumerate(articles) if not a.summary and not a.text and a.link]
    pages_read = failed = late = 0
    for i in bare[: fetcher.config.max_pages]:
        if until is not None and time.monotonic() > until:
            late += 1
            continue
        try:
            page = fetcher.get(articles[i].link, accept="text/html")
            found = _parse_slot(until, page_article, page.body, url=page.url, source=source.name, charset=page.charset)
            del page
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
            + (f", {late} not fetched (the refresh ran out of time)" if late else "")
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
    seconds: float = REFRESH_SECONDS,
) -> Refresh:
    """Fetch all ``sources`` concurrently (``config.max_workers`` at a time) and report their health.

    Args:
        sources: Feeds, pages and NewsAPI endpoints (see :func:`engines.news.feeds.parse_sources`).
        config: Timeouts, retries, limits; ignored when ``fetcher`` is given (it has its own).
        newsapi_key: The user's NewsAPI key; NewsAPI sources are skipped without one.
        fetcher: Reuse a fetcher (its robots.txt cache and rate limiter) across refreshes.
        progress: One report per finished source; ends at 1.0.
        seconds: Wall time for the whole refresh; sources still running then are reported as failed
            (their threads end on their own, within the fetcher's deadline, and their results are dropped).

    Returns:
        Articles and the health table. Never raises for a source's failure.

    Raises:
        InputError: when ``sources`` is empty.
    """
    if not sources:
        raise InputError("No sources to fetch. Add a feed address, or use the bundled sample articles.")
    if not seconds > 0:
        raise InputError(f"The refresh needs a positive time limit, got {seconds}.")
    fetcher = fetcher or Fetcher(config or FetchConfig())
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    until = time.monotonic() + seconds
    progress(0.0, f"Fetching {len(sources)} source(s)")

    def work(source: Source) -> tuple[list[Article], SourceHealth]:
        begin = time.perf_counter()

        def row(status: Status, items: int = 0, error: str = "", notes: Sequence[str] = ()) -> SourceHealth:
            seconds = round(time.perf_counter() - begin, 3)
            return SourceHealth(
                source.name, source.url, source.kind.value, status, items, seconds, error, " ".join(notes)
            )

        if source.kind is SourceKind.NEWSAPI and not newsapi_key:
            return [], row(
                "skipped", error='No NewsAPI key: add [newsapi] key = "..." to the app\'s secrets to use NewsAPI.'
            )
        try:
            articles, notes = fetch_source(source, fetcher, newsapi_key=newsapi_key, until=until)
        except (SourceError, InputError) as exc:
            return [], row("failed", error=str(exc))
        except Exception as exc:  # one odd source must never break the whole refresh
            log.exception("Unexpected failure reading %s", source.url)
            return [], row("failed", error=f"Unexpected error: {type(exc).__name__}: {exc}")
        return articles, row("ok" if articles else "empty", len(articles), notes=notes)

    results: dict[int, tuple[list[Article], SourceHealth]] = {}
    workers = min(fetcher.config.max_workers, len(sources))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="news-fetch")
    try:
        futures: dict[Future, int] = {pool.submit(work, s): i for i, s in enumerate(sources)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=max(0.0, until - time.monotonic()), return_when=FIRST_COMPLETED)
            if not done:  # out of time: whatever is still running fails, the rest of the refresh is kept
                break
            for future in done:
                index = futures[future]
                results[index] = future.result()
                health = results[index][1]
                progress(
                    min(len(results) / len(sources), 0.99),
                    f"{health.source}: {health.status} ({health.items} articles)",
                )
        for future in pending:
            source = sources[futures[future]]
            error = f"Not finished within the refresh's {seconds:g} s; try again later."
            elapsed = round(time.perf_counter() - started, 3)
            row = SourceHealth(source.name, source.url, source.kind.value, "failed", 0, elapsed, error)
            results[futures[future]] = ([], row)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    articles = [a for i in range(len(sources)) for a in results[i][0]]
    health = [results[i][1] for i in range(len(sources))]
    ok = sum(h.status == "ok" for h in health)
    progress(1.0, f"{ok} of {len(sources)} sources answered; {len(articles)} articles")
    return Refresh(articles, health, started_at, time.perf_counter() - started)
