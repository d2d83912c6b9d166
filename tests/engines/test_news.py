"""News engine, fetching layer: URL checks, address safety, robots.txt, rate limit, size cap, broken feeds.

Every feed is served by a local server on 127.0.0.1 (tests/news_feeds.py); the configs set
``allow_private=True`` to reach it, exactly as a user on a trusted network would.
"""

from __future__ import annotations

import gzip
import time

import pytest

from engines import news
from engines.core import net
from engines.core.errors import InputError, SourceError
from engines.news import fetch as news_fetch
from engines.news import newsapi
from tests import news_feeds as nf

FAST = news.FetchConfig(allow_private=True, timeout=1.0, deadline=3.0, retries=0, backoff=0.01, host_interval=0.0)


@pytest.fixture
def server():
    with nf.FeedServer() as s:
        yield s


def health_of(result: news.Refresh, name: str) -> news.SourceHealth:
    return next(h for h in result.health if h.source == name)


# ---------------------------------------------------------------- URL checks


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://example.org/feed.xml", "Only http"),
        ("file:///etc/passwd", "Only http"),
        ("javascript:alert(1)", "Only http"),
        ("example.org/rss", "Only http"),
        ("http://", "no host"),
        ("http://exa mple.org/feed", "spaces"),
        ("http://example.org:99999/feed", "malformed"),
        ("http://user:secret@example.org/feed", "user name or password"),
        ("http://example.org/" + "a" * 3000, "characters long"),
    ],
)
def test_check_url_rejects_bad_addresses(url, match):
    with pytest.raises(InputError, match=match):
        news.check_url(url)


def test_check_url_accepts_http_and_https():
    assert news.check_url("  https://feeds.example.org/rss.xml ") == "https://feeds.example.org/rss.xml"
    assert news.check_url("http://127.0.0.1:8080/feed") == "http://127.0.0.1:8080/feed"


def test_typed_source_list_is_validated_per_line():
    sources = news.parse_sources("# my feeds\nhttps://a.example.org/rss\nTech | https://b.example.org/atom\n\n")
    assert [s.url for s in sources] == ["https://a.example.org/rss", "https://b.example.org/atom"]
    assert sources[1].name == "Tech" and sources[0].name == "a.example.org"
    with pytest.raises(InputError, match="Line 2: Only http"):
        news.parse_sources("https://ok.example.org/rss\nftp://bad.example.org/rss")
    with pytest.raises(InputError, match="empty"):
        news.parse_sources("# nothing\n\n")
    with pytest.raises(InputError, match="Unknown source kind"):
        news.Source("x", "https://x.example.org", "podcast")


def test_default_feed_list_loads():
    sources = news.load_sources()
    assert len(sources) >= 6
    assert all(s.url.startswith("https://") and s.kind is news.SourceKind.FEED for s in sources)


# ---------------------------------------------------------------- private addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.4",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "240.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_recognised(address):
    assert not news_fetch.is_public(address)


def test_public_address_is_public():
    assert news_fetch.is_public("93.184.216.34")
    assert news_fetch.is_public("2606:2800:220:1:248:1893:25c8:1946")


def test_loopback_refused_unless_allowed(server):
    url = server.add("/feed.xml", nf.rss(nf.default_items()))
    strict = news.FetchConfig(timeout=1.0, retries=0)
    result = news.refresh([news.Source("Local", url)], strict)
    row = result.health[0]
    assert row.status == "failed" and "private, loopback or reserved" in row.error
    assert server.requests == []  # refused before any connection
    allowed = news.refresh([news.Source("Local", url)], FAST)
    assert allowed.health[0].status == "ok" and allowed.health[0].items == 3


def test_dns_name_pointing_to_loopback_is_refused(server):
    # "localhost" resolves to 127.0.0.1 (and ::1): every address is checked, not the name.
    url = f"http://localhost:{server.port}/feed.xml"
    server.add("/feed.xml", nf.rss(nf.default_items()))
    with pytest.raises(news.Blocked, match="localhost resolves to"):
        news.Fetcher(news.FetchConfig(timeout=1.0, retries=0)).get(url)
    assert server.requests == []


def test_redirect_to_private_address_is_refused_at_the_hop(server, monkeypatch):
    # The first hop is allowed by pretending its address is public; the redirect target is checked again.
    server.add("/moved", status=302, headers={"Location": f"http://localhost:{server.port}/feed.xml"})
    server.add("/feed.xml", nf.rss(nf.default_items()))
    real = net.address_problem
    checked: list[str] = []

    def first_hop_public(address: str) -> str | None:
        checked.append(address)
        return None if len(checked) == 1 else real(address)

    monkeypatch.setattr(net, "address_problem", first_hop_public)
    fetcher = news.Fetcher(news.FetchConfig(timeout=1.0, retries=0, respect_robots=False))
    with pytest.raises(news.Blocked):
        fetcher.get(f"http://127.0.0.1:{server.port}/moved")
    assert server.paths() == ["/moved"] and len(checked) == 2


# ---------------------------------------------------------------- fetching behaviour


def test_good_rss_and_atom_are_read_concurrently_with_health(server, progress_log):
    rss_url = server.add("/rss.xml", nf.rss(nf.default_items("r", 3)), headers={"Content-Type": "application/rss+xml"})
    atom_url = server.add("/atom.xml", nf.atom(nf.default_items("a", 2)))
    result = news.refresh([news.Source("RSS", rss_url), news.Source("Atom", atom_url)], FAST, progress=progress_log)
    progress_log.assert_complete()
    frame = result.health_frame()
    assert list(frame.columns) == ["source", "url", "kind", "status", "items", "seconds", "error", "notes"]
    assert frame["status"].tolist() == ["ok", "ok"] and frame["items"].tolist() == [3, 2]
    assert len(result.articles) == 5
    first = result.articles[0]
    assert first.published is not None and first.published.utcoffset().total_seconds() == 0
    assert first.published == nf.NOW - __import__("datetime").timedelta(hours=1)
    assert first.provenance == "feed" and first.source == "RSS" and first.link.endswith("/r/0")


def test_broken_sources_fail_alone_with_clear_errors(server):
    good = server.add("/good.xml", nf.rss(nf.default_items("g", 2)))
    sources = [
        news.Source("Good", good),
        news.Source("Malformed", server.add("/bad.xml", nf.malformed())),
        news.Source("HTML", server.add("/home", nf.html_page("/rss"), headers={"Content-Type": "text/html"})),
        news.Source("Slow", server.add("/slow.xml", nf.rss(nf.default_items()), stall=10)),
        news.Source("Huge", server.add("/huge.xml", chunked_size=10 * 1024 * 1024)),
        news.Source("Missing", server.url("/nowhere.xml")),
        news.Source("Empty", server.add("/empty.xml", b"")),
    ]
    config = news.FetchConfig(
        allow_private=True, timeout=0.5, deadline=3.0, retries=0, host_interval=0.0, max_bytes=5 * 1024 * 1024
    )
    started = time.perf_counter()
    result = news.refresh(sources, config)
    assert time.perf_counter() - started < 8
    status = {h.source: h for h in result.health}
    assert status["Good"].status == "ok" and status["Good"].items == 2
    assert status["Malformed"].status == "failed" and "Malformed feed" in status["Malformed"].error
    assert status["HTML"].status == "failed" and "HTML page" in status["HTML"].error
    assert f"{server.url('/rss')}" in status["HTML"].error  # the page's advertised feed is suggested
    assert status["Slow"].status == "failed" and "Timed out" in status["Slow"].error
    assert status["Huge"].status == "failed" and "Too large" in status["Huge"].error
    assert status["Missing"].status == "failed" and "HTTP 404" in status["Missing"].error
    assert status["Empty"].status == "failed"
    assert len(result.articles) == 2


def test_announced_oversize_body_fails_before_reading(server):
    server.add("/big.xml", b"x" * 2000)
    with pytest.raises(news.TooLarge, match="Too large"):
        news.Fetcher(news.FetchConfig(allow_private=True, max_bytes=1000, retries=0)).get(server.url("/big.xml"))


def test_gzip_is_decompressed_and_capped_after_decompression(server):
    body = nf.rss(nf.default_items("z", 2))
    server.add("/z.xml", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    got = news.Fetcher(FAST).get(server.url("/z.xml"))
    assert got.body == body
    bomb = gzip.compress(b"a" * 3_000_000)  # ~3 KB on the wire, 3 MB inflated
    server.add("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    config = news.FetchConfig(allow_private=True, retries=0, max_bytes=1_000_000, host_interval=0.0)
    with pytest.raises(news.TooLarge):
        news.Fetcher(config).get(server.url("/bomb.xml"))


def test_retries_with_backoff_then_succeeds(server):
    server.add("/flaky.xml", nf.rss(nf.default_items()), status=503)
    config = news.FetchConfig(allow_private=True, retries=2, backoff=0.01, host_interval=0.0, respect_robots=False)
    with pytest.raises(news.FetchError, match="HTTP 503"):
        news.Fetcher(config).get(server.url("/flaky.xml"))
    assert server.paths().count("/flaky.xml") == 3  # 1 + 2 retries
    no_retry = news.FetchConfig(allow_private=True, retries=2, backoff=0.01, host_interval=0.0, respect_robots=False)
    server.add("/gone.xml", b"gone", status=410)
    with pytest.raises(news.FetchError, match="HTTP 410"):
        news.Fetcher(no_retry).get(server.url("/gone.xml"))
    assert server.paths().count("/gone.xml") == 1  # a 4xx is final


def test_redirect_is_followed(server):
    server.add("/old", status=301, headers={"Location": "/new.xml"})
    server.add("/new.xml", nf.rss(nf.default_items("n", 1)))
    got = news.Fetcher(FAST).get(server.url("/old"))
    assert got.url.endswith("/new.xml") and b"<rss" in got.body
    server.add("/loop", status=302, headers={"Location": "/loop"})
    with pytest.raises(news.FetchError, match="redirects"):
        news.Fetcher(news.FetchConfig(allow_private=True, max_redirects=2, host_interval=0.0)).get(server.url("/loop"))
    server.add("/evil", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(news.FetchError, match="not fetched"):
        news.Fetcher(FAST).get(server.url("/evil"))


def test_robots_txt_is_respected_and_read_once(server):
    server.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n")
    server.add("/private/feed.xml", nf.rss(nf.default_items()))
    server.add("/public/feed.xml", nf.rss(nf.default_items()))
    result = news.refresh(
        [
            news.Source("Private", server.url("/private/feed.xml")),
            news.Source("Public", server.url("/public/feed.xml")),
        ],
        FAST,
    )
    assert health_of(result, "Private").status == "failed" and "robots.txt" in health_of(result, "Private").error
    assert health_of(result, "Public").status == "ok"
    assert server.paths().count("/robots.txt") == 1
    assert "/private/feed.xml" not in server.paths()
    ignoring = news.FetchConfig(allow_private=True, respect_robots=False, host_interval=0.0)
    assert news.Fetcher(ignoring).get(server.url("/private/feed.xml")).status == 200


def test_robots_failure_means_allowed(server):
    server.add("/robots.txt", b"oops", status=500)
    server.add("/feed.xml", nf.rss(nf.default_items()))
    assert news.Fetcher(FAST).get(server.url("/feed.xml")).status == 200


def test_user_agent_and_accept_headers_are_sent(server):
    server.add("/feed.xml", nf.rss(nf.default_items()))
    news.refresh([news.Source("F", server.url("/feed.xml"))], FAST)
    headers = dict(server.requests)["/feed.xml"]
    assert headers["user-agent"] == FAST.user_agent and "rss" in headers["accept"]


def test_rate_limit_spaces_requests_to_one_origin_only():
    limiter = news_fetch.RateLimiter(0.15)
    started = time.perf_counter()
    for _ in range(3):
        limiter.wait("http://a:1")
    same = time.perf_counter() - started
    started = time.perf_counter()
    for key in ("http://b:1", "http://c:1", "http://d:1"):
        limiter.wait(key)
    other = time.perf_counter() - started
    assert same >= 0.29 and other < 0.1


def test_origin_key_separates_ports_and_schemes():
    assert news_fetch.origin("http://Example.org/a") == "http://example.org:80"
    assert news_fetch.origin("https://example.org/a") == "https://example.org:443"
    assert news_fetch.origin("http://127.0.0.1:8001/x") != news_fetch.origin("http://127.0.0.1:8002/x")


def test_fetch_config_rejects_nonsense():
    with pytest.raises(InputError, match="max_workers"):
        news.FetchConfig(max_workers=0)
    with pytest.raises(InputError, match="timeout"):
        news.FetchConfig(timeout=0)
    with pytest.raises(InputError, match="retries"):
        news.FetchConfig(retries=-1)


def test_refresh_needs_sources():
    with pytest.raises(InputError, match="No sources"):
        news.refresh([])


# ---------------------------------------------------------------- parsing


def test_scripts_and_markup_become_plain_text():
    parsed = news.parse_feed(nf.with_scripts(), source="S")
    titles = [a.title for a in parsed.articles]
    assert titles[0] == "Breaking news" or titles[0].replace("  ", " ") == "Breaking news"
    for a in parsed.articles:
        for text in (a.title, a.summary, a.text):
            assert "<" not in text and ">" not in text
            assert "alert" not in text and "steal" not in text and "pwn" not in text and "x()" not in text
    assert "Hello world" in parsed.articles[0].summary
    assert parsed.articles[1].title == "Markets rally today"
    assert "Shares rose & fell here" in parsed.articles[1].summary
    assert parsed.articles[2].link == ""  # javascript: link dropped


def test_plain_text_handles_double_escaping_and_controls():
    assert news.plain_text("&lt;script&gt;bad()&lt;/script&gt;Fine &amp;amp; dandy") == "Fine & dandy"
    assert news.plain_text("a\u202eb\x00c  \n\n\n d") == "abc\n\nd"
    assert news.plain_text("word " * 100, max_chars=20).endswith("…")
    assert news.plain_text(None) == ""


def test_duplicate_entries_are_dropped_with_a_note():
    parsed = news.parse_feed(nf.duplicates(), source="D")
    assert len(parsed.articles) == 2
    assert any("Dropped 2 duplicate entries" in n for n in parsed.notes)


def test_missing_bad_and_future_dates_become_none():
    parsed = news.parse_feed(nf.missing_dates(), source="M", now=nf.NOW)
    assert len(parsed.articles) == 4
    assert all(a.published is None for a in parsed.articles)
    assert any("no valid date" in n for n in parsed.notes)


@pytest.mark.parametrize("declare", [True, False])
def test_latin1_feed_with_and_without_declaration(declare):
    parsed = news.parse_feed(nf.latin1(declare), source="L")
    assert parsed.articles[0].title == nf.LATIN1_TITLE
    assert "Crème brûlée" in parsed.articles[0].summary and "£5" in parsed.articles[0].summary
    if not declare:
        assert any("Encoding repaired" in n for n in parsed.notes)


def test_latin1_charset_from_http_header(server):
    server.add("/l.xml", nf.latin1(declare=False), headers={"Content-Type": "application/rss+xml; charset=ISO-8859-1"})
    result = news.refresh([news.Source("Latin", server.url("/l.xml"))], FAST)
    assert result.articles[0].title == nf.LATIN1_TITLE
    assert result.health[0].status == "ok"


def test_truncated_feed_recovers_entries_with_a_note():
    parsed = news.parse_feed(nf.truncated_feed(), source="T")
    assert len(parsed.articles) == 2
    assert any("XML errors" in n for n in parsed.notes)


def test_not_a_feed_errors():
    with pytest.raises(news.FeedError, match="HTML page"):
        news.parse_feed(nf.html_page(), source="H")
    with pytest.raises(news.FeedError, match=r"Not an RSS or Atom feed|Malformed"):
        news.parse_feed(b'{"json": true}', source="J")
    with pytest.raises(news.FeedError):
        news.parse_feed(nf.malformed(), source="B")
    assert issubclass(news.FeedError, SourceError)


def test_title_only_feed_fetches_article_pages_as_text(server):
    server.add("/feed.xml", nf.title_only(server.url("")))
    server.add("/article/1", nf.article_page(), headers={"Content-Type": "text/html; charset=utf-8"})
    result = news.refresh([news.Source("Bare", server.url("/feed.xml"))], FAST)
    article = result.articles[0]
    assert article.provenance == "feed + article page"
    assert "twelve hours" in article.text and "nine hundred pounds" in article.text
    assert "INJECTED" not in article.text and "alert" not in article.text and "Copyright" not in article.text
    assert "menu" not in article.text
    assert article.summary == "A short review of the new laptop."
    assert "read 1 article page" in result.health[0].notes


def test_page_source_reads_one_article(server):
    url = server.add("/article/2", nf.article_page("Budget day"), headers={"Content-Type": "text/html"})
    result = news.refresh([news.Source("Page", url, "page")], FAST)
    assert result.health[0].status == "ok"
    article = result.articles[0]
    assert article.title == "Budget day" and article.published is not None and "<" not in article.text


# ---------------------------------------------------------------- NewsAPI


NEWSAPI_OK = (
    b'{"status":"ok","totalResults":3,"articles":['
    b'{"source":{"id":null,"name":"Wire One"},"title":"Rates <b>held</b>","description":"The bank held rates.",'
    b'"url":"https://wire.example.org/1","publishedAt":"2025-03-14T10:00:00Z","content":"Full text here\\u2026 [+1200 chars]"},'
    b'{"source":{"name":"Gone"},"title":"[Removed]","url":"https://removed.example.org"},'
    b'{"source":{"name":"Wire Two"},"title":"No date","url":"https://wire.example.org/2","publishedAt":null}]}'
)


@pytest.fixture
def newsapi_here(server, monkeypatch):
    """The local server stands in for newsapi.org: the key may be sent to it (and only to it)."""
    monkeypatch.setattr(newsapi, "KEY_ORIGINS", (net.origin(server.url("/")),))


def test_newsapi_key_goes_in_a_header_and_articles_parse(server, newsapi_here):
    endpoint = server.add("/v2/top-headlines", NEWSAPI_OK, headers={"Content-Type": "application/json"})
    url = news.newsapi_url(endpoint, country="gb", page_size=20)
    result = news.refresh([news.Source("NewsAPI", url, "newsapi")], FAST, newsapi_key="k" * 32)
    assert result.health[0].status == "ok" and result.health[0].items == 2
    path, headers = server.requests[-1]
    assert headers["x-api-key"] == "k" * 32 and "k" * 32 not in path and "country=gb" in path
    first = result.articles[0]
    assert first.title == "Rates held" and first.source == "NewsAPI: Wire One" and first.provenance == "newsapi"
    assert first.text == "Full text here" and first.published is not None
    assert result.articles[1].published is None


def test_newsapi_without_key_is_skipped_and_errors_are_reported(server, newsapi_here):
    endpoint = server.add(
        "/v2/everything",
        b'{"status":"error","code":"apiKeyInvalid","message":"Your API key is invalid."}',
        status=401,
        headers={"Content-Type": "application/json"},
    )
    source = news.Source("NewsAPI", news.newsapi_url(endpoint, query="climate"), "newsapi")
    skipped = news.refresh([source], FAST)
    assert skipped.health[0].status == "skipped" and "[newsapi] key" in skipped.health[0].error
    failed = news.refresh([source], FAST, newsapi_key="bad-key")
    assert failed.health[0].status == "failed" and "apiKeyInvalid" in failed.health[0].error
    assert "bad-key" not in failed.health[0].error
    with pytest.raises(InputError, match="search query"):
        news.newsapi_url(endpoint, query="")
    bad_key = news.refresh([source], FAST, newsapi_key="has space")
    assert bad_key.health[0].status == "failed" and "key looks wrong" in bad_key.health[0].error
