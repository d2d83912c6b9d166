"""Image classifier, handwritten digits: the small CNN against scikit-learn's SVC example, and its optimisation.

Dataset: scikit-learn's bundled digits (1,797 8x8 images), split like scikit-learn's
"Recognizing hand-written digits" example: first half trains, second half tests, no
shuffling (``train_test_split(test_size=0.5, shuffle=False)``: 898 / 899). The data ships
with scikit-learn, so this benchmark never skips and ignores the data directory. Rows:

- ``cnn``: the page's default ``DigitsConfig`` trained once per seed (0 .. seeds-1) with the
  threads torch has here; ``accuracy`` is the mean over seeds, ``accuracy_min`` the worst
  seed, ``train_s`` the mean training time, ``latency_ms`` one image at a time on one thread.
- ``svc_gamma_0.001``: the example's classifier, ``svm.SVC(gamma=0.001)`` on the raw flattened
  pixels (0..16), trained in the same run.
- ``cnn_optimized``: the variant ``engines.imageclf.optimize`` recommends (named in the progress
  output; ``int8_static_scripted`` on the development machine), built from the seed-0
  network and timed in the same run against it: ``speedup`` is float32 latency over its latency
  (one image, one thread, median), ``size_ratio`` its serialised size over float32's,
  ``accuracy_drop`` the accuracy lost on the test half.

Anchors: the example's published accuracy (0.97) and issue 8's targets (accuracy 0.985;
the optimised model at least 1.5x faster per image).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import Anchor, Record

ENGINE = "imageclf"
DATASET = "sklearn digits (first half train, second half test)"
BENCH_CONFIG = None  # None: the page's default DigitsConfig (tests put a tiny one here)
ANCHORS = [
    Anchor(ENGINE, DATASET, "scikit-learn example, SVC(gamma=0.001) (published)", "accuracy", 0.97),
    Anchor(ENGINE, DATASET, "issue 8 target", "accuracy", 0.985),
    Anchor(ENGINE, DATASET, "issue 8 target", "speedup", 1.5),
]


def run(data_dir: Path, seeds: int = 10, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001 (the digits ship with scikit-learn)
    """Train the CNN for each seed, the SVC baseline once, and optimise the seed-0 network."""
    import torch

    from engines.imageclf import digits, optimize

    config = BENCH_CONFIG or digits.DigitsConfig()
    split = digits.load_split()
    seeds = max(1, int(seeds))
    accuracies, seconds, first = [], [], None
    for seed in range(seeds):
        result = digits.train_digits(replace(config, seed=seed), split=split)
        accuracies.append(result.accuracy)
        seconds.append(result.train_seconds)
        first = first or result
        progress(f"imageclf: cnn seed {seed}: accuracy {result.accuracy:.4f} in {result.train_seconds:.1f} s")
    svc_accuracy, svc_seconds = digits.svc_baseline(split)
    progress(f"imageclf: SVC(gamma=0.001): accuracy {svc_accuracy:.4f}")
    report = optimize.optimize(first.model, split.x_test, split.y_test, split.x_train)
    reference, best = report.variant("float32"), report.variant(report.recommended)
    progress(f"imageclf: optimised with {best.name}: {best.speedup:.2f}x faster per image")

    def rows(model: str, default: bool, values: dict[str, float]) -> list[Record]:
        return [Record(ENGINE, DATASET, model, metric, float(v), default) for metric, v in values.items()]

    return (
        rows(
            "cnn",
            True,
            {
                "accuracy": np.mean(accuracies),
                "accuracy_min": np.min(accuracies),
                "train_s": np.mean(seconds),
                "threads": torch.get_num_threads(),
                "seeds": seeds,
                "latency_ms": reference.latency_ms,
            },
        )
        + rows("svc_gamma_0.001", False, {"accuracy": svc_accuracy, "train_s": svc_seconds})
        + rows(
            "cnn_optimized",
            False,
            {
                "accuracy": best.accuracy,
                "latency_ms": best.latency_ms,
                "speedup": best.speedup,
                "size_ratio": best.size_ratio,
                "accuracy_drop": best.accuracy_drop,
            },
        ),
        ANCHORS,
    )
