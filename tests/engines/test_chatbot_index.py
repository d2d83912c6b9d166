"""The chatbot's shipped MiniLM index (engines/chatbot/index.py): keyed by the texts and the encoder's identity,
rebuilt reusing every row a shipped index already holds, stems for BM25 without nltk, .npy without pickle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engines import chatbot as chat_index
from engines.chatbot import index as ix
from engines.chatbot.knowledge import default_sources, passages
from engines.chatbot.retrieval import _TOKEN, STOPWORDS, Retriever, terms
from engines.core.lifecycle import ShippedStore, save
from engines.encoder_identity import encoder_identity


@pytest.fixture
def tiny_encoder(tiny_encoder_dir, monkeypatch) -> str:
    """The tests' tiny random MiniLM (GALLERY_MODEL_DIR); returns its identity."""
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
    return encoder_identity()


@pytest.fixture(scope="module")
def some_passages():
    return passages(default_sources())[:12]


def ship(request, root) -> ix.PassageIndex:
    """Build a request's index and write it where shipped models live (a temporary root)."""
    model = request.train(lambda f, m: None)
    save(ShippedStore(root), request, model, request.shipped_key)
    return model


def test_the_tiny_encoder_has_its_own_identity(tiny_encoder):
    from engines.core.embeddings import MINILM_SAFETENSORS_SHA256

    assert tiny_encoder.startswith("sha256:")
    assert MINILM_SAFETENSORS_SHA256 not in tiny_encoder, "the tests' random encoder never reads the real one's index"


def test_index_rows_are_what_the_retriever_would_embed(tiny_encoder, some_passages, tmp_path):
    built = ix.build(some_passages, ix.IndexConfig(tiny_encoder), root=tmp_path)
    assert built.matches(some_passages) and not built.matches(some_passages[1:])
    from engines.core.embeddings import load_encoder

    encoder, _ = load_encoder(max_length=ix.ENCODER_TOKENS)
    live = Retriever(some_passages, encoder)
    np.testing.assert_allclose(built.vectors, live.vectors, atol=1e-5)
    np.testing.assert_allclose(built.sentence_rows, live.sentence_rows, atol=1e-5)
    assert built.metrics_["reused"] == 0.0


def test_a_changed_passage_reuses_every_other_row_of_the_shipped_index(tiny_encoder, some_passages, tmp_path):
    first = ship(chat_index.request(some_passages, tiny_encoder), tmp_path)
    edited = [
        replace(some_passages[0], text="A sentence the README gained. " + some_passages[0].text),
        *some_passages[1:],
    ]
    assert ix.data_sha256(edited) != ix.data_sha256(some_passages), "an edit changes the key"
    second = ix.build(edited, ix.IndexConfig(tiny_encoder), root=tmp_path)
    assert 0.8 < second.metrics_["reused"] < 1.0
    np.testing.assert_array_equal(second.vectors[1:], first.vectors[1:])
    assert not np.allclose(second.vectors[0], first.vectors[0])
    # Another encoder's shipped rows are never reused.
    assert ix.known_rows(ix.IndexConfig("sha256:another-encoder"), tmp_path) == {}


def test_the_index_is_saved_without_pickle_and_carries_the_stems_bm25_needs(tiny_encoder, some_passages, tmp_path):
    request = chat_index.request(some_passages, tiny_encoder)
    ship(request, tmp_path)
    folder = tmp_path / ix.ENGINE / request.shipped_key
    for name in (ix.VECTORS, ix.SENTENCE_VECTORS):
        np.load(folder / name, allow_pickle=False)  # raises if the file needed pickle
    stems = ix.shipped_stems(tmp_path)
    words = {w for p in some_passages for w in _TOKEN.findall(p.searchable.lower()) if w not in STOPWORDS}
    assert {w for w in words if len(w) > 3} <= set(stems), "every word BM25 stems is in the table"
    assert all(terms(w) == [stems[w]] for w in list(stems)[:200]), "the table's stems are the Porter stemmer's"
    (folder / ix.TEXTS).write_text("{}")  # tampered: fails its sha256, so nothing is read from it
    assert ix.shipped_stems(tmp_path) == {}
    assert ShippedStore(tmp_path).load(ix.ENGINE, request.shipped_key, ix.CACHE.read) is None
