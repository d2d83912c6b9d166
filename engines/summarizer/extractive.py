"""Extractive ranking: sentence similarity graphs, Lead-k, TextRank and position-aware centrality with MMR.

All functions take and return numpy arrays over the *candidate* sentences of one
document (in document order); :mod:`engines.summarizer.model` maps them back.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

EPS = 1e-12


def tfidf_vectors(texts: list[str]) -> sparse.csr_matrix:
    """Unit-length TF-IDF rows (sublinear tf, English stop words removed), fitted on the document itself.

    A document whose sentences hold only stop words gets all-zero rows (no similarity), not an error.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b")  # noqa: S106 (a regex, not a password)
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary: nothing but stop words
        return sparse.csr_matrix((len(texts), 1))


def cosine_matrix(vectors: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    """Dense cosine similarity of unit-length rows, diagonal set to 0."""
    sim = vectors @ vectors.T
    sim = sim.toarray() if sparse.issparse(sim) else np.asarray(sim)
    sim = np.clip(sim.astype(np.float64), 0.0, 1.0)
    np.fill_diagonal(sim, 0.0)
    return sim


def centroid_scores(vectors: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    """Cosine of each row with the document's mean vector: a linear-time pre-ranking for huge documents."""
    centroid = np.asarray(vectors.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    if norm < EPS:
        return np.zeros(vectors.shape[0])
    return np.asarray(vectors @ (centroid / norm)).ravel()


def pagerank(sim: np.ndarray, damping: float = 0.85, iterations: int = 100, tol: float = 1e-8) -> np.ndarray:
    """PageRank over a weighted undirected graph (TextRank, Mihalcea & Tarau 2004); sums to 1.

    Sentences with no edge spread their weight uniformly, so the result is defined for any matrix.
    """
    n = sim.shape[0]
    if n == 0:
        return np.zeros(0)
    out = sim.sum(axis=1)
    transition = np.where(out[:, None] > EPS, sim / np.maximum(out[:, None], EPS), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        new = (1 - damping) / n + damping * (transition.T @ rank)
        if np.abs(new - rank).sum() < tol:
            rank = new
            break
        rank = new
    return rank / rank.sum()


def directed_centrality(
    sim: np.ndarray, beta: float, lambda1: float, lambda2: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PacSum's position-aware centrality (Zheng & Lapata 2019).

    Edges weaker than ``min + beta * (max - min)`` are dropped and the rest shifted down by that
    threshold. A sentence gains ``lambda2`` per unit of similarity to sentences *after* it and loses
    ``lambda1`` per unit of similarity to sentences *before* it: a sentence that later ones elaborate on
    is central; one that repeats what came earlier is not.

    Returns:
        ``(centrality, backward, forward)``: the score, similarity to following and to preceding sentences.
    """
    n = sim.shape[0]
    if n < 2:
        zero = np.zeros(n)
        return zero, zero, zero
    off = sim[~np.eye(n, dtype=bool)]
    threshold = off.min() + beta * (off.max() - off.min())
    edges = np.clip(sim - threshold, 0.0, None)
    np.fill_diagonal(edges, 0.0)
    upper = np.triu(edges, k=1)  # upper[i, j] for i < j
    backward = upper.sum(axis=1)  # similarity to the sentences that follow
    forward = upper.sum(axis=0)  # similarity to the sentences that precede
    return lambda2 * backward - lambda1 * forward, backward, forward


def normalise(scores: np.ndarray) -> np.ndarray:
    """Min-max scale to 0..1 (all equal -> all 1)."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < EPS:
        return np.ones_like(scores, dtype=float)
    return (scores - low) / (high - low)


def mmr_select(relevance: np.ndarray, sim: np.ndarray, k: int, redundancy: float) -> tuple[list[int], np.ndarray]:
    """Greedy maximal marginal relevance (Carbonell & Goldstein 1998).

    Each step takes the sentence with the highest ``relevance - redundancy * max similarity to those
    already taken``; ties go to the earlier sentence.

    Returns:
        The picked indices in pick order, and each sentence's redundancy penalty (at its pick for the
        chosen ones, against the final selection for the others).
    """
    n = relevance.size
    k = min(k, n)
    picked: list[int] = []
    max_sim = np.zeros(n)
    available = np.ones(n, dtype=bool)
    penalty = np.zeros(n)
    for _ in range(k):
        score = relevance - redundancy * max_sim
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))  # first maximum: the earlier sentence wins a tie
        penalty[best] = redundancy * max_sim[best]
        picked.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, sim[best])
    penalty[available] = redundancy * max_sim[available]
    return picked, penalty


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` best scores, best first; ties go to the earlier sentence."""
    order = np.lexsort((np.arange(scores.size), -scores))
    return [int(i) for i in order[: min(k, scores.size)]]
