"""Spam detector on the SMS Spam Collection: the protocol of Almeida et al. (2011).

Stratified 70/30 splits, mean over seeds; the seed article's baseline, the peer a
user would reach for (TF-IDF + linear SVM), and our default, trained side by side.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.common import Anchor, Record, Skip
from engines import spam
from engines.spam.model import evaluate, make_pipeline, parse_collection

DATASET = "sms-spam-collection"
METRICS = ("accuracy", "spam_caught", "blocked_ham", "roc_auc")
ANCHORS = [
    # Almeida, Gómez Hidalgo & Yamakami, DocEng 2011, Table 4: best result, SVM.
    Anchor("spam", DATASET, "Almeida et al. 2011, SVM (published)", "accuracy", 0.9764),
    Anchor("spam", DATASET, "Almeida et al. 2011, SVM (published)", "spam_caught", 0.8310),
    Anchor("spam", DATASET, "Almeida et al. 2011, SVM (published)", "blocked_ham", 0.0018),
]


def run(data_dir: Path, seeds: int = 10, progress=print) -> tuple[list[Record], list[Anchor]]:
    """Train and score every pipeline on ``seeds`` stratified 70/30 splits."""
    path = data_dir / DATASET / "SMSSpamCollection"
    if not path.is_file():
        raise Skip(f"{path} not found")
    frame = parse_collection(path)
    texts = frame["text"].tolist()
    labels = frame["label"].to_numpy(dtype=object)
    from sklearn.model_selection import train_test_split

    records: list[Record] = []
    for name in spam.PipelineName:
        scores: dict[str, list[float]] = {m: [] for m in (*METRICS, "train_s")}
        for seed in range(seeds):
            x_train, x_test, y_train, y_test = train_test_split(
                texts, labels, test_size=0.3, stratify=labels, random_state=seed
            )
            pipeline = make_pipeline(name, seed)
            started = time.perf_counter()
            pipeline.fit(x_train, y_train)
            scores["train_s"].append(time.perf_counter() - started)
            prob = pipeline.predict_proba(x_test)[:, list(pipeline.classes_).index("spam")]
            result = evaluate(y_test, prob, threshold=0.5)
            for metric in METRICS:
                scores[metric].append(result[metric])
        title = spam.PIPELINES[name]["title"]
        progress(f"spam: {title}: accuracy {np.mean(scores['accuracy']):.4f}")
        records += [
            Record("spam", DATASET, title, metric, float(np.mean(values)), name is spam.DEFAULT_PIPELINE)
            for metric, values in scores.items()
        ]
    return records, ANCHORS
