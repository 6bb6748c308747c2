"""Profiles: one card per segment, largest first, with what sets it apart; name, describe and curate segments."""

import streamlit as st

from ui import llm_view
from ui.frame import page_header, require_result
from ui.profiles_view import (
    compare_panel,
    curation_panel,
    dashboard_panel,
    description_key,
    name_key,
    profile_cards,
    segment_legend,
    suggested_names_bar,
)
from ui.state import studio
from ui.themes_view import detail_control, themes_tree

page_header("Profiles", "What makes each segment different from everyone else. Give each one a name and a "
                        "description your team will recognise: they are used on the map, in charts and in exports.")
run = require_result()
state = studio()
# the generated descriptions, not the analyst's: the cards show both and let the analyst go back
result = state.curated_run(with_annotations=False).result
names = state.shown_names(result)
had_unassigned = bool((state.current_run.result.labels < 0).any())

suggested_names_bar(run.run_id, result.profiles, names)
llm_view.write_bar(run.run_id, result.profiles, name_key, description_key)
curation_panel(run.run_id, result, had_unassigned, names)

detail_control(run.run_id, result)
segments_tab, tree_tab, compare_tab, dashboard_tab = st.tabs([":material/view_agenda: Segments",
                                                              ":material/account_tree: Segments and themes",
                                                              ":material/compare: Compare segments",
                                                              ":material/dashboard: Dashboard"])
with segments_tab:
    segment_legend(result.labels, names)
    profile_cards(run.run_id, result)
with tree_tab:
    themes_tree(result, names)
with compare_tab:
    compare_panel(result, names)
with dashboard_tab:
    dashboard_panel(result, names)
