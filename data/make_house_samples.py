"""Write the bundled house-price samples: synthetic, seeded, with the real files' schemas.

``california_sample.csv`` has the columns of the handson-ml2 California housing file
(one row per census block group, value capped at 500,001) and ``ames_sample.csv`` a
subset of 25 columns of De Cock's Ames file (one row per sale). No row comes from
the real data: every value is drawn here from made-up but plausible relationships
(location, income, living area, quality, age). A few outliers are planted on purpose
so that the engine's outlier step has something to find:

- California: blocks with absurd people or rooms per household (a dormitory, a resort);
- Ames: very large houses sold cheaply (like De Cock's partial sales above 4,000 sq ft).

Run: ``python data/make_house_samples.py`` (same seed, same files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20240611
N_CALIFORNIA = 2000
N_AMES = 1200
N_CALIFORNIA_OUTLIERS = 8
N_AMES_OUTLIERS = 4

# Made-up population centres: (longitude, latitude, spread in degrees, weight, coastal wealth premium).
CENTRES = {
    "Los Angeles": (-118.25, 34.05, 0.35, 0.30, 1.0),
    "San Francisco Bay": (-122.20, 37.70, 0.30, 0.20, 1.4),
    "San Diego": (-117.10, 32.80, 0.20, 0.10, 1.0),
    "San Jose": (-121.90, 37.33, 0.15, 0.06, 1.3),
    "Sacramento": (-121.45, 38.60, 0.25, 0.10, 0.0),
    "Fresno": (-119.80, 36.75, 0.30, 0.08, 0.0),
    "Bakersfield": (-119.00, 35.35, 0.25, 0.06, 0.0),
    "Redding": (-122.35, 40.55, 0.40, 0.04, 0.0),
    "Riverside": (-117.35, 33.95, 0.30, 0.06, 0.0),
}
# A rough coastline (longitude, latitude), north to south.
COAST = np.array(
    [
        (-124.2, 41.8),
        (-124.1, 40.8),
        (-123.8, 39.5),
        (-123.0, 38.3),
        (-122.5, 37.8),
        (-122.4, 37.2),
        (-121.9, 36.6),
        (-121.3, 35.7),
        (-120.6, 34.9),
        (-119.7, 34.4),
        (-118.8, 34.0),
        (-118.4, 33.8),
        (-117.9, 33.6),
        (-117.3, 33.1),
        (-117.2, 32.7),
    ]
)
BAY = (-122.25, 37.75)


def _coast_distance(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.min(np.hypot(lon[:, None] - COAST[None, :, 0], lat[:, None] - COAST[None, :, 1]), axis=1)


def make_california(rng: np.random.Generator, n: int = N_CALIFORNIA) -> pd.DataFrame:
    """Block groups around made-up centres; value rises with income and near the coast."""
    names = list(CENTRES)
    weights = np.array([CENTRES[c][3] for c in names])
    pick = rng.choice(len(names), size=n, p=weights / weights.sum())
    centre = np.array([CENTRES[names[i]][:3] for i in pick])
    premium = np.array([CENTRES[names[i]][4] for i in pick])
    lon = centre[:, 0] + rng.normal(0, centre[:, 2])
    lat = centre[:, 1] + rng.normal(0, centre[:, 2])
    coast = _coast_distance(lon, lat)
    lon = np.where(lon < -124.3, -124.3 + rng.uniform(0, 0.3, n), lon)  # nothing in the sea
    bay = np.hypot(lon - BAY[0], lat - BAY[1]) < 0.35
    ocean = np.where(
        coast < 0.12, np.where(bay, "NEAR BAY", "NEAR OCEAN"), np.where(coast < 0.7, "<1H OCEAN", "INLAND")
    )
    near = np.exp(-coast / 0.5)
    income = np.clip(np.exp(rng.normal(1.25 + 0.35 * near * premium, 0.45)), 0.5, 15.0)  # tens of $1000
    age = np.clip(np.round(rng.normal(29 - 6 * (income > 6), 12)), 1, 52)
    households = np.round(np.exp(rng.normal(6.0, 0.55, n))).clip(5, 5000)
    rooms_per = np.clip(rng.normal(4.2 + 0.35 * income - 0.6 * near, 0.8), 1.5, 12)
    people_per = np.clip(rng.normal(2.9 - 0.05 * income, 0.5), 1.1, 6)
    bedrooms_share = np.clip(rng.normal(0.22 - 0.008 * income, 0.025), 0.1, 0.45)
    rooms = np.round(households * rooms_per)
    bedrooms = np.round(rooms * bedrooms_share)
    population = np.round(households * people_per)
    log_value = (
        11.0
        + 0.33 * np.log(income) * 2
        + 0.55 * near * (0.6 + 0.4 * premium)
        + 0.15 * (ocean == "NEAR BAY")
        - 0.05 * (people_per - 3)
        + 0.002 * age
        + rng.normal(0, 0.2, n)
    )
    value = np.clip(np.round(np.exp(log_value), -2), 15_000, 500_001)
    frame = pd.DataFrame(
        {
            "longitude": np.round(lon, 2),
            "latitude": np.round(lat, 2),
            "housing_median_age": age.astype(float),
            "total_rooms": rooms,
            "total_bedrooms": bedrooms,
            "population": population,
            "households": households,
            "median_income": np.round(income, 4),
            "median_house_value": value,
            "ocean_proximity": ocean,
        }
    )
    # Planted outliers: a dormitory (crowded) or a resort (huge homes, few residents).
    rows = rng.choice(n, size=N_CALIFORNIA_OUTLIERS, replace=False)
    for j, i in enumerate(rows):
        if j % 2 == 0:
            frame.loc[i, "population"] = round(frame.loc[i, "households"] * rng.uniform(25, 60))
        else:
            frame.loc[i, "total_rooms"] = round(frame.loc[i, "households"] * rng.uniform(40, 90))
    # Like the real file: a few bedroom counts are blank.
    frame.loc[rng.choice(n, size=n // 100, replace=False), "total_bedrooms"] = np.nan
    return frame


NEIGHBORHOODS = {  # name: (price premium in log points, typical year built, quality shift)
    "NAmes": (0.00, 1960, 0.0),
    "CollgCr": (0.12, 1995, 0.8),
    "OldTown": (-0.15, 1920, -0.7),
    "Edwards": (-0.12, 1955, -0.6),
    "Somerst": (0.18, 2003, 1.0),
    "NridgHt": (0.35, 2005, 2.0),
    "Gilbert": (0.10, 1998, 0.6),
    "Sawyer": (-0.05, 1962, -0.4),
    "Mitchel": (0.00, 1975, 0.0),
    "BrkSide": (-0.12, 1930, -0.7),
    "Crawfor": (0.12, 1935, 0.4),
    "StoneBr": (0.40, 2000, 2.2),
    "NoRidge": (0.38, 1994, 1.8),
    "IDOTRR": (-0.30, 1925, -1.2),
    "MeadowV": (-0.35, 1972, -1.0),
}
QUALITY = ["Po", "Fa", "TA", "Gd", "Ex"]


def make_ames(rng: np.random.Generator, n: int = N_AMES) -> pd.DataFrame:
    """Sales whose log price rises with quality, living area, basement, garage and newness."""
    names = list(NEIGHBORHOODS)
    hood = rng.choice(names, size=n)
    premium = np.array([NEIGHBORHOODS[h][0] for h in hood])
    typical_year = np.array([NEIGHBORHOODS[h][1] for h in hood])
    shift = np.array([NEIGHBORHOODS[h][2] for h in hood])
    year_built = np.clip(np.round(typical_year + rng.normal(0, 12, n)), 1880, 2010).astype(int)
    year_sold = rng.integers(2006, 2011, n)
    year_built = np.minimum(year_built, year_sold)
    remod = np.maximum(year_built, np.minimum(year_sold, year_built + rng.integers(0, 60, n)))
    quality = np.clip(np.round(rng.normal(5.8 + shift + 0.01 * (year_built - 1970), 1.0)), 1, 10).astype(int)
    condition = np.clip(np.round(rng.normal(5.6, 1.0, n)), 1, 9).astype(int)
    storeys = rng.choice(["1Story", "2Story", "1.5Fin", "SLvl"], size=n, p=[0.5, 0.3, 0.12, 0.08])
    living = np.clip(np.exp(rng.normal(np.log(900) + 0.09 * quality, 0.22)), 500, 3900)
    second = np.where(storeys == "2Story", living * rng.uniform(0.4, 0.5, n), 0)
    second = np.where(storeys == "1.5Fin", living * rng.uniform(0.2, 0.35, n), second)
    first = living - second
    basement = np.where(rng.random(n) < 0.03, 0, np.clip(first * rng.normal(0.95, 0.15, n), 0, 3000))
    bedrooms = np.clip(np.round(living / 550 + rng.normal(0.3, 0.6, n)), 1, 6).astype(int)
    full_bath = np.clip(np.round(living / 1100 + rng.normal(0.2, 0.4, n)), 1, 4).astype(int)
    half_bath = (rng.random(n) < 0.2 + 0.25 * (storeys == "2Story")).astype(int)
    rooms = bedrooms + 2 + (living > 1800) + (living > 2600) + rng.integers(0, 2, n)
    garage_cars = np.clip(np.round(rng.normal(1.2 + 0.12 * quality, 0.6)), 0, 4).astype(int)
    garage_area = np.where(garage_cars == 0, 0, np.round(garage_cars * rng.normal(260, 30, n)))
    fireplaces = np.clip(np.round(rng.normal(-0.3 + 0.15 * quality, 0.5)), 0, 3).astype(int)
    lot = np.round(np.exp(rng.normal(9.1, 0.35, n)))
    exter = np.array(QUALITY)[np.clip(np.round(1 + 0.3 * quality + rng.normal(0, 0.5, n)), 1, 4).astype(int)]
    kitchen = np.array(QUALITY)[np.clip(np.round(1 + 0.3 * quality + rng.normal(0, 0.6, n)), 1, 4).astype(int)]
    air = np.where(rng.random(n) < 0.07 + 0.2 * (year_built < 1940), "N", "Y")
    zoning = np.where(rng.random(n) < 0.85, "RL", rng.choice(["RM", "FV", "RH"], size=n))
    building = rng.choice(["1Fam", "TwnhsE", "Duplex", "Twnhs", "2fmCon"], size=n, p=[0.84, 0.08, 0.04, 0.02, 0.02])
    sale = rng.choice(["Normal", "Partial", "Abnorml", "Family"], size=n, p=[0.83, 0.09, 0.06, 0.02])
    age = year_sold - year_built
    log_price = (
        11.0
        + 0.09 * quality
        + 0.45 * np.log(living / 1500)
        + 0.00009 * basement
        + 0.05 * garage_cars
        + 0.04 * full_bath
        + 0.03 * fireplaces
        - 0.0025 * age
        + 0.002 * (remod - year_built) / 10
        + 0.04 * (condition - 5)
        + 0.06 * np.log(lot / 9000)
        + premium
        - 0.08 * (air == "N")
        - 0.12 * (sale == "Abnorml")
        + 0.05 * (sale == "Partial")
        + rng.normal(0, 0.09, n)
    )
    price = np.round(np.exp(log_price), -2)
    frame = pd.DataFrame(
        {
            "MS Zoning": zoning,
            "Lot Area": lot.astype(int),
            "Neighborhood": hood,
            "Bldg Type": building,
            "House Style": storeys,
            "Overall Qual": quality,
            "Overall Cond": condition,
            "Year Built": year_built,
            "Year Remod/Add": remod,
            "Exter Qual": exter,
            "Total Bsmt SF": np.round(basement).astype(int),
            "1st Flr SF": np.round(first).astype(int),
            "2nd Flr SF": np.round(second).astype(int),
            "Gr Liv Area": np.round(first).astype(int) + np.round(second).astype(int),
            "Full Bath": full_bath,
            "Half Bath": half_bath,
            "Bedroom AbvGr": bedrooms,
            "Kitchen Qual": kitchen,
            "TotRms AbvGrd": rooms,
            "Fireplaces": fireplaces,
            "Garage Cars": garage_cars,
            "Garage Area": garage_area.astype(int),
            "Central Air": air,
            "Yr Sold": year_sold,
            "Sale Condition": sale,
            "SalePrice": price.astype(int),
        }
    )
    # Planted outliers: huge new houses in Edwards sold as partial sales at a fraction of their value.
    rows = rng.choice(n, size=N_AMES_OUTLIERS, replace=False)
    for i in rows:
        area = int(rng.uniform(4300, 5600))
        frame.loc[i, ["Neighborhood", "Overall Qual", "Sale Condition"]] = ["Edwards", 10, "Partial"]
        frame.loc[i, ["Gr Liv Area", "1st Flr SF", "2nd Flr SF"]] = [area, area // 2, area - area // 2]
        frame.loc[i, ["Total Bsmt SF", "SalePrice"]] = [area // 2, int(rng.uniform(160_000, 190_000))]
    return frame


def main() -> None:
    """Write both samples next to this script."""
    rng = np.random.default_rng(SEED)
    make_california(rng).to_csv(HERE / "california_sample.csv", index=False)
    make_ames(rng).to_csv(HERE / "ames_sample.csv", index=False)


if __name__ == "__main__":
    main()
