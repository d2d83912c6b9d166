"""Movie recommender engine: data and uploads, each algorithm against Surprise, fold-in, the hybrid, metrics."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from engines import movies
from engines.core.artifacts import ArtifactStore
from engines.core.errors import InputError, SourceError
from engines.core.lifecycle import SHIPPED
from engines.movies.algorithms import EASE, SVD, ItemKNNBaseline, RatingMatrix
from engines.movies.data import MOVIELENS, read_catalogue, read_movielens
from engines.movies.model import Algorithm, evaluate

SAMPLE = MOVIELENS.sample


@pytest.fixture(scope="module")
def data() -> movies.MovieData:
    return read_movielens(SAMPLE / "u.data", SAMPLE / "u.item", name="sample")


@pytest.fixture(scope="module")
def model(data) -> movies.MovieModel:
    return movies.train(data, movies.MovieConfig())


@pytest.fixture(scope="module")
def matrix(data) -> RatingMatrix:
    return RatingMatrix.build(data.ratings, data.movies.index.to_numpy())


def surprise_trainset(m: RatingMatrix):
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"u": m.u, "i": m.i, "r": m.r})
    return Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()


# --- data --------------------------------------------------------------------------------


def test_the_bundled_sample_is_what_its_seeded_script_writes(data):
    from data.make_movie_sample import make

    data_lines, item_lines = make()
    assert (SAMPLE / "u.data").read_text().splitlines() == data_lines
    assert (SAMPLE / "u.item").read_text(encoding="latin-1").splitlines() == item_lines
    assert data.n_items == 320 and data.n_users == 500
    assert data.ratings.groupby("user").size().min() >= 20  # like MovieLens: every user rated 20+
    assert set(data.ratings["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_the_catalogue_reads_titles_years_and_genres(data):
    first = data.movies.iloc[0]
    assert first["title"].endswith(f"({int(first['year'])})")
    assert len(first["genres"]) >= 1
    assert set(first["genres"]) <= set(movies.data.GENRES)


@pytest.mark.realdata
def test_movielens_item_file_is_read_as_latin_1(shared_data):
    folder = shared_data / "movielens-100k"
    if not (folder / "u.item").is_file():
        pytest.skip("../shared/data/movielens-100k/u.item is absent")
    catalogue = read_catalogue(folder / "u.item")
    assert len(catalogue) == 1682
    assert catalogue["title"].str.contains("rables, Les (1995)", regex=False).any()
    assert not catalogue["title"].str.contains("Ã").any()  # no mojibake
    assert catalogue.at[1, "title"] == "Toy Story (1995)" and catalogue.at[1, "year"] == 1995
    assert catalogue.at[1, "genres"] == ("Animation", "Children's", "Comedy")


def test_a_latin_1_catalogue_keeps_its_accents_and_a_wrong_file_is_refused(tmp_path):
    flags = "|".join(["0"] * 18 + ["1"])
    path = tmp_path / "u.item"
    path.write_bytes(f"1|Misérables, Les (1995)|01-Jan-1995||http://x|{flags}\n".encode("latin-1"))
    catalogue = read_catalogue(path)
    assert catalogue.at[1, "title"] == "Misérables, Les (1995)"
    assert catalogue.at[1, "genres"] == ("Western",)
    path.write_text("user_id,movie_id,rating\n1,2,3\n")
    with pytest.raises(SourceError, match=r"not a MovieLens u\.item"):
        read_catalogue(path)


def upload(text: str, data) -> movies.MovieData:
    return movies.read_ratings_upload(text.encode(), data, "mine.csv")


def many_rows(data, n: int = 300) -> list[str]:
    items = data.movies.index[:60]
    return [f"u{k % 10},{items[(k // 10) % 60]},{1 + k % 5}" for k in range(n)]  # n distinct (user, movie)


def test_a_good_upload_is_read_with_titles_or_ids(data):
    rows = many_rows(data)
    by_id = upload("user_id,movie_id,rating\n" + "\n".join(rows), data)
    assert by_id.n_users == 10 and len(by_id.ratings) == 300
    title_of = data.movies["title"]
    titled = [f"{u},{title_of[int(i)]!s},{r}" for u, i, r in (row.split(",") for row in rows)]
    by_title = upload("User,Title,Rating\n" + "\n".join(titled), data)
    pd.testing.assert_frame_equal(by_id.ratings, by_title.ratings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("user_id,rating\n1,5\n", "no movie_id or title column"),
        ("customer,movie_id,score\n1,2,5\n", "no user_id"),
        ("user_id,movie_id,rating\n1,1,6\n", "Row 2: rating `6` is not a number from 1 to 5"),
        ("user_id,movie_id,rating\n1,1,five\n", "not a number from 1 to 5"),
        ("user_id,movie_id,rating\n1,99999,4\n", "Row 2: movie `99999` is not in the catalogue"),
        ("user_id,title,rating\n1,No Such Movie (2031),4\n", "`No Such Movie (2031)` is not in the catalogue"),
        ("user_id,movie_id,rating\n1,1,4\n2,2,3\n", "at least 200"),
    ],
)
def test_a_bad_upload_says_what_to_fix(text, message, data):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        upload(text, data)


def test_binary_and_non_utf8_uploads_are_refused(data):
    with pytest.raises(InputError, match=r"not a text file|binary"):
        movies.read_ratings_upload(b"PK\x03\x04" + bytes(100), data, "ratings.zip")
    with pytest.raises(InputError, match="UTF-8"):
        movies.read_ratings_upload("user_id,title,rating\n1,Mis\xe9rables,4\n".encode("latin-1"), data, "r.csv")


def test_repeated_ratings_keep_the_last_one_with_a_note(data):
    rows = many_rows(data)
    item = data.movies.index[0]
    result = upload("user_id,movie_id,rating\n" + "\n".join([*rows, f"u0,{item},1", f"u0,{item},5"]), data)
    kept = result.ratings[(result.ratings["user"] == 1) & (result.ratings["item"] == item)]
    assert kept["rating"].tolist() == [5.0]
    assert any("repeated" in note for note in result.notes)


def test_new_ratings_are_checked(data):
    item = int(data.movies.index[0])
    with pytest.raises(InputError, match="out of range"):
        movies.clean_new_ratings({item: 7}, data.movies)
    with pytest.raises(InputError, match="not in the catalogue"):
        movies.clean_new_ratings({10**6: 4}, data.movies)
    with pytest.raises(InputError, match="1 to 5 stars"):
        movies.clean_new_ratings({item: "lots"}, data.movies)
    clean, warnings = movies.clean_new_ratings({item: 3, item + 1: 3.0, item + 2: "3"}, data.movies)
    assert clean == {item: 3.0, item + 1: 3.0, item + 2: 3.0}
    assert warnings and "Every movie got 3 stars" in warnings[0]


# --- splits and algorithms ---------------------------------------------------------------------


def test_stratified_split_holds_out_a_share_of_every_user(matrix):
    mask = movies.stratified_mask(matrix, 0.75, seed=0)
    kept = np.bincount(matrix.u[mask], minlength=matrix.n_users)
    total = matrix.user_counts()
    assert (kept >= 1).all() and (kept < total).all()
    assert np.allclose(kept / total, 0.75, atol=0.03)
    assert not np.array_equal(mask, movies.stratified_mask(matrix, 0.75, seed=1))


def test_item_knn_scores_match_surprise_own_predictions(matrix):
    from surprise import KNNBaseline

    ours = ItemKNNBaseline().fit(matrix, np.zeros((matrix.n_items, 1)))
    trainset = surprise_trainset(matrix)
    theirs = KNNBaseline(
        k=40, sim_options={"name": "pearson_baseline", "user_based": False, "shrinkage": 100}, verbose=False
    ).fit(trainset)
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, matrix.n_users, 600), rng.integers(0, matrix.n_items, 600)
    unrated = np.asarray(matrix.csr()[u, i]).ravel() == 0  # what a recommender predicts
    u, i = u[unrated][:300], i[unrated][:300]
    expected = np.array([theirs.predict(int(a), int(b)).est for a, b in zip(u, i, strict=True)])
    got = ours.predict_pairs(u, i)
    assert len(u) == 300
    assert np.mean(np.abs(got - expected) < 1e-4) > 0.98  # ties among equal similarities may order differently


def test_svd_scores_match_surprise_own_predictions(matrix):
    from surprise import SVD as SurpriseSVD

    ours = SVD(factors=20, epochs=10, seed=3).fit(matrix, np.zeros((matrix.n_items, 1)))
    theirs = SurpriseSVD(n_factors=20, n_epochs=10, lr_all=0.007, reg_all=0.08, random_state=3).fit(
        surprise_trainset(matrix)
    )
    u, i = np.arange(50), (np.arange(50) * 7) % matrix.n_items
    expected = np.array([theirs.predict(int(a), int(b)).est for a, b in zip(u, i, strict=True)])
    assert np.allclose(ours.predict_pairs(u, i), expected, atol=1e-6)


def test_ease_weights_have_an_empty_diagonal_and_score_co_watched_movies(matrix):
    ease = EASE(lam=50).fit(matrix, np.zeros((matrix.n_items, 1)))
    assert np.all(np.diag(ease.B) == 0)
    items = np.flatnonzero(matrix.u == 0)
    _, scores = ease.fold_in(matrix.i[items], matrix.r[items])
    assert np.allclose(scores, ease.rank_users(np.array([0]))[0], atol=1e-4)


class Fixed(Algorithm):
    """Scores chosen by the test, for checking the metrics by hand."""

    key = title = "fixed"
    rates = True

    def __init__(self, table: np.ndarray) -> None:
        self.table = table

    def predict_users(self, users):
        return self.table[users]


def test_ranking_metrics_by_hand():
    ids = np.arange(6)
    train = RatingMatrix(np.array([1, 2]), ids, np.array([0, 1]), np.array([0, 0]), np.array([4.0, 4.0]))
    test = RatingMatrix(np.array([1, 2]), ids, np.array([0, 0, 1]), np.array([1, 5, 3]), np.array([5.0, 3.0, 1.0]))
    scores = np.array([[9, 8, 7, 6, 5, 4], [9, 1, 2, 3, 4, 5]], dtype=float)
    table = evaluate({"fixed": Fixed(scores)}, train, test, k=2)
    row = table.loc["fixed"]
    # user 0 top-2 (movie 0 excluded): [1, 2]; relevant {1, 5}: 1 hit. user 1 top-2: [5, 4]; relevant {3}: 0 hits
    assert row["precision_at_10"] == pytest.approx((1 / 2 + 0) / 2)
    assert row["recall_at_10"] == pytest.approx((1 / 2 + 0) / 2)
    assert row["ndcg_at_10"] == pytest.approx((1.0 / (1 + 1 / np.log2(3)) + 0) / 2)
    assert row["coverage"] == pytest.approx(4 / 6)
    errors = np.clip(np.array([8, 4, 3.0]), 1, 5) - np.array([5.0, 3.0, 1.0])
    assert row["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert row["mae"] == pytest.approx(np.mean(np.abs(errors)))


# --- the trained model -------------------------------------------------------------------------


def test_the_hybrid_beats_every_single_model_on_held_out_stars(model):
    table = model.comparison
    singles = table.drop(index=["hybrid", "ease"])
    assert table.at["hybrid", "rmse"] < singles["rmse"].min()
    assert table.at["popularity", "rmse"] > table.at["svd", "rmse"]  # personalisation helps
    assert np.isnan(table.at["ease", "rmse"])  # EASE ranks, it does not predict stars
    assert table.loc["hybrid", "precision_at_10"] > table.loc["user_cosine", "precision_at_10"]
    assert set(model.metrics_) == {"rmse", "mae", "precision_at_10", "recall_at_10", "ndcg_at_10"}


def test_a_new_user_is_folded_in_without_touching_the_model(model):
    svd = model.algorithms["svd"]
    before = (svd.pu.copy(), svd.qi.copy(), model.algorithms["ease"].B.copy())
    ratings = model.preset(*movies.PRESETS["Sci-fi & action fan"])
    started = time.perf_counter()
    recs, notes = model.recommend(ratings)
    assert time.perf_counter() - started < 1.0
    assert len(recs) == 10 and not notes
    assert not {r.item for r in recs} & set(ratings)  # nothing already rated
    assert all(1 <= r.stars <= 5 for r in recs)
    assert np.array_equal(before[0], svd.pu) and np.array_equal(before[1], svd.qi)
    assert np.array_equal(before[2], model.algorithms["ease"].B)
    liked = {model.title(i) for i, s in ratings.items() if s >= 4}
    assert any(r.because for r in recs)
    assert all(set(r.because) <= liked for r in recs)


def test_folding_in_a_known_user_reproduces_the_trained_predictions(model, data):
    """A trained user's own ratings, folded in as if new, give nearly the same stars."""
    svd, knn = model.algorithms["svd"], model.algorithms["item_knn"]
    user = 0
    row = knn.R.getrow(user)
    for algo in (svd, knn):
        trained = algo.predict_users(np.array([user]))[0]
        folded, _ = algo.fold_in(row.indices, row.data)
        assert np.corrcoef(trained, folded)[0, 1] > 0.9, algo.key
        assert np.mean(np.abs(trained - folded)) < 0.15, algo.key


def test_ratings_change_the_recommendations(model):
    fans = {name: {r.item for r in model.recommend(model.preset(*taste))[0]} for name, taste in movies.PRESETS.items()}
    names = list(fans)
    assert len(fans[names[0]] & fans[names[2]]) < 8


def test_every_algorithm_recommends_for_a_new_user(model):
    ratings = model.preset(*movies.PRESETS["Family movie night"])
    for key, algo in model.algorithms.items():
        recs, _ = model.recommend(ratings, algorithm=key)
        assert len(recs) == 10, key
        assert (recs[0].stars is None) == (not algo.rates), key


def test_a_high_ratings_floor_gives_a_short_list_not_excluded_movies(model):
    ratings = model.preset(*movies.PRESETS["Dark thrillers & crime"])
    floor = int(np.sort(model.counts)[-5])  # only a handful of movies have this many ratings
    recs, _ = model.recommend(ratings, min_ratings=floor)
    assert 0 < len(recs) <= 5
    assert all(model.counts[model.index_of([r.item])[0]] >= floor and r.item not in ratings for r in recs)


def test_cold_start_gives_popular_varied_picks_with_a_note(model):
    recs, notes = model.recommend({})
    assert len(recs) == 10 and len({r.item for r in recs}) == 10
    assert notes and "No ratings yet" in notes[0]
    assert len({r.genres[0] for r in recs if r.genres}) >= 4
    assert np.median([model.counts[model.index_of([r.item])[0]] for r in recs]) > np.median(model.counts)


def test_a_visitor_who_rated_everything_the_same_is_warned(model):
    items = model.search("").index[:6]
    recs, notes = model.recommend(dict.fromkeys(items, 4.0))
    assert len(recs) == 10
    assert any("Every movie got 4 stars" in n for n in notes)


def test_similar_movies_search_and_map(model):
    item = int(model.search("").index[0])
    for how in model.SIMILARITY:
        table = model.similar(item, how, n=5)
        assert len(table) == 5 and item not in table.index
        assert table["similarity"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="unknown similarity"):
        model.similar(item, "vibes")
    with pytest.raises(InputError, match="not in the catalogue"):
        model.similar(10**6)
    word = model.title(item).split()[0]
    assert model.search(word)["title"].str.contains(word, case=False).all()
    points = model.taste_map()
    assert {"x", "y", "title", "genre"} <= set(points.columns) and len(points) > 50
    card = model.card_.to_markdown()
    assert "Hybrid recommender" in card and "rmse" in card


def test_sequels_sit_close_in_taste_space(model):
    """The sample's sequels share their original's taste; the learned movie factors should find it."""
    titles = model.movies["title"]
    by_title = {t: i for i, t in titles.items()}
    pairs = []
    for item, title in titles.items():
        match = re.fullmatch(r"(.+) II \((\d{4})\)", title)
        if match:
            originals = [i for t, i in by_title.items() if re.fullmatch(re.escape(match.group(1)) + r" \(\d{4}\)", t)]
            pairs += [(originals[0], item)] if originals else []
    assert len(pairs) >= 5
    q = model.algorithms["svd"].qi
    q = q / (np.linalg.norm(q, axis=1, keepdims=True) + 1e-9)
    cols = [model.index_of(pair) for pair in pairs]
    sequel = np.mean([q[a] @ q[b] for a, b in cols])
    rng = np.random.default_rng(0)
    random_pairs = rng.integers(0, len(q), (2000, 2))
    assert sequel > np.percentile([q[a] @ q[b] for a, b in random_pairs], 90)


def test_the_shipped_recommenders_load_verified_and_match_a_fresh_training(model):
    (request,) = movies.shipped_requests()
    found = request.find()  # the test cache is empty: only the repository's shipped store can answer
    assert found is not None, "not shipped: run python -m engines.build_models --only movies"
    shipped, source = found
    assert source == SHIPPED and shipped.config == movies.MovieConfig()
    assert set(shipped.algorithms) == set(model.algorithms)  # every recommender, so no tab trains on arrival
    assert list(shipped.comparison.index) == list(model.comparison.index)
    for taste in movies.PRESETS.values():
        ratings = shipped.preset(*taste)
        assert [r.item for r in shipped.recommend(ratings)[0]] == [r.item for r in model.recommend(ratings)[0]]


def test_the_offline_page_asks_for_the_shipped_recommenders():
    wanted = movies.request(movies.MovieConfig(), movies.load_dataset())
    assert wanted.shipped_key == movies.sample_request().shipped_key


def test_models_are_cached_and_reloaded(tmp_path, data):
    store = ArtifactStore(tmp_path / "artifacts")
    resolved = movies.load_dataset()[0]
    config = movies.MovieConfig(svdpp=False)
    assert not movies.is_cached(config, resolved, store)
    first = movies.load_or_train(config, resolved, data, store=store)
    assert movies.is_cached(config, resolved, store)
    again = movies.load_or_train(config, resolved, data, store=store)
    ratings = first.preset(*movies.PRESETS["Romance & comedy lover"])
    assert [r.item for r in first.recommend(ratings)[0]] == [r.item for r in again.recommend(ratings)[0]]
    assert "svdpp" not in again.algorithms
