"""Why requirements/ml.txt names PyTorch's CPU wheels with --find-links and not --extra-index-url (issue 27).

Two package indexes on 127.0.0.1 stand in for the package index and PyTorch's: the first has numpy 2.4.6 and a
torch 2.13.0 that needs a CUDA library, the second (like download.pytorch.org/whl/cpu) has torch 2.13.0+cpu and
an older numpy. uv, which Community Cloud installs with, resolves from metadata only (PEP 658), so no wheel
is served. With PyTorch's index as an extra index uv cannot find numpy 2.4.6 (it takes every package from the
first index that lists it); with PyTorch's torch page as a find-links page it resolves the CPU build and the
pinned numpy. The package metadata here is made up for the mechanism; ``deploy/check_requirements.py`` runs
the real requirement files against the real package index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import check_requirements as check

PLATFORM = "manylinux_2_28_x86_64"


def _project(root: Path, name: str, files: dict[str, str]) -> None:
    """A PEP 503 project page listing ``files`` (wheel name -> its METADATA), each with PEP 658 metadata."""
    check.write_links(root / name, {wheel: metadata.encode() for wheel, metadata in files.items()})


def _metadata(name: str, version: str, *requires: str) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Requires-Python: >=3.10"]
    return "\n".join(lines + [f"Requires-Dist: {r}" for r in requires]) + "\n"


def _wheel(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-cp311-cp311-{PLATFORM}.whl"


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("indexes")
    pypi, pytorch = root / "pypi" / "simple", root / "pytorch" / "whl" / "cpu"
    _project(pypi, "numpy", {_wheel("numpy", "2.4.6"): _metadata("numpy", "2.4.6")})
    _project(
        pypi,
        "torch",
        {_wheel("torch", "2.13.0"): _metadata("torch", "2.13.0", "nvidia-cublas==13.4.1.3")},
    )
    _project(pypi, "nvidia-cublas", {_wheel("nvidia-cublas", "13.4.1.3"): _metadata("nvidia-cublas", "13.4.1.3")})
    _project(pytorch, "numpy", {_wheel("numpy", "2.1.2"): _metadata("numpy", "2.1.2")})
    _project(pytorch, "torch", {_wheel("torch", "2.13.0+cpu"): _metadata("torch", "2.13.0+cpu")})
    server = check.serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"pypi": f"{base}/pypi/simple", "pytorch": f"{base}/pytorch/whl/cpu", "root": root}
    server.shutdown()


def _compile(indexes, tmp_path, *lines: str) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = os.environ | {"UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "NO_COLOR": "1"}
    for name in ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_INDEX", "UV_DEFAULT_INDEX"):
        env.pop(name, None)
    command = [sys.executable, "-m", "uv", "pip", "compile", "--no-header", "--no-annotate"]
    command += ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28", str(requirements)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_an_extra_index_hides_the_pinned_numpy_from_uv(indexes, tmp_path):
    done = _compile(
        indexes,
        tmp_path,
        f"--index-url {indexes['pypi']}",
        f"--extra-index-url {indexes['pytorch']}",
        "torch==2.13.0+cpu",
        "numpy==2.4.6",
    )
    assert done.returncode != 0, done.stdout
    assert "numpy" in done.stderr and "2.4.6" in done.stderr, done.stderr


def test_a_find_links_page_adds_the_cpu_torch_and_keeps_the_pinned_numpy(indexes, tmp_path):
    done = _compile(
        indexes,
        tmp_path,
        f"--index-url {indexes['pypi']}",
        f"--find-links {indexes['pytorch']}/torch/",
        "torch==2.13.0+cpu",
        "numpy==2.4.6",
    )
    assert done.returncode == 0, done.stderr
    assert "torch==2.13.0+cpu" in done.stdout and "numpy==2.4.6" in done.stdout
    assert "nvidia" not in done.stdout


def test_without_the_page_the_package_index_torch_brings_cuda(indexes, tmp_path):
    done = _compile(indexes, tmp_path, f"--index-url {indexes['pypi']}", "torch==2.13.0", "numpy==2.4.6")
    assert done.returncode == 0, done.stderr
    assert "nvidia-cublas==13.4.1.3" in done.stdout
