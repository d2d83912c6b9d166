"""Intents and context: what kind of message this is, and what a follow-up question is about.

The intent classifier (greeting, thanks, question, out of scope, ask for a human) is TF-IDF over words and
character n-grams with logistic regression, trained on ``data/chatbot_intents.tsv`` (examples the project
wrote); its held-out accuracy comes from a stratified 25% split. A follow-up ("and how fast is it?") is
rewritten by adding the informative words of the previous question, so retrieval knows the topic.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from engines.chatbot.retrieval import STOPWORDS, terms
from engines.registry import DEMOS, ROOT

INTENTS_FILE = ROOT / "data" / "chatbot_intents.tsv"
SEED = 0
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.-]*")
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|what about|how about|so|then|or)\b", re.I)
FOLLOW_UP_WORDS = 4  # a question with a pronoun and at most this many informative words leans on the last one
PRONOUNS = frozenset("it its it's they them their this that these those there he she one ones".split())  # noqa: SIM905


class Intent(StrEnum):
    """What a message asks for."""

    GREETING = "greeting"
    THANKS = "thanks"
    QUESTION = "question"
    OUT_OF_SCOPE = "out_of_scope"
    HUMAN = "human"


@dataclass
class IntentClassifier:
    """TF-IDF (words 1-2, characters 2-4) + logistic regression over the project's examples."""

    pipeline: object
    accuracy: float  # on the held-out quarter
    n_train: int
    n_test: int

    def predict(self, text: str) -> tuple[Intent, float]:
        """The most likely intent and its probability."""
        probabilities = self.pipeline.predict_proba([text])[0]
        best = int(np.argmax(probabilities))
        return Intent(self.pipeline.classes_[best]), float(probabilities[best])


def load_examples() -> pd.DataFrame:
    """The project's intent examples (columns intent, text)."""
    frame = pd.read_csv(INTENTS_FILE, sep="\t", dtype=str, keep_default_na=False)
    frame = frame[frame["text"].str.strip() != ""]
    unknown = set(frame["intent"]) - {i.value for i in Intent}
    if unknown:
        raise ValueError(f"{INTENTS_FILE.name}: unknown intents {sorted(unknown)}")
    return frame.reset_index(drop=True)


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True)),
        ]
    )
    return make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000, random_state=SEED))


def train_intents() -> IntentClassifier:
    """Fit on 75% of the examples, measure on the other 25%, then refit on all of them."""
    from sklearn.model_selection import train_test_split

    frame = load_examples()
    train, test = train_test_split(frame, test_size=0.25, stratify=frame["intent"], random_state=SEED)
    held_out = _pipeline().fit(train["text"], train["intent"])
    accuracy = float((held_out.predict(test["text"]) == test["intent"]).mean())
    return IntentClassifier(_pipeline().fit(frame["text"], frame["intent"]), accuracy, len(train), len(test))


def content_words(text: str) -> list[str]:
    """The informative words of a text, in order (stop words and pronouns left out)."""
    return [w for w in _WORD.findall(text) if w.lower() not in STOPWORDS and w.lower() not in PRONOUNS]


@functools.cache
def _demo_titles() -> tuple[frozenset[str], ...]:
    return tuple(title for title in (frozenset(terms(demo.title)) for demo in DEMOS) if title)


def names_a_demo(message: str) -> bool:
    """Whether a message names one of the gallery's demos ("the churn predictor", "text summarizer").

    A demo is named when the message holds two of its title's words (stemmed), or the only one.
    """
    words = set(terms(message))
    return any(len(words & title) >= min(2, len(title)) for title in _demo_titles())


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the previous one.

    It starts with "and", "what about"..., or it is short and points back with a pronoun: "how fast is it?",
    and, when it names no demo of its own, "how long does it take to reply?" (up to four informative words).
    """
    words = [w.lower() for w in _WORD.findall(question)]
    if not words:
        return False
    if FOLLOW_UP_START.match(question):
        return True
    if not any(w in PRONOUNS for w in words):
        return False
    informative = len(content_words(question))
    return informative <= 2 or (informative <= FOLLOW_UP_WORDS and not names_a_demo(question))


def rewrite(question: str, history: list[str]) -> str:
    """The question with the topic of the previous one added when it is a follow-up (else unchanged).

    Args:
        question: The new message.
        history: The earlier questions (as rewritten), oldest first.
    """
    if not history or not is_follow_up(question):
        return question
    topic = [w for w in content_words(history[-1]) if w.lower() not in {c.lower() for c in content_words(question)}]
    if not topic:
        return question
    return f"{' '.join(topic)}: {question.strip()}"
