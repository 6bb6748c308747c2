"""The only Streamlit-aware code: typed session state, cached library calls, the frame, formatting, and one view
module per area."""
