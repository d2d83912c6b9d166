"""Evaluation on the project's question sets: retrieval recall@k and MRR, refusals, grounding, answer time.

``data/chatbot_questions.tsv`` holds questions about the gallery, each with an ``evidence`` phrase copied from
the passage that answers it (a passage is relevant when it contains the phrase). The same fact is often stated
twice (a README table and an FAQ entry), so ``data/chatbot_judgements.tsv`` adds, per question, phrases from
other passages judged to answer it: the passages every retriever put in its top 3 were pooled and judged
blind, without knowing which retriever found them (TREC-style pooling). Metrics use both unless told
``pooled=False`` (the single phrase only, reported beside them). ``data/chatbot_followups.tsv``
pairs a question with a follow-up; ``data/chatbot_unanswerable.tsv`` holds questions the knowledge base cannot
answer. Each file is split into ``dev`` (used to choose the "I don't know" bar) and ``test`` (reported).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engines.chatbot.answer import Chatbot
from engines.chatbot.knowledge import Passage
from engines.chatbot.retrieval import Mode, Retriever, confidence
from engines.core.progress import Progress, null_progress
from engines.registry import ROOT

QUESTIONS = ROOT / "data" / "chatbot_questions.tsv"
FOLLOWUPS = ROOT / "data" / "chatbot_followups.tsv"
JUDGEMENTS = ROOT / "data" / "chatbot_judgements.tsv"
UNANSWERABLE = ROOT / "data" / "chatbot_unanswerable.tsv"
KS = (1, 3, 5)
_WORDS = re.compile(r"[a-z0-9]+")


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def questions(split: str | None = None) -> pd.DataFrame:
    """The answerable questions (columns split, question, evidence, source, also), of one split or all.

    ``also`` is a tuple of the phrases of other passages judged to answer the question (often empty).
    """
    frame = _read(QUESTIONS)
    judged: dict[str, list[str]] = {}
    if JUDGEMENTS.is_file():
        for question, phrase in zip(*(_read(JUDGEMENTS)[c] for c in ("question", "evidence")), strict=True):
            judged.setdefault(question, []).append(phrase)
    frame["also"] = [tuple(judged.get(q, ())) for q in frame["question"]]
    return frame if split is None else frame[frame["split"] == split].reset_index(drop=True)


def unanswerable(split: str | None = None) -> list[str]:
    """The questions the knowledge base cannot answer, of one split or all."""
    frame = _read(UNANSWERABLE)
    return list((frame if split is None else frame[frame["split"] == split])["question"])


def followups(split: str | None = None) -> pd.DataFrame:
    """Question and follow-up pairs (columns split, first, followup, evidence), of one split or all."""
    frame = _read(FOLLOWUPS)
    return frame if split is None else frame[frame["split"] == split].reset_index(drop=True)


def _normal(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def relevant(passage: Passage, evidence: str | tuple[str, ...]) -> bool:
    """Whether the passage contains the evidence phrase (or one of them).

    Compared on lower-cased words, punctuation and Markdown ignored; for a phrase that spans table cells, all its
    words in one row.
    """
    if not isinstance(evidence, str):
        return any(relevant(passage, phrase) for phrase in evidence)
    phrase, text = _normal(evidence), _normal(passage.text)
    if phrase and f" {phrase} " in f" {text} ":
        return True
    words = set(phrase.split())
    return len(words) >= 3 and any(words <= set(_normal(line).split()) for line in passage.text.split("\n"))


def first_relevant(
    retriever: Retriever, question: str, evidence: str | tuple[str, ...], mode: Mode, depth: int = 10
) -> int | None:
    """The rank of the first relevant passage in the top ``depth`` (None when none is)."""
    for hit in retriever.search(question, depth, mode):
        if relevant(hit.passage, evidence):
            return hit.rank
    return None


def evidence(frame: pd.DataFrame, pooled: bool = True) -> list[tuple[str, ...]]:
    """Each question's accepted phrases: its own, and with ``pooled`` the judged ones."""
    also = frame["also"] if pooled and "also" in frame else [()] * len(frame)
    return [(own, *more) for own, more in zip(frame["evidence"], also, strict=True)]


def retrieval_metrics(
    retriever: Retriever, frame: pd.DataFrame, mode: Mode, pooled: bool = True
) -> tuple[dict[str, float], list[dict]]:
    """recall@1/3/5 and MRR@10 over the questions, and the questions missed at 3."""
    accepted = evidence(frame, pooled)
    ranks = [first_relevant(retriever, q, e, mode) for q, e in zip(frame["question"], accepted, strict=True)]
    metrics = {f"recall_at_{k}": float(np.mean([r is not None and r <= k for r in ranks])) for k in KS}
    metrics["mrr"] = float(np.mean([1.0 / r if r else 0.0 for r in ranks]))
    misses = [
        {"question": q, "evidence": e, "rank": r or "> 10"}
        for q, e, r in zip(frame["question"], frame["evidence"], ranks, strict=True)
        if r is None or r > 3
    ]
    return metrics, misses


def calibrate(retriever: Retriever, answerable: list[str], not_answerable: list[str]) -> tuple[float, float]:
    """The confidence bar that best separates answerable from unanswerable questions, and its balanced accuracy.

    Meant for the ``dev`` split.
    """
    good = np.array([confidence(retriever.search(q, 1)[0], retriever.has_dense) for q in answerable])
    bad = np.array([confidence(retriever.search(q, 1)[0], retriever.has_dense) for q in not_answerable])
    best, best_score = 0.5, -1.0
    for bar in np.round(np.arange(0.30, 0.80, 0.01), 2):
        score = 0.5 * float((good >= bar).mean()) + 0.5 * float((bad < bar).mean())
        if score > best_score:
            best, best_score = float(bar), score
    return best, best_score


@dataclass
class Report:
    """What the evaluation measured (test splits)."""

    retrieval: dict[str, dict[str, float]]  # mode -> metrics (pooled judgements)
    dont_know_rate: float  # held-out unanswerable questions answered "I don't know"
    false_dont_know_rate: float  # answerable test questions refused
    grounded_rate: float  # answered test questions whose every sentence is supported
    answer_ms: float  # median time per answer
    followup_recall_at_3: float  # follow-ups whose answering passage is in the top 3, as the bot searches them
    misses: list[dict] = field(default_factory=list)  # hybrid misses at 3
    strict: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> metrics, each question's own phrase
    n_questions: int = 0
    n_unanswerable: int = 0


def evaluate(retriever: Retriever, intents=None, split: str = "test", progress: Progress = null_progress) -> Report:
    """Retrieval in every mode, then the chatbot itself, on ``split``."""
    frame = questions(split)
    retrieval, strict, misses = {}, {}, []
    for i, mode in enumerate(Mode):
        progress(0.1 + 0.2 * i, f"Retrieval: {mode.value}")
        metrics, missed = retrieval_metrics(retriever, frame, mode)
        retrieval[mode.value] = metrics
        strict[mode.value] = retrieval_metrics(retriever, frame, mode, pooled=False)[0]
        if mode is Mode.HYBRID:
            misses = missed
    progress(0.7, "Answering the questions")
    times, grounded, refused = [], [], []
    for question in frame["question"]:
        answer = Chatbot(retriever, intents).respond(question)
        times.append(answer.seconds)
        refused.append(answer.kind != "answer")
        if answer.kind == "answer":
            grounded.append(answer.grounded)
    progress(0.85, "Asking what it cannot know")
    held_out = unanswerable(split)
    dont_know = [Chatbot(retriever, intents).respond(q).kind != "answer" for q in held_out]
    progress(0.95, "Follow-ups")
    found = []
    pairs = followups(split)
    for first, follow, evidence in zip(*(pairs[c] for c in ("first", "followup", "evidence")), strict=True):
        bot = Chatbot(retriever, intents)
        bot.respond(first)
        _searched, hits = bot.search(follow)
        found.append(any(relevant(h.passage, evidence) for h in hits[:3]))
    progress(1.0, "Done")
    return Report(
        retrieval=retrieval,
        strict=strict,
        dont_know_rate=float(np.mean(dont_know)) if dont_know else 0.0,
        false_dont_know_rate=float(np.mean(refused)) if refused else 0.0,
        grounded_rate=float(np.mean(grounded)) if grounded else 0.0,
        answer_ms=statistics.median(times) * 1000 if times else 0.0,
        followup_recall_at_3=float(np.mean(found)) if found else 0.0,
        misses=misses,
        n_questions=len(frame),
        n_unanswerable=len(held_out),
    )
