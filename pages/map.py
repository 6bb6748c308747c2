"""Map: every customer as a dot, close dots are similar customers; select some to list them."""

import streamlit as st

from segmentation import plots
from ui.state import studio
from ui.widgets import page_header, require_result

page_header("Map", "Each dot is a customer; customers close together are alike. Colour by segment or any column, "
                   "and draw a lasso around dots to see who they are.")
run = require_result()
state = studio()
result = run.result
names = state.segment_names()

# personal data and raw identifiers never go to the browser in hover labels
usable = [c for c in result.table.columns if result.roles.get(c) in ("numeric", "categorical", "date", "label")]
numeric = [c for c in usable if result.roles.get(c) == "numeric"]
colour_options = [plots.SEGMENT] + [c for c in usable if result.roles.get(c) != "date"]
colour_choice = state.choice("map_colour", plots.SEGMENT)
hover_choice = [c for c in state.choice("map_hover", numeric[:3]) if c in usable]

controls = st.columns([1, 2, 1])
color_by = controls[0].selectbox(
    "Colour by", colour_options, key="map_colour",
    index=colour_options.index(colour_choice) if colour_choice in colour_options else 0,
    format_func=lambda c: "Segment" if c == plots.SEGMENT else c)
hover = controls[1].multiselect("Show on hover and in the table", usable, default=hover_choice, key="map_hover")
max_points = controls[2].select_slider(
    "Points drawn", [5_000, 10_000, 20_000, 50_000], value=state.choice("map_points", plots.DEFAULT_MAX_POINTS),
    key="map_points", format_func=lambda n: f"{n:,}",
    help="Large bases are sampled evenly per segment so the browser stays fast.")
state.set_choice("map_colour", color_by)
state.set_choice("map_hover", hover)
state.set_choice("map_points", max_points)

figure = plots.map_figure(result, color_by=color_by, names=names, hover_fields=hover, max_points=max_points)
event = st.plotly_chart(figure, key=f"map_chart_{run.run_id}", on_select="rerun", selection_mode=("lasso", "box"),
                        config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]})

rows = plots.selected_rows(event.selection if event else None)
if len(rows):
    table = plots.selected_customers(result, rows, names, hover)
    st.markdown(f"**{len(rows):,} customers selected**")
    st.dataframe(table, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(table)),
                 column_config={"text": st.column_config.TextColumn("What they wrote", width="large")})
    st.caption("Double-click the map to clear the selection.")
else:
    st.caption(":material/gesture_select: Draw a lasso or a box on the map to list those customers here.")
