"""The estimate form: fields, presets, and checks that turn form values into a raw row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engines.core.errors import InputError
from engines.house_prices.data import OCEAN, Dataset


@dataclass(frozen=True)
class Field:
    """One form input.

    Attributes:
        key: Form key (a raw column for Ames; a per-household value for California).
        label: What the user sees.
        low: Smallest accepted value (None: a choice field).
        high: Largest accepted value.
        step: Input step.
        help: One line of help.
    """

    key: str
    label: str
    low: float | None = None
    high: float | None = None
    step: float = 1.0
    help: str = ""

    @property
    def is_choice(self) -> bool:
        """True for a categorical field (pick from the data's levels)."""
        return self.low is None


FIELDS: dict[Dataset, tuple[Field, ...]] = {
    Dataset.AMES: (
        Field("Gr Liv Area", "Living area (sq ft)", 300, 6000, 50, "Above-ground finished area."),
        Field("Bedroom AbvGr", "Bedrooms", 0, 10),
        Field("Full Bath", "Full bathrooms", 0, 6),
        Field("Half Bath", "Half bathrooms", 0, 4),
        Field("Year Built", "Year built", 1800, 2025),
        Field("Overall Qual", "Overall quality (1-10)", 1, 10, 1, "Materials and finish, 10 = very excellent."),
        Field("Total Bsmt SF", "Basement area (sq ft)", 0, 6000, 50),
        Field("Garage Cars", "Garage size (cars)", 0, 5),
        Field("Lot Area", "Lot area (sq ft)", 1000, 250_000, 500),
        Field("Neighborhood", "Neighborhood"),
    ),
    Dataset.CALIFORNIA: (
        Field("longitude", "Longitude", -124.5, -114.0, 0.01),
        Field("latitude", "Latitude", 32.4, 42.1, 0.01),
        Field("median_income", "Median income ($10k)", 0.4, 15.1, 0.1, "Median household income, tens of $1000s."),
        Field("housing_median_age", "Median house age (years)", 0, 100),
        Field("rooms_per_household", "Rooms per household", 1, 20, 0.1),
        Field("bedrooms_per_household", "Bedrooms per household", 0.3, 10, 0.05),
        Field("people_per_household", "People per household", 0.5, 15, 0.1),
        Field("households", "Households in the block", 1, 6500, 10),
        Field("ocean_proximity", "Ocean proximity"),
    ),
}
CHOICES = {Dataset.CALIFORNIA: {"ocean_proximity": list(OCEAN)}}  # Ames neighbourhoods come from the data
PRESETS: dict[Dataset, dict[str, dict[str, Any]]] = {
    Dataset.AMES: {
        "Starter home": {
            "Gr Liv Area": 950, "Bedroom AbvGr": 2, "Full Bath": 1, "Half Bath": 0, "Year Built": 1955,
            "Overall Qual": 5, "Total Bsmt SF": 800, "Garage Cars": 1, "Lot Area": 7500, "Neighborhood": "NAmes",
        },
        "Family house": {
            "Gr Liv Area": 1800, "Bedroom AbvGr": 3, "Full Bath": 2, "Half Bath": 1, "Year Built": 1999,
            "Overall Qual": 7, "Total Bsmt SF": 1000, "Garage Cars": 2, "Lot Area": 10000, "Neighborhood": "CollgCr",
        },
        "Luxury": {
            "Gr Liv Area": 3000, "Bedroom AbvGr": 4, "Full Bath": 3, "Half Bath": 1, "Year Built": 2007,
            "Overall Qual": 10, "Total Bsmt SF": 1900, "Garage Cars": 3, "Lot Area": 14000, "Neighborhood": "NridgHt",
        },
    },
    Dataset.CALIFORNIA: {
        "Starter home": {  # an older inland block in Fresno
            "longitude": -119.79, "latitude": 36.75, "median_income": 2.5, "housing_median_age": 35,
            "rooms_per_household": 4.5, "bedrooms_per_household": 1.1, "people_per_household": 3.2,
            "households": 400, "ocean_proximity": "INLAND",
        },
        "Family house": {  # a suburb east of Los Angeles
            "longitude": -118.08, "latitude": 34.1, "median_income": 5.5, "housing_median_age": 25,
            "rooms_per_household": 5.5, "bedrooms_per_household": 1.05, "people_per_household": 3.0,
            "households": 500, "ocean_proximity": "<1H OCEAN",
        },
        "Luxury": {  # Palo Alto, on the Bay
            "longitude": -122.14, "latitude": 37.44, "median_income": 11.0, "housing_median_age": 30,
            "rooms_per_household": 7.0, "bedrooms_per_household": 1.05, "people_per_household": 2.6,
            "households": 450, "ocean_proximity": "NEAR BAY",
        },
    },
}  # fmt: skip


def check_form(dataset: Dataset | str, values: dict[str, Any]) -> dict[str, Any]:
    """Validate form values and turn them into a raw row of the dataset's columns.

    Fields left out take the training data's typical values later.

    Raises:
        InputError: for a value that is not a number, outside its plausible range, or inconsistent.
    """
    dataset = Dataset(dataset)
    if dataset not in FIELDS:
        raise InputError("The form exists for the California and Ames datasets only.")
    clean: dict[str, Any] = {}
    for item in FIELDS[dataset]:
        if item.key not in values or values[item.key] is None:
            continue
        value = values[item.key]
        if item.is_choice:
            allowed = CHOICES.get(dataset, {}).get(item.key)
            if allowed is not None and value not in allowed:
                raise InputError(f"{item.label} must be one of {', '.join(allowed)}; got {value!r}.")
            clean[item.key] = str(value)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{item.label} must be a number, got {value!r}.") from None
        if not math.isfinite(number) or not item.low <= number <= item.high:
            raise InputError(f"{item.label} must be between {item.low:,g} and {item.high:,g}; got {number:,g}.")
        clean[item.key] = number
    return _to_raw(dataset, clean)


def _to_raw(dataset: Dataset, clean: dict[str, Any]) -> dict[str, Any]:
    if dataset is Dataset.AMES:
        row = dict(clean)
        if "Gr Liv Area" in row:  # one storey: keep the floor areas consistent with the living area
            row["1st Flr SF"], row["2nd Flr SF"] = row["Gr Liv Area"], 0.0
        if "Year Built" in row:  # no renovation since; garage built with the house
            row["Year Remod/Add"] = row["Garage Yr Blt"] = row["Year Built"]
        if "Bedroom AbvGr" in row:
            row["TotRms AbvGrd"] = row["Bedroom AbvGr"] + 3
        if "Garage Cars" in row:
            row["Garage Area"] = 250.0 * row["Garage Cars"]
        return row
    rooms, bedrooms = clean.get("rooms_per_household"), clean.get("bedrooms_per_household")
    if rooms is not None and bedrooms is not None and bedrooms > rooms:
        raise InputError(f"Bedrooms per household ({bedrooms:g}) cannot exceed rooms per household ({rooms:g}).")
    households = clean.get("households", 430.0)  # the real data's median block
    row = {k: v for k, v in clean.items() if not k.endswith("_household")}
    row["households"] = households
    if rooms is not None:
        row["total_rooms"] = rooms * households
    if bedrooms is not None:
        row["total_bedrooms"] = bedrooms * households
    if "people_per_household" in clean:
        row["population"] = clean["people_per_household"] * households
    return row


def typical_form(dataset: Dataset | str, typical: dict[str, Any]) -> dict[str, Any]:
    """The form values of a typical row (a trained model's ``typical_``)."""
    dataset = Dataset(dataset)
    values = {f.key: typical.get(f.key) for f in FIELDS[dataset] if f.key in typical}
    if dataset is Dataset.CALIFORNIA:
        households = typical.get("households") or 1.0
        values["rooms_per_household"] = typical.get("total_rooms", np.nan) / households
        values["bedrooms_per_household"] = typical.get("total_bedrooms", np.nan) / households
        values["people_per_household"] = typical.get("population", np.nan) / households
    return values


def explain_form(model: Any, dataset: Dataset | str, values: dict[str, Any]) -> pd.DataFrame:
    """How much each form value moved the price: the estimate minus the estimate with that value typical.

    Raises:
        InputError: when the form values are invalid (see :func:`check_form`).
    """
    dataset = Dataset(dataset)
    typical = typical_form(dataset, model.typical_)
    keys = [f.key for f in FIELDS[dataset] if f.key in values and f.key in typical]
    rows = [check_form(dataset, values)]
    for key in keys:
        rows.append(_to_raw(dataset, {**_clean_numbers(dataset, values), key: typical[key]}))
    prices = model.predict_frame(pd.DataFrame(rows))
    labels = {f.key: f.label for f in FIELDS[dataset]}
    return pd.DataFrame(
        {
            "feature": [labels[k] for k in keys],
            "value": [values[k] for k in keys],
            "typical": [typical[k] for k in keys],
            "effect": prices[0] - prices[1:],
        }
    ).sort_values("effect", key=np.abs, ascending=False, ignore_index=True)


def _clean_numbers(dataset: Dataset, values: dict[str, Any]) -> dict[str, Any]:
    fields = {f.key: f for f in FIELDS[dataset]}
    return {k: (v if fields[k].is_choice else float(v)) for k, v in values.items() if k in fields and v is not None}
