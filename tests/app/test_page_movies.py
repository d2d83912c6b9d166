"""AppTest of the movie recommender page: cold start, presets, search and rate, every tab, bad uploads."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
import streamlit as st

from engines import movies
from engines.movies.data import MIN_RATINGS
from tests.app.helpers import open_page, open_tab, texts

SCIFI = "Sci-fi & action fan"
PICK = re.compile(r"^\*\*(\d+)\. (.+?)\*\*  \n")
COLD_START = "No ratings yet"


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def picks(at) -> list[str]:
    """Titles of the recommendations shown, in rank order."""
    found = [PICK.match(t) for t in texts(at.markdown)]
    return [unescape(m.group(2)) for m in found if m]


def catalogue() -> dict[int, str]:
    _, data = movies.load_dataset()
    return data.movies["title"].to_dict()


def rated(at) -> dict[int, float]:
    return dict(at.session_state["movies_ratings"])


def test_cold_start_then_a_preset_gives_explained_personal_picks():
    at = open_page("movies")
    titles = catalogue()
    # No ratings yet: popular, varied picks and the note that says so.
    assert any(COLD_START in t for t in texts(at.info)), texts(at.info)
    cold = picks(at)
    assert len(cold) == 10 and set(cold) <= set(titles.values()), cold
    assert any("Sample data" in t for t in texts(at.warning)), "the bundled sample is labelled"

    at.button(key=f"movies_preset_{SCIFI}").click().run()
    at.button(key="movies_recommend").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = rated(at)
    assert 5 <= len(mine) <= 10, mine
    loved = {titles[i] for i, s in mine.items() if s >= 4}
    shown = picks(at)
    assert len(shown) == 10 and len(set(shown)) == 10, shown
    assert set(shown) <= set(titles.values()), "every pick is a catalogue title"
    assert not set(shown) & {titles[i] for i in mine}, "nothing the visitor already rated is recommended"
    assert not any(COLD_START in t for t in texts(at.info))
    assert any(s.value.startswith("Your top 10") for s in at.subheader), texts(at.subheader)
    reasons = [t for t in texts(at.caption) if t.startswith("💡 Because you liked")]
    assert reasons, texts(at.caption)
    assert all(any(f"*{title}*" in unescape(r) for title in loved) for r in reasons), (loved, reasons)
    assert any("predicted" in t and "★" in t for t in texts(at.markdown))

    # Remove one rating, then clear them all: back to the cold start.
    first = next(iter(mine))
    at.button(key=f"movies_remove_{first}").click().run()
    assert first not in rated(at) and len(rated(at)) == len(mine) - 1
    at.button(key="movies_clear").click().run()
    assert rated(at) == {}
    assert any(COLD_START in t for t in texts(at.info))
    assert not at.exception


def test_search_rate_and_every_algorithm():
    at = open_page("movies")
    titles = catalogue()
    target = next(t for t in titles.values() if "Starship" in t)
    at.text_input(key="movies_query").set_value("starship").run()
    options = at.selectbox(key="movies_pick").options
    assert options and all("Starship" in o for o in options), options
    item = next(i for i, t in titles.items() if t == target)
    at.selectbox(key="movies_pick").set_value(item).run()
    at.select_slider(key="movies_stars").set_value(5).run()
    at.button(key="movies_add").click().run()
    assert rated(at) == {item: 5.0}
    # A title nobody has: no crash, nothing to rate.
    at.text_input(key="movies_query").set_value("zzzz no such film").run()
    assert not at.exception
    assert at.button(key="movies_add").disabled
    # One rating: personal picks, with the reminder that more ratings help.
    at.button(key="movies_recommend").click().run()
    assert any("Rate 4 more" in t for t in texts(at.caption)), texts(at.caption)
    at.button(key=f"movies_preset_{SCIFI}").click().run()
    for key in ("popularity", "user_cosine", "item_knn", "svd", "svdpp", "content", "ease", "hybrid"):
        at.selectbox(key="movies_algorithm").set_value(key).run()
        at.button(key="movies_recommend").click().run()
        assert not at.exception, (key, [e.value for e in at.exception])
        shown = picks(at)
        assert len(shown) == 10 and set(shown) <= set(titles.values()), (key, shown)
        if key == "ease":
            assert any("ranking score" in t for t in texts(at.markdown)), "EASE ranks without predicting stars"
    # A floor on the number of ratings hides obscure movies.
    counts = movies.load_dataset()[1].ratings["item"].value_counts()
    at.number_input(key="movies_min_ratings").set_value(150).run()
    shown = picks(at)
    by_title = {t: i for i, t in titles.items()}
    assert shown and all(counts[by_title[t]] >= 150 for t in shown), shown
    # A floor above almost every movie: only the few that pass, never a rated or filtered one, and a note.
    floor = int(counts.nlargest(3).iloc[-1])
    at.number_input(key="movies_min_ratings").set_value(floor).run()
    assert not at.exception
    shown = picks(at)
    assert len(shown) <= 3 and all(counts[by_title[t]] >= floor for t in shown), shown
    assert not set(shown) & {titles[i] for i in rated(at)}
    assert any("lower the floor" in t for t in texts(at.info)), texts(at.info)


def test_similar_movies_taste_map_compare_and_card():
    at = open_page("movies")
    at.button(key=f"movies_preset_{SCIFI}").click().run()
    mine = rated(at)
    favourite = max(mine, key=mine.get)

    open_tab(at, "movies_tab", "🔁 Movies like this")
    assert at.selectbox(key="movies_similar_item").value == favourite, "starts from the visitor's favourite"
    for how in movies.MovieModel.SIMILARITY:
        at.radio(key="movies_similar_how").set_value(how).run()
        assert not at.exception, how
        table = at.dataframe[0].value
        assert len(table) == 10, (how, table)
        assert catalogue()[favourite] not in set(table["title"]), "a movie is not listed as like itself"
        assert table["similarity"].is_monotonic_decreasing, (how, table["similarity"])
    at.slider(key="movies_similar_n").set_value(5).run()
    assert len(at.dataframe[0].value) == 5

    open_tab(at, "movies_tab", "🗺️ Taste map")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {trace.get("name") for trace in figure["data"]}
    assert {"rated by you", "recommended to you"} <= names, names
    hover = " ".join(str(t.get("hovertext", "")) for t in figure["data"])
    assert catalogue()[favourite] in hover or catalogue()[favourite] in json.dumps(figure), "hover shows titles"

    open_tab(at, "movies_tab", "⚖️ Compare algorithms")
    table = at.dataframe[0].value
    algorithms = set(table["algorithm"])
    assert {"Popularity baseline", "Hybrid (stacked blend)", "Implicit item-item (EASE)"} <= algorithms
    assert len(table) == 8, table
    assert {"RMSE", "MAE", "Precision@10", "Recall@10", "NDCG@10", "Coverage", "Novelty (bits)"} <= set(table.columns)
    lesson = " ".join(texts(at.info))
    assert "RMSE" in lesson and "NDCG@10" in lesson and "The hybrid uses both" in lesson, lesson
    assert len(at.expander) == 8, "each algorithm's description"

    open_tab(at, "movies_tab", "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))
    assert {m.label for m in at.metric} >= {"Users", "Movies", "Ratings", "Training time"}


BAD_UPLOADS = [
    ("wrong-columns.csv", b"name,film,score\n" + b"a,1,4\n" * 300, "Use the header user_id,movie_id,rating"),
    ("out-of-range.csv", b"user_id,movie_id,rating\n" + b"1,1,4\n2,2,4\n" * 150 + b"3,3,7\n", "not a number from 1"),
    ("unknown-movie.csv", b"user_id,movie_id,rating\n" + b"1,1,4\n2,99999,3\n" * 150, "not in the catalogue"),
    ("too-few.csv", b"user_id,movie_id,rating\n1,1,4\n2,2,3\n", f"at least {MIN_RATINGS}"),
    ("empty.csv", b"", "is empty"),
]


def test_upload_trains_and_bad_files_show_what_to_fix(monkeypatch):
    # Keep the bytes of the example file the page offers: they are the good upload below.
    offered: dict[str, bytes] = {}
    real = st.download_button

    def keep(label, data, *args, **kwargs):
        offered[kwargs.get("file_name", label)] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", keep)
    at = open_page("movies")
    open_tab(at, "movies_tab", "📂 Your ratings")
    example = offered["movie-ratings-example.csv"]
    frame = pd.read_csv(io.BytesIO(example))
    assert list(frame.columns) == ["user_id", "movie_id", "title", "rating"]
    assert frame["user_id"].nunique() == 60 and frame["rating"].between(1, 5).all()
    assert frame["movie_id"].isin(catalogue()).all()
    for name, payload, message in BAD_UPLOADS:
        at.file_uploader(key="movies_upload").set_value((name, payload, "text/csv")).run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert any(message in t and name in t for t in texts(at.error)), (name, texts(at.error))
    at.file_uploader(key="movies_upload").set_value(("mine.csv", example, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at.error)
    assert any("Trained on `mine.csv`" in t and "60 users" in t for t in texts(at.success)), texts(at.success)
    comparison, picked = at.dataframe[0].value, at.dataframe[1].value
    assert len(comparison) == 8 and len(picked) == 10
    # The page keeps working after the uploads.
    open_tab(at, "movies_tab", "🎬 Recommend")
    at.button(key=f"movies_preset_{SCIFI}").click().run()
    at.button(key="movies_recommend").click().run()
    assert not at.exception
    assert len(picks(at)) == 10


@pytest.mark.parametrize("stars", [0, 6])
def test_out_of_range_stars_in_state_show_an_error(stars):
    at = open_page("movies")
    item = next(iter(catalogue()))
    at.session_state["movies_ratings"] = {item: stars}
    at.run()
    assert not at.exception
    assert any("out of range" in t and "Remove that rating" in t for t in texts(at.error)), texts(at.error)


def test_ratings_made_on_another_catalogue_are_cleared_with_a_note():
    # As when the shipped sample's recommenders answered while the real data's trained, then took over:
    # the same ids name other movies, so the ratings made meanwhile are dropped and the visitor is told.
    at = open_page("movies")
    at.button(key=f"movies_preset_{SCIFI}").click().run()
    assert rated(at)
    at.session_state["movies_rated_on"] = "checksum of another catalogue"
    at.run()
    assert not at.exception
    assert rated(at) == {}
    assert any("rate again" in t for t in texts(at.info)), texts(at.info)
    assert any(COLD_START in t for t in texts(at.info))
