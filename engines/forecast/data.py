"""The series the forecasting demo knows, and the user's CSV, as regular time series with provenance.

Offline first: statsmodels' Mauna Loa CO2 and plotly's stock prices ship inside installed
packages; Prophet's example series are resolved through :func:`resolve_dataset` (local data
directory -> cache -> download from the facebook/prophet repository -> a bundled sample that
this project generated, labelled as such).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, bundled_sample, resolve_dataset
from engines.core.errors import InputError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress
from engines.core.timeseries import SeriesReport, read_series_table, to_series

ROOT = Path(__file__).resolve().parents[2]
PROPHET_COMMIT = (
    "181f4479878bea9234973e0fdfd46403657fed34"  # the commit ../shared/data/prophet-examples was copied from
)
PROPHET_RAW = f"https://raw.githubusercontent.com/facebook/prophet/{PROPHET_COMMIT}/examples/"
TRAFFIC_SAMPLE = ROOT / "data" / "forecast_traffic_sample.csv"
SALES_SAMPLE = ROOT / "data" / "forecast_sales_sample.csv"
TICKERS = ("GOOG", "AAPL", "AMZN", "FB", "NFLX", "MSFT")


class Dataset(StrEnum):
    """The series of the demo; ``custom`` is a user's CSV."""

    PEYTON = "peyton_manning"
    AIR = "air_passengers"
    RETAIL = "retail_sales"
    CO2 = "co2"
    STOCKS = "stocks"
    CUSTOM = "custom"


def _prophet_spec(file: str, title: str, sha: str, sample: Path, citation: str) -> DatasetSpec:
    return DatasetSpec(
        name="prophet-examples",
        title=title,
        files={file: sha},
        remote={file: RemoteFile(PROPHET_RAW + file)},
        sample=sample,
        citation=citation,
        licence="MIT (facebook/prophet examples)",
        homepage="https://github.com/facebook/prophet/tree/main/examples",
    )


# sha256 of the publisher's files (the shared copy is byte-for-byte upstream: CR-only line endings kept).
SPECS = {
    Dataset.PEYTON: _prophet_spec(
        "example_wp_log_peyton_manning.csv",
        "Peyton Manning Wikipedia page views, log, daily 2007-2016 (Prophet's quick-start series)",
        "6b1383a6f458e317c5da0488abaf2cadccd7e80c84c7a543d084e1159d5bfa56",
        TRAFFIC_SAMPLE,
        "Taylor, S.J. and Letham, B. Forecasting at scale. The American Statistician 72(1), 2018.",
    ),
    Dataset.AIR: _prophet_spec(
        "example_air_passengers.csv",
        "Airline passengers, monthly 1949-1960 (Box & Jenkins)",
        "062d172e9b4f694dd798f4a3d41316a930c8c6bfd244bd6082193f6d6653a213",
        SALES_SAMPLE,
        "Box, G.E.P., Jenkins, G.M. and Reinsel, G.C. Time Series Analysis, Forecasting and Control. 1976.",
    ),
    Dataset.RETAIL: _prophet_spec(
        "example_retail_sales.csv",
        "US retail sales, monthly 1992-2016 (US Census Bureau)",
        "6556f0683b78362c4bc4390b8feb66870beecd7189cc052e650ccac9b21cd65c",
        SALES_SAMPLE,
        "U.S. Census Bureau, Monthly Retail Trade Survey.",
    ),
}
TITLES = {
    Dataset.PEYTON: "Peyton Manning page views (daily)",
    Dataset.AIR: "Air passengers (monthly)",
    Dataset.RETAIL: "Retail sales (monthly)",
    Dataset.CO2: "Mauna Loa CO2 (weekly)",
    Dataset.STOCKS: "Stock prices (weekly)",
    Dataset.CUSTOM: "Your CSV",
}
# Prophet's documentation adds these NFL events as holidays for the Peyton Manning series.
NFL_PLAYOFFS = (
    "2008-01-13", "2009-01-03", "2010-01-16", "2010-01-24", "2010-02-07", "2011-01-08", "2013-01-12",
    "2014-01-12", "2014-01-19", "2014-02-02", "2015-01-11", "2016-01-17", "2016-01-24", "2016-02-07",
)  # fmt: skip
SUPERBOWLS = ("2010-02-07", "2014-02-02", "2016-02-07")


def nfl_holidays() -> pd.DataFrame:
    """Playoff and Super Bowl dates as Prophet holidays (from Prophet's documentation)."""
    frames = [
        pd.DataFrame({"holiday": name, "ds": pd.to_datetime(list(dates)), "lower_window": 0, "upper_window": 1})
        for name, dates in (("playoff", NFL_PLAYOFFS), ("superbowl", SUPERBOWLS))
    ]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class SeriesData:
    """One regular series and everything the page says about it.

    Attributes:
        dataset: Which dataset.
        title: Human name of the data actually used (a sample says so).
        y: Values on a regular DatetimeIndex with a frequency.
        observed: True where the value was in the source (False: filled by interpolation).
        report: What was cleaned (frequency, gaps, duplicates, downsampling).
        provenance: package dataset, local copy, cache, downloaded, bundled sample, user upload.
        sha256: Checksum of the values, for cache keys.
        resolved: The resolved dataset (Prophet examples), or None.
        holidays: Extra events of this series for Prophet, or None.
        citation: How to cite the data.
        licence: Licence in a few words.
        homepage: Where to read about it.
        unit: What ``y`` measures.
    """

    dataset: Dataset
    title: str
    y: pd.Series
    observed: np.ndarray
    report: SeriesReport
    provenance: str
    sha256: str
    resolved: ResolvedDataset | None = None
    holidays: pd.DataFrame | None = field(default=None, compare=False)
    citation: str = ""
    licence: str = ""
    homepage: str = ""
    unit: str = ""

    @property
    def is_sample(self) -> bool:
        """True when a bundled sample stands in for the real data."""
        return self.provenance == "bundled sample"

    @property
    def notes(self) -> tuple[str, ...]:
        """What was cleaned, in sentences for the page."""
        return self.report.notes


def _checksum(y: pd.Series) -> str:
    payload = y.index.asi8.tobytes() + np.ascontiguousarray(y.to_numpy(float)).tobytes()
    return sha256_bytes(payload + str(y.index.freqstr).encode())


def series_from_frame(
    frame: pd.DataFrame,
    date_column: str,
    value_column: str,
    *,
    dataset: Dataset = Dataset.CUSTOM,
    title: str = "Your CSV",
    provenance: str = "user upload",
    freq: str | None = None,
    **extra,
) -> SeriesData:
    """A table -> a regular series (via :func:`engines.core.timeseries.to_series`) with its report.

    Raises:
        InputError: no dates, values that are not numbers, too few points (see ``to_series``).
    """
    y, report = to_series(frame, date_column, value_column, freq=freq)
    y.index.freq = pd.tseries.frequencies.to_offset(report.freq)
    return SeriesData(dataset, title, y, ~report.filled, report, provenance, _checksum(y), **extra)


def series_from_upload(
    data: bytes, filename: str, date_column: str | None = None, value_column: str | None = None
) -> SeriesData:
    """A user's CSV -> a regular series; columns are guessed when not given.

    Raises:
        InputError: an unreadable file, no date or numeric column, or a series that cannot be used.
    """
    from engines.core.timeseries import pick_columns

    table = read_series_table(data, filename)
    date_column, value_column = pick_columns(table.frame, filename, date_column, value_column)
    return series_from_frame(table.frame, date_column, value_column, title=f"Your CSV `{filename}`")


def load_series(dataset: Dataset | str, *, ticker: str = "GOOG", progress: Progress = null_progress) -> SeriesData:
    """One of the demo's series, resolved offline first.

    Args:
        dataset: Which series (not ``custom``: use :func:`series_from_upload`).
        ticker: The stock for ``stocks`` (one of TICKERS).
        progress: Download progress; ends at 1.0.

    Raises:
        InputError: an unknown dataset or ticker.
    """
    try:
        dataset = Dataset(dataset)
    except ValueError:
        valid = ", ".join(d.value for d in Dataset if d is not Dataset.CUSTOM)
        raise InputError(f"Unknown dataset {dataset!r}; choose one of {valid}.") from None
    if dataset is Dataset.CO2:
        from statsmodels.datasets import co2

        raw = co2.load_pandas().data
        frame = pd.DataFrame({"ds": raw.index, "co2": raw["co2"].to_numpy()})
        progress(1.0, "Loaded the CO2 series from statsmodels")
        return series_from_frame(
            frame,
            "ds",
            "co2",
            dataset=dataset,
            title="Mauna Loa atmospheric CO2, weekly 1958-2001 (statsmodels)",
            provenance="package dataset (statsmodels)",
            citation="Keeling, C.D. and Whorf, T.P., Scripps Institution of Oceanography; via statsmodels.datasets.co2.",
            licence="public domain",
            homepage="https://www.statsmodels.org/stable/datasets/generated/co2.html",
            unit="CO2 (ppm)",
        )
    if dataset is Dataset.STOCKS:
        if ticker not in TICKERS:
            raise InputError(f"Unknown ticker {ticker!r}; choose one of {', '.join(TICKERS)}.")
        from plotly import data as plotly_data

        frame = plotly_data.stocks()
        progress(1.0, "Loaded the stock prices from plotly")
        return series_from_frame(
            frame,
            "date",
            ticker,
            dataset=dataset,
            title=f"{ticker} weekly closing price 2018-2019, relative to 1 Jan 2018 (plotly)",
            provenance="package dataset (plotly)",
            citation="plotly.express.data.stocks (Yahoo Finance prices).",
            licence="MIT (plotly)",
            homepage="https://plotly.com/python-api-reference/generated/plotly.express.data.html",
            unit="price relative to 2018-01-01",
        )
    if dataset is Dataset.CUSTOM:
        raise InputError("A custom series comes from an upload: use series_from_upload.")
    return _prophet_series(dataset, resolve_dataset(SPECS[dataset], progress))


def sample_series(dataset: Dataset | str, *, ticker: str = "GOOG") -> SeriesData:
    """The offline default of a series: the bundled sample of a Prophet example, else the package's data.

    The shipped forecasts are trained on these (never on the cache or a data directory).

    Raises:
        InputError: an unknown dataset or ticker.
    """
    if dataset not in SPECS:
        return load_series(dataset, ticker=ticker)  # a package's data (or an InputError naming the valid ones)
    return _prophet_series(Dataset(dataset), bundled_sample(SPECS[Dataset(dataset)]))


def _prophet_series(dataset: Dataset, resolved: ResolvedDataset) -> SeriesData:
    """One of Prophet's example series (or its bundled stand-in) as a regular series."""
    spec = SPECS[dataset]
    path = next(iter(resolved.paths.values()))
    frame = pd.read_csv(io.BytesIO(path.read_bytes()), dtype=str, keep_default_na=False)
    sample = resolved.is_sample
    title = (
        f"{'daily web traffic' if dataset is Dataset.PEYTON else 'monthly store sales'} sample (made up by this project)"
        if sample
        else spec.title
    )
    units = {Dataset.PEYTON: "log page views", Dataset.AIR: "passengers (thousands)", Dataset.RETAIL: "sales ($m)"}
    return series_from_frame(
        frame,
        "ds",
        "y",
        dataset=dataset,
        title=title,
        provenance=resolved.provenance,
        resolved=resolved,
        holidays=nfl_holidays() if dataset is Dataset.PEYTON and not sample else None,
        citation=spec.citation,
        licence=spec.licence,
        homepage=spec.homepage,
        unit="visits" if sample and dataset is Dataset.PEYTON else ("sales" if sample else units[dataset]),
    )
