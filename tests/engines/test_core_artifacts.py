"""Artifact store: stable keys, verified round trips, corruption detected and retrained, atomic saves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import pytest

from engines.core import artifacts
from engines.core.artifacts import MANIFEST, ArtifactStore, artifact_key, library_versions, load_or_train
from engines.core.hashing import sha256_file

LIBRARIES = ("numpy", "pandas")
DATA_SHA = "a" * 64


class Kind(Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass(frozen=True)
class Config:
    alpha: float = 1.0
    kind: Kind = Kind.FAST
    ngrams: tuple[int, int] = (1, 2)


@dataclass
class Model:
    weights: list[float]
    vocabulary: str


def write_model(model: Model, folder: Path) -> None:
    (folder / "weights.json").write_text(json.dumps(model.weights))
    (folder / "vocabulary.txt").write_text(model.vocabulary)


def read_model(folder: Path) -> Model:
    return Model(json.loads((folder / "weights.json").read_text()), (folder / "vocabulary.txt").read_text())


class Trainer:
    """Counts calls and reports progress like an engine's train()."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, progress) -> Model:
        self.calls += 1
        for step in range(5):
            progress(step / 4, f"epoch {step}")
        return Model([0.25, -1.5, float(self.calls)], "spam\nham\nprize\n")


def run(store: ArtifactStore, trainer: Trainer, progress=None, *, read=read_model, key: str = "k1") -> Model:
    kwargs = {"progress": progress} if progress is not None else {}
    return load_or_train(
        store,
        "toy",
        key,
        train=trainer,
        write=write_model,
        read=read,
        info=lambda m: {"metrics": {"f1": 0.9}, "n_weights": len(m.weights), "versions": library_versions(LIBRARIES)},
        **kwargs,
    )


@pytest.fixture
def store(tmp_path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


# --- keys ---------------------------------------------------------------------------------------------


def test_key_is_stable_for_equal_config():
    first = artifact_key("toy", Config(), DATA_SHA, LIBRARIES)
    assert first == artifact_key("toy", Config(), DATA_SHA, LIBRARIES)
    assert first == artifact_key("toy", Config(alpha=1.0, kind=Kind("fast"), ngrams=(1, 2)), DATA_SHA, LIBRARIES)
    assert len(first) == 20
    assert all(c in "0123456789abcdef" for c in first)


def test_mapping_configs_are_keyed_independently_of_insertion_order():
    assert artifact_key("toy", {"a": 1, "b": 2}, DATA_SHA, ()) == artifact_key("toy", {"b": 2, "a": 1}, DATA_SHA, ())


@pytest.mark.parametrize(
    "other",
    [
        ("toy", Config(alpha=0.5), DATA_SHA),
        ("toy", Config(kind=Kind.SLOW), DATA_SHA),
        ("toy", Config(ngrams=(1, 3)), DATA_SHA),
        ("toy", Config(), "b" * 64),
        ("other-engine", Config(), DATA_SHA),
    ],
    ids=["alpha", "enum", "tuple", "data sha", "engine"],
)
def test_key_changes_with_config_data_or_engine(other):
    assert artifact_key(*other, LIBRARIES) != artifact_key("toy", Config(), DATA_SHA, LIBRARIES)


def test_key_changes_with_library_versions(monkeypatch):
    before = artifact_key("toy", Config(), DATA_SHA, LIBRARIES)
    monkeypatch.setattr(artifacts.metadata, "version", lambda name: "999.0")
    artifacts.installed_version.cache_clear()  # versions are cached per process; a new install restarts it
    try:
        assert artifact_key("toy", Config(), DATA_SHA, LIBRARIES) != before
    finally:
        artifacts.installed_version.cache_clear()


def test_library_versions_records_python_and_absent_packages():
    versions = library_versions(["numpy", "gallery-package-that-does-not-exist"])
    assert versions["numpy"] == __import__("numpy").__version__
    assert versions["gallery-package-that-does-not-exist"] == "absent"
    assert versions["python"].count(".") == 2


def test_default_root_is_under_the_cache_dir(gallery_env):
    assert ArtifactStore().root == gallery_env / "artifacts"


# --- save / load ---------------------------------------------------------------------------------------


def test_save_load_round_trip_and_manifest(store):
    model = Model([1.0, 2.5], "a\nb\n")
    info = {"metrics": {"f1": 0.875}, "config": Config(), "versions": library_versions(LIBRARIES)}

    folder = store.save("toy", "k1", lambda f: write_model(model, f), info)

    assert folder == store.path("toy", "k1") == store.root / "toy" / "k1"
    assert store.exists("toy", "k1")
    assert store.load("toy", "k1", read_model) == model
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["engine"] == "toy"
    assert manifest["key"] == "k1"
    assert manifest["files"] == {name: sha256_file(folder / name) for name in ("vocabulary.txt", "weights.json")}
    assert manifest["info"]["metrics"] == {"f1": 0.875}
    assert manifest["info"]["config"] == {"alpha": 1.0, "kind": "fast", "ngrams": [1, 2]}
    assert manifest["info"]["versions"]["numpy"] == __import__("numpy").__version__
    assert store.verify("toy", "k1") == manifest


def test_load_of_a_missing_artifact_is_none(store):
    assert not store.exists("toy", "nope")
    assert store.load("toy", "nope", read_model) is None


def test_flipped_byte_is_detected_and_the_artifact_deleted(store):
    folder = store.save("toy", "k1", lambda f: write_model(Model([1.0], "abc"), f), {})
    weights = folder / "weights.json"
    data = bytearray(weights.read_bytes())
    data[1] ^= 0x01
    weights.write_bytes(bytes(data))

    assert store.verify("toy", "k1") is None
    assert store.load("toy", "k1", read_model) is None
    assert not folder.exists()


def test_missing_file_is_detected(store):
    folder = store.save("toy", "k1", lambda f: write_model(Model([1.0], "abc"), f), {})
    (folder / "vocabulary.txt").unlink()
    assert store.load("toy", "k1", read_model) is None
    assert not folder.exists()


def test_manifest_of_another_key_is_rejected(store):
    store.save("toy", "k1", lambda f: write_model(Model([1.0], "abc"), f), {})
    store.path("toy", "k1").rename(store.path("toy", "k2"))
    assert store.load("toy", "k2", read_model) is None


def test_save_overwrites_an_existing_artifact(store):
    store.save("toy", "k1", lambda f: write_model(Model([1.0], "old"), f), {})
    store.save("toy", "k1", lambda f: write_model(Model([2.0], "new"), f), {})
    assert store.load("toy", "k1", read_model) == Model([2.0], "new")


def test_failed_write_leaves_no_temp_folder_and_keeps_the_previous_artifact(store):
    store.save("toy", "k1", lambda f: write_model(Model([1.0], "good"), f), {})

    def broken(folder: Path) -> None:
        (folder / "weights.json").write_text("[half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save("toy", "k1", broken, {})
    with pytest.raises(RuntimeError):
        store.save("toy", "k2", broken, {})

    assert sorted(p.name for p in (store.root / "toy").iterdir()) == ["k1"]  # no .k1-* / .k2-* left
    assert store.load("toy", "k1", read_model) == Model([1.0], "good")


# --- load_or_train ---------------------------------------------------------------------------------------


def test_trains_once_then_loads_from_the_cache(store, progress_log):
    trainer = Trainer()
    first = run(store, trainer, progress_log)
    assert trainer.calls == 1
    progress_log.assert_complete()
    assert progress_log.calls[-1] == (1.0, "Model trained")
    assert max(progress_log.fractions[:-1]) == pytest.approx(0.97)  # train's 1.0 maps below the final report

    cached_log = type(progress_log)()
    second = run(store, trainer, cached_log)
    assert trainer.calls == 1
    assert second == first
    cached_log.assert_complete()
    assert cached_log.calls == [(1.0, "Loaded the trained model from the cache")]
    manifest = store.verify("toy", "k1")
    assert manifest["info"]["n_weights"] == 3
    assert manifest["info"]["versions"]["pandas"] == __import__("pandas").__version__


def test_corrupted_artifact_is_retrained(store):
    trainer = Trainer()
    run(store, trainer)
    weights = store.path("toy", "k1") / "weights.json"
    data = bytearray(weights.read_bytes())
    data[-2] ^= 0x04
    weights.write_bytes(bytes(data))

    model = run(store, trainer)

    assert trainer.calls == 2
    assert model.weights[-1] == 2.0  # the retrained model, not the corrupted file
    assert store.load("toy", "k1", read_model) == model  # and the fresh one was saved
    run(store, trainer)
    assert trainer.calls == 2


@pytest.mark.parametrize(
    "manifest_text",
    [
        "",
        '{"format": 1, "files"',
        "[]",
        '{"format": 1, "key": "k1", "files": {}}',
        '{"format": 999, "key": "k1", "files": {"weights.json": "0"}}',
        "\udcff",
    ],
    ids=["empty", "truncated", "not an object", "no files", "future format", "undecodable"],
)
def test_invalid_manifest_means_retrain(store, manifest_text):
    trainer = Trainer()
    run(store, trainer)
    (store.path("toy", "k1") / MANIFEST).write_bytes(manifest_text.encode("utf-8", "surrogateescape"))

    run(store, trainer)

    assert trainer.calls == 2
    assert store.verify("toy", "k1") is not None  # rewritten with a valid manifest


def test_read_that_raises_means_retrain(store, progress_log):
    trainer = Trainer()
    run(store, trainer)

    def unreadable(folder: Path) -> Model:
        raise ValueError("model format from an older release")

    model = run(store, trainer, progress_log, read=unreadable)

    assert trainer.calls == 2
    assert model.weights[-1] == 2.0
    progress_log.assert_complete()


def test_unwritable_cache_still_returns_the_trained_model(tmp_path, progress_log):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache root should be")
    trainer = Trainer()

    model = run(ArtifactStore(blocker / "artifacts"), trainer, progress_log)

    assert model.weights[-1] == 1.0
    progress_log.assert_complete()


def test_corruption_in_a_subfolder_is_detected(store):
    def write_nested(folder: Path) -> None:
        write_model(Model([1.0], "abc"), folder)
        (folder / "tokenizer").mkdir()
        (folder / "tokenizer" / "vocab.txt").write_text("spam\nham\n")

    folder = store.save("toy", "k1", write_nested, {})
    (folder / "tokenizer" / "vocab.txt").write_text("spam\nHAM\n")

    assert store.load("toy", "k1", read_model) is None


def test_manifest_records_library_versions(store):
    folder = store.save("toy", "k1", lambda f: write_model(Model([1.0], "abc"), f), {}, libraries=("numpy", "nope-pkg"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["versions"]["numpy"] == np.__version__
    assert manifest["versions"]["nope-pkg"] == "absent"
    assert "python" in manifest["versions"]


def test_a_write_that_saves_nothing_is_an_error_not_a_silent_retrain_loop(store):
    with pytest.raises(ValueError, match="saved no files"):
        store.save("toy", "k1", lambda folder: None, {})
    assert not store.exists("toy", "k1")


@dataclass
class Versioned:
    value: float
    engine_version: int = 1


def test_engine_cache_round_trip_and_stale_version_retrains(tmp_path):
    from engines.core.artifacts import EngineCache

    store = ArtifactStore(tmp_path)
    calls = []

    def train(progress):
        calls.append(1)
        progress(1.0, "trained")
        return Versioned(len(calls) * 1.5)

    v1 = EngineCache("toy", 1, Versioned, ("numpy",))
    first = v1.load_or_train({"a": 1}, "sha", train, store=store)
    assert v1.is_cached({"a": 1}, "sha", store) and not v1.is_cached({"a": 2}, "sha", store)
    assert v1.load_or_train({"a": 1}, "sha", train, store=store) == first
    assert len(calls) == 1
    # An artifact whose model says another version is refused on read and retrained.
    folder = store.path("toy", v1.key({"a": 1}, "sha"))
    with pytest.raises(TypeError, match="stale toy artifact"):
        EngineCache("toy", 2, Versioned, ("numpy",)).read(folder)
    v1.write(Versioned(9.0, engine_version=2), folder)
    (folder / MANIFEST).unlink()  # and a missing manifest alone also means retrain
    again = v1.load_or_train({"a": 1}, "sha", train, store=store)
    assert again.value == 3.0 and len(calls) == 2


def test_engine_cache_trains_on_a_resolved_dataset_with_its_card_details(tmp_path):
    from types import SimpleNamespace

    from engines.core.artifacts import EngineCache

    store = ArtifactStore(tmp_path)
    seen = []

    def train(config, data, *, data_title, provenance, citation, progress):
        seen.append((config, data, data_title, provenance, citation))
        progress(1.0, "trained")
        return Versioned(float(len(data)))

    resolved = SimpleNamespace(
        sha256="abc", provenance="local copy", spec=SimpleNamespace(title="Toy data", citation="Toy (2026)")
    )
    cache = EngineCache("toy", 1, Versioned, ("numpy",))
    model = cache.load_or_train_on({"a": 1}, resolved, train, [1, 2, 3], store=store)
    assert model.value == 3.0
    assert seen == [({"a": 1}, [1, 2, 3], "Toy data", "local copy", "Toy (2026)")]
    assert cache.is_cached({"a": 1}, "abc", store)  # keyed by the dataset's checksum
    assert cache.load_or_train_on({"a": 1}, resolved, train, [1, 2, 3], store=store) == model
    assert len(seen) == 1  # the second call loaded it


def test_a_saved_model_folder_is_readable_by_other_users(tmp_path):
    # mkdtemp makes 0700 folders: a container running as another user than the builder could not read the
    # shipped models (issue 27, found by building the image).
    store = ArtifactStore(tmp_path)
    folder = store.save("toy", "k1", lambda d: (d / "w.txt").write_text("x"), {})
    assert folder.stat().st_mode & 0o777 == 0o755
