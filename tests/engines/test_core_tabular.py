"""Type inference for uploaded tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engines.core.errors import InputError
from engines.core.tabular import infer_types


def test_numbers_with_symbols_and_blanks_become_numeric():
    frame = pd.DataFrame(
        {
            "price": ["$1,200", "950", "", "1e3"],
            "city": ["Ames", "Ames", "Boone", "NA"],
            "empty": ["", " ", "NA", "?"],
        }
    )
    table = infer_types(frame)
    assert table.kinds == {"price": "numeric", "city": "categorical"}
    assert table.frame["price"].tolist()[:2] == [1200.0, 950.0]
    assert np.isnan(table.frame["price"].iloc[2])
    assert table.frame["city"].isna().tolist() == [False, False, False, True]
    assert table.dropped == {"empty": "every value is empty"}
    summary = table.summary().set_index("column")
    assert summary.loc["empty", "kind"] == "dropped"
    assert summary.loc["price", "missing"] == 0.25


def test_text_in_a_mostly_numeric_column_keeps_it_categorical():
    frame = pd.DataFrame({"area": ["100", "200", "big", "150"]})
    assert infer_types(frame).kinds == {"area": "categorical"}


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"a": ["1"]}), "1 row"),
        (pd.DataFrame({"a": ["", ""], "b": ["NA", None]}), "No column has any values"),
    ],
)
def test_unusable_tables_are_refused(frame, match):
    with pytest.raises(InputError, match=match):
        infer_types(frame)
