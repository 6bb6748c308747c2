"""Home: what Segment Studio does, the analyst's projects, and the quickest way in."""

import streamlit as st

from segmentation.store.workspace import format_size
from ui import cache
from ui import workspace_sync as ws
from ui.state import studio
from ui.widgets import PAGES, ensure_routed, load_demo, md, show_load_error, upload_box, user_errors

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


def open_and_go(project_id: str) -> None:
    """Open a project (unless it is the open one) and go to the page the analyst was on in it."""
    with user_errors("The project could not be opened."):
        if project_id != (state.project or {}).get("id"):
            ws.open_project(project_id)
        page = state.page
        st.switch_page(PAGES[page] if page else PAGES["home"], query_params=ws.address())


def project_row(info, current_id: str | None) -> None:
    """One project: name, last change, contents, size; open it, or rename, duplicate or delete it."""
    is_open = info.id == current_id
    with st.container(border=True, key=f"project-{info.id}"):
        about, actions = st.columns([3, 2], vertical_alignment="center")
        about.markdown(f"**{md(info.name)}**" + (" :blue-badge[Open]" if is_open else ""))
        buttons = actions.container(horizontal=True, horizontal_alignment="right", gap="small", wrap=False)
        if info.damaged:
            if buttons.button("Delete", key=f"delete_{info.id}", icon=":material/delete:"):
                state.ask(f"delete:{info.id}")
                st.rerun()
            st.error(md(info.damaged), icon=":material/broken_image:")
        else:
            best = f" · best silhouette {info.best_run[1]:.2f}" if info.best_run else ""
            about.caption(f"Changed {ws.ago(info.updated)} · {info.n_datasets} dataset"
                          f"{'s' if info.n_datasets != 1 else ''} · {info.n_runs} run{'s' if info.n_runs != 1 else ''}"
                          f"{best} · {format_size(info.size_bytes)}")
            if buttons.button("Continue" if is_open else "Open", key=f"open_{info.id}",
                              type="primary" if is_open else "secondary"):
                open_and_go(info.id)
            with buttons.popover("", icon=":material/more_horiz:", key=f"manage_{info.id}",
                                 help="Rename, duplicate or delete"):
                manage_project(info)
        if state.asking == f"delete:{info.id}":
            confirm_delete(info, is_open)


def manage_project(info) -> None:
    new_name = st.text_input("Name", value=info.name, key=f"rename_name_{info.id}")
    if st.button("Rename", key=f"rename_{info.id}", icon=":material/edit:"):
        with user_errors():
            ws.workspace().rename_project(info.id, new_name)
            if info.id == (state.project or {}).get("id"):
                state.set_project_name(ws.workspace().project_info(info.id).name)
            cache.forget_projects()
            st.rerun()
    copy_name = st.text_input("Name of the copy", value=f"{info.name} (copy)"[:80], key=f"duplicate_name_{info.id}")
    if st.button("Duplicate", key=f"duplicate_{info.id}", icon=":material/content_copy:"):
        with user_errors():
            ws.workspace().duplicate_project(info.id, copy_name)
            cache.forget_projects()
            st.rerun()
    st.divider()
    if st.button("Delete…", key=f"delete_{info.id}", icon=":material/delete:"):
        state.ask(f"delete:{info.id}")
        st.rerun()


def confirm_delete(info, is_open: bool) -> None:
    st.warning(f"Delete **{md(info.name)}** for good? Its datasets, runs, names and notes "
               f"({format_size(info.size_bytes)}) are removed from this computer.", icon=":material/warning:")
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Delete for good", key=f"delete_confirm_{info.id}", type="primary"):
        state.ask(None)
        with user_errors():
            ws.workspace().delete_project(info.id)
            cache.forget_projects()
            if is_open:
                ws.close_project()
            state.notify(f"Deleted the project “{info.name}”.")
            st.rerun()
    if no.button("Cancel", key=f"delete_cancel_{info.id}"):
        state.ask(None)
        st.rerun()


st.write("")
projects_column, start_column = st.columns([3, 2], gap="large")
with start_column:
    st.markdown("#### Start a new project")
    st.caption("With the demo data: 2,000 fictional customers of an online shop, with spend, orders, channel and "
               "a review each. Or with your own file.")
    if st.button("Use demo data", type="primary", icon=":material/rocket_launch:", key="home_demo",
                 width="stretch"):
        if load_demo():
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
