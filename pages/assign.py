"""Assign: place new or refreshed customers in the segments of a run or a saved model, and see who moved."""

import streamlit as st

from ui import act_view
from ui.format import user_errors
from ui.frame import page_header
from ui.state import studio

page_header("Assign", "Place new or refreshed customers in existing segments, without segmenting again: each one "
                      "joins the segment, and the theme inside it, of the customers it most resembles. Customers "
                      "seen before show where they moved.")
state = studio()
run = state.curated_run()
current = act_view.run_export(state, run) if run is not None else None

with st.container(border=True):
    st.markdown("##### 1 · The segments to assign to")
    chosen = act_view.model_step(state, current)
    if chosen is not None:
        act_view.model_summary(chosen)

with st.container(border=True):
    st.markdown("##### 2 · The customers to assign")
    dataset = act_view.data_step(state)

if chosen is None or dataset is None:
    st.info("Choose the segments and the customers above; the assignment and where customers moved appear here.",
            icon=":material/arrow_upward:")
    st.stop()

found = act_view.earlier_assignment(chosen, dataset)
if found is None:
    slot = st.empty()  # the button gives way to the results once they are there
    if not slot.button(f"Assign {len(dataset.table):,} customers", type="primary", icon=":material/person_add:",
                       key="assign_run"):
        st.stop()
    bar = st.progress(0.0, text="Assigning customers…")
    try:
        with user_errors("The customers could not be assigned."):
            found = act_view.assign(chosen, dataset, on_progress=lambda stage, fraction: bar.progress(
                min(max(fraction, 0.0), 1.0), text=f"Reading the customers' texts · {fraction:.0%}"))
    finally:
        bar.empty()
    if found is not None:
        slot.empty()
if found is not None:
    st.divider()
    act_view.results(found)
