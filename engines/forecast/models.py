"""The forecasters: seasonal naive, exponential smoothing, SARIMA, Prophet, gradient boosting, ensemble.

Each one is a function ``(y, steps, context) -> DataFrame`` indexed by the ``steps`` future
timestamps with columns ``yhat, yhat_lower, yhat_upper``. ``y`` is a regular series (a
DatetimeIndex with a frequency, no gaps), already on the model scale (see ``FitContext.log``:
values are logged before fitting and the forecasts exponentiated after, which keeps quantiles).
statsmodels and prophet are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import NormalDist

import numpy as np
import pandas as pd

from engines.core.errors import InputError
from engines.core.timeseries import period_length

log = logging.getLogger(__name__)
MAX_ARIMA_POINTS = 1095  # SARIMA fits on at most the last three years of a daily series (speed on 2 CPUs)
MAX_ETS_SEASON = 52  # longer seasons (a daily series' year) make ETS slow and unstable: it uses the weekly one
YEAR_DAYS = 365.25


class ModelName(StrEnum):
    """The models of the engine, in the order the leaderboard lists them."""

    NAIVE = "seasonal_naive"
    ETS = "ets"
    ARIMA = "arima"
    PROPHET = "prophet"
    BOOSTING = "boosting"
    ENSEMBLE = "ensemble"
    COMBINATION = "combination"  # not fitted: the mean of the best models by backtest (see model.train)


FITTED = tuple(m for m in ModelName if m is not ModelName.COMBINATION)  # the models a backtest fits
TITLES = {
    ModelName.NAIVE: "Seasonal naive (baseline)",
    ModelName.ETS: "Exponential smoothing (ETS, damped trend)",
    ModelName.ARIMA: "SARIMA (order by AIC)",
    ModelName.PROPHET: "Prophet (with holidays)",
    ModelName.BOOSTING: "Gradient boosting on lags",
    ModelName.ENSEMBLE: "Ensemble (median of SARIMA, Prophet, boosting)",
    ModelName.COMBINATION: "Combination (mean of the best models by backtest)",
}
WHY = {
    ModelName.NAIVE: "Repeats the last season: the baseline every model must beat, and the scale of MASE.",
    ModelName.ETS: "Holt-Winters exponential smoothing with a damped trend: weights recent points most, "
    "fast and robust on short series.",
    ModelName.ARIMA: "Seasonal ARIMA whose order is chosen by AIC on a small grid; long seasons (a daily "
    "series' year, a weekly series' year) enter as Fourier terms.",
    ModelName.PROPHET: "Prophet's additive trend + seasonality + holiday model, with US holidays for daily data "
    "and the dataset's own events where known.",
    ModelName.BOOSTING: "Histogram gradient boosting on lag, rolling and calendar features, forecasting one "
    "step at a time around the recent level (trees cannot extrapolate a trend themselves).",
    ModelName.ENSEMBLE: "The median of SARIMA, Prophet and boosting: three different kinds of model whose errors "
    "differ; the median drops whichever is off, so it is steadier than any one of them.",
    ModelName.COMBINATION: "The mean of the few models with the lowest backtest error, point forecasts and interval "
    "bounds alike: a backtest on a few origins ranks close models by chance, and averaging the top ones instead of "
    "trusting a single winner removes most of that selection noise (forecast combination, as in the M4 competition).",
}
ENSEMBLE_MEMBERS = (ModelName.ARIMA, ModelName.PROPHET, ModelName.BOOSTING)  # ETS is the weakest far ahead


@dataclass(frozen=True)
class FitContext:
    """What every forecaster needs to know besides the values.

    Attributes:
        freq: Pandas alias of the series.
        season: Main seasonal period in steps (1: none).
        yearly: Steps per year when the series has a yearly cycle longer than ``season`` (else 0).
        coverage: Nominal coverage of the intervals.
        log: Whether ``y`` is the log of the data (forecasts are exponentiated by the caller).
        holidays: Extra events for Prophet and the boosting features (columns holiday, ds, lower_window, upper_window).
        country_holidays: Country code for Prophet's built-in holidays (daily or finer data), or None.
        seed: Seed for every random step.
    """

    freq: str
    season: int
    yearly: float = 0.0
    coverage: float = 0.8
    log: bool = False
    holidays: pd.DataFrame | None = field(default=None, compare=False, hash=False)
    country_holidays: str | None = None
    seed: int = 0

    @property
    def z(self) -> float:
        """The normal quantile of a central interval with this coverage."""
        # The standard library's quantile: importing scipy.stats for it costs the page about a second cold.
        return NormalDist().inv_cdf(0.5 + self.coverage / 2)


def future_index(y: pd.Series, steps: int) -> pd.DatetimeIndex:
    """The ``steps`` timestamps after the end of ``y``, at its frequency."""
    return pd.date_range(y.index[-1], periods=steps + 1, freq=y.index.freq)[1:]


def naive_scale(values: np.ndarray, season: int) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (MASE's denominator); falls back to lag 1."""
    values = np.asarray(values, dtype=float)
    m = season if len(values) > season else 1
    diffs = np.abs(values[m:] - values[:-m])
    scale = float(diffs.mean()) if len(diffs) else 0.0
    if scale <= 0 and m > 1:
        diffs = np.abs(np.diff(values))
        scale = float(diffs.mean()) if len(diffs) else 0.0
    return scale if scale > 0 else 1.0


def _frame(index: pd.DatetimeIndex, yhat, half_width) -> pd.DataFrame:
    yhat = np.asarray(yhat, dtype=float)
    half = np.broadcast_to(np.asarray(half_width, dtype=float), yhat.shape)
    return pd.DataFrame({"yhat": yhat, "yhat_lower": yhat - half, "yhat_upper": yhat + half}, index=index)


# ------------------------------------------------------------------ seasonal naive
def seasonal_naive(y: pd.Series, steps: int, ctx: FitContext) -> pd.DataFrame:
    """Each future point equals the last observed point one (or more) seasons earlier.

    The interval follows Hyndman & Athanasopoulos (FPP3, 5.5): sd of the in-sample seasonal
    differences times sqrt(number of whole seasons ahead).
    """
    values = y.to_numpy(float)
    m = ctx.season if len(values) > ctx.season else 1
    h = np.arange(1, steps + 1)
    seasons_ahead = (h - 1) // m + 1
    yhat = values[len(values) - m + (h - 1) % m]
    resid = values[m:] - values[:-m]
    sd = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
    return _frame(future_index(y, steps), yhat, ctx.z * sd * np.sqrt(seasons_ahead))


# ------------------------------------------------------------------ ETS
def ets(y: pd.Series, steps: int, ctx: FitContext) -> pd.DataFrame:
    """Additive-error ETS with a damped additive trend and additive seasonality (statsmodels ETSModel)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = ctx.season if ctx.season <= MAX_ETS_SEASON else 1
    seasonal = "add" if m > 1 and len(y) >= 2 * m + 4 else None
    model = ETSModel(
        y.astype(float),
        error="add",
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method="estimated" if len(y) < 400 else "heuristic",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(disp=False, maxiter=200)
        pred = fit.get_prediction(start=len(y), end=len(y) + steps - 1)
        frame = pred.summary_frame(alpha=1 - ctx.coverage)
    out = pd.DataFrame(
        {
            "yhat": frame["mean"].to_numpy(float),
            "yhat_lower": frame["pi_lower"].to_numpy(float),
            "yhat_upper": frame["pi_upper"].to_numpy(float),
        },
        index=future_index(y, steps),
    )
    return out


# ------------------------------------------------------------------ SARIMA
def fourier_terms(index: pd.DatetimeIndex, period_days: float, harmonics: int) -> np.ndarray:
    """Sine and cosine columns of a cycle of ``period_days``, from absolute time (train and future align)."""
    t = (index - pd.Timestamp("2000-01-01")) / pd.Timedelta(days=1)
    t = np.asarray(t, dtype=float)
    cols = []
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * t / period_days), np.cos(2 * np.pi * k * t / period_days)]
    return np.column_stack(cols)


def _arima_exog(index: pd.DatetimeIndex, ctx: FitContext) -> np.ndarray | None:
    if ctx.yearly <= 0:
        return None
    return fourier_terms(index, YEAR_DAYS, 6)


def arima(y: pd.Series, steps: int, ctx: FitContext) -> pd.DataFrame:
    """SARIMA with (p, d, q) chosen by AIC on a small grid; d by the KPSS test, D = 1 for a strong season.

    A season of up to 24 steps is modelled by the seasonal part (0, D, 1); a longer yearly cycle
    (weekly data, or daily data on top of its weekly season) by Fourier regressors.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from statsmodels.tsa.stattools import kpss

    y = y.iloc[-MAX_ARIMA_POINTS:] if ctx.yearly else y
    values = y.to_numpy(float)
    m = ctx.season if 1 < ctx.season <= 24 and len(values) >= 3 * ctx.season else 0
    big_d = 0
    if m:
        strength = np.var(values[m:] - values[:-m]) < np.var(np.diff(values))
        big_d = 1 if strength else 0
    base = values[m:] - values[:-m] if big_d else values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p_value = kpss(base, regression="c", nlags="auto")[1]
        except (ValueError, OverflowError):
            p_value = 0.0
    d = 1 if p_value < 0.05 else 0
    if d + big_d == 0 and len(values) < 50:
        d = 1
    exog = _arima_exog(y.index, ctx)
    future = future_index(y, steps)
    exog_future = _arima_exog(future, ctx)
    grid = [(0, d, 1), (1, d, 0), (1, d, 1), (2, d, 1)] if len(values) <= 300 else [(1, d, 1), (2, d, 1), (0, d, 1)]
    trend = "c" if d + big_d == 0 else "n"  # no drift: a drift extrapolated a year ahead is the usual failure
    best, best_aic = None, math.inf
    for order in grid:
        model = SARIMAX(
            values,
            exog=exog,
            order=order,
            seasonal_order=(0, big_d, 1, m) if m else (0, 0, 0, 0),
            trend=trend,
            enforce_stationarity=False,
            enforce_invertibility=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                fit = model.fit(disp=False, maxiter=60)
            except (np.linalg.LinAlgError, ValueError) as exc:
                log.info("SARIMA %s failed: %s", order, exc)
                continue
        if np.isfinite(fit.aic) and fit.aic < best_aic:
            best, best_aic = fit, fit.aic
    if best is None:
        raise InputError("SARIMA could not be fitted to this series. Try a longer series or another model.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecast = best.get_forecast(steps, exog=exog_future)
        mean = np.asarray(forecast.predicted_mean, dtype=float)
        interval = np.asarray(forecast.conf_int(alpha=1 - ctx.coverage), dtype=float)
    return pd.DataFrame({"yhat": mean, "yhat_lower": interval[:, 0], "yhat_upper": interval[:, 1]}, index=future)


# ------------------------------------------------------------------ Prophet
def quiet_prophet() -> None:
    """Silence Prophet and cmdstanpy, which both log every fit at INFO (engines stay quiet)."""
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").disabled = True  # it resets its own level on first use


def prophet(y: pd.Series, steps: int, ctx: FitContext) -> pd.DataFrame:
    """Prophet with its automatic seasonalities, country holidays (daily or finer) and the dataset's events."""
    from prophet import Prophet

    quiet_prophet()
    model = Prophet(interval_width=ctx.coverage, holidays=ctx.holidays, uncertainty_samples=300)
    if ctx.country_holidays:
        model.add_country_holidays(country_name=ctx.country_holidays)
    frame = pd.DataFrame({"ds": y.index, "y": y.to_numpy(float)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame)
        future = pd.DataFrame({"ds": future_index(y, steps)})
        # Prophet draws its interval samples from numpy's global generator; seed it for repeatable bounds.
        np.random.seed(ctx.seed)
        pred = model.predict(future)
    return pd.DataFrame(
        {
            "yhat": pred["yhat"].to_numpy(float),
            "yhat_lower": pred["yhat_lower"].to_numpy(float),
            "yhat_upper": pred["yhat_upper"].to_numpy(float),
        },
        index=pd.DatetimeIndex(future["ds"]),
    )


# ------------------------------------------------------------------ gradient boosting
def _lags(season: int) -> list[int]:
    lags = set(range(1, min(season, 12) + 1)) | {1, 2, 3}
    if season > 1:
        lags |= {season, 2 * season}
    return sorted(lags)


def _event_flags(index: pd.DatetimeIndex, ctx: FitContext) -> np.ndarray:
    """1 on the days of a known event (with its window), for daily or finer data."""
    flags = np.zeros(len(index))
    if ctx.holidays is None or ctx.holidays.empty:
        return flags
    days = index.normalize()
    for _, row in ctx.holidays.iterrows():
        start = pd.Timestamp(row["ds"]) + pd.Timedelta(days=int(row.get("lower_window", 0)))
        end = pd.Timestamp(row["ds"]) + pd.Timedelta(days=int(row.get("upper_window", 0)))
        flags[(days >= start) & (days <= end)] = 1.0
    return flags


def calendar_features(index: pd.DatetimeIndex, ctx: FitContext) -> np.ndarray:
    """Calendar columns: position in the year (Fourier), month, and weekday / hour where the data has them."""
    cols = [fourier_terms(index, YEAR_DAYS, 3), index.month.to_numpy(float)[:, None]]
    step = period_length(ctx.freq)
    if step <= pd.Timedelta(days=1):
        cols.append(index.day_of_week.to_numpy(float)[:, None])
        cols.append(_event_flags(index, ctx)[:, None])
    if step < pd.Timedelta(days=1):
        cols.append(index.hour.to_numpy(float)[:, None])
    return np.column_stack(cols)


def _baseline_design(
    index: pd.DatetimeIndex, knots: np.ndarray, origin: pd.Timestamp, ctx: FitContext, *, yearly: bool
) -> np.ndarray:
    """Columns of the linear baseline: a piecewise-linear trend (in years), yearly Fourier terms, weekday, events."""
    years = np.asarray((index - origin) / pd.Timedelta(days=YEAR_DAYS), dtype=float)
    cols = [years[:, None], np.maximum(0.0, years[:, None] - knots[None, :])]
    if yearly and (ctx.yearly or ctx.season in (4, 12)):
        cols.append(fourier_terms(index, YEAR_DAYS, 8 if ctx.yearly and ctx.season <= 7 else 5))
    if ctx.season in (5, 7) and ctx.yearly:
        cols.append(np.eye(7)[index.day_of_week.to_numpy()][:, 1:])
        cols.append(_event_flags(index, ctx)[:, None])
    return np.column_stack(cols)


def boosting(y: pd.Series, steps: int, ctx: FitContext) -> pd.DataFrame:
    """Gradient boosting on the residuals of a linear trend + calendar baseline, one step at a time.

    A ridge regression on a trend, yearly Fourier terms, weekday and event flags (fitted on the
    last two years, so the trend is the recent one) carries the level and the calendar; trees,
    which cannot extrapolate, learn what is left from lags, rolling means and the calendar, and
    are applied recursively. The residuals revert to zero, so the correction fades with the
    horizon instead of drifting. The interval comes from the errors of the same procedure on a
    holdout at the end of the training part.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge

    values = y.to_numpy(float)
    m = max(ctx.season, 1)
    lags = _lags(m)
    reach = max(max(lags), 2 * m if m > 1 else 8)
    if len(values) < reach + 10:
        raise InputError(
            f"Gradient boosting needs at least {reach + 10} points for its lag features; the series has {len(values)}."
        )
    future = future_index(y, steps)
    full_index = y.index.append(future)
    calendar = calendar_features(full_index, ctx)
    span = (y.index[-1] - y.index[0]) / pd.Timedelta(days=YEAR_DAYS)
    knots = np.arange(0.5, span, 0.5) if span >= 1.5 else np.array([])  # a trend change allowed every half year

    def predict(series: np.ndarray, n: int) -> np.ndarray:
        now = (y.index[len(series) - 1] - y.index[0]) / pd.Timedelta(days=YEAR_DAYS)
        used = knots[knots < now - 0.5]  # no trend change in the last half year: the recent slope needs data
        design = _baseline_design(full_index[: len(series) + n], used, y.index[0], ctx, yearly=span >= 1.5)
        trend_cols = 1 + len(used)
        ridge = Ridge(alpha=0.1).fit(design[: len(series)], series)
        ahead = design.copy()
        end = len(series) - 1
        ahead[end + 1 :, :trend_cols] = ahead[end, :trend_cols]  # hold the last level...
        base = ridge.predict(ahead)
        # ...then add the last slope, damped (half-life of one season): a long extrapolated slope is the
        # commonest way a trend model fails far ahead.
        slope = float((design[end, :trend_cols] - design[end - 1, :trend_cols]) @ ridge.coef_[:trend_cols])
        phi = 0.5 ** (1 / max(m, 4))
        base[end + 1 :] += slope * np.cumsum(phi ** np.arange(1, n + 1))
        resid = np.concatenate([series - base[: len(series)], np.zeros(n)])

        def rows(positions: np.ndarray) -> np.ndarray:
            lagged = np.column_stack([resid[positions - k] for k in lags])
            short = np.array([resid[p - m : p].mean() for p in positions]) if m > 1 else lagged[:, 0]
            long = np.array([resid[p - reach : p].mean() for p in positions])
            return np.column_stack([lagged, short, long, calendar[positions]])

        positions = np.arange(reach, len(series))
        model = HistGradientBoostingRegressor(
            max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, random_state=ctx.seed
        ).fit(rows(positions), resid[positions])
        for i in range(n):
            position = len(series) + i
            resid[position] = model.predict(rows(np.array([position])))[0]
        return base[len(series) :] + resid[len(series) :]

    holdout = min(steps, max(len(values) // 5, 1))
    errors = None
    if len(values) - holdout >= reach + 10:
        errors = np.abs(values[-holdout:] - predict(values[:-holdout], holdout))
    yhat = predict(values, steps)
    if errors is None or not len(errors):
        half = np.full(steps, np.std(np.diff(values)) * ctx.z)
    else:
        running = np.array([np.quantile(errors[: i + 1], ctx.coverage) for i in range(len(errors))])
        floor = np.quantile(errors, ctx.coverage) * 0.5
        running = np.maximum.accumulate(np.maximum(running, floor))
        half = np.concatenate([running, np.full(max(steps - len(running), 0), running[-1])])[:steps]
    return _frame(future, yhat, half)


FORECASTERS = {
    ModelName.NAIVE: seasonal_naive,
    ModelName.ETS: ets,
    ModelName.ARIMA: arima,
    ModelName.PROPHET: prophet,
    ModelName.BOOSTING: boosting,
}


def ensemble(parts: dict[ModelName, pd.DataFrame]) -> pd.DataFrame:
    """The median of the members' forecasts and of their interval bounds (the mean when there are two).

    With three members the median drops whichever one is off on a given day: a robust combination.
    """
    members = [parts[m] for m in ENSEMBLE_MEMBERS if m in parts]
    if not members:
        raise InputError("The ensemble needs at least one of SARIMA, Prophet or boosting.")
    stacked = np.stack([frame[["yhat", "yhat_lower", "yhat_upper"]].to_numpy(float) for frame in members])
    return pd.DataFrame(
        np.median(stacked, axis=0), index=members[0].index, columns=["yhat", "yhat_lower", "yhat_upper"]
    )


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The mean of several forecasts: of ``yhat`` and of each interval bound (quantile averaging).

    Averaging the bounds (the members' quantiles) gives an interval between the members' own, the
    usual way to combine interval forecasts (Lichtendahl, Grushka-Cockayne & Winkler 2013). The
    forecasts must share their index (and ``ds``, ``cutoff`` for backtest frames); other columns come from the first.

    Raises:
        InputError: no forecast, or forecasts of different timestamps.
    """
    if not parts:
        raise InputError("A combination needs at least one forecast.")
    columns = ["yhat", "yhat_lower", "yhat_upper"]
    first = parts[0]
    for other in parts[1:]:
        keys = [c for c in ("ds", "cutoff") if c in first and c in other]
        same = len(other) == len(first) and np.array_equal(np.asarray(other.index), np.asarray(first.index))
        if not same or not all(np.array_equal(other[c].to_numpy(), first[c].to_numpy()) for c in keys):
            raise InputError("Only forecasts of the same timestamps can be combined.")
    out = first.copy()
    out[columns] = np.mean(np.stack([p[columns].to_numpy(float) for p in parts]), axis=0)
    return out
