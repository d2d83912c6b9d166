"""AppTest of the house price page: presets, the estimate, both datasets, every tab, bad input and uploads."""

from __future__ import annotations

import pytest

from tests.app.helpers import open_page, open_tab, texts

TAB = "house_prices_tab"
AMES = "Ames, Iowa (house sales, 2006-10)"


def price(at) -> int:
    """The estimated price tile as an integer number of dollars."""
    tiles = {m.label: m.value for m in at.metric}
    value = next(v for k, v in tiles.items() if k.startswith("Estimated price"))
    return int(value.replace("$", "").replace(",", ""))


def test_house_prices_page_estimates_presets_and_visits_every_tab():
    at = open_page("house_prices")
    # California, the "Family house" preset, is estimated on arrival with its interval.
    family = price(at)
    assert any("90% prediction interval" in t and "held-out" in t for t in texts(at.success)), texts(at.success)
    at.button(key="house_prices_preset_Luxury").click().run()
    assert not at.exception
    assert at.number_input(key="house_prices_california_median_income").value == 11.0
    luxury = price(at)
    at.button(key="house_prices_preset_Starter home").click().run()
    starter = price(at)
    assert starter < family < luxury, (starter, family, luxury)
    at.button(key="house_prices_estimate").click().run()
    assert price(at) == starter
    # Absurd values in the form: a clear error, no traceback.
    at.number_input(key="house_prices_california_latitude").set_value(75.0).run()
    assert any("Latitude must be between" in t for t in texts(at.error)), texts(at.error)
    at.button(key="house_prices_preset_Family house").click().run()
    assert not at.error and price(at) == family
    # Every tab of California.
    open_tab(at, TAB, "🗺️ Map")
    assert len(at.get("plotly_chart")) == 1
    open_tab(at, TAB, "📈 Performance")
    tiles = {m.label: m.value for m in at.metric}
    assert {"R²", "RMSE", "MAE", "Interval coverage (nominal 90%)"} <= set(tiles), tiles
    assert len(at.get("plotly_chart")) == 3  # predicted vs actual, residuals, importance
    open_tab(at, TAB, "⚖️ Compare approaches")
    at.button(key="house_prices_compare").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 6 and {"r2", "rmse_log"} <= set(table.columns), table
    assert any("no outlier step" in m for m in table["model"])
    open_tab(at, TAB, "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))
    # Switch to Ames: its own form, presets and a neighborhood chart instead of a map.
    open_tab(at, TAB, "🔎 Estimate")
    at.radio(key="house_prices_dataset").set_value(AMES).run()
    assert not at.exception
    ames_family = price(at)
    at.button(key="house_prices_preset_Luxury").click().run()
    assert price(at) > 1.5 * ames_family
    at.number_input(key="house_prices_ames_Gr_Liv_Area").set_value(-50.0).run()
    assert any("Living area (sq ft) must be between" in t for t in texts(at.error)), texts(at.error)
    open_tab(at, TAB, "🗺️ Map")
    assert len(at.get("plotly_chart")) == 2
    open_tab(at, TAB, "📈 Performance")
    assert not at.exception
    # The outlier toggle retrains without the step, and the card says so.
    at.toggle(key="house_prices_outliers").set_value(False).run()
    assert not at.exception
    open_tab(at, TAB, "🪪 Model card")
    assert any("Outlier step: off" in t for t in texts(at.markdown))


@pytest.fixture(scope="module")
def upload_page():
    at = open_page("house_prices")
    open_tab(at, TAB, "📂 Your data")
    return at


def test_upload_tab_trains_on_the_example_table(upload_page):
    at = upload_page
    assert at.selectbox(key="house_prices_target").value == "SalePrice"
    at.button(key="house_prices_train_upload").click().run()
    assert not at.exception
    assert any("to predict `SalePrice`" in t for t in texts(at.success))
    assert "R²" in {m.label for m in at.metric}


def _rows(n: int) -> str:
    return "\n".join(f"{800 + 10 * i},town{i % 3},{100_000 + 900 * i}" for i in range(n))


BAD_UPLOADS = [
    ("empty.csv", b"", None, "is empty"),
    ("junk.csv", bytes(range(256)) * 40_000, None, "binary data"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, None, "PNG image"),
    ("one-row.csv", b"area,price\n1200,200000\n", None, "at least 2"),
    ("words.csv", b"street,town\nmain,ames\nelm,ames\nfirst,ames\n", None, "no numeric column"),
    ("few.csv", ("area,town,price\n" + _rows(5)).encode(), "price", "at least 30"),
    ("text-target.csv", ("area,town,price\n" + _rows(60)).encode(), "town", "holds text"),
    ("empty-target.csv", ("area,price,blank\n" + "\n".join(f"{i},{i}," for i in range(60))).encode(), "blank", "every value is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "payload", "target", "message"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_show_an_error_and_the_page_survives(upload_page, name, payload, target, message):
    at = upload_page
    at.file_uploader(key="house_prices_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    if target is not None:
        at.selectbox(key="house_prices_target").set_value(target).run()
        at.button(key="house_prices_train_upload").click().run()
        assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)
    # The rest of the page still works.
    open_tab(at, TAB, "🔎 Estimate")
    at.button(key="house_prices_preset_Starter home").click().run()
    assert price(at) > 0
    open_tab(at, TAB, "📂 Your data")


def test_text_in_a_numeric_column_is_tolerated_and_reported(upload_page):
    at = upload_page
    rows = _rows(60) + "\nbig,town1,250000\n"
    at.file_uploader(key="house_prices_upload").set_value(
        ("mixed.csv", f"area,town,price\n{rows}".encode(), "text/csv")
    ).run()
    assert not at.exception
    at.selectbox(key="house_prices_target").set_value("price").run()
    at.button(key="house_prices_train_upload").click().run()
    assert not at.exception
    assert any("to predict `price`" in t for t in texts(at.success)), texts(at.error)
