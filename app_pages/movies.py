"""Movie recommender page: rate a few movies -> engines.movies -> top-N with reasons, explorer, taste map."""

import hashlib

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, on_demand, ui
from engines import movies
from engines.core.errors import InputError, SourceError
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.movies.data import GENRES, MIN_RATINGS
from engines.registry import get_demo

DEMO = get_demo("movies")
RATINGS = "movies_ratings"  # session state: {item id: stars} of the visitor
RATED_ON = "movies_rated_on"  # session state: checksum of the catalogue those ratings refer to
ALGORITHM = "movies_algorithm"
FLOOR = "movies_min_ratings"
OWN_JOB = "movies_own_job"  # the background training on the visitor's upload
TOP_N = 10
GOOD_START = (5, 10)  # how many ratings make a useful taste vector
UPLOAD_MODELS = 3  # models trained on uploads kept in memory (shared by sessions, keyed by file sha)
EXAMPLE_USERS = 60  # made-up users in the downloadable example ratings file
STARS = {1: "★☆☆☆☆", 2: "★★☆☆☆", 3: "★★★☆☆", 4: "★★★★☆", 5: "★★★★★"}
MARKDOWN_SPECIALS = "\\`*_[]<>$~|#"
METRICS = {  # column -> (label, format, higher is better)
    "rmse": ("RMSE", "{:.3f}", False),
    "mae": ("MAE", "{:.3f}", False),
    "precision_at_10": ("Precision@10", "{:.1%}", True),
    "recall_at_10": ("Recall@10", "{:.1%}", True),
    "ndcg_at_10": ("NDCG@10", "{:.3f}", True),
    "coverage": ("Coverage", "{:.1%}", True),
    "novelty": ("Novelty (bits)", "{:.2f}", True),
}

ui.page_header(
    DEMO,
    "Recommenders decide much of what we watch, read and buy. This one learns from thousands of star ratings which "
    "movies the same people enjoy, and serves you in real time: rate a handful of movies you know (or start from a "
    "preset taste), and it folds your ratings into models trained on everyone else, without retraining. Each pick "
    "comes with the movies of yours that led to it. Then explore movies like one you love, see the whole catalogue "
    "as a taste map, and compare eight algorithms, from 'most popular' to matrix factorization and a stacked hybrid, "
    "on ratings they never saw.",
)


@st.cache_resource(max_entries=2, show_spinner="Loading the movie ratings…")
def load_data(settings_key: tuple):
    """The dataset and its provenance (re-resolved when the data settings change)."""
    return movies.load_dataset()


@st.cache_resource(max_entries=1, show_spinner=False)
def upload_models() -> movies.SharedLRU:
    """Models trained on uploaded ratings, by (file sha, data sha), shared by every session under one lock; the
    least recently used is dropped past UPLOAD_MODELS."""
    return movies.SharedLRU(UPLOAD_MODELS)


@st.cache_data(max_entries=2, show_spinner=False)
def example_csv(data_sha256: str, _data: movies.MovieData) -> bytes:
    """A ratings file in the upload format, made up here (never rows of the real data, whose licence bars
    redistribution): invented users with one preset taste each rate popular movies by genre, with noise."""
    rng = np.random.default_rng(0)
    counts = _data.ratings["item"].value_counts().reindex(_data.movies.index, fill_value=0).to_numpy(float)
    weights = (counts + 1) / (counts + 1).sum()
    tastes = list(movies.PRESETS.values())
    rows = []
    for user in range(1, EXAMPLE_USERS + 1):
        loves, dislikes = tastes[user % len(tastes)]
        size = min(len(weights), int(rng.integers(15, 40)))
        for item in rng.choice(_data.movies.index, size=size, replace=False, p=weights):
            genres = _data.movies.at[item, "genres"]
            base = 4.5 if any(g in loves for g in genres) else 1.8 if any(g in dislikes for g in genres) else 3.2
            stars = int(np.clip(np.rint(base + rng.normal(0, 0.7)), 1, 5))
            rows.append((f"user{user:03d}", int(item), _data.movies.at[item, "title"], stars))
    table = pd.DataFrame(rows, columns=["user_id", "movie_id", "title", "rating"])
    return table.to_csv(index=False).encode()


@st.cache_data(max_entries=16, show_spinner=False)
def taste_map(model_key: str, min_ratings: int, _model: movies.MovieModel) -> pd.DataFrame:
    """The 2-D taste projection of the served model (``model_key`` names it), with readable genres."""
    table = _model.taste_map(min_ratings=min_ratings)
    table["genres"] = table["genres"].map(genres_text)
    return table


def genres_text(genres: tuple[str, ...]) -> str:
    """Genre names joined for reading."""
    return ", ".join(genres) if genres else "no genre listed"


def md(text: str) -> str:
    """A title safe to put in Markdown (M*A*S*H stays M*A*S*H, $ is not LaTeX)."""
    return "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in text)


try:
    resolved, data = load_data(ui.settings_key())
except (SourceError, InputError) as exc:
    st.error(f"No movie data is available: {exc} Set GALLERY_DATA_DIR to a folder holding `movielens-100k/`.")
    st.stop()

config = movies.MovieConfig()
served = lifecycle.serve(
    movies.request(config, (resolved, data)),
    fallback=None if resolved.is_sample else movies.sample_request(config),
    what="the recommenders",
)
model = served.model
ui.source_notice(
    resolved,
    f"{model.algorithms['hybrid'].title} of {len(model.algorithms) - 1} algorithms, trained in "
    f"{model.train_seconds:.0f} s (compare them in the ⚖️ tab)",
    lifecycle.source_note(served),
)
if not resolved.is_sample and resolved.spec.citation:
    st.caption(f"**Cite:** {resolved.spec.citation}")

on_demand.sidebar_progress(st.session_state.get(OWN_JOB), "Training on your ratings file")
if st.session_state.setdefault(RATED_ON, served.request.data_sha256) != served.request.data_sha256:
    # The shipped sample's recommenders answered while the real data's trained: the same movie ids name other
    # movies in the real catalogue, so ratings made meanwhile cannot carry over.
    if st.session_state.get(RATINGS):
        st.info("The recommenders of the real data are ready: rate again in the real catalogue.", icon="🔄")
    st.session_state[RATINGS], st.session_state[RATED_ON] = {}, served.request.data_sha256
catalogue = model.catalogue()


# ------------------------------------------------------------------ the visitor's ratings
def my_ratings() -> dict[int, float]:
    """The visitor's ratings, limited to movies of the catalogue in use (the data may have changed)."""
    ratings = st.session_state.setdefault(RATINGS, {})
    stale = [item for item in ratings if item not in catalogue.index]
    for item in stale:
        del ratings[item]
    return ratings


def use_preset(name: str) -> None:
    st.session_state[RATINGS] = model.preset(*movies.PRESETS[name])


def add_rating(item: int | None, stars: int) -> None:
    if item is not None:
        my_ratings()[int(item)] = float(stars)


def remove_rating(item: int) -> None:
    my_ratings().pop(item, None)


def clear_ratings() -> None:
    st.session_state[RATINGS] = {}


def recommendations() -> tuple[list[movies.Recommendation], list[str]]:
    """Top-N for the visitor's ratings with the chosen algorithm (a fold-in: milliseconds)."""
    algorithm = st.session_state.get(ALGORITHM, "hybrid")
    floor = int(st.session_state.get(FLOOR, 0))
    recs, notes = model.recommend(dict(my_ratings()), algorithm=algorithm, n=TOP_N, min_ratings=floor)
    # A high floor leaves fewer than TOP_N movies (the engine never pads with rated or filtered ones).
    if my_ratings() and len(recs) < TOP_N:
        notes = [*notes, f"Only {len(recs)} movies you have not rated have at least {floor} ratings: lower the floor."]
    return recs, notes


def render_onboarding() -> None:
    ratings = my_ratings()
    st.markdown("**1. Start from a taste** (one click rates a few well-known movies for you) **or search and rate**")
    cols = st.columns(len(movies.PRESETS))
    for col, name in zip(cols, movies.PRESETS, strict=True):
        loves, dislikes = movies.PRESETS[name]
        col.button(
            name,
            key=f"movies_preset_{name}",
            on_click=use_preset,
            args=(name,),
            width="stretch",
            help=f"Loves {', '.join(loves)}; dislikes {', '.join(dislikes)}.",
        )
    search_col, pick_col, stars_col, add_col = st.columns([3, 4, 2, 1.3], vertical_alignment="bottom")
    query = search_col.text_input("Search a title", key="movies_query", placeholder="e.g. star, love, night")
    found = model.search(query, limit=30)
    if found.empty:
        pick_col.selectbox("Movie", ["No title matches"], disabled=True, key="movies_pick_none")
        item = None
    else:
        item = pick_col.selectbox(
            "Movie",
            list(found.index),
            format_func=lambda i: f"{found.at[i, 'title']} · {found.at[i, 'ratings']:,} ratings",
            key="movies_pick",
            help="Most-rated first. Type in the search box to narrow the list.",
        )
    stars = stars_col.select_slider(
        "Your stars", options=list(STARS), value=4, format_func=STARS.get, key="movies_stars"
    )
    add_col.button(
        "Rate it", key="movies_add", on_click=add_rating, args=(item, stars), disabled=item is None, width="stretch"
    )

    st.markdown(f"**2. Your ratings** ({len(ratings)}; {GOOD_START[0]} to {GOOD_START[1]} make good picks)")
    if not ratings:
        st.caption("None yet: the picks below are the popular, varied start everyone gets.")
    else:
        ordered = sorted(ratings.items(), key=lambda kv: -kv[1])
        halves = st.container(border=True).columns(2, gap="large")
        for n, (item, value) in enumerate(ordered):
            with halves[n % 2]:
                title_col, stars_col, remove_col = st.columns([6, 2, 1], vertical_alignment="center")
                title_col.markdown(f"{md(model.title(item))} · :gray[{genres_text(catalogue.at[item, 'genres'])}]")
                stars_col.markdown(STARS.get(round(value), f"{value:g}"))
                remove_col.button(
                    "✕", key=f"movies_remove_{item}", on_click=remove_rating, args=(item,), help="Remove this rating"
                )
        st.button("Clear all ratings", key="movies_clear", on_click=clear_ratings)
        if len(ratings) < GOOD_START[0]:
            st.caption(f"Rate {GOOD_START[0] - len(ratings)} more for picks that really follow your taste.")


def render_recommendations() -> None:
    algo_col, floor_col, button_col = st.columns([3, 2, 1.3], vertical_alignment="bottom")
    keys = list(model.algorithms)
    algo_col.selectbox(
        "Algorithm",
        keys,
        index=keys.index("hybrid"),
        format_func=lambda k: model.algorithms[k].title + (" · default" if k == "hybrid" else ""),
        key=ALGORITHM,
        help="Every algorithm serves you from the same ratings; compare them in the ⚖️ tab.",
    )
    floor_col.number_input(
        "Only movies with at least this many ratings",
        min_value=0,
        max_value=int(catalogue["ratings"].max()),
        value=0,
        step=5,
        key=FLOOR,
        help="Raise it to hide obscure movies that a few enthusiasts rated highly.",
    )
    button_col.button("Recommend movies", type="primary", key="movies_recommend", width="stretch")
    try:
        recs, notes = recommendations()
    except InputError as exc:
        st.error(f"{exc} Remove that rating or clear all and start again.")
        return
    algo = model.algorithms[st.session_state.get(ALGORITHM, "hybrid")]
    for note in notes:
        st.info(note, icon="💡")
    if my_ratings():
        st.subheader(f"Your top {len(recs)}, by {algo.title}" if recs else "No picks left under these settings")
    else:
        st.subheader(f"Popular and varied: {len(recs)} picks to start with")
    for start in range(0, len(recs), 2):
        cols = st.columns(2)
        for col, (rank, rec) in zip(cols, enumerate(recs[start : start + 2], start=start + 1), strict=False):
            with col.container(border=True):
                if rec.stars is None:
                    stars = f"ranking score {rec.score:.2f} (this algorithm ranks, it does not predict stars)"
                elif my_ratings():
                    stars = f"predicted **{rec.stars:.1f} ★** for you"
                else:
                    stars = f"average **{rec.stars:.1f} ★**"
                st.markdown(f"**{rank}. {md(rec.title)}**  \n:gray[{genres_text(rec.genres)}] · {stars}")
                if rec.because:
                    liked = " and ".join(f"*{md(t)}*" for t in rec.because)
                    st.caption(f"💡 Because you liked {liked}")
                elif my_ratings():
                    st.caption("From what people with ratings like yours watch most.")
    if my_ratings():
        st.caption(
            "Your ratings are folded into models trained on everyone else's, in milliseconds and without "
            "retraining. 'Because you liked' names the movies of yours that pushed this one up the most "
            "(item-item EASE weights); predicted stars come from the chosen algorithm."
        )


def render_recommend() -> None:
    render_onboarding()
    st.divider()
    render_recommendations()


# ------------------------------------------------------------------ movies like this
def render_similar() -> None:
    st.markdown(
        "Pick a movie and one of three ideas of 'alike': close in the taste space learned from ratings, rated alike "
        "by the same people, or made alike (genres, decade, title words)."
    )
    options = list(catalogue.sort_values("ratings", ascending=False).index)
    favourite = max(my_ratings().items(), key=lambda kv: kv[1], default=(options[0], 0))[0]
    pick_col, how_col, n_col = st.columns([4, 3, 2])
    item = pick_col.selectbox(
        "Movie",
        options,
        index=options.index(favourite),
        format_func=lambda i: f"{catalogue.at[i, 'title']} · {catalogue.at[i, 'ratings']:,} ratings",
        key="movies_similar_item",
    )
    how = how_col.radio(
        "Similar by",
        list(model.SIMILARITY),
        format_func=model.SIMILARITY.get,
        key="movies_similar_how",
        bind="query-params",
    )
    n = n_col.slider("How many", 5, 25, 10, key="movies_similar_n", bind="query-params")
    table = model.similar(item, how=how, n=n).copy()
    table["genres"] = table["genres"].map(genres_text)
    picked = catalogue.loc[item]
    st.markdown(
        f"**{md(picked['title'])}** · :gray[{genres_text(picked['genres'])}] · "
        f"{picked['ratings']:,} ratings, average {picked['average']:.2f} ★"
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "similarity": st.column_config.ProgressColumn("similarity", min_value=0.0, max_value=1.0, format="%.3f"),
            "year": st.column_config.NumberColumn("year", format="%d"),
            "average": st.column_config.NumberColumn("average ★", format="%.2f"),
        },
    )
    if how != "content":
        st.caption("Movies with very few ratings are left out: their similarities rest on too few people.")


# ------------------------------------------------------------------ taste map
def render_map() -> None:
    st.markdown(
        "Every movie placed by its taste factors (the SVD model's movie vectors, projected to 2-D): movies close "
        "together are liked by the same people. Colour: first listed genre; size: number of ratings. Your rated "
        "movies and your current picks are marked."
    )
    floor = st.slider(
        "Show movies with at least this many ratings",
        1,
        100,
        20,
        key="movies_map_min",
        help="Capped at the median: at least half the catalogue is always shown.",
    )
    table = taste_map(served.request.key, floor, model)
    fig = px.scatter(
        table,
        x="x",
        y="y",
        color="genre",
        size="ratings",
        size_max=18,
        hover_name="title",
        hover_data={"x": False, "y": False, "genres": True, "ratings": True, "average": True, "genre": False},
        labels={"x": "taste axis 1", "y": "taste axis 2"},
        opacity=0.6,
        color_discrete_sequence=px.colors.qualitative.Dark24,
        category_orders={"genre": [g for g in GENRES if g in set(table["genre"])]},
    )
    try:
        recs, _ = recommendations()
    except InputError:
        recs = []
    rated = [i for i in my_ratings() if i in table.index]
    picks = [r.item for r in recs if r.item in table.index]
    for items, name, symbol, color in (
        (rated, "rated by you", "star", "#111827"),
        (picks, "recommended to you", "diamond", "#dc2626"),
    ):
        if items:
            shown = table.loc[items]
            fig.add_trace(
                go.Scatter(
                    x=shown["x"],
                    y=shown["y"],
                    mode="markers",
                    name=name,
                    text=shown["title"],
                    hovertemplate="<b>%{text}</b><br>" + name + "<extra></extra>",
                    marker={"symbol": symbol, "size": 15, "color": color, "line": {"width": 1.5, "color": "white"}},
                )
            )
    fig.update_layout(height=620, legend_title_text="", margin={"t": 20})
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    st.plotly_chart(fig, width="stretch")
    missing = len(my_ratings()) - len(rated) + len(recs) - len(picks)
    notes = [f"{len(table):,} of {len(catalogue):,} movies shown."]
    if missing:
        notes.append(f"{missing} of your rated or recommended movies have fewer ratings than the cut-off.")
    if not my_ratings():
        notes.append("Rate movies or pick a preset in the 🎬 tab to see where your taste sits.")
    st.caption(" ".join(notes))


# ------------------------------------------------------------------ compare
def comparison_table(comparison: pd.DataFrame):
    """The comparison, best first by NDCG@10, as readable text with each column's best value highlighted."""
    table = comparison.sort_values("ndcg_at_10", ascending=False)
    shown = pd.DataFrame({"algorithm": table["algorithm"]})
    best = pd.DataFrame(False, index=table.index, columns=["algorithm"])
    for column, (label, fmt, higher) in METRICS.items():
        values = table[column]
        shown[label] = [("ranks only" if pd.isna(v) else fmt.format(v)) for v in values]
        top = values.max() if higher else values.min()
        best[label] = values.eq(top) & (values.notna().sum() > 1)
    shown["eval time"] = [f"{v:.2f} s" for v in table["seconds"]]
    best["eval time"] = False
    return shown.style.apply(
        lambda _: best.map(lambda hit: "background-color: #bbf7d0" if hit else "").to_numpy(), axis=None
    )


def lesson(comparison: pd.DataFrame) -> str:
    """'RMSE-best is not ranking-best', in the numbers of this comparison."""
    singles = comparison.drop(index="hybrid", errors="ignore")
    stars, ranks = singles["rmse"].idxmin(), singles["ndcg_at_10"].idxmax()
    row = comparison.loc
    parts = []
    if stars != ranks:
        parts.append(
            f"**The most accurate stars do not make the best top 10.** {row[stars, 'algorithm']} predicts stars best "
            f"of the single algorithms (RMSE {row[stars, 'rmse']:.3f}), yet its top 10 reaches NDCG@10 "
            f"{row[stars, 'ndcg_at_10']:.3f}; {row[ranks, 'algorithm']} ranks best "
            f"(NDCG@10 {row[ranks, 'ndcg_at_10']:.3f})"
            + (" without predicting a single star." if pd.isna(row[ranks, "rmse"]) else ".")
        )
        if "popularity" in comparison.index and row["popularity", "ndcg_at_10"] > row[stars, "ndcg_at_10"]:
            parts.append(
                f"Even the popularity baseline, worst at stars (RMSE {row['popularity', 'rmse']:.3f}), makes a "
                f"better top 10 than {row[stars, 'algorithm']} (NDCG@10 {row['popularity', 'ndcg_at_10']:.3f})."
            )
    else:
        parts.append(
            f"{row[stars, 'algorithm']} is the best single algorithm at both stars and ranking on this data; "
            "usually the two disagree."
        )
    parts.append(
        "Why: stars are only predicted for movies people chose to rate, while a top 10 must pick, out of the whole "
        "catalogue, what someone will watch, and which movies people choose to watch carries much of that signal."
    )
    if "hybrid" in comparison.index:
        parts.append(
            f"The hybrid uses both: RMSE {row['hybrid', 'rmse']:.3f}, NDCG@10 {row['hybrid', 'ndcg_at_10']:.3f}."
        )
    return " ".join(parts)


def comparison_chart(comparison: pd.DataFrame) -> go.Figure:
    """Stars error, ranking quality and coverage side by side, one row per algorithm."""
    from plotly.subplots import make_subplots

    table = comparison.sort_values("ndcg_at_10")
    panels = (
        ("rmse", "RMSE of stars ↓", "#64748b"),
        ("ndcg_at_10", "NDCG@10 of the top 10 ↑", "#4f46e5"),
        ("coverage", "Catalogue coverage ↑", "#16a34a"),
    )
    fig = make_subplots(1, 3, shared_yaxes=True, subplot_titles=[p[1] for p in panels], horizontal_spacing=0.04)
    for n, (column, title, color) in enumerate(panels, start=1):
        values = table[column]
        fig.add_bar(
            x=values.fillna(0),
            y=table["algorithm"],
            orientation="h",
            marker_color=color,
            text=[("no stars" if pd.isna(v) else METRICS[column][1].format(v)) for v in values],
            textposition="outside",
            cliponaxis=False,
            name=title,
            showlegend=False,
            row=1,
            col=n,
        )
    low = float(table["rmse"].min()) if table["rmse"].notna().any() else 0.0
    fig.update_xaxes(range=[max(0.0, low - 0.15), float(table["rmse"].max()) + 0.06], row=1, col=1)
    for n, column in ((2, "ndcg_at_10"), (3, "coverage")):
        fig.update_xaxes(range=[0, float(table[column].max()) * 1.3], row=1, col=n)
    fig.update_layout(height=80 + 42 * len(table), margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def render_compare() -> None:
    comparison = model.comparison
    st.markdown(
        f"Each of the {model.n_users:,} users' ratings was split {1 - config.test_share:.0%}/{config.test_share:.0%} "
        "at random; every algorithm learned from the first part and is scored on the held-out part. **RMSE/MAE**: "
        "error of predicted stars (lower is better). **Precision/Recall/NDCG@10**: how many held-out movies make a "
        "user's top 10 and how high (higher is better). **Coverage**: share of the catalogue that appears in anyone's "
        "top 10. **Novelty**: how unusual the picks are (bits; higher means less popular)."
    )
    st.dataframe(
        comparison_table(comparison),
        hide_index=True,
        width="stretch",
        column_config={"algorithm": st.column_config.TextColumn(width="medium")},
    )
    st.plotly_chart(comparison_chart(comparison), width="stretch")
    st.caption("↓ lower is better, ↑ higher is better. Algorithms ordered by NDCG@10.")
    st.info(lesson(comparison), icon="💡")
    st.caption(
        "The best value of each column is highlighted. `python -m benchmarks movies` repeats the comparison on "
        "MovieLens 100k with 5-fold cross-validation beside Surprise's own SVD, SVD++ and KNNBaseline."
    )
    st.subheader("The algorithms")
    for key, algo in model.algorithms.items():
        with st.expander(algo.title + (" (default)" if key == "hybrid" else "")):
            st.markdown(algo.description or "No description.")
            kind = "predicts stars and ranks" if algo.rates else "ranks only (no star predictions)"
            st.caption(f"Key `{key}` · {kind}")


# ------------------------------------------------------------------ upload
def render_upload() -> None:
    st.markdown(
        f"Train the same eight recommenders on **your own ratings**: a CSV with a header row and the columns "
        f"`user_id`, `movie_id` (or `title`) and `rating` (1 to 5 stars), about movies of this catalogue "
        f"({data.name}, {data.n_items:,} movies). At least {MIN_RATINGS} ratings, up to "
        f"{MAX_UPLOAD_BYTES // 2**20} MB. The file is read in memory and nothing is stored on disk."
    )
    upload = st.file_uploader("Ratings file", type=["csv", "txt"], key="movies_upload")
    if upload is None:
        st.download_button(
            f"Download an example file ({EXAMPLE_USERS} made-up users rating movies of this catalogue)",
            example_csv(resolved.sha256, data),
            file_name="movie-ratings-example.csv",
            mime="text/csv",
            key="movies_example_download",
        )
        return
    raw, name = upload.getvalue(), ui.upload_name(upload)
    key = (hashlib.sha256(raw).hexdigest(), resolved.sha256)
    store = upload_models()
    entry = store.get(key)
    if entry is None:
        try:
            mine = movies.read_ratings_upload(raw, data, name)
        except InputError as exc:
            st.error(f"**`{name}` cannot be used.** {exc}")
            return
        job_key = st.session_state[OWN_JOB] = f"movies/upload/{key[0]}/{key[1]}"
        trained = on_demand.own_training(
            job_key,
            f"Training on {len(mine.ratings):,} ratings by {mine.n_users:,} users from `{name}`",
            lambda progress: movies.train(mine, config, provenance="user upload", progress=progress),
            auto=True,  # the upload is the request: no button
        )
        if trained is None:
            return
        entry = (mine, trained)
        store.put(key, entry)
    mine, trained = entry
    st.success(
        f"Trained on `{name}`: {len(mine.ratings):,} ratings by {mine.n_users:,} users of "
        f"{mine.ratings['item'].nunique():,} movies ({mine.density:.1%} of the user x movie grid rated), "
        f"in {trained.train_seconds:.1f} s."
    )
    for note in mine.notes:
        st.caption(note)
    st.markdown("**How each algorithm does on ratings held out from your file**")
    st.dataframe(
        comparison_table(trained.comparison),
        hide_index=True,
        width="stretch",
        column_config={"algorithm": st.column_config.TextColumn(width="medium")},
    )
    try:
        recs, notes = trained.recommend(dict(my_ratings()), n=TOP_N)
    except InputError as exc:
        st.error(str(exc))
        return
    who = (
        "for your ratings in the 🎬 tab"
        if my_ratings()
        else "for a newcomer (rate movies in the 🎬 tab to personalise)"
    )
    st.markdown(f"**What a hybrid trained on your file recommends {who}**")
    for note in notes:
        st.caption(note)
    st.dataframe(
        pd.DataFrame(
            {
                "title": [r.title for r in recs],
                "genres": [genres_text(r.genres) for r in recs],
                "stars": [r.stars for r in recs],
                "because you liked": [" · ".join(r.because) for r in recs],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"stars": st.column_config.NumberColumn("stars", format="%.1f ★")},
    )


# ------------------------------------------------------------------ model card
def render_card() -> None:
    tiles = st.columns(4)
    tiles[0].metric("Users", f"{model.n_users:,}")
    tiles[1].metric("Movies", f"{len(catalogue):,}")
    tiles[2].metric("Ratings", f"{model.n_ratings:,}")
    tiles[3].metric("Training time", f"{model.train_seconds:.1f} s")
    for note in model.notes:
        st.caption(note)
    ui.model_card(model.card_, file_name="model-card-movies.md")


TABS = {
    "🎬 Recommend": render_recommend,
    "🔁 Movies like this": render_similar,
    "🗺️ Taste map": render_map,
    "⚖️ Compare algorithms": render_compare,
    "📂 Your ratings": render_upload,
    "🪪 Model card": render_card,
}
ui.stateful_tabs(TABS, key="movies_tab")
