"""Data-source resolver: local copy -> cache -> download -> bundled sample, and download() itself.

Every download goes to the local ``http_server`` fixture on 127.0.0.1; the datasets are
bytes the tests write, with checksums computed from those bytes.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from engines.core.data_sources import DatasetSpec, RemoteFile, dataset_cache, resolve_dataset
from engines.core.download import download, extract_member
from engines.core.errors import SourceError
from engines.core.hashing import sha256_bytes, sha256_file

# Bigger than download()'s 64 KiB chunk, so progress is reported several times per file.
MESSAGES = b"".join(b"ham\tmessage number %d, see you at the station\n" % i for i in range(6000))
LABELS = b"id,label\n" + b"".join(b"%d,%s\n" % (i, b"spam" if i % 7 == 0 else b"ham") for i in range(4000))
SAMPLE = b"ham\ta small sample written by the project\nspam\tWIN a prize now\n"
FILES = {"messages.tsv": MESSAGES, "labels.csv": LABELS}


def make_spec(tmp_path: Path, remote: dict[str, RemoteFile] | None = None, *, sample: bool = True) -> DatasetSpec:
    """A two-file dataset whose checksums come from the bytes above."""
    sample_path = None
    if sample:
        sample_path = tmp_path / "bundled" / "toy-sample.tsv"
        sample_path.parent.mkdir(parents=True, exist_ok=True)
        sample_path.write_bytes(SAMPLE)
    return DatasetSpec(
        name="toy-dataset",
        title="Toy dataset",
        files={name: sha256_bytes(data) for name, data in FILES.items()},
        remote=remote or {},
        sample=sample_path,
    )


def serve_all(server, tmp_path: Path) -> DatasetSpec:
    remote = {name: RemoteFile(server.add(f"/files/{name}", data)) for name, data in FILES.items()}
    return make_spec(tmp_path, remote)


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def allow_downloads(monkeypatch) -> None:
    monkeypatch.delenv("GALLERY_OFFLINE", raising=False)


# --- rung 1: the local data directory -------------------------------------------------


def test_local_data_dir_with_reference_layout_is_used(tmp_path, monkeypatch, progress_log):
    data = tmp_path / "shared-data"
    write_folder(data / "toy-dataset", FILES)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))

    resolved = resolve_dataset(make_spec(tmp_path), progress_log)

    assert resolved.provenance == "local copy"
    assert not resolved.is_sample
    assert resolved.paths == {name: data / "toy-dataset" / name for name in FILES}
    assert resolved.notes == ()
    assert "local data directory" in resolved.notice
    progress_log.assert_complete()


def test_combined_checksum_depends_on_content(tmp_path, monkeypatch):
    data = tmp_path / "shared-data"
    write_folder(data / "toy-dataset", FILES)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))
    before = resolve_dataset(make_spec(tmp_path)).sha256
    assert resolve_dataset(make_spec(tmp_path)).sha256 == before  # stable

    (data / "toy-dataset" / "labels.csv").write_bytes(LABELS + b"9999,ham\n")
    assert resolve_dataset(make_spec(tmp_path)).sha256 != before


def test_data_dir_without_the_dataset_folder_falls_through_with_a_note(tmp_path, monkeypatch):
    data = tmp_path / "shared-data"
    write_folder(data / "some-other-dataset", FILES)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))

    resolved = resolve_dataset(make_spec(tmp_path))

    assert resolved.provenance == "bundled sample"
    assert any("GALLERY_DATA_DIR" in note and "toy-dataset" in note for note in resolved.notes), resolved.notes


def test_data_dir_with_an_incomplete_folder_falls_through_to_the_cache(tmp_path, monkeypatch):
    data = tmp_path / "shared-data"
    write_folder(data / "toy-dataset", {"messages.tsv": MESSAGES})  # labels.csv missing
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))
    spec = make_spec(tmp_path)
    write_folder(dataset_cache(spec), FILES)

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "cache"
    assert any("GALLERY_DATA_DIR" in note for note in resolved.notes)


# --- rung 2: the cache ------------------------------------------------------------------


def test_cache_with_good_files_is_used(tmp_path, gallery_env, progress_log):
    spec = make_spec(tmp_path)
    write_folder(dataset_cache(spec), FILES)

    resolved = resolve_dataset(spec, progress_log)

    assert resolved.provenance == "cache"
    assert dataset_cache(spec).is_relative_to(gallery_env)
    assert resolved.paths["messages.tsv"].read_bytes() == MESSAGES
    progress_log.assert_complete()


def test_cache_with_a_corrupted_file_is_ignored(tmp_path):
    spec = make_spec(tmp_path)
    corrupted = bytearray(LABELS)
    corrupted[10] ^= 0xFF
    write_folder(dataset_cache(spec), {"messages.tsv": MESSAGES, "labels.csv": bytes(corrupted)})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert resolved.paths == {"sample": spec.sample}


def test_corrupted_cache_is_replaced_by_a_fresh_download(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    spec = serve_all(http_server, tmp_path)
    write_folder(dataset_cache(spec), {"messages.tsv": b"truncated", "labels.csv": LABELS})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "downloaded"
    assert sha256_file(dataset_cache(spec) / "messages.tsv") == spec.files["messages.tsv"]


# --- rung 3: download ---------------------------------------------------------------------


def test_download_lands_in_the_cache_verified_with_monotonic_progress(tmp_path, monkeypatch, http_server, progress_log):
    allow_downloads(monkeypatch)
    spec = serve_all(http_server, tmp_path)

    resolved = resolve_dataset(spec, progress_log)

    assert resolved.provenance == "downloaded"
    assert not resolved.is_sample
    assert "downloaded" in resolved.notice
    for name, data in FILES.items():
        path = resolved.paths[name]
        assert path == dataset_cache(spec) / name
        assert path.read_bytes() == data
        assert sha256_file(path) == spec.files[name]
    assert sorted(p.name for p in files_under(dataset_cache(spec))) == sorted(FILES)  # no .part left
    assert sorted(http_server.requests) == sorted(f"/files/{name}" for name in FILES)
    progress_log.assert_complete()
    assert len(progress_log.calls) > 4  # several reports per file, not just the final one

    # A second resolve answers from the cache without contacting the server.
    again = resolve_dataset(spec)
    assert again.provenance == "cache"
    assert again.sha256 == resolved.sha256
    assert len(http_server.requests) == len(FILES)


def test_zip_archive_member_is_downloaded_and_extracted(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "not this one")
        zf.writestr("collection/messages.tsv", MESSAGES)
        zf.writestr("collection/labels.csv", LABELS)
    url = http_server.add("/archive.zip", buffer.getvalue())
    spec = make_spec(tmp_path, {name: RemoteFile(url, member=f"collection/{name}") for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "downloaded"
    for name, data in FILES.items():
        assert resolved.paths[name].read_bytes() == data
    assert sorted(p.name for p in files_under(dataset_cache(spec))) == sorted(FILES)  # archive removed


def test_checksum_mismatch_falls_back_to_the_sample_and_leaves_nothing_in_the_cache(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    remote = {
        "messages.tsv": RemoteFile(http_server.add("/messages.tsv", MESSAGES.replace(b"station", b"stati0n"))),
        "labels.csv": RemoteFile(http_server.add("/labels.csv", LABELS)),
    }
    spec = make_spec(tmp_path, remote)

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert resolved.is_sample
    assert any("Download failed" in note and "Checksum mismatch" in note for note in resolved.notes), resolved.notes
    assert files_under(dataset_cache(spec)) == []


def test_checksum_mismatch_inside_a_zip_member_falls_back(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("messages.tsv", b"something else entirely")
        zf.writestr("labels.csv", LABELS)
    url = http_server.add("/archive.zip", buffer.getvalue())
    spec = make_spec(tmp_path, {name: RemoteFile(url, member=name) for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert any("Checksum mismatch" in note for note in resolved.notes), resolved.notes
    assert files_under(dataset_cache(spec)) == []


def test_missing_zip_member_falls_back(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("other.txt", b"x")
    url = http_server.add("/archive.zip", buffer.getvalue())
    spec = make_spec(tmp_path, {name: RemoteFile(url, member=name) for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert any("messages.tsv" in note for note in resolved.notes), resolved.notes
    assert files_under(dataset_cache(spec)) == []


def test_http_404_falls_back_to_the_sample(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    spec = make_spec(tmp_path, {name: RemoteFile(http_server.url(f"/gone/{name}")) for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert http_server.requests == ["/gone/messages.tsv"]  # gave up after the first failure
    assert any("Download failed" in note and "Not Found" in note for note in resolved.notes), resolved.notes
    assert files_under(dataset_cache(spec)) == []


def test_unreachable_server_falls_back_to_the_sample(tmp_path, monkeypatch, closed_port):
    allow_downloads(monkeypatch)
    spec = make_spec(tmp_path, {name: RemoteFile(f"http://127.0.0.1:{closed_port}/{name}") for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"
    assert any("Download failed" in note for note in resolved.notes)


@pytest.mark.parametrize("stall", ["before headers", "mid-body"])
def test_stalled_server_falls_back_within_the_timeout(tmp_path, monkeypatch, http_server, stall):
    allow_downloads(monkeypatch)
    monkeypatch.setenv("GALLERY_DOWNLOAD_TIMEOUT", "1")
    if stall == "before headers":
        url = http_server.add("/slow", MESSAGES, stall_before_headers=True)
    else:
        url = http_server.add("/slow", MESSAGES, stall_after=1000)
    spec = make_spec(tmp_path, {name: RemoteFile(url) for name in FILES})

    started = time.monotonic()
    resolved = resolve_dataset(spec)
    elapsed = time.monotonic() - started

    assert resolved.provenance == "bundled sample"
    assert any("Download failed" in note for note in resolved.notes), resolved.notes
    assert 0.8 < elapsed < 8, elapsed  # waited about the timeout, not the server's 15 s stall
    assert files_under(dataset_cache(spec)) == []  # the partial body was discarded


def test_spec_without_download_addresses_says_so(tmp_path, monkeypatch):
    allow_downloads(monkeypatch)
    resolved = resolve_dataset(make_spec(tmp_path))
    assert resolved.is_sample
    assert any("No download address" in note for note in resolved.notes)


# --- rung 4: offline -> the bundled sample ------------------------------------------------


def test_offline_never_contacts_the_server_and_uses_the_sample(tmp_path, http_server, network_guard, progress_log):
    spec = serve_all(http_server, tmp_path)  # GALLERY_OFFLINE=1 from the autouse fixture

    resolved = resolve_dataset(spec, progress_log)

    assert http_server.requests == []
    assert network_guard.attempts == []
    assert resolved.provenance == "bundled sample"
    assert resolved.is_sample
    assert resolved.paths == {"sample": spec.sample}
    assert resolved.sha256 == sha256_bytes(f"sample:{sha256_bytes(SAMPLE)}".encode())
    assert "sample" in resolved.notice.lower()
    assert "Toy dataset" in resolved.notice
    assert any("GALLERY_OFFLINE" in note for note in resolved.notes), resolved.notes
    progress_log.assert_complete()


# --- rung 5: nothing at all -----------------------------------------------------------------


def test_no_sample_and_nothing_else_raises_source_error(tmp_path):
    spec = make_spec(tmp_path, sample=False)
    with pytest.raises(SourceError, match=r"Toy dataset is not available.*GALLERY_OFFLINE"):
        resolve_dataset(spec)


def test_sample_path_that_does_not_exist_raises_source_error(tmp_path):
    spec = make_spec(tmp_path)
    spec.sample.unlink()
    with pytest.raises(SourceError, match="not available"):
        resolve_dataset(spec)


# --- download() itself ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/file", "/etc/passwd", "gopher://x"])
def test_download_refuses_non_http_schemes(tmp_path, url):
    dest = tmp_path / "out" / "file"
    with pytest.raises(SourceError, match=r"only http\(s\)"):
        download(url, dest)
    assert not dest.exists()


def test_download_aborts_past_max_bytes_and_leaves_no_file(tmp_path, http_server):
    url = http_server.add("/big", MESSAGES)
    dest = tmp_path / "out" / "big"
    with pytest.raises(SourceError, match="larger than 1,000 bytes"):
        download(url, dest, max_bytes=1000)
    assert files_under(dest.parent) == []


def test_download_verifies_sha256_and_reports_progress(tmp_path, http_server, progress_log):
    url = http_server.add("/f", MESSAGES)
    dest = download(url, tmp_path / "f", sha256=sha256_bytes(MESSAGES), progress=progress_log)
    assert dest.read_bytes() == MESSAGES
    progress_log.assert_complete()

    with pytest.raises(SourceError, match="Checksum mismatch"):
        download(url, tmp_path / "g", sha256="0" * 64)
    assert not (tmp_path / "g").exists()
    assert sorted(p.name for p in files_under(tmp_path)) == ["f"]


def test_download_replaces_an_existing_file_only_on_success(tmp_path, http_server):
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    with pytest.raises(SourceError):
        download(http_server.url("/missing"), dest)
    assert dest.read_bytes() == b"old"
    download(http_server.add("/new", b"new"), dest)
    assert dest.read_bytes() == b"new"


def test_extract_member_reads_only_the_named_member(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil.txt", b"outside")
        zf.writestr("good.txt", b"inside")
    dest = extract_member(archive, "good.txt", tmp_path / "good.txt", sha256=sha256_bytes(b"inside"))
    assert dest.read_bytes() == b"inside"
    assert not (tmp_path.parent / "evil.txt").exists()
    with pytest.raises(SourceError, match="not a zip archive"):
        extract_member(tmp_path / "good.txt", "good.txt", tmp_path / "x.txt")


# --- defects found by these tests and fixed in engines/core/download.py ---------------------------


def test_garbage_http_reply_falls_back_to_the_sample(tmp_path, monkeypatch, http_server):
    allow_downloads(monkeypatch)
    url = http_server.add("/garbage", raw=b"NOT HTTP AT ALL\r\n\r\n")
    spec = make_spec(tmp_path, {name: RemoteFile(url) for name in FILES})

    resolved = resolve_dataset(spec)

    assert resolved.provenance == "bundled sample"


def test_download_rejects_a_body_shorter_than_announced(tmp_path, http_server):
    url = http_server.add("/short", b"a" * 500, content_length=1000)
    with pytest.raises(SourceError):
        download(url, tmp_path / "short")
    assert not (tmp_path / "short").exists()


def test_corrupt_zip_member_leaves_no_partial_file(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:  # stored, so a flipped byte reaches the CRC check
        zf.writestr("m.txt", b"hello world " * 50)
    data = bytearray(buffer.getvalue())
    data[60] ^= 0xFF  # inside the member's data
    archive = tmp_path / "archive" / "a.zip"
    archive.parent.mkdir()
    archive.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(SourceError, match="CRC"):
        extract_member(archive, "m.txt", out / "m.txt")
    assert files_under(out) == []


def test_a_sample_folder_is_served_and_its_checksum_follows_every_file(tmp_path):
    folder = tmp_path / "bundled" / "toy-sample"
    write_folder(folder, {"ratings.tsv": b"1\t2\t5\n", "items.txt": b"2|Toy\n"})
    spec = DatasetSpec(name="toy-dataset", title="Toy", files={"x": None}, sample=folder)

    first = resolve_dataset(spec)
    (folder / "items.txt").write_bytes(b"2|Toy, renamed\n")
    second = resolve_dataset(spec)

    assert first.provenance == second.provenance == "bundled sample"
    assert first.paths == {"sample": folder}
    assert first.sha256 != second.sha256
