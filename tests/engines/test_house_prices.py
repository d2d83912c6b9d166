"""House price engine: learns known relationships, calibrated intervals, outliers, bad input, cache, CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engines import house_prices as hp
from engines.core.artifacts import ArtifactStore
from engines.core.errors import InputError
from engines.core.tabular import infer_types
from engines.core.uploads import read_table
from engines.house_prices.model import CACHE, conformal_quantile
from tests.conftest import require_dataset


@pytest.fixture(scope="module")
def ames_frame() -> pd.DataFrame:
    return hp.parse("ames", hp.AMES.sample.read_bytes())


@pytest.fixture(scope="module")
def california_frame() -> pd.DataFrame:
    return hp.parse("california", hp.CALIFORNIA.sample.read_bytes())


@pytest.fixture(scope="module")
def ames_model(ames_frame) -> hp.HouseModel:
    return hp.train(hp.HouseConfig(dataset="ames"), ames_frame, provenance="bundled sample")


@pytest.fixture(scope="module")
def california_model(california_frame) -> hp.HouseModel:
    return hp.train(hp.HouseConfig(dataset="california"), california_frame, provenance="bundled sample")


def test_bundled_samples_are_used_offline_and_say_so():
    for dataset, rows in (("california", 2000), ("ames", 1200)):
        resolved, frame = hp.load_dataset(dataset)
        assert resolved.is_sample and "sample" in resolved.notice.lower()
        assert len(frame) == rows
        assert hp.TARGETS[hp.Dataset(dataset)] in frame.columns


def test_sample_schemas_match_the_real_files(california_frame, ames_frame):
    real_california = [
        "longitude",
        "latitude",
        "housing_median_age",
        "total_rooms",
        "total_bedrooms",
        "population",
        "households",
        "median_income",
        "median_house_value",
        "ocean_proximity",
    ]
    assert list(california_frame.columns) == real_california
    assert california_frame["total_bedrooms"].isna().sum() > 0  # like the real file
    assert set(california_frame["ocean_proximity"]) <= {"<1H OCEAN", "INLAND", "NEAR OCEAN", "NEAR BAY", "ISLAND"}
    assert california_frame["median_house_value"].max() <= 500_001
    assert {"Gr Liv Area", "Neighborhood", "Overall Qual", "Year Built", "SalePrice"} <= set(ames_frame.columns)


def test_local_data_dir_wins_over_the_sample(tmp_path, monkeypatch):
    folder = tmp_path / "california-housing"
    folder.mkdir()
    (folder / "housing.csv").write_bytes(hp.CALIFORNIA.sample.read_bytes())
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    resolved, frame = hp.load_dataset("california")
    assert resolved.provenance == "local copy"
    assert len(frame) == 2000


def test_default_models_beat_the_linear_baseline(ames_frame, ames_model, california_model):
    assert ames_model.metrics_["r2"] > 0.9
    assert ames_model.metrics_["rmse_log"] < 0.13
    assert california_model.metrics_["r2"] > 0.6
    linear = hp.train(hp.HouseConfig(dataset="ames", model="linear"), ames_frame)
    assert ames_model.metrics_["rmse"] < 0.8 * linear.metrics_["rmse"]


def test_bigger_living_area_gives_a_higher_price(ames_model):
    small, mid, large = (
        ames_model.estimate({"Gr Liv Area": a, "Total Bsmt SF": 1000}).price for a in (900, 1600, 2600)
    )
    assert small < mid < large
    assert large > 1.3 * small
    better = ames_model.estimate({"Gr Liv Area": 1600, "Overall Qual": 9}).price
    worse = ames_model.estimate({"Gr Liv Area": 1600, "Overall Qual": 3}).price
    assert better > worse


def test_richer_coastal_blocks_are_worth_more(california_model):
    base = {"longitude": -118.3, "latitude": 34.05, "ocean_proximity": "<1H OCEAN"}
    poor = california_model.estimate({**base, "median_income": 2.0}).price
    rich = california_model.estimate({**base, "median_income": 9.0}).price
    assert rich > 1.5 * poor


@pytest.mark.parametrize("fixture", ["ames_model", "california_model"])
def test_interval_covers_about_the_nominal_share_of_held_out_prices(fixture, request):
    model = request.getfixturevalue(fixture)
    coverage = model.metrics_["coverage"]
    assert 0.84 <= coverage <= 0.96, coverage
    test = model.test_
    inside = ((test["actual"] >= test["low"]) & (test["actual"] <= test["high"])).mean()
    assert inside == pytest.approx(coverage)
    estimate = model.estimate({})
    assert estimate.low < estimate.price < estimate.high
    assert estimate.coverage == 0.9


def test_conformal_quantile_reaches_the_requested_level():
    rng = np.random.default_rng(0)
    truth = rng.normal(100, 10, 5000)
    pred = truth + rng.normal(0, 5, 5000)
    q = conformal_quantile(truth[:2500], pred[:2500], 0.8, log=False)
    covered = np.mean(np.abs(truth[2500:] - pred[2500:]) <= q)
    assert 0.77 <= covered <= 0.83
    assert q == pytest.approx(5 * 1.2816, rel=0.08)  # the normal's 80% two-sided quantile


def test_outlier_step_removes_the_planted_outliers(ames_frame, california_frame):
    y = ames_frame["SalePrice"].to_numpy(float)
    report = hp.find_outliers("ames", ames_frame.drop(columns="SalePrice"), y)
    planted = (ames_frame["Gr Liv Area"] > 4000).to_numpy()
    assert planted.sum() == 4
    assert (report.mask == planted).all()
    y = california_frame["median_house_value"].to_numpy(float)
    report = hp.find_outliers("california", california_frame, y)
    crowded = california_frame["population"] / california_frame["households"] > 20
    roomy = california_frame["total_rooms"] / california_frame["households"] > 30
    assert report.dropped == 8 == int((crowded | roomy).sum())
    assert sum(report.reasons.values()) == 8


def test_outlier_toggle_changes_training_and_is_recorded(ames_frame):
    on = hp.train(hp.HouseConfig(dataset="ames", model="lasso"), ames_frame)
    off = hp.train(hp.HouseConfig(dataset="ames", model="lasso", drop_outliers=False), ames_frame)
    assert off.outliers_ == {} and sum(on.outliers_.values()) >= 1
    assert on.card_.n_train < off.card_.n_train
    assert on.card_.n_test == off.card_.n_test  # the held-out part is never cleaned
    # The planted cheap mansions drag a linear model's big-house prices down; without them they recover.
    big = {"Gr Liv Area": 3800, "Overall Qual": 9, "Total Bsmt SF": 1500}
    assert on.estimate(big).price > 1.05 * off.estimate(big).price


def test_save_and_load_give_identical_predictions(ames_model, tmp_path):
    CACHE.write(ames_model, tmp_path)
    again = CACHE.read(tmp_path)
    rows = pd.DataFrame([{"Gr Liv Area": a} for a in (800, 1500, 3000)])
    np.testing.assert_array_equal(again.predict_frame(rows), ames_model.predict_frame(rows))


def test_load_or_train_caches_and_reports_progress(progress_log, tmp_path):
    store = ArtifactStore(tmp_path / "store")
    resolved, frame = hp.load_dataset("ames")
    config = hp.HouseConfig(dataset="ames", model="lasso")
    assert not hp.is_cached(config, resolved, store)
    model = hp.load_or_train(config, resolved, frame, store=store, progress=progress_log)
    progress_log.assert_complete()
    assert hp.is_cached(config, resolved, store)
    again = hp.load_or_train(config, resolved, frame, store=store)
    assert again.metrics_ == model.metrics_
    assert model.card_.provenance == "bundled sample"


def test_same_config_and_data_give_the_same_model(california_frame, california_model):
    again = hp.train(hp.HouseConfig(dataset="california"), california_frame)
    assert again.metrics_["rmse"] == pytest.approx(california_model.metrics_["rmse"])


def test_explanation_credits_the_changed_feature(ames_model):
    row = {"Gr Liv Area": 3200, "Overall Qual": 5}
    table = ames_model.explain(row, ["Gr Liv Area", "Overall Qual"])
    effects = table.set_index("feature")["effect"]
    assert effects["Gr Liv Area"] > 0  # bigger than typical raises the price
    assert effects["Overall Qual"] < 0  # worse than typical lowers it
    assert table["feature"].iloc[0] in {"Gr Liv Area", "Overall Qual"}


def test_importance_ranks_the_real_drivers_first(ames_model):
    top = ames_model.importance_["feature"].head(4).tolist()
    assert "Overall Qual" in top or "Gr Liv Area" in top, top
    assert ames_model.importance_.set_index("feature").loc["Yr Sold", "importance"] < 0.01


def test_cross_validation_and_comparison(ames_frame, progress_log):
    table = hp.compare_models(
        ames_frame, "ames", names=(hp.ModelName.LINEAR, hp.ModelName.BLEND), folds=3, progress=progress_log
    )
    progress_log.assert_complete()
    assert list(table["key"]) == ["linear", "blend", "blend"]
    assert list(table["outlier step"]) == ["on", "on", "off"]
    assert table["default"].tolist() == [False, True, False]
    by = table.set_index(["key", "outlier step"])
    assert by.loc[("blend", "on"), "rmse_log"] < by.loc[("linear", "on"), "rmse_log"]
    assert {"rmse", "mae", "r2", "rmse_log", "train_s"} <= set(table.columns)


def test_config_rejects_unknown_options():
    with pytest.raises(InputError, match="Unknown dataset"):
        hp.HouseConfig(dataset="boston")
    with pytest.raises(InputError, match="Unknown model"):
        hp.HouseConfig(model="xgboost")
    with pytest.raises(InputError, match="coverage"):
        hp.HouseConfig(coverage=1.5)
    assert hp.HouseConfig(dataset="ames").model is hp.ModelName.BLEND


# ---------------------------------------------------------------- user tables and bad input


def _upload(text: str, name: str = "houses.csv"):
    return infer_types(read_table(text.encode(), name, max_rows=50_000).frame)


def _houses(n: int = 120, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    area = rng.uniform(500, 3000, n)
    town = rng.choice(["north", "south"], n)
    price = 50 * area * np.where(town == "north", 1.3, 1.0) * rng.lognormal(0, 0.05, n)
    lines = ["area,town,price,notes"] + [f"{a:.0f},{t},{p:.0f}," for a, t, p in zip(area, town, price, strict=True)]
    return "\n".join(lines)


def test_user_table_trains_and_learns_its_relationship():
    typed = _upload(_houses())
    assert typed.kinds == {"area": "numeric", "town": "categorical", "price": "numeric"}
    assert "notes" in typed.dropped  # an all-empty column is dropped and reported
    model = hp.train_table(typed, "price")
    assert model.metrics_["r2"] > 0.8
    assert model.estimate({"area": 2500, "town": "north"}).price > model.estimate({"area": 800, "town": "north"}).price
    assert model.estimate({"area": 1500, "town": "north"}).price > model.estimate({"area": 1500, "town": "south"}).price


@pytest.mark.parametrize(
    ("csv", "target", "message"),
    [
        (_houses(), "SalePrice", "no column 'SalePrice'"),
        (_houses().replace("price", "price_text").replace(",0,", ",x,"), "town", "holds text"),
        ("area,price\n" + "\n".join(f"{i},cheap" for i in range(50)), "price", "holds text"),
        ("area,price\n1200,200000\n1500,250000\n", "price", "at least 30"),
        ("area,price,empty\n" + "\n".join(f"{i},100," for i in range(40)), "price", "the same"),
        ("area,price,empty\n" + "\n".join(f"{i},{i * 10}," for i in range(40)), "empty", "every value is empty"),
    ],
    ids=["no-target", "text-target", "text-prices", "two-rows", "constant", "all-nan-target"],
)
def test_bad_tables_raise_input_errors(csv, target, message):
    typed = _upload(csv)
    with pytest.raises(InputError, match=message):
        hp.train_table(typed, target)


def test_text_mixed_into_numbers_is_reported_not_crashing():
    with pytest.raises(InputError, match="must be numeric"):
        hp.train(
            hp.HouseConfig(dataset="custom"),
            pd.DataFrame({"area": range(40), "price": ["a"] * 10 + ["1"] * 30}),
            target="price",
        )


def test_one_row_and_junk_files_are_refused():
    with pytest.raises(InputError, match="at least 2"):
        _upload("area,price\n1000,200000\n")
    junk = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    with pytest.raises(InputError):
        read_table(junk, "junk.csv", max_rows=50_000)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"Gr Liv Area": -50}, "Living area"),
        ({"Gr Liv Area": 1e7}, "Living area"),
        ({"Year Built": 3000}, "Year built"),
        ({"Bedroom AbvGr": 1.5e3}, "Bedrooms"),
        ({"Gr Liv Area": "big"}, "must be a number"),
    ],
)
def test_absurd_form_values_raise_input_errors(ames_model, row, message):
    with pytest.raises(InputError, match=message):
        hp.check_form("ames", row)


def test_absurd_california_form_values_raise_input_errors():
    with pytest.raises(InputError, match="Median income"):
        hp.check_form("california", {"median_income": -3})
    with pytest.raises(InputError, match="Latitude"):
        hp.check_form("california", {"latitude": 60})


# ---------------------------------------------------------------- real data


@pytest.mark.slow
@pytest.mark.realdata
def test_real_ames_blend_reaches_the_target(shared_data):
    folder = require_dataset(shared_data, "house-prices-ames")
    frame = hp.parse("ames", (folder / "ames-decock" / "AmesHousing.csv").read_bytes())
    assert len(frame) == 2930
    model = hp.train(hp.HouseConfig(dataset="ames"), frame)
    assert model.metrics_["rmse_log"] < 0.13
    assert 0.85 <= model.metrics_["coverage"] <= 0.95
    assert model.outliers_ == {"living area above 4,000 sq ft (De Cock)": 4} or sum(model.outliers_.values()) <= 8


@pytest.mark.slow
@pytest.mark.realdata
def test_real_california_boosting_reaches_the_target(shared_data):
    folder = require_dataset(shared_data, "california-housing")
    frame = hp.parse("california", (folder / "housing.csv").read_bytes())
    assert len(frame) == 20640
    model = hp.train(hp.HouseConfig(dataset="california"), frame)
    assert model.metrics_["r2"] > 0.84
    assert model.metrics_["rmse"] / 1e5 < 0.47
    assert 0.87 <= model.metrics_["coverage"] <= 0.93


def test_form_explanation_covers_every_field(california_model):
    values = hp.PRESETS[hp.Dataset.CALIFORNIA]["Luxury"]
    table = hp.explain_form(california_model, "california", values)
    assert len(table) == len(hp.FIELDS[hp.Dataset.CALIFORNIA])
    effects = table.set_index("feature")["effect"]
    assert effects["Median income ($10k)"] > 0  # 11 is far above the typical income
    typical = hp.typical_form("california", california_model.typical_)
    assert 3 < typical["rooms_per_household"] < 8
    with pytest.raises(InputError, match="Rooms per household"):
        hp.explain_form(california_model, "california", {**values, "rooms_per_household": -1})
