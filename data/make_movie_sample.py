"""Write data/movies_sample/: a made-up movie catalogue and ratings in the MovieLens 100k layout.

Nothing comes from MovieLens (its licence forbids redistribution): titles are built from
word lists, and ratings are drawn from a seeded latent-taste model, so collaborative
filtering has real structure to find. Each genre has a direction in a small taste space;
each viewer is a mix of taste archetypes (genres loved and avoided) plus a hidden taste
vector, and a movie has hidden dimensions besides its genres; a movie's rating is
``3.5 + viewer bias + movie bias + taste . movie + noise``, rounded to 1..5 stars, and
viewers mostly rate movies they were likely to watch (popular ones, and ones close to
their taste), as on a real site. Files: ``u.data`` (user, item, rating, timestamp, tab
separated) and ``u.item`` (``id|title|date||url|19 genre flags``, Latin-1), like
ml-100k. Run: ``python data/make_movie_sample.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "movies_sample"
SEED = 20250214
MOVIES = 320
USERS = 500
DIM = 6
ARCHETYPES = (  # (genres loved, genres avoided)
    (("Action", "Sci-Fi", "Adventure", "War"), ("Romance", "Musical")),
    (("Romance", "Comedy", "Musical"), ("Horror", "War")),
    (("Animation", "Children's", "Fantasy", "Comedy"), ("Horror", "Crime", "Film-Noir")),
    (("Crime", "Thriller", "Film-Noir", "Mystery", "Horror"), ("Children's", "Musical")),
    (("Drama", "Documentary", "Western", "War"), ("Children's", "Animation")),
)
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
# Genre -> (share of the catalogue, words for its titles)
WORDS = {
    "Action": (0.12, ["Fury", "Strike", "Velocity", "Iron", "Blast", "Vendetta", "Rogue", "Impact"]),
    "Adventure": (0.08, ["Quest", "Lost", "Expedition", "Voyage", "Treasure", "Jungle", "Summit", "Compass"]),
    "Animation": (0.05, ["Pixel", "Doodle", "Toon", "Paper", "Crayon", "Puppet", "Sketch", "Cartoon"]),
    "Children's": (0.05, ["Puppy", "Treehouse", "Giggles", "Kite", "Lollipop", "Teddy", "Rainbow", "Picnic"]),
    "Comedy": (0.16, ["Oops", "Mayhem", "Wedding", "Roommates", "Holiday", "Prank", "Hiccup", "Blunder"]),
    "Crime": (0.06, ["Heist", "Vice", "Alibi", "Ransom", "Racket", "Precinct", "Mob", "Getaway"]),
    "Documentary": (0.02, ["Voices", "Frontline", "Truth", "Witness", "Archive", "Portrait", "Roots", "Record"]),
    "Drama": (0.18, ["Silence", "Harbor", "Letters", "Winter", "Promise", "Legacy", "Orchard", "Reckoning"]),
    "Fantasy": (0.03, ["Dragon", "Wizard", "Enchanted", "Rune", "Goblin", "Crown", "Spell", "Faerie"]),
    "Film-Noir": (0.02, ["Shadow", "Smoke", "Midnight", "Dame", "Rain", "Neon", "Alley", "Whisper"]),
    "Horror": (0.05, ["Crypt", "Haunting", "Scream", "Cellar", "Hollow", "Wraith", "Bones", "Fog"]),
    "Musical": (0.02, ["Melody", "Chorus", "Ballroom", "Encore", "Rhythm", "Serenade", "Tap", "Overture"]),
    "Mystery": (0.03, ["Riddle", "Cipher", "Manor", "Clue", "Locket", "Enigma", "Vanishing", "Key"]),
    "Romance": (0.07, ["Love", "Kiss", "Paris", "Sweetheart", "Moonlight", "Roses", "Valentine", "Heartbeat"]),
    "Sci-Fi": (0.06, ["Nebula", "Orbit", "Android", "Galaxy", "Quantum", "Starship", "Cosmos", "Titan"]),
    "Thriller": (0.07, ["Pursuit", "Trap", "Countdown", "Paranoia", "Witness", "Deadline", "Stalker", "Trigger"]),
    "War": (0.02, ["Trenches", "Battalion", "Frontier", "Ceasefire", "Bunker", "Salute", "Convoy", "Valor"]),
    "Western": (0.02, ["Outlaw", "Saddle", "Canyon", "Sheriff", "Dust", "Rustler", "Mesa", "Stampede"]),
}
TAILS = ["Returns", "Rising", "Forever", "at Dawn", "Reloaded", "of the North", "in the City", "Beyond"]
FIRST = ["The", "A", "Operation", "Project", "Last", "Little", "Big", "Dark", "Bright", "Wild"]
COMPANIONS = {  # genres that often come together
    "Action": ["Adventure", "Thriller", "Sci-Fi", "War"],
    "Animation": ["Children's", "Comedy", "Musical"],
    "Children's": ["Animation", "Comedy", "Fantasy"],
    "Comedy": ["Romance", "Children's", "Drama"],
    "Crime": ["Thriller", "Drama", "Film-Noir"],
    "Drama": ["Romance", "War", "Crime"],
    "Horror": ["Thriller", "Sci-Fi"],
    "Mystery": ["Thriller", "Film-Noir"],
    "Romance": ["Comedy", "Drama"],
    "Sci-Fi": ["Action", "Adventure", "Horror"],
    "Thriller": ["Crime", "Action", "Mystery"],
}


def _catalogue(rng: np.random.Generator) -> tuple[list[str], list[int], np.ndarray]:
    names = list(WORDS)
    shares = np.array([WORDS[g][0] for g in names])
    titles: list[str] = []
    years: list[int] = []
    flags = np.zeros((MOVIES, len(GENRES)), dtype=int)
    used: set[str] = set()
    i = 0
    while i < MOVIES:
        main = names[rng.choice(len(names), p=shares / shares.sum())]
        genres = {main}
        for extra in COMPANIONS.get(main, []):
            if rng.random() < 0.25:
                genres.add(extra)
        word = rng.choice(WORDS[main][1])
        shape = rng.integers(4)
        if shape == 0:
            title = f"{rng.choice(FIRST)} {word}"
        elif shape == 1:
            title = f"{word} {rng.choice(TAILS)}"
        elif shape == 2:
            other = rng.choice(WORDS[main][1])
            title = f"{word} and {other}" if other != word else f"{word}!"
        else:
            title = f"{rng.choice(FIRST)} {word} {rng.choice(TAILS)}"
        year = int(np.clip(rng.normal(1988, 10), 1930, 1998))
        if title in used:
            continue
        used.add(title)
        titles.append(title)
        years.append(year)
        for g in genres:
            flags[i, GENRES.index(g)] = 1
        i += 1
        # a franchise: sometimes a sequel follows a popular-looking title
        if i < MOVIES and rng.random() < 0.06:
            titles.append(f"{title} II")
            years.append(min(year + int(rng.integers(2, 5)), 1998))
            flags[i] = flags[i - 1]
            used.add(titles[-1])
            i += 1
    return titles, years, flags


def make(seed: int = SEED) -> tuple[list[str], list[str]]:
    """The two files' lines: (u.data lines, u.item lines)."""
    rng = np.random.default_rng(seed)
    titles, years, flags = _catalogue(rng)
    # a movie = its genres (one axis each) plus a few hidden taste dimensions of its own
    hidden = rng.normal(0, 1, (MOVIES, DIM))
    for i, title in enumerate(titles):  # sequels share their original's hidden taste
        if title.endswith(" II"):
            hidden[i] = hidden[titles.index(title[:-3])] + rng.normal(0, 0.1, DIM)
    genre_share = flags / flags.sum(1, keepdims=True)
    quality = rng.normal(0, 0.45, MOVIES)
    popularity = rng.lognormal(0, 0.9, MOVIES) * np.exp(0.8 * quality)
    # a viewer = a mix of taste archetypes (genres loved and avoided) plus a hidden taste vector
    archetypes = np.full((len(ARCHETYPES), len(GENRES)), -0.3)
    for row, (loved, avoided) in enumerate(ARCHETYPES):
        archetypes[row, [GENRES.index(g) for g in loved]] = 1.2
        archetypes[row, [GENRES.index(g) for g in avoided]] = -1.2
    mix = rng.dirichlet(np.full(len(ARCHETYPES), 0.25), USERS)
    genre_taste = mix @ archetypes + rng.normal(0, 0.3, (USERS, len(GENRES)))
    hidden_taste = rng.normal(0, 0.35 / np.sqrt(DIM), (USERS, DIM))
    leniency = rng.normal(0, 0.35, USERS)
    start = 874_724_710  # September 1997, as in ml-100k
    rows: list[str] = []
    for u in range(USERS):
        n = int(min(20 + rng.geometric(1 / 35), MOVIES // 2))
        affinity = genre_share @ genre_taste[u] + hidden @ hidden_taste[u]
        weight = popularity**0.6 * np.exp(2.5 * affinity)
        chosen = rng.choice(MOVIES, size=n, replace=False, p=weight / weight.sum())
        raw = 3.5 + leniency[u] + quality[chosen] + affinity[chosen] + rng.normal(0, 0.6, n)
        stars = np.clip(np.rint(raw), 1, 5).astype(int)
        times = start + np.sort(rng.integers(0, 200 * 86_400, n))
        rows += [f"{u + 1}\t{i + 1}\t{s}\t{t}" for i, s, t in zip(chosen, stars, times, strict=True)]
    order = rng.permutation(len(rows))
    data_lines = [rows[k] for k in order]
    item_lines = [
        f"{i + 1}|{title} ({year})|01-Jan-{year}|||" + "|".join(str(f) for f in flags[i])
        for i, (title, year) in enumerate(zip(titles, years, strict=True))
    ]
    return data_lines, item_lines


def main() -> None:
    """Write the two files."""
    data_lines, item_lines = make()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "u.data").write_text("\n".join(data_lines) + "\n", encoding="ascii")
    (OUT / "u.item").write_text("\n".join(item_lines) + "\n", encoding="latin-1")
    print(f"wrote {len(data_lines)} ratings of {len(item_lines)} movies to {OUT}")


if __name__ == "__main__":
    main()
