"""Projects on screen: the Home page's list (open, rename, duplicate, delete), the sidebar's switch between the
open project's datasets, and the question a new file asks while a project with data is open."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from segmentation.store.workspace import format_size
from segmentation.understand.wording import shorten_middle

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


# --------------------------------------------------------------------------- datasets of the open project
def dataset_switcher() -> None:
    """The current dataset in the sidebar: a "Dataset" switch when the open project holds several (each with its
    own runs), else its name. Call inside ``st.sidebar``."""
    state = studio()
    dataset = state.dataset
    current = state.links["dataset_id"]
    datasets = ws.project_datasets()
    ids = [d.id for d in datasets]
    size = f"{len(dataset.table):,} rows · {len(dataset.table.columns):,} columns"
    if len(datasets) < 2 or current not in ids:
        st.markdown(f"**{md(dataset.name)}**")
        st.caption(size)
        return
    # the sidebar's box holds about 30 characters: the name keeps its start and end, the rows come after
    labels = {d.id: f"{shorten_middle(d.name, max(27 - len(f'{d.n_rows:,} rows'), 12))} · {d.n_rows:,} rows"
              for d in datasets}
    project_id = (state.project or {}).get("id")
    chosen = st.selectbox("Dataset", ids, index=ids.index(current), format_func=labels.get,
                          key=f"sidebar_dataset_{project_id}_{current}",
                          help="Every file loaded into this project, each with its own runs. Pick one to see it "
                               "and its runs; nothing is lost by switching.")
    st.caption(f"{md(dataset.name)} · {size} · {len(datasets)} datasets in this project")
    if chosen != current:
        with user_errors("The dataset could not be opened."):
            ws.switch_dataset(chosen)
            st.rerun()


def dataset_caption() -> None:
    """Under the Data page's heading: which of the open project's datasets this is, when it holds several (on a
    short screen the sidebar's switch can sit below the fold)."""
    state = studio()
    datasets = ws.project_datasets()
    ids = [d.id for d in datasets]
    current = state.links["dataset_id"]
    if len(datasets) > 1 and current in ids and state.project:
        st.caption(f"Dataset {ids.index(current) + 1} of {len(datasets)} in the project "
                   f"“{md(state.project['name'])}”, each with its own runs: switch with **Dataset** in the sidebar.")


def upload_question() -> None:
    """Ask where a file loaded while a project with data is open should go: added to this project (its datasets
    and runs stay, a switch away) or into a new project of its own. The suggestion is a new project when the
    file shares no column with the project's datasets."""
    state = studio()
    held = state.held_upload
    project = state.project
    if held is None or project is None:
        return
    dataset = held[0]
    new_first = ws.suggest_new_project(dataset)
    labels = {"add": f"Add to this project “{md(project['name'])}”",
              "new": f"New project “{md(ws.project_name_for(dataset.name))}”"}
    with st.container(border=True, key="upload_question"):
        st.markdown(f"**Where should “{md(dataset.name)}” go?** {len(dataset.table):,} rows, "
                    f"{len(dataset.table.columns):,} columns.")
        choice = st.radio("Where the file goes", list(labels), index=1 if new_first else 0, format_func=labels.get,
                          key=f"upload_place_{dataset.digest[:12]}", horizontal=True, label_visibility="collapsed")
        st.caption(("It shares no column with this project's data, so a project of its own is suggested. "
                    if new_first else "It shares columns with this project's data, so adding it is suggested. ")
                   + "Nothing is lost either way: what is here stays, a switch away in the sidebar.")
        buttons = st.container(horizontal=True, gap="small")
        if buttons.button("Continue", type="primary", icon=":material/check:", key="upload_place_go"):
            ws.settle_upload(new_project=choice == "new")
            st.rerun()
        if buttons.button("Keep the current data", key="upload_place_cancel"):
            state.hold_upload(None)
            st.rerun()
