"""The knowledge base: the gallery's own documentation, a support FAQ, and the user's uploads, cut into passages.

Default sources: README.md split at its headings, one document per demo (title, pitch, techniques and the
page's own introduction, read from the page script without running it), and ``data/chatbot_faq.md``.
Passages are runs of whole sentences (or table rows and list items) of about ``max_words`` words, each
overlapping the previous by about ``overlap_words``, and carry their document's title.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from engines.core.errors import InputError
from engines.registry import DEMOS, ROOT

README = ROOT / "README.md"
FAQ = ROOT / "data" / "chatbot_faq.md"
MAX_WORDS, OVERLAP_WORDS = 200, 50  # chosen on the dev questions (110/30 to 240/60 tried)
MAX_SOURCES = 20  # uploaded documents kept per session
MAX_SOURCE_CHARS = 400_000  # an upload longer than this is cut (with a note)

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HTML = re.compile(r"<[^>]+>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_ITEM = re.compile(r"^([-*•]|\d+[.)])\s+")
SENTENCE_BREAK = re.compile(  # after . ! ? but not after "et al.", "e.g." and the like
    r"(?<=[.!?])(?<!\bet al\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bNo\.)(?<!\bed\.)(?<!\bDr\.)"
    r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bSt\.)\s+(?=[A-Z0-9\"'(])"
)


@dataclass(frozen=True)
class Source:
    """One document of the knowledge base."""

    id: str
    title: str
    kind: str  # readme, demo, faq or upload
    text: str


@dataclass(frozen=True)
class Passage:
    """A piece of a document that retrieval ranks and answers quote."""

    index: int
    source_id: str
    title: str
    kind: str
    text: str

    @property
    def searchable(self) -> str:
        """What retrieval indexes: the document's title, then the passage."""
        return f"{self.title}. {self.text}"


def plain(markdown: str) -> str:
    """Markdown as plain text for retrieval and quoting.

    Images are dropped, links become their words, emphasis and HTML tags go, code blocks are skipped, and each
    table row becomes one line that names its columns ("model: Lead-3; ROUGE-1: 0.2742"), so a row makes sense
    on its own in a passage.
    """
    lines: list[str] = []
    header: list[str] | None = None
    in_code = False
    rows = markdown.splitlines()
    for i, line in enumerate(rows):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        line = _EMPHASIS.sub("", _HTML.sub("", _LINK.sub(r"\1", _IMAGE.sub("", line))))
        stripped = line.strip()
        if not stripped.startswith("|"):
            header = None
            lines.append(line.rstrip())
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if all(re.fullmatch(r":?-+:?", c) for c in cells if c):  # the separator under a header
            continue
        following = rows[i + 1].strip() if i + 1 < len(rows) else ""
        if header is None and re.fullmatch(r"\|?[-:| ]+\|?", following or "x") and "-" in following:
            header = cells  # a header row: its names go into every row below
            continue
        if header and len(header) == len(cells):
            pairs = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=True) if c]
            lines.append("; ".join(pairs))
        else:
            lines.append(" | ".join(c for c in cells if c))
    return "\n".join(lines)


def markdown_sources(text: str, prefix: str, kind: str, id_prefix: str) -> list[Source]:
    """A Markdown file cut at its headings: one source per section, titled with the path of headings."""
    sources: list[Source] = []
    path: list[str] = []
    body: list[str] = []

    def flush() -> None:
        content = plain("\n".join(body)).strip()
        if content:
            title = " › ".join([prefix, *path]) if path else prefix
            sources.append(Source(f"{id_prefix}{len(sources)}", title, kind, content))
        body.clear()

    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path[:] = [*path[: max(0, level - 2)], _EMPHASIS.sub("", match.group(2)).strip()] if level > 1 else []
            continue
        body.append(line)
    flush()
    return sources


def page_intro(page: Path) -> str:
    """The introduction a page passes to ``ui.page_header`` (read from its source, not by running it)."""
    try:
        tree = ast.parse(page.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "page_header"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            return node.args[1].value
    return ""


def demo_sources() -> list[Source]:
    """One source per demo of the registry: what it is, its techniques, and its page's introduction."""
    out = []
    for demo in DEMOS:
        intro = page_intro(ROOT / demo.page)
        text = f"{demo.title}: {demo.pitch} Techniques: {', '.join(demo.techniques)}. {intro}".strip()
        out.append(Source(f"demo:{demo.key}", f"{demo.title} (demo)", "demo", text))
    return out


def faq_sources(path: Path = FAQ) -> list[Source]:
    """The support FAQ, one source per question."""
    if not path.is_file():
        return []
    return [
        Source(s.id, s.title.replace("FAQ › ", "FAQ: "), "faq", s.text)
        for s in markdown_sources(path.read_text(encoding="utf-8"), "FAQ", "faq", "faq:")
        if s.title != "FAQ"
    ]


def default_sources() -> list[Source]:
    """The gallery's README (by section), its demos, and the support FAQ."""
    readme = markdown_sources(README.read_text(encoding="utf-8"), "README", "readme", "readme:")
    return readme + demo_sources() + faq_sources()


def upload_source(text: str, filename: str, index: int) -> Source:
    """An uploaded document's text as a source (cut at MAX_SOURCE_CHARS)."""
    text = (text or "").strip()
    if not text:
        raise InputError(f"`{filename}` has no text to add to the knowledge base.")
    return Source(f"upload:{index}:{filename}", filename, "upload", text[:MAX_SOURCE_CHARS])


def units(text: str) -> list[str]:
    """Sentences of the prose, and whole lines for table rows, list items and short lines."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        items = [line for line in lines if _ITEM.match(line)]
        rows = [line for line in lines if "; " in line or " | " in line]
        if len(rows) >= max(1, len(lines) // 2):  # table rows: one unit each
            out += lines
            continue
        if items:  # a list: each item with its wrapped continuation lines, then split into sentences
            merged: list[str] = []
            for line in lines:
                if _ITEM.match(line) or not merged:
                    merged.append(_ITEM.sub("", line))
                else:
                    merged[-1] += " " + line
            for item in merged:
                out += [s.strip() for s in SENTENCE_BREAK.split(item) if s.strip()]
            continue
        paragraph = " ".join(lines)
        out += [s.strip() for s in SENTENCE_BREAK.split(paragraph) if s.strip()]
    return out


def chunk(source: Source, max_words: int = MAX_WORDS, overlap_words: int = OVERLAP_WORDS) -> list[str]:
    """The source's text as overlapping passages of whole units, about ``max_words`` words each."""
    pieces = units(source.text)
    passages: list[str] = []
    current: list[str] = []
    words = 0
    for piece in pieces:
        size = len(piece.split())
        if current and words + size > max_words:
            passages.append("\n".join(current))
            keep: list[str] = []
            kept = 0
            for previous in reversed(current):
                if kept + len(previous.split()) > overlap_words:
                    break
                keep.insert(0, previous)
                kept += len(previous.split())
            current, words = keep, kept
        current.append(piece)
        words += size
    if current:
        passages.append("\n".join(current))
    return passages


def sentences(text: str) -> list[str]:
    """The sentences (or table rows and list items) of a passage."""
    out = []
    for line in text.split("\n"):
        out += [s.strip() for s in SENTENCE_BREAK.split(line) if s.strip()]
    return out


def passages(sources: list[Source]) -> list[Passage]:
    """Every source cut into passages, numbered in order."""
    out: list[Passage] = []
    for source in sources:
        for text in chunk(source):
            out.append(Passage(len(out), source.id, source.title, source.kind, text))
    return out
