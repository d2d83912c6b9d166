"""Forecasting engine: configuration, rolling-origin backtest of every model, selection, final forecasts.

``train`` runs the backtest (Prophet's protocol on the last few origins), ranks the models by
backtest error (never the in-sample fit), selects the mean of the best ``combine`` of them (a
forecast combination; ``combine=1``: the single best), refits every model on the whole series and
keeps plain data only: the backtest frames, a leaderboard, errors by horizon and the forecasts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal, get_args

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from engines.core.artifacts import ArtifactStore, EngineCache, library_versions
from engines.core.card import ModelCard
from engines.core.errors import InputError
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress, null_progress, scaled
from engines.core.timeseries import period_length
from engines.forecast.data import TICKERS, Dataset, SeriesData, sample_series
from engines.forecast.metrics import LOWER_IS_BETTER, summary_metrics
from engines.forecast.models import (
    ENSEMBLE_MEMBERS,
    FITTED,
    FORECASTERS,
    MAX_ARIMA_POINTS,
    TITLES,
    WHY,
    FitContext,
    ModelName,
    combine,
    ensemble,
    naive_scale,
)

ENGINE = "forecast"
ENGINE_VERSION = 4  # bump when ForecastModel's layout changes, so old artifacts retrain
LIBRARIES = ("statsmodels", "prophet", "scikit-learn", "pandas", "numpy")
MIN_TRAIN = 10  # the shortest training part a backtest origin may have
MAX_FIT_POINTS = 5000  # longer series are fitted on their most recent points (fits stay bounded on 2 CPUs)
MAX_COMBINE = 5
# A model joins the combination only when its backtest error is within this factor of the best's. Fixed a priori,
# not tuned: for two forecasts with independent errors of equal bias, the mean beats the better one only while the
# worse error is below about sqrt(3) = 1.73 times the better; 1.5 leaves room for correlated errors. Beyond it the
# best model is taken alone (averaging a near-perfect seasonal naive with a poor second threw its accuracy away).
COMBINE_WITHIN = 1.5
HORIZON_SEASONS = 2  # sub-daily data: the default horizon reaches two days (48 steps of hourly data)
DIVERGED_FACTOR = 100.0  # a forecast beyond 100 times the largest value seen has blown up; the model is left out
Metric = Literal["mase", "smape", "mape", "rmse"]
METRIC_NAMES: tuple[str, ...] = get_args(Metric)


class Transform(StrEnum):
    """How values are transformed before fitting."""

    AUTO = "auto"
    NONE = "none"
    LOG = "log"


@dataclass(frozen=True)
class Seasonality:
    """Seasonal structure implied by a frequency.

    Attributes:
        season: Main seasonal period in steps (1: none).
        yearly: Steps per year when a yearly cycle is modelled by Fourier terms on top (daily, weekly data), else 0.
        default_horizon: Steps a forecast reaches by default.
        label: The season in words.
    """

    season: int
    yearly: float
    default_horizon: int
    label: str


def seasonality(freq: str) -> Seasonality:
    """The seasonal period, yearly Fourier cycle and default horizon for a pandas frequency alias."""
    offset = to_offset(freq)
    base = offset.base.freqstr.split("-")[0]
    if offset.n == 1 and base == "D":
        return Seasonality(7, 365.25, 90, "weekly (7 days) + yearly")
    if offset.n == 1 and base == "B":
        return Seasonality(5, 261.0, 60, "weekly (5 business days) + yearly")
    if offset.n == 1 and base == "W":
        return Seasonality(52, 52.18, 26, "yearly (52 weeks)")
    if offset.n == 1 and base in ("MS", "ME", "M"):
        return Seasonality(12, 0.0, 12, "yearly (12 months)")
    if offset.n == 1 and base in ("QS", "QE", "Q"):
        return Seasonality(4, 0.0, 8, "yearly (4 quarters)")
    if base in ("YS", "YE", "Y"):
        return Seasonality(1, 0.0, 5, "none (yearly data)")
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        return Seasonality(1, 0.0, 10, "none")
    per_day = pd.Timedelta(days=1) / step
    if per_day >= 1 and float(per_day).is_integer() and per_day <= 288:
        # Two days ahead by default (48 h of hourly data); resolve_horizon bounds it by the history's length.
        return Seasonality(int(per_day), 0.0, HORIZON_SEASONS * int(per_day), f"daily ({int(per_day)} steps)")
    return Seasonality(1, 0.0, 10, "none")


@dataclass(frozen=True)
class ForecastConfig:
    """How to backtest, select and forecast.

    Attributes:
        horizon: Steps to forecast (and to backtest); None: the frequency's default (90 days, 26 weeks, 12 months...).
        cutoffs: Backtest origins, every horizon/2 steps back from the end (Prophet's default period).
        models: Models to fit; the seasonal naive baseline is always included (the combination is not fitted:
            it is formed from these).
        metric: Backtest metric that ranks the models.
        combine: How many of the best models by backtest the selected forecast averages (1: the single best).
        combine_within: Only models whose backtest error is within this factor of the best's are averaged; a
            clearly better model is taken alone (``math.inf``: always the best ``combine``).
        coverage: Nominal coverage of the prediction intervals.
        transform: auto logs positive series whose level varies more than twofold (multiplicative seasonality).
        seed: Seed of every random step.
    """

    horizon: int | None = None  # None: seasonality(freq).default_horizon
    cutoffs: int = 3  # 3 origins keep a full fit of a ~3,000-point daily series well under a minute
    models: tuple[ModelName, ...] = FITTED  # every model, the ensemble included
    metric: Metric = "mase"  # scale-free and defined for zeros (unlike MAPE)
    # 2, fixed for every series: a ranking on a few origins is noisy among the top models, and beyond the
    # second the pool (six models, one a baseline, one already a median of three) holds mostly weaker ones.
    combine: int = 2
    combine_within: float = COMBINE_WITHIN  # 1.5, fixed a priori (see COMBINE_WITHIN)
    coverage: float = 0.8  # Prophet's default interval_width
    transform: Transform = Transform.AUTO  # log only where the seasonal swing grows with the level
    seed: int = 0  # fixed: same config and data give the same forecasts

    def __post_init__(self) -> None:
        try:
            models = tuple(ModelName(m) for m in self.models)
        except ValueError:
            valid = ", ".join(m.value for m in ModelName)
            raise InputError(f"Unknown model in {self.models!r}. Choose from: {valid}.") from None
        if ModelName.NAIVE not in models:
            models = (ModelName.NAIVE, *models)
        object.__setattr__(self, "models", tuple(m for m in FITTED if m in models))
        try:
            object.__setattr__(self, "transform", Transform(self.transform))
        except ValueError:
            raise InputError(f"Unknown transform {self.transform!r}. Choose auto, none or log.") from None
        if self.metric not in METRIC_NAMES:
            raise InputError(f"Unknown metric {self.metric!r}. Choose one of: {', '.join(METRIC_NAMES)}.")
        if self.horizon is not None and not 1 <= self.horizon <= 1000:
            raise InputError(f"The horizon must be between 1 and 1,000 steps, got {self.horizon}.")
        if not 1 <= self.cutoffs <= 50:
            raise InputError(f"cutoffs must be between 1 and 50, got {self.cutoffs}.")
        if not 1 <= self.combine <= MAX_COMBINE:
            raise InputError(f"combine must be between 1 and {MAX_COMBINE} models, got {self.combine}.")
        if not self.combine_within >= 1.0:
            raise InputError(f"combine_within must be a factor of at least 1, got {self.combine_within}.")
        if not 0.5 <= self.coverage < 1.0:
            raise InputError(f"coverage must be between 0.5 and 0.99, got {self.coverage}.")


@dataclass(frozen=True)
class Fold:
    """One backtest origin.

    Attributes:
        cutoff: The origin's timestamp (horizons are measured from it, as in Prophet).
        train_end: Points of the series used for training (positions 0 .. train_end - 1).
        steps: Points forecast after the training part.
    """

    cutoff: pd.Timestamp
    train_end: int
    steps: int


def folds_from_steps(index: pd.DatetimeIndex, horizon: int, cutoffs: int, min_train: int) -> list[Fold]:
    """Origins every ``horizon // 2`` steps back from ``len - horizon``, keeping at least ``min_train`` points.

    Raises:
        InputError: when not even one origin leaves ``min_train`` training points.
    """
    period = max(1, horizon // 2)
    ends = [len(index) - horizon - k * period for k in range(cutoffs)]
    ends = [e for e in ends if e >= min_train]
    if not ends:
        raise InputError(
            f"The series has {len(index)} points: too short to backtest a {horizon}-step forecast "
            f"(at least {min_train + horizon} are needed). Shorten the horizon or use a longer series."
        )
    return [Fold(index[e - 1], e, horizon) for e in sorted(ends)]


def folds_from_cutoffs(index: pd.DatetimeIndex, cutoffs: list[pd.Timestamp], horizon: pd.Timedelta) -> list[Fold]:
    """Folds for given cutoff dates (e.g. from :func:`metrics.generate_cutoffs`) and a horizon in time."""
    folds = []
    for cutoff in cutoffs:
        end = int(index.searchsorted(cutoff, side="right"))
        steps = int(index.searchsorted(cutoff + horizon, side="right")) - end
        if end > 0 and steps > 0:
            folds.append(Fold(pd.Timestamp(cutoff), end, steps))
    return folds


def use_log(y: pd.Series, transform: Transform) -> bool:
    """Whether the models fit the log of ``y``."""
    if transform is Transform.LOG:
        if (y <= 0).any():
            raise InputError("A log transform needs positive values; this series has zeros or negatives.")
        return True
    if transform is Transform.NONE or (y <= 0).any():
        return False
    low, high = np.quantile(y.to_numpy(float), [0.05, 0.95])
    return bool(high / low >= 2.0)


def fit_context(data: SeriesData, config: ForecastConfig) -> FitContext:
    """The context every forecaster receives for this series and config."""
    freq = data.y.index.freqstr
    season = seasonality(freq)
    daily_or_finer = period_length(freq) <= pd.Timedelta(days=1)
    return FitContext(
        freq=freq,
        season=season.season,
        yearly=season.yearly,
        coverage=config.coverage,
        log=use_log(data.y, config.transform),
        holidays=data.holidays,
        country_holidays="US" if daily_or_finer else None,
        seed=config.seed,
    )


def check_series(data: SeriesData, horizon: int) -> None:
    """Refuse series that cannot be forecast, saying what to do.

    Raises:
        InputError: a constant series, non-finite values, or a series too short for the horizon.
    """
    y = data.y
    if not np.isfinite(y.to_numpy(float)).all():
        raise InputError("The series has missing or infinite values. Clean them or upload it again.")
    if y.nunique() <= 1:
        raise InputError(
            f"Every value of the series is {y.iloc[0]:g}: a constant series has nothing to forecast "
            "(the forecast is that same value). Pick a column whose values change."
        )
    if len(y) < MIN_TRAIN + horizon:
        raise InputError(
            f"The series has {len(y)} points; a {horizon}-step forecast with a backtest needs at least "
            f"{MIN_TRAIN + horizon}. Shorten the horizon or use a longer series."
        )


def min_train(season: int, points: int) -> int:
    """The shortest training part of a backtest origin: two seasons and a bit, within half the series."""
    return max(MIN_TRAIN, min(2 * season + 10, points // 2))


def inner_backtest(
    data: SeriesData, end: int, config: ForecastConfig, horizon: int, *, initial: int | None = None
) -> dict[ModelName, pd.DataFrame]:
    """The backtest :func:`train` would run on the first ``end`` points alone (empty when too short).

    ``initial`` is the least training an inner origin may have (e.g. the outer protocol's initial window).
    """
    sub = replace(data, y=data.y.iloc[:end], observed=data.observed[:end])
    ctx = fit_context(sub, config)
    try:
        folds = folds_from_steps(sub.y.index, horizon, config.cutoffs, initial or min_train(ctx.season, end))
    except InputError:
        return {}
    frames, _, _ = run_backtest(sub, folds, config.models, ctx)
    return frames


def scored_models(
    frames: dict[ModelName, pd.DataFrame], metric: str = "mase", score: Callable[[pd.DataFrame], float] | None = None
) -> list[tuple[ModelName, float]]:
    """The fitted models of a backtest with their error, best first (ties keep the leaderboard order).

    Non-finite scores are left out. ``score`` rates a model's backtest frame (lower is better; default:
    ``metric`` over all rows).
    """
    scores = {
        name: (score(cv) if score is not None else summary_metrics(cv).get(metric, np.nan))
        for name, cv in frames.items()
        if name is not ModelName.COMBINATION
    }
    finite = [name for name in FITTED if name in scores and np.isfinite(scores[name])]
    return [(name, float(scores[name])) for name in sorted(finite, key=scores.__getitem__)]


def rank_models(
    frames: dict[ModelName, pd.DataFrame], metric: str = "mase", score: Callable[[pd.DataFrame], float] | None = None
) -> list[ModelName]:
    """The fitted models of a backtest, best first (ties keep the leaderboard order); non-finite scores are left out.

    ``score`` ranks a model's backtest frame (lower is better; default: ``metric`` over all rows).
    """
    return [name for name, _ in scored_models(frames, metric, score)]


def combination_members(
    scored: list[tuple[ModelName, float]], combine: int, within: float = COMBINE_WITHIN
) -> tuple[ModelName, ...]:
    """The models the selected forecast averages: of the best ``combine``, those within ``within`` times the best.

    ``scored`` is best first (see :func:`scored_models`). A model clearly better than the next one is taken alone,
    so a combination never averages away its accuracy.
    """
    if not scored:
        return ()
    best = scored[0][1]
    return tuple(name for k, (name, value) in enumerate(scored[:combine]) if k == 0 or value <= within * best)


def members_on_training(
    data: SeriesData,
    end: int,
    config: ForecastConfig,
    horizon: int,
    *,
    initial: int | None = None,
    frames: dict[ModelName, pd.DataFrame] | None = None,
    score: Callable[[pd.DataFrame], float] | None = None,
) -> tuple[ModelName, ...]:
    """The models :func:`train` would combine from the first ``end`` points alone (its own inner backtest).

    Benchmarks call this at every outer cutoff, so the selected forecast (the mean of these models'
    forecasts from the cutoff) is scored on data its selection never saw. At most ``config.combine``
    models, best first, each within ``config.combine_within`` times the best's error (see
    :func:`combination_members`); with no inner origin long enough, the ensemble alone (the default).
    """
    if frames is None:
        frames = inner_backtest(data, end, config, horizon, initial=initial)
    scored = scored_models(frames, config.metric, score)
    return combination_members(scored, config.combine, config.combine_within) or (ModelName.ENSEMBLE,)


def select_on_training(
    data: SeriesData,
    end: int,
    config: ForecastConfig,
    horizon: int,
    *,
    initial: int | None = None,
    frames: dict[ModelName, pd.DataFrame] | None = None,
    score: Callable[[pd.DataFrame], float] | None = None,
) -> ModelName:
    """The single best model on the first ``end`` points alone (see :func:`members_on_training`).

    With no inner origin long enough, the ensemble (the default) is returned.
    """
    one = replace(config, combine=1)
    return members_on_training(data, end, one, horizon, initial=initial, frames=frames, score=score)[0]


def combination_title(members: tuple[ModelName, ...] | list[ModelName]) -> str:
    """How the page names a combination of ``members``."""
    return f"Combination: mean of the best {len(members)} by backtest ({' + '.join(TITLES[m] for m in members)})"


def resolve_horizon(data: SeriesData, config: ForecastConfig) -> int:
    """The horizon ``train`` uses: the config's, or the frequency's default capped at a quarter of the series."""
    return config.horizon or min(seasonality(data.y.index.freqstr).default_horizon, max(1, len(data.y) // 4))


def check_forecastable(data: SeriesData, config: ForecastConfig | None = None) -> int:
    """Check a series before training (cheap) and return the horizon that would be used.

    Raises:
        InputError: a constant or too short series (see :func:`check_series`).
    """
    horizon = resolve_horizon(data, config or ForecastConfig())
    check_series(data, horizon)
    return horizon


def diverged_above(y: pd.Series) -> float:
    """A forecast beyond this (in absolute value) has blown up: a numerical failure, not a prediction."""
    values = np.abs(y.to_numpy(float))
    return DIVERGED_FACTOR * float(values.max() + values.std()) if len(values) else np.inf


def _forecast_all(
    y: pd.Series, steps: int, models: tuple[ModelName, ...], ctx: FitContext, report: Progress
) -> tuple[dict[ModelName, pd.DataFrame], dict[ModelName, float], dict[ModelName, str]]:
    """Every model's forecast of ``steps`` after ``y`` (original scale), fit seconds, and failures."""
    fitted = np.log(y) if ctx.log else y
    out: dict[ModelName, pd.DataFrame] = {}
    seconds: dict[ModelName, float] = {}
    failed: dict[ModelName, str] = {}
    singles = [m for m in models if m not in (ModelName.ENSEMBLE, ModelName.COMBINATION)]
    for i, name in enumerate(singles):
        report(i / len(singles), f"Fitting {TITLES[name]}")
        started = time.perf_counter()
        try:
            frame = FORECASTERS[name](fitted, steps, ctx)
        except (InputError, ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
            failed[name] = str(exc) or type(exc).__name__
            continue
        seconds[name] = time.perf_counter() - started
        if not np.isfinite(frame.to_numpy()).all():
            failed[name] = "its forecast was not finite"
            continue
        frame = np.exp(frame.clip(upper=700)) if ctx.log else frame
        if np.abs(frame["yhat"].to_numpy(float)).max() > diverged_above(y):
            failed[name] = f"its forecast diverged (beyond {DIVERGED_FACTOR:g} times the largest value seen)"
            continue
        out[name] = frame
    if ModelName.ENSEMBLE in models and any(m in out for m in ENSEMBLE_MEMBERS):
        out[ModelName.ENSEMBLE] = ensemble(out)
        seconds[ModelName.ENSEMBLE] = sum(seconds.get(m, 0.0) for m in ENSEMBLE_MEMBERS)
    report(1.0, "Forecasts done")
    return out, seconds, failed


def run_backtest(
    data: SeriesData,
    folds: list[Fold],
    models: tuple[ModelName, ...],
    ctx: FitContext,
    progress: Progress = null_progress,
) -> tuple[dict[ModelName, pd.DataFrame], dict[ModelName, float], dict[ModelName, str]]:
    """Fit every model at every origin and score the observed points of each horizon.

    Returns:
        Model -> cross-validation frame (ds, y, yhat, yhat_lower, yhat_upper, cutoff, scale, step),
        model -> total fit seconds, and model -> why it failed (it is left out).
    """
    y = data.y
    frames: dict[ModelName, list[pd.DataFrame]] = {m: [] for m in models}
    seconds: dict[ModelName, float] = dict.fromkeys(models, 0.0)
    failed: dict[ModelName, str] = {}
    for k, fold in enumerate(folds):
        step = scaled(progress, k / len(folds), (k + 1) / len(folds))
        train = y.iloc[: fold.train_end]
        wrapped = _fold_progress(step, f"origin {k + 1} of {len(folds)} ({fold.cutoff:%Y-%m-%d})")
        forecasts, took, broke = _forecast_all(train, fold.steps, models, ctx, wrapped)
        failed.update(broke)
        actual = y.iloc[fold.train_end : fold.train_end + fold.steps]
        keep = data.observed[fold.train_end : fold.train_end + fold.steps] & np.asarray(actual.index > fold.cutoff)
        scale = naive_scale(train.to_numpy(float), ctx.season)
        for name, frame in forecasts.items():
            seconds[name] += took.get(name, 0.0)
            part = frame.iloc[: len(actual)]
            frames[name].append(
                pd.DataFrame(
                    {
                        "ds": actual.index[keep],
                        "y": actual.to_numpy(float)[keep],
                        "yhat": part["yhat"].to_numpy(float)[keep],
                        "yhat_lower": part["yhat_lower"].to_numpy(float)[keep],
                        "yhat_upper": part["yhat_upper"].to_numpy(float)[keep],
                        "cutoff": fold.cutoff,
                        "scale": scale,
                        "step": np.arange(1, len(actual) + 1)[keep],
                    }
                )
            )
    progress(1.0, "Backtest done")
    out = {m: pd.concat(parts, ignore_index=True) for m, parts in frames.items() if m not in failed and parts}
    return out, {m: s for m, s in seconds.items() if m in out}, failed


def _fold_progress(progress: Progress, where: str) -> Progress:
    def report(fraction: float, message: str) -> None:
        progress(fraction, f"Backtest {where}: {message}")

    return report


def leaderboard(frames: dict[ModelName, pd.DataFrame], seconds: dict[ModelName, float], metric: str) -> pd.DataFrame:
    """One row per model: backtest MAPE, sMAPE, MASE, RMSE, interval coverage, fit seconds; best first."""
    rows = []
    for name, cv in frames.items():
        rows.append(
            {"model": name.value, "title": TITLES[name], **summary_metrics(cv), "fit_s": seconds.get(name, 0.0)}
        )
    table = pd.DataFrame(rows)
    ascending = LOWER_IS_BETTER.get(metric, True)
    table = table.sort_values(metric, ascending=ascending, kind="mergesort", na_position="last")
    table["rank"] = np.arange(1, len(table) + 1)
    return table.reset_index(drop=True)


def errors_by_step(frames: dict[ModelName, pd.DataFrame]) -> pd.DataFrame:
    """Mean sMAPE and MASE at each step ahead, per model (for the error-by-horizon chart)."""
    parts = []
    for name, cv in frames.items():
        err = (cv["y"] - cv["yhat"]).abs()
        frame = pd.DataFrame(
            {
                "step": cv["step"],
                "smape": (err / ((cv["y"].abs() + cv["yhat"].abs()) / 2)).fillna(0.0),
                "mase": err / cv["scale"],
            }
        )
        grouped = frame.groupby("step", as_index=False).mean()
        parts.append(grouped.assign(model=TITLES[name]))
    return pd.concat(parts, ignore_index=True)


@dataclass
class ForecastModel:
    """Everything a trained forecast produced, as plain data.

    Attributes:
        config: The configuration it was trained with.
        dataset: Dataset key.
        data_title: Human name of the data.
        freq: Pandas alias of the series.
        season: Seasonal period in steps.
        horizon: Steps forecast.
        log: Whether the models fitted the log of the values.
        history: The series (columns ds, y, observed).
        backtest_: Every model's cross-validation frame, with a ``model`` column.
        leaderboard_: One row per model (see :func:`leaderboard`).
        by_step_: Errors by step ahead (see :func:`errors_by_step`).
        forecasts_: Every model's forecast of the future (columns model, ds, yhat, yhat_lower, yhat_upper).
        selected_: The selected model: the combination of ``members_``, or the single best when only one.
        members_: The models the selected forecast averages, best first (one: no combination).
        failed_: Models that could not be fitted, and why.
        metrics_: The selected model's backtest metrics.
        card_: The model card.
        notes_: Sentences about what the engine did.
    """

    config: ForecastConfig
    dataset: str
    data_title: str
    freq: str
    season: int
    horizon: int
    log: bool
    history: pd.DataFrame
    backtest_: pd.DataFrame
    leaderboard_: pd.DataFrame
    by_step_: pd.DataFrame
    forecasts_: pd.DataFrame
    selected_: ModelName
    members_: tuple[str, ...] = ()
    failed_: dict[str, str] = field(default_factory=dict)
    metrics_: dict[str, float] = field(default_factory=dict)
    card_: ModelCard | None = None
    notes_: tuple[str, ...] = ()
    engine_version: int = ENGINE_VERSION

    @property
    def selected_title(self) -> str:
        """The selected model in words (a combination names its members)."""
        return self.title(self.selected_)

    def title(self, model: ModelName | str) -> str:
        """One model in words; the combination names its members."""
        name = ModelName(model)
        if name is ModelName.COMBINATION and self.members_:
            return combination_title([ModelName(m) for m in self.members_])
        return TITLES[name]

    @property
    def models(self) -> list[ModelName]:
        """The models that produced a forecast, in leaderboard order."""
        return [ModelName(m) for m in self.leaderboard_["model"]]

    def forecast(self, model: ModelName | str | None = None, steps: int | None = None) -> pd.DataFrame:
        """One model's forecast (default: the selected one), cut to ``steps``.

        Raises:
            InputError: a model that was not trained, or steps outside 1..horizon.
        """
        name = self.selected_ if model is None else ModelName(model)
        if name.value not in set(self.forecasts_["model"]):
            raise InputError(f"{TITLES[name]} has no forecast here; choose one of the leaderboard's models.")
        steps = self.horizon if steps is None else int(steps)
        if not 1 <= steps <= self.horizon:
            raise InputError(f"Steps must be between 1 and {self.horizon}, got {steps}.")
        frame = self.forecasts_[self.forecasts_["model"] == name.value]
        return frame.drop(columns="model").head(steps).reset_index(drop=True)


def train(data: SeriesData, config: ForecastConfig | None = None, progress: Progress = null_progress) -> ForecastModel:
    """Backtest every model, select the mean of the best ``config.combine`` by backtest, refit all and forecast.

    Args:
        data: The series (see :func:`load_series` / :func:`series_from_upload`).
        config: Options; None uses the defaults.
        progress: Receives ``(fraction, message)``; ends at 1.0.

    Returns:
        The trained forecast.

    Raises:
        InputError: a constant or too short series, or one no model could fit.
    """
    config = config or ForecastConfig()
    started = time.perf_counter()
    trimmed = len(data.y) > MAX_FIT_POINTS
    if trimmed:
        data = replace(data, y=data.y.iloc[-MAX_FIT_POINTS:], observed=data.observed[-MAX_FIT_POINTS:])
    horizon = check_forecastable(data, config)
    ctx = fit_context(data, config)
    folds = folds_from_steps(data.y.index, horizon, config.cutoffs, min_train(ctx.season, len(data.y)))
    progress(0.0, f"Backtesting {len(config.models)} models on {len(folds)} origins")
    frames, seconds, failed = run_backtest(data, folds, config.models, ctx, scaled(progress, 0.0, 0.8))
    if not frames:
        raise InputError("No model could be fitted to this series: " + "; ".join(failed.values()))
    scored = scored_models(frames, config.metric)
    ranked = [m for m, _ in scored] or list(frames)  # no finite score (MAPE of zeros): leaderboard order
    final, _, final_failed = _forecast_all(data.y, horizon, tuple(frames), ctx, scaled(progress, 0.8, 0.99))
    failed.update(final_failed)
    # The best `combine` models by backtest that also refitted on the whole series (a combination needs two),
    # each within `combine_within` times the best's error: a clearly better model is taken alone.
    refitted = [(m, v) for m, v in scored if m in final]
    members = combination_members(refitted, config.combine, config.combine_within) if refitted else ()
    members = members or tuple(m for m in ranked if m in final)[:1]
    if not members:
        raise InputError("No model could be fitted to this series: " + "; ".join(failed.values()))
    if len(members) > 1:
        selected = ModelName.COMBINATION
        frames[selected] = combine([frames[m] for m in members])
        seconds[selected] = sum(seconds.get(m, 0.0) for m in members)
        final[selected] = combine([final[m] for m in members])
    else:
        selected = members[0]
    board = leaderboard(frames, seconds, config.metric)
    board["selected"] = board["model"] == selected.value
    if selected is ModelName.COMBINATION:
        board.loc[board["selected"], "title"] = combination_title(members)
    forecasts = pd.concat(
        [
            final[m].rename_axis("ds").reset_index().assign(model=m.value)
            for m in map(ModelName, board["model"])
            if m in final
        ],
        ignore_index=True,
    )[["model", "ds", "yhat", "yhat_lower", "yhat_upper"]]
    backtest = pd.concat([cv.assign(model=m.value) for m, cv in frames.items()], ignore_index=True)
    metrics = {k: float(v) for k, v in board.loc[board["selected"]].iloc[0].items() if k in (
        "mape", "smape", "mase", "rmse", "coverage")}  # fmt: skip
    notes = _notes(data, ctx, failed)
    if trimmed:
        notes = (f"The models are fitted on the last {MAX_FIT_POINTS:,} points of the series.", *notes)
    elapsed = time.perf_counter() - started
    if selected is ModelName.COMBINATION:
        model_name = combination_title(members)
        why = (
            f"The mean of the {len(members)} models with the lowest backtest {config.metric.upper()} of "
            f"{len(ranked)} ({', '.join(TITLES[m] for m in members)}). {WHY[selected]}"
        )
        chosen = f"The {len(members)} best models are chosen on this backtest, then refitted on all data and averaged."
    else:
        model_name = TITLES[selected]
        why = f"Lowest backtest {config.metric.upper()} of {len(ranked)} models. {WHY[selected]}"
        if config.combine > 1 and len(ranked) > 1:
            why += (
                f" It is taken alone: the next best model's backtest error is more than {config.combine_within:g} "
                "times its own, and averaging them would throw its accuracy away."
            )
        chosen = "The model is chosen on this backtest, then refitted on all data."
    card = ModelCard(
        model=model_name,
        why=why,
        data=data.title,
        provenance=data.provenance,
        split=(
            f"Rolling-origin backtest (Prophet's cross-validation protocol): {len(folds)} origins "
            f"{max(1, horizon // 2)} steps apart, each forecasting {horizon} steps from the data before it; "
            f"intervals at {config.coverage:.0%}. {chosen}"
        ),
        metrics=metrics,
        train_seconds=elapsed,
        n_train=len(data.y),
        n_test=int(frames[selected].shape[0]),
        limitations=(
            "Backtest origins are few (a fast page); the benchmark runs Prophet's full protocol.",
            "The selected forecast's backtest row is optimistic: the same backtest chose it. The benchmark scores "
            "the selection on data it never saw.",
            "Intervals are model-based; their backtest coverage is reported, not guaranteed.",
            "The same selected model may not be best at every horizon: see the error-by-horizon chart.",
            *(("Values were logged before fitting (the seasonal swing grows with the level).",) if ctx.log else ()),
        ),
        versions=library_versions(LIBRARIES),
        citation=data.citation,
    )
    history = pd.DataFrame({"ds": data.y.index, "y": data.y.to_numpy(float), "observed": data.observed})
    progress(1.0, f"Selected {model_name}")
    return ForecastModel(
        config=config,
        dataset=data.dataset.value,
        data_title=data.title,
        freq=data.y.index.freqstr,
        season=ctx.season,
        horizon=horizon,
        log=ctx.log,
        history=history,
        backtest_=backtest,
        leaderboard_=board,
        by_step_=errors_by_step(frames),
        forecasts_=forecasts,
        selected_=selected,
        members_=tuple(m.value for m in members),
        failed_={m.value: why for m, why in failed.items()},
        metrics_=metrics,
        card_=card,
        notes_=notes,
    )


def _notes(data: SeriesData, ctx: FitContext, failed: dict) -> tuple[str, ...]:
    notes = []
    if ctx.yearly and ctx.season <= 7:
        notes.append(
            "SARIMA models the weekly season directly and the yearly cycle with Fourier terms (a 365-step "
            f"seasonal ARIMA is infeasible), on the last {MAX_ARIMA_POINTS:,} points."
        )
    elif ctx.yearly:
        notes.append(
            f"SARIMA models the yearly cycle of this weekly series with Fourier terms, on the last {MAX_ARIMA_POINTS:,} points."
        )
    if ctx.log:
        notes.append(
            "Values are logged before fitting (the seasonal swing grows with the level) and forecasts exponentiated."
        )
    if ctx.country_holidays:
        notes.append(
            "Prophet uses US public holidays"
            + (" and NFL playoffs and Super Bowls." if data.holidays is not None else ".")
        )
    for name, why in failed.items():
        notes.append(f"{TITLES[ModelName(name)]} was left out: {why}")
    return tuple(notes)


CACHE = EngineCache(ENGINE, ENGINE_VERSION, ForecastModel, LIBRARIES)


def is_cached(config: ForecastConfig, data: SeriesData, store: ArtifactStore | None = None) -> bool:
    """Whether a trained forecast for this config and series is on disk (cheap check)."""
    return CACHE.is_cached(config, data.sha256, store)


def load_or_train(
    config: ForecastConfig,
    data: SeriesData,
    *,
    store: ArtifactStore | None = None,
    progress: Progress = null_progress,
) -> ForecastModel:
    """The cached forecast for this config and series, training it on a miss."""
    return CACHE.load_or_train(config, data.sha256, lambda p: train(data, config, p), store=store, progress=progress)


def request(config: ForecastConfig, data: SeriesData) -> ModelRequest[ForecastModel]:
    """The full comparison a page wants for ``config`` on ``data`` (described, not trained)."""
    return ModelRequest(
        CACHE,
        config,
        data.sha256,
        lambda progress: train(data, config, progress),
        title=f"Backtesting and fitting {len(config.models)} models on {len(data.y):,} points of {data.title}",
        label=f"{data.dataset.value} / {data.title}",
    )


def sample_request(dataset: Dataset | str, *, ticker: str = "GOOG") -> ModelRequest[ForecastModel]:
    """The forecast shipped for one preset: the default config on the preset's offline series."""
    return request(ForecastConfig(), sample_series(dataset, ticker=ticker))


def shipped_requests() -> list[ModelRequest[ForecastModel]]:
    """The forecasts the repository ships: every one-click preset's offline series (and every stock) once."""
    wanted = [sample_request(d) for d in (Dataset.PEYTON, Dataset.AIR, Dataset.RETAIL, Dataset.CO2)]
    wanted += [sample_request(Dataset.STOCKS, ticker=t) for t in TICKERS]
    unique: dict[str, ModelRequest[ForecastModel]] = {}
    for wanted_request in wanted:  # air passengers and retail sales share one bundled sample, hence one model
        unique.setdefault(wanted_request.shipped_key, wanted_request)
    return list(unique.values())


QUICK_MODELS = (ModelName.NAIVE, ModelName.ETS)


def quick_config(config: ForecastConfig) -> ForecastConfig:
    """The fast stand-in for ``config``: seasonal naive and ETS on one backtest origin, the better one kept."""
    return replace(config, models=QUICK_MODELS, cutoffs=1, combine=1)


def quick_train(data: SeriesData, config: ForecastConfig | None = None) -> ForecastModel:
    """A forecast in well under a second, shown while the full comparison trains in the background.

    :func:`train` with :func:`quick_config` (the same horizon and intervals as ``config``), so it has a
    leaderboard, forecasts and a model card like the full model; its card says what it leaves out.

    Raises:
        InputError: a constant or too short series.
    """
    config = config or ForecastConfig()
    model = train(data, quick_config(config))
    limitation = (
        f"A quick forecast: only {' and '.join(TITLES[m] for m in QUICK_MODELS)} on one backtest origin, while "
        f"the comparison of {len(config.models)} models on {config.cutoffs} origins runs in the background."
    )
    card = replace(model.card_, limitations=(limitation, *model.card_.limitations))
    return replace(model, card_=card)


# ------------------------------------------------------------------ analysis
def decompose(y: pd.Series, period: int, *, robust: bool = True) -> pd.DataFrame:
    """STL decomposition: columns ds, observed, trend, seasonal, resid.

    Raises:
        InputError: a period below 2 or a series shorter than two periods.
    """
    from statsmodels.tsa.seasonal import STL

    if period < 2:
        raise InputError("STL needs a seasonal period of at least 2 steps.")
    if len(y) < 2 * period + 1:
        raise InputError(
            f"STL with a period of {period} needs at least {2 * period + 1} points; the series has {len(y)}."
        )
    result = STL(y.to_numpy(float), period=period, robust=robust).fit()
    return pd.DataFrame(
        {
            "ds": y.index,
            "observed": y.to_numpy(float),
            "trend": result.trend,
            "seasonal": result.seasonal,
            "resid": result.resid,
        }
    )


def seasonal_strength(parts: pd.DataFrame) -> dict[str, float]:
    """Strength of trend and seasonality (Wang, Smith & Hyndman 2006), each between 0 and 1."""
    resid = parts["resid"].to_numpy(float)
    var_r = np.var(resid)
    trend = 1 - var_r / max(np.var(resid + parts["trend"].to_numpy(float)), 1e-12)
    season = 1 - var_r / max(np.var(resid + parts["seasonal"].to_numpy(float)), 1e-12)
    return {"trend": float(np.clip(trend, 0, 1)), "seasonal": float(np.clip(season, 0, 1))}


def autocorrelation(y: pd.Series, nlags: int) -> pd.DataFrame:
    """ACF and PACF up to ``nlags`` with the 95% band of white noise: columns lag, acf, pacf, bound."""
    from statsmodels.tsa.stattools import acf, pacf

    nlags = int(min(nlags, len(y) // 2 - 1))
    if nlags < 1:
        raise InputError("The series is too short for autocorrelations.")
    values = y.to_numpy(float)
    return pd.DataFrame(
        {
            "lag": np.arange(nlags + 1),
            "acf": acf(values, nlags=nlags, fft=True),
            "pacf": pacf(values, nlags=nlags, method="ywm"),
            "bound": 1.96 / math.sqrt(len(values)),
        }
    )


# ------------------------------------------------------------------ live mode
def preload() -> None:
    """Import the statsmodels parts that live mode, the quick forecast and the decomposition use (2 s cold).

    The page calls it on a background thread once per server, so the first live tick does not pay for it.
    """
    import statsmodels.tsa.exponential_smoothing.ets
    import statsmodels.tsa.seasonal
    import statsmodels.tsa.stattools  # noqa: F401


def quick_forecast(y: pd.Series, steps: int, *, coverage: float = 0.8, max_points: int = 400) -> pd.DataFrame:
    """A fast refit for live updates: ETS on the last ``max_points`` points (seasonal naive if ETS fails).

    Returns:
        Columns ds, yhat, yhat_lower, yhat_upper.
    """
    from engines.forecast.models import ets, seasonal_naive

    if steps < 1:
        raise InputError("Forecast at least one step.")
    recent = y.iloc[-max_points:]
    if recent.index.freq is None:
        recent = recent.asfreq(y.index.freq or pd.infer_freq(y.index))
    shape = seasonality(recent.index.freqstr)
    ctx = FitContext(freq=recent.index.freqstr, season=shape.season, coverage=coverage)
    try:
        frame = ets(recent, steps, ctx)
    except (ValueError, np.linalg.LinAlgError):
        frame = seasonal_naive(recent, steps, ctx)
    if not np.isfinite(frame.to_numpy()).all():
        frame = seasonal_naive(recent, steps, ctx)
    return frame.rename_axis("ds").reset_index()


def continuation(y: pd.Series, n: int, *, seed: int = 0) -> pd.Series:
    """``n`` made-up next points (seasonal naive plus noise the size of the recent changes), seeded."""
    rng = np.random.default_rng(seed)
    shape = seasonality(y.index.freqstr)
    values = list(y.to_numpy(float))
    m = shape.season if len(values) > shape.season else 1
    noise = float(np.std(np.diff(values[-200:]))) if len(values) > 2 else 0.0
    for _ in range(n):
        values.append(values[-m] + rng.normal(0, noise * 0.5))
    index = pd.date_range(y.index[-1], periods=n + 1, freq=y.index.freq)[1:]
    return pd.Series(values[len(y) :], index=index, name=y.name)


def kpis(history: pd.Series, forecast: pd.DataFrame) -> dict[str, float]:
    """Numbers for the KPI tiles.

    Returns:
        next (first forecast value), last (last observed value), growth (end of the forecast versus the
        same span of history before it, as a fraction), uncertainty (mean interval width over mean forecast).
    """
    if forecast.empty:
        raise InputError("The forecast is empty.")
    steps = len(forecast)
    last = float(history.iloc[-1])
    recent = float(history.iloc[-steps:].mean())
    ahead = float(forecast["yhat"].mean())
    width = float((forecast["yhat_upper"] - forecast["yhat_lower"]).mean())
    return {
        "next": float(forecast["yhat"].iloc[0]),
        "last": last,
        "growth": (ahead - recent) / abs(recent) if recent else float("nan"),
        "uncertainty": width / abs(ahead) if ahead else float("nan"),
    }
