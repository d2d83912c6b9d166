"""engines.core.weights: a saved model's manifest is checked, and its weights against their SHA-256."""

import json

import pytest

from engines.core.errors import SourceError
from engines.core.hashing import sha256_bytes
from engines.core.weights import read_manifest, verified_weights


def saved(folder, weights: bytes = b"weights", **changes):
    (folder / "model.bin").write_bytes(weights)
    manifest = {"format": 1, "architecture": "cnn", "weights": {"file": "model.bin", "sha256": sha256_bytes(weights)}}
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_a_good_folder_reads_and_verifies(tmp_path):
    saved(tmp_path)
    manifest = read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")
    assert verified_weights(tmp_path, manifest) == tmp_path / "model.bin"


def test_missing_unreadable_and_foreign_manifests(tmp_path):
    with pytest.raises(SourceError, match="No readable test model"):
        read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(SourceError, match="No readable test model"):
        read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")
    saved(tmp_path, format=2)
    with pytest.raises(SourceError, match="another format"):
        read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")
    saved(tmp_path, architecture="lstm")
    with pytest.raises(SourceError, match="another format"):
        read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(SourceError, match="another format"):
        read_manifest(tmp_path, fmt=1, architecture="cnn", what="test model")


def test_changed_missing_or_unnamed_weights(tmp_path):
    manifest = saved(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"weightz")
    with pytest.raises(SourceError, match="does not match its manifest"):
        verified_weights(tmp_path, manifest)
    (tmp_path / "model.bin").unlink()
    with pytest.raises(SourceError, match="is missing"):
        verified_weights(tmp_path, manifest)
    with pytest.raises(SourceError, match="does not name its weights"):
        verified_weights(tmp_path, {"weights": {}})
