"""What the news aggregator ships for its first feed: the sample classifier, and the sample's embeddings,
categories and grouping computed ahead. The first feed built from them must be the feed the engine would build."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engines import news
from engines.core.lifecycle import SHIPPED_ROOT, ShippedStore
from engines.news import shipped


def shipped_vectors() -> list[news.TextVectors]:
    """Every shipped (verified) artifact of the sample's computed-ahead data, whatever encoder it was made with."""
    store, found = ShippedStore(), []
    for folder in sorted((SHIPPED_ROOT / shipped.VECTORS_ENGINE).iterdir()):
        if folder.is_dir() and store.verify(shipped.VECTORS_ENGINE, folder.name) is not None:
            found.append(shipped.VECTORS_CACHE.read(folder))
    return found


def test_the_repository_ships_the_sample_classifier():
    model = ShippedStore().load(news.ENGINE, news.sample_request().shipped_key, news.CACHE.read)
    assert model is not None, "rebuild with: python -m engines.build_models --only news"
    assert model.trained_on_sample_ and set(model.classes_) == set(news.CATEGORIES)


def test_shipped_grouping_and_categories_are_what_the_engine_computes_now():
    """Fails when clean.py or the classifier changed without rebuilding the shipped data (build_models --only news)."""
    found = shipped_vectors()
    assert found, "no shipped sample data: python -m engines.build_models --only news"
    classifier = news.sample_request().load_or_train()[0]
    leads = sorted(set(shipped.sample_leads()))
    predicted = {shipped._sha(t): [p.category, round(p.probability, 4)] for t, p in zip(leads, classifier.predict(leads), strict=True)}  # fmt: skip
    for vectors in found:
        assert vectors.groups == shipped.sample_groups()
        assert vectors.categories == predicted
        assert vectors.vectors.shape[0] == len(leads)


@pytest.fixture(scope="module")
def hashed_ahead() -> news.TextVectors:
    """The sample's data computed ahead as the build does, with word hashing in place of MiniLM (no torch here)."""
    leads = sorted(set(shipped.sample_leads()))
    classifier = news.sample_request().load_or_train()[0]
    predictions = classifier.predict(leads)
    return news.TextVectors(
        tuple(shipped._sha(t) for t in leads),
        news.HashingEncoder().encode(leads),
        {shipped._sha(t): [p.category, round(p.probability, 4)] for t, p in zip(leads, predictions, strict=True)},
        shipped.sample_groups(),
    )


def test_an_index_from_data_computed_ahead_equals_the_index_computed_now(hashed_ahead, tmp_path):
    articles = news.load_samples(as_of=news.REFERENCE_TIME)
    classifier = news.sample_request().load_or_train()[0]
    now = news.build_index(articles, classifier=classifier, encoder=news.HashingEncoder())
    encoder = news.ShippedEncoder(hashed_ahead, tmp_path / "model")
    ahead = news.build_index(
        articles,
        classifier=news.ShippedCategories(hashed_ahead),
        encoder=encoder,
        clusters=hashed_ahead.clusters(articles),
    )
    assert [c.representative.id for c in ahead.clusters] == [c.representative.id for c in now.clusters]
    assert [[a.id for a in c.others] for c in ahead.clusters] == [[a.id for a in c.others] for c in now.clusters]
    assert [(a.category, a.category_score) for a in ahead.articles] == [
        (a.category, a.category_score) for a in now.articles
    ]
    np.testing.assert_allclose(ahead.vectors, now.vectors, atol=1e-6)
    assert ahead.summaries == now.summaries


def test_data_computed_ahead_refuses_articles_it_does_not_hold(hashed_ahead, tmp_path):
    articles = news.load_samples(as_of=news.REFERENCE_TIME)
    other = replace(articles[0], id="not-in-the-sample", title="A story the sample never had")
    assert hashed_ahead.clusters([*articles, other]) is None
    assert hashed_ahead.clusters(articles[1:]) is None
    assert not news.ShippedCategories(hashed_ahead).covers([other])
    encoder = news.ShippedEncoder(hashed_ahead, tmp_path / "model")
    assert not encoder.covers([other.lead])
    with pytest.raises(KeyError):
        encoder.encode([other.lead])
