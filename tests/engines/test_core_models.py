"""Model-source resolver: local directory -> installed package -> HF cache -> hub -> offline model.

The pretrained model is a tiny, randomly initialised BERT built from a config and
saved locally (how transformers tests its own pipelines); nothing is downloaded.

huggingface_hub reads HF_HUB_CACHE, HF_ENDPOINT and HF_HUB_OFFLINE from the
environment once, at import time, into ``huggingface_hub.constants``; setting the
environment variables inside a test is therefore not enough. The ``hf_hub`` fixture
sets the variables (for anything that reads them later) *and* patches the constants
that ``snapshot_download`` and ``HfApi`` read at call time.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from huggingface_hub import constants as hf_constants  # noqa: E402
from huggingface_hub import snapshot_download  # noqa: E402

from engines.core.model_sources import ModelSpec, resolve_model  # noqa: E402

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "movie",
    "film",
    "was",
    "is",
    "great",
    "awful",
    "good",
    "bad",
    "plot",
    "acting",
    "boring",
    "fun",
    "a",
    "very",
]
TEXT = "the movie was very good"
LABELS = {0: "NEGATIVE", 1: "POSITIVE"}
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # a 40-hex commit id, as the hub uses


@dataclass(frozen=True)
class TinyModel:
    """A saved tiny model and what it predicts for TEXT."""

    path: Path
    label: str
    score: float


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> TinyModel:
    """A 1-layer BERT with a 20-word vocabulary, saved with its tokenizer (~100 kB)."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("models") / "tiny-bert"
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=2,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        logits = model(**tokenizer(TEXT, return_tensors="pt")).logits[0]
    probs = torch.softmax(logits, dim=-1)
    best = int(probs.argmax())
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return TinyModel(folder, LABELS[best], float(probs[best]))


def copy_model(model: TinyModel, dest: Path) -> Path:
    shutil.copytree(model.path, dest)
    return dest


def spec(**kwargs) -> ModelSpec:
    return ModelSpec(name="tiny-bert", title="Tiny BERT", offline="the lexicon model", **kwargs)


@pytest.fixture
def hf_hub(tmp_path, monkeypatch):
    """An empty HF cache in tmp_path, hub calls pointed at 127.0.0.1, offline by default."""
    home = tmp_path / "hf-home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # Read once at import by huggingface_hub; snapshot_download/HfApi read these attributes per call.
    monkeypatch.setattr(hf_constants, "HF_HOME", str(home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "ENDPOINT", "http://127.0.0.1:9")  # overridden by tests that need a hub
    return cache


def hub_online(monkeypatch, endpoint: str) -> None:
    """Allow the hub (both vetoes off) and point huggingface_hub at ``endpoint``."""
    monkeypatch.delenv("GALLERY_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "ENDPOINT", endpoint)


def build_hub_cache(cache: Path, repo_id: str, model: TinyModel, commit: str = COMMIT) -> Path:
    """The hub cache layout by hand: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)  # the hub writes the hash without a newline
    snapshot = repo / "snapshots" / commit
    snapshot.parent.mkdir(parents=True)
    return copy_model(model, snapshot)


def predict(path: Path) -> dict:
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(path), tokenizer=str(path), device="cpu")
    return classifier(TEXT)[0]


# --- rung 1: GALLERY_MODEL_DIR ---------------------------------------------------------------


def test_local_model_dir_is_used_and_the_model_loads(tmp_path, monkeypatch, tiny_model, network_guard, progress_log):
    models = tmp_path / "models"
    copy_model(tiny_model, models / "tiny-bert")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)

    resolved = resolve_model(spec(hub_id="org/tiny-bert", package="no_such_gallery_package"), progress_log)

    assert resolved.kind == "local directory"
    assert resolved.path == models / "tiny-bert"
    assert not resolved.is_offline
    assert resolved.notice == "Tiny BERT (local directory)."
    progress_log.assert_complete()
    # The resolved folder is a working transformers model: same prediction as the saved one.
    prediction = predict(resolved.path)
    assert prediction["label"] == tiny_model.label
    assert prediction["score"] == pytest.approx(tiny_model.score, abs=1e-5)
    assert network_guard.attempts == []


def test_model_dir_without_the_marker_falls_through(tmp_path, monkeypatch, hf_hub):
    models = tmp_path / "models"
    (models / "tiny-bert").mkdir(parents=True)
    (models / "tiny-bert" / "vocab.txt").write_text("only a vocabulary")  # no config.json
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(models))

    resolved = resolve_model(spec())

    assert resolved.kind == "offline model"
    assert resolved.path is None


def test_custom_marker_file_is_honoured(tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "tiny-bert").mkdir(parents=True)
    (models / "tiny-bert" / "config.json").write_text("{}")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(models))

    assert resolve_model(spec(marker="weights.bin")).kind == "offline model"
    (models / "tiny-bert" / "weights.bin").write_bytes(b"\0")
    assert resolve_model(spec(marker="weights.bin")).kind == "local directory"


# --- rung 2: an installed package that carries the weights -----------------------------------------


def test_installed_package_with_weights_is_used(tmp_path, monkeypatch, tiny_model, hf_hub):
    site = tmp_path / "site"
    package = site / "gallery_fake_weights_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Fake package carrying model weights."""\n')
    copy_model(tiny_model, package / "weights" / "bert")
    monkeypatch.syspath_prepend(str(site))

    resolved = resolve_model(
        spec(hub_id="org/tiny-bert", package="gallery_fake_weights_pkg", package_subdir="weights/bert")
    )

    assert resolved.kind == "installed package"
    assert resolved.path == package / "weights" / "bert"
    assert predict(resolved.path)["label"] == tiny_model.label


def test_installed_package_without_the_weights_falls_through(tmp_path, monkeypatch, hf_hub):
    site = tmp_path / "site"
    package = site / "gallery_fake_empty_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))

    resolved = resolve_model(spec(package="gallery_fake_empty_pkg", package_subdir="weights"))

    assert resolved.kind == "offline model"


def test_missing_package_is_noted(hf_hub):
    resolved = resolve_model(spec(package="gallery_package_that_is_not_installed"))
    assert resolved.kind == "offline model"
    assert "Package gallery_package_that_is_not_installed is not installed." in resolved.notes


# --- rung 3: the Hugging Face cache ---------------------------------------------------------------


def test_hugging_face_cache_layout_is_found(tiny_model, hf_hub, network_guard, progress_log):
    snapshot = build_hub_cache(hf_hub, "org/tiny-bert", tiny_model)
    # The hand-made layout is what huggingface_hub itself accepts offline.
    assert Path(snapshot_download("org/tiny-bert", local_files_only=True)) == snapshot

    resolved = resolve_model(spec(hub_id="org/tiny-bert"), progress_log)

    assert resolved.kind == "Hugging Face cache"
    assert resolved.path == snapshot
    progress_log.assert_complete()
    assert predict(resolved.path)["label"] == tiny_model.label
    assert network_guard.attempts == []


def test_hugging_face_cache_with_a_pinned_revision(tiny_model, hf_hub):
    other = "fedcba9876543210fedcba9876543210fedcba98"
    build_hub_cache(hf_hub, "org/tiny-bert", tiny_model, commit=COMMIT)

    assert resolve_model(spec(hub_id="org/tiny-bert", revision=COMMIT)).kind == "Hugging Face cache"
    missing = resolve_model(spec(hub_id="org/tiny-bert", revision=other))
    assert missing.kind == "offline model"
    assert "org/tiny-bert is not in the Hugging Face cache." in missing.notes


def test_hugging_face_cache_of_another_repository_is_not_used(tiny_model, hf_hub):
    build_hub_cache(hf_hub, "org/another-model", tiny_model)
    assert resolve_model(spec(hub_id="org/tiny-bert")).kind == "offline model"


# --- rung 4: the hub, disallowed or unreachable -----------------------------------------------------


@pytest.mark.parametrize("veto", ["GALLERY_OFFLINE", "HF_HUB_OFFLINE"])
def test_hub_disallowed_gives_the_offline_model_without_network(
    monkeypatch, hf_hub, http_server, network_guard, progress_log, veto
):
    monkeypatch.setattr(hf_constants, "ENDPOINT", http_server.url(""))  # a hub call would be counted here
    if veto == "GALLERY_OFFLINE":
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    else:
        monkeypatch.delenv("GALLERY_OFFLINE", raising=False)

    resolved = resolve_model(spec(hub_id="org/tiny-bert"), progress_log)

    assert resolved.kind == "offline model"
    assert resolved.is_offline
    assert resolved.path is None
    assert "The hub is off (GALLERY_OFFLINE or HF_HUB_OFFLINE)." in resolved.notes
    assert resolved.notice == "Tiny BERT is not available here; using the lexicon model."
    assert http_server.requests == []
    assert network_guard.attempts == []
    progress_log.assert_complete()


def test_hub_allowed_but_unreachable_falls_back_quickly(monkeypatch, hf_hub, closed_port, network_guard, progress_log):
    hub_online(monkeypatch, f"http://127.0.0.1:{closed_port}")

    started = time.monotonic()
    resolved = resolve_model(spec(hub_id="org/tiny-bert"), progress_log)
    elapsed = time.monotonic() - started

    assert resolved.kind == "offline model"
    assert any(note.startswith("Hub download failed:") for note in resolved.notes), resolved.notes
    assert not any("hub is off" in note for note in resolved.notes)
    assert elapsed < 10, elapsed
    assert network_guard.attempts == []  # only the closed loopback port was tried
    progress_log.assert_complete()


def test_an_unreachable_hub_is_not_tried_again_for_a_while(monkeypatch, hf_hub, closed_port, network_guard):
    from engines.core import model_sources

    hub_online(monkeypatch, f"http://127.0.0.1:{closed_port}")
    downloads = []
    real = model_sources._hf_snapshot

    def counting(spec, *, local_only):
        if not local_only:
            downloads.append(spec.hub_id)
        return real(spec, local_only=local_only)

    monkeypatch.setattr(model_sources, "_hf_snapshot", counting)
    first = resolve_model(spec(hub_id="org/tiny-bert"))
    second = resolve_model(spec(hub_id="org/other-bert"))
    assert downloads == ["org/tiny-bert"]  # the second model did not wait for the same unreachable hub
    assert any(note.startswith("Hub download failed:") for note in first.notes), first.notes
    assert second.kind == "offline model"
    assert any("could not be reached a moment ago" in note for note in second.notes), second.notes
    model_sources.forget_unreachable_hub()
    resolve_model(spec(hub_id="org/third-bert"))
    assert downloads == ["org/tiny-bert", "org/third-bert"]  # tried again once forgotten
    assert network_guard.attempts == []


def test_a_hub_that_answers_with_errors_is_still_tried_for_the_next_model(monkeypatch, hf_hub, http_server):
    hub_online(monkeypatch, http_server.url(""))  # every path answers 404: reachable, the model is just not there
    resolve_model(spec(hub_id="org/tiny-bert"))
    asked = len(http_server.requests)
    second = resolve_model(spec(hub_id="org/other-bert"))
    assert asked and len(http_server.requests) > asked
    assert not any("could not be reached" in note for note in second.notes), second.notes


def test_hub_allowed_and_answering_errors_falls_back(monkeypatch, hf_hub, http_server):
    hub_online(monkeypatch, http_server.url(""))  # every path answers 404

    resolved = resolve_model(spec(hub_id="org/tiny-bert"))

    assert resolved.kind == "offline model"
    assert any(note.startswith("Hub download failed:") for note in resolved.notes), resolved.notes
    assert http_server.requests, "the hub endpoint was never asked"
    assert all(path.startswith("/api/") for path in http_server.requests), http_server.requests


def test_no_hub_id_and_nothing_else_gives_the_offline_model(progress_log):
    resolved = resolve_model(spec(), progress_log)
    assert resolved.kind == "offline model"
    assert resolved.notes == ()
    assert progress_log.calls[-1] == (1.0, "Using the lexicon model")


# --- opening a resolved folder (from_folder) -----------------------------------------------------


def test_from_folder_opens_each_auto_class_quietly(tmp_path, tiny_model, capsys):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from engines.core.model_sources import ResolvedModel, from_folder

    folder = copy_model(tiny_model, tmp_path / "tiny-bert")
    model, tokenizer = from_folder(
        ResolvedModel(spec(), "local directory", folder),
        "a text classifier",
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )
    assert type(model).__name__.endswith("ForSequenceClassification")
    assert tokenizer("a cat")["input_ids"]  # a working tokenizer from the same folder
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""  # no progress bars or warnings printed


def test_from_folder_names_the_folder_and_what_it_should_hold(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from engines.core.errors import SourceError
    from engines.core.model_sources import ResolvedModel, from_folder

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    with pytest.raises(SourceError, match=r"broken does not hold a text classifier \(\w+Error"):
        from_folder(
            ResolvedModel(spec(), "local directory", folder), "a text classifier", AutoModelForSequenceClassification
        )
