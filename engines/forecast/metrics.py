"""Rolling-origin backtests with the protocol and metrics of ``prophet.diagnostics``.

:func:`generate_cutoffs` reproduces ``prophet.diagnostics.generate_cutoffs`` (cutoffs every
``period`` back from the end minus the horizon, the first one at least ``initial`` after the
start), and :func:`performance_metrics` reproduces ``prophet.diagnostics.performance_metrics``
(rolling mean by horizon over ``rolling_window`` of the rows, right-aligned), so the very same
code scores Prophet's own cross-validation frame and ours. A cross-validation frame has the
columns ``ds, y, yhat, yhat_lower, yhat_upper, cutoff`` and, for MASE, ``scale`` (the in-sample
mean absolute error of the seasonal naive forecast on the training part of that cutoff).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engines.core.errors import InputError

METRICS = ("mse", "rmse", "mae", "mape", "smape", "mase", "coverage")
LOWER_IS_BETTER = {"mse": True, "rmse": True, "mae": True, "mape": True, "smape": True, "mase": True}
CV_COLUMNS = ("ds", "y", "yhat", "yhat_lower", "yhat_upper", "cutoff")


def generate_cutoffs(
    ds: pd.Series | pd.DatetimeIndex, horizon: pd.Timedelta, initial: pd.Timedelta, period: pd.Timedelta
) -> list[pd.Timestamp]:
    """Cutoff dates exactly as ``prophet.diagnostics.generate_cutoffs`` makes them.

    Args:
        ds: The observed timestamps.
        horizon: How far each simulated forecast reaches.
        initial: Training span before the first cutoff.
        period: Spacing of the cutoffs.

    Returns:
        Cutoffs, oldest first.

    Raises:
        InputError: when the series is too short for this protocol.
    """
    ds = pd.Series(pd.DatetimeIndex(ds))
    cutoff = ds.max() - horizon
    if cutoff < ds.min():
        raise InputError("The series is shorter than the forecast horizon. Shorten the horizon or add data.")
    result = [cutoff]
    while result[-1] >= ds.min() + initial:
        cutoff -= period
        if not ((ds > cutoff) & (ds <= cutoff + horizon)).any() and cutoff > ds.min():
            cutoff = ds[ds <= cutoff].max() - horizon
        result.append(cutoff)
    result = result[:-1]
    if not result:
        raise InputError("The series is too short for a backtest after the initial window. Shorten the horizon.")
    return list(reversed(result))


def rolling_mean_by_h(x: np.ndarray, h: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned rolling mean of ``x`` over ``w`` rows after aggregating by horizon ``h`` (Prophet's rule).

    Returns:
        The horizons that have a full window, and the mean at each.
    """
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "h": h})
    grouped = frame.groupby("h")["x"].agg(["sum", "count"]).sort_index()
    xs, ns, hs = grouped["sum"].to_numpy(), grouped["count"].to_numpy(), grouped.index.to_numpy()
    trailing = len(grouped) - 1
    x_sum = n_sum = 0.0
    out = np.empty(len(grouped))
    for i in range(len(grouped) - 1, -1, -1):
        x_sum += xs[i]
        n_sum += ns[i]
        while n_sum >= w:
            excess = n_sum - w
            out[trailing] = (x_sum - excess * xs[i] / ns[i]) / w
            x_sum -= xs[trailing]
            n_sum -= ns[trailing]
            trailing -= 1
    return hs[trailing + 1 :], out[trailing + 1 :]


def _pointwise(cv: pd.DataFrame) -> dict[str, np.ndarray]:
    y, yhat = cv["y"].to_numpy(float), cv["yhat"].to_numpy(float)
    err = y - yhat
    with np.errstate(divide="ignore", invalid="ignore"):
        sape = np.abs(err) / ((np.abs(y) + np.abs(yhat)) / 2)
        values = {
            "mse": err**2,
            "mae": np.abs(err),
            "mape": np.abs(err / y),
            "smape": np.nan_to_num(sape, nan=0.0),
        }
        if "scale" in cv:
            values["mase"] = np.abs(err) / cv["scale"].to_numpy(float)
    if "yhat_lower" in cv and "yhat_upper" in cv:
        values["coverage"] = ((y >= cv["yhat_lower"].to_numpy(float)) & (y <= cv["yhat_upper"].to_numpy(float))).astype(
            float
        )
    return values


def performance_metrics(cv: pd.DataFrame, rolling_window: float = 0.1) -> pd.DataFrame:
    """Metrics by horizon, computed as ``prophet.diagnostics.performance_metrics`` computes them.

    Args:
        cv: A cross-validation frame (see the module docstring).
        rolling_window: Share of the rows in each window (Prophet's default 0.1); 0 scores each horizon alone.

    Returns:
        One row per horizon (a Timedelta): mse, rmse, mae, mape (left out when some |y| < 1e-8), smape,
        mase (when ``scale`` is given) and coverage (when intervals are given).
    """
    if cv.empty:
        raise InputError("The backtest produced no forecasts to score.")
    frame = cv.assign(horizon=cv["ds"] - cv["cutoff"]).sort_values("horizon", kind="mergesort")
    w = max(1, min(int(rolling_window * len(frame)), len(frame)))
    values = _pointwise(frame)
    if np.abs(frame["y"].to_numpy(float)).min() < 1e-8:
        values.pop("mape")
    h = frame["horizon"].to_numpy()
    out: dict[str, np.ndarray] = {}
    for name, x in values.items():
        hs, mean = rolling_mean_by_h(x, h, w)
        out.setdefault("horizon", hs)
        out[name] = mean
        if name == "mse":
            out["rmse"] = np.sqrt(mean)
    order = ["horizon", *[m for m in METRICS if m in out]]
    return pd.DataFrame({k: out[k] for k in order})


def summary_metrics(cv: pd.DataFrame) -> dict[str, float]:
    """Every metric over all rows of a backtest (``rolling_window=1`` in Prophet's terms)."""
    values = _pointwise(cv)
    out = {name: float(np.mean(x)) for name, x in values.items() if name != "mse"}
    out["rmse"] = float(np.sqrt(np.mean(values["mse"])))
    if np.abs(cv["y"].to_numpy(float)).min() < 1e-8:
        out["mape"] = float("nan")
    return {m: out[m] for m in ("mape", "smape", "mase", "rmse", "coverage") if m in out}


def metric_at(perf: pd.DataFrame, horizon: pd.Timedelta, metric: str) -> float:
    """The value of ``metric`` in the row of ``performance_metrics`` at ``horizon`` (the last row not beyond it)."""
    rows = perf[perf["horizon"] <= horizon]
    if rows.empty:
        raise InputError(f"No metric row at or before horizon {horizon}.")
    return float(rows[metric].iloc[-1])


def select_per_cutoff(
    frames: dict[str, pd.DataFrame],
    metric: str = "mase",
    first: str | None = None,
    horizon: pd.Timedelta | None = None,
) -> tuple[pd.DataFrame, dict[pd.Timestamp, str]]:
    """An honest selected model: at each cutoff, the model with the best ``metric`` on what was known then.

    At cutoff ``c`` only earlier backtest windows are scored: with ``horizon``, the windows that had
    finished by ``c`` (``cutoff + horizon <= c``: whole forecasts, scored like the one being chosen);
    without it, every row with ``ds <= c``. The winner's forecast for ``c`` is used. Cutoffs with no
    finished window yet use ``first`` (or the first model).

    Returns:
        The combined cross-validation frame and cutoff -> chosen model.
    """
    names = list(frames)
    if not names:
        raise InputError("No backtest frames to choose from.")
    first = first if first in frames else names[0]
    cutoffs = sorted(frames[names[0]]["cutoff"].unique())
    parts, chosen = [], {}
    for cutoff in cutoffs:
        scores = {}
        for name, cv in frames.items():
            known = cv[cv["ds"] <= cutoff] if horizon is None else cv[cv["cutoff"] + horizon <= cutoff]
            if len(known):
                scores[name] = summary_metrics(known).get(metric, np.nan)
        finite = {k: v for k, v in scores.items() if np.isfinite(v)}
        pick = min(finite, key=finite.__getitem__) if finite else first
        chosen[pd.Timestamp(cutoff)] = pick
        parts.append(frames[pick][frames[pick]["cutoff"] == cutoff])
    return pd.concat(parts, ignore_index=True), chosen
