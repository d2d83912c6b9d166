"""Turn an uploaded table of strings into typed columns, and say what was inferred.

Shared by the tabular demos: a user's CSV arrives as strings (see uploads.read_table);
this decides which columns are numeric, drops what cannot be used, and reports it in
words the page can show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engines.core.errors import InputError

NUMERIC_SHARE = 0.95  # a column is numeric when this share of its non-empty cells parse as numbers
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}


@dataclass(frozen=True)
class TypedTable:
    """A table with inferred types.

    Attributes:
        frame: Numeric columns as float, others as strings (missing values are NaN).
        kinds: Column -> "numeric" or "categorical".
        dropped: Column -> why it was dropped (all empty, one value, ...).
    """

    frame: pd.DataFrame
    kinds: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per column of the upload: inferred kind, missing share, or why it was dropped."""
        rows = [
            {"column": c, "kind": k, "missing": float(self.frame[c].isna().mean()), "note": ""}
            for c, k in self.kinds.items()
        ]
        rows += [{"column": c, "kind": "dropped", "missing": np.nan, "note": why} for c, why in self.dropped.items()]
        return pd.DataFrame(rows)


def _to_number(series: pd.Series) -> pd.Series:
    cleaned = series.astype(str).str.strip().str.replace(",", "", regex=False).str.replace(r"^[$£€]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def infer_types(frame: pd.DataFrame, *, min_rows: int = 2) -> TypedTable:
    """Infer numeric and categorical columns of a table of strings.

    Raises:
        InputError: when the table has fewer than ``min_rows`` rows or no usable column.
    """
    if len(frame) < min_rows:
        raise InputError(f"The table has {len(frame)} row(s); at least {min_rows} are needed.")
    out: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for column in frame.columns:
        raw = frame[column]
        text = raw.astype(str).str.strip()
        missing = text.str.lower().isin(MISSING) | raw.isna()
        present = text[~missing]
        if present.empty:
            dropped[str(column)] = "every value is empty"
            continue
        numbers = _to_number(present)
        if numbers.notna().mean() >= NUMERIC_SHARE:
            values = _to_number(text.where(~missing))
            if not np.isfinite(values.dropna()).all():
                values = values.where(np.isfinite(values))
            out[str(column)] = values.astype(float)
            kinds[str(column)] = "numeric"
        else:
            out[str(column)] = text.where(~missing)
            kinds[str(column)] = "categorical"
    if not out:
        raise InputError("No column has any values. Check the file has data under its header.")
    return TypedTable(pd.DataFrame(out, index=frame.index), kinds, dropped)
