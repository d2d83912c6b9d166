"""Spam engine: learns, explains, refuses bad input, caches, compares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engines import spam
from engines.core.artifacts import ArtifactStore
from engines.core.errors import InputError
from engines.core.lifecycle import SHIPPED
from engines.spam.model import SMS_SPAM, parse_collection
from tests.conftest import require_dataset

SPAM_EXAMPLES = ("Prize scam", "Phishing", "Short code")
HAM_EXAMPLES = ("Friend", "Work", "Family")


@pytest.fixture(scope="module")
def sample_frame() -> pd.DataFrame:
    return parse_collection(SMS_SPAM.sample)


@pytest.fixture(scope="module")
def model(sample_frame) -> spam.SpamModel:
    return spam.train(spam.SpamConfig(), sample_frame, provenance="bundled sample")


def test_bundled_sample_is_used_offline_and_says_so():
    resolved, frame = spam.load_dataset()
    assert resolved.is_sample
    assert "sample" in resolved.notice.lower()
    assert set(frame["label"]) == {"ham", "spam"}
    assert len(frame) == 1000


def test_shipped_models_load_verified_and_answer():
    requests = [r for r in spam.shipped_requests() if r.cache is spam.CACHE]
    assert {r.config.pipeline for r in requests} == set(spam.PipelineName)
    assert requests[0].config.pipeline is spam.DEFAULT_PIPELINE
    for request in requests:
        found = request.find()  # the test cache is empty: only the repository's shipped store can answer
        assert found is not None, f"{request.label} is not shipped: run python -m engines.build_models --only spam"
        model, source = found
        assert source == SHIPPED
        assert model.config.pipeline is request.config.pipeline
        assert model.predict(spam.EXAMPLES["Prize scam"]).is_spam
        assert not model.predict(spam.EXAMPLES["Family"]).is_spam


def test_the_offline_page_asks_for_the_shipped_models():
    data = spam.load_dataset()
    for pipeline in spam.PipelineName:
        wanted = spam.request(spam.SpamConfig(pipeline=pipeline), data)
        assert wanted.shipped_key == spam.sample_request(pipeline).shipped_key
    (comparison,) = [r for r in spam.shipped_requests() if r.cache is spam.COMPARE_CACHE]
    assert spam.compare_request(data).shipped_key == comparison.shipped_key
    assert comparison.shipped_key != spam.sample_request().shipped_key  # same config, another artifact
    found = comparison.find()
    assert found is not None and found[1] == SHIPPED
    assert set(found[0].table_["key"]) == {p.value for p in spam.PipelineName}


def test_local_data_dir_wins_over_sample(tmp_path, monkeypatch):
    folder = tmp_path / "sms-spam-collection"
    folder.mkdir()
    (folder / "SMSSpamCollection").write_text("ham\thello there\nspam\tWIN cash now\n" * 12)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    resolved, frame = spam.load_dataset()
    assert resolved.provenance == "local copy"
    assert len(frame) == 24


def test_trained_model_separates_the_classes(model):
    assert model.metrics_["accuracy"] >= 0.95
    assert model.metrics_["roc_auc"] >= 0.98
    for name in SPAM_EXAMPLES:
        assert model.predict(spam.EXAMPLES[name]).is_spam, name
    for name in HAM_EXAMPLES:
        assert not model.predict(spam.EXAMPLES[name]).is_spam, name


@pytest.mark.parametrize("pipeline", list(spam.PipelineName))
def test_every_pipeline_gives_probabilities(pipeline, sample_frame):
    model = spam.train(spam.SpamConfig(pipeline=pipeline), sample_frame)
    prob = model.predict(spam.EXAMPLES["Prize scam"]).spam_probability
    assert 0.5 < prob <= 1.0
    assert model.card_.model == spam.PIPELINES[pipeline]["title"]


def test_same_config_and_data_give_the_same_model(sample_frame, model):
    again = spam.train(spam.SpamConfig(), sample_frame)
    texts = list(spam.EXAMPLES.values())
    np.testing.assert_allclose(again.spam_probabilities(texts), model.spam_probabilities(texts))


def test_explanation_credits_the_spammy_words(model):
    explanation = model.explain(spam.EXAMPLES["Short code"])
    top = explanation.top_tokens(5)
    assert (top["effect"] > 0).any()
    words = {t.token for t in explanation.tokens}
    assert "87121" in words
    assert [t.token for t in explanation.tokens][-6:] == ["18+", "only", ",", "msg", "cost", "150p"]
    # The indicator panel compares this message with typical ham and spam.
    table = explanation.indicators
    assert list(table.columns) == ["indicator", "this message", "typical ham", "typical spam", "looks like"]
    links = table.set_index("indicator").loc["Phone numbers / short codes"]
    assert links["this message"] == 1
    assert links["typical spam"] > links["typical ham"]


def test_punctuation_glued_to_a_word_is_its_own_token(model):
    text = "WINNER!! Call 09061701461. T&Cs apply, 18+ only: www.example.com/win?x=1 £900"
    tokens = [t.token for t in model.explain(text).tokens]
    assert tokens[:5] == ["WINNER", "!!", "Call", "09061701461", "."]
    assert {"T&Cs", "18+", "www.example.com/win?x=1", "£900"} <= set(tokens)


@pytest.mark.parametrize(
    "text",
    [
        spam.EXAMPLES["Prize scam"],  # starts with "WINNER!!"
        spam.EXAMPLES["Short code"],
        spam.EXAMPLES["Friend"],
        "WINNER!! As a valued customer you have been selected for a FREE holiday. Call 09061701461 now!",
        "Sorry I missed your call, WINNER of the pub quiz is buying drinks tonight!! See you at 8?",
    ],
)
def test_each_credited_token_moves_the_score_the_way_it_says(model, text):
    """Remove each credited token and re-score: a token credited towards spam lowers P(spam) when removed."""
    explanation = model.explain(text)
    base = model.spam_probabilities([text])[0]
    assert abs(base - explanation.prediction.spam_probability) < 1e-12
    credited = [t for t in explanation.tokens if abs(t.weight) >= 0.01]
    assert credited
    assert any(t.token == "WINNER" for t in explanation.tokens) == ("WINNER" in text)
    without = model.spam_probabilities([text[: t.start] + text[t.end :] for t in credited])
    for token, p in zip(credited, without, strict=True):
        assert text[token.start : token.end] == token.token
        if token.weight > 0:
            assert p < base, f"{token.token!r} is credited towards spam but removing it raises P(spam)"
        else:
            assert p > base, f"{token.token!r} is credited towards ham but removing it lowers P(spam)"


def test_highlighted_html_escapes_user_text(model):
    text = "<script>alert('x')</script> FREE prize call 09061701461"
    html = model.explain(text).highlighted_html(text)
    assert "<script>" not in html
    assert "&lt;" in html and "&gt;" in html and "<script" not in html
    assert html.count("<span") == len(model.explain(text).tokens)


def test_long_message_explanation_is_capped(model):
    text = " ".join(["hello"] * 400)
    explanation = model.explain(text)
    assert explanation.truncated
    assert len(explanation.tokens) == 300


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 1_048_576, "1,048,576 characters"),
        (None, "must be text"),
        (12345, "must be text"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(model, text, match):
    with pytest.raises(InputError, match=match):
        model.predict(text)
    with pytest.raises(InputError, match=match):
        model.explain(text)


def test_batch_marks_bad_rows_and_keeps_the_rest(model):
    rows = [
        spam.EXAMPLES["Prize scam"],
        "",
        None,
        float("nan"),
        "y" * (spam.MAX_MESSAGE_CHARS + 1),
        spam.EXAMPLES["Friend"],
    ]
    calls = []
    result = model.classify_batch(rows, progress=lambda f, m: calls.append(f))
    assert list(result["verdict"]) == ["spam", "", "", "", "", "ham"]
    assert list(result["note"][1:5]) == [
        "empty",
        "empty",
        "empty",
        f"longer than {spam.MAX_MESSAGE_CHARS:,} characters",
    ]
    assert result["spam_probability"].isna().sum() == 4
    assert calls[-1] == 1.0


def test_batch_limits(model):
    with pytest.raises(InputError, match="No messages"):
        model.classify_batch([])
    with pytest.raises(InputError, match="split the file"):
        model.classify_batch(["hi"] * (spam.MAX_BATCH + 1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pipeline": "gpt"}, "Choose one of: seed_nb"),
        ({"threshold": 1.0}, "threshold"),
        ({"test_size": 0.9}, "test_size"),
    ],
)
def test_config_is_validated(kwargs, match):
    with pytest.raises(InputError, match=match):
        spam.SpamConfig(**kwargs)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"text": ["a"]}), "missing: label"),
        (pd.DataFrame({"label": ["ham", "maybe"] * 10, "text": ["x"] * 20}), "'maybe'"),
        (pd.DataFrame({"label": ["ham"] * 30 + ["spam"] * 3, "text": ["x"] * 33}), "at least 10"),
    ],
)
def test_training_data_is_validated(frame, match):
    with pytest.raises(InputError, match=match):
        spam.train(spam.SpamConfig(), frame)


def test_training_reports_progress_to_one(sample_frame):
    calls: list[tuple[float, str]] = []
    spam.train(spam.SpamConfig(pipeline="seed_nb"), sample_frame, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)


def test_load_or_train_caches_and_reloads_identically(tmp_path):
    store = ArtifactStore(tmp_path / "artifacts")
    resolved, frame = spam.load_dataset()
    config = spam.SpamConfig(pipeline="seed_nb")
    assert not spam.is_cached(config, resolved, store)
    first = spam.load_or_train(config, resolved, frame, store=store)
    assert spam.is_cached(config, resolved, store)
    second = spam.load_or_train(config, resolved, frame, store=store)
    assert second is not first
    texts = list(spam.EXAMPLES.values())
    np.testing.assert_array_equal(first.spam_probabilities(texts), second.spam_probabilities(texts))
    assert second.card_.provenance == "bundled sample"


def test_compare_puts_every_pipeline_on_the_same_split(sample_frame):
    table = spam.compare_pipelines(sample_frame, spam.SpamConfig())
    assert list(table["key"]) == [p.value for p in spam.PipelineName]
    assert table["default"].sum() == 1
    assert table.loc[table["default"], "key"].item() == spam.DEFAULT_PIPELINE.value
    assert ((table["accuracy"] > 0.5) & (table["accuracy"] <= 1.0)).all()


def test_indicators_follow_the_seed_list():
    values = spam.indicators("FREE!!! Claim your prize at www.win.example.com or call 09061701461, only £5")
    assert values["promo_words"] >= 2
    assert values["links"] >= 1
    assert values["long_numbers"] == 1
    assert values["money"] >= 1
    assert values["exclamations"] == 3
    assert values["suspicious_phrases"] >= 1
    quiet = spam.indicators("see you at home later")
    assert quiet["promo_words"] == quiet["links"] == quiet["exclamations"] == 0


@pytest.mark.slow
@pytest.mark.realdata
def test_default_beats_the_seed_baseline_on_the_real_corpus(shared_data):
    folder = require_dataset(shared_data, "sms-spam-collection")
    frame = parse_collection(folder / "SMSSpamCollection")
    assert len(frame) == 5574
    table = spam.compare_pipelines(frame, spam.SpamConfig(), names=(spam.PipelineName.SEED_NB, spam.DEFAULT_PIPELINE))
    seed, default = table.set_index("key").loc[["seed_nb", spam.DEFAULT_PIPELINE.value], "accuracy"]
    assert default >= 0.99
    assert default > seed
