"""The forecasting benchmark on tiny stand-in series in the reference layout (shortened protocols), and its skip."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from benchmarks.__main__ import main
from engines import forecast as fc


def test_forecast_benchmark_scores_every_model_and_prophets_default(tmp_path, monkeypatch, capsys):
    from benchmarks import forecast as bench

    folder = tmp_path / "data" / "prophet-examples"
    folder.mkdir(parents=True)
    # A made-up daily series under Peyton Manning's file name, with a gap, and the sales sample as air passengers.
    ds = pd.date_range("2020-01-01", periods=260, freq="D")
    y = (
        8
        + 0.002 * np.arange(260)
        + 0.3 * np.sin(2 * np.pi * ds.day_of_week / 7)
        + np.random.default_rng(0).normal(0, 0.05, 260)
    )
    pd.DataFrame({"ds": ds.strftime("%Y-%m-%d"), "y": y}).drop(index=range(100, 104)).to_csv(
        folder / "example_wp_log_peyton_manning.csv", index=False
    )
    shutil.copy(fc.data.SALES_SAMPLE, folder / "example_air_passengers.csv")
    monkeypatch.setattr(
        bench,
        "PROTOCOLS",
        {
            "peyton-manning": (
                fc.Dataset.PEYTON,
                "example_wp_log_peyton_manning.csv",
                "150 days",
                "50 days",
                "50 days",
            ),
            "air-passengers": (fc.Dataset.AIR, "example_air_passengers.csv", "2920 days", "730 days", "365 days"),
            "retail-sales": (fc.Dataset.RETAIL, "example_retail_sales.csv", "1095 days", "180 days", "365 days"),
        },
    )
    monkeypatch.setattr(bench, "CONFIG", fc.ForecastConfig(cutoffs=1))
    out = tmp_path / "results.json"
    assert main(["forecast", "--data-dir", str(tmp_path / "data"), "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert {tuple(sorted(r)) for r in records} == {("dataset", "default", "engine", "metric", "model", "value")}
    assert {r["dataset"] for r in records} == {"peyton-manning", "air-passengers"}  # retail is absent: left out
    by = {(r["dataset"], r["model"], r["metric"]): r["value"] for r in records}
    models = {r["model"] for r in records if r["dataset"] == "peyton-manning"}
    assert {fc.MODEL_TITLES[m] for m in fc.FITTED} | {
        bench.SELECTED,
        bench.SELECTED_MASE,
        bench.SINGLE,
        bench.SINGLE_MASE,
        bench.PROPHET_DEFAULT,
        bench.ALWAYS_TWO,  # issue 28: the combination rule before "only models within 1.5x of the best"
    } == models
    assert {r["model"] for r in records if r["default"]} == {bench.SELECTED}
    assert 0 < by[("peyton-manning", bench.PROPHET_DEFAULT, "mape_h37")] < 0.1
    assert ("air-passengers", bench.SELECTED, "mape_h37") not in by  # monthly: no 37-day row
    assert by[("air-passengers", bench.SELECTED, "smape_vs_naive")] < 1.0
    table = capsys.readouterr().out
    assert "anchor: Prophet docs, diagnostics (published)" in table and "0.0585" in table


def test_forecast_benchmark_skips_without_the_prophet_examples(tmp_path):
    from benchmarks import forecast as bench
    from benchmarks.common import Skip

    with pytest.raises(Skip, match=r"example_wp_log_peyton_manning\.csv"):
        bench.run(tmp_path, progress=lambda _: None)
