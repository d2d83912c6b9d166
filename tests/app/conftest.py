"""Page tests run offline with a private cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def offline_env(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "app-cache"  # shared: each model trains once per session
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(cache))
    monkeypatch.delenv("GALLERY_DATA_DIR", raising=False)
    monkeypatch.delenv("GALLERY_MODEL_DIR", raising=False)
