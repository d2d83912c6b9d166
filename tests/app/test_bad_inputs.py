"""Bad input, gallery-wide: every row of tests/app/bad_inputs.py tried on its page, and docs/bad-input.md checked.

Each row opens its page, opens its tab, puts the bad value in, and then the page must show the row's message in
the row's kind of element (an ``st.error`` unless the row says otherwise), show no exception and no traceback, and
keep working: a rerun afterwards is clean.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from engines.registry import DEMOS, ROOT
from tests.app.bad_inputs import LEVELS, PENDING, ROWS, TAB_KEYS, BadInput, markdown_table
from tests.app.helpers import open_page, open_tab

START, END = "<!-- bad-input-table:start -->", "<!-- bad-input-table:end -->"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
RUN_TIMEOUT = 120  # a page may train or read a large upload on the first run of a row
XFAIL: dict[str, str] = {}  # rows whose page does not do the right thing yet: bugs to fix, by row id


def shown(at: AppTest) -> dict[str, list[str]]:
    """Every message-like element on the page, by kind, as text."""
    kinds = (*LEVELS, "exception")
    return {kind: [str(e.value) for e in getattr(at, kind)] for kind in kinds}


def everything(at: AppTest) -> list[str]:
    """The text of every element of the page that has a value (for the traceback check)."""
    found = []
    for node in at.main, at.sidebar:
        stack = [node]
        while stack:
            element = stack.pop()
            stack.extend(getattr(element, "children", {}).values())
            value = getattr(element, "value", None)
            if isinstance(value, str):
                found.append(value)
    return found


def case(row: BadInput):
    marks = [pytest.mark.xfail(strict=True, reason=XFAIL[row.id])] if row.id in XFAIL else []
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", [case(r) for r in ROWS])
def test_bad_input_gets_a_clear_message_and_the_page_keeps_working(row: BadInput):
    at = open_page(row.page)
    at.default_timeout = RUN_TIMEOUT
    if row.tab is not None:
        open_tab(at, TAB_KEYS[row.page], row.tab)
    row.action(at)
    seen = shown(at)
    assert not at.exception, [e.value for e in at.exception]
    messages = seen[row.level]
    assert any(re.search(row.pattern, m, re.IGNORECASE | re.DOTALL) for m in messages), (row.level, seen)
    leaked = [t for t in everything(at) if TRACEBACK.search(t)]
    assert not leaked, f"a traceback is shown: {leaked[0][:500]}"
    if row.check is not None:
        row.check(at)
    at.run()  # the page keeps working: the next rerun is clean
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.value for t in at.title), "the page still draws its title"


def test_the_docs_hold_the_table_between_its_markers():
    doc = (ROOT / "docs" / "bad-input.md").read_text(encoding="utf-8")
    assert doc.count(START) == 1 and doc.count(END) == 1, "docs/bad-input.md needs both markers once"
    between = doc.split(START, 1)[1].split(END, 1)[0]
    assert between.strip("\n") == markdown_table().strip("\n"), (
        "docs/bad-input.md is stale: regenerate its table with tests.app.bad_inputs.markdown_table()"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/bad-input.md)" in readme and f"{len(ROWS)} rows" in readme, "the README links to it with the count"


def test_the_table_covers_every_page():
    assert len(ROWS) >= 60, len(ROWS)
    assert len({r.id for r in ROWS}) == len(ROWS), "row ids are unique"
    covered = {r.page for r in ROWS}
    missing = [d.key for d in DEMOS if d.key not in PENDING and d.key not in covered]
    assert not missing, f"pages without a bad-input row: {missing}"
    assert not covered - {d.key for d in DEMOS}, "rows name only registered pages"
