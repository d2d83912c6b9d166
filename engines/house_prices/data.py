"""House-price data: the two datasets, their parsers, feature engineering and the outlier rules."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, resolve_dataset
from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress

ROOT = Path(__file__).resolve().parents[2]
MIN_ROWS = 30  # fewer rows cannot be split into train, calibration and held-out parts


class Dataset(StrEnum):
    """The datasets the engine knows; ``custom`` is a user's table."""

    CALIFORNIA = "california"
    AMES = "ames"
    CUSTOM = "custom"


CALIFORNIA = DatasetSpec(
    name="california-housing",
    title="California housing, 1990 census block groups (Pace & Barry; handson-ml2 version, 20,640 rows)",
    files={"housing.csv": "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e"},
    remote={
        "housing.csv": RemoteFile(
            "https://raw.githubusercontent.com/ageron/handson-ml2/1e2115277b50f6c584cd668fa30e3af309a5b136/"
            "datasets/housing/housing.csv"
        )
    },
    sample=ROOT / "data" / "california_sample.csv",
    citation="Pace, R.K. and Barry, R. Sparse Spatial Autoregressions. Statistics & Probability Letters 33 (1997).",
    licence="public census data; handson-ml2 repository Apache-2.0",
    homepage="https://github.com/ageron/handson-ml2/tree/master/datasets/housing",
)
AMES = DatasetSpec(
    name="house-prices-ames",
    title="Ames, Iowa house sales 2006-2010 (De Cock, 2,930 sales)",
    files={"ames-decock/AmesHousing.csv": "9be4e178af290abcc41e82402e9eca2bd767f22aa148d155531fed4f7c5b55da"},
    remote={
        "ames-decock/AmesHousing.csv": RemoteFile(
            "https://raw.githubusercontent.com/Migs/AmesHousingData/f9cd74fe8777624a5433a005460bad539deca17d/"
            "AmesHousing.csv"
        )
    },
    sample=ROOT / "data" / "ames_sample.csv",
    citation=(
        "De Cock, D. Ames, Iowa: Alternative to the Boston Housing Data as an End of Semester Regression Project. "
        "Journal of Statistics Education 19(3), 2011."
    ),
    licence="offered for educational use (JSE)",
    homepage="https://jse.amstat.org/v19n3/decock.pdf",
)
SPECS = {Dataset.CALIFORNIA: CALIFORNIA, Dataset.AMES: AMES}
TARGETS = {Dataset.CALIFORNIA: "median_house_value", Dataset.AMES: "SalePrice"}
CALIFORNIA_COLUMNS = (
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
    "median_house_value",
    "ocean_proximity",
)
AMES_REQUIRED = ("Gr Liv Area", "Neighborhood", "Overall Qual", "Year Built", "SalePrice")
AMES_DROP = ("Order", "PID")
AMES_ORDINAL = (
    "Exter Qual",
    "Exter Cond",
    "Bsmt Qual",
    "Bsmt Cond",
    "Heating QC",
    "Kitchen Qual",
    "Fireplace Qu",
    "Garage Qual",
    "Garage Cond",
    "Pool QC",
)
GRADES = {"Ex": 5.0, "Gd": 4.0, "TA": 3.0, "Fa": 2.0, "Po": 1.0}
CITIES = {  # longitude, latitude: distances to the big job centres explain much of California's prices
    "Los Angeles": (-118.24, 34.05),
    "San Francisco": (-122.42, 37.77),
    "San Diego": (-117.16, 32.72),
    "San Jose": (-121.89, 37.34),
    "Sacramento": (-121.49, 38.58),
}
OCEAN = ("<1H OCEAN", "INLAND", "NEAR OCEAN", "NEAR BAY", "ISLAND")
DE_COCK_AREA = 4000.0  # De Cock (2011): drop the houses above 4,000 sq ft (3 partial sales, 2 odd ones)
CROWDED = 20.0  # people per household above this: a dormitory or barracks, not homes
ROOMY = 30.0  # rooms per household above this: resorts and holiday homes
ROBUST_Z = 5.0  # |robust z| of log price above this: a price far off every other sale


# ---------------------------------------------------------------- loading


def load_dataset(dataset: Dataset | str, progress: Progress = null_progress) -> tuple[ResolvedDataset, pd.DataFrame]:
    """Resolve one of the two datasets (or its bundled sample) and parse it."""
    dataset = Dataset(dataset)
    if dataset not in SPECS:
        raise InputError(f"{dataset.value!r} is not a bundled dataset; choose california or ames.")
    resolved = resolve_dataset(SPECS[dataset], progress)
    path = next(iter(resolved.paths.values()))
    return resolved, parse(dataset, path.read_bytes())


def parse(dataset: Dataset | str, data: bytes) -> pd.DataFrame:
    """Read a California or Ames CSV (the real file or the sample) and check its columns."""
    dataset = Dataset(dataset)
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"Could not read the {dataset.value} file as CSV: {exc}") from exc
    required = CALIFORNIA_COLUMNS if dataset is Dataset.CALIFORNIA else AMES_REQUIRED
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"The {dataset.value} file lacks the columns: {', '.join(missing)}.")
    frame = frame.drop(columns=[c for c in AMES_DROP if c in frame.columns])
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object)
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------- features


def california_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Per-household ratios, rotated coordinates and distances to the big cities."""
    lon, lat = raw["longitude"].astype(float), raw["latitude"].astype(float)
    households = raw["households"].astype(float).where(lambda s: s > 0)
    out = pd.DataFrame(index=raw.index)
    out["longitude"], out["latitude"] = lon, lat
    out["housing_median_age"] = raw["housing_median_age"].astype(float)
    out["median_income"] = raw["median_income"].astype(float)
    out["rooms_per_household"] = raw["total_rooms"].astype(float) / households
    out["bedrooms_per_room"] = raw["total_bedrooms"].astype(float) / raw["total_rooms"].astype(float).where(
        lambda s: s > 0
    )
    out["people_per_household"] = raw["population"].astype(float) / households
    out["households"] = households
    out["population"] = raw["population"].astype(float)
    # Trees split on one axis at a time; rotated axes let them follow the diagonal coastline.
    for degrees in (15, 30, 45, 60, 75):
        angle = np.deg2rad(degrees)
        out[f"rotated_{degrees}_a"] = lon * np.cos(angle) + lat * np.sin(angle)
        out[f"rotated_{degrees}_b"] = -lon * np.sin(angle) + lat * np.cos(angle)
    for city, (c_lon, c_lat) in CITIES.items():
        out[f"distance_{city.lower().replace(' ', '_')}"] = np.hypot(lon - c_lon, lat - c_lat)
    out["ocean_proximity"] = raw["ocean_proximity"].astype(object)
    return out.replace([np.inf, -np.inf], np.nan)


def ames_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Quality grades as numbers, total area, ages and bathrooms; every other column as given."""
    out = raw.copy()
    for column in AMES_ORDINAL:
        if column in out:
            out[column] = out[column].map(GRADES).astype(float).fillna(0.0)
    if "MS SubClass" in out:
        out["MS SubClass"] = out["MS SubClass"].astype(str).astype(object)

    def num(name: str) -> pd.Series:
        return out[name].astype(float) if name in out else pd.Series(0.0, index=out.index)

    out["total_sf"] = num("Total Bsmt SF").fillna(0) + num("Gr Liv Area")
    sold = num("Yr Sold").where(lambda s: s > 0, 2008.0) if "Yr Sold" in out else 2008.0
    out["age"] = sold - num("Year Built")
    out["years_since_remodel"] = sold - num("Year Remod/Add") if "Year Remod/Add" in out else out["age"]
    out["total_baths"] = (
        num("Full Bath")
        + 0.5 * num("Half Bath")
        + num("Bsmt Full Bath").fillna(0)
        + 0.5 * num("Bsmt Half Bath").fillna(0)
    )
    out["quality_x_area"] = num("Overall Qual") * num("Gr Liv Area")
    return out


def custom_features(raw: pd.DataFrame) -> pd.DataFrame:
    """A user's table as typed by infer_types: numbers stay, everything else is a category."""
    out = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        series = raw[column]
        if pd.api.types.is_numeric_dtype(series):
            out[column] = series.astype(float)
        else:
            out[column] = series.astype(object)
    return out


FEATURES = {Dataset.CALIFORNIA: california_features, Dataset.AMES: ames_features, Dataset.CUSTOM: custom_features}


class FeatureMaker(TransformerMixin, BaseEstimator):
    """Raw columns -> engineered features; remembers the training columns so a form row can be short."""

    def __init__(self, dataset: str = "custom") -> None:
        self.dataset = dataset

    def fit(self, x: pd.DataFrame, y=None) -> FeatureMaker:  # noqa: ARG002 (sklearn signature)
        """Remember the raw columns and their kinds."""
        self.columns_ = list(x.columns)
        self.numeric_ = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
        return self

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        """Engineered features for ``x`` (missing raw columns become NaN)."""
        frame = x.reindex(columns=self.columns_)
        for column in self.numeric_:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        for column in frame.columns:
            if column not in self.numeric_:
                frame[column] = frame[column].astype(object)
        return FEATURES[Dataset(self.dataset)](frame)


# ---------------------------------------------------------------- outliers


@dataclass(frozen=True)
class OutlierReport:
    """Which training rows the outlier step drops, and why.

    Attributes:
        mask: True for a row the step drops.
        reasons: Reason -> rows it flagged.
    """

    mask: np.ndarray
    reasons: dict[str, int]

    @property
    def dropped(self) -> int:
        """How many rows are dropped."""
        return int(self.mask.sum())


def find_outliers(dataset: Dataset | str, raw: pd.DataFrame, target: np.ndarray) -> OutlierReport:
    """Flag implausible training rows: the dataset's known oddities, then prices far from every other sale."""
    dataset = Dataset(dataset)
    rules: dict[str, np.ndarray] = {}
    if dataset is Dataset.CALIFORNIA:
        households = raw["households"].astype(float).where(lambda s: s > 0)
        rules[f"more than {CROWDED:.0f} people per household"] = (
            (raw["population"].astype(float) / households > CROWDED).fillna(False).to_numpy(bool)
        )
        rules[f"more than {ROOMY:.0f} rooms per household"] = (
            (raw["total_rooms"].astype(float) / households > ROOMY).fillna(False).to_numpy(bool)
        )
    if dataset is Dataset.AMES:
        rules[f"living area above {DE_COCK_AREA:,.0f} sq ft (De Cock)"] = (
            raw["Gr Liv Area"].astype(float) > DE_COCK_AREA
        ).to_numpy(bool)
    y = np.asarray(target, dtype=float)
    if (y > 0).all():
        logs = np.log(y)
        mad = np.median(np.abs(logs - np.median(logs))) * 1.4826
        if mad > 0:
            rules[f"price more than {ROBUST_Z:.0f} robust SDs from the median"] = (
                np.abs(logs - np.median(logs)) / mad > ROBUST_Z
            )
    mask = np.zeros(len(raw), dtype=bool)
    reasons = {}
    for reason, flagged in rules.items():
        mask |= flagged
        if flagged.any():
            reasons[reason] = int(flagged.sum())
    return OutlierReport(mask, reasons)


def price_by_group(frame: pd.DataFrame, group: str, target: str) -> pd.DataFrame:
    """Median price and sales per group (Ames: per neighbourhood), most expensive first."""
    table = frame.groupby(group, observed=True)[target].agg(["median", "count"]).reset_index()
    table.columns = [group, "median price", "sales"]
    return table.sort_values("median price", ascending=False, ignore_index=True)
