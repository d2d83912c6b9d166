"""News aggregator: categorisation on BBC News, zero-shot topics, concurrent fetching, re-ranking speed.

- BBC News (Greene & Cunningham 2006), 5-fold stratified CV (repeated ``min(seeds, 2)`` times with
  different shuffles): our default (TF-IDF words + bigrams, calibrated linear SVM, defaults fixed in
  advance), TF-IDF + logistic regression, and the plain CountVectorizer + multinomial naive Bayes peer,
  side by side. Zero-shot MiniLM (cosine to the category names, then to names with a one-line
  description written before looking at results) on all 2,225 articles, as extra rows.
- Fetching: 20 fixture feeds, each on its own local server (127.0.0.1, 20 ports) that waits 0.2 s
  before every answer (robots.txt included), fetched one after another and then concurrently with
  the default FetchConfig (rate limit and robots.txt on). The rate limit is keyed by origin
  (scheme, host, port), the unit robots.txt applies to, so 20 ports are 20 servers; 127.0.0.2..21
  would work the same on Linux but not on every OS.
- Near-duplicate grouping: the bundled sample (107 fictional articles; 8 stories retold by three
  outlets, the rest made from shared templates with other names and figures), scored pair by pair
  against the stories ``data/make_news_sample.py`` wrote: the default, without the contradiction check,
  and plain TF-IDF cosine (no name checks) side by side. The checks were written while looking at this
  sample's false merges: it is a regression measure, not a held-out one.
- Re-ranking: 500 stories with MiniLM vectors, a profile with interests, likes and hides: milliseconds
  per :func:`engines.news.rank` call, beside the time to embed those 500 stories again.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.common import Anchor, Record
from engines import news

ENGINE = "news"
BBC = "bbc-news"
FEEDS = "20 local feeds, 0.2 s each"
RANK = "500 BBC stories"
SAMPLE = "bundled sample (107 articles, 89 stories)"
MODELS = (news.PipelineName.TFIDF_SVM, news.PipelineName.TFIDF_LOGREG, news.PipelineName.COUNT_NB)
DESCRIPTIONS = {  # written once, before any zero-shot result was seen
    "business": "companies, markets, the economy, profits, jobs and trade",
    "entertainment": "films, music, television, celebrities, awards and the arts",
    "politics": "government, elections, parliament, ministers and political parties",
    "sport": "football, tennis, athletics, rugby, matches, players and championships",
    "tech": "technology, computers, the internet, software, phones and games",
}
ANCHORS = [
    Anchor(ENGINE, BBC, "issue 13 target", "accuracy", 0.97),
    Anchor(ENGINE, FEEDS, "issue 13 target (concurrent / sequential at most)", "ratio", 0.25),
    Anchor(ENGINE, RANK, "issue 13 target (re-rank 500 in well under)", "rank_ms", 100.0),
]


def fetch_timing(progress=print) -> list[Record]:
    """Sequential vs concurrent gathering of 20 delayed local feeds, in the same run."""
    from contextlib import ExitStack

    from tests import news_feeds as nf

    with ExitStack() as stack:
        servers = [stack.enter_context(nf.FeedServer(default_delay=0.2)) for _ in range(20)]
        sources = []
        for i, server in enumerate(servers):
            url = server.add("/feed.xml", nf.rss(nf.default_items(f"feed{i}", 5)))
            sources.append(news.Source(f"Feed {i}", url))
        base = news.FetchConfig(allow_private=True)  # defaults otherwise: robots.txt, 0.5 s per-origin interval
        one = news.FetchConfig(allow_private=True, max_workers=1)
        started = time.perf_counter()
        seq = news.refresh(sources, one)
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        con = news.refresh(sources, base)
        concurrent = time.perf_counter() - started
    ok = sum(h.status == "ok" for h in con.health) + sum(h.status == "ok" for h in seq.health)
    if ok != 40:
        raise RuntimeError(f"fixture feeds failed: {[h.error for h in con.health if h.error]}")
    progress(f"news: fetch 20 feeds: sequential {sequential:.2f} s, concurrent {concurrent:.2f} s")
    return [
        Record(ENGINE, FEEDS, "one after another (max_workers=1)", "seconds", sequential, False),
        Record(ENGINE, FEEDS, f"concurrent (max_workers={base.max_workers})", "seconds", concurrent, True),
        Record(ENGINE, FEEDS, f"concurrent (max_workers={base.max_workers})", "ratio", concurrent / sequential, True),
    ]


def dedupe_rows(progress=print) -> list[Record]:
    """Pairwise precision and recall of near-duplicate grouping on the bundled sample, three settings."""
    articles, stories = news.load_samples(), news.sample_stories()
    settings = {
        "TF-IDF cosine >= 0.5, shared name, no contradiction": news.DedupeConfig(),
        "TF-IDF cosine >= 0.5, shared name": news.DedupeConfig(refuse_conflicts=False),
        "TF-IDF cosine >= 0.5 only": news.DedupeConfig(require_shared_name=False, refuse_conflicts=False),
    }
    records = []
    for label, config in settings.items():
        scores = news.pair_agreement(news.cluster(articles, config), stories)
        progress(
            f"news: grouping, {label}: pair precision {scores['pair_precision']:.3f}, recall {scores['pair_recall']:.3f}"
        )
        records += [Record(ENGINE, SAMPLE, label, k, v, config == news.DedupeConfig()) for k, v in scores.items()]
    return records


def run(data_dir: Path, seeds: int = 1, progress=print) -> tuple[list[Record], list[Anchor]]:
    """All news benchmarks; the BBC rows are left out (with a message) when the dataset is absent."""
    records = fetch_timing(progress) + dedupe_rows(progress)
    path = data_dir / BBC / "bbc-news.csv"
    if not path.is_file():
        progress(f"news: {path} not found: BBC News categorisation and ranking rows skipped")
        return records, ANCHORS[1:2]
    frame = news.read_bbc(path)
    repeats = max(1, min(seeds, 2))
    for name in MODELS:
        runs = [news.cross_validate(frame, name, folds=5, seed=s) for s in range(repeats)]
        title = news.PIPELINES[name]["title"]
        means = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        progress(f"news: {title}: accuracy {means['accuracy']:.4f}")
        records += [
            Record(ENGINE, BBC, f"{title}, 5-fold CV x{repeats}", metric, value, name is news.DEFAULT_PIPELINE)
            for metric, value in means.items()
        ]
    records += zero_shot_and_rank(frame, progress)
    return records, ANCHORS


def zero_shot_and_rank(frame, progress=print) -> list[Record]:
    """MiniLM zero-shot accuracy on BBC News, then re-ranking speed on 500 of its stories."""
    from sklearn.metrics import accuracy_score, f1_score

    from engines.core.embeddings import load_encoder

    encoder, resolved = load_encoder()
    if encoder is None:
        progress(f"news: MiniLM not available ({resolved.notice}); zero-shot rows skipped")
        return []
    heads = [t.split("\n", 1) for t in frame["text"]]
    leads = [f"{h[0]}. {h[-1].strip()[:600]}" for h in heads]  # headline + lead, as feed items carry
    started = time.perf_counter()
    vectors = encoder.encode(leads)
    embed_s = time.perf_counter() - started
    truth = frame["category"].to_numpy()
    records = []
    for label, topics in (
        ("names", [news.Topic(c) for c in news.CATEGORIES]),
        ("names + one-line descriptions", [news.Topic(c, DESCRIPTIONS[c]) for c in news.CATEGORIES]),
    ):
        predicted = news.zero_shot_classify(vectors, topics, encoder)
        acc = float(accuracy_score(truth, predicted))
        progress(f"news: MiniLM zero-shot ({label}): accuracy {acc:.4f}")
        records += [
            Record(ENGINE, BBC, f"MiniLM zero-shot, {label} (all 2,225)", "accuracy", acc, False),
            Record(
                ENGINE,
                BBC,
                f"MiniLM zero-shot, {label} (all 2,225)",
                "macro_f1",
                float(f1_score(truth, predicted, average="macro")),
                False,
            ),
        ]
    # ---- re-ranking speed: 500 stories, MiniLM vectors, a profile with interests, likes and hides
    n = 500
    now = datetime(2005, 1, 1, tzinfo=UTC)
    articles = [
        news.Article(
            id=f"bbc-{i}",
            title=leads[i].split(". ", 1)[0],
            link="",
            source=f"BBC {truth[i]}",
            published=datetime.fromtimestamp(now.timestamp() - 3600 * (i % 72), tz=UTC),
            summary=leads[i][:300],
            category=str(truth[i]),
            category_score=0.9,
        )
        for i in range(n)
    ]
    index = news.ArticleIndex(
        clusters=tuple(news.Cluster(a) for a in articles),
        articles=tuple(articles),
        vectors=np.asarray(vectors[:n], dtype=np.float32),
        summaries=tuple(a.summary for a in articles),
        encoder_name="MiniLM",
    )
    profile = news.Profile(
        interests=("tech", "sport"), liked=frozenset({"bbc-3", "bbc-40"}), hidden=frozenset({"bbc-7"})
    )
    times = []
    for limit in (50, None):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            news.rank(index, profile, now, news.RankConfig(limit=limit))
            times.append((time.perf_counter() - started) * 1000)
        label = "top 50" if limit else "all 500"
        progress(f"news: rank 500 stories ({label}): median {statistics.median(times):.1f} ms")
        records.append(Record(ENGINE, RANK, f"rank(), {label}", "rank_ms", statistics.median(times), limit == 50))
    records.append(
        Record(
            ENGINE,
            RANK,
            "re-embedding 500 stories with MiniLM (peer)",
            "rank_ms",
            embed_s * 1000 * n / len(leads),
            False,
        )
    )
    return records
