"""The thread budget: how many threads numpy, OpenMP, BLAS and torch may use, set before they load.

On a small shared host (Community Cloud: 2 CPUs shared with other tenants) threaded numerics hurt more
than they help. Measured on the 2-core machine with two CPU-bound neighbours, the house-price
estimator's gradient boosting on 2,000 rows took 4.4 s with one OpenMP thread, 10.6 s with two
threads that sleep when idle (``OMP_WAIT_POLICY=PASSIVE``) and 10.0 s with the defaults (an earlier
run of the defaults took 203 s). So:

- the budget is the CPUs this process may use: its affinity, capped by a cgroup CPU quota, or
  ``GALLERY_THREADS`` when set;
- one operation uses ``budget // 2`` threads (at least one): on two CPUs a single thread, which
  leaves the other CPU to the next visitor's request instead of to a second thread of the same one;
- with more than one thread per operation, OpenMP threads never spin while they wait
  (``OMP_WAIT_POLICY=PASSIVE``, ``GOMP_SPINCOUNT=0``) and the BLAS gets the same number of threads; with one
  there is no OpenMP worker to spin, and the BLAS keeps its default (see :func:`configure`).

:func:`configure` must run before scikit-learn and torch are imported (``app.py`` calls it first,
the tests' conftest too); numpy's BLAS, when already loaded, is limited through threadpoolctl.
Values already in the environment win, so an operator can still choose.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Threads that wait for work go to sleep at once instead of burning a shared CPU (libgomp, Intel OpenMP).
QUIET_OPENMP = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "KMP_BLOCKTIME": "0"}


@dataclass(frozen=True)
class ThreadBudget:
    """What :func:`configure` decided.

    Attributes:
        cpus: CPUs this process may use (affinity and cgroup quota).
        per_operation: Threads one numerical operation may use.
        concurrent_jobs: Background trainings that may run at once.
        source: Where ``cpus`` came from, in words (for the System page).
    """

    cpus: int
    per_operation: int
    concurrent_jobs: int
    source: str


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by a cgroup quota (v2 ``cpu.max`` or v1 ``cfs_quota_us``), None when unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max" and float(period) > 0:
            return float(quota) / float(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = float((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = float((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> tuple[int, str]:
    """The CPUs this process may use and where the number came from."""
    override = os.environ.get("GALLERY_THREADS", "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override), "GALLERY_THREADS"
    try:
        cpus, source = len(os.sched_getaffinity(0)), "CPU affinity"
    except (AttributeError, OSError):  # macOS has no affinity call
        cpus, source = os.cpu_count() or 1, "CPU count"
    quota = _cgroup_quota(cgroup_root)
    if quota is not None and math.ceil(quota) < cpus:
        cpus, source = max(1, math.ceil(quota)), "cgroup CPU quota"
    return max(1, cpus), source


def budget(cgroup_root: Path = Path("/sys/fs/cgroup")) -> ThreadBudget:
    """The thread budget for this process (reads the environment; changes nothing)."""
    cpus, source = available_cpus(cgroup_root)
    per_operation = max(1, cpus // 2)
    return ThreadBudget(cpus, per_operation, max(1, cpus // 2), source)


def configure(cgroup_root: Path = Path("/sys/fs/cgroup")) -> ThreadBudget:
    """Size every thread pool to the budget; call before scikit-learn and torch are imported.

    Environment values already set win. Libraries already loaded are limited at run time: numpy's BLAS
    through threadpoolctl and torch through ``torch.set_num_threads``.
    """
    plan = budget(cgroup_root)
    os.environ.setdefault("OMP_NUM_THREADS", str(plan.per_operation))
    if plan.per_operation > 1:
        # With one thread per operation there is no OpenMP worker to spin, and the BLAS keeps its own default:
        # measured, one BLAS thread with passive OpenMP waits cut the live camera's frame rate from 15+ to 4-14
        # frames a second (not understood; the browser test asks for 15).
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, str(plan.per_operation))
        for name, value in QUIET_OPENMP.items():
            os.environ.setdefault(name, value)
    threads = _int_env("OMP_NUM_THREADS", plan.per_operation)
    if "numpy" in sys.modules and "OPENBLAS_NUM_THREADS" in os.environ:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=_int_env("OPENBLAS_NUM_THREADS", threads), user_api="blas")
        except Exception as exc:  # noqa: BLE001 (a missing or odd BLAS must not stop the server)
            log.warning("Could not limit the BLAS threads: %s", exc)
    if "torch" in sys.modules:
        limit_torch(threads)
    return plan


def limit_torch(threads: int | None = None) -> None:
    """Give torch the budget's threads (engines call it after importing torch; cheap when already set)."""
    import torch

    wanted = threads or _int_env("OMP_NUM_THREADS", budget().per_operation)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    try:
        if torch.get_num_interop_threads() != wanted:
            torch.set_num_interop_threads(wanted)
    except RuntimeError:  # only settable before the first inter-op work; the intra-op limit is what matters
        pass


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, "")))
    except ValueError:
        return default


@cache
def configure_once() -> ThreadBudget:
    """:func:`configure`, once per process (``app.py`` runs on every rerun of every session)."""
    return configure()
