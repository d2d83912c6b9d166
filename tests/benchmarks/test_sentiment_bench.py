"""The sentiment benchmark on a tiny stand-in corpus in the UCI layout (2 folds, 1 epoch, tiny encoder), and its skip."""

from __future__ import annotations

import pytest

from benchmarks.common import Skip
from engines.sentiment.data import SOURCES, UCI_SENTENCES, parse_sample


@pytest.fixture
def uci_folder(tmp_path):
    """The bundled sample's positive and negative sentences written as the three UCI files."""
    frame = parse_sample(UCI_SENTENCES.sample)
    frame = frame[frame["label"] != "neutral"].reset_index(drop=True)
    folder = tmp_path / "data" / UCI_SENTENCES.name
    folder.mkdir(parents=True)
    for i, name in enumerate(SOURCES):
        part = frame.iloc[i::3]
        lines = [
            f"{t}\t{1 if label == 'positive' else 0}" for t, label in zip(part["text"], part["label"], strict=True)
        ]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "data"


def test_sentiment_benchmark_scores_every_model_per_source(uci_folder, tiny_encoder_dir, monkeypatch):
    from benchmarks import sentiment as bench

    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setattr(bench, "FOLDS", 2)
    monkeypatch.setattr(bench, "EPOCHS", 1)
    records, anchors = bench.run(uci_folder, seeds=1, progress=lambda _: None)
    neutral = [r for r in records if r.dataset != bench.DATASET]  # issue 28: the neutral band, dev and test halves
    records = [r for r in records if r.dataset == bench.DATASET]
    assert neutral and all(" half " in r.dataset for r in neutral)
    assert {r.model.rsplit("(", 1)[1] for r in neutral} == {"before)", "now)"}
    by = {(r.model, r.metric): r.value for r in records}
    models = {r.model for r in records}
    assert len(models) == len(bench.ROWS)
    assert {r.metric for r in records} == {*bench.METRICS, "latency_ms", "train_s"}
    assert [r.model for r in records if r.default and r.metric == "accuracy"] == [
        "Fine-tuned MiniLM + TF-IDF (averaged probabilities)"
    ]
    # The templated sample is easy for word models; every accuracy is a fraction.
    assert by[("TF-IDF words + characters + logistic regression", "accuracy")] >= 0.9
    assert all(0.0 <= r.value <= 1.0 for r in records if r.metric.startswith("accuracy"))
    assert all(r.value > 0 for r in records if r.metric == "latency_ms")
    assert {a.metric for a in anchors} == {"accuracy", "accuracy_amazon", "accuracy_imdb", "accuracy_yelp"}


def test_sentiment_benchmark_skips_without_the_data(tmp_path):
    from benchmarks import sentiment as bench

    with pytest.raises(Skip, match=r"amazon_cells_labelled\.txt"):
        bench.run(tmp_path, seeds=1)
