"""Movie recommender on MovieLens 100k: rating accuracy, ranking quality, new-user latency.

Three protocols, side by side in one run:

1. **Rating prediction, 5-fold CV** (shuffled, seed 0, as Surprise's published table): RMSE and
   MAE of Surprise's SVD, SVD++ and KNNBaseline with their default settings, run here on the
   same folds, and of our hybrid (whose blend is learned inside each training fold). Fit time
   is also reported as a ratio to Surprise's SVD (``fit_vs_svd``).
2. **Ranking, per-user stratified 75/25 split** (Microsoft Recommenders' protocol: each user's
   ratings split at random, top 10 among movies not rated in training, any held-out rating is
   a hit): precision@10, recall@10, NDCG@10, coverage, novelty of every algorithm, averaged over
   ``seeds`` splits (at most 3; each split refits everything).
3. **A newly onboarded user**: the model trained on all ratings folds in 5-10 ratings of a user
   it has never seen (held out of training) and returns the top 10 with explanations; the
   median and worst wall time over 50 such users (``new_user_s``, ``new_user_max_s``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import Anchor, Record, Skip
from engines import movies
from engines.movies.algorithms import RatingMatrix
from engines.movies.data import read_movielens

NAME = "movielens-100k"
FOLDS = 5
SPLITS = 3
ANCHORS = [
    Anchor("movies", NAME, "Surprise docs, SVD, 5-fold CV (published)", "rmse", 0.934),
    Anchor("movies", NAME, "Surprise docs, SVD++, 5-fold CV (published)", "rmse", 0.919),
    Anchor("movies", NAME, "Surprise docs, KNNBaseline, 5-fold CV (published)", "rmse", 0.931),
    Anchor("movies", NAME, "Microsoft Recommenders, SAR, stratified 75/25 (published)", "precision_at_10", 0.331),
]


def _surprise_peers():
    from surprise import SVD, KNNBaseline, SVDpp

    return {
        "Surprise SVD (defaults)": lambda: SVD(random_state=0),
        "Surprise SVD++ (defaults)": lambda: SVDpp(random_state=0, cache_ratings=True),
        "Surprise KNNBaseline (defaults)": lambda: KNNBaseline(verbose=False),
    }


def rating_cv(data: movies.MovieData, progress=print) -> list[Record]:
    """5-fold CV RMSE/MAE of Surprise's models and of our hybrid on the same folds."""
    from sklearn.model_selection import KFold
    from surprise import Dataset, Reader

    item_ids = data.movies.index.to_numpy(dtype=np.int64)
    features = movies.item_features(data.movies)
    ratings = data.ratings.reset_index(drop=True)
    users = np.unique(ratings["user"])
    results: dict[str, dict[str, list[float]]] = {}
    reader = Reader(rating_scale=(1, 5))
    for fold, (tr, te) in enumerate(KFold(FOLDS, shuffle=True, random_state=0).split(ratings)):
        train, test = ratings.iloc[tr], ratings.iloc[te]
        trainset = Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
        testset = list(test[["user", "item", "rating"]].itertuples(index=False, name=None))
        truth = test["rating"].to_numpy(float)
        for name, make in _surprise_peers().items():
            started = time.perf_counter()
            algo = make().fit(trainset)
            fit = time.perf_counter() - started
            pred = np.array([p.est for p in algo.test(testset)])
            _add(results, name, truth, pred, fit)
        started = time.perf_counter()
        m = RatingMatrix.build(train, item_ids, users)
        fitted = movies.fit_hybrid(m, features, movies.MovieConfig())
        fit = time.perf_counter() - started
        t = RatingMatrix.build(test, item_ids, users)
        for key in ("hybrid", "svd", "svdpp", "item_knn"):
            title = "Hybrid (ours)" if key == "hybrid" else f"{fitted[key].title} (in our hybrid)"
            _add(results, title, truth, fitted[key].predict_pairs(t.u, t.i), fit if key == "hybrid" else np.nan)
        line = ", ".join(f"{k} {np.mean(v['rmse']):.4f}" for k, v in results.items())
        progress(f"movies: rating CV fold {fold + 1}/{FOLDS}: {line}")
    svd_fit = np.mean(results["Surprise SVD (defaults)"]["fit_s"])
    records = []
    for name, values in results.items():
        default = name == "Hybrid (ours)"
        records += [
            Record("movies", NAME, name, "rmse", float(np.mean(values["rmse"])), default),
            Record("movies", NAME, name, "mae", float(np.mean(values["mae"])), default),
        ]
        fit = float(np.nanmean(values["fit_s"])) if not np.all(np.isnan(values["fit_s"])) else None
        if fit is not None:
            records += [
                Record("movies", NAME, name, "fit_s", fit, default),
                Record("movies", NAME, name, "fit_vs_svd", fit / svd_fit, default),
            ]
    return records


def _add(results: dict, name: str, truth: np.ndarray, pred: np.ndarray, fit: float) -> None:
    err = np.clip(pred, 1, 5) - truth
    entry = results.setdefault(name, {"rmse": [], "mae": [], "fit_s": []})
    entry["rmse"].append(float(np.sqrt(np.mean(err**2))))
    entry["mae"].append(float(np.mean(np.abs(err))))
    entry["fit_s"].append(fit)


def ranking(data: movies.MovieData, splits: int, progress=print) -> list[Record]:
    """Every algorithm on per-user stratified 75/25 splits, top 10."""
    item_ids = data.movies.index.to_numpy(dtype=np.int64)
    features = movies.item_features(data.movies)
    full = RatingMatrix.build(data.ratings, item_ids)
    tables = []
    for seed in range(splits):
        mask = movies.stratified_mask(full, 0.75, seed)
        train, test = full.subset(mask), full.subset(~mask)
        fitted = movies.fit_hybrid(train, features, movies.MovieConfig(seed=seed))
        table = movies.evaluate(fitted, train, test)
        tables.append(table)
        progress(
            f"movies: ranking split {seed + 1}/{splits}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in table["precision_at_10"].items())
        )
    mean = pd.concat(tables).groupby(level=0, sort=False).mean(numeric_only=True)
    titles = tables[0]["algorithm"]
    records = []
    for key, row in mean.iterrows():
        for metric in ("precision_at_10", "recall_at_10", "ndcg_at_10", "coverage", "novelty"):
            records.append(
                Record("movies", NAME, f"{titles[key]} [75/25]", metric, float(row[metric]), key == "hybrid")
            )
    return records


def new_user_latency(data: movies.MovieData, progress=print, users: int = 50) -> list[Record]:
    """Fold in users the model never saw: 5-10 of their ratings -> top 10 with explanations."""
    rng = np.random.default_rng(0)
    all_users = np.unique(data.ratings["user"])
    newcomers = rng.choice(all_users, size=users, replace=False)
    known = data.ratings[~data.ratings["user"].isin(newcomers)]
    trained = movies.MovieData(known.reset_index(drop=True), data.movies, data.name)
    started = time.perf_counter()
    model = movies.train(trained, movies.MovieConfig())
    progress(f"movies: trained the page model on {len(known):,} ratings in {time.perf_counter() - started:.0f} s")
    times = []
    for user in newcomers:
        rows = data.ratings[data.ratings["user"] == user].sample(int(rng.integers(5, 11)), random_state=int(user))
        ratings = dict(zip(rows["item"].astype(int), rows["rating"].astype(float), strict=True))
        started = time.perf_counter()
        recs, _ = model.recommend(ratings)
        times.append(time.perf_counter() - started)
        assert len(recs) == 10
    progress(f"movies: new user top-10 in median {np.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms")
    return [
        Record("movies", NAME, "Hybrid (ours), new user", "new_user_s", float(np.median(times)), True),
        Record("movies", NAME, "Hybrid (ours), new user", "new_user_max_s", float(max(times)), True),
    ]


def run(data_dir: Path, seeds: int = 10, progress=print) -> tuple[list[Record], list[Anchor]]:
    """All three protocols on MovieLens 100k from ``data_dir``."""
    folder = data_dir / NAME
    if not (folder / "u.data").is_file() or not (folder / "u.item").is_file():
        raise Skip(f"{folder} has no u.data and u.item")
    data = read_movielens(folder / "u.data", folder / "u.item", name="MovieLens 100k")
    records = rating_cv(data, progress)
    records += ranking(data, max(1, min(seeds, SPLITS)), progress)
    records += new_user_latency(data, progress)
    return records, ANCHORS
