"""The reader's profile and the ranking: relevance, recency and diversity, each part shown.

:func:`rank` is a pure function of an :class:`~engines.news.index.ArticleIndex`, a
:class:`Profile`, the time and a :class:`RankConfig`: nothing is embedded or trained, so a
like or a hide re-ranks the feed at once (500 stories in a few milliseconds).

score = relevance_weight x relevance + recency_weight x recency + coverage_weight x coverage
        - diversity x (cosine to the most similar story ranked above it)   [greedy MMR,
          Carbonell & Goldstein 1998]

relevance mixes the reader's interests (categories and invented topics), similarity to the
stories they liked and dissimilarity to the ones they hid; recency halves every
``half_life_hours``; coverage grows with the number of outlets telling the story.

Chosen interests dominate: when the reader follows interests, every story that matches one (its
category with at least ``min_category_score`` probability, or an invented topic past its threshold)
is ranked before every story that does not; the score and MMR order each of the two groups. A score
alone cannot promise that: a fresh story carried by many outlets outscores an older story of the
followed category whatever the weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from engines.core.errors import InputError
from engines.news.categorise import Topic, check_topics
from engines.news.feeds import Article
from engines.news.index import ArticleIndex

MAX_INTERESTS = 30  # categories plus invented topics a reader follows


@dataclass(frozen=True)
class Profile:
    """What the reader wants: interests, likes, hides and invented topics.

    Attributes:
        interests: Followed category names (e.g. "sport") and invented topic names.
        liked: Ids of liked articles (stories like them move up).
        hidden: Ids of hidden articles (removed, and stories like them move down).
        topics: The reader's invented topics (their names may be followed in ``interests``).
        muted_sources: Source names whose articles are left out.
    """

    interests: tuple[str, ...] = ()
    liked: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    topics: tuple[Topic, ...] = ()
    muted_sources: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        interests = tuple(dict.fromkeys(" ".join(str(i).split()) for i in self.interests if str(i).strip()))
        if len(interests) > MAX_INTERESTS:
            raise InputError(f"{len(interests)} interests given; follow at most {MAX_INTERESTS}.")
        object.__setattr__(self, "interests", interests)
        object.__setattr__(self, "topics", check_topics(self.topics))
        for name in ("liked", "hidden", "muted_sources"):
            object.__setattr__(self, name, frozenset(str(v) for v in getattr(self, name)))

    def like(self, article_id: str) -> Profile:
        """A copy with ``article_id`` liked (and no longer hidden)."""
        return replace(self, liked=self.liked | {article_id}, hidden=self.hidden - {article_id})

    def hide(self, article_id: str) -> Profile:
        """A copy with ``article_id`` hidden (and no longer liked)."""
        return replace(self, hidden=self.hidden | {article_id}, liked=self.liked - {article_id})

    def forget(self, article_id: str) -> Profile:
        """A copy with ``article_id`` neither liked nor hidden."""
        return replace(self, liked=self.liked - {article_id}, hidden=self.hidden - {article_id})

    def follow(self, *names: str) -> Profile:
        """A copy following ``names`` too."""
        return replace(self, interests=(*self.interests, *names))

    def unfollow(self, *names: str) -> Profile:
        """A copy no longer following ``names``."""
        drop = {n.lower() for n in names}
        return replace(self, interests=tuple(i for i in self.interests if i.lower() not in drop))

    @property
    def is_empty(self) -> bool:
        """No interests and no likes: the feed is ranked by recency and coverage only."""
        return not self.interests and not self.liked


@dataclass(frozen=True)
class RankConfig:
    """How the feed is ordered.

    Attributes:
        relevance_weight: Weight of relevance (0..1) in the score.
        recency_weight: Weight of recency (1 now, 0.5 one half-life ago, 0 for undated).
        coverage_weight: Weight of coverage (0 for one outlet, 1 for the most covered story).
        half_life_hours: Age at which recency halves.
        diversity: MMR penalty per unit of cosine to the most similar story ranked above.
        max_per_category: At most this many stories of one category (None: no cap).
        max_per_source: At most this many stories of one outlet (None: no cap).
        like_weight: Share of relevance from similarity to liked stories when interests exist too.
        hide_penalty: Relevance taken away per unit of (rescaled) similarity to hidden stories.
        limit: Stories returned (None: all).
        interests_first: With interests followed, stories matching one come before all others.
        min_category_score: A followed category matches a story only when the classifier gives it at least
            this probability (a story it is unsure about is not promoted into the reader's group).
    """

    relevance_weight: float = 0.55  # what you asked for matters most...
    recency_weight: float = 0.3  # ...then freshness...
    coverage_weight: float = 0.15  # ...then how many outlets carry the story
    half_life_hours: float = 24.0  # news a day old is half as fresh
    diversity: float = 0.3  # a story 0.8-similar to one above loses 0.24: enough to interleave topics
    max_per_category: int | None = None  # MMR already spreads categories; a hard cap is the reader's choice
    max_per_source: int | None = None  # same for outlets
    like_weight: float = 0.4  # interests stay the main signal; likes refine them
    hide_penalty: float = 0.6  # hiding one story clearly demotes close copies of it
    limit: int | None = 50  # a screenful or three; None ranks everything
    interests_first: bool = True  # a Sport-only reader sees sport first, however fresh the rest
    min_category_score: float = 0.3  # as CategoriserConfig.min_confidence: below it no category leads

    def __post_init__(self) -> None:
        weights = (self.relevance_weight, self.recency_weight, self.coverage_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise InputError("Score weights must be 0 or more, and not all 0.")
        if self.half_life_hours <= 0:
            raise InputError(f"The half-life must be positive hours, got {self.half_life_hours}.")
        if not 0 <= self.min_category_score <= 1:
            raise InputError(f"min_category_score is a probability, between 0 and 1; got {self.min_category_score}.")
        if self.diversity < 0 or self.hide_penalty < 0 or not 0 <= self.like_weight <= 1:
            raise InputError("diversity and hide_penalty must be 0 or more, like_weight between 0 and 1.")
        for name in ("max_per_category", "max_per_source", "limit"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise InputError(f"{name} must be at least 1 (or None for no cap), got {value}.")


@dataclass(frozen=True)
class Ranked:
    """One story in the feed and why it is there.

    Attributes:
        rank: 1 for the top story.
        article: The representative article (its ``category`` set by the classifier).
        summary: A short summary.
        score: The final score (the sum below).
        relevance: 0..1: interests, likes and hides combined.
        recency: 0..1: 0.5 ** (age / half-life); 0 when the date is unknown.
        coverage: 0..1: outlets telling this story, relative to the most covered story.
        diversity_penalty: What MMR took away for resemblance to stories ranked above.
        interest: 0..1: match with followed categories and topics.
        like_similarity: Highest cosine with a liked story (0 without likes).
        hide_similarity: Highest cosine with a hidden story (0 without hides).
        topics: Invented topics the story is about, best first.
        other_sources: Other outlets telling the same story.
        similar_to: Title of the story above that caused the diversity penalty ("" when none).
        age_hours: Hours since publication (None when unknown).
        why: Human-readable reasons, most important first.
    """

    rank: int
    article: Article
    summary: str
    score: float
    relevance: float
    recency: float
    coverage: float
    diversity_penalty: float
    interest: float
    like_similarity: float
    hide_similarity: float
    topics: tuple[str, ...]
    other_sources: tuple[str, ...]
    similar_to: str
    age_hours: float | None
    why: tuple[str, ...]

    @property
    def components(self) -> dict[str, float]:
        """The score's parts before weighting (each 0..1) and the diversity penalty.

        The score is ``RankConfig``'s weights times the first three, minus the penalty.
        """
        return {
            "relevance": self.relevance,
            "recency": self.recency,
            "coverage": self.coverage,
            "diversity penalty": -self.diversity_penalty,
        }


def _age_text(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} min ago"
    if hours < 48:
        return f"{round(hours)} h ago"
    return f"{round(hours / 24)} days ago"


def _max_cos(vectors: np.ndarray, rows: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """Highest cosine of every row with ``rows`` (itself excluded), and which of ``rows`` it is."""
    rows = list(rows)
    n = vectors.shape[0]
    if not rows:
        return np.zeros(n, dtype=np.float32), np.full(n, -1)
    sims = vectors @ vectors[rows].T
    sims[rows, np.arange(len(rows))] = -1.0  # an article is not "like itself"
    best = np.argmax(sims, axis=1)
    return np.clip(sims[np.arange(n), best], 0.0, 1.0), np.asarray(rows)[best]


def check_interests(index: ArticleIndex, profile: Profile) -> None:
    """Raise InputError for interests that are neither a category nor one of the profile's topics."""
    from engines.news.categorise import CATEGORIES

    known = {c.lower() for c in (*CATEGORIES, *index.categories)} | {t.name.lower() for t in profile.topics}
    unknown = [i for i in profile.interests if i.lower() not in known]
    if unknown:
        valid = sorted({*CATEGORIES, *index.categories, *(t.name for t in profile.topics)})
        raise InputError(
            f"Unknown interest(s) {', '.join(map(repr, unknown))}; choose from {', '.join(valid)} or add a topic."
        )


def rank(index: ArticleIndex, profile: Profile, now: datetime, config: RankConfig | None = None) -> list[Ranked]:
    """Order the stories of ``index`` for ``profile`` at time ``now``.

    Args:
        index: From :func:`engines.news.index.build_index` (with the profile's topics scored:
            :meth:`ArticleIndex.with_topics`).
        profile: Interests, likes, hides, topics.
        now: The reference time (timezone-aware; naive times are taken as UTC).
        config: Weights, half-life, diversity, caps, limit.

    Returns:
        The feed, best first, each entry with its score components and reasons.

    Raises:
        InputError: for unknown interests, or profile topics the index has not scored.
    """
    config = config or RankConfig()
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    check_interests(index, profile)
    scored = {t.name.lower(): i for i, t in enumerate(index.topics)}
    missing = [
        t.name for t in profile.topics if t.name.lower() not in scored or index.topics[scored[t.name.lower()]] != t
    ]
    if missing:
        raise InputError(
            f"Topic(s) {', '.join(missing)} are not scored yet: call index.with_topics(profile.topics, encoder)."
        )
    n = len(index)
    if n == 0:
        return []
    vectors = index.vectors
    articles = index.articles
    pos = {a.id: i for i, a in enumerate(articles)}
    for i, c in enumerate(index.clusters):  # a like or hide of a grouped version counts for its story
        for o in c.others:
            pos.setdefault(o.id, i)
    liked_rows = sorted({pos[i] for i in profile.liked if i in pos})
    hidden_rows = sorted({pos[i] for i in profile.hidden if i in pos})

    # ---- recency
    stamps = np.array([a.published.timestamp() if a.published else np.nan for a in articles], dtype=np.float64)
    ages = (now.timestamp() - stamps) / 3600.0
    recency = np.where(np.isnan(ages), 0.0, 0.5 ** (np.clip(ages, 0.0, None) / config.half_life_hours))

    # ---- coverage
    outlets = np.array([len(c.sources) for c in index.clusters], dtype=np.float64)
    top = outlets.max()
    coverage = np.log(outlets) / np.log(top) if top > 1 else np.zeros(n)

    # ---- interest: categories (classifier probability) and invented topics (cosine past the threshold)
    follow = {i.lower() for i in profile.interests}
    interest = np.zeros(n)
    matched = np.zeros(n, dtype=bool)  # matches a followed interest: ranked before the rest
    interest_reason: list[str] = [""] * n
    for row, a in enumerate(articles):
        if a.category and a.category.lower() in follow:
            interest[row] = a.category_score if a.category_score is not None else 1.0
            share = f" ({a.category_score:.0%} sure)" if a.category_score is not None else ""
            matched[row] = interest[row] >= config.min_category_score
            unsure = "" if matched[row] else ", too unsure to put it first"
            interest_reason[row] = f"Matches your interest: {a.category}{share}{unsure}"
    for j, topic in enumerate(index.topics):
        if topic.name.lower() not in follow:
            continue
        cos = index.topic_scores[:, j]
        strength = np.where(cos >= topic.threshold, np.clip(0.5 + (cos - topic.threshold) * 2.5, 0.5, 1.0), 0.0)
        better = strength > interest
        for row in np.flatnonzero(better):
            interest_reason[row] = f"About your topic “{topic.name}” (similarity {cos[row]:.2f})"
        interest = np.maximum(interest, strength)
        matched |= strength > 0

    # ---- likes and hides
    like_sim, like_of = _max_cos(vectors, liked_rows)
    hide_sim, hide_of = _max_cos(vectors, hidden_rows)
    like_part = np.clip((like_sim - 0.2) / 0.6, 0.0, 1.0) if liked_rows else np.zeros(n)
    like_part[liked_rows] = 1.0  # a liked story is as liked as can be: liking it never moves it down
    hide_part = np.clip((hide_sim - 0.3) / 0.5, 0.0, 1.0) if hidden_rows else np.zeros(n)
    if profile.interests and liked_rows:
        relevance = (1 - config.like_weight) * interest + config.like_weight * like_part
    elif liked_rows:
        relevance = like_part
    elif profile.interests:
        relevance = interest
    else:
        relevance = np.full(n, 0.5)  # no signal yet: everyone is equally relevant
    relevance = np.clip(relevance - config.hide_penalty * hide_part, 0.0, 1.0)

    base = config.relevance_weight * relevance + config.recency_weight * recency + config.coverage_weight * coverage

    # ---- who may appear
    muted = {s.lower() for s in profile.muted_sources}
    hidden_set = set(hidden_rows)
    eligible = np.array(
        [row not in hidden_set and a.source.lower() not in muted for row, a in enumerate(articles)], dtype=bool
    )
    limit = n if config.limit is None else min(config.limit, n)
    # matching stories first: an MMR value lies within [-diversity, sum of the weights], so this step orders the groups
    step = config.relevance_weight + config.recency_weight + config.coverage_weight + config.diversity + 1.0
    first = step * matched if config.interests_first and profile.interests else np.zeros(n)

    # ---- greedy MMR with optional caps
    chosen: list[tuple[int, float, int]] = []
    max_sim = np.zeros(n, dtype=np.float32)
    near = np.full(n, -1)
    per_category: dict[str, int] = {}
    per_source: dict[str, int] = {}
    available = eligible.copy()
    while len(chosen) < limit and available.any():
        mmr = np.where(available, first + base - config.diversity * max_sim, -np.inf)
        best = int(np.argmax(mmr))
        available[best] = False
        a = articles[best]
        if config.max_per_category is not None and per_category.get(a.category or "", 0) >= config.max_per_category:
            continue
        if config.max_per_source is not None and per_source.get(a.source, 0) >= config.max_per_source:
            continue
        per_category[a.category or ""] = per_category.get(a.category or "", 0) + 1
        per_source[a.source] = per_source.get(a.source, 0) + 1
        chosen.append((best, float(config.diversity * max_sim[best]), int(near[best])))
        sims = np.clip(vectors @ vectors[best], 0.0, 1.0)
        closer = sims > max_sim
        near[closer] = best
        max_sim = np.maximum(max_sim, sims)

    feed = []
    liked_set = set(liked_rows)
    for place, (row, penalty, near_row) in enumerate(chosen, start=1):
        a = articles[row]
        cluster = index.clusters[row]
        age = None if np.isnan(ages[row]) else float(ages[row])
        why: list[str] = []
        if interest_reason[row]:
            why.append(interest_reason[row])
        if row in liked_set:
            why.append("You liked this story")
        elif liked_rows and like_part[row] > 0:
            why.append(f"Like a story you liked: “{articles[like_of[row]].title}” (similarity {like_sim[row]:.2f})")
        if hidden_rows and hide_part[row] > 0:
            why.append(f"Moved down: resembles a story you hid, “{articles[hide_of[row]].title}”")
        if profile.is_empty:
            why.append("No interests or likes yet: ranked by freshness and coverage")
        why.append(
            f"Published {_age_text(max(age, 0.0))}" if age is not None else "Date unknown: not boosted as recent"
        )
        if cluster.other_sources:
            why.append(f"Covered by {len(cluster.sources)} outlets: {', '.join(cluster.sources)}")
        if penalty >= 0.05 and near_row >= 0:
            why.append(f"Moved down for variety: close to “{articles[near_row].title}” above")
        topics = index.topics_of(row)
        feed.append(
            Ranked(
                rank=place,
                article=a,
                summary=index.summaries[row],
                score=round(float(base[row]) - penalty, 4),
                relevance=round(float(relevance[row]), 4),
                recency=round(float(recency[row]), 4),
                coverage=round(float(coverage[row]), 4),
                diversity_penalty=round(penalty, 4),
                interest=round(float(interest[row]), 4),
                like_similarity=round(float(like_sim[row]), 4),
                hide_similarity=round(float(hide_sim[row]), 4),
                topics=topics,
                other_sources=cluster.other_sources,
                similar_to=articles[near_row].title if penalty >= 0.05 and near_row >= 0 else "",
                age_hours=None if age is None else round(age, 2),
                why=tuple(why),
            )
        )
    return feed


def feed_frame(feed: list[Ranked]) -> pd.DataFrame:
    """The feed as a table: one row per story with its score components."""
    return pd.DataFrame(
        [
            {
                "rank": r.rank,
                "title": r.article.title,
                "source": r.article.source,
                "category": r.article.category,
                "topics": ", ".join(r.topics),
                "score": r.score,
                "relevance": r.relevance,
                "recency": r.recency,
                "coverage": r.coverage,
                "diversity_penalty": r.diversity_penalty,
                "other_sources": ", ".join(r.other_sources),
                "id": r.article.id,
            }
            for r in feed
        ]
    )
