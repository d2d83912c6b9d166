"""Pure-Python ML engines behind the gallery's pages (no Streamlit imports here)."""
