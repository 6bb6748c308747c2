"""The only Streamlit-aware helpers: typed session state, cached library calls, shared widgets."""
