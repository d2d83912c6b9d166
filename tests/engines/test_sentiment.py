"""Sentiment engine: data parsing and download, known answers, the neutral band, fine-tuning with a tiny
encoder, save -> load, occlusion explanations, bad input, batches, the pretrained pipeline path, comparison."""

from __future__ import annotations

import dataclasses
import io
import itertools
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest

from engines import sentiment
from engines.core.artifacts import ArtifactStore
from engines.core.errors import InputError, SourceError
from engines.sentiment import data
from engines.sentiment.model import labels_of
from engines.sentiment.scorers import HUB_MODEL, label_indices
from tests.conftest import require_dataset

POSITIVE = ("I love this phone, it is excellent and works great.", "The food was wonderful and the staff amazing!")
NEGATIVE = ("This phone is terrible, I hate it.", "Awful service and horrible food, a waste of money.")
FAST = (sentiment.ModelName.VADER, sentiment.ModelName.COUNTVEC_LR, sentiment.ModelName.TFIDF_LR)
# A UCI-layout file with the shapes that trip naive parsers: quotes, trailing spaces before the tab,
# a tab inside the sentence, a blank line.
TRICKY = 'A "great" movie, "truly".  \t1\nWorst film ever\t0\n\nHe said "no" and\tleft, a bad ending.\t0\nLoved it\t1\n'


@pytest.fixture(scope="module")
def sample_frame() -> pd.DataFrame:
    return data.parse_sample(data.UCI_SENTENCES.sample)


@pytest.fixture(scope="module")
def models(sample_frame) -> dict[sentiment.ModelName, sentiment.SentimentModel]:
    return {name: sentiment.train(sentiment.SentimentConfig(model=name), sample_frame) for name in FAST}


@pytest.fixture
def tiny_minilm(tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
    return tiny_encoder_dir


def uci_folder(root, lines_per_file: int = 12):
    """Three small files in the UCI layout."""
    folder = root / data.UCI_SENTENCES.name
    folder.mkdir(parents=True)
    for name in data.SOURCES:
        rows = [f"I loved it, great number {i}\t1" for i in range(lines_per_file)]
        rows += [f"I hated it, awful number {i}\t0" for i in range(lines_per_file)]
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- data


def test_bundled_sample_is_used_offline_and_says_so():
    resolved, frame = sentiment.load_dataset()
    assert resolved.is_sample and "sample" in resolved.notice.lower()
    assert set(frame["label"]) == {"positive", "negative", "neutral"}
    assert set(frame["source"]) == {"product", "restaurant", "movie", "tweet"}
    assert len(frame) == 500


def test_uci_lines_are_split_on_the_last_tab(tmp_path):
    path = tmp_path / "imdb_labelled.txt"
    path.write_text(TRICKY, encoding="utf-8")
    frame = data.parse_labelled_file(path, "imdb")
    assert len(frame) == 4
    assert frame["text"].tolist()[0] == 'A "great" movie, "truly".'
    assert frame["text"].tolist()[2] == 'He said "no" and\tleft, a bad ending.'
    assert frame["label"].tolist() == ["positive", "negative", "negative", "positive"]


def test_a_line_without_a_label_is_refused_with_its_number(tmp_path):
    path = tmp_path / "yelp_labelled.txt"
    path.write_text("Good food\t1\nno label here\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"yelp_labelled\.txt, line 2"):
        data.parse_labelled_file(path, "yelp")


def test_local_data_dir_wins_over_the_sample(tmp_path, monkeypatch):
    uci_folder(tmp_path)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    resolved, frame = sentiment.load_dataset()
    assert resolved.provenance == "local copy"
    assert len(frame) == 72
    assert frame["source"].value_counts().to_dict() == {"amazon": 24, "imdb": 24, "yelp": 24}


def test_download_reads_the_members_of_the_uci_zip(tmp_path, http_server, monkeypatch):
    source = uci_folder(tmp_path / "src")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in data.SOURCES:
            archive.writestr(data.ZIP_FOLDER + name, (source / name).read_bytes())
        archive.writestr(data.ZIP_FOLDER + "readme.txt", b"readme")
    url = http_server.add("/331/sentiment+labelled+sentences.zip", buffer.getvalue())
    spec = dataclasses.replace(
        data.UCI_SENTENCES,
        files=dict.fromkeys(data.SOURCES),  # our stand-in files have their own checksums
        remote={name: data.RemoteFile(url, member=data.ZIP_FOLDER + name) for name in data.SOURCES},
    )
    monkeypatch.setattr(data, "UCI_SENTENCES", spec)
    monkeypatch.setenv("GALLERY_OFFLINE", "0")
    resolved, frame = data.load_dataset()
    assert resolved.provenance == "downloaded"
    assert len(frame) == 72 and set(frame["label"]) == {"positive", "negative"}
    assert len(http_server.requests) == 3  # one archive request per file
    # The next resolve uses the cache, not the network.
    again, _ = data.load_dataset()
    assert again.provenance == "cache" and len(http_server.requests) == 3


def test_the_remote_is_the_uci_zip():
    for name, remote in data.UCI_SENTENCES.remote.items():
        assert remote.url == data.UCI_ZIP and remote.member == f"sentiment labelled sentences/{name}"


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"text": ["a"]}), "missing: label"),
        (pd.DataFrame({"text": ["x"] * 20, "label": ["positive", "great"] * 10}), "'great'"),
        (pd.DataFrame({"text": ["x"] * 30, "label": ["positive"] * 27 + ["negative"] * 3}), "at least 10"),
    ],
)
def test_training_data_is_validated(frame, match):
    with pytest.raises(InputError, match=match):
        sentiment.train(sentiment.SentimentConfig(model="tfidf_lr"), frame)


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize("name", FAST)
def test_fast_models_get_obvious_sentences_right(models, name):
    model = models[name]
    for text in POSITIVE:
        pred = model.predict(text)
        assert pred.label == "positive" and pred.score > 0, (name, text, pred)
    for text in NEGATIVE:
        pred = model.predict(text)
        assert pred.label == "negative" and pred.score < 0, (name, text, pred)
    assert model.metrics_["accuracy"] >= 0.9
    assert -1.0 <= pred.score <= 1.0


def test_neutral_band():
    scores = np.array([-0.9, -0.31, -0.29, 0.0, 0.29, 0.31, 0.9])
    assert labels_of(scores, 0.3).tolist() == [
        "negative",
        "negative",
        "neutral",
        "neutral",
        "neutral",
        "positive",
        "positive",
    ]
    config = sentiment.SentimentConfig()
    assert sentiment.model.neutral_band(sentiment.ModelName.VADER, config) == 0.05
    assert sentiment.model.neutral_band(sentiment.ModelName.TFIDF_LR, config) == config.neutral_margin


def test_a_factual_sentence_is_neutral(models):
    assert models[sentiment.ModelName.VADER].predict("The package arrived on Tuesday.").label == "neutral"
    # The probability models' band is narrow (issue 28): a weak lean is shown as that lean, so only VADER, which
    # scores a text without opinion words exactly 0, is asked for this one. The sample's neutral sentences are
    # still evaluated with three classes.
    assert models[sentiment.ModelName.TFIDF_LR].metrics_["accuracy_3class"] >= 0.7


# Clearly polar review sentences written for this test (none from a dataset): half negative, half positive.
POLAR_REVIEWS = (
    "The sound quality is poor and the case cracked within a week.",
    "Our server was friendly and the steak was cooked just right.",
    "I would not recommend this charger to anyone.",
    "The plot drags and the jokes fall flat.",
    "Five stars, the headphones are comfortable and sound clear.",
    "The room was dirty and smelled of smoke.",
    "A warm, funny film with a great cast.",
    "Delivery took three weeks and the box arrived damaged.",
    "The staff went out of their way to help us.",
    "Battery life is disappointing, it barely lasts half a day.",
    "Everything we ordered was fresh and tasty.",
    "The ending made no sense and I left bored.",
)


def test_polar_reviews_are_rarely_called_neutral(models):
    """The band chosen on UCI dev (benchmarks/sentiment.py) calls at most a quarter of polar reviews neutral."""
    model = models[sentiment.ModelName.TFIDF_LR]
    labels = [model.predict(text).label for text in POLAR_REVIEWS]
    assert labels.count("neutral") <= len(POLAR_REVIEWS) // 4, labels
    assert model.band == sentiment.model.NEUTRAL_MARGIN < 0.1


def test_the_card_says_how_neutral_is_decided(models):
    vader = models[sentiment.ModelName.VADER].card_.to_markdown()
    assert "±0.05" in vader
    tfidf = models[sentiment.ModelName.TFIDF_LR].card_.to_markdown()
    assert "neutral" in tfidf and f"±{sentiment.model.NEUTRAL_MARGIN}" in tfidf


# ---------------------------------------------------------------- explanations and sentences


def test_occlusion_credits_the_decisive_word(models):
    model = models[sentiment.ModelName.TFIDF_LR]
    explanation = model.explain("The pasta was terrible tonight")
    top = explanation.top_tokens(1)
    assert top["word"].item() == "terrible" and top["effect"].item() < 0
    good = model.explain("The pasta was wonderful tonight").top_tokens(1)
    assert good["word"].item() == "wonderful" and good["effect"].item() > 0


def test_occlusion_of_word_pairs_finds_phrases_that_only_count_together(models):
    model = models[sentiment.ModelName.VADER]
    # "good, good": VADER sums the two, so dropping one "good" costs little, dropping both costs a lot.
    text = "The food was good, good value, and the staff were not rude"
    explanation = model.explain(text)
    words = text.split()
    assert [p.token for p in explanation.phrases] == [f"{a} {b}" for a, b in itertools.pairwise(words)]
    assert all(text[p.start : p.end] == p.token for p in explanation.phrases)
    base = model.predict(text).score
    pair = next(p for p in explanation.phrases if p.token == "good, good")
    assert pair.weight == pytest.approx(base - model.predict("The food was value, and the staff were not rude").score)
    top = explanation.top_phrases(n=10, min_effect=0.0)
    assert top["phrase"].iloc[0] == "good, good"
    single = {t.token: t.weight for t in explanation.tokens}
    for phrase, effect in zip(top["phrase"], top["effect"], strict=True):
        first, second = phrase.split()
        assert abs(effect) > max(abs(single[first]), abs(single[second]))


def test_highlighted_html_escapes_user_text(models):
    text = "<script>alert('x')</script> I love this great phone"
    html = models[sentiment.ModelName.TFIDF_LR].explain(text).highlighted_html()
    assert "<script>" not in html and "&#60;script&#62;" in html
    assert html.count("<span") == len(text.split())


def test_long_text_is_scored_sentence_by_sentence(models):
    model = models[sentiment.ModelName.VADER]
    analysis = model.analyze("The screen is wonderful and bright. The battery is terrible and awful. It is black.")
    assert analysis.sentences["label"].tolist() == ["positive", "negative", "neutral"]
    assert analysis.sentences["start"].tolist()[1] == analysis.text.index("The battery")


def test_two_megabytes_are_cut_with_a_notice(models):
    model = models[sentiment.ModelName.TFIDF_LR]
    analysis = model.analyze("I love this phone. " * 110_000)
    assert len(analysis.text) <= sentiment.MAX_TEXT_CHARS
    assert any(note.startswith("Cut to the first") for note in analysis.notes)
    assert any("sentences are scored" in note for note in analysis.notes)
    assert len(analysis.sentences) == sentiment.model.MAX_SENTENCES
    explanation = model.explain("I like this phone " * 100)
    assert explanation.truncated and len(explanation.tokens) == sentiment.model.MAX_EXPLAIN_WORDS


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ("😀😀🎉 !!! ...", "no words"),
        ("12345 678", "no words"),
        (None, "must be text"),
        (42, "must be text"),
        ("Ce téléphone est vraiment excellent, je le recommande à tous mes amis sans hésiter.", "French"),
        ("Dieses Restaurant ist wirklich schrecklich, das Essen war kalt und der Kellner unfreundlich.", "German"),
    ],
)
def test_bad_text_is_refused_with_a_reason(models, text, match):
    model = models[sentiment.ModelName.TFIDF_LR]
    for call in (model.predict, model.analyze, model.explain):
        with pytest.raises(InputError, match=match):
            call(text)


def test_batch_marks_bad_rows_and_scores_the_rest(models):
    model = models[sentiment.ModelName.TFIDF_LR]
    rows = [
        POSITIVE[0],
        "",
        None,
        float("nan"),
        "🙂🙂",
        "Ce téléphone est vraiment excellent, je le recommande à tous mes amis sans hésiter.",
        "y " * 3000,
        NEGATIVE[0],
    ]
    calls = []
    result = model.classify_batch(rows, progress=lambda f, m: calls.append(f))
    assert result["label"].tolist() == ["positive", "", "", "", "", "", "", "negative"]
    assert result["note"].tolist()[1:7] == [
        "empty",
        "empty",
        "empty",
        "no words (only emoji, punctuation or numbers)",
        "not English (French)",
        "longer than 5,000 characters",
    ]
    assert result["score"].isna().sum() == 6
    assert calls[-1] == 1.0


def test_batch_limits(models):
    model = models[sentiment.ModelName.VADER]
    with pytest.raises(InputError, match="No texts"):
        model.classify_batch([])
    with pytest.raises(InputError, match="split the file"):
        model.classify_batch(["ok"] * (sentiment.MAX_BATCH + 1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "gpt"}, "Choose one of: vader"),
        ({"neutral_margin": 1.5}, "neutral_margin"),
        ({"test_size": 0.9}, "test_size"),
        ({"epochs": 0}, "epochs"),
        ({"ensemble_weight": 2.0}, "ensemble_weight"),
    ],
)
def test_config_is_validated(kwargs, match):
    with pytest.raises(InputError, match=match):
        sentiment.SentimentConfig(**kwargs)


# ---------------------------------------------------------------- transformer models (tiny encoder)


def test_fine_tuning_reports_every_batch_and_reloads_identically(tiny_minilm, sample_frame, tmp_path, progress_log):
    resolved, frame = sentiment.load_dataset()
    store = ArtifactStore(tmp_path / "artifacts")
    config = sentiment.SentimentConfig(model="finetuned", epochs=2)
    assert not sentiment.is_cached(config, resolved, store)
    first = sentiment.load_or_train(config, resolved, frame, store=store, progress=progress_log)
    progress_log.assert_complete()
    assert any("Epoch 2/2, batch" in m for _, m in progress_log.calls)
    assert sentiment.is_cached(config, resolved, store)
    folder = next((store.root / "sentiment").iterdir())
    assert list(folder.rglob("*.safetensors")) and not list(folder.rglob("*.bin"))
    second = sentiment.load_or_train(config, resolved, frame, store=store)
    texts = [*POSITIVE, *NEGATIVE]
    np.testing.assert_allclose(first.scores(texts), second.scores(texts), rtol=0, atol=1e-6)
    assert all(-1.0 <= s <= 1.0 for s in second.scores(texts))
    assert second.card_.provenance == "bundled sample"


@pytest.fixture
def tiny_minilm_with_vocab(tmp_path, monkeypatch):
    """A tiny random BERT in a model folder of its own (this test trains it, so it must not be shared)."""
    from engines.core.embeddings import MINILM
    from tests.tiny_models import make_tiny_bert

    folder = make_tiny_bert(tmp_path / "models" / MINILM.name)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    return folder


def test_the_tiny_encoder_learns_a_known_answer(tiny_minilm_with_vocab):
    # Sentences from the tiny model's vocabulary whose label is decided by one word.
    rng = np.random.default_rng(0)
    good, bad = ["good", "great", "love", "excellent", "amazing"], ["bad", "terrible", "awful", "hate", "worst"]
    things = ["movie", "phone", "food", "service", "battery", "story"]
    rows = []
    for i in range(160):
        label = "positive" if i % 2 == 0 else "negative"
        word = rng.choice(good if label == "positive" else bad)
        rows.append((f"the {rng.choice(things)} was {word}", label))
    frame = pd.DataFrame(rows, columns=["text", "label"])
    # A random encoder needs a larger learning rate than a pretrained one to learn in a few epochs.
    config = sentiment.SentimentConfig(model="finetuned", epochs=4, learning_rate=1e-3)
    model = sentiment.train(config, frame)
    assert model.metrics_["accuracy"] >= 0.9, model.metrics_
    assert model.predict("the food was great").score > 0 > model.predict("the food was awful").score


def test_ensemble_and_embedding_models_train_with_the_tiny_encoder(tiny_minilm, sample_frame):
    ensemble = sentiment.train(sentiment.SentimentConfig(model="ensemble", epochs=1), sample_frame)
    assert ensemble.card_.model == sentiment.MODELS[sentiment.ModelName.ENSEMBLE]["title"]
    assert ensemble.predict(POSITIVE[0]).score > ensemble.predict(NEGATIVE[0]).score
    embedding = sentiment.train(sentiment.SentimentConfig(model="minilm_lr"), sample_frame)
    assert 0.0 <= embedding.metrics_["accuracy"] <= 1.0
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(ensemble.scorer_.finetuned.classifier)


def test_transformer_models_say_when_minilm_is_missing(sample_frame, monkeypatch):
    from engines.core import model_sources

    monkeypatch.setattr(model_sources, "_package_path", lambda spec: None)
    with pytest.raises(SourceError, match="not available here"):
        sentiment.train(sentiment.SentimentConfig(model="finetuned"), sample_frame)


def test_pretrained_pipeline_from_a_local_folder(tmp_path, monkeypatch, sample_frame):
    from tests.tiny_models import make_tiny_bert

    labels = {0: "NEGATIVE", 1: "POSITIVE"}
    make_tiny_bert(
        tmp_path / "models" / HUB_MODEL.name,
        head="classifier",
        num_labels=2,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    resolved, frame = sentiment.load_dataset()
    model = sentiment.load_or_train(sentiment.SentimentConfig(model="hub"), resolved, frame)
    scores = model.scores(["great movie", "awful film", "x " * 400])
    assert scores.shape == (3,) and np.all(np.abs(scores) <= 1.0)
    assert model.predict(POSITIVE[0]).label in sentiment.LABELS


def test_pretrained_pipeline_absent_is_reported(sample_frame):
    with pytest.raises(SourceError, match="not available here"):
        sentiment.train(sentiment.SentimentConfig(model="hub"), sample_frame)


def test_label_indices_of_pretrained_models():
    assert label_indices({0: "NEGATIVE", 1: "POSITIVE"}) == (1, 0)
    assert label_indices({0: "negative", 1: "neutral", 2: "positive"}) == (2, 0)
    assert label_indices({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == (2, 0)


# ---------------------------------------------------------------- comparison


def test_compare_puts_models_on_the_same_split(tiny_minilm, sample_frame):
    trained = sentiment.train(sentiment.SentimentConfig(model="ensemble", epochs=1), sample_frame)
    comparison = sentiment.compare_models(
        sample_frame,
        sentiment.SentimentConfig(),
        names=(sentiment.ModelName.VADER, sentiment.ModelName.COUNTVEC_LR, sentiment.ModelName.TFIDF_LR),
        trained=trained,
    )
    table = comparison.table
    assert table["key"].tolist() == ["vader", "countvec_lr", "tfidf_lr", "finetuned", "ensemble"]
    assert table.loc[table["default"], "key"].tolist() == ["ensemble"]
    assert {"accuracy", "f1", "accuracy_movie", "accuracy_tweet", "latency_ms", "train_s"} <= set(table.columns)
    assert (table["latency_ms"] > 0).all()
    assert np.array(comparison.confusions["vader"]).sum() == len(sentiment.model.split(sample_frame, trained.config)[1])
    ensemble_row = table.set_index("key").loc["ensemble", "accuracy"]
    assert ensemble_row == pytest.approx(trained.metrics_["accuracy"])


# ---------------------------------------------------------------- real data


@pytest.mark.slow
@pytest.mark.realdata
def test_all_uci_sentences_parse_and_tfidf_is_sane(shared_data):
    folder = require_dataset(shared_data, data.UCI_SENTENCES.name)
    frame = data.parse_uci({name: folder / name for name in data.SOURCES})
    assert len(frame) == 3000
    assert frame.groupby("source")["label"].value_counts().eq(500).all()
    comparison = sentiment.compare_models(
        frame,
        sentiment.SentimentConfig(),
        names=(sentiment.ModelName.VADER, sentiment.ModelName.COUNTVEC_LR, sentiment.ModelName.TFIDF_LR),
    )
    accuracy = comparison.table.set_index("key")["accuracy"]
    assert accuracy["tfidf_lr"] >= 0.8
    assert accuracy["countvec_lr"] >= 0.75
    assert 0.65 <= accuracy["vader"] <= 0.9


# ---------------------------------------------------------------- what ships, and the fast first answer


@pytest.mark.parametrize("name", list(sentiment.EXAMPLES))
def test_an_example_is_clean_english_so_it_skips_the_language_detector(name):
    from engines.core.text import english_text

    text = sentiment.EXAMPLES[name]
    checked = english_text(text, max_chars=sentiment.MAX_TEXT_CHARS)
    assert checked.text == text and not checked.notes and checked.language == "en"
    fast = sentiment.check_text(text)
    assert (fast.text, fast.notes, fast.is_english) == (checked.text, checked.notes, True)


def test_a_text_that_is_not_an_example_still_meets_the_language_detector(monkeypatch):
    from engines.sentiment import model as sentiment_model

    with pytest.raises(InputError, match="looks like"):
        sentiment.check_text("Le service était lent et la soupe était froide, nous ne reviendrons jamais ici.")
    checked = []
    real = sentiment_model.english_text
    monkeypatch.setattr(sentiment_model, "english_text", lambda text, **kw: checked.append(text) or real(text, **kw))
    sentiment.check_text(sentiment.EXAMPLES["Angry diner"])
    assert checked == []
    edited = sentiment.EXAMPLES["Angry diner"] + " Truly."  # an example with a change is any text
    assert sentiment.check_text(edited).text == edited and checked == [edited]


def test_the_repository_ships_the_fast_models_of_the_sample():
    from engines.core.lifecycle import ShippedStore

    for name in (sentiment.ModelName.VADER, sentiment.ModelName.COUNTVEC_LR, sentiment.ModelName.TFIDF_LR):
        request = sentiment.sample_request(name)
        model = ShippedStore().load(sentiment.ENGINE, request.shipped_key, sentiment.CACHE.read)
        assert model is not None, f"{name}: rebuild with python -m engines.build_models --only sentiment"
        assert model.name is name and model.card_.provenance == "bundled sample"
    from engines.sentiment.model import SHIPPED_MODELS

    assert sentiment.ModelName.FINETUNED not in SHIPPED_MODELS, "90 MB of weights never ship"


def test_the_minilm_head_is_keyed_by_the_encoders_weights(tiny_minilm, monkeypatch):
    tiny = sentiment.sample_request(sentiment.ModelName.MINILM_LR).shipped_key
    monkeypatch.delenv("GALLERY_MODEL_DIR")
    real = sentiment.sample_request(sentiment.ModelName.MINILM_LR).shipped_key
    assert tiny != real
    assert sentiment.sample_request("tfidf_lr").shipped_key == sentiment.sample_request("tfidf_lr").shipped_key


def test_a_minilm_head_read_from_disk_loads_no_encoder_until_used(tiny_minilm, sample_frame, tmp_path):
    from engines.core.embeddings import load_encoder
    from engines.sentiment.scorers import EmbeddingScorer, load_scorer

    model = sentiment.train(sentiment.SentimentConfig(model="minilm_lr"), sample_frame)
    model.scorer_.save(tmp_path / "scorer")
    read = load_scorer(tmp_path / "scorer")
    assert isinstance(read, EmbeddingScorer) and not read.has_encoder
    encoder, _ = load_encoder()
    read.attach(encoder)
    texts = [*POSITIVE, *NEGATIVE]
    np.testing.assert_allclose(read.scores(texts), model.scorer_.scores(texts), atol=1e-6)
    lazy = load_scorer(tmp_path / "scorer")
    np.testing.assert_allclose(lazy.scores(texts), model.scorer_.scores(texts), atol=1e-6)  # loads its own
    assert lazy.has_encoder
