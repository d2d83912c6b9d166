"""Churn engine: learns, ranks presets, caches, finds the profit threshold, checks bias, refuses bad input."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest

from engines import churn
from engines.churn.data import TELCO, read_telco
from engines.core.artifacts import ArtifactStore
from engines.core.errors import InputError
from engines.core.lifecycle import SHIPPED
from engines.core.tabular import infer_types
from engines.core.uploads import read_table
from tests.conftest import require_dataset

FAST = churn.ChurnConfig(n_splits=3)


@pytest.fixture(scope="module")
def sample() -> churn.ChurnData:
    return read_telco(TELCO.sample)


@pytest.fixture(scope="module")
def model(sample) -> churn.ChurnModel:
    return churn.train(churn.ChurnConfig(), sample, provenance="bundled sample")


def sample_strings() -> pd.DataFrame:
    return pd.read_csv(TELCO.sample, dtype=str, keep_default_na=False)


def test_bundled_sample_is_used_offline_and_looks_like_telco():
    resolved, data = churn.load_dataset()
    assert resolved.is_sample and "sample" in resolved.notice.lower()
    assert len(data.y) == 2000
    assert 0.22 <= data.churn_rate <= 0.30
    raw = sample_strings()
    assert raw.columns[0] == "customerID" and raw.columns[-1] == "Churn" and len(raw.columns) == 21
    # Blank TotalCharges only for brand-new customers, and cleaning sets them to 0.
    blank = raw["TotalCharges"].str.strip() == ""
    assert blank.any() and (raw.loc[blank, "tenure"] == "0").all()
    assert (data.features.loc[blank.to_numpy(), "TotalCharges"] == 0).all()


def test_local_data_dir_wins_over_sample(tmp_path, monkeypatch):
    folder = tmp_path / "telco-churn"
    folder.mkdir()
    sample_strings().head(300).to_csv(folder / "Telco-Customer-Churn.csv", index=False)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    resolved, data = churn.load_dataset()
    assert resolved.provenance == "local copy"
    assert len(data.y) == 300


def test_model_beats_chance_and_ranks_the_presets(model):
    assert model.metrics_["roc_auc"] >= 0.78
    assert model.metrics_["pr_auc"] >= 0.5  # chance is the churn rate, ~0.27
    leave = model.predict_one(churn.PRESETS["Likely to leave"])
    loyal = model.predict_one(churn.PRESETS["Loyal"])
    assert leave > 0.6 > 0.1 > loyal, (leave, loyal)


def test_shipped_models_load_verified_and_rank_the_presets():
    requests = [r for r in churn.shipped_requests() if r.cache is churn.CACHE]
    assert requests[0].config.model is churn.DEFAULT_MODEL
    assert {r.config.model for r in requests} == set(churn.ModelName)
    for request in requests:
        found = request.find()  # the test cache is empty: only the repository's shipped store can answer
        assert found is not None, f"{request.label} is not shipped: run python -m engines.build_models --only churn"
        model, source = found
        assert source == SHIPPED and model.config == request.config
        assert model.card_.provenance == "bundled sample"
        leave = model.predict_one(churn.PRESETS["Likely to leave"])
        loyal = model.predict_one(churn.PRESETS["Loyal"])
        assert leave > 0.5 > loyal, (request.label, leave, loyal)


def test_the_offline_page_asks_for_the_shipped_models():
    data = churn.load_dataset()
    for name in churn.ModelName:
        wanted = churn.request(churn.ChurnConfig(model=name), data)
        assert wanted.shipped_key == churn.sample_request(name).shipped_key
    (comparison,) = [r for r in churn.shipped_requests() if r.cache is churn.COMPARE_CACHE]
    assert churn.compare_request(data).shipped_key == comparison.shipped_key
    found = comparison.find()
    assert found is not None and found[1] == SHIPPED
    assert len(found[0].table_) == 16 and found[0].config == churn.CompareConfig()


def test_engineered_features_are_added(sample):
    out = churn.add_features(sample.features.head(5))
    for name in ("tenure_band", "charges_per_tenure_month", "n_services", "contract_x_internet", "log_tenure"):
        assert name in out.columns
    row = out.iloc[0]
    assert row["charges_per_tenure_month"] == pytest.approx(row["TotalCharges"] / max(row["tenure"], 1))


def test_save_load_gives_identical_predictions(sample, tmp_path):
    resolved, _ = churn.load_dataset()
    store = ArtifactStore(tmp_path / "store")
    assert not churn.is_cached(FAST, resolved, store)
    first = churn.load_or_train(FAST, resolved, sample, store=store)
    assert churn.is_cached(FAST, resolved, store)
    again = churn.load_or_train(FAST, resolved, sample, store=store)
    assert again is not first
    rows = sample.features.head(50)
    np.testing.assert_array_equal(first.churn_probabilities(rows), again.churn_probabilities(rows))


def test_progress_ends_at_one(sample, progress_log):
    churn.train(FAST, sample, interpret=False, progress=progress_log)
    progress_log.assert_complete()


def test_profit_threshold_is_the_argmax_of_a_hand_computed_curve():
    y = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0])
    p = np.array([0.95, 0.8, 0.75, 0.6, 0.5, 0.4, 0.3, 0.25, 0.1, 0.05])
    business = churn.Business(offer_cost=10, customer_value=100, acceptance=0.5)
    thresholds = np.array([0.0, 0.2, 0.3, 0.55, 0.7, 0.9, 1.0])
    curve = churn.profit_curve(y, p, business, thresholds)
    by_hand = []
    for t in thresholds:
        total = 0.0
        for yi, pi in zip(y, p, strict=True):
            if pi >= t:
                total += (0.5 * 100 if yi == 1 else 0) - 10
        by_hand.append(total)
    assert curve["profit"].tolist() == pytest.approx(by_hand)
    best = churn.best_threshold(curve)
    assert best["threshold"] == thresholds[int(np.argmax(by_hand))] == 0.2
    assert best["profit"] == pytest.approx(4 * 50 - 8 * 10)  # all four churners reached with eight offers


def test_gains_reach_every_churner_at_full_contact():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    p = np.linspace(1, 0, 10)
    gains = churn.gains_table(y, p, points=10)
    assert gains["churners_reached"].iloc[0] == 0.5  # the riskiest 10% holds one of two churners
    assert gains["lift"].iloc[0] == pytest.approx(5.0)
    assert gains["churners_reached"].iloc[-1] == 1.0


def test_bias_table_on_a_hand_made_case():
    groups = pd.DataFrame({"gender": ["F", "F", "F", "F", "M", "M", "M", "M"]})
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    pred = np.array([1, 0, 1, 0, 1, 1, 1, 0])
    table = churn.bias_table(groups, y, pred).set_index("group")
    assert table.loc["F", "selection_rate"] == 0.5 and table.loc["M", "selection_rate"] == 0.75
    assert table.loc["F", "recall"] == 0.5 and table.loc["M", "recall"] == 1.0
    assert table.loc["F", "false_positive_rate"] == 0.5
    assert table.loc["M", "false_positive_rate"] == pytest.approx(2 / 3)
    sentences = churn.bias_sentences(churn.bias_table(groups, y, pred))
    assert any("gap of 25.0 points" in s and "notable" in s for s in sentences), sentences
    assert any("gap of 50.0 points" in s for s in sentences), sentences


def test_fairness_and_performance_read_the_held_out_predictions(model):
    table, sentences = model.fairness(0.3)
    assert set(table["attribute"]) == {"gender", "SeniorCitizen"}
    assert len(sentences) == 6
    perf = model.performance(0.3)
    cm = np.array(perf["confusion"])
    assert cm.sum() == len(model.oof_)
    assert cm[1].sum() == model.oof_["y"].sum()
    assert list(perf["calibration"].columns) == ["predicted", "observed"]


def test_explanation_credits_short_tenure_for_the_leaver(model):
    effects = model.explain(churn.PRESETS["Likely to leave"])
    top = {c.feature: c.effect for c in effects[:4]}
    assert "tenure" in top and top["tenure"] > 0
    assert len(effects) == len(model.features)
    loyal = {c.feature: c.effect for c in model.explain(churn.PRESETS["Loyal"])}
    assert loyal["Contract"] < 0


def test_interpretation_tables(model):
    assert model.importance_["feature"].iloc[0] in {"tenure", "Contract"}
    assert 1 <= len(model.pdp_) <= 2
    tenure = model.pdp_.get("tenure")
    if tenure is not None:
        assert tenure["churn_probability"].iloc[0] > tenure["churn_probability"].iloc[-1]


def test_compare_approaches_uses_the_same_folds(sample):
    table = churn.compare_approaches(
        sample,
        models=(churn.ModelName.LOGREG, churn.ModelName.SEED_RF),
        strategies=(churn.Imbalance.NONE, churn.Imbalance.OVERSAMPLE),
        n_splits=3,
    )
    assert len(table) == 6  # 2 models x (none, threshold moving, oversampling)
    assert (table["roc_auc"] > 0.7).all()
    moved = table[table["imbalance"].str.startswith("threshold")]
    plain = table[table["imbalance"].str.startswith("none")]
    # Threshold moving reuses the same fit: same ranking, more churners caught.
    assert moved["roc_auc"].tolist() == pytest.approx(plain["roc_auc"].tolist())
    assert (moved["recall"].to_numpy() > plain["recall"].to_numpy()).all()


def test_user_table_trains_and_reports_types(sample):
    raw = sample_strings().head(400)
    typed = infer_types(raw)
    data = churn.prepare_user_table(typed, "Churn")
    assert data.positive == "Yes" and "customerID" not in data.kinds
    assert data.kinds["tenure"] == "numeric" and data.kinds["Contract"] == "categorical"
    model = churn.train(FAST, data, interpret=False)
    assert model.metrics_["roc_auc"] > 0.7


def upload(text: str, name: str = "mine.csv") -> pd.DataFrame:
    return read_table(text.encode(), name, max_rows=churn.data.MAX_ROWS).frame


BAD_TABLES = {
    "no target": ("a,b\n" + "1,x\n" * 40, "no column 'Churn'"),
    "one class": ("a,Churn\n" + "1,No\n2,No\n" * 20, "only one class"),
    "three classes": ("a,Churn\n" + "1,No\n2,Yes\n3,Maybe\n" * 20, "exactly two"),
    "tiny": ("a,Churn\n1,No\n2,Yes\n3,No\n", "at least 30"),
    "all-NaN target": ("a,Churn\n" + "1,\n" * 40, "every value is empty"),
    "target only": ("Churn\n" + "Yes\nNo\n" * 20, "No column besides the target"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_user_tables_raise_input_error(case):
    text, message = BAD_TABLES[case]
    with pytest.raises(InputError, match=message):
        churn.prepare_user_table(infer_types(upload(text)), "Churn")


def test_one_row_and_junk_files_raise_input_error():
    with pytest.raises(InputError, match="at least"):
        infer_types(upload("a,Churn\n1,Yes\n"), min_rows=churn.data.MIN_ROWS)
    junk = np.random.default_rng(0).integers(0, 256, 10 * 1024 * 1024, dtype=np.uint8).tobytes()
    with pytest.raises(InputError, match=r"binary data|not UTF-8"):
        read_table(junk, "junk.csv", max_rows=10)


def test_text_in_a_numeric_telco_column_is_refused():
    raw = sample_strings().head(100)
    raw.loc[5, "tenure"] = "about a year"
    with pytest.raises(InputError, match="'tenure' must hold numbers; row 6 has 'about a year'"):
        churn.clean_telco(raw)
    with pytest.raises(InputError, match="missing the Telco column"):
        churn.clean_telco(raw.drop(columns=["Contract"]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tenure": -3}, "tenure = -3 is outside the plausible range"),
        ({"MonthlyCharges": 1e9}, "MonthlyCharges = 1e\\+09 is outside"),
        ({"TotalCharges": float("nan")}, "finite number"),
        ({"tenure": "twelve"}, "tenure must be a number"),
        ({"Contract": "Lifetime"}, "Contract must be one of"),
        ({"favourite_colour": "blue"}, "Unknown field"),
    ],
)
def test_absurd_what_if_values_raise_input_error(model, change, message):
    customer = churn.PRESETS["Loyal"] | change
    with pytest.raises(InputError, match=message):
        model.predict_one(customer)


def test_bad_config_and_business_values_raise_input_error():
    with pytest.raises(InputError, match="Unknown model"):
        churn.ChurnConfig(model="xgboost")
    with pytest.raises(InputError, match="acceptance rate"):
        churn.Business(acceptance=0)
    with pytest.raises(InputError, match="offer cost"):
        churn.Business(offer_cost=-5)
    with pytest.raises(InputError, match="must be a number"):
        churn.Business(customer_value=float("inf"))


def test_same_config_and_data_give_the_same_model(sample):
    a = churn.train(FAST, sample, interpret=False)
    b = churn.train(FAST, sample, interpret=False)
    np.testing.assert_array_equal(a.oof_["p"].to_numpy(), b.oof_["p"].to_numpy())


@pytest.mark.slow
@pytest.mark.realdata
def test_default_reaches_roc_auc_085_on_real_telco(shared_data):
    folder = require_dataset(shared_data, "telco-churn")
    data = read_telco(folder / "Telco-Customer-Churn.csv")
    assert len(data.y) == 7043 and data.churn_rate == pytest.approx(1869 / 7043)
    model = churn.train(churn.ChurnConfig(), data, interpret=False)
    assert model.metrics_["roc_auc"] >= 0.85, model.metrics_


def test_csv_helpers_round_trip(sample):
    payload = churn.data.telco_csv_bytes(sample, rows=40)
    frame = pd.read_csv(io.BytesIO(payload))
    assert len(frame) == 40 and "Churn" in frame.columns
    assert churn.guess_target(list(frame.columns)) == "Churn"
    assert list(itertools.islice(frame.columns, 1)) == ["gender"]
