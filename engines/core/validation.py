"""Checks of the numbers in a training config, with messages that name the setting to fix."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from engines.core.errors import InputError

MAX_BUDGET_SECONDS = 86_400  # a training's wall-clock budget is at most a day


def check_ranges(checks: Iterable[tuple[str, Any, float, float]], whole: Iterable[str] = ()) -> None:
    """Raise an InputError for the first setting that is not a finite number in its range.

    Args:
        checks: (setting name as the user sees it, value, lowest, highest).
        whole: Names of the settings that count things (32.0 passes as 32, 32.5 does not).
    """
    whole = frozenset(whole)
    for name, value, low, high in checks:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise InputError(f"{name} must be a number (got {value!r}).")
        if name in whole and value != int(value):
            raise InputError(f"{name} must be a whole number (got {value:g}).")
        if not low <= value <= high:
            raise InputError(f"{name} must be between {low:g} and {high:g} (got {value:g}).")


def check_time_budget(seconds: Any) -> None:
    """None (no budget) or a positive, finite number of seconds up to a day; else an InputError."""
    if seconds is None:
        return
    if not (
        isinstance(seconds, (int, float))
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        and 0 < seconds <= MAX_BUDGET_SECONDS
    ):
        raise InputError(f"The time budget must be a positive number of seconds, at most 24 hours (got {seconds!r}).")


def check_switch(name: str, value: Any) -> None:
    """A setting that is on or off must be a bool."""
    if not isinstance(value, bool):
        raise InputError(f"{name} must be on or off (True or False), not {value!r}.")
