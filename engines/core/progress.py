"""The progress protocol: long work reports ``progress(fraction, message)``.

``fraction`` goes from 0.0 to 1.0 and ends at exactly 1.0; ``message`` says
what is happening in words a user understands. Engines never print.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def null_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores every report."""


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """Map a sub-task's 0..1 progress onto ``start..end`` of the parent's.

    Args:
        progress: The parent callback.
        start: Parent fraction when the sub-task begins.
        end: Parent fraction when the sub-task ends.

    Returns:
        A callback for the sub-task.
    """

    def report(fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        progress(start + (end - start) * fraction, message)

    return report
