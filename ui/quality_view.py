"""The Quality page's sections: the headline numbers with their verdicts, the usual failures in words, then one
section per tab (sizes, silhouette, curves over the number of segments, stability, known groups, runs compared).

The numbers and their verdicts come from the library (``understand.metrics``, ``choose.diagnostics``,
``choose.stability``, ``choose.compare``) through ``ui.cache``; the figures from ``segmentation.plots``. What must
survive a rerun is kept as plain JSON through ``ui.state`` (the stability check of each run).
``stability_badges(run_id)`` gives the Profiles page a badge per segment once the analyst has checked stability.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import streamlit as st

from segmentation.choose import compare, diagnostics, redundancy
from segmentation.choose.search import default_k_max
from segmentation.choose.stability import SAMPLE_SIZE, StabilityReport
from segmentation.common import segment_label
from segmentation.config import RolesConfig
from segmentation.pipeline import space_key
from segmentation.plots import flow as plots_flow
from segmentation.plots import quality as plots_quality
from segmentation.plots import sizes as plots_sizes
from segmentation.understand import metrics

from . import cache
from .choose_view import CHART, badge_markdown, fit, run_key, show_run, shown_result
from .format import fmt_metric, fmt_seconds, md, user_errors, verdict_badge
from .progress import run_with_progress, throttled
from .runs_view import runs_history
from .state import RunRecord, Studio, studio

if TYPE_CHECKING:
    from segmentation.ingest.read import Dataset
    from segmentation.pipeline import SegmentationResult

STABILITY_RERUNS = {"n_seeds": 2, "n_subsamples": 4}
"""Re-runs of the "Check stability" button: the reduction and clustering with two other seeds and on four 80%
samples of the customers (of at most ``stability.SAMPLE_SIZE`` customers)."""


# --------------------------------------------------------------------------- headline and warnings
CARDS = {"silhouette": "{:.2f}", "davies_bouldin": "{:.2f}", "calinski_harabasz": "{:,.0f}",
         "noise_share": "{:.1%}", "smallest_share": "{:.1%}"}
"""The headline quality numbers, in order, and how each is written; what they mean is ``metrics.QUALITY``."""


def metric_cards(numbers: dict[str, Any]) -> None:
    """The headline quality numbers, each with its verdict, what it measures and what a good value looks like."""
    for column, (key, fmt) in zip(st.columns(len(CARDS)), CARDS.items()):
        value = numbers.get(key)
        measure = metrics.QUALITY[key]
        with column.container(border=True, height="stretch", key=f"quality_card_{key}"):
            # the name and the verdict wrap instead of being cut ("Calinski–Hara…") when the window is narrow
            st.markdown(f'<span style="font-size:0.875rem">{md(measure.label)}</span>', unsafe_allow_html=True,
                        help=measure.good)
            st.metric(measure.label, fmt.format(value) if fmt_metric(value) != "—" else "—", help=measure.good,
                      label_visibility="collapsed")
            st.markdown(verdict_badge(key, value))
            st.caption(f"{measure.what}  \n**Good:** {measure.good}.")
    if numbers.get("noise_share"):
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
        if finding.code == "repeats_column":
            without_column_offer(state, run)


def without_column_offer(state: Studio, run: RunRecord) -> None:
    """The button under the "segments repeat a column" warning: the same settings again, with that column's role
    set to 'ignore' as the Data page's role editor would set it (``redundancy.result_repeats`` names it)."""
    repeats = redundancy.result_repeats(run.result)
    dataset = state.dataset
    if not repeats or dataset is None:
        return
    column = repeats[0].column
    if st.button(f"Run again without {column}", icon=":material/replay:", key="quality_without_column",
                 help=f"Sets the role of {column!r} to 'ignore' (as on the Data page) and runs the segmentation "
                      "again with the same settings; this run stays in the history to compare with."):
        run_without(state, dataset, run, column)


def run_without(state: Studio, dataset: Dataset, run: RunRecord, column: str) -> None:
    """Run ``run``'s settings again with ``column`` ignored, make it the current run and rerun the page."""
    overrides = {**run.config.roles.as_dict(), column: "ignore"}
    state.set_role_overrides(overrides)
    state.reset_widget(f"roles_editor_{dataset.digest[:12]}")  # the Data page's editor shows the new role
    config = run.config.replace(roles=RolesConfig.from_mapping(overrides))
    state.set_run_config(config)
    earlier = state.find_run(config)
    if earlier is not None:
        show_run(state, earlier.run_id)
        state.notify(f"These settings were already run without {column}: showing {earlier.title}.")
        st.rerun()
    started = time.perf_counter()
    result = run_with_progress(dataset, config)
    if result is not None:
        record = state.add_run(config, result, time.perf_counter() - started)
        state.notify(f"{record.title} without {column}: {result.metrics['n_segments']} segments in "
                     f"{fmt_seconds(record.seconds)}.")
        st.rerun()


# --------------------------------------------------------------------------- tabs
def size_section(result: SegmentationResult, names: dict[int, str]) -> None:
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(fit(plots_sizes.sizes_figure(result.labels, names), 90), key="size_chart", config=CHART)
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
    for row in diagnostics.blurred_segments(table).itertuples():
        st.info(md(f"{segment_label(int(row.segment), names)}: {row.below:.0%} of its customers sit closer to "
                   f"another segment (average silhouette {row.silhouette:.2f}). Its border is blurred: treat "
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
    labels = {"silhouette": "silhouette", "davies_bouldin": "Davies–Bouldin", "bic": "BIC"}
    best = [f"{labels[column]} at {k}" for column, k in diagnostics.best_k(curves).items()]
    if best:
        st.caption(f"Best number of segments by {', by '.join(best)}; this run has "
                   f"{result.metrics['n_segments']}. Where the charts agree, trust that number more.")


def stability_record(report: StabilityReport, curation: str) -> dict[str, Any]:
    """A stability report as plain JSON for the session (``StabilityReport.to_dict``) with the ``curation`` key
    (``run_key``) of the segments it checked."""
    return {"curation": curation, **report.to_dict()}


def stability_badges(run_id: str, state: Studio | None = None) -> dict[int, str] | None:
    """Per segment of run ``run_id`` as currently shown: 'stable', 'fair' or 'unstable', from the last "Check
    stability" on the Quality page. None when stability was not checked, or was checked before the latest merge,
    split or move on the Profiles page. Render a badge with ``badge_markdown``."""
    state = state or studio()
    if not any(r.run_id == run_id for r in state.runs):
        return None
    check = state.stability_check(run_id)
    if not check or check.get("curation") != run_key(state, run_id) or not check.get("reduction"):
        return None  # an older check re-clustered the reduced space only: too optimistic to show
    return {int(s["segment"]): str(s["badge"]) for s in check["segments"]}


def rerun_themes(config: Any) -> Any:
    """The run's own theme step, to find the themes of each stability re-run (``stability.ThemeFinder``)."""
    from segmentation.segment.themes import build_themes

    return lambda Z, labels, wanted, seed: build_themes(Z, labels, config.themes, seed).labels


def stability_section(state: Studio, run: RunRecord, names: dict[int, str]) -> None:
    key = run_key(state, run.run_id)
    check = state.stability_check(run.run_id)
    if not check or check.get("curation") != key or not check.get("reduction"):  # never checked, or the old way
        st.caption(f"Re-runs the map reduction and the clustering with two other seeds and on four random 80% samples "
                   f"of the customers (a random sample of {SAMPLE_SIZE:,} of them at most), and measures how many "
                   "customers stay together. A segment that falls apart when re-run is an accident of the settings, "
                   "not a group to build a campaign on.")
        if not st.button("Check stability", icon=":material/verified:", key="quality_stability"):
            return
        result = run.result
        bar = st.progress(0.0, text="Re-running the segmentation…")
        with user_errors("The stability check could not run:"):
            themes = getattr(result, "theme_labels", None)  # themes inside segments, where the run has them
            report = cache.stability(key, result.features, run.config.reduce, run.config.cluster,
                                     run.config.random_state, result.labels, throttled(lambda _, f: bar.progress(
                                         f, text=f"Re-running the reduction and clustering · {f:.0%}")),
                                     theme_labels=themes, theme_parents=getattr(result, "theme_parent", None) or None,
                                     find_themes=rerun_themes(run.config) if themes is not None else None,
                                     **STABILITY_RERUNS)
            state.set_stability_check(run.run_id, stability_record(report, key))
            st.rerun()  # draw the result in place of the button
        return
    report = StabilityReport.from_dict(check)
    (st.warning if report.unstable or metrics.verdict("stability", report.agreement).level == "poor" else st.success)(
        md(report.summary(names)), icon=":material/warning:" if report.unstable else ":material/verified:")
    agreement, badges = st.columns([1, 3], vertical_alignment="center")
    agreement.metric("Agreement across re-runs", f"{report.agreement:.2f}", border=True,
                     help=f"Adjusted Rand index. {metrics.GOOD_VALUES['stability']}.")
    badges.markdown(" &nbsp; ".join(f"{md(segment_label(int(s), names))} {badge_markdown(b)}"
                                    for s, b in zip(report.segments["segment"], report.segments["badge"])))
    badges.caption(f"Badges: {metrics.GOOD_VALUES['jaccard']}.")
    for segment in report.unstable:
        jaccard = float(report.segments.set_index("segment").at[segment, "jaccard"])
        st.warning(md(f"{segment_label(segment, names)} is unstable: on average only {jaccard:.0%} of it is found "
                    "again when the reduction and clustering are re-run. Do not build a campaign on it before "
                    "checking it on fresh data, or merge it with its closest segment on the Profiles page."),
                 icon=":material/warning:")
    st.plotly_chart(fit(plots_quality.stability_figure(report, names)), key="stability_chart", config=CHART)
    if len(report.themes):
        shaky = report.themes[report.themes["badge"] == "unstable"]
        theme_names = run.result.theme_names() if hasattr(run.result, "theme_names") else {}
        listed = ", ".join(theme_names.get(int(t), f"theme {int(t)}") for t in shaky["theme"][:6])
        more = f" and {len(shaky) - 6} more" if len(shaky) > 6 else ""
        st.caption(md(f"Themes inside segments: {(report.themes['badge'] == 'stable').sum()} of {len(report.themes)} "
                      "stable" + (f"; unstable: {listed}{more}." if len(shaky) else ".")))
    notes = [report.method(), *report.notes]
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
        labels_a, labels_b, unmatched = compare.aligned_labels(shown_result(state, run_a), shown_result(state, run_b))
        comparison = compare.compare_runs(labels_a, labels_b,
                                          names_a=state.shown_names(shown_result(state, run_a), first),
                                          names_b=state.shown_names(shown_result(state, run_b), second),
                                          label_a=titles[first],
                                          label_b=titles[second])
        cards = st.columns(3)
        cards[0].metric("Agreement (adjusted Rand index)", f"{comparison.ari:.2f}", border=True,
                        help=f"{metrics.GOOD_VALUES['run_agreement']}.")
        cards[1].metric("Customers in the matching segment", f"{comparison.stayed_share:.0%}", border=True)
        cards[2].metric("Normalised mutual information", f"{comparison.nmi:.2f}", border=True,
                        help="1 = each run's segments tell you the other's exactly, 0 = unrelated.")
        st.markdown(md(comparison.summary()))
        if unmatched:
            st.caption(f"{unmatched:,} customers were kept by only one of the runs (other cleaning settings) and are "
                       "left out of the comparison.")
        st.plotly_chart(fit(plots_flow.comparison_flow_figure(comparison)), key="compare_flow", config=CHART)
        with st.expander("Cross-tab: customers per pair of segments", icon=":material/grid_on:"):
            st.dataframe(comparison.named_crosstab(), width="stretch")


__all__ = ["curves_section", "known_groups_section", "metric_cards", "run_warnings", "run_without", "runs_section",
           "silhouette_section", "size_section", "stability_badges", "stability_record", "stability_section",
           "without_column_offer"]
