"""Streamlit page scripts, one per demo, plus the home page and shared UI helpers."""
