"""Resolve requirements.txt for every Python and platform we deploy to, from wheels, without installing anything.

Run by ``.ci/run`` before the tests (it needs the package index, which the tests never touch):

    python -m deploy.check_requirements            # 3.11, 3.12, 3.13 on manylinux x86-64, macOS, Windows

For each target, ``uv pip compile --python-version X --python-platform P --only-binary :all:`` resolves the
whole file the way Community Cloud's uv does, reading each candidate's metadata (PEP 658) instead of
downloading wheels. The check then fails if

- any package would need a source build, except the pure-Python sdists listed in ``PURE_PYTHON_SDISTS``;
- a CUDA package (``nvidia-*``, ``triton``) or a torch other than the CPU build is chosen on Linux x86-64;
- a pinned requirement resolves to another version than its pin.

PyTorch's CPU wheels come from a ``--find-links`` page on download.pytorch.org. Where that host cannot be
reached (as in this project's CI, which reaches only the package registries), the check serves a stand-in page
on 127.0.0.1 listing the CPU wheels' file names for each Python with the real metadata of
``torch-2.13.0+cpu`` (``deploy/torch-2.13.0+cpu.METADATA``, copied from the wheel), and says so. Everything
else still resolves against the real package index.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
TORCH_PAGE = "https://download.pytorch.org/whl/cpu/torch/"
TORCH_METADATA = Path(__file__).with_name("torch-2.13.0+cpu.METADATA")

# Packages published only as source distributions; each is plain Python (checked by reading their sources),
# so any Python version installs them without a compiler.
PURE_PYTHON_SDISTS = {
    "rouge-score": "ROUGE for the summarizer (Google's reference implementation, pure Python)",
    "langid": "language identification (the model is a Python literal in the source)",
    "sgmllib3k": "feedparser's SGML parser, pure Python",
}
CUDA = re.compile(r"^(nvidia-|triton$|cuda-)")


@dataclass(frozen=True)
class Target:
    """One place the gallery is installed: a Python version and a uv platform name."""

    python: str
    platform: str

    @property
    def marker_env(self) -> dict[str, str]:
        """The environment markers (PEP 508) of this target, to tell which requirement lines apply."""
        env = dict(default_environment())
        env["python_version"] = self.python
        env["python_full_version"] = f"{self.python}.0"
        if "linux" in self.platform:
            env |= {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
        elif "darwin" in self.platform:
            env |= {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
        else:
            env |= {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}
        env["platform_machine"] = "x86_64" if self.platform.startswith("x86_64") else "arm64"
        if "windows" in self.platform:
            env["platform_machine"] = "AMD64"
        return env

    @property
    def linux_x86(self) -> bool:
        """Whether the package index's torch would be the CUDA build here."""
        return self.platform.startswith("x86_64") and "linux" in self.platform


TARGETS = [
    Target("3.11", "x86_64-manylinux_2_28"),
    Target("3.12", "x86_64-manylinux_2_28"),  # Community Cloud's default
    Target("3.13", "x86_64-manylinux_2_28"),
    Target("3.12", "aarch64-apple-darwin"),  # Apple silicon, macOS 14 or later
    Target("3.12", "x86_64-pc-windows-msvc"),
]


def pins(path: Path = ROOT / "requirements.txt") -> list[Requirement]:
    """The requirement lines of a requirements file (options such as --find-links left out)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            out.append(Requirement(line))
    return out


def parse_lock(text: str) -> dict[str, str]:
    """``name==version`` lines of uv's output -> {canonical name: version}."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def problems(target: Target, lock: dict[str, str], requirements: list[Requirement]) -> list[str]:
    """What is wrong with one resolution; empty when it is what the project promises."""
    found = []
    cuda = sorted(name for name in lock if CUDA.match(name))
    if cuda:
        found.append(f"CUDA packages chosen: {', '.join(cuda)}")
    torch = lock.get("torch")
    if target.linux_x86 and torch is not None and not torch.endswith("+cpu"):
        found.append(f"torch {torch} is not the CPU build")
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate(target.marker_env):
            continue
        name = canonicalize_name(requirement.name)
        if name not in lock:
            found.append(f"{requirement.name} is required but not in the resolution")
        elif not requirement.specifier.contains(lock[name], prereleases=True):
            found.append(f"{requirement.name} resolved to {lock[name]}, pinned {requirement.specifier}")
    return found


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def write_links(folder: Path, wheels: dict[str, bytes]) -> None:
    """A flat page of links (``index.html``) naming each wheel, its metadata served beside it (PEP 658), no wheel."""
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for name, metadata in wheels.items():
        (folder / f"{name}.metadata").write_bytes(metadata)
        digest = hashlib.sha256(metadata).hexdigest()
        href = name.replace("+", "%2B")
        links.append(
            f'<a href="{href}" data-dist-info-metadata="sha256={digest}" data-core-metadata="sha256={digest}">{name}</a>'
        )
    (folder / "index.html").write_text("<html><body>\n" + "<br>\n".join(links) + "\n</body></html>\n", encoding="utf-8")


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a daemon thread; the caller may ``shutdown()`` it."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stand_in_page(folder: Path, pythons: list[str]) -> str:
    """A --find-links page on 127.0.0.1 naming torch 2.13.0+cpu's Linux wheels, with their real metadata."""
    metadata = TORCH_METADATA.read_bytes()
    tags = ["cp" + python.replace(".", "") for python in pythons]
    write_links(folder, {f"torch-2.13.0+cpu-{tag}-{tag}-manylinux_2_28_x86_64.whl": metadata for tag in tags})
    return f"http://127.0.0.1:{serve(folder).server_address[1]}/"


def reachable(url: str, timeout: float = 10.0) -> bool:
    """Whether ``url`` answers a HEAD request within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):  # noqa: S310
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def compile_for(target: Target, requirements_file: Path, cache: Path) -> tuple[int, str]:
    """``uv pip compile`` for one target, from wheels only: (exit code, the pins or uv's error)."""
    command = [
        sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--no-header", "--no-annotate",
        "--python-version", target.python, "--python-platform", target.platform,
        "--only-binary", ":all:",
    ]  # fmt: skip
    for sdist in PURE_PYTHON_SDISTS:
        command += ["--no-binary", sdist]
    command.append(str(requirements_file))
    env = os.environ | {"UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    if "darwin" in target.platform:
        env["MACOSX_DEPLOYMENT_TARGET"] = "14.0"  # torch 2.13's macOS wheels are built for macOS 14
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)  # noqa: S603
    return done.returncode, done.stdout if done.returncode == 0 else done.stderr


def main(argv: list[str] | None = None) -> int:
    """Resolve for every target; print one line each and the problems found; 1 if any target fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--python", nargs="*", help="only these Python versions")
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.python or t.python in args.python]
    text = args.requirements.read_text(encoding="utf-8")
    requirements = pins(args.requirements)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if TORCH_PAGE in text and not reachable(TORCH_PAGE):
            page = work / "torch"
            page.mkdir()
            url = stand_in_page(page, sorted({t.python for t in TARGETS}))
            text = text.replace(TORCH_PAGE, url)
            print(f"{TORCH_PAGE} cannot be reached from here: torch's CPU wheels are resolved against a stand-in")
            print(f"page ({url}) listing their file names with the real 2.13.0+cpu metadata; the rest is real.")
        resolved = work / "requirements.txt"
        resolved.write_text(text, encoding="utf-8")
        failed = 0
        for target in targets:
            code, output = compile_for(target, resolved, work / "uv-cache")
            if code != 0:
                failed += 1
                print(f"FAIL {target.python} {target.platform}: uv could not resolve from wheels:\n{output.strip()}")
                continue
            lock = parse_lock(output)
            found = problems(target, lock, requirements)
            torch = lock.get("torch", "-")
            status = "FAIL" if found else "ok  "
            print(f"{status} Python {target.python} {target.platform}: {len(lock)} packages, torch {torch}")
            for problem in found:
                print(f"     {problem}")
            failed += bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
