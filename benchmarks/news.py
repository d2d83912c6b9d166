"""News aggregator: categorisation on BBC News, zero-shot topics, concurrent fetching, re-ranking speed.

- BBC News (Greene & Cunningham 2006), 5-fold stratified CV (repeated ``min(seeds, 2)`` times with
  different shuffles): our default (TF-IDF words + bigrams, complement naive Bayes, each article learnt
  whole and as its lead; chosen on another outlet's news, below), the calibrated linear SVM it replaced
  (the best on BBC itself), TF-IDF + logistic regression, and the plain CountVectorizer + multinomial
  naive Bayes peer, side by side. Zero-shot MiniLM (cosine to the category names, then to names with a one-line
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
- Another outlet (issue 28): AG News rows from ``ag-news-dev/`` (5,600 stories, World/Sports/Business/Sci-Tech),
  split once, stratified by label with seed 0, into a dev part (2,800) that every setting was tuned on and a test
  part (2,800) reported on. Each categoriser is trained on BBC News (the stratified 80% ``train`` uses, seed 0) and
  reads an AG story as a feed item (headline and description, AG's escapes undone). Mappings: Sports -> sport,
  Business -> business, Sci/Tech -> tech; World has no BBC class, and is counted as politics in the 4-way row
  (its nearest class: most World stories are politics abroad) and left out of the 3-way row, which scores the
  classifier's own five-way answer on the Sports, Business and Sci/Tech stories. Beside them: today's calibrated
  SVM (the default before issue 28), TF-IDF + multinomial naive Bayes on the same data (the peer), and ours.
  Invented topics: MiniLM cosines of AG stories with eight topics (the four AG classes by name, and by name plus a
  description written before any cosine was seen), mean one-vs-rest F1 and share of stories given a topic at the
  old threshold (0.3) and at ``news.categorise.TOPIC_THRESHOLD``, picked on the dev part.
  Where MiniLM is installed, two rows that are not shipped show what embeddings would add: logistic regression on
  MiniLM embeddings of the BBC leads, alone and averaged with our categoriser (settings picked on the dev part).
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
MODELS = tuple(news.PipelineName)  # ours (complement NB) first, then the SVM it replaced, logreg, count NB
DESCRIPTIONS = {  # written once, before any zero-shot result was seen
    "business": "companies, markets, the economy, profits, jobs and trade",
    "entertainment": "films, music, television, celebrities, awards and the arts",
    "politics": "government, elections, parliament, ministers and political parties",
    "sport": "football, tennis, athletics, rugby, matches, players and championships",
    "tech": "technology, computers, the internet, software, phones and games",
}
AG = "ag-news-dev"
AG_SPLIT_SEED = 0  # fixed once: dev part to tune on, test part to report on
AG_CLASSES = {"1": "politics", "2": "sport", "3": "business", "4": "tech"}  # World -> politics (4-way row only)
AG_TOPICS = {  # written before any cosine was seen
    "1": ("World news", "international affairs, wars, diplomacy, elections abroad"),
    "2": ("Sport", "football, tennis, baseball, matches, players and championships"),
    "3": ("Business", "companies, markets, the economy, profits, jobs and trade"),
    "4": ("Science and technology", "computers, the internet, software, space and research"),
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
    records += another_outlet(data_dir, frame, progress)
    records += zero_shot_and_rank(frame, progress, data_dir)
    return records, ANCHORS


def ag_clean(text: str) -> str:
    """AG's CSV escapes undone: a backslash for a line break, #36; for $, #39; for an apostrophe."""
    text = text.replace("\\", " ").replace(" #36;", " $").replace("#36;", "$").replace("#39;", "'")
    return " ".join(text.replace("quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").split())


def read_ag(data_dir: Path):
    """The AG News dev stories as feed leads, split into (dev part, test part); None when absent."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    path = data_dir / AG / "ag_news_dev.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["lead"] = [
        news.Article("", ag_clean(t), "", "AG", None, ag_clean(d)).lead
        for t, d in zip(frame["title"], frame["description"], strict=True)
    ]
    dev, test = train_test_split(frame, test_size=0.5, stratify=frame["label"], random_state=AG_SPLIT_SEED)
    return {"dev": dev, "test": test}


def ag_scores(predicted, part) -> dict[str, float]:
    """4-way (World as politics) and 3-way (Sports, Business, Sci/Tech) accuracy, and sci/tech recall."""
    predicted = np.asarray(predicted, dtype=object)
    truth = part["label"].map(AG_CLASSES).to_numpy(dtype=object)
    three = part["label"].to_numpy() != "1"
    tech = part["label"].to_numpy() == "4"
    return {
        "accuracy_4way": float((predicted == truth).mean()),
        "accuracy_3way": float((predicted[three] == truth[three]).mean()),
        "scitech_recall": float((predicted[tech] == "tech").mean()),
    }


def another_outlet(data_dir: Path, frame, progress=print, parts=("dev", "test")) -> list[Record]:
    """Categorisers trained on BBC News, scored on AG News stories (another outlet)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    ag = read_ag(data_dir)
    if ag is None:
        progress(f"news: {data_dir / AG} not found: another-outlet rows skipped")
        return []
    config = news.CategoriserConfig()
    x_train, _, y_train, _ = train_test_split(
        frame["text"].tolist(), frame["category"], test_size=config.test_size, stratify=frame["category"],
        random_state=config.seed,
    )  # fmt: skip
    peer = Pipeline([("tfidf", TfidfVectorizer()), ("nb", MultinomialNB())]).fit(x_train, y_train)
    models = {
        "TF-IDF + multinomial naive Bayes (peer)": (peer.predict, False),
        f"{news.PIPELINES[news.PipelineName.TFIDF_SVM]['title']} (before issue 28)": (
            _predictor(news.train(news.CategoriserConfig(pipeline=news.PipelineName.TFIDF_SVM), frame)),
            False,
        ),
        news.PIPELINES[news.DEFAULT_PIPELINE]["title"]: (_predictor(news.train(config, frame)), True),
    }
    records = []
    for part in parts:
        dataset = f"AG News {part} part ({len(ag[part]):,}), trained on BBC"
        for label, (predict, default) in models.items():
            scores = ag_scores(predict(ag[part]["lead"].tolist()), ag[part])
            progress(f"news: {dataset}: {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
            records += [Record(ENGINE, dataset, label, k, v, default) for k, v in scores.items()]
    return records


def _predictor(model):
    return lambda texts: [p.category for p in model.predict(texts)]


def embedding_rows(frame, vectors, ag: dict, ag_vectors: dict, progress=print) -> list[Record]:
    """Not the default: MiniLM embeddings of BBC leads + logistic regression, alone and averaged with ours.

    C=3 and the equal weights were picked on the AG dev part (C among 0.3, 1, 3, 10, 30; weights 0.5, 0.7, 0.85).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    config = news.CategoriserConfig()
    rows = np.arange(len(frame))
    train_rows, _ = train_test_split(
        rows, test_size=config.test_size, stratify=frame["category"], random_state=config.seed
    )
    labels = frame["category"].to_numpy(dtype=object)
    head = LogisticRegression(C=3.0, max_iter=3000).fit(vectors[train_rows], labels[train_rows])
    ours = news.train(config, frame)
    assert tuple(head.classes_) == ours.classes_
    records = []
    for part, part_vectors in ag_vectors.items():
        dataset = f"AG News {part} part ({len(ag[part]):,}), trained on BBC"
        embedded = head.predict_proba(part_vectors)
        averaged = 0.5 * embedded + 0.5 * ours.probabilities(ag[part]["lead"].tolist())
        for label, probs in (
            ("MiniLM embeddings + logistic regression (not shipped)", embedded),
            ("MiniLM + LR averaged with ours (not shipped)", averaged),
        ):
            scores = ag_scores(head.classes_[probs.argmax(axis=1)], ag[part])
            progress(f"news: {dataset}: {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
            records += [Record(ENGINE, dataset, label, k, v, False) for k, v in scores.items()]
    return records


def topic_rows(vectors: dict, ag: dict, encoder, progress=print) -> list[Record]:
    """Mean one-vs-rest F1 of eight invented topics on AG stories at the old and the calibrated threshold."""
    topics = [(label, prompt) for label, (name, about) in AG_TOPICS.items() for prompt in (name, f"{name}|{about}")]
    prompts = [news.Topic(*p.split("|")).prompt for _, p in topics]
    topic_vectors = np.asarray(encoder.encode(prompts), dtype=np.float32)
    records = []
    for part, rows in vectors.items():
        cosines = np.asarray(rows, dtype=np.float32) @ topic_vectors.T
        labels = ag[part]["label"].to_numpy()
        dataset = f"AG News {part} part ({len(labels):,}), invented topics"
        for threshold in (0.3, news.categorise.TOPIC_THRESHOLD):
            f1 = []
            for j, (label, _) in enumerate(topics):
                hit, truth = cosines[:, j] >= threshold, labels == label
                tp = float((hit & truth).sum())
                f1.append(2 * tp / (hit.sum() + truth.sum()) if tp else 0.0)
            share = float((cosines >= threshold).any(axis=1).mean())
            model = f"MiniLM cosine >= {threshold:g}"
            progress(f"news: {dataset}: {model}: mean F1 {np.mean(f1):.4f}, stories with a topic {share:.4f}")
            default = threshold == news.categorise.TOPIC_THRESHOLD
            records += [
                Record(ENGINE, dataset, model, "topic_mean_f1", float(np.mean(f1)), default),
                Record(ENGINE, dataset, model, "share_with_topic", share, default),
            ]
    return records


def zero_shot_and_rank(frame, progress=print, data_dir: Path | None = None) -> list[Record]:
    """MiniLM zero-shot accuracy on BBC News (and invented topics on AG News), then re-ranking speed."""
    from sklearn.metrics import accuracy_score, f1_score

    from engines.core.embeddings import load_encoder

    encoder, resolved = load_encoder()
    if encoder is None:
        progress(f"news: MiniLM not available ({resolved.notice}); zero-shot rows skipped")
        return []
    ag = read_ag(data_dir) if data_dir is not None else None
    ag_vectors = {} if ag is None else {p: encoder.encode(ag[p]["lead"].tolist()) for p in ag}
    records = [] if ag is None else topic_rows(ag_vectors, ag, encoder, progress)
    heads = [t.split("\n", 1) for t in frame["text"]]
    leads = [f"{h[0]}. {h[-1].strip()[:600]}" for h in heads]  # headline + lead, as feed items carry
    started = time.perf_counter()
    vectors = encoder.encode(leads)
    embed_s = time.perf_counter() - started
    if ag is not None:
        records += embedding_rows(frame, vectors, ag, ag_vectors, progress)
    truth = frame["category"].to_numpy()
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
