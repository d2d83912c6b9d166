"""Movie recommender: popularity, user-user and item-item CF, matrix factorization, content, EASE, and a hybrid."""

from engines.movies.algorithms import RatingMatrix
from engines.movies.data import MOVIELENS, MovieData, clean_new_ratings, load_dataset, read_ratings_upload
from engines.movies.model import (
    PRESETS,
    MovieConfig,
    MovieModel,
    Recommendation,
    evaluate,
    fit_hybrid,
    is_cached,
    item_features,
    load_or_train,
    stratified_mask,
    train,
)

__all__ = [
    "MOVIELENS",
    "PRESETS",
    "MovieConfig",
    "MovieData",
    "MovieModel",
    "RatingMatrix",
    "Recommendation",
    "clean_new_ratings",
    "evaluate",
    "fit_hybrid",
    "is_cached",
    "item_features",
    "load_dataset",
    "load_or_train",
    "read_ratings_upload",
    "stratified_mask",
    "train",
]
