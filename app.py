"""Entry point: routes only. Navigation is built from the demo registry."""

from engines.core import threads

threads.configure_once()  # before scikit-learn and torch load: thread pools sized to the CPUs, OpenMP never spins

import streamlit as st  # noqa: E402

from app_pages import ui  # noqa: E402
from engines.registry import by_section  # noqa: E402

st.set_page_config(page_title="ML Demo Gallery", page_icon="🧪", layout="wide")

home = st.Page("app_pages/home.py", title="Gallery", icon="🏠", default=True)
system = st.Page("app_pages/system.py", title="System", icon="⚙️", url_path="system")
sections = {
    section: [st.Page(d.page, title=d.title, icon=d.icon, url_path=d.key) for d in demos]
    for section, demos in by_section().items()
}
page = st.navigation({"Start": [home], **sections, "About": [system]}, expanded=True)
ui.release_memory_if_over_budget()  # before the page runs, so it reloads what it needs
ui.warm_up_once()  # the shipped models load in the background while the first visitor reads the gallery
# Every demo listed, however many; an unexpected error is logged and the visitor gets a calm message, never a
# traceback (st.stop, st.rerun and st.switch_page pass through).
ui.run_page(page)
