"""Home page: the gallery of demos, generated from the registry. No heavy imports here."""

import streamlit as st

from engines.core import stacks
from engines.registry import DEMOS, SECTIONS, by_section

CARDS_PER_ROW = 3

st.title("🧪 ML Demo Gallery")
st.markdown(
    "Real machine-learning systems you can click through: each demo trains or loads a genuine model, "
    "shows its predictions, explains them, compares it with simpler approaches, and ends with a model card. "
    "Everything runs **offline on built-in data** and switches to the real public datasets when they are available."
)
left, mid, right = st.columns(3)
left.metric("Demos", len(DEMOS))
mid.metric("Sections", len(by_section()), help=", ".join(SECTIONS))
right.metric(
    "Needs internet", "No", help="Every page has an embedded default: bundled or generated data, self-trained models."
)

for section, demos in by_section().items():
    st.header(section, divider="gray")
    for start in range(0, len(demos), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, demo in zip(columns, demos[start : start + CARDS_PER_ROW], strict=False):
            with column.container(border=True):
                st.subheader(f"{demo.icon} {demo.title}")
                st.write(demo.pitch)
                st.markdown(" ".join(f":violet-badge[{t}]" for t in demo.techniques))
                for stack in (s for s in demo.needs if not stacks.has(s)):  # a reduced install (see the demo page)
                    spec = stacks.STACKS[stack]
                    st.caption(f"🧩 Needs {spec.name}, not installed on this server: `{spec.install}`")
                st.page_link(demo.page, label="Open the demo", icon="▶️")

with st.expander("About this gallery"):
    st.markdown(
        """
Every demo is a thin Streamlit page over a pure-Python **engine** (`engines/`) that imports no Streamlit:
the same code runs in the tests, the benchmarks and a notebook.

- **Offline first.** Data is looked up in a local data directory (`GALLERY_DATA_DIR`), then the download cache,
  then the original publisher (when online), and finally a small sample this project generated. Each page says which one it uses.
- **Honest numbers.** Metrics come from held-out data; `python -m benchmarks` re-measures every engine against published anchors.
- **Explanations and model cards** on every page: why this prediction, how good the model is, where it fails.

Run it yourself: `pip install -r requirements.txt && streamlit run app.py`.
"""
    )
