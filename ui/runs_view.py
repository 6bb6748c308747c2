"""Runs on screen: a run's headline numbers, the summary under the Segment form, and the table of every run."""

from __future__ import annotations

import streamlit as st

from segmentation.lazy import lazy

from .format import fmt_metric, fmt_seconds, md
from .frame import PAGES
from .state import RunRecord

pd = lazy("pandas")
metrics = lazy("segmentation.understand.metrics")


def run_metrics(run: RunRecord) -> None:
    """Headline numbers of a run, in one row."""
    m = run.result.metrics
    cols = st.columns(4)
    cols[0].metric("Customers", f"{m['n_customers']:,}", border=True)
    cols[1].metric("Segments", m["n_segments"], border=True)
    for column, key, value in ((cols[2], "noise_share", f"{m['noise_share']:.1%}"),
                               (cols[3], "silhouette", fmt_metric(m.get("silhouette")))):
        measure = metrics.QUALITY[key]
        column.metric(measure.label, value, border=True, help=f"{measure.what} {measure.good}.")


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
        with st.expander(f"All runs of this dataset ({len(runs)}) — pick the current one in the sidebar"):
            runs_history(runs)


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
    """Every run of the current dataset in a table, newest first (``runs_table``); the runs of the project's other
    datasets are shown with them, after switching the dataset in the sidebar."""
    st.dataframe(runs_table(runs), hide_index=True, width="stretch", column_config={
        "Silhouette": st.column_config.NumberColumn(format="%.2f"),
        "Davies–Bouldin": st.column_config.NumberColumn(format="%.2f"),
        "Unassigned": st.column_config.NumberColumn(format="percent"),
    })
