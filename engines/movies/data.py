"""Movie data: MovieLens 100k (or the bundled made-up sample), uploads of ratings, new-user ratings."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, bundled_sample, resolve_dataset
from engines.core.errors import InputError, SourceError
from engines.core.progress import Progress, null_progress
from engines.core.uploads import MAX_UPLOAD_BYTES, decode_text

ROOT = Path(__file__).resolve().parents[2]
ZIP = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
MOVIELENS = DatasetSpec(
    name="movielens-100k",
    title="MovieLens 100k (100,000 ratings, 943 users, 1,682 movies)",
    files={
        "u.data": "f30990191c9ccfc53952ae5d6e29c78a3e35d7237d3127a7392ae534facea542",
        # Not pinned: the reference copy in ../shared/data has its one accented title ("Mis\xe9rables")
        # re-encoded, so its checksum is not GroupLens's. The reader checks the file's shape instead.
        "u.item": None,
    },
    remote={"u.data": RemoteFile(ZIP, "ml-100k/u.data"), "u.item": RemoteFile(ZIP, "ml-100k/u.item")},
    sample=ROOT / "data" / "movies_sample",
    citation=(
        "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. "
        "ACM Transactions on Interactive Intelligent Systems 5(4)."
    ),
    licence="GroupLens research licence: no redistribution, no commercial use (downloaded, never bundled)",
    homepage="https://grouplens.org/datasets/movielens/100k/",
)
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
MIN_RATING, MAX_RATING = 1.0, 5.0
MAX_UPLOAD_ROWS = 2_000_000
MIN_RATINGS = 200  # fewer ratings than this cannot train a recommender worth showing
USER_COLUMNS = ("user_id", "user", "userid")
MOVIE_COLUMNS = ("movie_id", "item_id", "movie", "item", "movieid", "itemid")
TITLE_COLUMNS = ("title", "movie_title", "name")
RATING_COLUMNS = ("rating", "stars", "score")


@dataclass(frozen=True)
class MovieData:
    """Ratings and the catalogue they refer to.

    Attributes:
        ratings: Columns ``user``, ``item`` (int ids) and ``rating`` (float), one row per (user, item).
        movies: Indexed by item id; columns ``title``, ``year`` (float, NaN when unknown), ``genres``
            (tuple of names) and one 0/1 column per genre.
        name: Where the data came from, in words.
        notes: What reading the data did (dropped rows, merged duplicates), in words.
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    name: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_users(self) -> int:
        """Distinct users."""
        return int(self.ratings["user"].nunique())

    @property
    def n_items(self) -> int:
        """Movies in the catalogue."""
        return len(self.movies)

    @property
    def density(self) -> float:
        """Share of the user x movie matrix that is rated."""
        return len(self.ratings) / max(self.n_users * self.n_items, 1)

    def title(self, item: int) -> str:
        """The title of ``item`` (its id when the catalogue does not know it)."""
        return str(self.movies["title"].get(item, f"movie {item}"))


def load_dataset(progress: Progress = null_progress) -> tuple[ResolvedDataset, MovieData]:
    """Resolve MovieLens 100k (local dir, cache, download, bundled sample) and read it."""
    resolved = resolve_dataset(MOVIELENS, progress)
    if resolved.is_sample:
        return resolved, read_sample(resolved)
    return resolved, read_movielens(resolved.paths["u.data"], resolved.paths["u.item"], name="MovieLens 100k")


def sample_dataset() -> tuple[ResolvedDataset, MovieData]:
    """The bundled made-up catalogue alone (what the shipped recommenders were trained on)."""
    resolved = bundled_sample(MOVIELENS)
    return resolved, read_sample(resolved)


def read_sample(resolved: ResolvedDataset) -> MovieData:
    """Read the bundled sample folder (u.data and u.item in the MovieLens layout)."""
    folder = resolved.paths["sample"]
    return read_movielens(folder / "u.data", folder / "u.item", name="Made-up sample catalogue")


def _year(title: str, date: str) -> float:
    match = re.search(r"\((\d{4})\)\s*$", title)
    if match:
        return float(match.group(1))
    match = re.search(r"(\d{4})$", date or "")
    return float(match.group(1)) if match else float("nan")


def read_catalogue(path: Path | str) -> pd.DataFrame:
    """Read a ``u.item`` file (pipe separated, 19 genre flags; GroupLens ships it in Latin-1).

    Raises:
        SourceError: the file does not have the u.item shape.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")  # a re-saved copy
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # the original
    columns = ["item", "title", "date", "video_date", "url", *GENRES]
    if any(line.count("|") != len(columns) - 1 for line in text.splitlines() if line.strip()):
        raise SourceError(f"{path} is not a MovieLens u.item file (expected {len(columns)} fields per line).")
    frame = pd.read_csv(io.StringIO(text), sep="|", names=columns, dtype={"title": str, "date": str})
    frame["title"] = frame["title"].fillna("").astype(str).str.strip()
    frame.loc[frame["title"].isin(["", "unknown"]), "title"] = "Unknown title"
    frame["year"] = [_year(t, d) for t, d in zip(frame["title"], frame["date"].fillna(""), strict=True)]
    flags = frame[list(GENRES)].fillna(0).astype(int)
    frame["genres"] = [tuple(g for g in GENRES if row[g]) for _, row in flags.iterrows()]
    movies = pd.concat([frame[["item", "title", "year", "genres"]], flags], axis=1).set_index("item")
    return movies


def read_movielens(ratings_path: Path | str, items_path: Path | str, *, name: str) -> MovieData:
    """Read ``u.data`` (tab separated user, item, rating, timestamp) and ``u.item``."""
    ratings = pd.read_csv(ratings_path, sep="\t", names=["user", "item", "rating", "timestamp"])
    ratings = ratings[["user", "item", "rating"]].astype({"user": int, "item": int, "rating": float})
    return MovieData(ratings=ratings, movies=read_catalogue(items_path), name=name)


def _pick(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for candidate in names:
        if candidate in columns:
            return columns[candidate]
    return None


def shown(value: object, limit: int = 60) -> str:
    """A cell or header of an uploaded file, quoted for a message that pages render as Markdown.

    In a code span (so ``[x](https://…)`` or ``![x](…)`` in a cell stays text), without backticks, line breaks or
    control characters, and shortened past ``limit`` characters.
    """
    text = "".join(c if c.isprintable() else " " for c in str(value)).replace("`", "'")
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"`{text}`" if text.strip() else "(empty)"


def read_ratings_upload(raw: bytes, catalogue: MovieData, filename: str = "ratings.csv") -> MovieData:
    """Read a user's ratings CSV against ``catalogue``'s movies.

    The file needs a user column (``user_id``), a movie column (``movie_id`` or ``title``) and
    a ``rating`` column from 1 to 5. Unknown movies and out-of-range ratings are refused
    with the offending row; a repeated (user, movie) keeps the last rating, with a note.

    Raises:
        InputError: what to fix in the file.
    """
    if not raw or not raw.strip():
        raise InputError(f"`{filename}` is empty. Upload a CSV with columns user_id, movie_id (or title), rating.")
    text = decode_text(
        raw,
        filename,
        max_bytes=MAX_UPLOAD_BYTES,
        expected="a CSV of ratings with user_id, movie_id (or title) and rating",
    )
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_UPLOAD_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        raise InputError(f"This is not a readable CSV file ({exc}). Save the sheet as CSV (comma separated).") from exc
    if len(frame) > MAX_UPLOAD_ROWS:
        raise InputError(f"The file has more than {MAX_UPLOAD_ROWS:,} rows. Upload at most that many ratings.")
    columns = {str(c).strip().lower(): c for c in frame.columns}
    user, rating = _pick(columns, USER_COLUMNS), _pick(columns, RATING_COLUMNS)
    movie, title = _pick(columns, MOVIE_COLUMNS), _pick(columns, TITLE_COLUMNS)
    missing = [n for n, c in (("user_id", user), ("rating", rating)) if c is None]
    if movie is None and title is None:
        missing.append("movie_id or title")
    if missing:
        found = ", ".join(map(shown, frame.columns[:8])) or "none"
        raise InputError(
            f"The file has no {' and no '.join(missing)} column (found: {found}). "
            "Use the header user_id,movie_id,rating (or user_id,title,rating)."
        )
    if frame.empty:
        raise InputError("The file has a header but no ratings.")
    stars = pd.to_numeric(frame[rating].str.strip(), errors="coerce")
    bad = stars.isna() | (stars < MIN_RATING) | (stars > MAX_RATING)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"Row {row + 2}: rating {shown(frame[rating].iloc[row])} is not a number from 1 to 5. "
            f"{int(bad.sum())} row(s) have this problem."
        )
    if movie is not None:
        items = pd.to_numeric(frame[movie].str.strip(), errors="coerce")
        unknown = items.isna() | ~items.isin(catalogue.movies.index)
        label = frame[movie]
    else:
        lookup = {t.lower(): i for i, t in catalogue.movies["title"].items()}
        items = frame[title].str.strip().str.lower().map(lookup)
        unknown = items.isna()
        label = frame[title]
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"Row {row + 2}: movie {shown(label.iloc[row])} is not in the catalogue ({catalogue.name}). "
            f"{int(unknown.sum())} row(s) name unknown movies; use ids from the catalogue."
        )
    users = frame[user].str.strip()
    if (users == "").any():
        row = int(np.flatnonzero((users == "").to_numpy())[0])
        raise InputError(f"Row {row + 2}: the user_id is empty.")
    codes, _ = pd.factorize(users)
    ratings = pd.DataFrame({"user": codes + 1, "item": items.astype(int), "rating": stars.astype(float)})
    notes: list[str] = []
    duplicated = ratings.duplicated(["user", "item"], keep="last")
    if duplicated.any():
        notes.append(f"{int(duplicated.sum())} repeated (user, movie) rating(s): the last one of each was kept.")
        ratings = ratings[~duplicated]
    if len(ratings) < MIN_RATINGS:
        raise InputError(f"The file has {len(ratings)} distinct ratings; a recommender needs at least {MIN_RATINGS}.")
    if ratings["user"].nunique() < 2 or ratings["item"].nunique() < 2:
        raise InputError("The ratings need at least two users and two movies to find anything in common.")
    return MovieData(ratings.reset_index(drop=True), catalogue.movies, name="Your uploaded ratings", notes=tuple(notes))


def clean_new_ratings(ratings: dict[int, float], movies: pd.DataFrame) -> tuple[dict[int, float], list[str]]:
    """Check a new visitor's ratings: known movies, stars from 1 to 5.

    Returns:
        The ratings as ``{item: float}``, and warnings in words (e.g. every rating the same).

    Raises:
        InputError: an unknown movie id or a rating out of range.
    """
    clean: dict[int, float] = {}
    for item, stars in ratings.items():
        try:
            key = int(item)
            value = float(stars)
        except (TypeError, ValueError) as exc:
            raise InputError(f"Movie {item!r} has rating {stars!r}; use a whole movie id and 1 to 5 stars.") from exc
        if key not in movies.index:
            raise InputError(f"Movie id {key} is not in the catalogue.")
        if not MIN_RATING <= value <= MAX_RATING or np.isnan(value):
            raise InputError(f"{movies.at[key, 'title']}: {value:g} stars is out of range; use 1 to 5.")
        clean[key] = value
    warnings = []
    if len(clean) >= 2 and len(set(clean.values())) == 1:
        warnings.append(
            f"Every movie got {next(iter(clean.values())):g} stars, so they say what you watch but not what you "
            "prefer: the picks lean on what people who watched the same movies liked."
        )
    return clean, warnings
