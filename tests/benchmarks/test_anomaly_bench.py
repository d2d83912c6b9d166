"""The anomaly benchmark on a tiny stand-in NAB corpus in the reference layout, and its skip."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks import anomaly as bench
from benchmarks.common import Skip
from engines import anomaly as an
from engines.anomaly import data


@pytest.fixture
def tiny_nab(tmp_path):
    """Seven generated series written as NAB files (timestamp,value) with combined_windows.json."""
    folder = tmp_path / "data" / "nab-realKnownCause"
    (folder / "data").mkdir(parents=True)
    (folder / "labels").mkdir()
    windows = {}
    for i, name in enumerate(data.NAB_SERIES):
        series = an.generate_series(an.GeneratorConfig(n=400, freq="5min", n_anomalies=2, seed=i))
        values = series.values
        pd.DataFrame({"timestamp": values.index.strftime("%Y-%m-%d %H:%M:%S"), "value": values.to_numpy()}).to_csv(
            folder / "data" / f"{name}.csv", index=False
        )
        stamps = values.index.strftime("%Y-%m-%d %H:%M:%S.000000")
        windows[f"realKnownCause/{name}.csv"] = [[stamps[a], stamps[b]] for a, b in series.windows]
    (folder / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return tmp_path / "data"


def test_anomaly_benchmark_scores_every_detector_and_measures_throughput(tiny_nab, monkeypatch):
    monkeypatch.setattr(bench, "PEER_POINTS", 300)
    records, anchors = bench.run(tiny_nab, seeds=1, progress=lambda _: None)
    by = {(r.model, r.metric): r.value for r in records}
    titles = {an.DETECTORS[d]["title"] for d in an.DetectorName}
    assert titles <= {r.model for r in records}
    default = an.DETECTORS[an.DEFAULT_DETECTOR]["title"]
    assert [r.model for r in records if r.default and r.metric == "nab_score" and r.dataset == bench.DATASET] == [
        default
    ]
    assert by[(default, "nab_score")] > 50  # the generated anomalies are easy
    assert all(-100 <= r.value <= 100 for r in records if r.metric == "nab_score" and r.dataset == bench.DATASET)
    assert {r.dataset for r in records} >= {f"{bench.DATASET}/{s}" for s in data.NAB_SERIES}  # per-series rows
    assert by[(default, "points_per_s")] > 0 and by[(default, "speedup_vs_peer")] > 1
    assert (default + ", no cooldown", "nab_score") in by and (default, "nab_score_loso") in by
    assert {a.metric for a in anchors} == {"nab_score", "points_per_s"}
    assert any(a.value == 39.6 for a in anchors)


def test_anomaly_benchmark_skips_without_nab(tmp_path):
    with pytest.raises(Skip, match="nab-realKnownCause"):
        bench.run(tmp_path, seeds=1)
