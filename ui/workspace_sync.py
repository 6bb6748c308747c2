"""The glue between the session and the workspace: open a project into the session, save what changed.

Per script run the frame calls ``sync_session`` before the page and ``persist``
after it (also when the page stopped or asked for a rerun):

- ``sync_session`` opens the project named in the address (``?project=<id>``,
  with ``&run=<id>`` for the run on screen), which is how a browser refresh, a
  bookmark or a second tab come back to exactly where the analyst was; it keeps
  the address in step with the open project, and shows why the last save failed.
- ``persist`` writes to the open project only what differs from what this
  session last wrote or read (the dataset, column roles, new runs, segment names,
  descriptions and notes, curation steps, the page and widget choices). Two tabs
  on one project therefore never overwrite each other's work with stale copies:
  each writes only its own edits, one small transaction each. With no project
  open, loading data creates one named after the data, so work is never lost.

Results and tables are loaded through bounded caches in ``ui.cache``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from segmentation.config import RunConfig, stable_hash
from segmentation.errors import SegmentationError, WorkspaceError
from segmentation.paths import HOME_ENV
from segmentation.store.datasets import find_dataset

from . import cache
from .format import md
from .state import ANNOTATION_FIELDS, Source, Studio, studio

PROJECT_PARAM = "project"
RUN_PARAM = "run"
WORK_PAGES = ("data", "segment", "map", "profiles", "quality", "export", "assign")
"""Pages worth coming back to when a project is opened again (URL paths)."""
_FILE_SUFFIXES = re.compile(r"(\.(csv|tsv|txt|xlsx|xls|parquet|json))?(\.gz)?$", re.IGNORECASE)


# --------------------------------------------------------------------------- where the workspace is
def default_root() -> str:
    """The workspace folder used when the Settings page has not chosen another: $SEGMENT_STUDIO_HOME or
    ~/.segment-studio."""
    return str(Path(os.environ.get(HOME_ENV) or Path.home() / ".segment-studio").expanduser())


def workspace_root(state: Studio | None = None) -> str:
    """The workspace folder of this session."""
    return (state or studio()).workspace_root or default_root()


def workspace() -> Any:
    """This session's Workspace (raises WorkspaceError when its folder cannot be used)."""
    return cache.workspace(workspace_root())


def list_projects(fresh: bool = False) -> list[Any]:
    """The workspace's projects (ProjectInfo), most recently changed first. The list is kept a few seconds for
    the sidebar; ``fresh`` reads it again (changes made by the CLI or another window show at once)."""
    if fresh:
        cache.forget_projects()
    return cache.project_list(workspace_root())


def choose_root(root: str | None) -> None:
    """Use another workspace folder for this session (None: the default); closes the open project."""
    state = studio()
    if root is not None:
        root = str(Path(root).expanduser().resolve())
        cache.workspace(root)  # refuses a folder that cannot be used, before anything changes
        if root == default_root():
            root = None
    close_project()
    state.set_workspace_root(root)


# --------------------------------------------------------------------------- opening and closing
def open_project(project_id: str, run_id: int | None = None, dataset_id: int | None = None) -> None:
    """Make ``project_id`` the session's project and bring back one of its datasets with its runs, names, notes,
    curation and choices. ``run_id`` (a stored run id) picks the run on screen and so its dataset; ``dataset_id``
    the dataset; by default the dataset and run the analyst was on (``Project.active``).

    Raises WorkspaceError (the project is missing or damaged); the session is then left empty, with no project.
    """
    try:
        _open_project(project_id, run_id, dataset_id)
    except SegmentationError:
        close_project()
        raise


def _open_project(project_id: str, run_id: int | None, dataset_id: int | None = None) -> None:
    state = studio()
    root = workspace_root(state)
    project = cache.project(root, project_id)
    name = project.name
    saved_ui = project.ui_state()
    datasets = project.datasets()
    runs = project.runs()
    active_dataset, active_run = project.active()
    if dataset_id is None and run_id is not None:
        dataset_id = next((r.dataset_id for r in runs if r.id == run_id), None)
    if dataset_id is None or all(d.id != dataset_id for d in datasets):
        dataset_id = active_dataset
    state.hold_upload(None)
    state.reset_widget("sidebar_run")  # drawn again from the runs of the dataset opened now

    state.set_project(project_id, name)
    state.set_page(saved_ui.get("page") if saved_ui.get("page") in WORK_PAGES else None)
    if dataset_id is None:
        state.set_dataset(None)
        keep_address()
        return
    info = next(d for d in datasets if d.id == dataset_id)
    dataset = cache.stored_dataset(root, project, dataset_id)
    snapshot: dict[str, Any] = {"role_overrides": dict(info.role_overrides), "runs": [], "annotations": {},
                                "run_config": _readable_config(saved_ui.get("run_config")),
                                "form": saved_ui.get("form") or {}, "choices": saved_ui.get("choices") or {}}
    results, stored_ids, curation, unreadable = {}, {}, {}, []
    for number, run in enumerate((r for r in runs if r.dataset_id == dataset_id), start=1):
        try:
            result = cache.stored_run(root, project, run.id)
        except SegmentationError as error:  # one damaged run must not hide the others
            unreadable.append(f"Run {number} could not be read: {error}")
            continue
        key = f"run-{number}-{stable_hash(result.data_digest, result.config)[:8]}"
        results[key], stored_ids[key] = result, run.id
        snapshot["runs"].append({"run_id": key, "number": number, "config": result.config.to_dict(),
                                 "created": run.created.timestamp(), "seconds": run.seconds})
        snapshot["annotations"][key] = _tidy_texts(project.segment_texts(run.id))
        steps = project.curation(run.id)
        if steps:
            curation[key] = [_curation_entry(step) for step in steps]
    wanted = run_id if run_id is not None else active_run
    snapshot["current_run"] = next((k for k, v in stored_ids.items() if v == wanted), None)

    state.restore(snapshot, dataset, results, source=_demo_source(dataset))
    state.restore_curation(curation)
    state.set_run_marker(saved_ui.get("run_started"))  # a run cut short by a refresh: the page offers it again
    state.link_dataset(dataset_id, dataset.digest)
    for key, stored in stored_ids.items():
        state.link_run(key, stored)
    # what the project holds now: nothing to write until the analyst changes something
    state.set_saved("overrides", dict(info.role_overrides))
    state.set_saved("texts", _texts_view(state))
    state.set_saved("curation", _curation_view(state))
    # what the project holds, not what the session shows: a dataset opened from the address (?run= of another
    # dataset) is then written as the active one
    state.set_saved("ui", dict(saved_ui))
    if unreadable:
        state.notify(" ".join(unreadable))
    keep_address()


def close_project() -> None:
    """Leave the project (its files stay as they are) and start an empty session."""
    state = studio()
    state.set_dataset(None)
    state.set_project(None)
    for param in (PROJECT_PARAM, RUN_PARAM):
        st.query_params.pop(param, None)


def switch_dataset(dataset_id: int) -> None:
    """Show another dataset of the open project with its runs (the one of them the analyst was on, else the
    latest). What this session changed is already saved: the frame saves after every page."""
    state = studio()
    project = state.project
    if project is None:
        return
    cache.project(workspace_root(state), project["id"]).switch_dataset(dataset_id)
    open_project(project["id"], dataset_id=dataset_id)


def project_datasets() -> list[Any]:
    """The open project's datasets (DatasetInfo, oldest first); [] when no project is open or it cannot be read
    (the sidebar then shows the dataset alone, and the next save says what is wrong)."""
    project = studio().project
    if project is None:
        return []
    try:
        return cache.project(workspace_root(), project["id"]).datasets()
    except SegmentationError:
        return []


# --------------------------------------------------------------------------- a new file while a project is open
def place_upload(dataset: Any, source: Source | None, notice: str) -> bool:
    """Where a file loaded on the Data page goes. With no project open, or an open project without data, it
    becomes the current dataset (and the project's). A file the open project already holds is shown again
    with its runs. Otherwise it waits (``Studio.held_upload``) for the analyst to add it to this project or
    start a new one (``settle_upload``); the current dataset stays on screen meanwhile. True when the session
    changed."""
    state = studio()
    project = state.project
    datasets = project_datasets()
    if project is None or not datasets:
        state.set_dataset(dataset, source, notice=notice)
        return True
    known = next((d.id for d in datasets if d.digest == dataset.digest), None)
    if known is not None:
        switch_dataset(known)
        state.notify(f"“{dataset.name}” is already in this project: showing it with its runs.")
        return True
    state.hold_upload((dataset, source, notice))
    return True


def suggest_new_project(dataset: Any) -> bool:
    """Whether a held file looks like it belongs in a project of its own: no column name in common with any
    dataset of the open project."""
    project = studio().project
    if project is None:
        return True
    try:
        return not cache.project(workspace_root(), project["id"]).shares_columns(list(dataset.table.columns))
    except SegmentationError:
        return False


def settle_upload(new_project: bool) -> None:
    """Put the held file where the analyst said: into the open project (shown as its current dataset, the
    earlier datasets and their runs kept and a switch away), or into a new project named after it (the open
    project stays as it was)."""
    state = studio()
    held = state.held_upload
    if held is None:
        return
    dataset, source, notice = held
    state.hold_upload(None)
    if new_project:
        close_project()
    state.set_dataset(dataset, source, notice=notice)


def open_demo(open_project_only: bool = False) -> bool:
    """Open the project that holds the demo data, on that dataset (the open project first when it holds it),
    instead of making another copy of it; False when no project holds it. With ``open_project_only`` only the
    open project is looked in (the Data page: loading the demo there never leaves the project on screen)."""
    state = studio()
    current = state.project
    if open_project_only:
        if current is None:
            return False
        known = next((d.id for d in project_datasets() if d.digest == cache.digest_bytes(cache.demo_bytes())), None)
        if known is None:
            return False
        if state.links["dataset_id"] != known:
            switch_dataset(known)
        state.notify("The demo data is open: it was already in this project.")
        return True
    found = find_dataset(workspace(), cache.digest_bytes(cache.demo_bytes()),
                         prefer=current["id"] if current else None)
    if found is None:
        return False
    project_id, dataset_id = found
    if current is not None and current["id"] == project_id and state.links["dataset_id"] == dataset_id:
        state.notify("The demo data is already open.")
        return True
    cache.project(workspace_root(state), project_id).switch_dataset(dataset_id)
    open_project(project_id, dataset_id=dataset_id)
    state.notify(f"Opened the demo data in the project “{state.project['name']}”.")
    return True


def _readable_config(config: Any) -> dict[str, Any] | None:
    """The Segment form's last settings, or None when this version cannot read them (the form then starts from
    its defaults rather than refusing the project)."""
    if not isinstance(config, dict):
        return None
    try:
        RunConfig.from_dict(config)
    except (SegmentationError, TypeError, ValueError, KeyError):
        return None
    return config


def _demo_source(dataset: Any) -> Source | None:
    """The raw file for the reading options of the Data page; known again only for the demo data."""
    data = cache.demo_bytes() if dataset.name == cache.DEMO_NAME else None
    return Source(dataset.name, data) if data is not None and cache.digest_bytes(data) == dataset.digest else None


def _tidy_texts(texts: Mapping[int, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    return {str(s): {f: str(v) for f, v in t.items() if v} for s, t in texts.items() if any(t.values())}


def _curation_entry(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored curation step back into the session's form ({"step", "mapping", "annotations"})."""
    return {"step": {"kind": stored.get("kind"), "params": dict(stored.get("params") or {})},
            "mapping": dict(stored.get("mapping") or {}), "annotations": dict(stored.get("annotations") or {})}


def _stored_step(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A session curation entry as stored: a CurationStep dict ({"kind", "params"}, what the library reads)
    plus what the Profiles page needs to undo it (the id mapping and the names before the step)."""
    return {**dict(entry["step"]), "mapping": entry.get("mapping", {}), "annotations": entry.get("annotations", {})}


# --------------------------------------------------------------------------- what the session holds
def _texts_view(state: Studio) -> dict[str, dict[str, dict[str, str]]]:
    """Names, descriptions and notes of every run: run id -> segment -> field -> text (empty fields left out)."""
    return {run.run_id: {str(s): {f: str(a[f]) for f in ANNOTATION_FIELDS if a.get(f)}
                         for s, a in state.annotations(run.run_id).items()} for run in state.runs}


def _curation_view(state: Studio) -> dict[str, list[dict[str, Any]]]:
    return {run_id: entries for run_id, entries in state.curation_snapshot().items() if entries}


def _ui_view(state: Studio) -> dict[str, Any]:
    """Where the analyst is: page, dataset, run and widget choices (small, JSON)."""
    pieces = state.snapshot()
    current = state.current_run
    return {"page": state.page, "dataset_id": state.links["dataset_id"],
            "run": state.links["runs"].get(current.run_id) if current else None,
            "run_config": pieces["run_config"], "form": pieces["form"], "choices": pieces["choices"],
            "run_started": state.run_marker}


# --------------------------------------------------------------------------- saving
def project_name_for(dataset_name: str) -> str:
    """A project name from a dataset name: the file name without its extension."""
    name = _FILE_SUFFIXES.sub("", dataset_name.strip()).strip() or "Customers"
    return name[:70]


def _unique_name(base: str) -> str:
    taken = {info.name.casefold() for info in workspace().list_projects()}
    name, n = base, 2
    while name.casefold() in taken:
        name, n = f"{base} ({n})", n + 1
    return name


def persist() -> None:
    """Write what this run changed to the open project (creating one when data is loaded and none is open).

    Never raises for workspace problems: the message is kept and shown at the top of the next run.
    """
    state = studio()
    try:
        _persist(state)
    except (SegmentationError, OSError) as error:  # e.g. the disk is full or the folder was removed
        state.set_workspace_error(str(error))
    else:
        state.set_workspace_error(None)


def _persist(state: Studio) -> None:
    dataset = state.dataset
    project_ref = state.project
    if project_ref is None:
        if dataset is None:
            return
        created = workspace().create_project(_unique_name(project_name_for(dataset.name)))
        cache.forget_projects()
        state.set_project(created.id, created.name)
        earlier = state.pop_notice()
        state.notify(" ".join(filter(None, [earlier, f"Your work is saved in the project “{created.name}”."])))
        project_ref = state.project
    project = cache.project(workspace_root(state), project_ref["id"])
    changed = False

    links = state.links
    if dataset is not None and links["digest"] != dataset.digest:
        overrides = state.role_overrides
        state.link_dataset(project.add_dataset(dataset, overrides), dataset.digest)
        state.set_saved("overrides", overrides)
        links, changed = state.links, True
    if dataset is not None and state.role_overrides != state.saved("overrides", {}):
        overrides = state.role_overrides
        project.set_role_overrides(links["dataset_id"], overrides)
        state.set_saved("overrides", overrides)
        changed = True

    saved_texts = dict(state.saved("texts", {}))
    saved_curation = dict(state.saved("curation", {}))
    for run in state.runs:
        if run.run_id in links["runs"] or links["dataset_id"] is None:
            continue
        names = state.segment_names(run.run_id)
        state.link_run(run.run_id, project.save_run(links["dataset_id"], run.result, names))
        saved_texts[run.run_id] = {str(s): {"name": n} for s, n in names.items()}
        state.set_saved("texts", saved_texts)
        saved_curation[run.run_id] = []
        state.set_saved("curation", saved_curation)
        changed = True
    links = state.links

    texts = _texts_view(state)
    for run_id, segments in texts.items():
        stored_id = links["runs"].get(run_id)
        before = saved_texts.get(run_id, {})
        if stored_id is None or segments == before:
            continue
        for segment in sorted(set(segments) | set(before), key=int):
            now, then = segments.get(segment, {}), before.get(segment, {})
            fields = {f: now.get(f, "") for f in ANNOTATION_FIELDS if now.get(f, "") != then.get(f, "")}
            if fields:
                project.set_segment_text(stored_id, int(segment), **fields)
        saved_texts[run_id] = segments
        state.set_saved("texts", saved_texts)
        changed = True

    curation = _curation_view(state)
    for run_id in set(curation) | set(saved_curation):
        stored_id = links["runs"].get(run_id)
        entries = curation.get(run_id, [])
        if stored_id is None or entries == saved_curation.get(run_id, []):
            continue
        project.set_curation(stored_id, [_stored_step(entry) for entry in entries])
        saved_curation[run_id] = entries
        state.set_saved("curation", saved_curation)
        changed = True

    ui = _ui_view(state)
    if ui != state.saved("ui"):
        project.set_ui_state(ui)
        state.set_saved("ui", ui)
    if changed:
        cache.forget_projects()


# --------------------------------------------------------------------------- once per script run
def sync_session(page_path: str) -> None:
    """Before the page: open the project in the address, keep the address in step, show workspace errors."""
    state = studio()
    if page_path in WORK_PAGES:
        state.set_page(page_path)
    error = state.workspace_error
    if error:
        st.error(md(f"Your latest changes could not be saved. {error}"), icon=":material/sync_problem:")
    wanted = st.query_params.get(PROJECT_PARAM)
    current = state.project
    if wanted and (current is None or current["id"] != wanted):
        run = st.query_params.get(RUN_PARAM)
        try:
            open_project(wanted, int(run) if run and run.isdigit() else None)
        except SegmentationError as error:
            close_project()
            st.error(md(f"The project in this address could not be opened. {error}"), icon=":material/error:")
            return
    keep_address()


def address() -> dict[str, str]:
    """The query parameters that bring this session back: the open project and the run on screen (for
    st.switch_page, which otherwise clears them)."""
    state = studio()
    project = state.project
    current = state.current_run
    if project is None:
        return {}
    run = state.links["runs"].get(current.run_id) if current else None
    return {PROJECT_PARAM: project["id"], **({RUN_PARAM: str(run)} if run is not None else {})}


def keep_address() -> None:
    """Point the address at the open project and the run on screen, so a refresh comes back here."""
    wanted = address()
    for param in (PROJECT_PARAM, RUN_PARAM):
        if param not in wanted:
            if param in st.query_params:
                del st.query_params[param]
        elif st.query_params.get(param) != wanted[param]:
            st.query_params[param] = wanted[param]


# --------------------------------------------------------------------------- for the Home page
def ago(when: datetime, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '12 Mar 2026'."""
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600:.0f} h ago"
    if seconds < 2 * 86_400:
        return "yesterday"
    return when.astimezone().strftime("%d %b %Y").lstrip("0")


__all__ = ["PROJECT_PARAM", "RUN_PARAM", "WORK_PAGES", "WorkspaceError", "address", "ago", "choose_root",
           "close_project", "default_root", "keep_address", "list_projects", "open_demo", "open_project", "persist",
           "place_upload", "project_datasets", "project_name_for", "settle_upload", "suggest_new_project",
           "switch_dataset", "sync_session", "workspace", "workspace_root"]
