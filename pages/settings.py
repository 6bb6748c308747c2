"""Settings: where Segment Studio keeps its files, how much room they take, and the embedding cache."""

import streamlit as st

from segmentation.paths import cache_dir
from segmentation.store.workspace import format_size
from ui import workspace_sync as ws
from ui.format import md, md_code, user_errors
from ui.frame import page_header
from ui.llm_view import settings_section
from ui.state import studio

page_header("Settings", "Everything Segment Studio keeps (projects, saved runs, cached embeddings) lives in one "
                        "workspace folder on this computer.")
state = studio()
root = ws.workspace_root()

st.subheader("Workspace folder", anchor=False)
with st.form("workspace_form", border=False, enter_to_submit=True):
    folder_box, use_box = st.columns([4, 1], vertical_alignment="bottom")
    folder = folder_box.text_input("Folder", value=root, key="workspace_folder",
                                   help="Any folder you can write to; it is created if missing. Projects in "
                                        "the current folder stay there.")
    use = use_box.form_submit_button("Use this folder", icon=":material/folder_open:", key="workspace_use",
                                     width="stretch")
if use and folder.strip() and folder.strip() != root:
    with user_errors("This folder cannot be used."):
        ws.choose_root(folder.strip())
        state.notify(f"Now using the workspace in {ws.workspace_root()}.")
        st.rerun()
note = "For this browser session only; set SEGMENT_STUDIO_HOME to change it for good. Switching closes the " \
       "open project."
if state.workspace_root:
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"{note} The default is {md(ws.default_root())}.")
    if right.button("Back to the default", key="workspace_default", width="stretch"):
        ws.choose_root(None)
        st.rerun()
else:
    st.caption(note)

try:
    workspace = ws.workspace()
    projects = ws.list_projects(fresh=True)
    projects_size, cache_size = workspace.size_bytes(), workspace.cache_size_bytes()
except ws.WorkspaceError as error:
    st.error(md(error), icon=":material/error:")
    st.stop()
if workspace.repaired:
    st.info(md(workspace.repaired), icon=":material/build:")

st.subheader("Storage", anchor=False)
sizes = st.columns(3)
sizes[0].metric("Projects", f"{len(projects):,}", border=True)
sizes[1].metric("Projects on disk", format_size(projects_size), border=True)
sizes[2].metric("Cached embeddings", format_size(cache_size), border=True,
                help="Embeddings of customer texts, kept by content so that a new run on the same texts does "
                     "not embed them again. Shared by every project.")
if state.asking == "clear_cache":
    st.warning("Clear the cached embeddings? Texts are embedded again the next time a run needs them, which "
               "takes a while with the default model (about 100 texts a second).", icon=":material/warning:")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Clear", key="clear_cache_confirm", type="primary", width="stretch"):
        state.ask(None)
        with user_errors():
            freed = workspace.clear_embedding_cache()
            state.notify(f"Cleared the cached embeddings; {format_size(freed)} freed.")
            st.rerun()
    if no.button("Cancel", key="clear_cache_cancel", width="stretch"):
        state.ask(None)
        st.rerun()
elif st.button("Clear cached embeddings", icon=":material/delete_sweep:", key="clear_cache",
               disabled=cache_size == 0):
    state.ask("clear_cache")
    st.rerun()

st.subheader("Where files live", anchor=False)
current = state.project
places = [("Workspace", workspace.root, "The list of projects (workspace.sqlite)"),
          ("Projects", workspace.projects_dir, "One folder per project: its database, datasets as Parquet, runs "
                                               "as arrays, saved models")]
if current:
    places.append(("Open project", workspace.project_folder(current["id"]), md(current["name"])))
places.append(("Embedding cache", cache_dir(workspace.root), "Embeddings of customer texts, shared by every "
                                                             "project"))
st.markdown("| | Folder | What is in it |\n|---|---|---|\n" + "\n".join(
    f"| **{label}** | {md_code(path, in_table=True)} | {what} |" for label, path, what in places))

settings_section()
