"""Acting on segments: the downloads of the Export page and the steps of the Assign page.

The bytes themselves come from the library (``act.tables``, ``act.bundle``, ``act.report``, ``act.assign``;
where customers moved: ``act.movement``, drawn by ``plots.flow``). What is
expensive to build (a saved model, the report, an uploaded model or customer file, an
assignment) is kept in the bounded stores of ``ui.cache`` under small keys: the run
with its hand-made changes, plus the analyst's names and descriptions as JSON, or a
file's sha256. Download buttons get a callable (``data=lambda: ...``), so nothing is
built until it is clicked; Streamlit runs that callable outside the script, which is
why the stores are plain objects fetched during the script run.

Widget choices that must survive a page switch go through ``Studio.choice`` as plain
JSON; ``assign_*`` keys are the Assign page's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from segmentation.act import tables as export
from segmentation.act.assign import SegmentModel, build_model, load_model
from segmentation.act.bundle import manifest_json
from segmentation.act.model_file import model_file_name
from segmentation.act.movement import Movement, model_movement
from segmentation.act.report import report_bytes
from segmentation.act.themes_export import assigned_themes, theme_table
from segmentation.common import segment_number
from segmentation.errors import SegmentationError
from segmentation.ingest import read as io
from segmentation.pipeline import SegmentationResult
from segmentation.plots import sizes as plots_sizes
from segmentation.plots.flow import movement_flow_figure
from segmentation.plots.theme import segment_colour

from . import cache
from .format import md, user_errors
from .frame import PAGES
from .loading import UPLOAD_TYPES
from .state import RunRecord, Studio

FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel", "parquet": "Parquet"}
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "parquet": "application/vnd.apache.parquet", "zip": "application/zip", "html": "text/html",
        "json": "application/json", "segmodel": "application/octet-stream"}
CHART = {"displayModeBar": False}
PREVIEW_ROWS = 200


# --------------------------------------------------------------------------- the run as exported
@dataclass(frozen=True)
class RunExport:
    """A run as the analyst left it (merges, splits, names, descriptions), and the key that identifies that."""

    run: RunRecord
    names: dict[int, str]
    descriptions: dict[int, str]
    key: str
    slug: str

    @property
    def result(self) -> SegmentationResult:
        return self.run.result


def run_export(state: Studio, run: RunRecord) -> RunExport:
    """``run`` (from ``require_result``: curated, with descriptions) with its names and a key for the stores."""
    names = state.segment_names(run.run_id)
    descriptions = state.segment_descriptions(run.run_id)
    key = json.dumps({"run": run.run_id, "steps": state.curation_steps(run.run_id),
                      "theme_detail": run.result.config.themes.detail,
                      "names": {str(k): v for k, v in sorted(names.items())},
                      "descriptions": {str(k): v for k, v in sorted(descriptions.items())}}, sort_keys=True)
    return RunExport(run, names, descriptions, hashlib.sha256(key.encode()).hexdigest()[:24], f"run-{run.number}")


def customers_table(run: RunExport, include_pii: bool) -> pd.DataFrame:
    """Every customer with segment id, name, confidence and distance to the segment centre, built once per run,
    names and choice of personal data (the confidence asks each customer's nearest neighbours)."""
    return cache.kept(cache.act_store("files"), f"customers|{run.key}|{include_pii}",
                      lambda: export.labelled_customers(run.result, run.names, include_pii=include_pii,
                                                        with_distance=True))


def customers_file(customers: pd.DataFrame, fmt: str, run: RunExport | None = None) -> bytes:
    """The labelled customers as "csv", "xlsx" or "parquet"; with the ``run``, Excel is the whole run in one
    workbook (sheets Customers, Segments and About: ``tables.run_workbook``)."""
    if fmt == "xlsx" and run is not None:
        return export.run_workbook(run.result, customers, run.names)
    return export.table_bytes(customers, fmt)


def customers_note(run: RunExport, include_pii: bool, customers: pd.DataFrame, fmt: str) -> str | None:
    """What a ``fmt`` file of ``customers`` cannot hold as it is (Excel's cell size), once per run and choice."""
    if fmt != "xlsx":
        return None
    return cache.kept(cache.act_store("files"), f"excel-note|{run.key}|{include_pii}",
                      lambda: export.excel_note(customers))


def segments_zip(customers: pd.DataFrame, fmt: str) -> bytes:
    """One file per segment (Unassigned included), zipped."""
    return export.segments_zip_bytes(customers, fmt)


def themes_file(run: RunExport) -> bytes | None:
    """The themes inside the segments as CSV (``themes_export.theme_table``), the bytes ``python -m segmentation
    export`` writes to themes.csv; None for a run without themes."""
    themes = theme_table(run.result, run.names)
    return export.to_csv_bytes(themes) if len(themes) else None


def profiles_file(run: RunExport) -> bytes:
    """The profile table (size, share, traits, keywords, descriptions) as CSV."""
    return export.to_csv_bytes(export.profile_table(run.result, run.names))


def manifest_file(run: RunExport, exported_at: dt.datetime | None = None) -> bytes:
    """The run manifest (settings, metrics, versions, seeds, row counts, names) as JSON, stamped now."""
    return manifest_json(run.result, run.names, exported_at=exported_at or dt.datetime.now())


def stability_for_report(state: Studio, run_id: str) -> dict[str, Any] | None:
    """The stability check the Quality page made of the segments as they are now, for the report; else None."""
    from .choose_view import run_key

    check = state.stability_check(run_id)
    if not check or check.get("curation") != run_key(state, run_id) or not check.get("reduction"):
        return None  # an older check re-clustered the reduced space only: too optimistic to show stakeholders
    unstable = sum(s.get("badge") == "unstable" for s in check.get("segments", []))
    return {"ari_mean": float(check["agreement"]), "re_runs": int(check.get("resamples", 0)),
            "customers_checked": int(check.get("sample_size", 0)), "unstable_segments": int(unstable),
            "method": str(check.get("method", ""))}


def report_file(run: RunExport, stability: Mapping[str, Any] | None, dataset_name: str | None) -> Callable[[], bytes]:
    """A callable giving the stakeholder report's bytes, built once per run, names and stability check."""
    store = cache.act_store("files")
    key = f"report|{run.key}|{json.dumps(stability, sort_keys=True)}|{dataset_name}"
    return lambda: cache.kept(store, key, lambda: report_bytes(
        run.result, names=run.names, descriptions=run.descriptions, stability=dict(stability) if stability else None,
        dataset_name=dataset_name))


def run_model(run: RunExport) -> SegmentModel:
    """The model that assigns new customers to ``run``'s segments, built once per run and names."""
    return cache.kept(cache.act_store("models"), run.key, lambda: build_model(run.result, run.names,
                                                                               run.descriptions))


def model_file(run: RunExport) -> Callable[[], bytes]:
    """A callable giving the saved model's bytes (.segmodel), built once per run and names."""
    models, files = cache.act_store("models"), cache.act_store("files")

    def make() -> bytes:
        model = cache.kept(models, run.key, lambda: build_model(run.result, run.names, run.descriptions))
        return model.to_bytes()
    return lambda: cache.kept(files, f"model|{run.key}", make)


def model_name(run: RunExport) -> str:
    return model_file_name(f"segments-{run.slug}")


def download(label: str, about: str, data: Callable[[], bytes], file_name: str, kind: str, key: str,
             icon: str = ":material/download:", primary: bool = False, disabled: bool = False) -> None:
    """A full-width download button built on click, with one line saying what the file is for."""
    st.download_button(label, data=data, file_name=file_name, mime=MIME[kind], key=key, icon=icon, width="stretch",
                       type="primary" if primary else "secondary", on_click="ignore", disabled=disabled)
    st.caption(about)


# --------------------------------------------------------------------------- Assign: the model
@dataclass(frozen=True)
class ChosenModel:
    key: str
    model: SegmentModel
    label: str


def model_step(state: Studio, current: RunExport | None) -> ChosenModel | None:
    """Step 1: the current segmentation's model or an uploaded .segmodel file. None until one is chosen."""
    options = {"current": "Use the current segmentation", "upload": "Upload a model file"}
    saved = state.choice("assign_model_source", "current" if current else "upload")
    source = st.radio("Model", list(options), format_func=options.get, horizontal=True, key="assign_model_source",
                      index=list(options).index(saved), label_visibility="collapsed")
    state.set_choice("assign_model_source", source)
    if source == "current":
        if current is None:
            st.info("No segmentation yet: run one on the Segment page, or upload a model file saved from an earlier "
                    "run.", icon=":material/hub:")
            st.page_link(PAGES["segment"], label="Go to Segment", icon=":material/hub:")
            return None
        with st.spinner("Preparing the model of the current segmentation…"):
            model = run_model(current)
        return ChosenModel(f"run|{current.key}", model, f"{current.run.title} (current segmentation)")
    uploaded = st.file_uploader("Model file (.segmodel)", type=["segmodel"], key="assign_model_file",
                                help="Saved from a run on the Export page, or written by `python -m segmentation "
                                     "run`. Model files hold numbers and text only, never code.")
    remembered = state.choice("assign_model_upload")
    if uploaded is not None:
        data = uploaded.getvalue()
        key = f"upload|{hashlib.sha256(data).hexdigest()}"
        try:
            cache.kept(cache.act_store("models"), key, lambda: load_model(data))
        except SegmentationError as error:
            kept = remembered and cache.act_store("models").get(remembered["key"])
            st.error(md(f"{uploaded.name} could not be used. {error}"
                        + (f" Still using {remembered['name']}." if kept else "")), icon=":material/error:")
        else:
            remembered = {"key": key, "name": uploaded.name}
            state.set_choice("assign_model_upload", remembered)
    model = cache.act_store("models").get(remembered["key"]) if remembered else None
    return ChosenModel(remembered["key"], model, remembered["name"]) if model is not None else None


def model_summary(chosen: ChosenModel) -> None:
    """What the model knows: its segments in their colours and how it assigns."""
    names = {s: n for s, n in chosen.model.segment_names.items() if s >= 0}
    st.markdown(f"**{md(chosen.label)}**")
    st.markdown(" ".join(_chip(s, n) for s, n in sorted(names.items())), unsafe_allow_html=True)
    st.caption("\n".join(f"- {md(line)}" for line in chosen.model.summary_lines()))


def _chip(segment: int, name: str, extra: str = "") -> str:
    return (f'<span style="white-space:nowrap;margin-right:1.1em"><span style="display:inline-block;width:0.8em;'
            f'height:0.8em;border-radius:50%;background:{segment_colour(segment)};margin-right:0.4em;'
            f'vertical-align:-0.05em"></span>{md(name)}'  # markdown is read around the HTML: escape for both
            + (f' <span style="color:#6B7280">{md(extra)}</span>' if extra else "") + "</span>")


# --------------------------------------------------------------------------- Assign: the customers
def data_step(state: Studio) -> io.Dataset | None:
    """Step 2: a customer file to assign (uploaded, or the demo data). None until one is chosen."""
    # the demo customers only make sense against segments of the demo data (or to try a model file)
    offer_demo = state.dataset is None or state.dataset.name == cache.DEMO_NAME
    upload, demo = st.columns([3, 1], vertical_alignment="bottom") if offer_demo else (st.container(), None)
    with upload:
        uploaded = st.file_uploader("Customers to assign", type=UPLOAD_TYPES, key="assign_upload",
                                    help="The same columns as the customers the model was built from (extra columns "
                                         "are ignored). CSV, TSV, TXT, Excel, Parquet, or any of them gzipped.")
    if uploaded is not None and state.upload_is_new(f"assign_upload:{uploaded.file_id}"):
        _remember_table(state, uploaded.name, uploaded.getvalue())
    if demo is not None and demo.button("Use the demo data", icon=":material/rocket_launch:", key="assign_demo",
                                        width="stretch"):
        _remember_table(state, cache.DEMO_NAME, cache.demo_bytes())
    chosen = state.choice("assign_data")
    dataset = cache.act_store("tables").get(chosen["digest"]) if chosen else None
    if dataset is not None:
        st.caption(f"**{md(dataset.name)}** · {len(dataset.table):,} customers · {len(dataset.table.columns):,} "
                   "columns")
    return dataset


def _remember_table(state: Studio, name: str, data: bytes) -> None:
    with user_errors(f"{name} could not be loaded."):
        dataset = cache.load_dataset(data, name)
        cache.act_store("tables").put(dataset.digest, dataset)
        state.set_choice("assign_data", {"digest": dataset.digest, "name": dataset.name})


# --------------------------------------------------------------------------- Assign: assigning
@dataclass(frozen=True)
class Assignment:
    assigned: pd.DataFrame
    movement: Movement | None
    data_name: str
    names: Mapping[int, str]
    """The model's segment names by label, which gives each ``segment_id`` (a segment number) its colour."""


def assignment_key(chosen: ChosenModel, dataset: io.Dataset) -> str:
    return f"{chosen.key}|{dataset.digest}"


def assign(chosen: ChosenModel, dataset: io.Dataset, on_progress: Callable[[str, float], None] | None = None
           ) -> Assignment:
    """Assign ``dataset``'s customers with the chosen model and compare with their earlier segments (kept)."""
    store = cache.act_store("assignments")
    key = assignment_key(chosen, dataset)
    found = store.get(key)
    if found is None:
        assigned = chosen.model.assign(dataset.table, on_progress=on_progress, themes=True)
        found = Assignment(assigned, model_movement(chosen.model, dataset.table, assigned), dataset.name,
                           chosen.model.segment_names)
        store.put(key, found)
    return found


def earlier_assignment(chosen: ChosenModel, dataset: io.Dataset) -> Assignment | None:
    return cache.act_store("assignments").get(assignment_key(chosen, dataset))


def sizes_figure(assigned: pd.DataFrame, names: Mapping[int, str]) -> go.Figure:
    """Assigned customers per segment: the one size chart (``plots.sizes``), under the page's own heading.

    ``names`` are the model's segment names by label; the segment numbers of ``segment_id`` map back to them.
    """
    label_of = {segment_number(label): label for label in names}
    labels = assigned["segment_id"].map(label_of).to_numpy(dtype=int)
    return plots_sizes.sizes_figure(labels, names, usable=None, title="")


def results(result: Assignment) -> None:
    """Sizes, a preview and the download of an assignment; where customers moved, when that is known."""
    assigned = result.assigned
    labels = assigned["segment_id"].to_numpy(dtype=int)
    cols = st.columns(4)
    cols[0].metric("Customers assigned", f"{len(assigned):,}", border=True)
    cols[1].metric("Segments found", len(set(labels.tolist()) - {-1}), border=True)
    cols[2].metric("Unassigned", f"{(labels < 0).mean():.1%}", border=True,
                   help="Customers whose nearest reference customers mostly fit no segment.")
    cols[3].metric("Median confidence", f"{assigned['confidence'].median():.0%}", border=True,
                   help="The share of the nearest reference customers (weighted by closeness) that vote for the "
                        "segment given, the same measure as segment_confidence in the Export page's customer "
                        "file. Low values mark customers between segments.")
    chart, table = st.columns([2, 3], gap="large")
    chart.markdown("**Segment sizes**")
    chart.plotly_chart(sizes_figure(assigned, result.names), key="assign_sizes", config=CHART)
    with table:
        st.markdown(f"**Assigned customers** · first {min(PREVIEW_ROWS, len(assigned)):,} of {len(assigned):,}")
        st.dataframe(assigned.head(PREVIEW_ROWS), hide_index=True, width="stretch", height=300,
                     column_config={column: st.column_config.ProgressColumn(
                         column, format="percent", min_value=0.0, max_value=1.0)
                         for column in ("confidence", "theme_confidence")})
        stem = str(result.data_name).rsplit(".", 1)[0] or "customers"
        st.download_button("Download assigned customers CSV", data=lambda: export.to_csv_bytes(assigned),
                           file_name=f"{stem}-assigned.csv", mime=MIME["csv"], key="assign_download",
                           icon=":material/download:", type="primary", on_click="ignore")
    themes_section(assigned)
    movement_section(result.movement)


def themes_section(assigned: pd.DataFrame) -> None:
    """Where the assigned customers went, theme by theme inside each segment (``themes_export.assigned_themes``);
    nothing for a model saved before themes existed."""
    themes = assigned_themes(assigned)
    if themes is None:
        return
    st.markdown(f"**Where customers went, by theme** · {int((themes['theme_id'] > 0).sum())} themes")
    st.dataframe(themes.assign(share=themes["share"] * 100), hide_index=True, width="stretch", height=260,
                 key="assign_themes", column_order=["segment_name", "theme_name", "customers", "share",
                                                    "median_confidence"], column_config={
                     "segment_name": st.column_config.TextColumn("Segment", width="medium"),
                     "theme_name": st.column_config.TextColumn("Theme", width="medium"),
                     "customers": st.column_config.NumberColumn("Customers", format="localized", width="small"),
                     "share": st.column_config.NumberColumn("Share", format="%.1f%%", width="small",
                                                            help="The share of all the customers assigned."),
                     "median_confidence": st.column_config.ProgressColumn(
                         "Median confidence", format="percent", min_value=0.0, max_value=1.0,
                         help="The share of the vote of the nearest reference customers in the segment that "
                              "went to the theme given.")})


def movement_section(movement: Movement | None) -> None:
    st.subheader("Movement since the model was built", anchor=False)
    if movement is None:
        st.caption("Nothing to compare with: the file has no earlier segment column and none of its customers is "
                   "among those the model was built from.")
        return
    st.markdown("\n".join(f"- {md(line)}" for line in movement.summary_lines()))
    st.plotly_chart(movement_flow_figure(movement), key="assign_movement", config=CHART)
    moves, drift = st.columns(2, gap="large")
    table = movement.table.assign(share_of_from=movement.table["share_of_from"] * 100)
    moves.markdown("**Where customers went**")
    # the counts first and narrow, the names after with the room left: long names no longer push them out of view
    moves.dataframe(table, hide_index=True, width="stretch",
                    column_order=["customers", "share_of_from", "from", "to"], column_config={
                        "customers": st.column_config.NumberColumn("Customers", format="localized", width="small"),
                        "share_of_from": st.column_config.NumberColumn(
                            "Share", format="%.1f%%", width="small",
                            help="The share of the customers of the earlier segment who went this way."),
                        "from": st.column_config.TextColumn("From", width="medium"),
                        "to": st.column_config.TextColumn("To", width="medium")})
    shares = movement.drift.assign(share_then=movement.drift["share_then"] * 100,
                                   share_now=movement.drift["share_now"] * 100)
    drift.markdown("**Segment shares then and now**")
    drift.dataframe(shares, hide_index=True, width="stretch",
                    column_order=["segment", "share_then", "share_now", "change_points"], column_config={
                        "segment": "Segment", "share_then": st.column_config.NumberColumn("Then", format="%.1f%%"),
                        "share_now": st.column_config.NumberColumn("Now", format="%.1f%%"),
                        "change_points": st.column_config.NumberColumn("Change (points)", format="%+.1f")})

__all__ = ["Assignment", "ChosenModel", "RunExport", "assign", "customers_file", "customers_note", "customers_table",
           "data_step",
           "download", "earlier_assignment", "manifest_file", "model_file", "model_name", "model_step",
           "model_summary", "profiles_file", "report_file", "results", "run_export", "run_model", "segments_zip",
           "sizes_figure", "stability_for_report", "themes_file", "themes_section"]
