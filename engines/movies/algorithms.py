"""The recommender algorithms, each able to score known users and to fold in a new one.

Every algorithm works on a :class:`RatingMatrix` (dense indices 0..U-1 and 0..I-1) and offers:

- ``predict_users(users)``: predicted stars for every movie, one row per known user
  (``None`` for algorithms that only rank);
- ``rank_users(users, stars)``: scores to rank movies by (stars, unless the algorithm ranks
  otherwise; ``stars`` passes predictions already made for these users, so none is made twice);
- ``fold_in(items, stars)``: the same two for a new visitor, from their ratings alone, without
  retraining anything.

Matrix factorization (SVD, SVD++) and item-item KNN with baselines are fitted by the Surprise
library; their learned parameters are then used directly with numpy, which is what makes
fold-in and whole-catalogue scoring fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from engines.core.progress import Progress, null_progress


@dataclass
class RatingMatrix:
    """Training ratings in dense index space.

    Attributes:
        user_ids: Original user id of each row index.
        item_ids: Catalogue item id of each column index (the whole catalogue, rated or not).
        u: Row index of each rating.
        i: Column index of each rating.
        r: Stars of each rating.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    u: np.ndarray
    i: np.ndarray
    r: np.ndarray

    @classmethod
    def build(cls, ratings: pd.DataFrame, item_ids: np.ndarray, user_ids: np.ndarray | None = None) -> RatingMatrix:
        """Index ``ratings`` (columns user, item, rating) against a catalogue and a user list."""
        users = np.unique(ratings["user"].to_numpy()) if user_ids is None else np.asarray(user_ids)
        u = np.searchsorted(users, ratings["user"].to_numpy())
        i = np.searchsorted(item_ids, ratings["item"].to_numpy())
        return cls(
            users, np.asarray(item_ids), u.astype(np.int64), i.astype(np.int64), ratings["rating"].to_numpy(float)
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def mean(self) -> float:
        return float(self.r.mean())

    def csr(self) -> sparse.csr_matrix:
        """Users x items, stars in the rated cells."""
        return sparse.csr_matrix((self.r, (self.u, self.i)), shape=(self.n_users, self.n_items))

    def user_counts(self) -> np.ndarray:
        return np.bincount(self.u, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        return np.bincount(self.i, minlength=self.n_items)

    def subset(self, mask: np.ndarray) -> RatingMatrix:
        """The same users and items, only the ratings where ``mask`` is true."""
        return RatingMatrix(self.user_ids, self.item_ids, self.u[mask], self.i[mask], self.r[mask])


def item_baselines(m: RatingMatrix, damping: float = 25.0) -> np.ndarray:
    """Damped item offsets from the global mean (an item with few ratings stays near 0)."""
    total = np.bincount(m.i, weights=m.r - m.mean, minlength=m.n_items)
    return total / (m.item_counts() + damping)


def user_offset(stars: np.ndarray, expected: np.ndarray, damping: float) -> float:
    """A new user's damped offset: how much above what is expected they rate."""
    return float((stars - expected).sum() / (len(stars) + damping)) if len(stars) else 0.0


class Algorithm:
    """Base class; see the module docstring."""

    key = "base"
    title = "Algorithm"
    rates = True  # predicts stars (RMSE and MAE apply)
    description = ""

    def fit(self, m: RatingMatrix, features: np.ndarray, progress: Progress = null_progress) -> Algorithm:
        """Learn from the ratings ``m`` (``features``: content vectors of every movie)."""
        raise NotImplementedError

    def predict_users(self, users: np.ndarray) -> np.ndarray | None:
        """Predicted stars of every movie for known user indices (None: this algorithm only ranks)."""
        raise NotImplementedError

    def rank_users(self, users: np.ndarray, stars: np.ndarray | None = None) -> np.ndarray:
        """Scores to rank every movie by, for known user indices (higher first).

        ``stars``: this algorithm's ``predict_users(users)`` when the caller already has it.
        """
        if stars is None:
            stars = self.predict_users(users)
        assert stars is not None
        return stars

    def fold_in(self, items: np.ndarray, stars: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(predicted stars or None, ranking scores) of every movie for a new user who rated ``items``."""
        raise NotImplementedError

    def predict_pairs(self, u: np.ndarray, i: np.ndarray, batch: int = 256) -> np.ndarray:
        """Predicted stars for (user, item) index pairs of known users."""
        out = np.empty(len(u))
        users = np.unique(u)
        for start in range(0, len(users), batch):
            chunk = users[start : start + batch]
            rows = self.predict_users(chunk)
            assert rows is not None
            where = np.isin(u, chunk)
            out[where] = rows[np.searchsorted(chunk, u[where]), i[where]]
        return np.clip(out, 1.0, 5.0)


class Popularity(Algorithm):
    """Most-rated movies first; stars are the damped movie average."""

    key = "popularity"
    title = "Popularity baseline"
    description = "Ranks by number of ratings; predicts each movie's damped average. No personalisation."

    def fit(self, m, features, progress=null_progress):
        self.mu = m.mean
        self.bi = item_baselines(m)
        self.counts = m.item_counts().astype(float)
        self.n_items = m.n_items
        progress(1.0, "Counted ratings per movie")
        return self

    def predict_users(self, users):
        return np.tile(self.mu + self.bi, (len(users), 1))

    def rank_users(self, users, stars=None):
        return np.tile(self.counts, (len(users), 1))

    def fold_in(self, items, stars):
        return self.mu + self.bi, self.counts.copy()


class UserCosine(Algorithm):
    """The seed's user-user collaborative filtering: cosine similarity of zero-filled rating rows."""

    key = "user_cosine"
    title = "User-user cosine CF (seed)"
    description = (
        "The seed code: cosine similarity between users' rating rows (unrated = 0); a movie's stars are "
        "your average plus the similarity-weighted, mean-centred stars of the 40 most similar users."
    )

    def __init__(self, k: int = 40) -> None:
        self.k = k

    def fit(self, m, features, progress=null_progress):
        self.R = m.csr().astype(np.float32)
        counts = np.maximum(m.user_counts(), 1)
        self.means = np.asarray(self.R.sum(1)).ravel() / counts
        norms = np.sqrt(np.asarray(self.R.multiply(self.R).sum(1)).ravel())
        self.Rn = sparse.diags(1 / np.maximum(norms, 1e-9)) @ self.R
        centred = self.R.tocoo()
        centred.data = centred.data - self.means[centred.row].astype(np.float32)
        self.C = centred.tocsr()
        self.mask = (self.R > 0).astype(np.float32).tocsr()
        self.fallback = m.mean + item_baselines(m)
        progress(1.0, "Normalised the user x movie matrix")
        return self

    def _predict(self, sims: np.ndarray, means: np.ndarray) -> np.ndarray:
        if sims.shape[1] > self.k:
            cut = np.argpartition(-sims, self.k, axis=1)[:, self.k :]
            np.put_along_axis(sims, cut, 0.0, axis=1)
        sims = np.maximum(sims, 0)
        num = np.asarray(self.C.T @ sims.T).T
        den = np.asarray(self.mask.T @ sims.T).T
        out = means[:, None] + num / (den + 0.5)
        no_neighbour = den <= 0
        out[no_neighbour] = (self.fallback[None, :] + (means - means.mean())[:, None])[no_neighbour]
        return out

    def predict_users(self, users):
        sims = np.asarray((self.Rn[users] @ self.Rn.T).todense())
        sims[np.arange(len(users)), users] = 0.0
        return self._predict(sims, self.means[users])

    def fold_in(self, items, stars):
        row = np.zeros(self.R.shape[1], dtype=np.float32)
        row[items] = stars
        row /= max(np.linalg.norm(row), 1e-9)
        sims = np.asarray(self.Rn @ row)[None, :]
        mean = np.array([stars.mean() if len(stars) else self.fallback.mean()])
        pred = self._predict(sims, mean)[0]
        return pred, pred


def _surprise_trainset(m: RatingMatrix):
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"u": m.u, "i": m.i, "r": m.r})
    return Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()


def _raw_ids(trainset, users: bool) -> np.ndarray:
    """Our dense index of each Surprise inner id (the raw ids we gave Surprise are those indices)."""
    count = trainset.n_users if users else trainset.n_items
    to_raw = trainset.to_raw_uid if users else trainset.to_raw_iid
    return np.array([to_raw(k) for k in range(count)], dtype=np.int64)


def _dense(trainset, values: np.ndarray, n: int, users: bool) -> np.ndarray:
    """Surprise inner-id arrays -> arrays in our dense index space (zeros where unseen)."""
    out = np.zeros((n, *values.shape[1:]), dtype=np.float64)
    out[_raw_ids(trainset, users)] = values
    return out


class ItemKNNBaseline(Algorithm):
    """Item-item KNN on baseline residuals (Surprise ``KNNBaseline``, pearson_baseline similarity)."""

    key = "item_knn"
    title = "Item-item KNN with baselines"
    description = (
        "Surprise KNNBaseline: baseline (global mean + user and movie offsets) plus the similarity-weighted "
        "residuals of the 40 most similar movies you rated (shrunk Pearson similarity of baseline residuals)."
    )

    def __init__(self, k: int = 40, shrinkage: int = 100) -> None:
        self.k, self.shrinkage = k, shrinkage

    def fit(self, m, features, progress=null_progress):
        from surprise import KNNBaseline

        trainset = _surprise_trainset(m)
        algo = KNNBaseline(
            k=self.k,
            sim_options={"name": "pearson_baseline", "user_based": False, "shrinkage": self.shrinkage},
            verbose=False,
        )
        algo.fit(trainset)
        bu, bi = algo.compute_baselines()
        self.mu = trainset.global_mean
        self.bu = _dense(trainset, np.asarray(bu), m.n_users, users=True)
        self.bi = _dense(trainset, np.asarray(bi), m.n_items, users=False)
        inner = np.full(m.n_items, -1)
        inner[_raw_ids(trainset, users=False)] = np.arange(trainset.n_items)
        sim = np.zeros((m.n_items, m.n_items), dtype=np.float32)
        seen = np.flatnonzero(inner >= 0)
        sim[np.ix_(seen, seen)] = algo.sim[np.ix_(inner[seen], inner[seen])]
        np.fill_diagonal(sim, 0.0)
        self.sim = sim
        self.R = m.csr()
        self.reg_u = 15.0  # Surprise's ALS baseline default
        progress(1.0, "Item-item similarities computed")
        return self

    def _scores(self, items: np.ndarray, stars: np.ndarray, bu: float) -> np.ndarray:
        base = self.mu + bu + self.bi
        if len(items) == 0:
            return base
        resid = stars - base[items]
        sims = self.sim[:, items]
        if len(items) > self.k:
            cut = np.argpartition(-sims, self.k, axis=1)[:, self.k :]
            sims = sims.copy()
            np.put_along_axis(sims, cut, 0.0, axis=1)
        sims = np.maximum(sims, 0)
        den = sims.sum(1)
        return base + np.divide(sims @ resid, den, out=np.zeros_like(base), where=den > 0)

    def predict_users(self, users):
        rows = []
        for user in users:
            row = self.R.getrow(user)
            rows.append(self._scores(row.indices, row.data, self.bu[user]))
        return np.vstack(rows)

    def fold_in(self, items, stars):
        bu = user_offset(stars, self.mu + self.bi[items], self.reg_u)
        pred = self._scores(items, stars, bu)
        return pred, pred


class SVD(Algorithm):
    """Biased matrix factorization (Surprise ``SVD``), tuned; fold-in by ridge regression on item factors."""

    key = "svd"
    title = "Matrix factorization (Surprise SVD)"
    description = (
        "Surprise SVD (Funk-style biased MF by SGD): stars = mean + user offset + movie offset + user "
        "factors . movie factors. A new user's factors are solved in closed form with the movie factors fixed."
    )

    def __init__(self, factors: int = 100, epochs: int = 40, lr: float = 0.007, reg: float = 0.08, seed: int = 0):
        self.factors, self.epochs, self.lr, self.reg, self.seed = factors, epochs, lr, reg, seed

    def _algo(self):
        from surprise import SVD as SurpriseSVD

        return SurpriseSVD(
            n_factors=self.factors, n_epochs=self.epochs, lr_all=self.lr, reg_all=self.reg, random_state=self.seed
        )

    def fit(self, m, features, progress=null_progress):
        trainset = _surprise_trainset(m)
        algo = self._algo()
        algo.fit(trainset)
        self._take(algo, trainset, m)
        progress(1.0, f"{self.title} fitted")
        return self

    def _take(self, algo, trainset, m: RatingMatrix) -> None:
        self.mu = trainset.global_mean
        self.bu = _dense(trainset, algo.bu, m.n_users, users=True)
        self.bi = _dense(trainset, algo.bi, m.n_items, users=False)
        self.pu = _dense(trainset, algo.pu, m.n_users, users=True)
        self.qi = _dense(trainset, algo.qi, m.n_items, users=False)

    def _user_vectors(self, users: np.ndarray) -> np.ndarray:
        return self.pu[users]

    def predict_users(self, users):
        return self.mu + self.bu[users][:, None] + self.bi[None, :] + self._user_vectors(users) @ self.qi.T

    def _implicit(self, items: np.ndarray) -> np.ndarray:
        return np.zeros(self.qi.shape[1])

    def fold_in(self, items, stars):
        implicit = self._implicit(items)
        if len(items) == 0:
            pred = self.mu + self.bi + self.qi @ implicit
            return pred, pred
        q = self.qi[items]
        target = stars - self.mu - self.bi[items] - q @ implicit
        design = np.hstack([np.ones((len(items), 1)), q])
        # SGD regularises every rating's update, so the per-user penalty grows with the count
        penalty = self.reg * len(items) * np.eye(design.shape[1])
        solution = np.linalg.solve(design.T @ design + penalty, design.T @ target)
        bu, pu = solution[0], solution[1:]
        pred = self.mu + bu + self.bi + self.qi @ (pu + implicit)
        return pred, pred


class SVDpp(SVD):
    """SVD++ (Surprise): SVD plus implicit feedback from which movies a user rated."""

    key = "svdpp"
    title = "Matrix factorization with implicit feedback (Surprise SVD++)"
    description = (
        "Surprise SVD++: like SVD, and the set of movies you rated (not only their stars) moves your "
        "taste vector. Slower to fit; usually the most accurate single model here."
    )

    def __init__(self, factors: int = 20, epochs: int = 20, lr: float = 0.007, reg: float = 0.02, seed: int = 0):
        super().__init__(factors, epochs, lr, reg, seed)

    def _algo(self):
        from surprise import SVDpp as SurpriseSVDpp

        return SurpriseSVDpp(
            n_factors=self.factors,
            n_epochs=self.epochs,
            lr_all=self.lr,
            reg_all=self.reg,
            random_state=self.seed,
            cache_ratings=True,
        )

    def _take(self, algo, trainset, m):
        super()._take(algo, trainset, m)
        self.yj = _dense(trainset, algo.yj, m.n_items, users=False)
        self.R = m.csr()

    def _implicit(self, items):
        if len(items) == 0:
            return np.zeros(self.yj.shape[1])
        return self.yj[items].sum(0) / np.sqrt(len(items))

    def _user_vectors(self, users):
        rows = self.R[users]
        counts = np.maximum(np.diff(rows.indptr), 1)
        binary = rows.copy()
        binary.data[:] = 1.0
        implicit = np.asarray(binary @ self.yj) / np.sqrt(counts)[:, None]
        return self.pu[users] + implicit


class Content(Algorithm):
    """Content-based: a per-user ridge regression of stars on movie features (genres, decade, title words)."""

    key = "content"
    title = "Content-based (genres, year, title)"
    description = (
        "Each movie is a vector of genres, decade and title words (LSA of TF-IDF). Your taste is a ridge "
        "regression of your stars (above each movie's average) on those vectors. Works for movies nobody rated."
    )

    def __init__(self, alpha: float = 3.0) -> None:
        self.alpha = alpha

    def fit(self, m, features, progress=null_progress):
        self.F = np.hstack([np.ones((len(features), 1)), features])
        self.mu = m.mean
        self.bi = item_baselines(m)
        self.R = m.csr()
        progress(1.0, "Movie feature vectors ready")
        return self

    def _solve(self, items: np.ndarray, stars: np.ndarray) -> np.ndarray:
        base = self.mu + self.bi
        if len(items) == 0:
            return base
        f = self.F[items]
        penalty = self.alpha * np.eye(f.shape[1])
        w = np.linalg.solve(f.T @ f + penalty, f.T @ (stars - base[items]))
        return base + self.F @ w

    def predict_users(self, users):
        rows = (self.R.getrow(u) for u in users)
        return np.vstack([self._solve(row.indices, row.data) for row in rows])

    def fold_in(self, items, stars):
        pred = self._solve(items, stars)
        return pred, pred


class EASE(Algorithm):
    """EASE (Steck 2019): a closed-form item-item model of which movies are watched together."""

    key = "ease"
    title = "Implicit item-item (EASE)"
    rates = False
    description = (
        "Embarrassingly Shallow Autoencoder: one ridge regression predicts each movie's 'watched' bit from "
        "all other movies' bits (closed form, one matrix inverse). Ranks, does not predict stars."
    )

    def __init__(self, lam: float = 400.0) -> None:
        self.lam = lam

    def fit(self, m, features, progress=null_progress):
        X = m.csr()
        X.data[:] = 1.0
        gram = np.asarray((X.T @ X).todense(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        P = np.linalg.inv(gram)
        B = -P / np.diag(P)[None, :]
        np.fill_diagonal(B, 0.0)
        self.B = B.astype(np.float32)
        self.X = X.astype(np.float32)
        progress(1.0, "Item-item weights solved")
        return self

    def predict_users(self, users):
        return None

    def rank_users(self, users, stars=None):
        return np.asarray(self.X[users] @ self.B)

    def fold_in(self, items, stars):
        return None, self.B[items].sum(0).astype(np.float64)
