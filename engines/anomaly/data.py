"""Series with labelled anomaly windows: NAB realKnownCause, a generator with known ground truth, user CSVs.

NAB is resolved offline first (local data directory -> cache -> download from numenta/NAB on
GitHub); without it, the page and tests fall back to generated series whose injected anomalies
are the labels.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from engines.anomaly.detectors import OnlineConfig, season_points
from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, resolve_dataset
from engines.core.errors import InputError, SourceError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress

NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"  # the commit ../shared/data was copied from (SOURCE.md)
NAB_RAW = f"https://raw.githubusercontent.com/numenta/NAB/{NAB_COMMIT}"
NAB_SERIES = (
    "ambient_temperature_system_failure",
    "cpu_utilization_asg_misconfiguration",
    "ec2_request_latency_system_failure",
    "machine_temperature_system_failure",
    "nyc_taxi",
    "rogue_agent_key_hold",
    "rogue_agent_key_updown",
)
WINDOWS_FILE = "labels/combined_windows.json"
# No sha256 pinned: the local copy cannot be checked against the publisher's bytes here.
NAB = DatasetSpec(
    name="nab-realKnownCause",
    title="Numenta Anomaly Benchmark, realKnownCause",
    files={**{f"data/{s}.csv": None for s in NAB_SERIES}, WINDOWS_FILE: None},
    remote={
        **{f"data/{s}.csv": RemoteFile(f"{NAB_RAW}/data/realKnownCause/{s}.csv") for s in NAB_SERIES},
        WINDOWS_FILE: RemoteFile(f"{NAB_RAW}/{WINDOWS_FILE}"),
    },
    sample=None,  # the generator below stands in (see load_corpus)
    citation="Lavin & Ahmad, Evaluating Real-time Anomaly Detection Algorithms - the Numenta Anomaly Benchmark, IEEE ICMLA 2015.",
    licence="NAB: MIT-style licence (Numenta); NYC taxi data from NYC TLC",
    homepage="https://github.com/numenta/NAB",
)
GENERATOR_VERSION = 1  # bump when generate_series changes, so results computed on the old series are not reused
MAX_POINTS = 50_000  # longer series are downsampled by block means before detection (a notice says so)
MIN_POINTS = 3
# An upload shorter than this is refused: the online detector spends its first `warmup` points learning what
# normal looks like, and a series must leave as many again to be scored.
MIN_UPLOAD_POINTS = 2 * OnlineConfig().warmup


class AnomalyKind(StrEnum):
    """What the generator injects."""

    SPIKE = "spike"
    LEVEL_SHIFT = "level shift"
    DRIFT = "drift"
    SEASONAL_BREAK = "seasonal break"


@dataclass(frozen=True)
class LabelledSeries:
    """A series and its anomaly windows.

    Attributes:
        name: Short name.
        values: Float values with a DatetimeIndex, in time order.
        windows: Labelled anomaly windows as inclusive (first, last) row indices.
        events: What was injected in each window (generated series only).
        season: Points per day (0 when unknown), for the seasonal detectors.
        notes: Sentences for the page (downsampling, ...).
    """

    name: str
    values: pd.Series
    windows: tuple[tuple[int, int], ...] = ()
    events: tuple[str, ...] = ()
    season: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def has_labels(self) -> bool:
        """True when windows are known."""
        return bool(self.windows)


@dataclass(frozen=True)
class GeneratorConfig:
    """A synthetic metric with injected anomalies.

    Attributes:
        n: Points.
        freq: Pandas frequency of the timestamps.
        kinds: Anomaly kinds to inject (cycled).
        n_anomalies: How many anomalies.
        noise: Noise standard deviation (the daily cycle has amplitude 10).
        seed: Random seed.
    """

    n: int = 2880  # 120 days of hourly points
    freq: str = "h"  # hourly, like a business metric
    kinds: tuple[AnomalyKind, ...] = tuple(AnomalyKind)  # one of each by default
    n_anomalies: int = 4  # one of each kind
    noise: float = 1.0  # signal-to-noise 10:1
    seed: int = 0  # fixed: the same config gives the same series

    def __post_init__(self) -> None:
        if not 200 <= self.n <= MAX_POINTS:
            raise InputError(f"n must be between 200 and {MAX_POINTS:,} points.")
        if not self.kinds or any(k not in set(AnomalyKind) for k in self.kinds):
            raise InputError(f"kinds must be some of: {', '.join(AnomalyKind)}.")
        if not 1 <= self.n_anomalies <= 12 or self.noise < 0:
            raise InputError("n_anomalies must be 1..12 and noise >= 0.")


PRESETS: dict[str, GeneratorConfig] = {
    "Mixed (one of each kind)": GeneratorConfig(),
    "Spikes only": GeneratorConfig(kinds=(AnomalyKind.SPIKE,), n_anomalies=5, seed=1),
    "Level shifts and drifts": GeneratorConfig(kinds=(AnomalyKind.LEVEL_SHIFT, AnomalyKind.DRIFT), seed=2),
    "Noisy metric": GeneratorConfig(noise=2.5, seed=3),
}


def generate_series(config: GeneratorConfig | None = None, name: str = "generated") -> LabelledSeries:
    """A daily-seasonal metric with injected anomalies; the windows are the ground truth.

    Each anomaly gets a NAB-style window: 10% of the series split among the anomalies,
    starting a little before the injection.
    """
    c = config or GeneratorConfig()
    rng = np.random.default_rng(c.seed)
    index = pd.date_range("2024-01-01", periods=c.n, freq=c.freq)
    per_day = season_points(index) or 24
    t = np.arange(c.n)
    x = 50 + 10 * np.sin(2 * np.pi * t / per_day) + 0.002 * t + rng.normal(0, c.noise, c.n)
    width = max(4, int(0.1 * c.n / c.n_anomalies))
    start = int(0.2 * c.n)  # after NAB's probationary 15%
    slots = np.linspace(start, c.n - width - 1, c.n_anomalies + 1)[:-1].astype(int)
    windows, events = [], []
    for k, slot in enumerate(slots):
        kind = c.kinds[k % len(c.kinds)]
        at = int(slot + rng.integers(width // 4, width // 2))
        length = max(2, width // 3)
        if kind is AnomalyKind.SPIKE:
            x[at] += rng.choice([-1, 1]) * (6 + 2 * c.noise) * 2
            length = 1
        elif kind is AnomalyKind.LEVEL_SHIFT:
            x[at : at + length] += 15
        elif kind is AnomalyKind.DRIFT:
            x[at : at + length] += np.linspace(0, 25, len(x[at : at + length]))
        else:
            x[at : at + length] -= 20 * np.sin(2 * np.pi * t[at : at + length] / per_day)  # the daily cycle flips
        first = max(0, at - width // 4)
        windows.append((first, min(c.n - 1, first + width - 1)))
        events.append(f"{kind.value} at {index[at]:%Y-%m-%d %H:%M}")
    return LabelledSeries(name, pd.Series(x, index=index, name="value"), tuple(windows), tuple(events), per_day)


def generated_corpus() -> dict[str, LabelledSeries]:
    """The stand-in corpus: one generated series per preset."""
    return {name: generate_series(cfg, name) for name, cfg in PRESETS.items()}


def read_nab_series(path: Path, windows: list[list[str]], name: str) -> LabelledSeries:
    """One NAB CSV (timestamp,value) and its windows (timestamps) as row indices."""
    frame = pd.read_csv(path)
    if list(frame.columns[:2]) != ["timestamp", "value"]:
        raise SourceError(f"{path.name} does not have NAB's header 'timestamp,value'.")
    index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp"]))
    values = pd.Series(frame["value"].astype(float).to_numpy(), index=index, name="value")
    rows = []
    for first, last in windows:
        inside = np.flatnonzero((index >= pd.Timestamp(first)) & (index <= pd.Timestamp(last)))
        if len(inside):
            rows.append((int(inside[0]), int(inside[-1])))
    return LabelledSeries(name, values, tuple(rows), season=season_points(index))


@dataclass(frozen=True)
class Corpus:
    """Labelled series and where they came from.

    Attributes:
        series: Name -> labelled series.
        source: The resolved NAB dataset (provenance "bundled sample" for the generated stand-in).
    """

    series: dict[str, LabelledSeries]
    source: ResolvedDataset

    @property
    def is_nab(self) -> bool:
        """True when these are the real NAB series."""
        return not self.source.is_sample


def generated_sha256() -> str:
    """A checksum of the generated stand-in corpus: its generator's settings and version (the series follow)."""
    settings = {name: asdict(config) for name, config in PRESETS.items()}
    payload = json.dumps({"generator": GENERATOR_VERSION, "presets": settings}, sort_keys=True, default=str)
    return sha256_bytes(payload.encode())


def stand_in_corpus(notes: tuple[str, ...] = ()) -> Corpus:
    """The generated series that stand in for NAB offline (the data the shipped comparison was computed on)."""
    resolved = ResolvedDataset(NAB, "bundled sample", {}, generated_sha256(), tuple(notes))
    return Corpus(generated_corpus(), resolved)


def load_corpus(progress: Progress = null_progress) -> Corpus:
    """NAB realKnownCause when it can be found or downloaded, else the generated stand-in corpus."""
    try:
        resolved = resolve_dataset(NAB, progress)
    except SourceError as exc:
        progress(1.0, "Using generated series")
        return stand_in_corpus((str(exc), "Generated series with injected anomalies stand in for NAB."))
    windows = json.loads(Path(resolved.paths[WINDOWS_FILE]).read_text())
    series = {
        s: read_nab_series(Path(resolved.paths[f"data/{s}.csv"]), windows.get(f"realKnownCause/{s}.csv", []), s)
        for s in NAB_SERIES
    }
    return Corpus(series, resolved)


def downsample(series: LabelledSeries, max_points: int = MAX_POINTS) -> LabelledSeries:
    """Block means down to at most ``max_points`` points (windows mapped to the new rows), with a note."""
    n = len(series.values)
    if n <= max_points:
        return series
    factor = -(-n // max_points)
    m = n // factor
    values = series.values.to_numpy(dtype=float)[: m * factor].reshape(m, factor).mean(axis=1)
    index = series.values.index[: m * factor : factor]
    windows = tuple((a // factor, min(b // factor, m - 1)) for a, b in series.windows if a // factor < m)
    note = (
        f"The series has {n:,} points; it was downsampled to {m:,} by averaging blocks of {factor} points "
        "so detection and charts stay fast."
    )
    return LabelledSeries(
        series.name,
        pd.Series(values, index=index, name=series.values.name),
        windows,
        series.events,
        max(0, round(series.season / factor)),
        (*series.notes, note),
    )


def from_values(values: pd.Series, name: str = "your data", notes: tuple[str, ...] = ()) -> LabelledSeries:
    """A user's series (no labels), checked and downsampled when long.

    Raises:
        InputError: for fewer than 3 points, no DatetimeIndex, or non-finite values.
    """
    if not isinstance(values.index, pd.DatetimeIndex):
        raise InputError("The series needs dates as its index; pick the date column of your table.")
    if len(values) < MIN_POINTS:
        raise InputError(f"The series has {len(values)} point(s); at least {MIN_POINTS} are needed.")
    x = pd.to_numeric(values, errors="coerce").astype(float)
    if not np.isfinite(x.to_numpy()).all():
        raise InputError("The series has missing or non-numeric values; fill or drop them first.")
    notes = tuple(notes)
    if x.nunique() == 1:
        notes += ("Every value is the same: nothing can stand out, so no anomaly is flagged.",)
    return downsample(LabelledSeries(name, x.sort_index(), season=season_points(x.index), notes=notes))


def read_user_csv(data: bytes, filename: str, date_column: str | None = None, value_column: str | None = None):
    """A user's CSV as a :class:`LabelledSeries` plus the shared time-series report.

    Uses :mod:`engines.core.timeseries` (dates parsed, duplicates averaged, gaps filled,
    long series downsampled with a notice).

    Raises:
        InputError: when no date or numeric column is found, or the series is too short.
    """
    from engines.core import timeseries as ts

    table = ts.read_series_table(data, filename)
    date_column, value_column = ts.pick_columns(table.frame, filename, date_column, value_column)
    values, report = ts.to_series(table.frame, date_column, value_column, min_points=MIN_POINTS)
    if len(values) < MIN_UPLOAD_POINTS:
        raise InputError(
            f"`{filename}` gives {len(values)} {report.freq_label} point(s); at least {MIN_UPLOAD_POINTS} are needed: the "
            f"detector learns what normal looks like from the first {OnlineConfig().warmup} before it scores anything."
        )
    return from_values(values, filename, report.notes), report
