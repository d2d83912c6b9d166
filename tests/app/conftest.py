"""Page tests run offline with a private cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def offline_env(tmp_path_factory, monkeypatch, tiny_encoder_dir):
    cache = tmp_path_factory.getbasetemp() / "app-cache"  # shared: each model trains once per session
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(cache))
    monkeypatch.delenv("GALLERY_DATA_DIR", raising=False)
    # Pages that fine-tune or embed with MiniLM get a tiny random one: seconds, not minutes. The real
    # weights are exercised by the engine tests and by the browser tests (whose server has no model dir).
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
