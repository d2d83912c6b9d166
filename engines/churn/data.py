"""Churn data: the IBM Telco dataset (or the bundled sample), cleaning, user tables, engineered features."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, resolve_dataset
from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.core.tabular import TypedTable

ROOT = Path(__file__).resolve().parents[2]
TELCO_FILE = "Telco-Customer-Churn.csv"
TELCO = DatasetSpec(
    name="telco-churn",
    title="IBM Telco Customer Churn (7,043 customers)",
    files={TELCO_FILE: "16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91"},
    remote={
        TELCO_FILE: RemoteFile(
            "https://raw.githubusercontent.com/IBM/telco-customer-churn-on-icp4d/master/data/Telco-Customer-Churn.csv"
        )
    },
    sample=ROOT / "data" / "churn_sample.csv",
    citation="IBM, Telco Customer Churn sample data set (IBM/telco-customer-churn-on-icp4d, data/Telco-Customer-Churn.csv).",
    licence="IBM sample data (repository Apache-2.0)",
    homepage="https://github.com/IBM/telco-customer-churn-on-icp4d",
)
TARGET = "Churn"
ID_COLUMN = "customerID"
NUMERIC = ("tenure", "MonthlyCharges", "TotalCharges")
SERVICES = (
    "PhoneService",
    "MultipleLines",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)
CATEGORICAL = (
    "gender",
    "SeniorCitizen",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
)
TELCO_COLUMNS = (ID_COLUMN, *CATEGORICAL[:4], "tenure", *CATEGORICAL[4:], "MonthlyCharges", "TotalCharges", TARGET)
POSITIVE_WORDS = {"yes", "y", "true", "1", "churn", "churned", "left", "leave", "exited", "positive"}
MIN_ROWS = 30  # five folds need a few customers of each class in each fold
MIN_PER_CLASS = 10
MAX_ROWS = 100_000  # rows of an upload used for training
ID_SHARE = 0.9  # a text column with this share of distinct values is an identifier, not a feature
TENURE_BANDS = (-0.5, 6, 12, 24, 48, 1e9)
TENURE_LABELS = ("0-6 months", "7-12 months", "13-24 months", "25-48 months", "49+ months")


@dataclass(frozen=True)
class ChurnData:
    """A cleaned table ready for training.

    Attributes:
        features: One row per customer; numeric columns float, the rest strings (NaN when missing).
        y: 1 = churned (the positive class), 0 = stayed.
        kinds: Feature -> "numeric" or "categorical".
        target: Name of the target column.
        positive: The target value counted as churn.
        negative: The other target value.
        telco: True when the table has the Telco schema (engineered features and fairness groups apply).
        notes: What cleaning did, in words.
    """

    features: pd.DataFrame
    y: np.ndarray
    kinds: dict[str, str]
    target: str = TARGET
    positive: str = "Yes"
    negative: str = "No"
    telco: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def churn_rate(self) -> float:
        """Share of positive rows."""
        return float(self.y.mean())


def load_dataset(progress: Progress = null_progress) -> tuple[ResolvedDataset, ChurnData]:
    """Resolve Telco (local dir, cache, download, bundled sample) and clean it."""
    resolved = resolve_dataset(TELCO, progress)
    path = next(iter(resolved.paths.values()))
    return resolved, read_telco(path)


def read_telco(path: Path | str) -> ChurnData:
    """Read a CSV in the Telco layout and clean it."""
    return clean_telco(pd.read_csv(path, dtype=str, keep_default_na=False))


def clean_telco(frame: pd.DataFrame) -> ChurnData:
    """Clean a Telco-layout table of strings.

    Blank TotalCharges (customers with tenure 0) become 0, numeric columns are parsed,
    SeniorCitizen 0/1 becomes No/Yes, the Yes/No target becomes 1/0.

    Raises:
        InputError: for missing columns, text in numeric columns, or an unusable target.
    """
    missing = [c for c in (*CATEGORICAL, *NUMERIC, TARGET) if c not in frame.columns]
    if missing:
        raise InputError(f"The table is missing the Telco column(s): {', '.join(missing)}.")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    notes: list[str] = []
    for column in CATEGORICAL:
        values = frame[column].astype(str).str.strip()
        if column == "SeniorCitizen":
            values = values.replace({"1": "Yes", "0": "No", "1.0": "Yes", "0.0": "No"})
        out[column] = values.where(values != "").to_numpy(dtype=object)
    for column in NUMERIC:
        text = frame[column].astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"Column {column!r} must hold numbers; row {row + 1} has {text.iloc[row]!r}. Fix or blank that cell."
            )
        if column == "TotalCharges":
            blank = numbers.isna()
            if blank.any():
                # In the original data these are brand-new customers (tenure 0): nothing billed yet.
                notes.append(f"{int(blank.sum())} blank TotalCharges (new customers) set to 0.")
                numbers = numbers.fillna(0.0)
        out[column] = numbers.astype(float)
    target = frame[TARGET].astype(str).str.strip()
    unknown = sorted(set(target) - {"Yes", "No"})
    if unknown:
        raise InputError(f"{TARGET} must be Yes or No; found {', '.join(map(repr, unknown[:5]))}.")
    y = (target == "Yes").to_numpy(dtype=int)
    _check_classes(y, TARGET, "Yes", "No")
    kinds = {c: "categorical" for c in CATEGORICAL} | {c: "numeric" for c in NUMERIC}
    ordered = [c for c in TELCO_COLUMNS if c in kinds]
    return ChurnData(out[ordered], y, {c: kinds[c] for c in ordered}, notes=tuple(notes))


def _check_classes(y: np.ndarray, target: str, positive: str, negative: str) -> None:
    if len(y) < MIN_ROWS:
        raise InputError(f"Only {len(y)} rows; training needs at least {MIN_ROWS} customers.")
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        only = positive if n_neg == 0 else negative
        raise InputError(
            f"The target column {target!r} has only one class ({only!r}); a model needs customers who left and "
            "customers who stayed."
        )
    if min(n_pos, n_neg) < MIN_PER_CLASS:
        raise InputError(
            f"The target {target!r} has {n_pos} {positive!r} and {n_neg} {negative!r} rows; "
            f"each class needs at least {MIN_PER_CLASS}."
        )


def prepare_user_table(typed: TypedTable, target: str) -> ChurnData:
    """A user's table with inferred types -> training data for the chosen target column.

    The target must have exactly two values; the one that reads like churn (Yes, 1, True,
    churned, ...) is positive, else the rarer one. Identifier-like text columns are dropped.

    Raises:
        InputError: when the target is missing, empty, not binary, too small, or no feature is left.
    """
    if target not in typed.frame.columns:
        why = typed.dropped.get(target)
        if why:
            raise InputError(f"The target column {target!r} cannot be used: {why}.")
        raise InputError(
            f"The table has no column {target!r}. Pick the column that says whether a customer left "
            f"(columns: {', '.join(map(str, typed.frame.columns[:12]))})."
        )
    raw = typed.frame[target]
    keep = raw.notna().to_numpy()
    labels = raw[keep].map(lambda v: format(v, "g") if isinstance(v, float) else str(v)).astype(str)
    values = sorted(set(labels))
    if len(values) == 1:
        raise InputError(
            f"The target column {target!r} has only one class ({values[0]!r}); a model needs customers who left and "
            "customers who stayed."
        )
    if len(values) > 2:
        shown = ", ".join(map(repr, values[:6])) + (" ..." if len(values) > 6 else "")
        raise InputError(
            f"The target column {target!r} has {len(values)} different values ({shown}); it must have exactly two "
            "(left / stayed)."
        )
    counts = labels.value_counts()
    readable = [v for v in values if v.strip().lower() in POSITIVE_WORDS]
    positive = readable[0] if len(readable) == 1 else str(counts.idxmin())
    negative = next(v for v in values if v != positive)
    y = (labels == positive).to_numpy(dtype=int)
    _check_classes(y, target, positive, negative)
    features = typed.frame.loc[keep].drop(columns=[target]).reset_index(drop=True)
    kinds = {c: k for c, k in typed.kinds.items() if c != target}
    notes = []
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} rows without a target value were left out.")
    for column in list(features.columns):
        if kinds[column] == "categorical":
            distinct = features[column].nunique(dropna=True)
            if distinct > ID_SHARE * len(features) and distinct > 20:
                notes.append(f"{column!r} looks like an identifier (a different value on almost every row): not used.")
                features = features.drop(columns=[column])
                kinds.pop(column)
        elif features[column].nunique(dropna=True) <= 1:
            notes.append(f"{column!r} has a single value: not used.")
            features = features.drop(columns=[column])
            kinds.pop(column)
    if not kinds:
        raise InputError("No column besides the target is usable as a feature. Add customer attributes to the file.")
    if len(features) > MAX_ROWS:
        notes.append(f"Only the first {MAX_ROWS:,} rows are used.")
        features, y = features.head(MAX_ROWS), y[:MAX_ROWS]
    for column, kind in kinds.items():
        if kind == "categorical":
            features[column] = features[column].to_numpy(dtype=object)
    telco = all(c in kinds for c in (*NUMERIC, "Contract", "InternetService"))
    return ChurnData(features, y, kinds, target, positive, negative, telco=telco, notes=tuple(notes))


def guess_target(columns: list[str]) -> str | None:
    """The column most likely to be the churn label."""
    lowered = {c.strip().lower(): c for c in columns}
    for name in ("churn", "churned", "exited", "attrition", "left", "target", "label"):
        if name in lowered:
            return lowered[name]
    return None


def telco_csv_bytes(data: ChurnData, rows: int = 50) -> bytes:
    """A small CSV in the upload format (for the page's example download)."""
    frame = data.features.head(rows).copy()
    frame[data.target] = np.where(data.y[:rows] == 1, data.positive, data.negative)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


# ---------------------------------------------------------------- engineered features


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Telco engineered features, added when their inputs are present.

    tenure band and log tenure, charges per month of tenure (TotalCharges / tenure, which also shows price
    changes), number of services, long contract with automatic payment, and contract x internet type.
    """
    out = frame.copy()
    if "tenure" in out.columns:
        tenure = pd.to_numeric(out["tenure"], errors="coerce").astype(float)
        band = pd.cut(tenure, bins=list(TENURE_BANDS), labels=list(TENURE_LABELS))
        out["tenure_band"] = band.astype(object).where(band.notna(), np.nan).to_numpy(dtype=object)
        if "TotalCharges" in out.columns:
            total = pd.to_numeric(out["TotalCharges"], errors="coerce").astype(float)
            out["charges_per_tenure_month"] = (total / tenure.clip(lower=1)).to_numpy(dtype=float)
    present = [c for c in SERVICES if c in out.columns]
    if present:
        count = sum((out[c].astype(object) == "Yes").astype(int) for c in present)
        if "InternetService" in out.columns:
            count = count + (out["InternetService"].astype(object).isin(["DSL", "Fiber optic"])).astype(int)
        out["n_services"] = np.asarray(count, dtype=float)
    if "Contract" in out.columns and "PaymentMethod" in out.columns:
        auto = out["PaymentMethod"].astype(object).astype(str).str.contains("automatic")
        out["auto_pay_long_contract"] = np.where(
            (out["Contract"].astype(object) != "Month-to-month") & auto, "Yes", "No"
        ).astype(object)
    if "Contract" in out.columns and "InternetService" in out.columns:
        # The classic interaction: fiber optic on a month-to-month contract churns far more than either alone.
        combined = (
            out["Contract"].astype(object).astype(str) + " / " + out["InternetService"].astype(object).astype(str)
        )
        out["contract_x_internet"] = combined.to_numpy(dtype=object)
    if "tenure" in out.columns:
        tenure = pd.to_numeric(out["tenure"], errors="coerce").astype(float).clip(lower=0)
        out["log_tenure"] = np.log1p(tenure).to_numpy()  # risk falls fastest in the first months
    return out


ENGINEERED = {
    "tenure_band": "categorical",
    "charges_per_tenure_month": "numeric",
    "n_services": "numeric",
    "auto_pay_long_contract": "categorical",
    "contract_x_internet": "categorical",
    "log_tenure": "numeric",
}


def engineered_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds of the engineered columns ``add_features`` produces for ``frame``."""
    added = add_features(frame.head(2))
    return {c: k for c, k in ENGINEERED.items() if c in added.columns and c not in frame.columns}
