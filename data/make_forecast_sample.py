"""Write the forecasting demo's two made-up series (seeded): daily web traffic and monthly store sales.

They stand in for Prophet's example series when those are not available offline, and are
labelled as samples on the page. Run: ``python data/make_forecast_sample.py``.

- ``forecast_traffic_sample.csv``: 3 years of daily visits with a growing trend, a weekly
  cycle (quiet weekends), a yearly cycle, holiday dips (US holidays), a few launch spikes,
  noise, a handful of missing days and one duplicated day (to show the cleaning report).
- ``forecast_sales_sample.csv``: 12 years of monthly store sales with a trend and a yearly
  pattern that grows with the level (multiplicative, like air passengers and retail sales).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 7


def traffic(rng: np.random.Generator) -> pd.DataFrame:
    """Daily web traffic, 2021-2023."""
    import holidays

    ds = pd.date_range("2021-01-01", "2023-12-31", freq="D")
    t = np.arange(len(ds))
    weekly = np.array([0.08, 0.1, 0.1, 0.08, 0.02, -0.18, -0.2])[ds.day_of_week]
    yearly = 0.12 * np.sin(2 * np.pi * (ds.day_of_year - 80) / 365.25) + 0.05 * np.cos(
        4 * np.pi * ds.day_of_year / 365.25
    )
    us = holidays.US(years=range(2021, 2024))
    holiday = np.array([-0.25 if d in us else 0.0 for d in ds.date])
    launches = np.zeros(len(ds))
    for day in ("2021-09-14", "2022-09-13", "2023-09-12"):
        i = ds.get_loc(pd.Timestamp(day))
        launches[i : i + 3] += [0.6, 0.3, 0.1]
    log_visits = 8.0 + 0.0004 * t + weekly + yearly + holiday + launches + rng.normal(0, 0.05, len(ds))
    frame = pd.DataFrame({"ds": ds.strftime("%Y-%m-%d"), "y": np.round(np.exp(log_visits)).astype(int)})
    frame = frame.drop(index=rng.choice(len(frame), 8, replace=False))  # missing days
    duplicate = frame.iloc[[100]].assign(y=frame.iloc[100]["y"] + 40)
    return pd.concat([frame, duplicate]).sort_values("ds", kind="mergesort").reset_index(drop=True)


def sales(rng: np.random.Generator) -> pd.DataFrame:
    """Monthly store sales, 2012-2023."""
    ds = pd.date_range("2012-01-01", "2023-12-01", freq="MS")
    t = np.arange(len(ds))
    season = np.array([0.85, 0.82, 0.95, 0.97, 1.0, 1.02, 1.05, 1.04, 0.98, 1.0, 1.1, 1.32])[ds.month - 1]
    level = 120_000 * np.exp(0.006 * t)
    noise = np.exp(rng.normal(0, 0.02, len(ds)))
    return pd.DataFrame({"ds": ds.strftime("%Y-%m-%d"), "y": np.round(level * season * noise, -1).astype(int)})


def main() -> None:
    """Write both files next to this script."""
    rng = np.random.default_rng(SEED)
    traffic(rng).to_csv(HERE / "forecast_traffic_sample.csv", index=False)
    sales(rng).to_csv(HERE / "forecast_sales_sample.csv", index=False)


if __name__ == "__main__":
    main()
