"""Run a decoder on untrusted bytes in a worker process with a memory cap and a deadline.

A decoder library (pypdf, python-docx/lxml, an image or video codec) fed a crafted file can take minutes of
CPU or gigabytes of memory inside one call that the server cannot interrupt: a thread cannot be killed, and
Python checks nothing while C code runs. :func:`run_isolated` runs such a call in a separate process instead::

    from engines.core.sandbox import run_isolated

    result = run_isolated(extract, data, filename, memory_mb=384, timeout_s=25, what="this PDF")

- **Process.** Each call starts a fresh interpreter (``subprocess``, that is ``posix_spawn``/``fork+exec``):
  Streamlit runs every session's script in a thread, and forking a threaded server without ``exec`` can
  deadlock on a lock another thread held. multiprocessing's ``forkserver``/``spawn`` were not used: on
  Python 3.11 each of their children re-imports the parent's ``__main__`` by path, and under
  ``streamlit run`` that is Streamlit's CLI script. The worker imports only the module of ``func`` (keep
  that module's imports light: :mod:`engines.core.documents` imports neither pandas nor streamlit at the
  top). Overhead: see :data:`OVERHEAD_NOTE`.
- **Memory.** After importing ``func``'s module and before touching the input, the worker caps its own
  address space (``RLIMIT_AS``) at what it uses then plus ``memory_mb``; an allocation past it raises
  ``MemoryError`` (or kills the worker inside C code). Libraries that reserve large virtual areas (OpenBLAS
  thread buffers, torch) need more headroom or one thread.
- **Time.** The parent kills the worker at ``timeout_s``; the worker also caps its own CPU time
  (``RLIMIT_CPU``) a little later, so it dies even if the parent is gone. ``SIGALRM`` is left to ``func``
  (a decoder may use ``signal.setitimer`` for a soft deadline of its own: it runs in the worker's main thread). Time spent waiting for a free slot counts:
  at most :data:`MAX_CONCURRENT` workers run at once, so a burst of uploads cannot take every CPU and the
  memory of ``MAX_CONCURRENT * memory_mb``.
- **Data.** Arguments travel to the worker pickled (the parent's own values; the worker only unpickles what
  the parent sent). Results come back as **JSON**, never pickle: ``func`` returns ``str``, ``int``,
  ``float``, ``bool``, ``None`` and lists/dicts of them (tuples arrive as lists; rebuild dataclasses in the
  parent). Nothing the worker sends can make the parent run code.
- **Errors.** An :class:`InputError` raised in the worker is raised again with its message; running out of
  memory, being killed or timing out becomes an :class:`InputError` that names ``what`` and says what to try;
  any other exception becomes a :class:`SandboxError` (a bug: it is not the user's to fix).

``progress`` reports cross the boundary too: pass ``progress=callback`` and ``func`` receives a ``progress``
keyword argument whose reports are replayed in the calling thread (where Streamlit calls are allowed).
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.core.errors import InputError
from engines.core.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT_S = 25.0  # issue 26: an upload is refused or read within 30 s
MAX_CONCURRENT = 2  # workers at once (the host has 2 CPUs); a third call waits for a slot within its timeout
MAX_REPLY_BYTES = 96 * 2**20  # a worker that answers with more than this is stopped (a result is text, not data)
DEFAULT_ADVICE = "Try a smaller file, or save it as plain text (.txt) and upload that."
OVERHEAD_NOTE = (  # measured on the shared 2-core host, load average about 5
    "0.10 s per call for a small .docx and 0.16 s for a small PDF over reading it in the server process "
    "(interpreter start plus the imports of func's module; up to 0.25 s at a load average of 10)"
)

log = logging.getLogger(__name__)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)

WORKER = "import sys; sys.path.insert(0, sys.argv[1]); from engines.core.sandbox import _worker_main; _worker_main()"


class SandboxError(RuntimeError):
    """The isolated function failed in a way that is a bug, not a problem with the user's input."""


def default_memory_mb() -> int:
    """Memory one isolated call may add: a quarter of the deployment's budget, between 128 and 384 MB.

    384 MB keeps an attack inside issue 26's limit of 400 MB of growth; the budget is
    ``GALLERY_MEMORY_BUDGET_MB`` (2048 by default, see :func:`engines.core.system.budget_mb`).
    """
    from engines.core.system import budget_mb

    return int(max(128.0, min(384.0, budget_mb() / 4)))


def _capitalised(what: str) -> str:
    return what[:1].upper() + what[1:]


def run_isolated(
    func: Callable[..., Any],
    *args: Any,
    memory_mb: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    what: str = "this file",
    advice: str = DEFAULT_ADVICE,
    progress: Progress | None = None,
    stats: dict[str, float] | None = None,
    **kwargs: Any,
) -> Any:
    """Call ``func(*args, **kwargs)`` in a worker process with a memory cap and a deadline; its JSON result.

    Args:
        func: A module-level function (the worker imports it by module and name). It returns JSON data.
        *args: Its arguments (bytes, str, numbers...: anything picklable; they travel to the worker only).
        memory_mb: Address space the call may add on top of the loaded worker (default: :func:`default_memory_mb`).
        timeout_s: Seconds before the worker is killed, including any wait for a free slot.
        what: What is being read, for the messages ("this PDF", "`cv.docx`").
        advice: What the user can do instead, appended to the memory and time messages.
        progress: When given, ``func`` is called with ``progress=`` and its reports are replayed here.
        stats: When given, filled with ``seconds`` (wall time of the call) and ``peak_mb`` (the worker's peak
            resident memory, when it finished).
        **kwargs: More keyword arguments for ``func``.

    Returns:
        What ``func`` returned, decoded from JSON (tuples become lists).

    Raises:
        InputError: ``func`` raised one, or the call ran out of memory or time (the message says which).
        SandboxError: ``func`` raised anything else, or the worker could not start.
    """
    memory_mb = default_memory_mb() if memory_mb is None else int(memory_mb)
    started = time.monotonic()
    deadline = started + timeout_s
    if not _slots.acquire(timeout=max(0.0, timeout_s - 1.0)):
        raise InputError(
            f"The gallery is reading other uploads right now, so {what} could not be read. Try again in a minute."
        )
    try:
        request = pickle.dumps(
            {
                "module": func.__module__,
                "name": func.__qualname__,
                "args": args,
                "kwargs": kwargs,
                "memory_mb": memory_mb,
                "cpu_s": math.ceil(max(1.0, deadline - time.monotonic())) + 2,
                "progress": progress is not None,
            },
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        reply = _run_worker(request, deadline, timeout_s, memory_mb, what, advice, progress)
    finally:
        _slots.release()
    if stats is not None:
        stats["seconds"] = time.monotonic() - started
        stats["peak_mb"] = float(reply.get("peak_mb", 0.0))
    kind = reply.get("kind")
    if kind == "ok":
        return reply["result"]
    if kind == "input":
        raise InputError(reply["message"])
    if kind == "memory":
        raise InputError(_memory_message(what, memory_mb, advice))
    raise SandboxError(f"{reply.get('type', 'error')} while reading {what}: {reply.get('message', '')}")


def _memory_message(what: str, memory_mb: int, advice: str) -> str:
    return (
        f"{_capitalised(what)} needs more memory than the gallery allows for one upload ({memory_mb} MB) "
        f"and was not read. {advice}"
    )


def _run_worker(
    request: bytes,
    deadline: float,
    timeout_s: float,
    memory_mb: int,
    what: str,
    advice: str,
    progress: Progress | None,
) -> dict[str, Any]:
    """Start a worker, feed it the request, replay its progress, and return its final reply."""
    try:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", WORKER, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            close_fds=True,
        )
    except OSError as exc:
        raise SandboxError(f"could not start a worker process: {exc}") from exc
    feeder = threading.Thread(target=_feed, args=(worker, request), name="sandbox-feed", daemon=True)
    feeder.start()
    buffer = b""
    received = 0
    try:
        fd = worker.stdout.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InputError(
                    f"{_capitalised(what)} took longer than {timeout_s:.0f} s to read, the most the gallery allows "
                    f"for one upload, so reading it was stopped. {advice}"
                )
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the worker exited without a final reply: killed (memory), crashed, or its own alarm
                code = worker.wait(timeout=5)
                log.warning("sandbox worker for %s ended with exit code %s and no reply", what, code)
                if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
                    raise InputError(_memory_message(what, memory_mb, advice))
                if code in (-signal.SIGXCPU, -signal.SIGALRM):
                    raise InputError(
                        f"{_capitalised(what)} took longer than {timeout_s:.0f} s to read and was stopped. {advice}"
                    )
                raise SandboxError(f"the worker reading {what} stopped with exit code {code}")
            received += len(chunk)
            if received > MAX_REPLY_BYTES:
                raise InputError(
                    f"{_capitalised(what)} holds more text than the gallery reads from one upload "
                    f"({MAX_REPLY_BYTES // 2**20} MB). Upload the part you need."
                )
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    message = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise SandboxError(f"the worker reading {what} sent a reply that is not JSON data") from exc
                if "progress" in message:
                    if progress is not None:
                        fraction, text = message["progress"]
                        progress(float(fraction), str(text))
                    continue
                return message
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        worker.stdout.close()
        feeder.join(timeout=1)


def _feed(worker: subprocess.Popen, request: bytes) -> None:
    """Write the request to the worker's stdin (a thread: a worker that dies early must not block the caller)."""
    try:
        worker.stdin.write(len(request).to_bytes(8, "big"))
        worker.stdin.write(request)
        worker.stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass


# --- the worker side --------------------------------------------------------------------------------------------


def _address_space() -> int:
    """The virtual memory size of the current process in bytes (0 where /proc is missing)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no cap (the deadline still holds)
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    current = _address_space()
    if not current:
        return
    cap = current + memory_mb * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _limit_cpu(seconds: int) -> None:
    try:
        import resource
    except ImportError:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or seconds < hard:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))


def _peak_mb() -> float:
    """Peak resident memory of this worker in MiB: VmHWM (ru_maxrss would include the parent's from before exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _worker_main() -> None:
    """Entry point of a worker: read one request from stdin, answer with JSON lines on (the original) stdout."""
    import importlib

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library that prints must not corrupt the replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal is the parent's to handle

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, ensure_ascii=True).encode() + b"\n")
        out.flush()

    stdin = sys.stdin.buffer
    size = int.from_bytes(stdin.read(8), "big")
    request = pickle.loads(stdin.read(size))  # the parent's own request, never uploaded bytes
    _limit_cpu(int(request["cpu_s"]))  # dies by itself even if the parent is gone
    try:
        module = importlib.import_module(request["module"])
        func: Any = module
        for part in request["name"].split("."):
            func = getattr(func, part)
        kwargs = dict(request["kwargs"])
        if request["progress"]:
            kwargs["progress"] = lambda fraction, text: send({"progress": [float(fraction), str(text)]})
        _limit_memory(int(request["memory_mb"]))
        result = func(*request["args"], **kwargs)
        reply = json.dumps({"kind": "ok", "result": result, "peak_mb": _peak_mb()}, ensure_ascii=True)
        out.write(reply.encode() + b"\n")
        out.flush()
    except InputError as exc:
        send({"kind": "input", "message": str(exc), "peak_mb": _peak_mb()})
    except MemoryError:
        send({"kind": "memory", "peak_mb": _peak_mb()})
    except BaseException as exc:  # noqa: BLE001 - everything else is reported to the parent as a bug
        import traceback

        traceback.print_exc()  # to stderr: the server's log
        send({"kind": "error", "type": type(exc).__name__, "message": str(exc)[:500], "peak_mb": _peak_mb()})
    finally:
        out.close()
