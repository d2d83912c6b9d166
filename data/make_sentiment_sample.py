"""Write ``sentiment_sample.tsv``: a small labelled corpus of review sentences and tweets for offline use.

Every sentence is composed here from hand-written templates and phrase lists with a fixed
seed; none is copied from UCI Sentiment Labelled Sentences or anywhere else. Four domains
(product reviews, restaurant reviews, movie reviews, tweets), three labels (positive,
negative, neutral). Format: a header row, then ``text<TAB>label<TAB>domain``.

Run: ``python data/make_sentiment_sample.py`` (deterministic).
"""

from __future__ import annotations

import random
from pathlib import Path

SEED = 20261123
PER_DOMAIN_AND_LABEL = {"positive": 50, "negative": 50, "neutral": 25}
OUT = Path(__file__).with_name("sentiment_sample.tsv")

SUBJECTS = {
    "product": ["this phone", "the charger", "the headset", "the case", "this cable", "the battery", "the screen"],
    "restaurant": ["the food", "the pasta", "our waiter", "the service", "this place", "the dessert", "the staff"],
    "movie": ["this movie", "the film", "the plot", "the acting", "the soundtrack", "the ending", "the cast"],
    "tweet": ["my morning", "today", "this weekend", "the new update", "my commute", "the game", "this coffee"],
}
POSITIVE_WORDS = [
    "great", "excellent", "wonderful", "fantastic", "superb", "lovely", "brilliant", "amazing", "gorgeous",
    "stunning", "reliable", "delicious", "gripping", "beautiful", "solid", "impressive", "fresh", "perfect",
]  # fmt: skip
NEGATIVE_WORDS = [
    "terrible", "awful", "horrible", "disappointing", "useless", "dreadful", "poor", "bad", "flimsy", "bland",
    "boring", "overpriced", "buggy", "stale", "mediocre", "broken", "annoying", "pathetic",
]  # fmt: skip
POSITIVE_TEMPLATES = [
    "{S} is {P}.",
    "I really love {s}, it is {p}!",
    "Honestly {s} was {p} and I would recommend it.",
    "{S} exceeded my expectations, just {p}.",
    "It was a {p} experience, {s} made my day.",
    "Five stars: {s} is {p} and worth every penny.",
    "So happy with {s}, absolutely {p}.",
    "{S} works perfectly and feels {p}.",
    "Quick, friendly and {p}: {s} is the best I have had.",
    "Thanks to {s} I had a {p} time, will come back.",
    "{S} is worth it, I am very pleased, {p}.",
    "Not bad at all, {s} is actually {p}.",
    "{S} lasts all day and looks {p}.",
    "I have owned many, and {s} is the most {p} one.",
]
NEGATIVE_TEMPLATES = [
    "{S} is {n}.",
    "I hate {s}, it is {n}.",
    "Honestly {s} was {n} and I would not recommend it.",
    "{S} was a waste of money, just {n}.",
    "It was a {n} experience, {s} ruined my day.",
    "One star: {s} is {n} and not worth it.",
    "Very disappointed with {s}, truly {n}.",
    "{S} broke after a week, {n}.",
    "We waited forever and {s} was cold and {n}. Never again.",
    "Sadly {s} was {n}, nothing worked as promised.",
    "{S} was rude and slow, a {n} experience.",
    "Not good at all: {s} is {n}.",
    "{S} died by lunchtime, {n}.",
    "I have owned many, and {s} is the most {n} one.",
]
NEUTRAL_TEMPLATES = [
    "{S} arrived on {day}.",
    "I used {s} on {day}.",
    "{S} comes in {colour}.",
    "We tried {s} for the first time on {day}.",
    "{S} is about {size} as the old one.",
    "I am writing about {s}.",
    "Has anyone else tried {s} yet?",
    "{S} was delivered in a {colour} box.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
COLOURS = ["black", "white", "blue", "grey", "red"]
SIZES = ["the same size", "the same weight", "the same length"]
TWEET_TAILS = ["", " #monday", " lol", " :)", " #review", " @friend"]


def sentence(template: str, subject: str, rng: random.Random) -> str:
    """Fill one template."""
    text = template.format(
        s=subject,
        S=subject[:1].upper() + subject[1:],
        p=rng.choice(POSITIVE_WORDS),
        n=rng.choice(NEGATIVE_WORDS),
        P=rng.choice(POSITIVE_WORDS),
        day=rng.choice(DAYS),
        colour=rng.choice(COLOURS),
        size=rng.choice(SIZES),
    )
    return text


def main() -> None:
    """Write the sample file."""
    rng = random.Random(SEED)
    templates = {"positive": POSITIVE_TEMPLATES, "negative": NEGATIVE_TEMPLATES, "neutral": NEUTRAL_TEMPLATES}
    rows: set[tuple[str, str, str]] = set()
    for domain, subjects in SUBJECTS.items():
        for label, count in PER_DOMAIN_AND_LABEL.items():
            made = set()
            while len(made) < count:
                text = sentence(rng.choice(templates[label]), rng.choice(subjects), rng)
                if domain == "tweet":
                    text += rng.choice(TWEET_TAILS)
                made.add((text, label, domain))
            rows |= made
    ordered = sorted(rows)
    rng.shuffle(ordered)
    lines = ["text\tlabel\tdomain", *("\t".join(row) for row in ordered)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
