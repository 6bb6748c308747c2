"""Profiles: one card per segment, largest first, with what sets it apart; name the segments here."""

import streamlit as st

from ui.state import studio
from ui.widgets import card_styles, name_key, page_header, profile_card, require_result, segment_legend

page_header("Profiles", "What makes each segment different from everyone else. Give each one a name your team "
                        "will recognise: names are used on the map, in charts and in exports.")
run = require_result()
state = studio()
profiles = sorted(run.result.profiles, key=lambda p: (p.is_noise, -p.size, p.segment))
names = state.segment_names()

unnamed = [p for p in profiles if not p.is_noise and not names.get(p.segment) and p.name]
if unnamed:
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(f"{len(unnamed)} segment(s) have no name yet. Suggestions come from each segment's strongest trait.")
    if right.button("Use suggested names", icon=":material/auto_awesome:", key="use_suggested_names",
                    width="stretch"):
        for profile in unnamed:
            state.annotate(profile.segment, "name", profile.name)
            state.reset_widget(name_key(run.run_id, profile.segment))
        st.rerun()

segment_legend(run.result.labels, names)
card_styles([p.segment for p in profiles])
for profile in profiles:
    profile_card(profile, run, names)
