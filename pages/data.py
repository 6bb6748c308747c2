"""Data: load a file, check how it was read, set each column's role, and see data quality."""

import streamlit as st

from ui.data_view import (
    load_report_panel,
    masked_preview,
    quality_panel,
    reading_options_panel,
    roles_editor,
    transactions_offer,
)
from ui.format import user_errors
from ui.frame import PAGES, page_header
from ui.loading import load_demo, show_load_error, upload_box
from ui.projects_view import dataset_caption, upload_question
from ui.state import studio
from ui.workspace_sync import open_demo

page_header("Data", "Load your customers, check how the file was read, and tell Segment Studio what each "
                    "column is.")

state = studio()
upload, demo = st.columns([3, 1], vertical_alignment="bottom")
with upload:
    if upload_box("data_upload", ask=True):  # a file new to the open project asks where it goes
        st.rerun()
with demo:
    if st.button("Use demo data", icon=":material/rocket_launch:", key="data_demo", width="stretch"):
        with user_errors("The demo data could not be opened."):
            if open_demo(open_project_only=True) or load_demo(ask=True):  # already here, else load it
                st.rerun()
show_load_error()
upload_question()

dataset = state.dataset
if dataset is None:
    st.info("No data loaded yet. Upload a file above, or use the demo data to look around.",
            icon=":material/arrow_upward:")
    st.stop()

st.subheader(dataset.name, anchor=False)
dataset_caption()
load_report_panel(dataset)
if state.source is not None:
    reading_options_panel(state.source, dataset)
with user_errors():
    transactions_offer(dataset)

st.subheader("Column roles", anchor=False)
st.caption("Roles decide how each column is used. Change any role in the table; the next run uses your choice.")
with user_errors():
    roles = roles_editor(dataset)
    st.subheader("Preview", anchor=False)
    masked_preview(dataset, roles)
    st.subheader("Data quality", anchor=False)
    quality_panel(dataset, roles)
    st.page_link(PAGES["segment"], label="Next: segment these customers", icon=":material/arrow_forward:")
