"""NewsAPI.org client: top headlines or a search, read into plain-text articles.

The key is sent in the ``X-Api-Key`` header (never in the URL, so it does not end up in
logs or in the health table), and only to NewsAPI itself: a ``newsapi`` source whose address is
on another server (a visitor can type one) fails with a clear message before anything is sent,
and a redirect away from NewsAPI drops the header (:func:`engines.core.net.without_credentials`).
``KEY_ORIGINS`` lists where the key may go (tests add their local server).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from engines.core import net
from engines.core.errors import InputError
from engines.news.clean import MAX_TITLE_CHARS, plain_text
from engines.news.feeds import MAX_FUTURE, Article, FeedError, article_id
from engines.news.fetch import Fetcher

API_BASE = "https://newsapi.org/v2/"
DEFAULT_ENDPOINT = API_BASE + "top-headlines"
ENDPOINTS = ("top-headlines", "everything")  # the names request_url also accepts instead of a full address
KEY_ORIGINS: tuple[str, ...] = ("https://newsapi.org:443",)  # the only origins the key is sent to
CATEGORIES = ("business", "entertainment", "general", "health", "science", "sports", "technology")
MAX_PAGE_SIZE = 100  # NewsAPI's own limit


def check_key(key: object) -> str:
    """Validate a NewsAPI key (32 hex characters on newsapi.org; anything printable is accepted).

    Raises:
        InputError: for an empty key or one with spaces or control characters.
    """
    if not isinstance(key, str) or not key.strip():
        raise InputError(
            'The NewsAPI key is empty. Add it to the app\'s secrets as [newsapi] key = "..." or leave NewsAPI off.'
        )
    key = key.strip()
    if len(key) > 128 or any(c.isspace() or not c.isprintable() for c in key):
        raise InputError("The NewsAPI key looks wrong (spaces or odd characters). Copy it again from newsapi.org.")
    return key


def request_url(
    endpoint: str = DEFAULT_ENDPOINT,
    *,
    query: str = "",
    country: str = "us",
    category: str = "",
    page_size: int = 50,
) -> str:
    """The request address for ``/v2/top-headlines`` (country/category) or ``/v2/everything`` (query).

    ``endpoint`` is a full address or just ``"top-headlines"`` / ``"everything"`` (on NewsAPI).

    Raises:
        InputError: for a bad page size, category, missing query, or an endpoint that is not an http(s) address.
    """
    name = endpoint.strip().strip("/")
    endpoint = (
        API_BASE + name
        if name in ENDPOINTS
        else net.check_url(endpoint, example=f"Use {DEFAULT_ENDPOINT} or {API_BASE}everything.")
    )
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}.")
    if category and category not in CATEGORIES:
        raise InputError(f"Unknown NewsAPI category {category!r}. Choose one of: {', '.join(CATEGORIES)}.")
    params: dict[str, str | int] = {"pageSize": page_size}
    if endpoint.rstrip("/").endswith("/everything"):
        if not query.strip():
            raise InputError("NewsAPI's /everything endpoint needs a search query.")
        params["q"] = query.strip()
    else:
        if query.strip():
            params["q"] = query.strip()
        if category:
            params["category"] = category
        if country:
            params["country"] = country
    return f"{endpoint}?{urlencode(params)}"


def parse_response(body: bytes, *, source: str = "NewsAPI", now: datetime | None = None) -> list[Article]:
    """Articles from a NewsAPI JSON answer.

    Raises:
        FeedError: for an error answer (its code and message are kept) or a body that is not NewsAPI JSON.
    """
    now = now or datetime.now(UTC)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"NewsAPI answered with something that is not JSON ({exc}).") from None
    if not isinstance(payload, dict):
        raise FeedError("NewsAPI answered with unexpected JSON (not an object).")
    if payload.get("status") != "ok":
        code = payload.get("code", "error")
        message = plain_text(payload.get("message", ""), max_chars=300, single_line=True)
        raise FeedError(f"NewsAPI error {code}: {message or 'no message'}")
    rows = payload.get("articles")
    if not isinstance(rows, list):
        raise FeedError("NewsAPI answered without an 'articles' list.")
    articles: list[Article] = []
    seen: set[str] = set()
    for row in rows:
        if not isinstance(row, dict):
            continue
        title = plain_text(row.get("title"), max_chars=MAX_TITLE_CHARS, single_line=True)
        if not title or title == "[Removed]":  # NewsAPI's placeholder for withdrawn articles
            continue
        link = str(row.get("url") or "")
        if not link.startswith(("http://", "https://")):
            link = ""
        key = link or title
        if key in seen:
            continue
        seen.add(key)
        outlet = row.get("source") if isinstance(row.get("source"), dict) else {}
        name = plain_text(outlet.get("name"), max_chars=80, single_line=True)
        published = None
        stamp = row.get("publishedAt")
        if isinstance(stamp, str) and stamp:
            try:
                moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                published = moment.astimezone(UTC) if moment <= now + MAX_FUTURE else None
            except ValueError:
                published = None
        content = plain_text(row.get("content"))
        # NewsAPI truncates content with "… [+1234 chars]"; the marker is not text a reader wants.
        content = content.rsplit("[+", 1)[0].rstrip(" …") if content.endswith("chars]") else content
        articles.append(
            Article(
                id=article_id(link, source, title),
                title=title,
                link=link,
                source=f"{source}: {name}" if name else source,
                published=published,
                summary=plain_text(row.get("description")),
                text=content,
                provenance="newsapi",
            )
        )
    return articles


def check_endpoint(url: str) -> str:
    """A NewsAPI request address, checked to be on NewsAPI (``KEY_ORIGINS``) before the key goes near it.

    Raises:
        InputError: for an address on any other server (nothing is sent to it).
    """
    return net.check_credential_target(url, KEY_ORIGINS, "The NewsAPI key")


def fetch_newsapi(key: str, url: str, fetcher: Fetcher, *, source: str = "NewsAPI") -> list[Article]:
    """Fetch one NewsAPI request URL (see :func:`request_url`) with ``key``.

    Raises:
        InputError: for a malformed key, or an address that is not on NewsAPI (the key is never sent there).
        FetchError: for network problems or an error answer.
    """
    key = check_key(key)
    url = check_endpoint(url)
    response = fetcher.get(url, headers={"X-Api-Key": key}, accept="application/json", raise_for_status=False)
    if response.status >= 400 and not response.body.lstrip().startswith(b"{"):
        raise FeedError(f"NewsAPI answered HTTP {response.status}.")
    return parse_response(response.body, source=source)
