"""Functions the sandbox tests run in a worker (a light module: the worker imports it by name)."""

from __future__ import annotations

import time

from engines.core.errors import InputError


def echo(value, *, scale: int = 1):
    """Return plain data built from the arguments."""
    return {"value": value * scale if isinstance(value, int) else value, "pair": (1, 2)}


def length(data: bytes) -> int:
    return len(data)


def refuse(message: str):
    raise InputError(message)


def allocate(megabytes: int) -> int:
    """Hold ``megabytes`` of memory at once (a decoder that inflates a bomb)."""
    block = b"x" * (megabytes * 2**20)  # written, so every page is resident
    return len(block)


def spin(seconds: float) -> str:
    """Busy for ``seconds`` (a decoder stuck on a page)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def sleep_in_c(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def report(steps: int, *, progress) -> int:
    for step in range(steps):
        progress((step + 1) / steps, f"step {step + 1}")
    return steps


def fail() -> None:
    raise KeyError("a bug")


def not_json() -> object:
    return object()


def noisy() -> str:
    print("a library that prints to stdout")
    return "quiet"


def die() -> None:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
