"""Loading a customer file into the session: an upload box that loads each new file once, the demo data, and
the message when a file could not be read (the previous dataset is kept)."""

from __future__ import annotations

import streamlit as st

from segmentation.config import APP_MAX_UPLOAD_MB
from segmentation.errors import SegmentationError
from segmentation.lazy import lazy

from . import cache
from .format import md
from .state import Source, studio

io = lazy("segmentation.ingest.read")

UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet", "gz"]


def load_into_session(name: str, data: bytes, options: io.LoadOptions | None = None, ask: bool = False) -> bool:
    """Load a file and make it the current dataset; on failure keep the previous one and say why. With ``ask``,
    a file new to the open project waits for the analyst to add it there or start a new project
    (``workspace_sync.place_upload``)."""
    state = studio()
    name = io.display_name(name)  # a file name may hold tabs, line breaks or folders: shown and stored cleaned
    try:
        io.check_upload_size(len(data))  # the limit in the same megabytes as Streamlit's uploader
        dataset = cache.load_dataset(data, name, options)
    except SegmentationError as error:
        state.set_load_error(f"{name} could not be loaded. {error}")
        return False
    report = dataset.report
    notice = f"Loaded {name}: {report.rows_kept:,} customers, {len(dataset.table.columns):,} columns."
    if ask:
        from .workspace_sync import place_upload

        return place_upload(dataset, Source(name, data, options), notice)
    state.set_dataset(dataset, Source(name, data, options), notice=notice)
    return True


def load_demo(ask: bool = False) -> bool:
    return load_into_session(cache.DEMO_NAME, cache.demo_bytes(), ask=ask)


def upload_box(key: str, label: str = "Upload a customer file", ask: bool = False) -> bool:
    """A file uploader that loads each new file once. True when a new dataset was loaded (or, with ``ask``, is
    waiting for the analyst to place it: see ``load_into_session``)."""
    uploaded = st.file_uploader(label, type=UPLOAD_TYPES, key=key,
                                help="CSV, TSV, TXT, Excel (.xlsx), Parquet, or any of them gzipped. One row per "
                                     "customer, or order lines that can be rolled up. Up to "
                                     f"{APP_MAX_UPLOAD_MB} MB; the file never leaves this computer.")
    if uploaded is not None and studio().upload_is_new(f"{key}:{uploaded.file_id}"):
        return load_into_session(uploaded.name, uploaded.getvalue(), ask=ask)
    return False


def show_load_error() -> None:
    error = studio().load_error
    if error:
        kept = studio().dataset
        st.error(md(error + (f" Still using {kept.name}." if kept is not None else "")), icon=":material/error:")
