"""The Home page's list of projects: one row per project with open, rename, duplicate and delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from segmentation.store.workspace import format_size

from . import cache
from . import workspace_sync as ws
from .format import md, user_errors
from .frame import PAGES
from .state import studio

if TYPE_CHECKING:
    from segmentation.store.workspace import ProjectInfo


def open_and_go(project_id: str) -> None:
    """Open a project (unless it is the open one) and go to the page the analyst was on in it."""
    with user_errors("The project could not be opened."):
        if project_id != (studio().project or {}).get("id"):
            ws.open_project(project_id)
        page = studio().page
        st.switch_page(PAGES[page] if page else PAGES["home"], query_params=ws.address())


def project_row(info: ProjectInfo, current_id: str | None) -> None:
    """One project: name, last change, contents, size; open it, or rename, duplicate or delete it."""
    is_open = info.id == current_id
    with st.container(border=True, key=f"project-{info.id}"):
        about, actions = st.columns([3, 2], vertical_alignment="center")
        about.markdown(f"**{md(info.name)}**" + (" :blue-badge[Open]" if is_open else ""))
        buttons = actions.container(horizontal=True, horizontal_alignment="right", gap="small", wrap=False)
        if info.damaged:
            if buttons.button("Delete", key=f"delete_{info.id}", icon=":material/delete:"):
                studio().ask(f"delete:{info.id}")
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
        if studio().asking == f"delete:{info.id}":
            confirm_delete(info, is_open)


def manage_project(info: ProjectInfo) -> None:
    """Rename, duplicate or delete a project (in its row's menu)."""
    new_name = st.text_input("Name", value=info.name, key=f"rename_name_{info.id}")
    if st.button("Rename", key=f"rename_{info.id}", icon=":material/edit:"):
        with user_errors():
            ws.workspace().rename_project(info.id, new_name)
            if info.id == (studio().project or {}).get("id"):
                studio().set_project_name(ws.workspace().project_info(info.id).name)
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
        studio().ask(f"delete:{info.id}")
        st.rerun()


def confirm_delete(info: ProjectInfo, is_open: bool) -> None:
    """Ask before deleting a project for good; deleting the open one closes it."""
    st.warning(f"Delete **{md(info.name)}** for good? Its datasets, runs, names and notes "
               f"({format_size(info.size_bytes)}) are removed from this computer.", icon=":material/warning:")
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Delete for good", key=f"delete_confirm_{info.id}", type="primary"):
        studio().ask(None)
        with user_errors():
            ws.workspace().delete_project(info.id)
            cache.forget_projects()
            if is_open:
                ws.close_project()
            studio().notify(f"Deleted the project “{info.name}”.")
            st.rerun()
    if no.button("Cancel", key=f"delete_cancel_{info.id}"):
        studio().ask(None)
        st.rerun()
