"""Fixture feeds (good and broken) and a tiny local feed server, for the news engine's tests and benchmark.

Every feed here is made up. :class:`FeedServer` listens on 127.0.0.1 only; each route can set
headers, a delay before answering, a stall, or a body streamed in chunks (for the size cap).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@dataclass
class Item:
    """One fixture entry."""

    title: str
    link: str
    description: str = ""
    published: datetime | None = None
    content: str = ""


def default_items(prefix: str = "story", n: int = 3, host: str = "https://news.example.org") -> list[Item]:
    """``n`` distinct items with dates an hour apart."""
    topics = [
        (
            "Kestrel Motors profits rise",
            "Kestrel Motors reported higher profits as car sales recovered in the quarter.",
        ),
        ("Portwell City win the derby", "Portwell City beat Redhill Albion 2-1 with a late goal from Sam Ortega."),
        (
            "Quillsoft launches new laptop",
            "Quillsoft unveiled a laptop with a longer battery life and a brighter screen.",
        ),
        (
            "Minister unveils housing plan",
            "Margaret Hale set out a plan to build more homes, with a vote due this year.",
        ),
        ("Elena Varga to star in new film", "Elena Varga has been cast in the lead role of The Glass Orchard."),
    ]
    return [
        Item(
            title=f"{topics[i % len(topics)][0]} ({prefix} {i})",
            link=f"{host}/{prefix}/{i}",
            description=topics[i % len(topics)][1],
            published=NOW - timedelta(hours=i + 1),
        )
        for i in range(n)
    ]


def rss(items: list[Item], *, title: str = "Fixture feed", encoding: str = "utf-8", declare: bool = True) -> bytes:
    """An RSS 2.0 document in ``encoding`` (with or without the XML encoding declaration)."""
    head = f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n' if declare else '<?xml version="1.0"?>\n'
    parts = [
        head,
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://news.example.org/</link>",
    ]
    for it in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(it.title)}</title>")
        if it.link:
            parts.append(f"<link>{escape(it.link)}</link><guid>{escape(it.link)}</guid>")
        if it.description:
            parts.append(f"<description>{escape(it.description)}</description>")
        if it.published is not None:
            parts.append(f"<pubDate>{format_datetime(it.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode(encoding)


def atom(items: list[Item], *, title: str = "Fixture Atom feed") -> bytes:
    """An Atom 1.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:fixture</id><updated>{NOW.isoformat()}</updated>",
    ]
    for it in items:
        parts.append(
            f'<entry><title>{escape(it.title)}</title><link href="{escape(it.link)}"/><id>{escape(it.link)}</id>'
        )
        if it.published is not None:
            parts.append(f"<updated>{it.published.isoformat()}</updated>")
        if it.description:
            parts.append(f"<summary>{escape(it.description)}</summary>")
        if it.content:
            parts.append(f'<content type="html">{escape(it.content)}</content>')
        parts.append("</entry>")
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")


def malformed() -> bytes:
    """Not well-formed XML and no recoverable entry."""
    return b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><title>Unclosed &amp'


def truncated_feed() -> bytes:
    """A feed cut off after two complete items (feedparser recovers them)."""
    body = rss(default_items("cut", 3)).decode()
    return body[: body.rfind("<item>") + 20].encode()


def html_page(feed_href: str = "/feed.xml") -> bytes:
    """A web page (with a feed link in its head), served where a feed was expected."""
    return (
        "<!DOCTYPE html><html><head><title>Fixture news home</title>"
        f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{feed_href}"></head>'
        "<body><h1>Welcome</h1><p>Latest news from nowhere.</p></body></html>"
    ).encode()


def article_page(title: str = "Quillsoft laptop review", body: str = "") -> bytes:
    """An article page with navigation, a script and a body."""
    text = body or (
        "Quillsoft has released a new laptop that lasts twelve hours on a single charge, the company said. "
        "Reviewers praised the keyboard and the screen but said the price was high for students."
    )
    return (
        f"<html><head><title>{escape(title)} | Fixture</title>"
        f'<meta property="og:title" content="{escape(title)}">'
        '<meta name="description" content="A short review of the new laptop.">'
        '<meta property="article:published_time" content="2025-03-14T08:00:00Z">'
        "<script>window.evil = 1; document.write('INJECTED');</script><style>p{color:red}</style></head>"
        "<body><nav><p>Home | World | Business | Sport and everything else in the menu</p></nav>"
        f"<article><h1>{escape(title)}</h1><p>{escape(text)}</p>"
        "<p>The laptop goes on sale next week in shops and online, priced at about nine hundred pounds.</p>"
        "<script>alert('x')</script></article><footer><p>Copyright Fixture News, all rights reserved here.</p></footer>"
        "</body></html>"
    ).encode()


def with_scripts() -> bytes:
    """Script tags and markup (escaped, double-escaped and in CDATA) in titles and descriptions."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Scripts</title>'
        b"<item><title>Breaking &lt;script&gt;alert(1)&lt;/script&gt;news</title>"
        b"<link>https://news.example.org/s/1</link>"
        b"<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;script&gt;steal()&lt;/script&gt;"
        b'&lt;img src=x onerror="pwn()"&gt;&lt;/p&gt;</description></item>'
        b"<item><title><![CDATA[Markets <i>rally</i> <script>x()</script>today]]></title>"
        b"<link>https://news.example.org/s/2</link>"
        b"<description><![CDATA[<div><style>.a{}</style>Shares rose &amp;amp; fell <a href='javascript:x()'>here</a></div>]]></description>"
        b"</item>"
        b"<item><title>Bad link</title><link>javascript:alert(1)</link><description>A link that is not http.</description></item>"
        b"</channel></rss>"
    )


def duplicates() -> bytes:
    """The same entry three times plus one other."""
    items = default_items("dup", 2)
    return rss([items[0], items[0], items[0], items[1]])


def missing_dates() -> bytes:
    """Entries without dates, one with an unparseable date, one dated far in the future."""
    items = default_items("nodate", 3)
    for it in items:
        it.published = None
    body = rss(items).decode()
    body = body.replace("</item>", "<pubDate>not a date</pubDate></item>", 1)
    future = format_datetime(datetime(2999, 1, 1, tzinfo=UTC))
    body = body.replace(
        "</channel>",
        f"<item><title>From the future</title><link>https://news.example.org/f</link><pubDate>{future}</pubDate></item></channel>",
    )
    return body.encode()


LATIN1_TITLE = "Café owners in Zürich protest naïve rules"


def latin1(declare: bool) -> bytes:
    """A feed in ISO-8859-1, with or without the encoding declaration."""
    items = [Item(LATIN1_TITLE, "https://news.example.org/latin/1", "Crème brûlée prices rise by 5 €uro… no: £5.", NOW)]
    items[0].description = "Crème brûlée prices rise to £5 in the café."
    return rss(items, encoding="iso-8859-1", declare=declare)


def title_only(base: str) -> bytes:
    """Entries with a title and a link to an article page, nothing else."""
    return rss([Item("Quillsoft laptop review", f"{base}/article/1", published=NOW)])


# ---------------------------------------------------------------- server


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer starts
    stall: float = 0.0  # seconds to stall after the headers (a feed that times out)
    chunked_size: int = 0  # stream this many bytes of filler (no Content-Length): a huge feed


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 with per-path routes; unknown paths get 404.

    ``default_delay`` applies to every answer, 404s included (robots.txt too), like a slow server.
    """

    def __init__(self, host: str = "127.0.0.1", default_delay: float = 0.0) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.default_delay = default_delay
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                delay = server.default_delay + (route.delay if route else 0.0)
                if delay:
                    time.sleep(delay)
                if route is None:
                    body = b"not found"
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                try:
                    if route.chunked_size:
                        self.end_headers()  # no length: read until the connection closes
                        chunk = b"<!-- padding -->" * 4096
                        sent = 0
                        while sent < route.chunked_size and not server.release.is_set():
                            self.wfile.write(chunk)
                            sent += len(chunk)
                        return
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if route.stall:
                        self.wfile.flush()
                        server.release.wait(route.stall)
                        return
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        """Full address of ``path``."""
        return f"http://{self.host}:{self.port}{path}"

    def add(self, path: str, body: bytes = b"", **kwargs) -> str:
        """Serve ``body`` at ``path`` (see :class:`Route`); returns the address."""
        self.routes[path] = Route(body=body, **kwargs)
        return self.url(path)

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [p for p, _ in self.requests]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
