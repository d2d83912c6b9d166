"""What the running server uses: memory against the budget, data and model settings, versions, heavy modules loaded.

Read by the System page and the load benchmark. Nothing here imports a heavy package: versions come from the
installed distributions' metadata, and "loaded" means already in ``sys.modules``.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from engines.core import settings

DEFAULT_BUDGET_MB = 2048  # issue 14: peak after every page <= 2.0 GB (Community Cloud allows about 2.7 GB)
PACKAGES = (
    "streamlit",
    "numpy",
    "pandas",
    "scikit-learn",
    "torch",
    "transformers",
    "sentence-transformers",
    "prophet",
    "scikit-surprise",
    "statsmodels",
    "plotly",
    "pypdf",
    "opencv-python-headless",
    "streamlit-webrtc",
    "pocketsphinx",
)
HEAVY_MODULES = {  # module -> what loads it
    "torch": "PyTorch (neural networks)",
    "transformers": "transformers (pretrained models)",
    "prophet": "Prophet (forecasting)",
    "surprise": "Surprise (recommenders)",
    "statsmodels": "statsmodels (time series)",
    "cv2": "OpenCV (object detection)",
    "pocketsphinx": "PocketSphinx (speech)",
    "av": "PyAV (audio and video)",
    "aiortc": "aiortc (WebRTC)",
    "sklearn": "scikit-learn",
}


@dataclass(frozen=True)
class Memory:
    """Resident memory of this process, in MiB."""

    current_mb: float  # resident set size now (0 when the platform does not say)
    peak_mb: float  # the most it has been since the process started
    budget_mb: float  # what the deployment allows (GALLERY_MEMORY_BUDGET_MB, default 2048)

    @property
    def share(self) -> float:
        """Current memory as a share of the budget."""
        return self.current_mb / self.budget_mb if self.budget_mb else 0.0


def budget_mb() -> float:
    """The memory budget in MiB: ``GALLERY_MEMORY_BUDGET_MB`` or 2048."""
    try:
        return max(64.0, float(os.environ.get("GALLERY_MEMORY_BUDGET_MB", DEFAULT_BUDGET_MB)))
    except ValueError:
        return float(DEFAULT_BUDGET_MB)


def resident_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB, from /proc (0.0 where /proc is missing)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory() -> Memory:
    """The resident memory of this process now and at its peak, and the budget."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    return Memory(resident_mb(), peak_mb, budget_mb())


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each package ("not installed" when absent), without importing any of them."""
    out = {"python": sys.version.split()[0]}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def loaded_heavy_modules() -> dict[str, bool]:
    """Which heavy packages this server process has imported so far (pages import them only when needed)."""
    return {label: name in sys.modules for name, label in HEAVY_MODULES.items()}


def folder_mb(path: Path | None) -> float:
    """Size of the files under ``path`` in MiB (0 when it does not exist)."""
    if path is None or not path.is_dir():
        return 0.0
    total = 0
    for file in path.rglob("*"):
        try:
            if file.is_file() and not file.is_symlink():
                total += file.stat().st_size
        except OSError:
            continue
    return total / 2**20


def sources() -> list[dict[str, str]]:
    """Where data and models come from under the current settings, one row per setting."""
    data = settings.data_dir()
    models = settings.model_dir()
    cache = settings.cache_dir()
    datasets = sorted(p.name for p in data.iterdir() if p.is_dir()) if data else []
    return [
        {
            "setting": "Data directory (GALLERY_DATA_DIR)",
            "value": str(data) if data else "not set: bundled samples or downloads",
            "detail": f"{len(datasets)} datasets: {', '.join(datasets)}" if datasets else "",
        },
        {
            "setting": "Model directory (GALLERY_MODEL_DIR)",
            "value": str(models) if models else "not set: packaged models, the Hugging Face cache or downloads",
            "detail": ", ".join(sorted(p.name for p in models.iterdir() if p.is_dir())) if models else "",
        },
        {
            "setting": "Cache (GALLERY_CACHE_DIR)",
            "value": str(cache),
            "detail": f"{folder_mb(cache):.1f} MiB on disk",
        },
        {
            "setting": "Downloads",
            "value": "allowed (when the network is there)" if settings.downloads_allowed() else "off (offline mode)",
            "detail": "Hugging Face hub " + ("allowed" if settings.hub_allowed() else "off"),
        },
    ]


@dataclass
class MemoryGuard:
    """Decides when the server should release its cached models because memory is over the budget.

    Memory is read at most every ``check_every_s`` seconds (pages call :meth:`due` on every run), and caches are
    released at most once per ``cooldown_s``: releasing again while the pages reload what they need would only
    thrash.
    """

    check_every_s: float = 30.0  # reading /proc is cheap, but not on every click of every visitor
    cooldown_s: float = 600.0  # ten minutes between releases
    last_check: float = -math.inf
    last_release: float = -math.inf
    releases: int = 0

    def due(self, now: float, current_mb: Callable[[], float], budget: float) -> bool:
        """Whether to release now (and, if so, the release is counted)."""
        if now - self.last_check < self.check_every_s:
            return False
        self.last_check = now
        if current_mb() <= budget or now - self.last_release < self.cooldown_s:
            return False
        self.last_release = now
        self.releases += 1
        return True


@lru_cache(maxsize=1)
def memory_guard() -> MemoryGuard:
    """The server's one guard (process-wide by nature: every session shares the memory it watches)."""
    return MemoryGuard()


def thread_facts() -> list[dict[str, str]]:
    """The thread budget in force (engines/core/threads.py), one row per fact."""
    from engines.core import threads

    plan = threads.budget()
    return [
        {"setting": "CPUs this server may use", "value": str(plan.cpus), "detail": plan.source},
        {
            "setting": "Threads per operation (OMP_NUM_THREADS)",
            "value": os.environ.get("OMP_NUM_THREADS", "library default"),
            "detail": f"budget {plan.per_operation}; OpenMP waits: {os.environ.get('OMP_WAIT_POLICY', 'default')}",
        },
        {
            "setting": "Background trainings at once",
            "value": str(plan.concurrent_jobs),
            "detail": "the rest wait in the queue; a visitor's training goes before warm-up",
        },
    ]


def job_rows(now: float | None = None) -> list[dict[str, Any]]:
    """The background queue's jobs, newest first: title, state, progress, time so far and time left."""
    from engines.core import jobs

    rows = []
    for job in reversed(jobs.queue().jobs()):
        eta = job.eta_s(now)
        rows.append(
            {
                "job": job.title,
                "state": job.state,
                "progress": job.fraction,
                "message": job.error or job.message,
                "seconds": round(job.elapsed(now), 1),
                "left": "" if eta is None else jobs.format_seconds(eta),
            }
        )
    return rows


def shipped_rows() -> list[dict[str, str]]:
    """The models shipped with the repository (read from their manifests; checksums are verified at load)."""
    from engines.core.lifecycle import SHIPPED_ROOT

    rows = []
    for manifest in sorted(SHIPPED_ROOT.glob("*/*/manifest.json")):
        try:
            info = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        size = sum(f.stat().st_size for f in manifest.parent.iterdir() if f.is_file())
        details = info.get("info", {}) if isinstance(info, dict) else {}
        rows.append(
            {
                "engine": manifest.parent.parent.name,
                "model": str(details.get("label") or details.get("card") or manifest.parent.name),
                "size": f"{size / 1e6:.1f} MB",
                "built with": ", ".join(f"{k} {v}" for k, v in sorted(info.get("versions", {}).items())),
            }
        )
    return rows
