"""The bundled sample articles: fictional news written by data/make_news_sample.py.

They keep the feed working offline and are clearly labelled (provenance "bundled sample");
their dates can be shifted so the newest sample is as fresh relative to "now" as it was
relative to the reference time the script used.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from engines.core.errors import SourceError
from engines.news.feeds import Article

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = ROOT / "data" / "news_sample.jsonl"
REFERENCE_TIME = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # data/make_news_sample.py's REFERENCE
SAMPLE_PROVENANCE = "bundled sample"
BBC_CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")


def _rows(path: Path) -> list[dict]:
    """The JSON rows of the sample file; SourceError when it is missing or unreadable (a broken install)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise SourceError(f"The bundled sample articles at {path} cannot be read ({exc}); reinstall the app.") from exc


def sample_stories(path: Path = SAMPLE_PATH) -> dict[str, str]:
    """Article id -> the story it tells, as data/make_news_sample.py wrote it (to score near-duplicate grouping)."""
    return {row["id"]: row.get("story", row["id"]) for row in _rows(path)}


def load_samples(as_of: datetime | None = None, path: Path = SAMPLE_PATH) -> list[Article]:
    """The bundled sample articles.

    Args:
        as_of: Shift every date by ``as_of - REFERENCE_TIME`` so the sample looks current
            (None keeps the dates as written).
        path: The JSON-lines file.

    Returns:
        Articles with ``provenance == "bundled sample"`` and their written ``category``.

    Raises:
        SourceError: when the sample file is missing or unreadable (a broken install).
    """
    shift = (as_of.astimezone(UTC) - REFERENCE_TIME) if as_of is not None else None
    articles = []
    for row in _rows(path):
        published = datetime.fromisoformat(row["published"]) if row.get("published") else None
        if published is not None and shift is not None:
            published += shift
        articles.append(
            Article(
                id=row["id"],
                title=row["title"],
                link=row.get("link", ""),
                source=row["source"],
                published=published,
                summary=row.get("summary", ""),
                text=row.get("text", ""),
                category=row.get("category"),
                provenance=SAMPLE_PROVENANCE,
            )
        )
    return articles
