"""AppTest of the churn predictor page: presets, what-if errors, every tab, bad uploads."""

from __future__ import annotations

import numpy as np
import pytest

from engines.churn.data import TELCO
from tests.app.helpers import open_page, open_tab, texts


def probability(at) -> float:
    metrics = {m.label: m.value for m in at.metric}
    return float(metrics["Probability of leaving"].rstrip("%")) / 100


def test_churn_page_runs_its_presets_and_every_tab():
    at = open_page("churn")
    # The "likely to leave" preset is scored on arrival.
    leave = probability(at)
    assert any("Likely to leave" in t for t in texts(at.error)), texts(at.error)
    at.button(key="churn_preset_Loyal").click().run()
    at.button(key="churn_predict").click().run()
    assert not at.exception
    loyal = probability(at)
    assert leave > 0.5 > loyal, (leave, loyal)
    assert any("Likely to stay" in t for t in texts(at.success))
    assert at.number_input(key="churn_f_tenure").value == 60
    # Absurd what-if values: a clear error, no crash, and the presets still work.
    at.number_input(key="churn_f_tenure").set_value(-5).run()
    assert any("tenure = -5 is outside the plausible range" in t for t in texts(at.error)), texts(at.error)
    at.number_input(key="churn_f_tenure").set_value(12).run()
    at.number_input(key="churn_f_MonthlyCharges").set_value(1e9).run()
    assert any("MonthlyCharges = 1e+09 is outside" in t for t in texts(at.error)), texts(at.error)
    at.button(key="churn_preset_Likely to leave").click().run()
    assert probability(at) == pytest.approx(leave)
    assert not at.exception
    # Business threshold: a higher offer cost moves the best threshold up.
    open_tab(at, "churn_tab", "💰 Business threshold")
    first = float({m.label: m.value for m in at.metric}["Best threshold"])
    at.number_input(key="churn_cost").set_value(200.0).run()
    assert not at.exception
    second = float({m.label: m.value for m in at.metric}["Best threshold"])
    assert second > first, (first, second)
    at.number_input(key="churn_cost").set_value(-1.0).run()
    assert any("offer cost must be between" in t for t in texts(at.error))
    # Performance tiles.
    open_tab(at, "churn_tab", "📈 Performance")
    metrics = {m.label: m.value for m in at.metric}
    assert {"ROC AUC", "PR AUC", "F1", "Leavers caught (recall)", "Precision"} <= set(metrics)
    assert float(metrics["ROC AUC"]) > 0.75
    # Compare approaches on the same folds: the sample's comparison ships, so it shows without a click.
    open_tab(at, "churn_tab", "⚖️ Compare approaches")
    assert "churn_compare" not in [b.key for b in at.button]
    compared = at.dataframe[0].value
    assert len(compared) == 16 and "roc_auc" in compared.columns, compared
    # Fairness: gaps in words for both attributes.
    open_tab(at, "churn_tab", "🧭 Fairness")
    words = " ".join(texts(at.markdown))
    assert "gender" in words and "SeniorCitizen" in words and "a gap of" in words
    # Model card.
    open_tab(at, "churn_tab", "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))


@pytest.fixture(scope="module")
def upload_page():
    at = open_page("churn")
    open_tab(at, "churn_tab", "📂 Your data")
    return at


def test_churn_upload_trains_on_the_users_file(upload_page):
    at = upload_page
    payload = TELCO.sample.read_bytes()
    at.file_uploader(key="churn_upload").set_value(("mine.csv", payload, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="churn_target").value == "Churn"
    summary = at.dataframe[0].value
    assert dict(zip(summary["column"], summary["kind"], strict=True))["tenure"] == "numeric"
    at.button(key="churn_train_upload").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["ROC AUC (held out)"]) > 0.75


JUNK = np.random.default_rng(1).integers(0, 256, 10 * 1024 * 1024, dtype=np.uint8).tobytes()
BAD_UPLOADS = [
    ("one-row.csv", b"tenure,Churn\n3,Yes\n", "at least 30"),
    ("junk.csv", JUNK, "binary data"),
    ("empty.csv", b"", "is empty"),
    ("all-nan.csv", b"a,b\n" + b",\n" * 40, "No column has any values"),
]


@pytest.mark.parametrize(("name", "payload", "message"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_churn_bad_uploads_show_an_error(upload_page, name, payload, message):
    at = upload_page
    at.file_uploader(key="churn_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)


BAD_TARGETS = [
    ("three-values.csv", "a,b\n" + "1,x\n2,y\n3,z\n" * 14, "b", "3 different values"),
    ("one-class.csv", "a,Churn\n" + "1,No\n2,No\n" * 20, "Churn", "only one class"),
    (
        "ids-only.csv",
        "id,Churn\n" + "".join(f"C{i:04d},{'Yes' if i % 3 else 'No'}\n" for i in range(40)),
        "Churn",
        "No column besides the target",
    ),
]


@pytest.mark.parametrize(("name", "text", "target", "message"), BAD_TARGETS, ids=[b[0] for b in BAD_TARGETS])
def test_churn_unusable_targets_show_an_error(upload_page, name, text, target, message):
    at = upload_page
    at.file_uploader(key="churn_upload").set_value((name, text.encode(), "text/csv")).run()
    at.selectbox(key="churn_target").set_value(target).run()
    at.button(key="churn_train_upload").click().run()
    assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)
