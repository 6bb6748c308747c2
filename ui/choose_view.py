"""Choosing a segmentation: automatic mode on the Segment page (search, the recommendation and why, the
leaderboard, opening a candidate), and what the Quality page's sections share (which segments a run shows, the
current run, chart settings, stability badges).

The search is the library's (``choose.search``) through ``ui.cache``; the figures come from
``segmentation.plots.quality``; the last search is kept as plain JSON through ``ui.state``. The Quality page's
sections are ``ui.quality_view``.
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

from segmentation.choose.search import ALGORITHMS, default_k_max
from segmentation.config import DEFAULT_MODEL, TFIDF_MODEL, RolesConfig, RunConfig, stable_hash
from segmentation.errors import ConfigError, SegmentationError
from segmentation.pipeline import space_key, space_settings
from segmentation.plots import quality as plots_quality
from segmentation.segment.cluster import CLUSTERERS
from segmentation.understand import metrics
from segmentation.understand.wording import settings_text

from . import cache
from .format import fmt_seconds, md, user_errors
from .progress import STAGE_RUNNING, run_with_progress, throttled
from .state import RunRecord, Studio, studio

if TYPE_CHECKING:
    from segmentation.choose.search import Leaderboard
    from segmentation.ingest.read import Dataset
    from segmentation.pipeline import SegmentationResult

CHART = {"displayModeBar": False}
BADGES = {"stable": ("green", ":material/verified:", "Stable"), "fair": ("orange", ":material/info:", "Fair"),
          "unstable": ("red", ":material/warning:", "Unstable")}
"""How a stability badge looks everywhere: (colour, icon, word)."""


# --------------------------------------------------------------------------- shared
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
    saved = state.run_config or cache.default_config(dataset, state.role_overrides)
    return saved.replace(roles=RolesConfig.from_mapping(state.role_overrides))


def render_auto_mode(dataset: Dataset, state: Studio) -> None:
    """Automatic mode under the Segment form: search, the recommendation and why, the leaderboard, open a row."""
    base = base_config(dataset, state)
    with st.container(border=True, key="auto_mode"):
        st.markdown("**Automatic mode: find the best segmentation**")
        st.caption("Tries k-means, Gaussian mixture, Ward, HDBSCAN and DBSCAN with several numbers of segments "
                   "on the text and reduction settings above, re-runs each to see if it holds up, and recommends "
                   "one.")
        # the buttons in a row of their own, as wide as their words: never cut off on a narrow screen
        options = st.container(horizontal=True, key="auto_buttons")
        with options.popover("Search settings", icon=":material/tune:", width="content"):
            settings = _search_settings(len(dataset.table), state)
        if options.button("Find the best segmentation", icon=":material/auto_awesome:", key="auto_find",
                          width="content"):
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
    resamples = st.number_input("Re-clusterings per candidate", 0, 10, int(state.choice("auto_resamples", 3)),
                                key="auto_resamples", help="Each candidate's clustering is re-run on 80% samples of "
                                                           "the reduced space: a quick screen, not the stability "
                                                           "check on the Quality page. 0 is faster but blind to "
                                                           "segments that change when re-clustered.")
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
        if run.result.data_digest == dataset.digest and space_settings(run.config) == space_settings(config):
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
        on_progress = throttled(draw)
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
        "Settings": [settings_text(params) for params in frame["params"]],   # "4 segments", not "n_clusters=4"
        # shares in percent with one decimal each (Streamlit's "percent" wrote 16.05% next to 0%)
        "Silhouette": frame["silhouette"], "Stability": frame["stability"], "Unassigned": frame["noise_share"] * 100,
        "Smallest": frame["smallest_share"] * 100, "Largest": frame["largest_share"] * 100,
        "Davies–Bouldin": frame["davies_bouldin"], "Calinski–Harabasz": frame["calinski_harabasz"],
        "Run time": frame["seconds"], "Meets the rules": frame["eligible"], "Why not": frame["why_not"],
    })


BOARD_COLUMNS = {
    "Solution": st.column_config.TextColumn(width="medium", pinned=True),
    "Settings": st.column_config.TextColumn(width="medium"),   # HDBSCAN: "smallest segment size 25, ..."
    "Silhouette": st.column_config.NumberColumn(format="%.2f", help=metrics.GOOD_VALUES["silhouette"]),
    "Stability": st.column_config.NumberColumn(
        "Re-cluster agreement", format="%.2f",
        help="How alike the segments are when only the clustering is re-run on 80% samples of the reduced space "
             "(adjusted Rand index, 1 = identical). A quick screen that scores high easily; the stability check on "
             "the Quality page re-runs the reduction too."),
    "Unassigned": st.column_config.NumberColumn(format="%.1f%%", help=metrics.GOOD_VALUES["noise_share"]),
    "Smallest": st.column_config.NumberColumn("Smallest segment", format="%.1f%%"),
    "Largest": st.column_config.NumberColumn("Largest segment", format="%.1f%%"),
    # wide enough for the whole header: "Davies–Bo…" told nobody anything
    "Davies–Bouldin": st.column_config.NumberColumn(format="%.2f", width=125,
                                                    help=metrics.GOOD_VALUES["davies_bouldin"]),
    "Calinski–Harabasz": st.column_config.NumberColumn(format="%.0f", width=145,
                                                       help=metrics.GOOD_VALUES["calinski_harabasz"]),
    "Run time": st.column_config.NumberColumn(format="%.2f s"),
    "Meets the rules": st.column_config.CheckboxColumn(width="small"),
    "Why not": st.column_config.TextColumn(width="large"),
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


__all__ = ["BADGES", "CHART", "badge_markdown", "base_config", "board_table", "fit", "open_candidate",
           "render_auto_mode", "run_key", "show_run", "shown_result"]
