"""Shared widgets: guards, error display, loading, the sidebar summary, segment colours and cards.

Pages stay short (guard, call, render); anything used by two pages, or long
enough to hide a page's flow, lives here.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from segmentation.config import APP_MAX_UPLOAD_MB, ROLES, RunConfig
from segmentation.errors import SegmentationError
from segmentation.lazy import lazy

from . import cache, workspace_sync
from .state import RunRecord, Source, studio

pd = lazy("pandas")
io = lazy("segmentation.ingest.read")
pipeline = lazy("segmentation.pipeline")
privacy = lazy("segmentation.ingest.privacy")
plots = lazy("segmentation.plots.charts")

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
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet", "gz"]
STAGE_LABELS = {
    "prepare": "Prepared and cleaned the data",
    "features": "Built the structured features",
    "embed": "Embedded the texts",
    "reduce": "Reduced the dimensions",
    "map": "Laid out the map",
    "cluster": "Found the segments",
    "profile": "Profiled the segments",
}
STAGE_RUNNING = {
    "prepare": "Preparing the data",
    "features": "Building the structured features",
    "embed": "Embedding the texts",
    "reduce": "Reducing the dimensions",
    "map": "Laying out the map",
    "cluster": "Finding the segments",
    "profile": "Profiling the segments",
}
SEVERITY = {"error": (":material/error:", "red"), "warning": (":material/warning:", "orange"),
            "info": (":material/info:", "blue")}


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
    st.set_page_config(page_title="Segment Studio", page_icon=":material/bubble_chart:", layout="wide",
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


# --------------------------------------------------------------------------- text from the data
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~<>:])")


def md(text: Any) -> str:
    """Text from the data (names, values, reviews, messages quoting them) made literal for st.markdown.

    Without this a review saying "$20 off, now $35" renders as a formula and a
    column called "*total*" turns bold.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


# --------------------------------------------------------------------------- errors and guards
@contextmanager
def user_errors(context: str | None = None) -> Iterator[None]:
    """Show a SegmentationError as a plain message instead of a traceback; anything else is a bug and propagates."""
    try:
        yield
    except SegmentationError as error:
        st.error(f"{context} {md(error)}" if context else md(error), icon=":material/error:")


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
    """A one-off confirmation left by the previous run of the script (e.g. "Loaded 2,000 rows")."""
    notice = studio().pop_notice()
    if notice:
        st.toast(notice, icon=":material/check_circle:")


# --------------------------------------------------------------------------- loading
def load_into_session(name: str, data: bytes, options: io.LoadOptions | None = None) -> bool:
    """Load a file and make it the current dataset; on failure keep the previous one and say why."""
    state = studio()
    try:
        dataset = cache.load_dataset(data, name, options)
    except SegmentationError as error:
        state.set_load_error(f"{name} could not be loaded. {error}")
        return False
    report = dataset.report
    state.set_dataset(dataset, Source(name, data, options),
                      notice=f"Loaded {name}: {report.rows_kept:,} customers, {len(dataset.table.columns)} columns.")
    return True


def load_demo() -> bool:
    return load_into_session(cache.DEMO_NAME, cache.demo_bytes())


def upload_box(key: str, label: str = "Upload a customer file") -> bool:
    """A file uploader that loads each new file once. True when a new dataset was loaded."""
    uploaded = st.file_uploader(label, type=UPLOAD_TYPES, key=key,
                                help="CSV, TSV, TXT, Excel (.xlsx), Parquet, or any of them gzipped. One row per "
                                     "customer, or order lines that can be rolled up. Up to "
                                     f"{APP_MAX_UPLOAD_MB} MB; the file never leaves this computer.")
    if uploaded is not None and studio().upload_is_new(f"{key}:{uploaded.file_id}"):
        return load_into_session(uploaded.name, uploaded.getvalue())
    return False


def show_load_error() -> None:
    error = studio().load_error
    if error:
        kept = studio().dataset
        st.error(md(error + (f" Still using {kept.name}." if kept is not None else "")), icon=":material/error:")


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
        chosen = st.selectbox("Project", list(names), format_func=names.get, placeholder="Open a project",
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
        st.markdown(f"**{md(dataset.name)}**")
        st.caption(f"{len(dataset.table):,} rows · {len(dataset.table.columns)} columns")
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
            st.markdown(f"**{run.title}**")
        metrics = state.curated_run().result.metrics  # after the analyst's merges and splits
        st.caption(f"{metrics['n_segments']} segments · silhouette {fmt_metric(metrics.get('silhouette'))}"
                   + (f" · {metrics['noise_share']:.0%} unassigned" if metrics.get("noise_share") else ""))


# --------------------------------------------------------------------------- formatting
def fmt_metric(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def fmt_seconds(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def fmt_value(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


# --------------------------------------------------------------------------- Data page panels
def load_report_panel(dataset: io.Dataset) -> None:
    report = dataset.report
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{report.rows_read:,}", border=True)
    cols[1].metric("Rows kept", f"{report.rows_kept:,}", border=True)
    cols[2].metric("Rows rejected", f"{report.rows_rejected:,}", border=True)
    cols[3].metric("Columns", f"{len(dataset.table.columns):,}", border=True)
    st.caption(md(report.summary_lines()[0]))
    for warning in report.warnings:
        st.warning(md(warning), icon=":material/warning:")
    if report.renamed_columns or report.unconverted_cells or report.rows_rejected:
        with st.expander("What the loader changed"):
            for line in report.summary_lines()[1:]:
                if line not in report.warnings:
                    st.markdown(f"- {md(line)}")
            if report.rows_rejected:
                st.dataframe(report.rejected.head(200), hide_index=True, width="stretch")
                st.download_button("Download rejected rows", data=lambda: report.rejected.to_csv(index=False),
                                   file_name="rejected_rows.csv", mime="text/csv", on_click="ignore",
                                   icon=":material/download:", key="download_rejected")


ENCODINGS = {"auto": "Detect automatically", "utf-8": "UTF-8", "cp1252": "Windows-1252 (Western Europe)",
             "latin-1": "Latin-1 (ISO-8859-1)", "utf-16": "UTF-16", "cp1250": "Windows-1250 (Central Europe)"}
DECIMALS = {"auto": "Detect automatically", ".": "Point  1.5", ",": "Comma  1,5"}
DELIMITERS = {"auto": "Detect automatically", ",": "Comma  ,", ";": "Semicolon  ;", "\t": "Tab", "|": "Pipe  |"}


def reading_options_panel(source: Source, dataset: io.Dataset) -> None:
    """Encoding and delimiter overrides with a live preview of the raw file."""
    warned = any("encod" in w.lower() or "decod" in w.lower() for w in dataset.report.warnings)
    options = source.options or io.LoadOptions()
    with st.expander("Reading options: encoding, separator and decimal mark", expanded=warned,
                     icon=":material/tune:"):
        left, middle, right = st.columns(3)
        encoding = left.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key="read_encoding",
                                  index=list(ENCODINGS).index(options.encoding) if options.encoding in ENCODINGS
                                  else 0, help="Pick the one that makes accented letters look right below.")
        decimal = right.selectbox("Decimal mark", list(DECIMALS), format_func=DECIMALS.get, key="read_decimal",
                                  index=list(DECIMALS).index(options.decimal) if options.decimal in DECIMALS else 0)
        delimiter = middle.selectbox("Column separator", list(DELIMITERS), format_func=DELIMITERS.get,
                                    key="read_delimiter",
                                    index=list(DELIMITERS).index(options.delimiter) if options.delimiter in DELIMITERS
                                    else 0)
        with user_errors():
            preview = io.preview_text(source.data, encoding if encoding != "auto" else
                                      (dataset.report.encoding or "utf-8"), n_lines=12)
            st.code(preview or "(nothing to preview)", language=None, wrap_lines=False)
        if st.button("Reload with these options", icon=":material/refresh:", key="reload_with_options"):
            with user_errors():
                chosen = io.LoadOptions(encoding=None if encoding == "auto" else encoding,
                                        delimiter=None if delimiter == "auto" else delimiter,
                                        decimal=None if decimal == "auto" else decimal)
                if load_into_session(source.name, source.data, chosen):
                    st.rerun()


def roles_editor(dataset: io.Dataset) -> dict[str, str]:
    """One table of columns and roles; edits are stored as overrides. Returns the resolved roles."""
    state = studio()
    inferred = cache.infer_roles(dataset)
    overrides = {c: r for c, r in state.role_overrides.items() if c in inferred}
    frame = pd.DataFrame({
        "column": list(inferred),
        "role": [overrides.get(c, r.role) for c, r in inferred.items()],
        "reason": [r.reason for r in inferred.values()],
    })
    edited = st.data_editor(
        frame, key=f"roles_editor_{dataset.digest[:12]}", hide_index=True, width="stretch", num_rows="fixed",
        height=min(35 * (len(frame) + 1) + 3, 640),
        column_config={
            "column": st.column_config.TextColumn("Column", disabled=True, width="medium"),
            "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True, width="small",
                                                     help="How the column is used. 'pii' columns are never used "
                                                          "as features and are masked; 'ignore' leaves a column "
                                                          "out; 'label' holds known groups used only to check "
                                                          "the segments."),
            "reason": st.column_config.TextColumn("Why", disabled=True, width="large"),
        },
    )
    chosen = dict(zip(edited["column"].astype(str), edited["role"].astype(str)))
    new_overrides = {c: r for c, r in chosen.items() if r != inferred[c].role}
    if new_overrides != overrides:
        state.set_role_overrides(new_overrides)
    return {c: chosen.get(c, r.role) for c, r in inferred.items()}


def quality_panel(dataset: io.Dataset, roles: dict[str, str]) -> None:
    report = cache.quality_report(dataset, roles)
    cols = st.columns(3)
    cols[0].metric("Customers", f"{report.n_rows:,}", border=True)
    cols[1].metric("Duplicate rows", f"{report.n_duplicate_rows:,}", border=True)
    cols[2].metric("Repeated customer ids", f"{report.n_duplicate_ids:,}", border=True)
    issues = sorted(report.issues, key=lambda i: list(SEVERITY).index(i.severity) if i.severity in SEVERITY else 9)
    if not issues:
        st.success("No data quality issues found.", icon=":material/check_circle:")
    else:
        warnings = sum(i.severity in ("error", "warning") for i in issues)
        st.markdown(f"**{len(issues)} findings**" + (f" · {warnings} to look at" if warnings else
                                                       " · for information, cleaning handles them"))
        # a long list scrolls inside its box instead of pushing the rest of the page down
        with st.container(height=min(44 * len(issues) + 24, 320), border=True):
            for issue in issues:
                icon, colour = SEVERITY.get(issue.severity, SEVERITY["info"])
                st.markdown(f":{colour}[{icon}] {md(issue.message)}")
    if report.columns is not None and len(report.columns):
        with st.expander("Column statistics"):
            st.dataframe(report.columns, hide_index=True, width="stretch")


def transactions_offer(dataset: io.Dataset) -> None:
    """If the rows look like order lines, offer to roll them up to one row per customer."""
    layout = cache.detect_transactions(dataset)
    if layout is None:
        return
    with st.container(border=True):
        st.markdown(f"**These rows look like order lines, not customers.** {md(layout.describe())}")
        if st.button(f"Roll up {len(dataset.table):,} order lines to one row per customer", type="primary",
                     icon=":material/merge:", key="rollup"):
            with user_errors("The order lines could not be rolled up."):
                rolled, notes = cache.rollup(dataset, layout)
                source = studio().source
                studio().set_dataset(rolled, source, notice=f"Rolled up to {len(rolled.table):,} customers. "
                                     + " ".join(notes))
                st.rerun()


def table_columns(frame: pd.DataFrame) -> dict[str, Any]:
    """Column settings that make a customer table readable: dates without a midnight time."""
    config: dict[str, Any] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            times = values.dropna()
            dates_only = times.empty or bool((times == times.dt.normalize()).all())
            config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD" if dates_only else
                                                             "YYYY-MM-DD HH:mm")
    return config


def masked_preview(dataset: io.Dataset, roles: dict[str, str], rows: int = 200) -> None:
    shown = privacy.mask_frame(dataset.table.head(rows), roles)
    st.dataframe(shown, hide_index=True, width="stretch", height=min(320, 35 * (len(shown) + 1) + 3),
                 column_config=table_columns(shown))
    pii = [c for c, r in roles.items() if r == "pii"]
    st.caption(f"First {min(rows, len(dataset.table)):,} of {len(dataset.table):,} rows."
               + (f" Personal data is masked: {', '.join(pii)}." if pii else ""))


# --------------------------------------------------------------------------- running
def run_with_progress(dataset: io.Dataset, config: RunConfig) -> pipeline.SegmentationResult | None:
    """Run the pipeline inside a status box: one line per finished stage, an embedding bar with an ETA."""
    started = time.perf_counter()
    embeds = bool(config.text.columns) and config.blend.text_weight > 0
    stages = [s for s in pipeline.STAGES if s != "embed" or embeds]
    marks: dict[str, float] = {}
    done: set[str] = set()
    with st.status("Segmenting customers…", expanded=True) as status:
        bars: dict[str, Any] = {}
        embed_start: list[tuple[float, float]] = []
        last_draw = [0.0]

        def on_progress(stage: str, fraction: float) -> None:
            now = time.perf_counter()
            if stage not in marks:
                marks[stage] = now
                status.update(label=f"{STAGE_RUNNING.get(stage, stage)}…", expanded=True)
            if stage == "embed" and fraction < 1.0:
                if not embed_start:
                    embed_start.append((now, fraction))
                    bars["embed"] = st.progress(fraction, text="Embedding texts…")
                t0, f0 = embed_start[0]
                if now - last_draw[0] > 0.25 and fraction > f0:
                    eta = (now - t0) * (1 - fraction) / (fraction - f0)
                    bars["embed"].progress(min(fraction, 1.0),
                                           text=f"Embedding texts · {fraction:.0%} · about {fmt_seconds(eta)} left")
                    last_draw[0] = now
            if fraction >= 1.0 and stage not in done:
                done.add(stage)
                if "embed" in bars and stage == "embed":
                    bars.pop("embed").empty()
                st.write(f":green[:material/check:] {STAGE_LABELS.get(stage, stage)} "
                         f"· {fmt_seconds(now - marks[stage])}")
                following = [s for s in stages[stages.index(stage) + 1:] if s not in done] if stage in stages else []
                if following:  # say what is being worked on until the next stage reports
                    status.update(label=f"{STAGE_RUNNING[following[0]]}…", expanded=True)
        try:
            result = cache.run_segmentation(dataset, config, on_progress)
        except SegmentationError as error:
            status.update(label="The segmentation stopped", state="error", expanded=True)
            st.error(md(error), icon=":material/error:")
            return None
        status.update(label=f"Done in {fmt_seconds(time.perf_counter() - started)}", state="complete",
                      expanded=False)
    return result


def run_metrics(run: RunRecord) -> None:
    """Headline numbers of a run, in one row."""
    m = run.result.metrics
    cols = st.columns(4)
    cols[0].metric("Customers", f"{m['n_customers']:,}", border=True)
    cols[1].metric("Segments", m["n_segments"], border=True)
    cols[2].metric("Unassigned", f"{m['noise_share']:.1%}", border=True,
                   help="Customers that fit no segment closely. Only HDBSCAN and DBSCAN leave customers out.")
    cols[3].metric("Silhouette", fmt_metric(m.get("silhouette")), border=True,
                   help="How well customers sit in their own segment rather than the next one: -1 to 1, higher "
                        "is better, above 0.25 is reasonable for customer data.")


def run_summary(run: RunRecord, runs: list[RunRecord]) -> None:
    """The current run under the Segment form: headline numbers, timings, notes, where to go next."""
    st.subheader(f"Current run: {run.title}", anchor=False)
    run_metrics(run)
    timings = ", ".join(f"{stage} {t:.1f} s" for stage, t in run.result.timings.items() if t >= 0.05)
    st.caption(f"Took {fmt_seconds(run.seconds)}" + (f" ({timings})." if timings else "."))
    if run.result.notes:
        with st.expander(f"How the data was prepared ({len(run.result.notes)} notes)", icon=":material/info:"):
            st.markdown("\n".join(f"- {md(note)}" for note in run.result.notes))
    links = st.columns(3)
    links[0].page_link(PAGES["map"], label="See the map", icon=":material/scatter_plot:")
    links[1].page_link(PAGES["profiles"], label="Read the profiles", icon=":material/groups:")
    links[2].page_link(PAGES["quality"], label="Check the quality", icon=":material/insights:")
    if len(runs) > 1:
        with st.expander(f"All runs ({len(runs)}) — pick the current one in the sidebar"):
            runs_history(runs)


# --------------------------------------------------------------------------- segments
def segment_dot(segment: int) -> str:
    colour = plots.segment_colour(segment)
    return (f'<span style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;'
            f'background:{colour};margin-right:0.4em;vertical-align:-0.05em"></span>')


# --------------------------------------------------------------------------- quality
def verdict(metric: str, value: float) -> tuple[str, str]:
    """(badge colour, short verdict) for a metric value, in words an analyst can act on."""
    if value is None or not math.isfinite(value):
        return "gray", "Not defined"
    if metric == "silhouette":
        return (("red", "Overlapping") if value < 0 else ("orange", "Weak") if value < 0.25 else
                ("green", "Reasonable") if value < 0.5 else ("green", "Strong"))
    if metric == "davies_bouldin":
        return ("green", "Well separated") if value < 1 else ("orange", "Moderate") if value < 2 else \
            ("red", "Overlapping")
    if metric == "noise_share":
        return ("green", "Few left out") if value < 0.1 else ("orange", "Many left out") if value < 0.3 else \
            ("red", "Most left out")
    if metric == "smallest_share":
        return ("orange", "Very small segment") if value < 0.02 else ("green", "Usable sizes")
    return "gray", "Compare runs"


# --------------------------------------------------------------------------- Segment page
def param_input(algorithm: str, param: Any, value: Any) -> float | int:
    """A number input for one algorithm parameter, built from its ParamSpec (range, default, help)."""
    key = f"seg_param_{algorithm}_{param.name}"
    if param.kind == "int":
        return int(st.number_input(param.label, min_value=int(param.low), max_value=int(param.high),
                                   value=int(value), step=1, help=param.help, key=key))
    return float(st.number_input(param.label, min_value=float(param.low), max_value=float(param.high),
                                 value=float(value), help=param.help, format="%.3g", key=key))


def runs_table(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run with its settings and headline metrics, newest first."""
    rows = []
    for run in reversed(runs):
        m, c = run.result.metrics, run.config
        rows.append({
            "Run": run.title, "Segments": m["n_segments"], "Silhouette": m.get("silhouette"),
            "Davies–Bouldin": m.get("davies_bouldin"), "Unassigned": m.get("noise_share"),
            "Text": f"{', '.join(c.text.columns)} ({c.text.model})" if c.text.columns else "none",
            "Reduction": c.reduce.method.upper() if c.reduce.method != "none" else "none",
            "Parameters": ", ".join(f"{k}={v}" for k, v in c.cluster.params) or "defaults",
            "Took": fmt_seconds(run.seconds),
        })
    return pd.DataFrame(rows)


def runs_history(runs: list[RunRecord]) -> None:
    st.dataframe(runs_table(runs), hide_index=True, width="stretch", column_config={
        "Silhouette": st.column_config.NumberColumn(format="%.2f"),
        "Davies–Bouldin": st.column_config.NumberColumn(format="%.2f"),
        "Unassigned": st.column_config.NumberColumn(format="percent"),
    })
