"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engines.core import threads

# The tests size their thread pools like the app server (engines/core/threads.py): one thread per
# operation on 2 shared cores, OpenMP never spinning (its busy-waiting threads once slowed a 0.3 s fit
# to 30 s). Before numpy/scikit-learn/torch load; values already in the environment win.
threads.configure()

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public datasets (../shared/data, or GALLERY_TEST_DATA_DIR); skips when absent."""
    path = Path(os.environ.get("GALLERY_TEST_DATA_DIR", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path} (set GALLERY_TEST_DATA_DIR or place ../shared/data)")
    return path


def require_dataset(root: Path, name: str) -> Path:
    """The folder of one real dataset, or skip with the reason."""
    folder = root / name
    if not folder.is_dir():
        pytest.skip(f"dataset {name!r} not found under {root}")
    return folder


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A model directory (for GALLERY_MODEL_DIR) whose all-MiniLM-L6-v2 is a tiny random BERT."""
    from engines.core.embeddings import MINILM
    from tests.tiny_models import make_tiny_bert

    root = tmp_path_factory.mktemp("models")
    make_tiny_bert(root / MINILM.name)
    return root


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a test module: fast and deterministic on 2 shared cores (imports torch)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def no_hf_cache(monkeypatch):
    """Whatever this machine's Hugging Face cache holds, the test sees none of it (nothing is fetched)."""
    from engines.core import model_sources

    def missing(spec, *, local_only):
        raise FileNotFoundError(f"{spec.hub_id} is not cached (tests)")

    monkeypatch.setattr(model_sources, "_hf_snapshot", missing)


@pytest.fixture(autouse=True)
def hub_tried_afresh():
    """Each test starts with the hub not marked unreachable (the mark is process-wide)."""
    from engines.core import model_sources

    model_sources.forget_unreachable_hub()
    yield
    model_sources.forget_unreachable_hub()
