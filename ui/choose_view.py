"""Choosing well: automatic mode on the Segment page; quality, stability, known groups and run comparison on the
Quality page.

Pages call one function per section. The numbers come from the library (``selection``, ``stability``,
``compare``, ``diagnostics``) through ``ui.cache``, the figures from ``segmentation.plots_quality``; what must
survive a rerun is kept as plain JSON through ``ui.state`` (the stability check of each run, the last search).

``stability_badges(run_id)`` gives the Profiles page a badge per segment once the analyst has checked stability.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from segmentation.choose import compare, diagnostics
from segmentation.choose.search import ALGORITHMS, default_k_max
from segmentation.choose.stability import StabilityReport
from segmentation.common import segment_label
from segmentation.config import DEFAULT_MODEL, TFIDF_MODEL, RolesConfig, RunConfig, TextConfig, stable_hash
from segmentation.errors import ConfigError, SegmentationError
from segmentation.plots import quality as plots_quality
from segmentation.segment.cluster import CLUSTERERS

from . import cache
from .state import RunRecord, Studio, studio
from .widgets import STAGE_RUNNING, fmt_metric, fmt_seconds, md, run_with_progress, runs_history, user_errors, verdict

if TYPE_CHECKING:
    from segmentation.choose.search import Leaderboard
    from segmentation.ingest.read import Dataset
    from segmentation.pipeline import SegmentationResult

CHART = {"displayModeBar": False}
BADGES = {"stable": ("green", ":material/verified:", "Stable"), "fair": ("orange", ":material/info:", "Fair"),
          "unstable": ("red", ":material/warning:", "Unstable")}
"""How a stability badge looks everywhere: (colour, icon, word)."""
STABILITY_RERUNS = {"n_seeds": 2, "n_subsamples": 4}
"""Re-runs of the "Check stability" button: two other seeds and four 80% samples of the customers."""


# --------------------------------------------------------------------------- shared
def upstream(config: RunConfig) -> tuple[Any, ...]:
    """The settings the cluster space depends on: everything but the clustering."""
    return (config.roles, config.clean, config.features, config.text, config.blend, config.reduce,
            config.random_state)


def space_key(digest: str, config: RunConfig) -> str:
    """Identifies a cluster space: the data and the settings before clustering."""
    return stable_hash(digest, *upstream(config))


def run_key(state: Studio, run_id: str) -> str:
    """Identifies a run's segments as shown: the run and the hand-made changes (merges, splits, moves) to it."""
    return stable_hash(run_id, json.dumps(state.curation_steps(run_id), sort_keys=True))


def shown_result(state: Studio, run: RunRecord) -> SegmentationResult:
    """A run's result with its hand-made changes applied, as the other pages show it."""
    steps = state.curation_steps(run.run_id)
    return cache.curated_result(run.result, run.run_id, steps) if steps else run.result


def describe_space(config: RunConfig) -> str:
    """The settings before clustering in a few words, e.g. 'review (TF-IDF), PCA to 5 dimensions, seed 42'."""
    model = {TFIDF_MODEL: "TF-IDF", DEFAULT_MODEL: "sentence embeddings"}.get(config.text.model, config.text.model)
    uses_text = config.text.columns and config.blend.text_weight > 0
    text = f"{', '.join(config.text.columns)} ({model})" if uses_text else "structured columns only"
    reduce = config.reduce
    reduction = "no reduction" if reduce.method == "none" else f"{reduce.method.upper()} to {reduce.n_components} " \
                                                              "dimensions"
    return f"{text}, {reduction}, seed {config.random_state}"


def _throttled(draw: Callable[[str, float], None], every: float = 0.2) -> Callable[[str, float], None]:
    """An on_progress callback that redraws at most every ``every`` seconds (and always at the start and end)."""
    last = [0.0]

    def on_progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if fraction <= 0.0 or fraction >= 1.0 or now - last[0] >= every:
            last[0] = now
            draw(stage, min(max(float(fraction), 0.0), 1.0))
    return on_progress


def fit(figure: Any, chars: int = 150) -> Any:
    """The figure with its subtitle wrapped onto lines of at most ``chars`` characters: plotly does not wrap it,
    and a narrow column would cut it off. ``chars`` is about the chart's width in pixels divided by 7."""
    subtitle = figure.layout.title.subtitle.text
    lines = textwrap.wrap(subtitle or "", chars)
    if len(lines) > 1:
        # the title is centred in the top margin by default: pin it to the top so the extra lines push the plot
        # down instead of running into it
        figure.update_layout(title_subtitle_text="<br>".join(lines), title_yref="container", title_y=1,
                             title_yanchor="top", title_pad_t=16,
                             margin_t=(figure.layout.margin.t or 90) + 16 * (len(lines) - 1))
    return figure


def badge_markdown(badge: str) -> str:
    """A stability badge for st.markdown, e.g. ':green-badge[:material/verified: Stable]'."""
    colour, icon, word = BADGES.get(badge, ("gray", ":material/help:", badge.title()))
    return f":{colour}-badge[{icon} {word}]"


# --------------------------------------------------------------------------- automatic mode (Segment page)
def base_config(dataset: Dataset, state: Studio) -> RunConfig:
    """The Segment form's settings as last run (its defaults before any run), with the current column roles."""
    saved = state.run_config
    if saved is None:
        roles = cache.resolved_roles(dataset, state.role_overrides)
        saved = RunConfig(text=TextConfig(columns=tuple(c for c, r in roles.items() if r == "text")))
    return saved.replace(roles=RolesConfig.from_mapping(state.role_overrides))


def render_auto_mode(dataset: Dataset, state: Studio) -> None:
    """Automatic mode under the Segment form: search, the recommendation and why, the leaderboard, open a row."""
    base = base_config(dataset, state)
    with st.container(border=True, key="auto_mode"):
        about, options, action = st.columns([4.4, 2, 2.4], vertical_alignment="center")
        about.markdown("**Automatic mode: find the best segmentation**")
        about.caption("Tries k-means, Gaussian mixture, Ward, HDBSCAN and DBSCAN with several numbers of segments "
                      "on the text and reduction settings above, re-runs each to see if it holds up, and recommends "
                      "one.")
        with options.popover("Search settings", icon=":material/tune:", width="stretch"):
            settings = _search_settings(len(dataset.table), state)
        if action.button("Find the best segmentation", icon=":material/auto_awesome:", key="auto_find",
                         width="stretch"):
            with user_errors("The search could not start:"):
                _run_search(dataset, state, base, settings)
        opening = (state.auto_search or {}).get("opening")
        if opening:
            state.set_auto_search({**state.auto_search, "opening": None})
            with user_errors("The candidate could not be opened:"):
                open_candidate(dataset, state, RunConfig.from_dict(opening))
        _show_search(dataset, state, base)


def _search_settings(n: int, state: Studio) -> dict[str, Any]:
    chosen = [a for a in state.choice("auto_algorithms", list(ALGORITHMS)) if a in CLUSTERERS]
    algorithms = st.multiselect("Algorithms", list(CLUSTERERS), default=chosen, key="auto_algorithms",
                                format_func=lambda name: CLUSTERERS[name].label)
    max_k = st.number_input("Most segments to try", 2, 30, int(state.choice("auto_max_k", default_k_max(n))),
                            key="auto_max_k", help="k-means, Gaussian mixture and Ward try every number from 2 to "
                                                   "this. About one segment per 50 customers at most is useful.")
    resamples = st.number_input("Stability re-runs per candidate", 0, 10, int(state.choice("auto_resamples", 3)),
                                key="auto_resamples", help="Each candidate is re-run on 80% samples of the "
                                                           "customers to see whether its segments hold up. 0 is "
                                                           "faster but blind to segments that change when re-run.")
    sample = st.number_input("Customers searched", 100, 100_000, int(state.choice("auto_sample", 5000)), step=500,
                             key="auto_sample", help="Above this many customers the search runs on a random sample "
                                                     "of them; opening a result re-runs it on everyone. 5,000 takes "
                                                     "about 20 s.")
    for name, value in (("auto_algorithms", list(algorithms)), ("auto_max_k", int(max_k)),
                        ("auto_resamples", int(resamples)), ("auto_sample", int(sample))):
        state.set_choice(name, value)
    return {"algorithms": list(algorithms), "max_k": int(max_k), "stability_resamples": int(resamples),
            "sample_size": int(sample)}


def _cluster_space(dataset: Dataset, state: Studio, config: RunConfig,
                   on_progress: Callable[[str, float], None]) -> tuple[np.ndarray, str]:
    """The cluster space for ``config``: from a run with the same settings before clustering, or a new run."""
    current = state.current_run
    runs = sorted(state.runs, key=lambda r: current is None or r.run_id != current.run_id)
    for run in runs:
        if run.result.data_digest == dataset.digest and upstream(run.config) == upstream(config):
            return run.result.embedding, f"reused from {run.title}"
    result = cache.run_segmentation(dataset, config, on_progress)
    return result.embedding, "prepared for the search"


def _run_search(dataset: Dataset, state: Studio, base: RunConfig, settings: dict[str, Any]) -> None:
    if not settings["algorithms"]:
        raise ConfigError("Choose at least one algorithm under Search settings.")
    started = time.perf_counter()
    space = space_key(dataset.digest, base)
    key = stable_hash(space, json.dumps(settings, sort_keys=True))
    source = "results of the same search made earlier"
    with st.status("Finding the best segmentation…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")

        def draw(stage: str, fraction: float) -> None:
            if stage == "search":
                status.update(label="Trying candidate segmentations…")
                bar.progress(fraction, text=f"Trying candidate segmentations · {fraction:.0%}")
            else:
                status.update(label=f"{STAGE_RUNNING.get(stage, stage)}…")
                bar.progress(fraction, text=f"{STAGE_RUNNING.get(stage, stage)} · {fraction:.0%}")
        on_progress = _throttled(draw)
        try:
            board = cache.leaderboard(key)
            if board is None:
                Z, source = _cluster_space(dataset, state, base, on_progress)
                source = f"cluster space {source}"
                st.write(f":green[:material/check:] Cluster space {source} ({len(Z):,} customers)")
                n_rows = min(len(Z), settings["sample_size"])
                high = max(2, min(settings["max_k"], n_rows - 1))
                board = cache.search(key, Z, {"algorithms": tuple(settings["algorithms"]), "k_range": (2, high),
                                              "sample_size": settings["sample_size"],
                                              "stability_resamples": settings["stability_resamples"],
                                              "random_state": base.random_state}, on_progress)
        except SegmentationError as error:
            status.update(label="The search stopped", state="error", expanded=True)
            st.error(md(error), icon=":material/error:")
            return
        seconds = time.perf_counter() - started
        status.update(label=f"Compared {len(board.frame)} candidates in {fmt_seconds(seconds)}", state="complete",
                      expanded=False)
    state.set_auto_search({"key": key, "digest": dataset.digest, "space": space, "config": base.to_dict(),
                           "settings": settings, "source": source, "seconds": seconds})
    state.notify(f"Compared {len(board.frame)} candidate segmentations in {fmt_seconds(seconds)}.")
    st.rerun()


def board_table(board: Leaderboard) -> pd.DataFrame:
    """The leaderboard for people: one row per candidate in the leaderboard's order, the recommended starred."""
    frame = board.frame
    return pd.DataFrame({
        "Solution": [("★ " if i == board.recommended else "") + label for i, label in enumerate(frame["label"])],
        "Settings": frame["params"],
        "Silhouette": frame["silhouette"], "Stability": frame["stability"], "Unassigned": frame["noise_share"],
        "Smallest": frame["smallest_share"], "Largest": frame["largest_share"],
        "Davies–Bouldin": frame["davies_bouldin"], "Calinski–Harabasz": frame["calinski_harabasz"],
        "Run time": frame["seconds"], "Meets the rules": frame["eligible"], "Why not": frame["why_not"],
    })


BOARD_COLUMNS = {
    "Solution": st.column_config.TextColumn(width="medium", pinned=True),
    "Silhouette": st.column_config.NumberColumn(format="%.2f", help=diagnostics.GOOD_VALUES["silhouette"]),
    "Stability": st.column_config.NumberColumn(format="%.2f", help=diagnostics.GOOD_VALUES["stability"]),
    "Unassigned": st.column_config.NumberColumn(format="percent", help=diagnostics.GOOD_VALUES["noise_share"]),
    "Smallest": st.column_config.NumberColumn("Smallest segment", format="percent"),
    "Largest": st.column_config.NumberColumn("Largest segment", format="percent"),
    "Davies–Bouldin": st.column_config.NumberColumn(format="%.2f", help=diagnostics.GOOD_VALUES["davies_bouldin"]),
    "Calinski–Harabasz": st.column_config.NumberColumn(format="%.0f",
                                                       help=diagnostics.GOOD_VALUES["calinski_harabasz"]),
    "Run time": st.column_config.NumberColumn(format="%.2f s"),
    "Meets the rules": st.column_config.CheckboxColumn(),
}


def _show_search(dataset: Dataset, state: Studio, base: RunConfig) -> None:
    record = state.auto_search
    if not record or record.get("digest") != dataset.digest:
        return
    board = cache.leaderboard(record["key"])
    if board is None:
        st.info("The results of the last search are no longer in memory. Search again to see them.",
                icon=":material/history:")
        return
    searched = RunConfig.from_dict(record["config"])
    if board.recommended is None or board.structure == "weak":
        st.warning(md(board.reason), icon=":material/warning:")
    else:
        st.success(md(board.reason), icon=":material/recommend:")
    stale = space_key(dataset.digest, base) != record["space"]
    st.caption(md(f"{len(board.frame)} candidates on {describe_space(searched)}; {record['source']}. "
                  + " ".join(board.notes))
               + (" **The settings above have changed since: search again to use them.**" if stale else ""))
    figure = plots_quality.leaderboard_figure(board)
    figure.update_layout(height=420, legend=dict(orientation="v", y=0.5, x=1.02, yanchor="middle"))
    st.plotly_chart(fit(figure), key="auto_board_chart", config=CHART)
    event = st.dataframe(board_table(board), key=f"auto_board_{record['key'][:12]}", on_select="rerun",
                         selection_mode="single-row", hide_index=True, height=320, column_config=BOARD_COLUMNS)
    rows = list(event.selection.rows) if event is not None else []
    row = int(rows[0]) if rows else (board.recommended if board.recommended is not None else 0)
    label = board.frame.at[row, "label"]
    button, hint = st.columns([2, 3], vertical_alignment="center")
    button.button(f"Open {label}", type="primary", icon=":material/open_in_new:", key="auto_open",
                  help="Re-run this candidate on all customers and make it the current run.",
                  on_click=_request_open, args=(searched.replace(cluster=board.config(row)),))
    hint.caption("Tick another row to open it instead. Opening re-runs it on all customers and adds it to your runs; "
                 "★ marks the recommendation.")


def _show_in_form(state: Studio, config: RunConfig) -> None:
    """Make the Segment form show ``config`` on the next rerun (its widgets stay on screen, so their values are
    set, not just forgotten: the browser would otherwise keep showing the old ones)."""
    cluster = config.cluster
    model = {DEFAULT_MODEL: "default", TFIDF_MODEL: "tfidf"}.get(config.text.model, "other")
    other = config.text.model if model == "other" else ""
    state.set_form_value("algorithm", cluster.algorithm)
    state.set_form_value(f"params_{cluster.algorithm}", cluster.as_dict())
    state.set_form_value("model_choice", model)
    state.set_form_value("model_other", other)
    reduce = config.reduce
    values = {"seg_algorithm": cluster.algorithm, "seg_text_columns": list(config.text.columns), "seg_model": model,
              "seg_model_other": other, "seg_text_weight": float(config.blend.text_weight),
              "seg_reduce": reduce.method, "seg_components": int(reduce.n_components),
              "seg_neighbors": int(reduce.n_neighbors), "seg_map": reduce.map_method,
              "seg_seed": int(config.random_state)}
    spec = CLUSTERERS.get(cluster.algorithm)
    chosen = {**(spec.defaults() if spec else {}), **cluster.as_dict()}
    for param in spec.params if spec else ():
        value = chosen.get(param.name, param.default)
        values[f"seg_param_{cluster.algorithm}_{param.name}"] = int(value) if param.kind == "int" else float(value)
    for key, value in values.items():
        state.set_widget(key, value)


def _request_open(config: RunConfig) -> None:
    """The "Open" button's callback. It runs before the page is drawn, the only moment the Segment form's widgets
    (and the sidebar's run picker) can still be set to show the opened candidate; the run itself follows in the
    page (``open_candidate``), with its progress shown where the analyst is looking."""
    state = studio()
    state.set_run_config(config)
    _show_in_form(state, config)
    earlier = state.find_run(config)
    if earlier is not None:
        show_run(state, earlier.run_id)
        state.notify(f"These settings were already run: showing {earlier.title}.")
    else:
        state.set_auto_search({**(state.auto_search or {}), "opening": config.to_dict()})


def open_candidate(dataset: Dataset, state: Studio, config: RunConfig) -> None:
    """Run ``config`` on all customers like the Run button does (``run_with_progress``, then ``add_run``, so the
    workspace saves it too) and make it the current run."""
    started = time.perf_counter()
    result = run_with_progress(dataset, config)
    if result is not None:
        run = state.add_run(config, result, time.perf_counter() - started)
        state.reset_widget("sidebar_run")  # drawn already in this rerun, so it cannot be set (see show_run)
        state.notify(f"{run.title}: {result.metrics['n_segments']} segments in {fmt_seconds(run.seconds)}.")
        st.rerun()


def show_run(state: Studio, run_id: str) -> None:
    """Make ``run_id`` the current run, in the sidebar's run picker too (which would otherwise switch back to the
    run it shows on the next rerun)."""
    state.select_run(run_id)
    if len(state.runs) > 1:  # the picker is drawn only then; a value set for it earlier would win when it appears
        state.set_widget("sidebar_run", run_id)


# --------------------------------------------------------------------------- Quality page: headline and warnings
EXPLAINED = [  # (metric, label, format, what it measures, what a good value looks like)
    ("silhouette", "Silhouette", "{:.2f}",
     "How much closer customers are to their own segment than to the next one.",
     "Above 0.25 is reasonable for customer data, above 0.5 strong; under 0.25 weak."),
    ("davies_bouldin", "Davies–Bouldin", "{:.2f}",
     "How spread out segments are compared with the distance between them.",
     "Lower is better: under 1 means compact segments set well apart."),
    ("calinski_harabasz", "Calinski–Harabasz", "{:,.0f}",
     "Separation between segments against spread within them.",
     "Higher is better; it has no fixed scale, so compare it only between runs on the same data."),
    ("noise_share", "Unassigned", "{:.1%}",
     "Customers that fit no segment (only HDBSCAN and DBSCAN leave customers out).",
     "Under 10% is comfortable; over 30% means many customers belong to no segment."),
    ("smallest_share", "Smallest segment", "{:.1%}",
     "Share of customers in the smallest segment.",
     "2% or more: smaller segments are often too small to act on."),
]


def metric_cards(metrics: dict[str, Any]) -> None:
    """The headline quality numbers, each with a verdict, what it measures and what a good value looks like."""
    for column, (key, label, fmt, what, good) in zip(st.columns(len(EXPLAINED)), EXPLAINED):
        value = metrics.get(key)
        colour, words = verdict(key, value)
        with column.container(border=True, height="stretch"):
            st.metric(label, fmt.format(value) if fmt_metric(value) != "–" else "–",
                      help=diagnostics.GOOD_VALUES.get(key))
            st.markdown(f":{colour}-badge[{words}]")
            st.caption(f"{what}  \n**Good:** {good}")
    if metrics.get("noise_share"):
        st.caption("Silhouette, Davies–Bouldin and Calinski–Harabasz are measured on the assigned customers only.")


def run_warnings(state: Studio, run: RunRecord) -> None:
    """The usual failures of a segmentation, in words (nothing when none applies)."""
    result = run.result
    if state.curation_steps(run.run_id):  # merged or split by hand: the requested number no longer applies
        findings = diagnostics.label_warnings(result.labels, silhouette=result.metrics.get("silhouette"))
    else:
        findings = diagnostics.result_warnings(result)
    for finding in findings:
        if finding.severity == "warning":
            st.warning(md(finding.message), icon=":material/warning:")
        else:
            st.info(md(finding.message), icon=":material/info:")


# --------------------------------------------------------------------------- Quality page: tabs
def size_section(result: SegmentationResult, names: dict[int, str]) -> None:
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(fit(plots_quality.sizes_figure(result.labels, names), 90), key="size_chart", config=CHART)
    with right:
        st.markdown("**Notes from this run**")
        notes = list(result.notes) or ["Nothing unusual happened in this run."]
        st.markdown("\n".join(f"- {md(note)}" for note in notes))


def silhouette_section(state: Studio, run: RunRecord, names: dict[int, str]) -> None:
    result = run.result
    table = cache.silhouette_table(run_key(state, run.run_id), result.embedding, result.labels,
                                   result.config.random_state)
    st.plotly_chart(fit(plots_quality.silhouette_figure(table, names)), key="silhouette_chart", config=CHART)
    if not len(table):
        return
    st.caption(f"One thin bar per customer ({len(table):,} shown), grouped by segment, best placed on top; the "
               "number after each segment is its average. Bars left of 0 are customers closer to another segment.")
    per_segment = table.assign(below=table["silhouette"] < 0).groupby("segment")[["silhouette", "below"]].mean()
    for segment, row in per_segment.iterrows():
        if row["below"] >= 0.25 or row["silhouette"] < 0.1:
            st.info(md(f"{segment_label(int(segment), names)}: {row['below']:.0%} of its customers sit closer to "
                       f"another segment (average silhouette {row['silhouette']:.2f}). Its border is blurred: treat "
                       "members near it with care, or merge it with its neighbour on the Profiles page."),
                    icon=":material/blur_on:")


def curves_section(state: Studio, run: RunRecord) -> None:
    result = run.result
    n = len(result.embedding)
    high = min(default_k_max(n), n - 1)
    space = space_key(result.data_digest, run.config)
    asked = state.choice("quality_curves", [])
    if space not in asked:
        st.caption(f"Tries k-means with 2 to {high} segments (and a Gaussian mixture for BIC) on the same cluster "
                   "space, to see which numbers of segments the data supports. Takes a few seconds.")
        if st.button("Compute the curves", icon=":material/show_chart:", key="quality_curves"):
            state.set_choice("quality_curves", [*asked, space][-8:])
            st.rerun()  # draw the curves in place of the button
        return
    if high < 2:
        st.info("There are too few customers to try several numbers of segments.")
        return
    curves = cache.k_curves(space, result.embedding, (2, high), result.config.random_state)
    st.plotly_chart(fit(plots_quality.curves_figure(curves)), key="curves_chart", config=CHART)
    best = []
    for column, label, pick in (("silhouette", "silhouette", np.nanargmax),
                                ("davies_bouldin", "Davies–Bouldin", np.nanargmin), ("bic", "BIC", np.nanargmin)):
        values = curves[column].to_numpy(dtype=float)
        if np.isfinite(values).any():
            best.append(f"{label} at {int(curves['k'].iloc[int(pick(values))])}")
    if best:
        st.caption(f"Best number of segments by {', by '.join(best)}; this run has "
                   f"{result.metrics['n_segments']}. Where the charts agree, trust that number more.")


def stability_record(report: StabilityReport, curation: str) -> dict[str, Any]:
    """A stability report as plain JSON for the session: agreement, per-segment Jaccard and badge, and the
    ``curation`` key (``run_key``) of the segments it checked."""
    return {"curation": curation, "agreement": float(report.agreement),
            "agreements": [float(a) for a in report.agreements],
            "segments": [{"segment": int(s), "customers": int(c), "jaccard": float(j), "badge": str(b)}
                         for s, c, j, b in zip(report.segments["segment"], report.segments["customers"],
                                               report.segments["jaccard"], report.segments["badge"])],
            "resamples": int(report.resamples), "sample_size": int(report.sample_size), "notes": list(report.notes)}


def _report(record: dict[str, Any]) -> StabilityReport:
    segments = pd.DataFrame(record["segments"], columns=["segment", "customers", "jaccard", "badge"])
    return StabilityReport(agreement=record["agreement"], agreements=tuple(record["agreements"]), segments=segments,
                           resamples=record["resamples"], sample_size=record["sample_size"],
                           notes=tuple(record["notes"]))


def stability_badges(run_id: str, state: Studio | None = None) -> dict[int, str] | None:
    """Per segment of run ``run_id`` as currently shown: 'stable', 'fair' or 'unstable', from the last "Check
    stability" on the Quality page. None when stability was not checked, or was checked before the latest merge,
    split or move on the Profiles page. Render a badge with ``badge_markdown``."""
    state = state or studio()
    if not any(r.run_id == run_id for r in state.runs):
        return None
    check = state.stability_check(run_id)
    if not check or check.get("curation") != run_key(state, run_id):
        return None
    return {int(s["segment"]): str(s["badge"]) for s in check["segments"]}


def stability_section(state: Studio, run: RunRecord, names: dict[int, str]) -> None:
    key = run_key(state, run.run_id)
    check = state.stability_check(run.run_id)
    if not check or check.get("curation") != key:
        st.caption("Re-runs this segmentation with two other seeds and on four random 80% samples of the customers, "
                   "and measures how many customers stay together. A segment that falls apart when re-run is an "
                   "accident of the settings, not a group to build a campaign on.")
        if not st.button("Check stability", icon=":material/verified:", key="quality_stability"):
            return
        result = run.result
        bar = st.progress(0.0, text="Re-running the segmentation…")
        with user_errors("The stability check could not run:"):
            report = cache.stability(key, result.embedding, run.config.cluster, run.config.random_state,
                                     result.labels, _throttled(lambda _, f: bar.progress(
                                         f, text=f"Re-running the segmentation · {f:.0%}")), **STABILITY_RERUNS)
            state.set_stability_check(run.run_id, stability_record(report, key))
            st.rerun()  # draw the result in place of the button
        return
    report = _report(check)
    (st.warning if report.unstable or report.agreement < 0.5 else st.success)(
        md(report.summary()), icon=":material/warning:" if report.unstable else ":material/verified:")
    agreement, badges = st.columns([1, 3], vertical_alignment="center")
    agreement.metric("Agreement across re-runs", f"{report.agreement:.2f}", border=True,
                     help=f"Adjusted Rand index. {diagnostics.GOOD_VALUES['stability']}.")
    badges.markdown(" &nbsp; ".join(f"{md(segment_label(int(s), names))} {badge_markdown(b)}"
                                    for s, b in zip(report.segments["segment"], report.segments["badge"])))
    badges.caption(f"Badges: {diagnostics.GOOD_VALUES['jaccard']}.")
    for segment in report.unstable:
        jaccard = float(report.segments.set_index("segment").at[segment, "jaccard"])
        st.warning(md(f"{segment_label(segment, names)} is unstable: on average only {jaccard:.0%} of it is found "
                    "again when the segmentation is re-run. Do not build a campaign on it before checking it on "
                    "fresh data, or merge it with its closest segment on the Profiles page."),
                 icon=":material/warning:")
    st.plotly_chart(fit(plots_quality.stability_figure(report, names)), key="stability_chart", config=CHART)
    notes = list(report.notes)
    if state.curation_steps(run.run_id):
        notes.append("Checked on your hand-made segments: segments you merged or split usually score lower, as "
                     "the algorithm does not find them on its own.")
    for note in notes:
        st.caption(md(note))


def known_groups_section(result: SegmentationResult, names: dict[int, str]) -> bool:
    """ARI, NMI and V-measure against the column with the role 'label'; False when no column has that role."""
    comparison = compare.known_groups(result)
    if comparison is None:
        return False
    cards = st.columns(3)
    for column, (label, value) in zip(cards, (("Adjusted Rand index", comparison.ari),
                                              ("Normalised mutual information", comparison.nmi),
                                              ("V-measure", comparison.v_measure))):
        column.metric(label, f"{value:.2f}", border=True, help="1 = the same grouping as the known groups, "
                                                               "0 = unrelated.")
    st.markdown(md(comparison.summary()))
    st.plotly_chart(fit(plots_quality.crosstab_figure(comparison.crosstab, f"Segments against {comparison.column}",
                                                      names)), key="known_groups_chart", config=CHART)
    return True


def _aligned(a: SegmentationResult, b: SegmentationResult) -> tuple[np.ndarray, np.ndarray, int]:
    """Both runs' labels on the customers both kept (cleaning settings may drop different rows), and how many
    customers only one of them kept."""
    common = a.table.index.intersection(b.table.index)
    left = pd.Series(a.labels, index=a.table.index).loc[common].to_numpy()
    right = pd.Series(b.labels, index=b.table.index).loc[common].to_numpy()
    return left, right, len(a.labels) + len(b.labels) - 2 * len(common)


def _restore(run_id: str, title: str) -> None:
    """The "Make it the current run" button's callback (before the sidebar's run picker is drawn)."""
    state = studio()
    show_run(state, run_id)
    state.notify(f"{title} is the current run again.")


def runs_section(state: Studio) -> None:
    runs = state.runs
    current = state.current_run
    st.markdown(f"**Every run of this dataset ({len(runs)})**")
    runs_history(runs)
    titles = {r.run_id: r.title for r in runs}
    ids = [r.run_id for r in reversed(runs)]
    pick, restore = st.columns([3, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Run", ids, format_func=titles.get, key="runs_pick",
                            index=ids.index(current.run_id) if current else 0)
    restore.button("Make it the current run", icon=":material/restore:", key="runs_restore", width="stretch",
                   disabled=current is not None and chosen == current.run_id, on_click=_restore,
                   args=(chosen, titles[chosen]))
    st.markdown("**Compare two runs**")
    if len(runs) < 2:
        st.info("Make a second run (other settings, another algorithm or seed) to see how customers move between "
                "them.", icon=":material/compare_arrows:")
        return
    left, right = st.columns(2)
    first = left.selectbox("First run", ids, format_func=titles.get, key="compare_a", index=1)
    second = right.selectbox("Second run", ids, format_func=titles.get, key="compare_b", index=0)
    if first == second:
        st.info("Pick two different runs.")
        return
    run_a, run_b = (next(r for r in runs if r.run_id == rid) for rid in (first, second))
    with user_errors("These runs cannot be compared:"):
        labels_a, labels_b, unmatched = _aligned(shown_result(state, run_a), shown_result(state, run_b))
        comparison = compare.compare_runs(labels_a, labels_b, names_a=state.segment_names(first),
                                          names_b=state.segment_names(second), label_a=titles[first],
                                          label_b=titles[second])
        cards = st.columns(3)
        cards[0].metric("Agreement (adjusted Rand index)", f"{comparison.ari:.2f}", border=True,
                        help="1 = the same segments, above 0.8 very similar, under 0.5 substantially different.")
        cards[1].metric("Customers in the matching segment", f"{comparison.stayed_share:.0%}", border=True)
        cards[2].metric("Normalised mutual information", f"{comparison.nmi:.2f}", border=True,
                        help="1 = each run's segments tell you the other's exactly, 0 = unrelated.")
        st.markdown(md(comparison.summary()))
        if unmatched:
            st.caption(f"{unmatched:,} customers were kept by only one of the runs (other cleaning settings) and are "
                       "left out of the comparison.")
        st.plotly_chart(fit(plots_quality.flow_figure(comparison)), key="compare_flow", config=CHART)
        with st.expander("Cross-tab: customers per pair of segments", icon=":material/grid_on:"):
            st.dataframe(comparison.named_crosstab(), width="stretch")


__all__ = ["BADGES", "badge_markdown", "base_config", "board_table", "curves_section", "known_groups_section",
           "metric_cards", "open_candidate", "render_auto_mode", "run_warnings", "runs_section",
           "silhouette_section", "size_section", "stability_badges", "stability_record", "stability_section"]
