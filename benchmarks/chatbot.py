"""Knowledge-base chatbot: retrieval recall, refusals, grounding and answer time, offline, on the project's sets.

The knowledge base is the gallery's own documentation (README sections, demo descriptions, the support FAQ),
so no dataset is needed. Questions: ``data/chatbot_questions.tsv`` (each with a phrase from the passage that
answers it), ``data/chatbot_unanswerable.tsv`` and ``data/chatbot_followups.tsv``, each split into ``dev`` and
``test``. The "I don't know" bar is the one shipped in ``engines.chatbot.answer`` (chosen on ``dev`` by
``evaluation.calibrate``; the benchmark prints what ``dev`` would choose now, beside it). Rows, on ``test``:

- ``hybrid`` (default), ``bm25``, ``dense``: recall@1/3/5 and MRR@10 of the passages retrieved, a passage
  being relevant when it holds the question's evidence phrase or one judged to answer it in the pooled, blind
  judgements (``data/chatbot_judgements.tsv``); the same with the question's own phrase only, beside them;
- ``chatbot``: the share of held-out unanswerable questions answered "I don't know", the share of answerable
  questions refused, the share of answers whose every sentence a retrieved passage supports, the median
  answer time (offline, quoting), follow-up recall@3 as the bot searches them, and the intent classifier's
  held-out accuracy.

Anchors: issue 11's targets (hybrid recall@3 >= 0.90; "I don't know" on >= 90% of unanswerable questions;
answer time <= 1 s offline).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.common import Anchor, Record

ENGINE = "chatbot"
DATASET = "gallery docs (project question set, test split)"
ANCHORS = [
    Anchor(ENGINE, DATASET, "issue 11 target", "recall_at_3", 0.90),
    Anchor(ENGINE, DATASET, "issue 11 target", "dont_know_rate", 0.90),
    Anchor(ENGINE, DATASET, "issue 11 target", "answer_ms", 1000.0),
]


def run(data_dir: Path, seeds: int = 1, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001 (the knowledge base is the repository's own)
    """Index the default knowledge base, then evaluate retrieval and the chatbot on the test split."""
    import torch

    from engines.chatbot import evaluation as ev
    from engines.chatbot.answer import DONT_KNOW_BELOW
    from engines.chatbot.dialogue import train_intents
    from engines.chatbot.knowledge import default_sources, passages
    from engines.chatbot.retrieval import ENCODER_TOKENS, Retriever
    from engines.core.embeddings import load_encoder

    torch.set_num_threads(1)
    started = time.perf_counter()
    encoder, resolved = load_encoder(max_length=ENCODER_TOKENS)
    retriever = Retriever(passages(default_sources()), encoder)
    progress(
        f"chatbot: {len(retriever.passages)} passages indexed in {time.perf_counter() - started:.1f} s ({resolved.notice})"
    )
    intents = train_intents()
    dev = ev.questions("dev")
    bar, balanced = ev.calibrate(retriever, list(dev["question"]), ev.unanswerable("dev"))
    progress(
        f"chatbot: dev would choose the bar {bar:.2f} (balanced accuracy {balanced:.3f}); shipped {DONT_KNOW_BELOW:.2f}"
    )
    report = ev.evaluate(retriever, intents, split="test")
    records = []
    for mode, metrics in report.retrieval.items():
        records += [Record(ENGINE, DATASET, mode, m, float(v), mode == "hybrid") for m, v in metrics.items()]
    for mode, metrics in report.strict.items():
        name = f"{mode}, each question's own phrase only"
        records += [Record(ENGINE, DATASET, name, m, float(v), False) for m, v in metrics.items()]
    bot = {
        "dont_know_rate": report.dont_know_rate,
        "refused_answerable": report.false_dont_know_rate,
        "grounded_rate": report.grounded_rate,
        "answer_ms": report.answer_ms,
        "followup_recall_at_3": report.followup_recall_at_3,
        "intent_accuracy": intents.accuracy,
        "questions": report.n_questions,
        "unanswerable": report.n_unanswerable,
        "bar": DONT_KNOW_BELOW,
    }
    records += [Record(ENGINE, DATASET, "chatbot (quoting, offline)", m, float(v), True) for m, v in bot.items()]
    for miss in report.misses:
        progress(f"chatbot: not in the top 3: {miss['question']!r} (rank {miss['rank']})")
    return records, ANCHORS
