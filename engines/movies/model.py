"""The movie recommender: fit every algorithm, blend them, evaluate side by side, serve new users."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from engines.core.artifacts import ArtifactStore, EngineCache
from engines.core.card import ModelCard
from engines.core.data_sources import ResolvedDataset
from engines.core.errors import InputError
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress, null_progress, scaled
from engines.movies.algorithms import (
    EASE,
    SVD,
    Algorithm,
    Content,
    ItemKNNBaseline,
    Popularity,
    RatingMatrix,
    SVDpp,
    UserCosine,
)
from engines.movies.data import GENRES, MovieData, clean_new_ratings, sample_dataset

ENGINE = "movies"
ENGINE_VERSION = 1
TOP_K = 10
LIKED = 4.0  # stars at or above which a rating counts as "liked" in explanations
RATING_BASES = ("popularity", "user_cosine", "item_knn", "svd", "svdpp", "content")


@dataclass(frozen=True)
class MovieConfig:
    """What to fit. ``svdpp=False`` leaves the slow SVD++ out (a faster, slightly less accurate hybrid)."""

    seed: int = 0
    svdpp: bool = True
    test_share: float = 0.25  # per-user stratified held-out share for the comparison table
    blend_share: float = 0.1  # per-user share of the training ratings the blender learns from


def stratified_mask(m: RatingMatrix, keep: float, seed: int) -> np.ndarray:
    """True for ``keep`` of each user's ratings (at least one kept, at least one held out when possible)."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(m.u)), m.u))
    counts = m.user_counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(m.u), dtype=np.int64)
    rank[order] = np.arange(len(m.u)) - np.repeat(starts, counts)
    n_keep = np.clip(np.rint(counts * keep), 1, np.maximum(counts - 1, 1))
    return rank < n_keep[m.u]


def item_features(movies: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Movie vectors for content-based filtering: genres, decade, title words (LSA of TF-IDF)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    genres = movies[list(GENRES)].to_numpy(float)
    genres /= np.sqrt(np.maximum(genres.sum(1, keepdims=True), 1))
    year = movies["year"].fillna(movies["year"].median()).to_numpy()
    decades = np.clip(((year - 1920) // 10).astype(int), 0, 8)
    decade = np.eye(9)[decades] * 0.5
    titles = [re.sub(r"\(\d{4}\)\s*$", "", t) for t in movies["title"]]
    words = TfidfVectorizer(stop_words="english", min_df=2).fit(titles) if len(titles) > 20 else None
    if words is not None and len(words.vocabulary_) > 20:
        tfidf = words.transform(titles)
        lsa = TruncatedSVD(n_components=min(16, tfidf.shape[1] - 1), random_state=seed).fit_transform(tfidf)
    else:
        lsa = np.zeros((len(titles), 0))
    return np.hstack([genres, decade, 0.5 * lsa])


def fit_bases(m: RatingMatrix, features: np.ndarray, config: MovieConfig, progress: Progress) -> dict[str, Algorithm]:
    """Fit every single algorithm on ``m``."""
    algos: list[Algorithm] = [Popularity(), UserCosine(), ItemKNNBaseline(), SVD(seed=config.seed)]
    if config.svdpp:
        algos.append(SVDpp(seed=config.seed))
    algos += [Content(), EASE()]
    weights = np.array([10.0 if a.key == "svdpp" else 1.0 for a in algos])  # SVD++ takes most of the time
    ends = np.cumsum(weights) / weights.sum()
    fitted: dict[str, Algorithm] = {}
    for algo, start, end in zip(algos, np.concatenate([[0], ends[:-1]]), ends, strict=True):
        progress(float(start), f"Fitting {algo.title}")
        fitted[algo.key] = algo.fit(m, features, scaled(progress, float(start), float(end)))
    return fitted


class Hybrid(Algorithm):
    """A stacked blend of the rating models, and a ranking that adds predicted stars to EASE."""

    key = "hybrid"
    title = "Hybrid (stacked blend)"
    description = (
        "Stars: a ridge regression, learned on held-out ratings, over every model's prediction and how many "
        "ratings the user and movie have (trust CF more for well-known users and movies). Ranking: EASE's "
        "'will you watch it' score plus a learned share of the blended 'will you like it' stars."
    )

    def __init__(self, bases: dict[str, Algorithm], blender, gamma: float, user_counts, item_counts) -> None:
        self.bases, self.blender, self.gamma = bases, blender, gamma
        self.user_counts, self.item_counts = user_counts, item_counts

    @property
    def rating_keys(self) -> list[str]:
        """The bases whose stars are blended."""
        return [k for k in RATING_BASES if k in self.bases]

    @staticmethod
    def design(preds: list[np.ndarray], n_user: np.ndarray, n_item: np.ndarray) -> np.ndarray:
        """Blend inputs: predictions, predictions x log support, log supports."""
        p = np.column_stack(preds)
        lu, li = np.log1p(n_user)[:, None], np.log1p(n_item)[:, None]
        return np.hstack([p, p * lu / 5, p * li / 5, lu, li])

    def _blend(self, rows: list[np.ndarray], n_user: np.ndarray) -> np.ndarray:
        shape = rows[0].shape
        preds = [np.clip(r, 1, 5).ravel() for r in rows]
        users = np.repeat(n_user, shape[1])
        items = np.tile(self.item_counts, shape[0])
        return np.clip(self.blender.predict(self.design(preds, users, items)), 1, 5).reshape(shape)

    def predict_users(self, users):
        """Blended stars of every movie for known users."""
        rows = [self.bases[k].predict_users(users) for k in self.rating_keys]
        return self._blend(rows, self.user_counts[users])

    @staticmethod
    def _z(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-9)

    def combine(self, implicit: np.ndarray, stars: np.ndarray) -> np.ndarray:
        """Ranking score: standardised EASE score plus gamma x standardised predicted stars."""
        return self._z(implicit) + self.gamma * self._z(stars)

    def rank_users(self, users, stars=None):
        """EASE plus gamma x blended stars, for known users."""
        if stars is None:
            stars = self.predict_users(users)
        return self.combine(self.bases["ease"].rank_users(users), stars)

    def fold_in(self, items, stars):
        """Blended stars and ranking scores for a new user, from every base's fold-in."""
        rows = [self.bases[k].fold_in(items, stars)[0] for k in self.rating_keys]
        pred = self._blend([r[None, :] for r in rows], np.array([len(items)]))[0]
        implicit = self.bases["ease"].fold_in(items, stars)[1]
        return pred, self.combine(implicit, pred)


def _top_k(scores: np.ndarray, exclude_rows: list[np.ndarray], k: int) -> np.ndarray:
    scores = scores.copy()
    for row, cols in enumerate(exclude_rows):
        scores[row, cols] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
    return np.take_along_axis(top, order, 1)


def evaluate(
    algorithms: dict[str, Algorithm],
    train: RatingMatrix,
    test: RatingMatrix,
    k: int = TOP_K,
    progress: Progress = null_progress,
    batch: int = 128,
) -> pd.DataFrame:
    """Accuracy and ranking metrics of each algorithm on held-out ratings.

    Ranking: for each test user, the top ``k`` of the movies they did not rate in ``train``;
    a hit is a movie they rated in ``test`` (any stars), as in Microsoft Recommenders.
    Coverage: share of the catalogue that appears in at least one top-``k`` list. Novelty:
    mean self-information ``-log2(share of users who rated the movie)`` of recommended movies.
    """
    R = train.csr()
    T = test.csr()
    users = np.unique(test.u)
    seen = [R.getrow(u).indices for u in range(train.n_users)]
    relevant = [T.getrow(u).indices for u in range(test.n_users)]
    popularity = np.maximum(train.item_counts(), 1) / train.n_users
    discount = 1 / np.log2(np.arange(2, k + 2))
    rows = []
    for n, (key, algo) in enumerate(algorithms.items()):
        step = scaled(progress, n / len(algorithms), (n + 1) / len(algorithms))
        started = time.perf_counter()
        errors: list[np.ndarray] = []
        precision, recall, ndcg = [], [], []
        shown = np.zeros(train.n_items, dtype=bool)
        novelty = []
        for start in range(0, len(users), batch):
            chunk = users[start : start + batch]
            stars = algo.predict_users(chunk) if algo.rates else None
            scores = algo.rank_users(chunk, stars)
            if stars is not None:
                where = np.isin(test.u, chunk)
                pred = np.clip(stars[np.searchsorted(chunk, test.u[where]), test.i[where]], 1, 5)
                errors.append(pred - test.r[where])
            top = _top_k(scores, [seen[u] for u in chunk], k)
            for row, u in enumerate(chunk):
                hits = np.isin(top[row], relevant[u])
                precision.append(hits.sum() / k)
                recall.append(hits.sum() / len(relevant[u]))
                ideal = discount[: min(k, len(relevant[u]))].sum()
                ndcg.append((hits * discount).sum() / ideal)
            shown[top.ravel()] = True
            novelty.append(-np.log2(popularity[top.ravel()]))
            step(min(1.0, (start + batch) / len(users)), f"Evaluating {algo.title}")
        err = np.concatenate(errors) if errors else np.array([np.nan])
        rows.append(
            {
                "key": key,
                "algorithm": algo.title,
                "rmse": float(np.sqrt(np.mean(err**2))) if errors else np.nan,
                "mae": float(np.mean(np.abs(err))) if errors else np.nan,
                "precision_at_10": float(np.mean(precision)),
                "recall_at_10": float(np.mean(recall)),
                "ndcg_at_10": float(np.mean(ndcg)),
                "coverage": float(shown.mean()),
                "novelty": float(np.concatenate(novelty).mean()),
                "seconds": time.perf_counter() - started,
            }
        )
    return pd.DataFrame(rows).set_index("key")


def fit_blender(bases: dict[str, Algorithm], hold: RatingMatrix, inner: RatingMatrix, seed: int = 0):
    """Learn the hybrid's ridge blend and ranking share on ratings the bases did not see."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keys = [k for k in RATING_BASES if k in bases]
    preds = [bases[k].predict_pairs(hold.u, hold.i) for k in keys]
    n_user, n_item = inner.user_counts()[hold.u], inner.item_counts()[hold.i]
    blender = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 11)))
    blender.fit(Hybrid.design(preds, n_user, n_item), hold.r)
    # the ranking share: the gamma whose top-10 holds the most held-out movies the user liked
    # (hits on any rated movie reward "will watch" alone; liked ones also need "will like")
    probe = Hybrid(bases, blender, 0.0, inner.user_counts(), inner.item_counts())
    rng = np.random.default_rng(seed)
    users = np.unique(hold.u)
    users = np.sort(rng.choice(users, size=min(300, len(users)), replace=False))
    implicit = bases["ease"].rank_users(users)
    stars = probe.predict_users(users)
    R = inner.csr()
    H = hold.subset(hold.r >= LIKED).csr()
    best, best_hits = 0.0, -1
    for gamma in (0.0, 0.1, 0.2, 0.35, 0.5):
        top = _top_k(Hybrid._z(implicit) + gamma * Hybrid._z(stars), [R.getrow(u).indices for u in users], TOP_K)
        hits = sum(np.isin(top[row], H.getrow(u).indices).sum() for row, u in enumerate(users))
        if hits > best_hits:
            best, best_hits = gamma, hits
    return blender, best


def fit_hybrid(
    m: RatingMatrix,
    features: np.ndarray,
    config: MovieConfig,
    progress: Progress = null_progress,
    blend: tuple | None = None,
) -> dict[str, Algorithm]:
    """Every algorithm fitted on ``m``, plus the hybrid over them.

    The blend is learned on a held-out share of ``m`` (bases refitted without it) unless
    ``blend`` (a blender and gamma learned before) is given.
    """
    done = 0.0
    if blend is None:
        mask = stratified_mask(m, 1 - config.blend_share, config.seed + 1)
        inner, hold = m.subset(mask), m.subset(~mask)
        inner_bases = fit_bases(inner, features, config, scaled(progress, 0.0, 0.45))
        progress(0.45, "Learning the blend on held-out ratings")
        blend = fit_blender(inner_bases, hold, inner, config.seed)
        done = 0.5
    bases = fit_bases(m, features, config, scaled(progress, done, 1.0))
    bases["hybrid"] = Hybrid(bases, blend[0], blend[1], m.user_counts(), m.item_counts())
    return bases


@dataclass
class Recommendation:
    """One recommended movie, with why."""

    item: int
    title: str
    genres: tuple[str, ...]
    stars: float | None
    score: float
    because: tuple[str, ...] = ()


@dataclass
class MovieModel:
    """Everything the page needs, fitted on the whole dataset.

    Attributes:
        movies: The catalogue (title, year, genres, genre flags), indexed by item id.
        item_ids: Item id of each column index.
        algorithms: Key -> fitted algorithm (the hybrid included).
        features: Content vectors of the movies.
        counts: Ratings per movie; ``means``: average stars per movie.
        metrics_: Held-out comparison table (one row per algorithm).
        card_: The model card.
    """

    config: MovieConfig
    data_name: str
    movies: pd.DataFrame
    item_ids: np.ndarray
    algorithms: dict[str, Algorithm]
    features: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    n_users: int
    n_ratings: int
    comparison: pd.DataFrame
    metrics_: dict[str, float]
    card_: ModelCard
    train_seconds: float
    engine_version: int = ENGINE_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)

    # --- lookups -------------------------------------------------------------------------

    def index_of(self, items) -> np.ndarray:
        """Column indices of catalogue item ids.

        Raises:
            InputError: an id that is not in the catalogue.
        """
        ids = np.asarray(list(items), dtype=np.int64)
        cols = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
        unknown = ids[self.item_ids[cols] != ids] if len(ids) else ids
        if len(unknown):
            raise InputError(f"Movie id {int(unknown[0])} is not in the catalogue.")
        return cols

    def title(self, item: int) -> str:
        """The title of a catalogue item id."""
        return str(self.movies.at[item, "title"])

    def search(self, query: str, limit: int = 20) -> pd.DataFrame:
        """Movies whose title contains ``query`` (case-insensitive), most rated first."""
        table = self.catalogue()
        if query.strip():
            table = table[table["title"].str.lower().str.contains(query.strip().lower(), regex=False)]
        return table.sort_values("ratings", ascending=False).head(limit)

    def catalogue(self) -> pd.DataFrame:
        """Title, year, genres, number of ratings and average stars of every movie."""
        table = self.movies[["title", "year", "genres"]].copy()
        table["ratings"] = self.counts
        table["average"] = np.round(self.means, 2)
        return table

    # --- new users -----------------------------------------------------------------------

    def recommend(
        self, ratings: dict[int, float], algorithm: str = "hybrid", n: int = TOP_K, min_ratings: int = 0
    ) -> tuple[list[Recommendation], list[str]]:
        """Top-``n`` for a new visitor from their ratings, folded in without retraining.

        Returns:
            The recommendations and notes in words (cold start, all-equal ratings).

        Raises:
            InputError: unknown movie ids or stars out of range.
        """
        clean, notes = clean_new_ratings(ratings, self.movies)
        if not clean:
            return self.cold_start(n), [
                "No ratings yet: these are popular, well-rated movies from different genres. Rate a few to personalise."
            ]
        items = self.index_of(clean)
        stars = np.array(list(clean.values()), dtype=float)
        algo = self.algorithms[algorithm]
        predicted, scores = algo.fold_in(items, stars)
        scores = np.asarray(scores, dtype=float).copy()
        scores[items] = -np.inf
        if min_ratings:
            scores[self.counts < min_ratings] = -np.inf
        top = [c for c in np.argsort(-scores)[:n] if np.isfinite(scores[c])]  # never pad with excluded movies
        out = []
        for col in top:
            item = int(self.item_ids[col])
            out.append(
                Recommendation(
                    item=item,
                    title=self.title(item),
                    genres=tuple(self.movies.at[item, "genres"]),
                    stars=None if predicted is None else float(np.clip(predicted[col], 1, 5)),
                    score=float(scores[col]),
                    because=self.because(items, stars, col),
                )
            )
        return out, notes

    def because(self, items: np.ndarray, stars: np.ndarray, target: int, most: int = 2) -> tuple[str, ...]:
        """Titles of the visitor's liked movies that pushed ``target`` up the most (EASE weights)."""
        liked = stars >= min(LIKED, stars.max())
        weights = self.algorithms["ease"].B[items, target] * liked
        order = [j for j in np.argsort(-weights)[:most] if weights[j] > 0]
        return tuple(self.title(int(self.item_ids[items[j]])) for j in order)

    def cold_start(self, n: int = TOP_K) -> list[Recommendation]:
        """Popular, well-rated movies, picked greedily so that genres vary."""
        quality = self.algorithms["popularity"].bi + np.log1p(self.counts) / np.log1p(self.counts.max())
        candidates = list(np.argsort(-quality)[: n * 6])
        chosen: list[int] = []
        used: dict[str, int] = {}
        while candidates and len(chosen) < n:
            best = max(
                candidates,
                key=lambda c: quality[c] - 0.35 * sum(used.get(g, 0) for g in self.movies["genres"].iloc[c]),
            )
            candidates.remove(best)
            chosen.append(best)
            for g in self.movies["genres"].iloc[best]:
                used[g] = used.get(g, 0) + 1
        return [
            Recommendation(
                item=int(self.item_ids[c]),
                title=self.title(int(self.item_ids[c])),
                genres=tuple(self.movies["genres"].iloc[c]),
                stars=float(self.means[c]),
                score=float(quality[c]),
            )
            for c in chosen
        ]

    # --- exploring the catalogue ---------------------------------------------------------

    SIMILARITY: ClassVar[dict[str, str]] = {
        "taste": "Taste space (SVD movie factors, cosine)",
        "rated_alike": "Rated alike (item-item KNN similarity)",
        "content": "Content (genres, decade, title words)",
    }

    def similar(self, item: int, how: str = "taste", n: int = 10, min_ratings: int = 20) -> pd.DataFrame:
        """Movies like ``item`` by one of :attr:`SIMILARITY`."""
        col = int(self.index_of([item])[0])
        if how == "taste":
            q = self.algorithms["svd"].qi
            norms = np.linalg.norm(q, axis=1) + 1e-9
            sims = q @ q[col] / (norms * norms[col])
        elif how == "rated_alike":
            sims = self.algorithms["item_knn"].sim[col].astype(float)
        elif how == "content":
            f = self.features
            norms = np.linalg.norm(f, axis=1) + 1e-9
            sims = f @ f[col] / (norms * norms[col])
        else:
            raise ValueError(f"unknown similarity {how!r}; use one of {sorted(self.SIMILARITY)}")
        sims = sims.copy()
        sims[col] = -np.inf
        if how != "content":
            sims[self.counts < min(min_ratings, self.counts[col])] = -np.inf
        top = np.argsort(-sims)[:n]
        table = self.catalogue().iloc[top].copy()
        table.insert(0, "similarity", np.round(sims[top], 3))
        return table

    def taste_map(self, min_ratings: int = 20) -> pd.DataFrame:
        """2-D PCA projection of the SVD movie factors, for movies with enough ratings."""
        q = self.algorithms["svd"].qi
        keep = np.flatnonzero(self.counts >= min(min_ratings, np.percentile(self.counts, 50)))
        centred = q[keep] - q[keep].mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        xy = centred @ vt[:2].T
        table = self.catalogue().iloc[keep].copy()
        table["x"], table["y"] = xy[:, 0], xy[:, 1]
        table["genre"] = [g[0] if g else "unknown" for g in table["genres"]]
        return table

    def preset(self, loves: tuple[str, ...], dislikes: tuple[str, ...] = (), n_loved: int = 6) -> dict[int, float]:
        """A one-click taste: the most-rated movies of ``loves`` genres at 5 and 4 stars, ``dislikes`` at 1-2."""
        table = self.catalogue()
        ratings: dict[int, float] = {}
        loved = table[table["genres"].map(lambda g: any(x in g for x in loves))]
        for rank, item in enumerate(loved.sort_values("ratings", ascending=False).index[:n_loved]):
            ratings[int(item)] = 5.0 if rank % 3 != 2 else 4.0
        if dislikes:
            hated = table[
                table["genres"].map(lambda g: any(x in g for x in dislikes) and not any(x in g for x in loves))
            ]
            for rank, item in enumerate(hated.sort_values("ratings", ascending=False).index[:3]):
                ratings[int(item)] = 1.0 if rank % 2 == 0 else 2.0
        return ratings


PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Sci-fi & action fan": (("Sci-Fi", "Action"), ("Romance", "Musical")),
    "Romance & comedy lover": (("Romance", "Comedy"), ("Horror", "War")),
    "Family movie night": (("Animation", "Children's"), ("Horror", "Crime")),
    "Dark thrillers & crime": (("Crime", "Thriller", "Film-Noir"), ("Children's", "Musical")),
}


def train(
    data: MovieData,
    config: MovieConfig = MovieConfig(),
    provenance: str = "",
    citation: str = "",
    progress: Progress = null_progress,
) -> MovieModel:
    """Evaluate every algorithm on a per-user 75/25 split, then refit everything on all ratings."""
    from engines.core.artifacts import library_versions

    started = time.perf_counter()
    item_ids = data.movies.index.to_numpy(dtype=np.int64)
    full = RatingMatrix.build(data.ratings, item_ids)
    progress(0.01, "Building movie feature vectors")
    features = item_features(data.movies, config.seed)
    mask = stratified_mask(full, 1 - config.test_share, config.seed)
    train_part, test_part = full.subset(mask), full.subset(~mask)
    held = fit_hybrid(train_part, features, config, scaled(progress, 0.02, 0.6))
    comparison = evaluate(held, train_part, test_part, progress=scaled(progress, 0.6, 0.75))
    hybrid = held["hybrid"]
    assert isinstance(hybrid, Hybrid)
    final = fit_hybrid(full, features, config, scaled(progress, 0.75, 0.99), blend=(hybrid.blender, hybrid.gamma))
    counts = full.item_counts()
    sums = np.bincount(full.i, weights=full.r, minlength=full.n_items)
    means = np.divide(sums, counts, out=np.full(full.n_items, np.nan), where=counts > 0)
    best = comparison.loc["hybrid"]
    metrics = {name: float(best[name]) for name in ("rmse", "mae", "precision_at_10", "recall_at_10", "ndcg_at_10")}
    seconds = time.perf_counter() - started
    card = ModelCard(
        model="Hybrid recommender (SVD, SVD++, item KNN, user CF, content, EASE)",
        why=(
            "No single method wins everywhere: matrix factorization predicts stars best, item-item EASE ranks "
            "best, content handles movies nobody rated. A blend learned on held-out ratings combines them."
        ),
        data=data.name,
        provenance=provenance or "user upload",
        split=(
            f"Held-out metrics: each user's ratings split {1 - config.test_share:.0%}/{config.test_share:.0%} at "
            f"random (seed {config.seed}); the blend learned on a further {config.blend_share:.0%} of the "
            "training part; top-10 ranks only movies the user had not rated in training."
        ),
        metrics=metrics,
        train_seconds=seconds,
        n_train=len(train_part.r),
        n_test=len(test_part.r),
        limitations=(
            *(
                ("Ratings from 1997-98 (MovieLens 100k): tastes and catalogues have moved on.",)
                if data.name == "MovieLens 100k"
                else ()
            ),
            "A movie nobody rated can only be found by its genres, year and title words.",
            "Popular movies dominate co-rating signals; the novelty column shows how much each model leans on them.",
            "A new visitor with few ratings gets a rough taste vector; five to ten ratings make it useful.",
        ),
        versions=library_versions(["scikit-surprise", "scikit-learn", "numpy"]),
        citation=citation,
    )
    return MovieModel(
        config=config,
        data_name=data.name,
        movies=data.movies,
        item_ids=item_ids,
        algorithms=final,
        features=features,
        counts=counts,
        means=means,
        n_users=full.n_users,
        n_ratings=len(full.r),
        comparison=comparison,
        metrics_=metrics,
        card_=card,
        train_seconds=seconds,
        notes=data.notes,
    )


CACHE = EngineCache(ENGINE, ENGINE_VERSION, MovieModel, ("scikit-surprise", "scikit-learn", "numpy", "scipy"))


def model_key(config: MovieConfig, data_sha256: str) -> str:
    """The artifact key of a model of ``config`` trained on data with that checksum."""
    return CACHE.key(asdict(config), data_sha256)


def is_cached(config: MovieConfig, resolved: ResolvedDataset, store: ArtifactStore | None = None) -> bool:
    """Whether a trained model for this config and data is on disk (cheap check)."""
    return CACHE.is_cached(asdict(config), resolved.sha256, store)


def load_or_train(
    config: MovieConfig,
    resolved: ResolvedDataset,
    data: MovieData,
    *,
    store: ArtifactStore | None = None,
    progress: Progress = null_progress,
) -> MovieModel:
    """The cached model for this config and data, training it on a miss."""
    return CACHE.load_or_train(
        asdict(config),
        resolved.sha256,
        lambda p: train(data, config, resolved.provenance, resolved.spec.citation, p),
        store=store,
        progress=progress,
    )


def request(config: MovieConfig, data: tuple[ResolvedDataset, MovieData]) -> ModelRequest[MovieModel]:
    """The recommenders a page wants for ``config`` on ``data`` (what ``load_dataset`` returned); no work done."""
    resolved, movie_data = data
    return ModelRequest(
        CACHE,
        config,
        resolved.sha256,
        lambda progress: train(movie_data, config, resolved.provenance, resolved.spec.citation, progress),
        title=f"Training eight recommenders on {len(movie_data.ratings):,} ratings of {movie_data.n_items:,} movies",
        label=f"movies / {'hybrid' if config.svdpp else 'hybrid without SVD++'}",
    )


def sample_request(config: MovieConfig = MovieConfig()) -> ModelRequest[MovieModel]:
    """The recommenders shipped for ``config``: trained on the bundled made-up catalogue."""
    return request(config, sample_dataset())


def shipped_requests() -> list[ModelRequest[MovieModel]]:
    """The models the repository ships: every recommender, the hybrid and its held-out comparison, on the sample."""
    return [sample_request()]
