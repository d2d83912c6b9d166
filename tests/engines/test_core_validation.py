"""engines.core.validation: the range, whole-number, switch and time-budget checks every training config uses."""

import math

import pytest

from engines.core.errors import InputError
from engines.core.validation import check_ranges, check_switch, check_time_budget


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, r"Epochs must be a number \(got nan\)"),
        (math.inf, "Epochs must be a number"),
        ("10", "Epochs must be a number"),
        (True, "Epochs must be a number"),
        (2.5, r"Epochs must be a whole number \(got 2.5\)"),
        (0, r"Epochs must be between 1 and 100 \(got 0\)"),
        (101, "between 1 and 100"),
    ],
)
def test_a_bad_value_names_the_setting(value, message):
    with pytest.raises(InputError, match=message):
        check_ranges([("Rate", 0.5, 0.0, 1.0), ("Epochs", value, 1, 100)], whole={"Epochs"})


def test_good_values_pass_and_whole_numbers_may_be_floats():
    check_ranges([("Rate", 0.5, 0.0, 1.0), ("Epochs", 10.0, 1, 100), ("Low", 1, 1, 1)], whole={"Epochs"})
    check_ranges([("Rate", 0.25, 0.0, 1.0)])  # a fraction is fine where whole numbers are not asked for


@pytest.mark.parametrize("seconds", [0, -1, math.inf, math.nan, "60", True, 86_401])
def test_bad_time_budgets(seconds):
    with pytest.raises(InputError, match="time budget"):
        check_time_budget(seconds)


def test_good_time_budgets_and_switches():
    for seconds in (None, 0.5, 60, 86_400):
        check_time_budget(seconds)
    check_switch("Augmentation", False)
    with pytest.raises(InputError, match="Augmentation must be on or off"):
        check_switch("Augmentation", "yes")
