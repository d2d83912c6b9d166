"""Run one engine call on attack input in a child process; its outcome, time and memory growth.

The security suite (issue 26) asserts three things of every attack: a clear message (or a harmless result), bounded
time, and bounded memory. Memory is measured in a child process so one test's allocations never blur another's:
the child imports the target first, notes its peak resident memory, runs the call, and reports the growth of the
peak. A child that exceeds ``timeout_s`` is killed and reported as ``"timeout"``.

Usage::

    outcome = measure("engines.core.documents:read_document", attack_bytes, "bomb.docx", timeout_s=60)
    assert outcome.kind == "refused" and "too large" in outcome.message
    assert outcome.seconds < 30 and outcome.growth_mb < 400

Arguments may be bytes, str, int, float, bool or None (bytes travel through a temporary file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT_S = 30.0  # issue 26: every attack refused or handled within 30 s (a CSV: 5 s)
CSV_TIME_LIMIT_S = 5.0
MEMORY_LIMIT_MB = 400.0  # and growing the server's memory by under 400 MB

CHILD = r"""
import importlib, json, sys, time, traceback
def high_water_kb():
    # VmHWM, the peak resident memory of this process image. Not ru_maxrss: Linux carries that over from the parent
    # across fork and exec, so a child of a 300 MB pytest process starts at 300 MB and hides any smaller growth.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
from pathlib import Path
from engines.core import threads
threads.configure()
spec = json.loads(Path(sys.argv[1]).read_text())
module_name, _, name = spec["target"].partition(":")
target = importlib.import_module(module_name)
for part in name.split("."):
    target = getattr(target, part)
args = [Path(a["bytes"]).read_bytes() if isinstance(a, dict) else a for a in spec["args"]]
from engines.core.errors import InputError, SourceError
before = high_water_kb()
start = time.perf_counter()
out = {"kind": "ok", "error_type": None, "message": "", "result": None}
try:
    result = target(*args, **spec["kwargs"])
    out["result"] = repr(result)[:500]
except (InputError, SourceError) as exc:
    out.update(kind="refused", error_type=type(exc).__name__, message=str(exc))
except BaseException as exc:
    out.update(kind="crash", error_type=type(exc).__name__, message=str(exc)[:500],
               traceback=traceback.format_exc()[-3000:])
out["seconds"] = time.perf_counter() - start
out["growth_mb"] = (high_water_kb() - before) / 1024
Path(spec["out"]).write_text(json.dumps(out))
"""


@dataclass
class Outcome:
    """What one call did with the attack."""

    kind: str  # "ok" (returned), "refused" (InputError/SourceError), "crash" (anything else), "timeout"
    error_type: str | None
    message: str
    seconds: float
    growth_mb: float  # growth of the child's peak resident memory during the call
    result: str | None = None  # repr of what it returned (first 500 characters)
    traceback: str | None = None

    def __str__(self) -> str:
        head = f"{self.kind} in {self.seconds:.1f} s, +{self.growth_mb:.0f} MB"
        return f"{head}: {self.error_type or ''} {self.message or self.result or ''}\n{self.traceback or ''}".strip()


def measure(target: str, *args: Any, timeout_s: float = 120.0, **kwargs: Any) -> Outcome:
    """Call ``module:function`` with ``args`` in a fresh child process (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="gallery-attack-") as folder:
        work = Path(folder)
        encoded = []
        for i, arg in enumerate(args):
            if isinstance(arg, bytes | bytearray):
                (work / f"arg{i}").write_bytes(arg)
                encoded.append({"bytes": str(work / f"arg{i}")})
            else:
                encoded.append(arg)
        spec = {"target": target, "args": encoded, "kwargs": kwargs, "out": str(work / "out.json")}
        (work / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GALLERY_OFFLINE": "1", "GALLERY_CACHE_DIR": str(work / "cache")}
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(work / "spec.json")],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return Outcome("timeout", None, f"still running after {timeout_s:.0f} s", time.monotonic() - start, 0.0)
        out_file = work / "out.json"
        if not out_file.exists():  # killed (memory) or crashed hard
            tail = (done.stderr or "")[-2000:]
            return Outcome("crash", f"exit {done.returncode}", tail, time.monotonic() - start, 0.0)
        return Outcome(**json.loads(out_file.read_text()))
