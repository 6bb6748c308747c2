"""Home: what Segment Studio does, the analyst's projects, and the quickest way in."""

import streamlit as st

from ui import cache
from ui import workspace_sync as ws
from ui.format import md, user_errors
from ui.frame import PAGES, ensure_routed
from ui.loading import load_demo, show_load_error, upload_box
from ui.projects_view import open_and_go, project_row
from ui.state import studio

ensure_routed()
state = studio()
st.title("Segment Studio")
st.markdown("##### Find the groups in your customer base — from their numbers *and* their words — "
            "on your own computer.")

steps = st.columns(3)
for column, (icon, title, text) in zip(steps, [
    (":material/upload_file:", "1 · Load",
     "Upload a customer file (CSV, Excel, Parquet) or order lines. Columns get a role; personal data is masked."),
    (":material/hub:", "2 · Segment",
     "Blend structured fields with free-text feedback, pick an algorithm, and run. Settings are remembered."),
    (":material/insights:", "3 · Explore and share",
     "See customers on a map, read each segment's profile, name it, check quality, and export the labels."),
]):
    with column.container(border=True, height="stretch"):
        st.markdown(f"**{icon} {title}**")
        st.caption(text)


def start_new_project() -> None:
    """Data loaded from Home starts a project of its own (named after the data) instead of joining the open one."""
    state.set_project(None)
    st.switch_page(PAGES["data"])


st.write("")
projects_column, start_column = st.columns([3, 2], gap="large")
with start_column:
    st.markdown("#### Start a new project")
    st.caption("With the demo data: 2,000 fictional customers of an online shop, with spend, orders, channel and "
               "a review each. Or with your own file.")
    if st.button("Use demo data", type="primary", icon=":material/rocket_launch:", key="home_demo",
                 width="stretch"):
        reopened = False
        with user_errors("The demo project could not be opened."):
            reopened = ws.open_demo()  # a project with the demo data exists: open it rather than copy it again
        if reopened:
            st.switch_page(PAGES["data"], query_params=ws.address())
        elif load_demo():
            start_new_project()
    if upload_box("home_upload"):
        start_new_project()
    show_load_error()

with projects_column:
    st.markdown("#### Your projects")
    projects = []
    try:
        projects = ws.list_projects(fresh=True)
    except ws.WorkspaceError as error:
        st.error(md(error), icon=":material/error:")
    with st.form("new_project_form", border=False, enter_to_submit=True):
        name_box, create_box = st.columns([3, 1], vertical_alignment="bottom")
        new_name = name_box.text_input("New project", key="new_project_name", label_visibility="collapsed",
                                       placeholder="New empty project, e.g. Spring campaign")
        if create_box.form_submit_button("Create", icon=":material/add:", key="new_project", width="stretch"):
            with user_errors():
                created = ws.workspace().create_project(new_name)
                cache.forget_projects()
                open_and_go(created.id)
    current = state.project
    for info in sorted(projects, key=lambda p: p.damaged is not None):  # readable ones first, newest first
        project_row(info, current["id"] if current else None)
    if not projects:
        st.caption("No projects yet. Load the demo data or a file and your work is saved in a project "
                   "automatically.")

st.caption(f"Nothing leaves this machine: files, models and results stay in {md(ws.workspace_root())} "
           "(change it in Settings).")
