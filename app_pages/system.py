"""System page: memory against the budget, where data and models come from, versions, and clearing the caches."""

import gc
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages import ui
from engines.core import stacks, system


def public_source(row: dict[str, str]) -> dict[str, str]:
    """A data/model setting as any visitor may see it: a folder by its name, never the server's full path."""
    value = row["value"]
    if value.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", value):
        folder = re.split(r"[\\/]", value.rstrip("\\/"))[-1]
        value = f"set (…/{folder})"
    return {**row, "value": value}


def public_job(row: dict) -> dict:
    """A background job as any visitor may see it: why a job failed is in the server log, not on this page (an
    unexpected error's message can name the server's files)."""
    if row.get("state") == "failed":
        return {**row, "message": "failed: the reason is in the server log"}
    return row


st.title("⚙️ System")
st.markdown(
    "What this server is using right now. Every visitor shares one server process: models are loaded the first "
    "time a page needs them, kept in Streamlit's caches for everyone, and the whole gallery has to fit the "
    "deployment's memory (about 2.7 GB on Streamlit Community Cloud; the gallery aims for 2.0 GB with every page "
    "visited)."
)

mem = system.memory()
left, right = st.columns([2, 3])
with left:
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=mem.current_mb,
            number={"suffix": " MiB", "valueformat": ".0f"},
            title={"text": "Resident memory"},
            gauge={
                "axis": {"range": [0, max(mem.budget_mb, mem.peak_mb) * 1.05]},
                "bar": {"color": "#1f77b4"},
                "threshold": {"line": {"color": "red", "width": 3}, "value": mem.budget_mb},
                "steps": [{"range": [0, mem.peak_mb], "color": "#e8eef7"}],
            },
        )
    )
    figure.update_layout(height=250, margin={"l": 30, "r": 30, "t": 50, "b": 10})
    st.plotly_chart(figure, width="stretch", key="system_memory")
with right:
    a, b, c = st.columns(3)
    a.metric("In use", f"{mem.current_mb:.0f} MiB", help="Resident set size of the server process now.")
    b.metric("Peak", f"{mem.peak_mb:.0f} MiB", help="The most the process has used since it started.")
    c.metric("Budget", f"{mem.budget_mb:.0f} MiB", help="GALLERY_MEMORY_BUDGET_MB (default 2048).")
    st.progress(min(mem.share, 1.0), text=f"{mem.share:.0%} of the budget in use")
    if mem.share > 0.9:
        st.warning("Memory is close to the budget: the server releases the cached models by itself when it goes over.")
    loaded = system.loaded_heavy_modules()
    st.markdown("**Heavy packages loaded so far** (each page imports only what it needs)")
    st.markdown(" ".join(f":{'green' if on else 'gray'}-badge[{name}]" for name, on in loaded.items()))

st.subheader("Data and models")
st.dataframe(pd.DataFrame([public_source(row) for row in system.sources()]), hide_index=True, width="stretch")

st.subheader("Threads and background work")
st.markdown(
    "Two CPUs shared with other tenants: one thread per numerical operation (a second thread of the same "
    "operation only waits for the first on a busy host), and one training at a time in a queue, so the next "
    "visitor's answer is never starved. A training outlives the visit that started it and is saved for everyone."
)
st.dataframe(pd.DataFrame(system.thread_facts()), hide_index=True, width="stretch")
job_rows = [public_job(row) for row in system.job_rows()]
if job_rows:
    st.dataframe(
        pd.DataFrame(job_rows),
        hide_index=True,
        width="stretch",
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0)},
    )
else:
    st.caption("No background work has run on this server yet.")
with st.expander(f"Models shipped with the gallery ({len(shipped := system.shipped_rows())})"):
    st.caption(
        "Built by `python -m engines.build_models`; each file's sha256 and the library versions are checked "
        "before loading, and a model built with other versions is rebuilt in the background."
    )
    st.dataframe(pd.DataFrame(shipped), hide_index=True, width="stretch")

st.subheader("Caches")
st.markdown(
    "Trained models and loaded pretrained ones stay in memory so the next visitor gets them at once. Clearing "
    "frees them for everyone; each page reloads (or retrains) what it needs on its next visit. Files on disk are "
    "kept. The server also releases them by itself when it goes over its memory budget."
)
if not ui.operator_token():
    st.caption(
        f"Clearing is for the operator: set the `{ui.OPERATOR_ENV}` environment variable, or `token` under "
        "`[operator]` in the app's secrets (see `.streamlit/secrets.toml.example`), to a random secret of "
        f"{ui.MIN_OPERATOR_TOKEN} characters or more; the button is then offered here behind that secret."
    )
else:
    with st.form("system_clear_form", enter_to_submit=True, border=False):
        typed = st.text_input("Operator secret", type="password", key="system_operator_token")
        clear = st.form_submit_button("Clear the in-memory caches", key="system_clear")
    if clear:
        if not ui.is_operator(typed or ""):
            st.error("That is not the operator's secret: nothing was cleared.")
        else:
            before = system.resident_mb()
            st.cache_resource.clear()
            st.cache_data.clear()
            gc.collect()
            after = system.resident_mb()
            st.success(
                f"Caches cleared: {before:.0f} MiB → {after:.0f} MiB resident (memory returns to the system lazily)."
            )

st.subheader("Versions")
st.dataframe(
    pd.DataFrame(list(system.versions().items()), columns=["package", "version"]), hide_index=True, width="stretch"
)
st.markdown("**Optional stacks** (a deployer may leave them out; the demos that need one say so)")
st.dataframe(
    pd.DataFrame(
        {
            "stack": f"{spec.name} ({spec.contents})",
            "installed": "yes" if stacks.has(key) else "no: " + ", ".join(stacks.missing(key)) + " missing",
            "install with": spec.install,
        }
        for key, spec in stacks.STACKS.items()
    ),
    hide_index=True,
    width="stretch",
)
