"""Segment: choose how customers are represented and grouped, then run."""

import streamlit as st

from ui.choose_view import render_auto_mode
from ui.data_view import order_lines_warning
from ui.frame import page_header, require_dataset
from ui.runs_view import run_summary
from ui.segment_form import segment_form
from ui.state import studio

page_header("Segment", "Choose how customers are compared and how they are grouped, then run. "
                       "Changing only the algorithm settings re-uses the embeddings and is fast.")
dataset = require_dataset()
state = studio()

order_lines_warning(dataset)  # order lines not rolled up: say so, with the roll-up button, before anything runs
panel = st.container()  # a run's progress (or a run cut short) shows here, right under the title, in view
segment_form(dataset, state, panel)  # the settings; runs on submit
render_auto_mode(dataset, state)  # automatic mode: search, leaderboard, open a candidate

if state.current_run is not None:
    run_summary(state.current_run, state.runs)
