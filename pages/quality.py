"""Quality: are the segments real groups or arbitrary cuts? Numbers in words, warnings, stability, runs compared."""

import streamlit as st

from ui import quality_view
from ui.frame import page_header, require_result
from ui.state import studio

TABS = ["Segment sizes", "Silhouette", "Number of segments", "Stability", "Known groups", "Runs and comparison"]

page_header("Quality", "Are the segments real groups or arbitrary cuts? These checks say how clearly customers "
                       "separate and whether the segments hold up when re-run. No single number decides: read them "
                       "together with the profiles.")
run = require_result()
state = studio()
names = state.shown_names(run.result)

quality_view.metric_cards(run.result.metrics)
quality_view.run_warnings(state, run)

# on_change="rerun": only the open tab runs, so the slower checks cost nothing until they are looked at
sizes, silhouette, curves, stability, known, runs = st.tabs(TABS, key="quality_tab", on_change="rerun")
if sizes.open:
    with sizes:
        quality_view.size_section(run.result, names)
if silhouette.open:
    with silhouette:
        quality_view.silhouette_section(state, run, names)
if curves.open:
    with curves:
        quality_view.curves_section(state, run)
if stability.open:
    with stability:
        quality_view.stability_section(state, run, names)
if known.open:
    with known:
        if not quality_view.known_groups_section(run.result, names):
            st.info("No column holds known groups. If you have one (a customer type from your CRM, a persona from "
                    "a survey), set its role to 'label' on the Data page and run again: the segments are then "
                    "checked against it, without it being used to make them.", icon=":material/label:")
if runs.open:
    with runs:
        quality_view.runs_section(state)
