"""House price estimator on California housing and De Cock's Ames sales: 5-fold cross-validation.

Every model of the engine side by side (the seed's plain linear regression first), and the
default once more without its outlier step. California RMSE and MAE are in units of $100k
(the usual convention for this dataset); Ames is scored on log price (``rmse_log``), as in
De Cock (2011) and the Kaggle competition built from it. Outliers are dropped from the
training folds only: every house is scored.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.common import Anchor, Record, Skip
from engines import house_prices as hp

FOLDS = 5
DATASETS = {
    # registry dataset name -> (engine dataset, file under the data dir, unit the metrics are divided by)
    "california-housing": (hp.Dataset.CALIFORNIA, "california-housing/housing.csv", 1e5),
    "house-prices-ames": (hp.Dataset.AMES, "house-prices-ames/ames-decock/AmesHousing.csv", 1.0),
}
ANCHORS = [
    # Géron, Hands-On ML (2nd ed.), chapter 2: random forest on this file, 10-fold CV RMSE $50,182.
    Anchor("house_prices", "california-housing", "Géron 2019, random forest, 10-fold CV (published)", "rmse", 0.5018),
]


def run(data_dir: Path, seeds: int = 10, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001
    """Cross-validate every model on each dataset present; ``seeds`` is unused (one 5-fold CV, seed 0)."""
    records: list[Record] = []
    missing = []
    for name, (dataset, file, unit) in DATASETS.items():
        path = data_dir / file
        if not path.is_file():
            missing.append(f"{path} not found")
            continue
        frame = hp.parse(dataset, path.read_bytes())
        default = hp.DEFAULT_MODEL[dataset]
        runs = [(m, True) for m in hp.ModelName] + [(default, False)]
        for model, outliers in runs:
            started = time.perf_counter()
            metrics = hp.cross_validate(frame, dataset, model, folds=FOLDS, drop_outliers=outliers)
            title = hp.MODELS[model]["title"] + ("" if outliers else ", no outlier step")
            is_default = model is default and outliers
            progress(
                f"house_prices: {name}: {title}: r2 {metrics['r2']:.4f} rmse_log {metrics.get('rmse_log', 0):.4f} "
                f"({time.perf_counter() - started:.0f} s)"
            )
            for metric in ("r2", "rmse", "mae", "rmse_log", "train_s"):
                value = metrics[metric] / unit if metric in ("rmse", "mae") else metrics[metric]
                records.append(Record("house_prices", name, title, metric, float(value), is_default))
    if not records:
        raise Skip("; ".join(missing))
    return records, [a for a in ANCHORS if any(r.dataset == a.dataset for r in records)]
