"""The shared time-series upload reader: columns guessed, frequency inferred, gaps, duplicates, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engines.core.errors import InputError
from engines.core.timeseries import (
    frequency_label,
    guess_columns,
    infer_frequency,
    period_length,
    pick_columns,
    read_series_table,
    to_series,
)


def daily_csv(n: int = 60) -> bytes:
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    rows = [f"{d:%Y-%m-%d},{i * 1.5:.1f},shop" for i, d in enumerate(days)]
    return ("day,sales,store\n" + "\n".join(rows)).encode()


def test_a_clean_daily_csv_becomes_a_regular_series():
    table = read_series_table(daily_csv(), "sales.csv")
    date, value = guess_columns(table.frame)
    assert (date, value) == ("day", "sales")
    series, report = to_series(table.frame, date, value)
    assert len(series) == 60 and report.freq == "D" and report.freq_label == "daily"
    assert series.index.freq == "D" and series.index.name == "ds" and series.name == "sales"
    assert series.iloc[-1] == pytest.approx(59 * 1.5)
    assert report.gaps_filled == report.duplicates == report.unparsed_dates == 0
    assert not report.constant and report.notes[0].startswith("Frequency: daily (inferred")


def test_gaps_are_interpolated_and_duplicates_combined_and_both_reported():
    frame = pd.DataFrame(
        {
            "ds": [
                "2024-01-01",
                "2024-01-02",
                "2024-01-02",
                "2024-01-05",
                *pd.date_range("2024-01-06", periods=10).strftime("%Y-%m-%d"),
            ],
            "y": ["1", "2", "4", "9", *[str(10 + i) for i in range(10)]],
        }
    )
    series, report = to_series(frame, "ds", "y")
    assert report.duplicates == 1 and series["2024-01-02"] == 3.0  # mean of 2 and 4
    assert report.gaps_filled == 2  # the 3rd and 4th
    assert report.filled.tolist() == [False, False, True, True] + [False] * 11  # which points were invented
    assert series["2024-01-03"] == pytest.approx(5.0) and series["2024-01-04"] == pytest.approx(7.0)
    assert any("duplicated" in n for n in report.notes) and any("interpolation" in n for n in report.notes)
    summed, _ = to_series(frame, "ds", "y", agg="sum")
    assert summed["2024-01-02"] == 6.0


def test_monthly_weekly_and_sub_daily_frequencies_are_named():
    assert infer_frequency(pd.date_range("2020-01-01", periods=24, freq="MS")) == "MS"
    assert infer_frequency(pd.date_range("2020-01-31", periods=24, freq="ME")) == "ME"
    assert infer_frequency(pd.date_range("2020-01-04", periods=30, freq="W-SAT")) == "W-SAT"
    five = pd.date_range("2020-01-01", periods=50, freq="5min")
    assert infer_frequency(five.delete([3, 10])) == "5min"  # irregular: median step
    assert frequency_label("5min") == "every 5 minutes" and frequency_label("MS") == "monthly"
    assert frequency_label("h") == "hourly"
    assert period_length("5min") == pd.Timedelta(minutes=5) and period_length("W-SAT") == pd.Timedelta(days=7)
    assert period_length("MS") == pd.Timedelta(days=30.44) and period_length("2QS") == pd.Timedelta(days=182.6)
    # Mid-month dates on an irregular calendar step still read as monthly.
    mids = pd.DatetimeIndex(["2020-01-15", "2020-02-14", "2020-03-16", "2020-04-15", "2020-05-15"])
    assert infer_frequency(mids) == "MS"


def test_a_chosen_coarser_frequency_aggregates():
    frame = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=70, freq="D"), "y": np.arange(70.0)})
    weekly, report = to_series(frame, "ds", "y", freq="W-SUN", agg="sum")
    assert report.freq == "W-SUN" and "chosen" in report.notes[0]
    assert weekly.iloc[0] == sum(range(7))  # 2024-01-01 is a Monday: Mon..Sun


def test_a_million_rows_are_downsampled_with_a_notice():
    n = 1_000_000
    frame = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=n, freq="s"), "v": np.sin(np.arange(n) / 500.0)})
    series, report = to_series(frame, "ts", "v", max_points=20_000)
    assert report.downsampled_from == "s" and len(series) <= 20_000 and report.rows_in == n
    assert report.freq == "50s"
    assert any("downsampled" in n for n in report.notes)


def test_timezones_are_converted_to_utc():
    frame = pd.DataFrame(
        {"t": [f"2024-03-01T{h:02d}:00:00+02:00" for h in range(12)], "v": [str(h) for h in range(12)]}
    )
    series, report = to_series(frame, "t", "v")
    assert series.index[0] == pd.Timestamp("2024-02-29 22:00") and report.freq == "h"


def test_constant_series_is_reported_not_refused():
    frame = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=20).astype(str), "y": ["5"] * 20})
    _, report = to_series(frame, "ds", "y")
    assert report.constant and any("constant" in n for n in report.notes)


@pytest.mark.parametrize(
    ("frame", "date", "value", "message"),
    [
        (pd.DataFrame({"a": ["x", "y", "z"] * 5, "b": ["1"] * 15}), "a", "b", "does not hold dates"),
        (
            pd.DataFrame({"d": pd.date_range("2024-01-01", periods=15).astype(str), "v": ["high"] * 15}),
            "d",
            "v",
            "does not hold numbers",
        ),
        (
            pd.DataFrame({"d": ["2024-01-01", "2024-01-02", "2024-01-03"], "v": ["1", "2", "3"]}),
            "d",
            "v",
            "Only 3 point",
        ),
        (pd.DataFrame({"d": ["2024-01-01"], "v": ["1"]}), "d", "nope", "no column 'nope'"),
        (pd.DataFrame({"d": ["2024-01-01"], "v": ["1"]}), "d", "d", "two different columns"),
    ],
)
def test_bad_tables_say_what_to_fix(frame, date, value, message):
    with pytest.raises(InputError, match=message):
        to_series(frame, date, value)


def test_a_stray_date_does_not_explode_the_series():
    days = [*pd.date_range("2024-01-01", periods=30).strftime("%Y-%m-%d"), "1970-01-01"]
    frame = pd.DataFrame({"d": days, "v": [str(i) for i in range(31)]})
    with pytest.raises(InputError, match="stray date"):
        to_series(frame, "d", "v")


def test_unknown_frequency_and_aggregation_are_refused():
    frame = pd.DataFrame({"d": pd.date_range("2024-01-01", periods=20), "v": np.arange(20.0)})
    with pytest.raises(InputError, match="Unknown frequency"):
        to_series(frame, "d", "v", freq="fortnightly-ish")
    with pytest.raises(InputError, match="Unknown aggregation"):
        to_series(frame, "d", "v", agg="mode")  # type: ignore[arg-type]


def test_uploads_of_the_wrong_kind_are_refused():
    with pytest.raises(InputError, match=r"not a \.csv"):
        read_series_table(b"ds,y\n2024-01-01,1\n", "series.xlsx")
    with pytest.raises(InputError, match=r"is empty\. Upload a CSV with a date column and a value column"):
        read_series_table(b"", "series.csv")
    with pytest.raises(InputError, match="PDF"):
        read_series_table(b"%PDF-1.4 ...", "series.csv")


def test_numbers_with_currency_and_thousands_separators_are_read():
    frame = pd.DataFrame(
        {
            "month": pd.date_range("2023-01-01", periods=12, freq="MS").strftime("%Y-%m"),
            "revenue": [f"${1000 * (i + 1):,}" for i in range(12)],
        }
    )
    assert guess_columns(frame) == ("month", "revenue")
    series, report = to_series(frame, "month", "revenue")
    assert report.freq == "MS" and series.iloc[-1] == 12_000.0


def test_pick_columns_takes_the_given_ones_or_the_guesses_or_says_what_is_missing():
    frame = pd.DataFrame({"when": ["2024-01-01", "2024-01-02"], "a": ["1", "2"], "b": ["3", "4"]})
    assert pick_columns(frame, "f.csv") == ("when", "a")
    assert pick_columns(frame, "f.csv", value_column="b") == ("when", "b")
    with pytest.raises(InputError, match=r"`f\.csv` has no column of dates"):
        pick_columns(pd.DataFrame({"x": ["a", "b"], "y": ["1", "2"]}), "f.csv")
    with pytest.raises(InputError, match=r"`f\.csv` has no numeric column"):
        pick_columns(pd.DataFrame({"d": ["2024-01-01", "2024-01-02"], "y": ["lots", "few"]}), "f.csv")
