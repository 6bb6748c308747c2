"""Map: every customer as a dot, close dots are similar customers; select some to see who they are."""

import streamlit as st

from segmentation.act.tables import result_tags
from segmentation.plots import map as plots
from segmentation.understand.wording import column_label
from ui import cache
from ui.choose_view import run_key
from ui.frame import page_header, require_result
from ui.profiles_view import search_panel, selection_panel
from ui.state import studio

page_header("Map", "Each dot is a customer; customers close together are alike. Colour by segment or any column, "
                   "find customers by id, by what they wrote or by their tags, and draw a lasso around dots to see "
                   "who they are.")
run = require_result()
state = studio()
result = run.result
names = state.shown_names(result)

# personal data and raw identifiers never go to the browser in hover labels
usable = [c for c in result.table.columns if result.roles.get(c) in ("numeric", "categorical", "date", "label",
                                                                         "describe", "outcome")]
numeric = [c for c in usable if result.roles.get(c) == "numeric"]
colour_options = [plots.SEGMENT] + ([plots.THEME] if result.theme_labels is not None else []) + \
    [c for c in usable if result.roles.get(c) != "date"]
colour_choice = state.choice("map_colour", plots.SEGMENT)
hover_choice = [c for c in state.choice("map_hover", numeric[:3]) if c in usable]

controls = st.columns([1, 1.7, 1, 0.9], vertical_alignment="bottom")
color_by = controls[0].selectbox(
    "Colour by", colour_options, key="map_colour",
    index=colour_options.index(colour_choice) if colour_choice in colour_options else 0,
    format_func=lambda c: {plots.SEGMENT: "Segment", plots.THEME: "Theme"}.get(c) or column_label(c))
hover = controls[1].multiselect("Show on hover and in the tables", usable, default=hover_choice, key="map_hover",
                                format_func=column_label)
point_choices = plots.point_choices(len(result.labels))
if len(point_choices) > 1:
    max_points = controls[2].select_slider(
        "Points drawn", point_choices,
        value=plots.default_points(len(result.labels), state.choice("map_points")), key="map_points",
        format_func=lambda n: f"{n:,}",
        help="Large bases are sampled evenly per segment so the browser stays fast; the chart says how many it "
             "shows.")
else:   # a slider with one stop reads like zero: say what is drawn instead
    max_points = point_choices[0]
    controls[2].container(key="map_points_all").caption(f"All {max_points:,} customers drawn")
show_labels = controls[3].toggle("Show labels", value=state.choice("map_labels", True), key="map_labels",
                                 help="Write each segment's name on the map, at the heart of the segment.")
state.set_choice("map_colour", color_by)
state.set_choice("map_labels", show_labels)
state.set_choice("map_hover", hover)
state.set_choice("map_points", max_points)

query = st.text_input("Find customers", key="map_find", value=state.choice("map_find", ""),
                      placeholder="A customer id (several: separate with commas), words they wrote or a tag, "
                                  "e.g. late delivery", icon=":material/search:",
                      help="Ids are matched exactly; otherwise customers whose text or tags (the key phrases they "
                           "wrote, as in the export) contain every word are found. Put a phrase in double quotes "
                           "to find it as written.")
state.set_choice("map_find", query)
# each customer's tags (as in the export), made once per run and hand-made change, only when something is searched
tags = cache.kept(cache.act_store("files"), f"tags|{run_key(state, run.run_id)}",
                  lambda: result_tags(result) or []) if query.strip() else []
found = search_panel(result, query, names, hover, tags or None)

figure = plots.map_figure(result, color_by=color_by, names=names, hover_fields=hover, max_points=max_points,
                          highlight=found if len(found) else None, highlight_label="Found", show_labels=show_labels)
# the key changes with every curation step, so a selection of customers that were just moved is cleared
steps = len(state.curation_steps(run.run_id))
event = st.plotly_chart(figure, key=f"map_chart_{run.run_id}_{steps}", on_select="rerun",
                        selection_mode=("lasso", "box"),
                        config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]})

rows = plots.selected_rows(event.selection if event else None)
if len(rows):
    selection_panel(run.run_id, run.number, result, rows, names, hover)
else:
    st.caption(":material/gesture_select: Draw a lasso or a box around customers on the map to see what sets them "
               "apart, download them, or move them to another segment.")
