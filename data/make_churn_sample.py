"""Write data/churn_sample.csv: a synthetic telco churn table with the IBM Telco schema.

Nothing is copied from the real dataset: every value is drawn from simple, seeded rules
that mimic the well-known patterns (month-to-month contracts, fiber optic, electronic
check and short tenure raise churn; about 26% churn; TotalCharges is roughly tenure x
MonthlyCharges and blank for brand-new customers). Run: ``python data/make_churn_sample.py``.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "churn_sample.csv"
ROWS = 2000
SEED = 20240611
TARGET_CHURN = 0.265  # the real dataset's share
ADDONS = ("OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies")
ADDON_P = (0.35, 0.40, 0.40, 0.35, 0.45, 0.45)


def _choice(rng: np.random.Generator, values: list[str], p: list[float], n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), size=n, p=p)


def make(rows: int = ROWS, seed: int = SEED) -> pd.DataFrame:
    """The synthetic table (strings, like the original CSV)."""
    rng = np.random.default_rng(seed)
    n = rows
    letters = np.array(list(string.ascii_uppercase))
    ids = [f"{rng.integers(1000, 9999)}-{''.join(rng.choice(letters, 5))}" for _ in range(n)]
    gender = _choice(rng, ["Male", "Female"], [0.5, 0.5], n)
    senior = (rng.random(n) < 0.16).astype(int)
    partner = np.where(rng.random(n) < 0.48, "Yes", "No")
    dependents = np.where(rng.random(n) < np.where(partner == "Yes", 0.5, 0.1), "Yes", "No")
    contract = _choice(rng, ["Month-to-month", "One year", "Two year"], [0.55, 0.21, 0.24], n)
    tenure = np.where(
        contract == "Month-to-month",
        rng.exponential(16, n),
        np.where(contract == "One year", rng.uniform(8, 72, n), rng.uniform(18, 75, n)),
    )
    tenure = np.clip(np.round(tenure), 0, 72).astype(int)
    tenure[rng.random(n) < 0.006] = 0  # a few customers who just joined
    phone = np.where(rng.random(n) < 0.9, "Yes", "No")
    multiple = np.where(phone == "No", "No phone service", np.where(rng.random(n) < 0.47, "Yes", "No"))
    internet = _choice(rng, ["Fiber optic", "DSL", "No"], [0.44, 0.34, 0.22], n)
    addons = {}
    for name, p in zip(ADDONS, ADDON_P, strict=True):
        addons[name] = np.where(internet == "No", "No internet service", np.where(rng.random(n) < p, "Yes", "No"))
    paperless = np.where(rng.random(n) < 0.59, "Yes", "No")
    payment = _choice(
        rng,
        ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"],
        [0.34, 0.23, 0.22, 0.21],
        n,
    )
    n_addons = sum((addons[a] == "Yes").astype(int) for a in ADDONS)
    monthly = (
        np.where(phone == "Yes", 20.0, 0.0)
        + np.where(multiple == "Yes", 5.0, 0.0)
        + np.select([internet == "Fiber optic", internet == "DSL"], [45.0, 25.0], 0.0)
        + 5.0 * n_addons
        + rng.normal(0, 2.0, n)
    )
    monthly = np.round(np.clip(monthly, 18.25, 118.75), 2)
    total = tenure * monthly * (1 + rng.normal(0, 0.04, n))
    total_text = np.where(tenure == 0, " ", np.char.mod("%.2f", np.round(np.maximum(total, monthly), 2)))
    logit = (
        1.1 * (contract == "Month-to-month")
        - 1.0 * (contract == "Two year")
        + 0.9 * (internet == "Fiber optic")
        - 0.5 * (internet == "No")
        + 0.6 * (payment == "Electronic check")
        - 0.04 * tenure
        + 0.35 * senior
        + 0.3 * (paperless == "Yes")
        - 0.45 * (addons["TechSupport"] == "Yes")
        - 0.4 * (addons["OnlineSecurity"] == "Yes")
        - 0.25 * (partner == "Yes")
        + 0.2 * (addons["StreamingTV"] == "Yes")
        + rng.normal(0, 0.3, n)
    )
    # Pick the intercept that gives the real data's churn share.
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(logit + mid)))).mean() < TARGET_CHURN:
            lo = mid
        else:
            hi = mid
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-(logit + lo))), "Yes", "No")
    frame = pd.DataFrame(
        {
            "customerID": ids,
            "gender": gender,
            "SeniorCitizen": senior,
            "Partner": partner,
            "Dependents": dependents,
            "tenure": tenure,
            "PhoneService": phone,
            "MultipleLines": multiple,
            "InternetService": internet,
            **addons,
            "Contract": contract,
            "PaperlessBilling": paperless,
            "PaymentMethod": payment,
            "MonthlyCharges": monthly,
            "TotalCharges": total_text,
            "Churn": churn,
        }
    )
    return frame


if __name__ == "__main__":
    table = make()
    table.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(table)} rows, churn {(table['Churn'] == 'Yes').mean():.1%})")
