"""The frame around every page: routing, the page guards, the sidebar (open project, current run, headline).

``render_frame`` draws it and returns the page ``st.navigation`` selected; ``run_page`` runs that page and saves
what it changed. A page starts with ``page_header`` (which routes a page run on its own through the frame) and
guards what it needs with ``require_dataset`` or ``require_result``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from segmentation.errors import SegmentationError
from segmentation.lazy import lazy
from segmentation.understand.wording import shorten_middle

from . import workspace_sync
from .format import fmt_metric, md, user_errors
from .state import RunRecord, studio

io = lazy("segmentation.ingest.read")

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PAGES = {
    "home": "pages/home.py",
    "data": "pages/data.py",
    "segment": "pages/segment.py",
    "map": "pages/map.py",
    "profiles": "pages/profiles.py",
    "quality": "pages/quality.py",
    "export": "pages/export.py",
    "assign": "pages/assign.py",
    "settings": "pages/settings.py",
}
PAGE_SPECS = {  # key: (title, icon, url path)
    "home": ("Home", ":material/home:", ""),
    "data": ("Data", ":material/table_view:", "data"),
    "segment": ("Segment", ":material/hub:", "segment"),
    "map": ("Map", ":material/scatter_plot:", "map"),
    "profiles": ("Profiles", ":material/groups:", "profiles"),
    "quality": ("Quality", ":material/insights:", "quality"),
    "export": ("Export", ":material/download:", "export"),
    "assign": ("Assign", ":material/person_add:", "assign"),
    "settings": ("Settings", ":material/settings:", "settings"),
}
SECTIONS = {"": ["home"], "Prepare": ["data", "segment"], "Explore": ["map", "profiles", "quality"],
            "Act": ["export", "assign"], "Workspace": ["settings"]}


# --------------------------------------------------------------------------- routing
def navigation_pages() -> dict[str, list[Any]]:
    """The app's pages by section, each with its own URL (/data, /segment, ...); Home is the default."""
    return {section: [st.Page(PAGES[key], title=PAGE_SPECS[key][0], icon=PAGE_SPECS[key][1],
                              url_path=PAGE_SPECS[key][2] or None, default=key == "home") for key in keys]
            for section, keys in SECTIONS.items()}


def render_frame() -> Any:
    """The frame around every page: page config, logo, styles, navigation, the open project (brought back from
    the address on a refresh), sidebar summary. Returns the page ``st.navigation`` selected; run it with
    ``run_page``."""
    st.set_page_config(page_title="Segment Studio", page_icon=str(ASSETS / "favicon.png"), layout="wide",
                       initial_sidebar_state="expanded")
    if (ASSETS / "logo.svg").exists():
        st.logo(str(ASSETS / "logo.svg"), size="large")
    if (ASSETS / "style.css").exists():
        st.html(ASSETS / "style.css")
    page = st.navigation(navigation_pages())
    workspace_sync.sync_session(page.url_path)
    project_switcher()
    sidebar_summary()
    show_notice()
    return page


def run_page(page: Any) -> None:
    """Run the page ``st.navigation`` selected, then save what it changed to the open project: also when the
    page stopped early or asked for a rerun, so no edit is lost to a refresh."""
    try:
        page.run()
    finally:
        workspace_sync.persist()
    workspace_sync.keep_address()


def ensure_routed() -> None:
    """Run this page inside the frame if app.py did not: every page calls this first.

    Until some session has called ``st.navigation``, Streamlit still treats
    ``pages/`` as a legacy pages folder and runs a page file on its own: on the
    very first visit to a fresh server at, say, /map, and in every AppTest run.
    Such a run draws the frame here (whose ``st.navigation`` call also switches
    the legacy mode off for good), runs the page through it exactly as app.py
    would (same widget identities, so a click that started the run is kept),
    and stops.
    """
    state = studio()
    if state.pop_routed():
        return
    page = render_frame()
    state.mark_routed()
    run_page(page)
    st.stop()


# --------------------------------------------------------------------------- guards
def empty_state(headline: str, detail: str, page: str, label: str, icon: str = ":material/arrow_forward:"
                ) -> None:
    """Say what to do next, link to the page that does it, and stop the page here."""
    with st.container(border=True):
        st.markdown(f"**{headline}**")
        st.caption(detail)
        st.page_link(PAGES[page], label=label, icon=icon)
    st.stop()


def require_dataset() -> io.Dataset:
    dataset = studio().dataset
    if dataset is None:
        empty_state("No data loaded yet — go to Data.", "Upload a customer file there, or use the demo data to "
                    "look around.", "data", "Go to Data", ":material/table_view:")
    return dataset


def require_result() -> RunRecord:
    """The current run as the analyst curated it (merges, splits, names); stops the page when there is none."""
    require_dataset()
    run = studio().curated_run()
    if run is None:
        empty_state("No segmentation yet — go to Segment.", "Choose the settings there and run a segmentation; "
                    "the map, profiles, quality checks and exports appear once it has run.", "segment",
                    "Go to Segment", ":material/hub:")
    return run


def page_header(title: str, intro: str) -> None:
    ensure_routed()
    st.title(title)
    st.caption(intro)


def show_notice() -> None:
    """A one-off confirmation left by the previous run of the script (e.g. "Loaded 2,000 rows"), as plain text:
    it often quotes a file, project or segment name."""
    notice = studio().pop_notice()
    if notice:
        st.toast(md(notice), icon=":material/check_circle:")


# --------------------------------------------------------------------------- sidebar
def project_switcher() -> None:
    """The open project at the top of the sidebar, and a switch to any other project of the workspace."""
    state = studio()
    current = state.project
    try:
        projects = [p for p in workspace_sync.list_projects() if not p.damaged]
    except SegmentationError:
        projects = []  # the Home and Settings pages say what is wrong with the workspace
    names = {p.id: p.name for p in projects}
    if current is not None and current["id"] not in names:  # created a moment ago; the list is a little behind
        names = {current["id"]: current["name"], **names}
    if not names:
        return
    with st.sidebar:
        chosen = st.selectbox("Project", list(names), format_func=lambda i: shorten_middle(names[i], 28),  # fits
                              placeholder="Open a project",
                              index=list(names).index(current["id"]) if current else None,
                              key=f"sidebar_project_{current['id'] if current else 'none'}",
                              help="Everything you do is saved in the open project. Manage projects on Home.")
        if chosen is not None and (current is None or chosen != current["id"]):
            with user_errors("The project could not be opened."):
                workspace_sync.open_project(chosen)
                st.rerun()


def sidebar_summary() -> None:
    state = studio()
    dataset = state.dataset
    with st.sidebar:
        if dataset is None:
            st.caption("No data loaded yet.")
            return
        from .projects_view import dataset_switcher  # projects_view links to pages listed here

        dataset_switcher()
        runs = state.runs
        run = state.current_run
        if run is None:
            st.caption("Not segmented yet.")
            return
        if len(runs) > 1:
            chosen = st.selectbox("Current run", [r.run_id for r in reversed(runs)],
                                  index=[r.run_id for r in reversed(runs)].index(run.run_id),
                                  format_func=lambda rid: next(r.title for r in runs if r.run_id == rid),
                                  key="sidebar_run")
            if chosen != run.run_id:
                state.select_run(chosen)
                st.rerun()
        else:
            st.markdown(f"**{run.title}**")  # the run's number and algorithm: the app's own words
        metrics = state.curated_run().result.metrics  # after the analyst's merges and splits
        st.caption(f"{metrics['n_segments']} segments · silhouette {fmt_metric(metrics.get('silhouette'))}"
                   + (f" · {metrics['noise_share']:.0%} unassigned" if metrics.get("noise_share") else ""))
