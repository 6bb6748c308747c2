"""Quality: how clearly the segments are separated, in plain words, and how big they are."""

import streamlit as st

from segmentation import plots
from ui.state import studio
from ui.widgets import fmt_metric, md, page_header, require_result, runs_history, verdict

EXPLAINED = [
    ("silhouette", "Silhouette", "{:.2f}",
     "How much closer customers are to their own segment than to the next one. Runs from -1 to 1; higher is "
     "better. Above 0.25 is reasonable for customer data, above 0.5 is strong."),
    ("davies_bouldin", "Davies–Bouldin", "{:.2f}",
     "How spread out segments are compared with the distance between them. Lower is better; below 1 means "
     "compact, well separated segments."),
    ("calinski_harabasz", "Calinski–Harabasz", "{:,.0f}",
     "Separation between segments against spread within them. Higher is better; it has no fixed scale, so "
     "use it to compare runs on the same data."),
    ("noise_share", "Unassigned", "{:.1%}",
     "Share of customers that fit no segment. Only density-based algorithms (HDBSCAN, DBSCAN) leave customers "
     "out; under 10% is comfortable."),
    ("smallest_share", "Smallest segment", "{:.1%}",
     "Share of customers in the smallest segment. Segments under 2% are often too small to act on."),
]

page_header("Quality", "Are the segments real groups or arbitrary cuts? These checks say how clearly customers "
                       "separate. No single number decides: read them together with the profiles.")
run = require_result()
metrics = run.result.metrics
names = studio().segment_names()

cards = st.columns(len(EXPLAINED))
for column, (key, label, fmt, help_text) in zip(cards, EXPLAINED):
    value = metrics.get(key)
    colour, words = verdict(key, value)
    with column.container(border=True, height="stretch"):
        shown = fmt.format(value) if fmt_metric(value) != "–" else "–"
        st.metric(label, shown)
        st.markdown(f":{colour}-badge[{words}]")
        st.caption(help_text)

if metrics.get("noise_share"):
    st.caption("Silhouette, Davies–Bouldin and Calinski–Harabasz are measured on the assigned customers only.")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Segment sizes", anchor=False)
    st.plotly_chart(plots.size_figure(run.result, names), key="size_chart", config={"displayModeBar": False})
with right:
    st.subheader("Notes from this run", anchor=False)
    notes = list(run.result.notes)
    if metrics.get("external_column"):
        notes.append(f"Agreement with the known groups in '{metrics['external_column']}': adjusted Rand index "
                     f"{fmt_metric(metrics.get('external_ari'))} (1 = identical, 0 = chance).")
    for note in notes or ["Nothing unusual happened in this run."]:
        st.markdown(f"- {md(note)}")

if len(studio().runs) > 1:
    st.subheader("Compare runs", anchor=False)
    runs_history(studio().runs)
