"""Churn predictor on IBM Telco Customer Churn: 5-fold stratified CV, every model on the same folds.

Our default (logistic regression + gradient boosting, soft vote) beside the seed's plain
RandomForestClassifier (scikit-learn defaults), logistic regression and gradient boosting alone.
No published anchor is printed: the often-quoted ~0.84 ROC-AUC of logistic regression on this
dataset comes from blog posts and notebooks, not from a source we can cite.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.common import Anchor, Record, Skip
from engines import churn
from engines.churn.model import evaluate, fit_pipeline, folds

DATASET = "telco-churn"
METRICS = ("roc_auc", "pr_auc", "f1")


def run(data_dir: Path, seeds: int = 10, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001
    """One run of 5-fold stratified CV (seed 0) per model; ``seeds`` is accepted for the CLI but one run is the protocol."""
    path = data_dir / DATASET / "Telco-Customer-Churn.csv"
    if not path.is_file():
        raise Skip(f"{path} not found")
    data = churn.read_telco(path)
    x, y = data.features, data.y
    splits = folds(y, 5, 0)
    records: list[Record] = []
    for name in churn.ModelName:
        config = churn.ChurnConfig(model=name)
        scores: dict[str, list[float]] = {m: [] for m in (*METRICS, "train_s")}
        for train_idx, test_idx in splits:
            started = time.perf_counter()
            pipeline = fit_pipeline(config, data.kinds, x.iloc[train_idx], y[train_idx])
            scores["train_s"].append(time.perf_counter() - started)
            p = pipeline.predict_proba(x.iloc[test_idx])[:, list(pipeline.classes_).index(1)]
            result = evaluate(y[test_idx], p, 0.5)
            for metric in METRICS:
                scores[metric].append(result[metric])
        title = churn.MODELS[name]["title"]
        progress(f"churn: {title}: roc_auc {np.mean(scores['roc_auc']):.4f}")
        records += [
            Record("churn", DATASET, title, metric, float(np.mean(values)), name is churn.DEFAULT_MODEL)
            for metric, values in scores.items()
        ]
    return records, []
