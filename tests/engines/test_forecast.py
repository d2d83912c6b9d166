"""Forecasting engine: Prophet's protocol and metrics reproduced, models on series with known answers, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engines import forecast as fc
from engines.core.errors import InputError
from engines.forecast.models import FitContext, combine, seasonal_naive

FAST = (fc.ModelName.NAIVE, fc.ModelName.ETS, fc.ModelName.BOOSTING)


def monthly(n: int = 96, seed: int = 0) -> pd.DataFrame:
    """Trend times a yearly pattern that grows with the level (like air passengers), as strings."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2010-01-01", periods=n, freq="MS")
    pattern = 1 + 0.25 * np.sin(2 * np.pi * (ds.month - 1) / 12)
    y = 100 * np.exp(0.01 * np.arange(n)) * pattern * np.exp(rng.normal(0, 0.01, n))
    return pd.DataFrame({"ds": ds.strftime("%Y-%m-%d"), "y": [f"{v:.3f}" for v in y]})


@pytest.fixture(scope="module")
def sales() -> fc.SeriesData:
    return fc.series_from_frame(monthly(), "ds", "y", title="test sales")


@pytest.fixture(scope="module")
def trained(sales) -> fc.ForecastModel:
    return fc.train(sales, fc.ForecastConfig(horizon=12, cutoffs=2))


# ------------------------------------------------------------------ protocol and metrics against Prophet
def test_cutoffs_and_metrics_equal_prophets_own():
    from prophet.diagnostics import generate_cutoffs
    from prophet.metrics import performance_metrics

    rng = np.random.default_rng(1)
    ds = pd.Series(pd.date_range("2020-01-01", periods=400, freq="D")).drop(index=[50, 51, 300])
    horizon, initial, period = pd.Timedelta("30 days"), pd.Timedelta("200 days"), pd.Timedelta("15 days")
    ours = fc.generate_cutoffs(ds, horizon, initial, period)
    assert ours == list(generate_cutoffs(pd.DataFrame({"ds": ds}), horizon, initial, period))
    rows = []
    for cutoff in ours:
        window = ds[(ds > cutoff) & (ds <= cutoff + horizon)]
        y = 10 + rng.normal(0, 1, len(window))
        yhat = y + rng.normal(0, 0.5, len(window))
        rows.append(
            pd.DataFrame(
                {
                    "ds": window,
                    "y": y,
                    "yhat": yhat,
                    "yhat_lower": yhat - 0.6,
                    "yhat_upper": yhat + 0.6,
                    "cutoff": cutoff,
                }
            )
        )
    cv = pd.concat(rows, ignore_index=True)
    for window in (0.1, 0.0, 1.0):
        theirs = performance_metrics(cv, rolling_window=window)
        mine = fc.performance_metrics(cv, rolling_window=window)
        assert list(mine["horizon"]) == list(theirs["horizon"])
        for metric in ("mse", "rmse", "mae", "mape", "smape", "coverage"):
            np.testing.assert_allclose(mine[metric], theirs[metric], rtol=1e-10, err_msg=metric)


def test_metrics_equal_performance_metrics_on_prophets_cross_validation_output():
    from prophet import Prophet
    from prophet.diagnostics import cross_validation
    from prophet.metrics import performance_metrics

    rng = np.random.default_rng(2)
    ds = pd.date_range("2021-01-01", periods=150, freq="D")
    y = 5 + 0.01 * np.arange(150) + np.sin(2 * np.pi * ds.day_of_week / 7) + rng.normal(0, 0.2, 150)
    model = Prophet(yearly_seasonality=False, uncertainty_samples=50).fit(pd.DataFrame({"ds": ds, "y": y}))
    cv = cross_validation(model, initial="100 days", period="20 days", horizon="20 days", disable_tqdm=True)
    theirs = performance_metrics(cv)
    mine = fc.performance_metrics(cv)
    for metric in ("rmse", "mae", "mape", "smape", "coverage"):
        np.testing.assert_allclose(mine[metric], theirs[metric], rtol=1e-10, err_msg=metric)
    assert fc.metric_at(mine, pd.Timedelta(days=20), "mape") == pytest.approx(theirs["mape"].iloc[-1])


def test_summary_metrics_by_hand():
    cv = pd.DataFrame(
        {
            "y": [10.0, 20.0],
            "yhat": [12.0, 20.0],
            "yhat_lower": [11.0, 19.0],
            "yhat_upper": [13.0, 21.0],
            "scale": [4.0, 4.0],
        }
    )
    got = fc.summary_metrics(cv)
    assert got["mape"] == pytest.approx(0.1)  # (0.2 + 0) / 2
    assert got["smape"] == pytest.approx((2 / 11) / 2)
    assert got["mase"] == pytest.approx(0.25)  # mean |e| 1 over scale 4
    assert got["rmse"] == pytest.approx(np.sqrt(2.0))
    assert got["coverage"] == 0.5


def test_selection_per_cutoff_only_looks_at_the_past():
    cutoffs = pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"])

    def frame(errors):
        parts = []
        for cutoff, err in zip(cutoffs, errors, strict=True):
            ds = pd.date_range(cutoff + pd.Timedelta(days=1), periods=20, freq="D")
            parts.append(pd.DataFrame({"ds": ds, "y": 10.0, "yhat": 10.0 + err, "cutoff": cutoff, "scale": 1.0}))
        return pd.concat(parts, ignore_index=True)

    # a is good at the first cutoff and bad later; b the reverse. The choice lags the truth by one cutoff.
    frames = {"a": frame([0.1, 5.0, 5.0]), "b": frame([3.0, 0.2, 0.2])}
    combined, chosen = fc.select_per_cutoff(frames, metric="mase", first="b")
    assert list(chosen.values()) == ["b", "a", "b"]
    assert len(combined) == 60


# ------------------------------------------------------------------ models on known answers
def test_seasonal_naive_repeats_the_last_season_and_widens_by_season():
    ds = pd.date_range("2020-01-01", periods=28, freq="D")
    y = pd.Series(np.tile([1.0, 2, 3, 4, 5, 6, 7], 4), index=ds).asfreq("D")
    out = seasonal_naive(y, 10, FitContext(freq="D", season=7))
    assert list(out["yhat"]) == [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]
    assert (out["yhat_upper"] == out["yhat"]).all()  # a perfect season has no spread


def test_train_beats_the_baseline_and_reports_progress(trained, sales, progress_log):
    board = trained.leaderboard_
    assert set(board["model"]) == {m.value for m in fc.ModelName}
    assert board["selected"].sum() == 1 and trained.selected_ is fc.ModelName.COMBINATION
    naive = board.set_index("model").loc["seasonal_naive", "smape"]
    assert board.iloc[0]["smape"] < 0.8 * naive
    assert trained.log  # a multiplicative pattern is logged (auto transform)
    assert len(trained.forecast()) == 12 and len(trained.forecast(steps=3)) == 3
    future = trained.forecast("ets")
    assert (future["yhat_lower"] <= future["yhat"]).all() and (future["yhat"] <= future["yhat_upper"]).all()
    assert future["ds"].iloc[0] == sales.y.index[-1] + pd.offsets.MonthBegin(1)
    assert set(trained.backtest_.columns) >= {"ds", "y", "yhat", "yhat_lower", "yhat_upper", "cutoff", "model"}
    assert trained.card_.metrics and "Rolling-origin backtest" in trained.card_.split
    fc.train(sales, fc.ForecastConfig(horizon=6, cutoffs=1, models=FAST), progress=progress_log)
    progress_log.assert_complete()
    with pytest.raises(InputError, match="between 1 and 12"):
        trained.forecast(steps=13)


def test_a_combination_is_the_mean_of_its_forecasts_and_their_bounds():
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    a = pd.DataFrame({"yhat": [1.0, 2, 3], "yhat_lower": [0.0, 1, 2], "yhat_upper": [2.0, 3, 4]}, index=index)
    b = pd.DataFrame({"yhat": [3.0, 4, 5], "yhat_lower": [1.0, 1, 1], "yhat_upper": [5.0, 9, 6]}, index=index)
    both = combine([a, b])
    assert list(both["yhat"]) == [2, 3, 4]
    assert list(both["yhat_lower"]) == [0.5, 1, 1.5] and list(both["yhat_upper"]) == [3.5, 6, 5]
    pd.testing.assert_frame_equal(combine([a]), a)
    with pytest.raises(InputError, match="same timestamps"):
        combine([a, b.iloc[:2]])
    with pytest.raises(InputError, match="at least one"):
        combine([])


def test_the_selected_forecast_combines_the_best_two_by_backtest(trained):
    board = trained.leaderboard_.set_index("model")
    singles = board.drop(index="combination")
    best_two = tuple(singles.sort_values("mase", kind="mergesort").index[:2])
    assert trained.config.combine == 2 and trained.members_ == best_two
    assert board.loc["combination", "selected"] and board["selected"].sum() == 1
    title = board.loc["combination", "title"]
    assert title == trained.selected_title and all(fc.MODEL_TITLES[fc.ModelName(m)] in title for m in best_two)
    assert all(fc.MODEL_TITLES[fc.ModelName(m)] in trained.card_.model for m in best_two)
    assert trained.metrics_["mase"] == pytest.approx(board.loc["combination", "mase"])
    # The forecast, interval and backtest of the combination are the means of its members'.
    first, second = (trained.forecast(m) for m in best_two)
    combined = trained.forecast()
    for column in ("yhat", "yhat_lower", "yhat_upper"):
        np.testing.assert_allclose(combined[column], (first[column] + second[column]) / 2)
    cv = trained.backtest_.set_index("model")
    np.testing.assert_allclose(
        cv.loc["combination", "yhat"], (cv.loc[best_two[0], "yhat"].to_numpy() + cv.loc[best_two[1], "yhat"]) / 2
    )
    # Averaging absolute errors cannot do worse than the mean of the members' (convexity).
    assert board.loc["combination", "mase"] <= singles.loc[list(best_two), "mase"].mean() + 1e-12


def test_combine_one_selects_the_single_best(sales):
    model = fc.train(sales, fc.ForecastConfig(horizon=6, cutoffs=1, models=FAST, combine=1))
    board = model.leaderboard_
    assert "combination" not in set(board["model"]) and model.members_ == (model.selected_.value,)
    assert board.iloc[0]["selected"] and model.selected_title == fc.MODEL_TITLES[model.selected_]
    with pytest.raises(InputError, match="combine must be between 1 and 5"):
        fc.ForecastConfig(combine=0)
    # The combination is formed, never fitted: asking for it as a model is the same as not asking.
    assert fc.ModelName.COMBINATION not in fc.ForecastConfig(models=tuple(fc.ModelName)).models


def test_boosting_learns_a_weekly_pattern_with_a_trend():
    ds = pd.date_range("2022-01-01", periods=300, freq="D")
    y = 50 + 0.1 * np.arange(300) + np.array([5.0, 3, 0, -1, -2, -6, 1])[ds.day_of_week]
    data = fc.series_from_frame(pd.DataFrame({"ds": ds, "y": y}), "ds", "y")
    model = fc.train(data, fc.ForecastConfig(horizon=14, cutoffs=1, models=(fc.ModelName.BOOSTING,), transform="none"))
    board = model.leaderboard_.set_index("model")
    assert board.loc["boosting", "mase"] < 0.5 * board.loc["seasonal_naive", "mase"]


def test_same_config_same_forecast_and_the_cache_returns_it(sales):
    config = fc.ForecastConfig(horizon=6, cutoffs=1, models=FAST)
    first = fc.load_or_train(config, sales)
    assert fc.is_cached(config, sales)
    again = fc.load_or_train(config, sales)
    pd.testing.assert_frame_equal(first.forecasts_, again.forecasts_)
    pd.testing.assert_frame_equal(first.forecasts_, fc.train(sales, config).forecasts_)


def test_decomposition_acf_kpis_and_live_helpers(sales):
    parts = fc.decompose(sales.y, 12)
    assert list(parts.columns) == ["ds", "observed", "trend", "seasonal", "resid"]
    np.testing.assert_allclose(parts["trend"] + parts["seasonal"] + parts["resid"], parts["observed"])
    assert fc.seasonal_strength(parts)["seasonal"] > 0.8
    acf = fc.autocorrelation(sales.y, 24)
    assert acf.loc[12, "acf"] > acf.loc[6, "acf"]  # the yearly cycle shows at lag 12
    quick = fc.quick_forecast(sales.y, 5)
    assert len(quick) == 5 and quick["yhat"].notna().all()
    tiles = fc.kpis(sales.y, quick)
    assert tiles["next"] == quick["yhat"].iloc[0] and tiles["uncertainty"] > 0
    more = fc.continuation(sales.y, 3, seed=1)
    pd.testing.assert_series_equal(more, fc.continuation(sales.y, 3, seed=1))
    assert more.index[0] == sales.y.index[-1] + pd.offsets.MonthBegin(1)
    with pytest.raises(InputError, match="at least 2 steps"):
        fc.decompose(sales.y, 1)


# ------------------------------------------------------------------ data sources
def test_offline_defaults_are_package_data_or_labelled_samples():
    co2 = fc.load_series("co2")
    assert co2.y.index.freqstr.startswith("W") and co2.report.gaps_filled > 0
    assert not co2.observed.all() and co2.provenance.startswith("package")
    assert any("filled" in n for n in co2.notes)
    stocks = fc.load_series("stocks", ticker="AAPL")
    assert len(stocks.y) == 105 and stocks.y.iloc[0] == 1.0
    peyton = fc.load_series("peyton_manning")  # offline, no data dir: the generated traffic sample
    assert peyton.is_sample and "sample" in peyton.title and peyton.y.index.freqstr == "D"
    assert peyton.report.duplicates == 1 and peyton.report.gaps_filled > 0
    assert fc.load_series("air_passengers").is_sample
    with pytest.raises(InputError, match="Unknown ticker"):
        fc.load_series("stocks", ticker="XYZ")
    with pytest.raises(InputError, match="Unknown dataset"):
        fc.load_series("sunspots")


def test_local_copy_in_the_reference_layout_is_used(tmp_path, monkeypatch):
    folder = tmp_path / "prophet-examples"
    folder.mkdir()
    (folder / "example_air_passengers.csv").write_bytes(
        b'"ds","y"\r' + b"".join(f"19{49 + i // 12}-{i % 12 + 1:02d}-01,{100 + i}\r".encode() for i in range(48))
    )
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    air = fc.load_series("air_passengers")
    assert air.provenance == "local copy" and not air.is_sample and len(air.y) == 48


# ------------------------------------------------------------------ bad input
def _csv(rows: list[str], header: str = "date,value") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_upload_guesses_columns_and_reports_duplicates_and_gaps():
    rows = [f"2024-01-{d:02d},{d * 2}" for d in range(1, 29) if d != 10]
    rows.append("2024-01-05,99")
    data = fc.series_from_upload(_csv(rows), "visits.csv")
    assert data.report.duplicates == 1 and data.report.gaps_filled == 1 and data.provenance == "user upload"
    assert not data.observed[9] and data.observed.sum() == 27


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_csv([f"not a date {i},{i}" for i in range(20)], "when,value"), "no column of dates"),
        (_csv([f"2024-01-{d:02d},many" for d in range(1, 21)]), "no numeric column"),
        (_csv(["2024-01-01,1", "2024-01-02,2", "2024-01-03,3"]), "at least 10"),
    ],
    ids=["no-dates", "non-numeric", "three-points"],
)
def test_bad_uploads_raise_what_to_fix(payload, message):
    with pytest.raises(InputError, match=message):
        fc.series_from_upload(payload, "bad.csv")


def test_constant_series_is_refused_with_a_reason():
    data = fc.series_from_upload(_csv([f"2024-01-{d:02d},7" for d in range(1, 31)]), "flat.csv")
    assert data.report.constant
    with pytest.raises(InputError, match="constant"):
        fc.train(data, fc.ForecastConfig(horizon=5, models=FAST))


def test_too_short_for_the_horizon_and_bad_config():
    data = fc.series_from_frame(monthly(20), "ds", "y")
    with pytest.raises(InputError, match="Shorten the horizon"):
        fc.train(data, fc.ForecastConfig(horizon=15))
    with pytest.raises(InputError, match="Unknown model"):
        fc.ForecastConfig(models=("lstm",))
    with pytest.raises(InputError, match="Unknown metric"):
        fc.ForecastConfig(metric="r2")
    with pytest.raises(InputError, match="Unknown transform"):
        fc.ForecastConfig(transform="sqrt")


def test_a_million_rows_are_downsampled_and_fitting_stays_bounded():
    n = 1_000_000
    ds = pd.date_range("2020-01-01", periods=n, freq="min")
    values = 100 + 10 * np.sin(2 * np.pi * np.arange(n) / 1440)
    frame = pd.DataFrame({"ts": ds, "load": values})
    data = fc.series_from_frame(frame, "ts", "load")
    assert data.report.downsampled_from == "min" and len(data.y) <= 20_000
    assert any("downsampled" in n for n in data.notes)
    model = fc.train(data, fc.ForecastConfig(cutoffs=1, models=(fc.ModelName.ETS,)))
    assert len(model.history) <= fc.model.MAX_FIT_POINTS
    assert any("last" in n for n in model.notes_)


def test_selection_on_the_training_part_only_sees_data_before_the_cutoff(sales):
    config = fc.ForecastConfig(cutoffs=2, models=FAST)
    frames = fc.inner_backtest(sales, 72, config, 12)
    assert frames and all(cv["ds"].max() <= sales.y.index[71] for cv in frames.values())
    pick = fc.select_on_training(sales, 72, config, 12, frames=frames)
    assert pick in frames and pick is not fc.ModelName.NAIVE
    by_rmse = fc.select_on_training(
        sales, 72, config, 12, frames=frames, score=lambda cv: fc.summary_metrics(cv)["rmse"]
    )
    assert by_rmse in frames
    # No inner origin can keep 70 training points of 72: the default (the ensemble) is returned.
    assert fc.select_on_training(sales, 72, config, 12, initial=70) is fc.ModelName.ENSEMBLE
    assert fc.members_on_training(sales, 72, config, 12, initial=70) == (fc.ModelName.ENSEMBLE,)
    # The combination's members are the best two of the same ranking, best first.
    members = fc.members_on_training(sales, 72, config, 12, frames=frames)
    assert members == tuple(fc.rank_models(frames, "mase")[:2]) and members[0] is pick


def test_a_model_whose_forecast_blows_up_is_left_out_with_the_reason(sales, monkeypatch):
    from engines.forecast import models

    def exploding(y, steps, ctx):
        frame = seasonal_naive(y, steps, ctx)
        return frame * 1e12  # finite, but far beyond anything seen (SARIMA did this on a short noisy upload)

    monkeypatch.setitem(models.FORECASTERS, fc.ModelName.ETS, exploding)
    model = fc.train(sales, fc.ForecastConfig(horizon=12, cutoffs=2, models=FAST))
    assert "diverged" in model.failed_[fc.ModelName.ETS]
    assert fc.ModelName.ETS.value not in set(model.leaderboard_["model"].astype(str))
    assert np.isfinite(model.leaderboard_.select_dtypes("number").to_numpy()).all()


# ------------------------------------------------------------------ shipped forecasts and the quick stand-in
PRESETS = [(d, "GOOG") for d in (fc.Dataset.PEYTON, fc.Dataset.AIR, fc.Dataset.RETAIL, fc.Dataset.CO2)] + [
    (fc.Dataset.STOCKS, t) for t in fc.TICKERS
]


@pytest.mark.parametrize(("dataset", "ticker"), PRESETS, ids=[f"{d.value}-{t}" for d, t in PRESETS])
def test_every_preset_ships_its_compared_forecast_trained_on_the_offline_series(dataset, ticker):
    from engines.core.lifecycle import SHIPPED

    request = fc.sample_request(dataset, ticker=ticker)
    assert request.config == fc.ForecastConfig()  # the page's default settings
    found = request.find()
    assert found is not None, "missing or stale: run python -m engines.build_models --only forecast"
    model, source = found
    assert source == SHIPPED
    # Every model was compared (a series too short for one says why it was left out).
    assert {m.value for m in fc.FITTED} <= set(model.leaderboard_["model"]) | set(model.failed_)
    assert len(model.leaderboard_) >= 5 and model.selected_.value in set(model.leaderboard_["model"])
    offline = fc.sample_series(dataset, ticker=ticker)
    assert offline.provenance in ("bundled sample", "package dataset (statsmodels)", "package dataset (plotly)")
    assert np.allclose(model.history["y"].to_numpy(), offline.y.to_numpy())


def test_the_sample_series_ignores_a_data_directory(tmp_path, monkeypatch):
    folder = tmp_path / "prophet-examples"
    folder.mkdir()
    (folder / "example_air_passengers.csv").write_text("ds,y\n" + "\n".join(monthly(60).apply(",".join, axis=1)))
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    sample = fc.sample_series(fc.Dataset.AIR)
    assert sample.provenance == "bundled sample" and sample.sha256 == fc.sample_request(fc.Dataset.RETAIL).data_sha256


def test_requests_differ_by_settings_and_series(sales):
    one = fc.request(fc.ForecastConfig(), sales)
    assert fc.request(fc.ForecastConfig(), sales).key == one.key
    assert fc.request(fc.ForecastConfig(cutoffs=1), sales).key != one.key
    other = fc.series_from_frame(monthly(seed=5), "ds", "y", title="other sales")
    assert fc.request(fc.ForecastConfig(), other).key != one.key
    assert "6 models on 96 points of test sales" in one.title


def test_quick_forecast_compares_naive_and_ets_on_one_origin_with_the_full_horizon(sales):
    config = fc.ForecastConfig(coverage=0.9)
    quick = fc.quick_train(sales, config)
    assert set(quick.leaderboard_["model"]) <= {"seasonal_naive", "ets"} and len(quick.leaderboard_) == 2
    assert quick.backtest_["cutoff"].nunique() == 1 and quick.selected_ in fc.QUICK_MODELS
    assert quick.horizon == fc.check_forecastable(sales, config) and quick.config.coverage == 0.9
    assert (
        quick.card_.limitations[0].startswith("A quick forecast")
        and "6 models on 3 origins" in (quick.card_.limitations[0])
    )
    assert len(quick.forecast()) == quick.horizon


# ------------------------------------------------------------------ combination rule and horizon (issue 28)
def test_combination_keeps_only_models_within_a_factor_of_the_best():
    naive, ets, boosting = fc.ModelName.NAIVE, fc.ModelName.ETS, fc.ModelName.BOOSTING
    assert fc.combination_members([(naive, 1.0), (ets, 1.4), (boosting, 1.45)], 2) == (naive, ets)
    assert fc.combination_members([(naive, 1.0), (ets, 1.6)], 2) == (naive,)
    assert fc.combination_members([(naive, 1.0), (ets, 1.6)], 2, within=np.inf) == (naive, ets)
    assert fc.combination_members([(naive, 0.0), (ets, 0.1)], 3) == (naive,)
    assert fc.combination_members([], 2) == ()
    with pytest.raises(InputError, match="at least 1"):
        fc.ForecastConfig(combine_within=0.5)


def test_a_near_perfect_seasonal_naive_is_not_averaged_away():
    # A yearly pattern repeated exactly: the seasonal naive forecast is near-perfect, boosting is far off.
    rng = np.random.default_rng(0)
    ds = pd.date_range("2010-01-01", periods=96, freq="MS")
    y = np.tile(rng.uniform(50, 150, 12), 8) * (1 + rng.normal(0, 1e-4, 96))
    data = fc.series_from_frame(pd.DataFrame({"ds": ds, "y": y}), "ds", "y")
    config = fc.ForecastConfig(horizon=12, cutoffs=2, models=(fc.ModelName.NAIVE, fc.ModelName.BOOSTING))
    model = fc.train(data, config)
    board = model.leaderboard_.set_index("model")
    assert model.selected_ is fc.ModelName.NAIVE and model.members_ == ("seasonal_naive",)
    assert "combination" not in board.index and "taken alone" in model.card_.why
    assert model.metrics_["smape"] == pytest.approx(board.loc["seasonal_naive", "smape"])
    assert model.metrics_["smape"] < 1e-3
    # The old rule (always the best two) averages it with boosting and loses its accuracy.
    averaged = fc.train(data, replace(config, combine_within=np.inf))
    assert averaged.selected_ is fc.ModelName.COMBINATION
    assert averaged.metrics_["smape"] > 10 * model.metrics_["smape"]


def test_an_hourly_series_forecasts_48_hours_and_the_horizon_is_bounded_by_its_history():
    assert fc.seasonality("h").default_horizon == 48 and fc.seasonality("30min").default_horizon == 96
    ds = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    y = 20 + 5 * np.sin(2 * np.pi * np.arange(len(ds)) / 24)
    data = fc.series_from_frame(pd.DataFrame({"ds": ds, "y": y}), "ds", "y")
    assert fc.check_forecastable(data) == 48
    model = fc.train(data, fc.ForecastConfig(cutoffs=1, models=(fc.ModelName.NAIVE,)))
    future = model.forecast(steps=48)
    assert model.horizon == 48 and len(future) == 48
    assert future["ds"].iloc[-1] == ds[-1] + pd.Timedelta(hours=48)
    short = fc.series_from_frame(pd.DataFrame({"ds": ds[:100], "y": y[:100]}), "ds", "y")
    assert fc.check_forecastable(short) == 25  # a quarter of the history
