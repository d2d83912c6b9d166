"""Movie recommender: popularity, user-user and item-item CF, matrix factorization, content, EASE, and a hybrid."""

from engines.movies.algorithms import RatingMatrix
from engines.movies.data import (
    MOVIELENS,
    MovieData,
    clean_new_ratings,
    load_dataset,
    read_ratings_upload,
    sample_dataset,
)
from engines.movies.model import (
    CACHE,
    ENGINE,
    PRESETS,
    MovieConfig,
    MovieModel,
    Recommendation,
    evaluate,
    fit_hybrid,
    is_cached,
    item_features,
    load_or_train,
    request,
    sample_request,
    shipped_requests,
    stratified_mask,
    train,
)
from engines.movies.store import SharedLRU

__all__ = [
    "CACHE",
    "ENGINE",
    "MOVIELENS",
    "PRESETS",
    "MovieConfig",
    "MovieData",
    "MovieModel",
    "RatingMatrix",
    "Recommendation",
    "SharedLRU",
    "clean_new_ratings",
    "evaluate",
    "fit_hybrid",
    "is_cached",
    "item_features",
    "load_dataset",
    "load_or_train",
    "read_ratings_upload",
    "request",
    "sample_dataset",
    "sample_request",
    "shipped_requests",
    "stratified_mask",
    "train",
]
