"""Download one file over HTTP(S) with a timeout, a size cap, a checksum and progress."""

from __future__ import annotations

import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from engines.core.errors import SourceError
from engines.core.hashing import sha256_file
from engines.core.progress import Progress, null_progress
from engines.core.settings import APP_NAME, download_timeout

log = logging.getLogger(__name__)

CHUNK = 1 << 16
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024  # no dataset or model we fetch is larger


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    timeout: float | None = None,
    progress: Progress = null_progress,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Fetch ``url`` into ``dest`` atomically, verifying its sha256 when given.

    Args:
        url: http(s) address.
        dest: Final path; a partial file never appears there.
        sha256: Expected hex digest of the whole file, or None to skip.
        timeout: Seconds to wait for the server (default from settings).
        progress: Receives fractions of the bytes announced by the server.
        max_bytes: Abort when the body grows past this.

    Returns:
        ``dest``.

    Raises:
        SourceError: on a network error, a timeout, an oversize body or a bad checksum.
    """
    if not url.startswith(("http://", "https://")):
        raise SourceError(f"Refusing to download from {url!r}: only http(s) addresses are fetched.")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    timeout = download_timeout() if timeout is None else timeout
    request = urllib.request.Request(url, headers={"User-Agent": f"{APP_NAME}/1"})  # noqa: S310
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        # The scheme was checked above, so file:// and custom schemes never reach urlopen.
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            progress(0.0, f"Downloading {url}")
            while chunk := response.read(CHUNK):
                done += len(chunk)
                if done > max_bytes:
                    raise SourceError(f"{url} is larger than {max_bytes:,} bytes; download aborted.")
                out.write(chunk)
                if total:
                    progress(min(done / total, 1.0), f"Downloading {url} ({done / 1e6:.1f} of {total / 1e6:.1f} MB)")
        if total and done != total:
            raise SourceError(f"{url} ended after {done:,} of {total:,} bytes; the download is incomplete.")
        if sha256 is not None:
            actual = sha256_file(tmp)
            if actual != sha256:
                raise SourceError(f"Checksum mismatch for {url}: expected {sha256[:12]}..., got {actual[:12]}...")
        tmp.replace(dest)
        progress(1.0, f"Downloaded {dest.name}")
        return dest
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
        raise SourceError(f"Could not download {url}: {getattr(exc, 'reason', exc)}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def extract_member(archive: Path, member: str, dest: Path, *, sha256: str | None = None) -> Path:
    """Copy one member of a zip archive to ``dest``, verifying its sha256.

    Only the named member is read, so a hostile archive cannot write elsewhere.
    """
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, zipfile.ZipFile(archive) as zf, zf.open(member) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise SourceError(f"{archive.name} is not a zip archive holding {member!r}: {exc}") from exc
        if sha256 is not None and sha256_file(tmp) != sha256:
            raise SourceError(f"Checksum mismatch for {member} inside {archive.name}.")
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
