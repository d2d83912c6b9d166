"""Turn an uploaded table into one regular time series, and say what was done to it.

Shared by the time-series demos (forecasting, anomaly monitor). A user's CSV arrives as
strings (see :func:`engines.core.uploads.read_table`); :func:`to_series` picks a date and a
value column, parses both, aggregates duplicated timestamps, infers the frequency, resamples
to a regular index, fills gaps, downsamples very long series, and returns a
:class:`SeriesReport` whose ``notes`` the page shows. Every problem a user can fix raises
:class:`InputError` with what to fix.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from engines.core.errors import InputError
from engines.core.uploads import TableUpload, read_table

MAX_ROWS = 2_000_000  # rows read from an upload (25 MB holds about 1M short rows)
MAX_POINTS = 20_000  # a longer series is downsampled: charts and fits stay fast on 2 CPUs
MIN_POINTS = 10  # fewer dated values than this is not a series anyone can model
MAX_FILLED_SHARE = 0.9  # above this share of interpolated periods, the dates are wrong, not the data
MIXED_PARSE_ROWS = 200_000  # the slow per-value date parser is only tried on tables up to this size
SAMPLE = 500  # values inspected when guessing columns
Agg = Literal["mean", "sum", "median", "min", "max", "last", "first"]
AGGS: tuple[str, ...] = ("mean", "sum", "median", "min", "max", "last", "first")
DATE_NAMES = ("ds", "date", "datetime", "timestamp", "time", "period", "month", "day", "week")
VALUE_NAMES = ("y", "value", "values", "sales", "count", "amount", "traffic", "visits", "close", "price")
_NUMBER_JUNK = re.compile(r"^[$£€]|,|%$")


@dataclass(frozen=True)
class SeriesReport:
    """What :func:`to_series` found and changed.

    Attributes:
        rows_in: Rows of the table.
        points: Points of the returned regular series.
        date_column: Column read as dates.
        value_column: Column read as values.
        freq: Pandas frequency alias of the returned series ("D", "MS", "5min", ...).
        freq_label: The frequency in words ("daily", "every 5 minutes", ...).
        duplicates: Rows whose timestamp repeated an earlier row's (aggregated with ``agg``).
        gaps_filled: Periods with no value, filled by time interpolation.
        unparsed_dates: Non-empty dates that could not be read (rows skipped).
        non_numeric: Non-empty values that are not numbers (rows skipped).
        missing_values: Rows with an empty value (skipped; their period is filled if needed).
        downsampled_from: The frequency before downsampling, or None.
        constant: True when every value is the same.
        notes: Sentences for the page, one per thing worth telling.
        filled: One flag per point of the series: True where no value fell in the period and it was interpolated.
    """

    rows_in: int
    points: int
    date_column: str
    value_column: str
    freq: str
    freq_label: str
    duplicates: int = 0
    gaps_filled: int = 0
    unparsed_dates: int = 0
    non_numeric: int = 0
    missing_values: int = 0
    downsampled_from: str | None = None
    constant: bool = False
    notes: tuple[str, ...] = ()
    filled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), compare=False, repr=False)


def read_series_table(data: bytes, filename: str) -> TableUpload:
    """Read an uploaded CSV/TSV of dated values safely (no pickle, nothing written to disk).

    Raises:
        InputError: for a file that is not a readable CSV/TSV (empty, binary, not UTF-8, ...).
    """
    if not filename.lower().endswith((".csv", ".tsv")):
        raise InputError(
            f"`{filename}` is not a .csv or .tsv file. Upload a table with a date column and a value column."
        )
    return read_table(
        data, filename, max_rows=MAX_ROWS, preferred_columns=(), expected="a CSV with a date column and a value column"
    )


def _blank(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.isna() | text.eq("") | text.str.lower().isin({"na", "n/a", "nan", "null", "none", "-", "?"})


def _numbers(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.replace(_NUMBER_JUNK, "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _dates(values: pd.Series) -> pd.Series:
    """Parse dates; naive results, timezone-aware inputs converted to UTC."""
    text = values.astype("string").str.strip()
    with warnings.catch_warnings():  # "could not infer format": the fallback below is the answer
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", utc=True)
        present = ~_blank(values)
        if parsed[present].isna().mean() > 0.1 and len(values) <= MIXED_PARSE_ROWS:
            mixed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
            if mixed.notna().sum() > parsed.notna().sum():
                parsed = mixed
    return parsed.dt.tz_convert(None)


def _looks_numeric(values: pd.Series) -> bool:
    present = values[~_blank(values)]
    return not present.empty and _numbers(present).notna().mean() >= 0.95


def guess_columns(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The most likely date column and numeric value column of a table of strings.

    A column named like a date (ds, date, timestamp, ...) wins when its values parse; otherwise
    the first column whose values mostly parse as dates and are not plain numbers. The value
    column is the first numeric column (a conventional name such as ``y`` or ``value`` wins).
    """
    head = frame.head(SAMPLE)
    columns = [str(c) for c in frame.columns]
    numeric = [c for c in columns if _looks_numeric(head[c])]

    def date_share(column: str) -> float:
        present = head[column][~_blank(head[column])]
        return 0.0 if present.empty else float(_dates(present).notna().mean())

    named = [c for c in columns if c.strip().lower() in DATE_NAMES and date_share(c) >= 0.8]
    others = [c for c in columns if c not in numeric and date_share(c) >= 0.8]
    date = (named or others or [None])[0]
    values = [c for c in numeric if c != date]
    preferred = [c for c in values if c.strip().lower() in VALUE_NAMES]
    return date, (preferred or values or [None])[0]


def pick_columns(
    frame: pd.DataFrame, filename: str, date_column: str | None = None, value_column: str | None = None
) -> tuple[str, str]:
    """The date and value columns of an upload: the ones given, else :func:`guess_columns`'s guesses.

    Raises:
        InputError: when no column of dates or no numeric column can be found.
    """
    guessed_date, guessed_value = guess_columns(frame)
    date_column = date_column or guessed_date
    value_column = value_column or guessed_value
    if date_column is None:
        raise InputError(
            f"`{filename}` has no column of dates. Add one with dates such as 2024-01-31 or 2024-01-31 12:00."
        )
    if value_column is None:
        raise InputError(f"`{filename}` has no numeric column. Add a column of plain numbers such as 1234.5.")
    return date_column, value_column


_UNIT_WORDS = {"s": "second", "min": "minute", "h": "hour", "D": "day", "W": "week", "MS": "month", "ME": "month"}


def frequency_label(freq: str) -> str:
    """A pandas alias in words: "D" -> "daily", "5min" -> "every 5 minutes", "MS" -> "monthly"."""
    offset = to_offset(freq)
    base = offset.base.freqstr.split("-")[0]
    named = {"D": "daily", "h": "hourly", "min": "every minute", "s": "every second", "W": "weekly"}
    named |= {"MS": "monthly", "ME": "monthly", "QS": "quarterly", "QE": "quarterly", "YS": "yearly", "YE": "yearly"}
    if offset.n == 1 and base in named:
        return named[base]
    word = _UNIT_WORDS.get(base, base)
    return f"every {offset.n} {word}s" if offset.n != 1 else f"every {word}"


def _seconds_alias(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "h" if hours == 1 else f"{hours}h"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "min" if minutes == 1 else f"{minutes}min"
    return "s" if seconds == 1 else f"{seconds}s"


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """The pandas alias that best describes a sorted, duplicate-free index.

    Exact for a regular index (``pd.infer_freq``); otherwise from the median step: calendar
    months, quarters and years become month/quarter/year starts (or ends when the dates are
    month ends), a week keeps its weekday anchor, anything else becomes whole seconds.

    Raises:
        InputError: when there are fewer than two timestamps.
    """
    if len(index) < 2:
        raise InputError("At least two distinct timestamps are needed to tell the frequency.")
    if len(index) >= 3:
        with pd.option_context("future.infer_freq_returns_offset", True):
            exact = pd.infer_freq(index)
        if exact is not None:
            return exact.freqstr
    step = pd.Series(index).diff().dropna().median()
    days = step / pd.Timedelta(days=1)
    month_ends = bool(np.mean(index.is_month_end) > 0.8)
    if 27 <= days <= 32:
        return "ME" if month_ends else "MS"
    if 85 <= days <= 95:
        return "QE" if month_ends else "QS"
    if 360 <= days <= 370:
        return "YE" if month_ends else "YS"
    if 6.5 <= days <= 7.5:
        return f"W-{index[-1].day_name()[:3].upper()}"
    if 0.99 <= days <= 1.01:
        return "D"
    return _seconds_alias(step.total_seconds())


def period_length(freq: str) -> pd.Timedelta:
    """How long one period of a pandas alias lasts: exact for fixed ones ("D", "5min"), typical for calendar ones.

    Months, quarters, years and anchored weeks have no fixed length; they count as 30.44, 91.3, 365.25 and 7 days
    (any other calendar offset as a month).
    """
    offset = to_offset(freq)
    try:
        return pd.Timedelta(offset)
    except ValueError:
        approx = {"M": 30.44, "Q": 91.3, "Y": 365.25, "W": 7.0}
        days = next((v for k, v in approx.items() if offset.base.freqstr.startswith(k)), 30.44) * offset.n
        return pd.Timedelta(days=days)


def _expected_periods(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> int:
    return int((end - start) / period_length(freq)) + 1


def _coarser(freq: str, factor: int) -> str:
    offset = to_offset(freq)
    return (offset * factor).freqstr if factor > 1 else offset.freqstr


def to_series(
    frame: pd.DataFrame,
    date_column: str,
    value_column: str,
    *,
    freq: str | None = None,
    agg: Agg = "mean",
    max_points: int = MAX_POINTS,
    min_points: int = MIN_POINTS,
) -> tuple[pd.Series, SeriesReport]:
    """One regular series from two columns of a table.

    Args:
        frame: The table (strings or already-typed columns).
        date_column: Column holding dates or timestamps.
        value_column: Column holding numbers.
        freq: Resample to this pandas alias ("D", "W", "MS", "h", ...); None infers it.
        agg: How values that fall in one period (duplicates, or a coarser ``freq``) are combined.
        max_points: Longer series are downsampled (resampled to a coarser period) to this many points.
        min_points: Fewer dated values than this raise InputError.

    Returns:
        The series (float, a regular DatetimeIndex named ``ds``, named after the value column) and its report.

    Raises:
        InputError: unknown columns, no readable dates, values that are not numbers, too few
            points, an unknown ``freq`` or ``agg``, or dates spread so far apart that the series
            would be mostly invented.
    """
    if agg not in AGGS:
        raise InputError(f"Unknown aggregation {agg!r}; choose one of {', '.join(AGGS)}.")
    for column, role in ((date_column, "date"), (value_column, "value")):
        if column not in frame.columns:
            raise InputError(
                f"There is no column {column!r} for the {role}s. Columns: {', '.join(map(str, frame.columns))}."
            )
    if date_column == value_column:
        raise InputError("Pick two different columns: one with dates and one with the values.")
    rows_in = len(frame)
    raw_dates, raw_values = frame[date_column], frame[value_column]
    dates = raw_dates if pd.api.types.is_datetime64_any_dtype(raw_dates) else _dates(raw_dates)
    values = raw_values.astype(float) if pd.api.types.is_numeric_dtype(raw_values) else _numbers(raw_values)
    date_blank, value_blank = _blank(raw_dates), _blank(raw_values)
    bad_dates = dates.isna() & ~date_blank
    bad_values = values.isna() & ~value_blank
    if dates.notna().sum() == 0 or bad_dates.sum() > 0.5 * max(1, (~date_blank).sum()):
        example = raw_dates[bad_dates].iloc[0] if bad_dates.any() else ""
        raise InputError(
            f"Column `{date_column}` does not hold dates"
            + (f" (for example {str(example)[:40]!r} is not a date)" if example != "" else "")
            + ". Pick the column with dates such as 2024-01-31 or 2024-01-31 13:45."
        )
    if values.notna().sum() == 0 or bad_values.sum() > 0.5 * max(1, (~value_blank).sum()):
        example = raw_values[bad_values].iloc[0] if bad_values.any() else ""
        raise InputError(
            f"Column `{value_column}` does not hold numbers"
            + (f" (for example {str(example)[:40]!r})" if example != "" else "")
            + ". Pick a numeric column, or clean the file so the values are plain numbers like 1234.5."
        )
    finite = np.isfinite(values)
    keep = dates.notna() & finite
    data = pd.Series(values[keep].to_numpy(dtype=float), index=pd.DatetimeIndex(dates[keep]), name=str(value_column))
    data = data.sort_index()
    distinct = data.index.nunique()
    if distinct < min_points:
        raise InputError(
            f"Only {distinct} point(s) have both a date and a number; at least {min_points} are needed. "
            "Upload a longer series."
        )
    duplicates = int(data.index.duplicated().sum())
    if duplicates:
        data = data.groupby(level=0).agg(agg)
    inferred = infer_frequency(data.index)
    target = freq or inferred
    try:
        to_offset(target)
    except ValueError as exc:
        raise InputError(f"Unknown frequency {target!r}; use a pandas alias such as D, W, MS, h or 5min.") from exc
    periods = _expected_periods(data.index[0], data.index[-1], target)
    downsampled_from = None
    if periods > max_points:
        factor = math.ceil(periods / max_points)
        downsampled_from, target = target, _coarser(target, factor)
    binned = data.resample(target).agg(agg)
    if agg in ("sum",):  # a sum over an empty bin is 0, not missing
        counts = data.resample(target).count()
        binned = binned.where(counts > 0)
    filled = binned.isna().to_numpy()
    gaps = int(filled.sum())
    if gaps > MAX_FILLED_SHARE * len(binned):
        raise InputError(
            f"The dates run from {data.index[0]:%Y-%m-%d} to {data.index[-1]:%Y-%m-%d} but only {len(data):,} of "
            f"{len(binned):,} {frequency_label(target)} periods have a value. Check for a stray date, or pick a coarser frequency."
        )
    series = binned.interpolate(method="time").ffill().bfill() if gaps else binned
    series.index.name = "ds"
    series.name = str(value_column)
    label = frequency_label(target)
    notes = [f"Frequency: {label} ({'inferred from the dates' if freq is None else 'chosen'}), {len(series):,} points."]
    if bad_dates.sum():
        notes.append(f"{int(bad_dates.sum()):,} row(s) with a date that could not be read were skipped.")
    if bad_values.sum():
        notes.append(f"{int(bad_values.sum()):,} row(s) whose value is not a number were skipped.")
    missing = int((value_blank & dates.notna()).sum())
    if missing:
        notes.append(f"{missing:,} row(s) had no value.")
    if duplicates:
        notes.append(f"{duplicates:,} duplicated timestamp(s) were combined ({agg}).")
    if downsampled_from:
        notes.append(
            f"The series spans {periods:,} {frequency_label(downsampled_from)} periods; it was downsampled to "
            f"{label} ({agg}) so that charts and models stay fast."
        )
    if gaps:
        notes.append(f"{gaps:,} missing period(s) were filled by time interpolation.")
    constant = bool(series.nunique() <= 1)
    if constant:
        notes.append(f"Every value is {series.iloc[0]:g}: the series is constant.")
    report = SeriesReport(
        rows_in=rows_in,
        points=len(series),
        date_column=str(date_column),
        value_column=str(value_column),
        freq=target,
        freq_label=label,
        duplicates=duplicates,
        gaps_filled=gaps,
        unparsed_dates=int(bad_dates.sum()),
        non_numeric=int(bad_values.sum()),
        missing_values=missing,
        downsampled_from=downsampled_from,
        constant=constant,
        notes=tuple(notes),
        filled=filled,
    )
    return series.astype(float), report
