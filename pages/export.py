"""Export: the labelled customers, the segment profiles and the run manifest."""

import json

import streamlit as st

from segmentation import export
from segmentation.profiling import profiles_table, segment_label
from ui.state import studio
from ui.widgets import md, page_header, require_result, table_columns

page_header("Export", "Take the segments to your CRM, spreadsheet or BI tool. Every customer is included; those "
                      "who fit no segment are labelled “Unassigned”.")
run = require_result()
state = studio()
result = run.result
names = state.segment_names()
slug = f"run-{run.number}"

pii_columns = [c for c in result.table.columns if result.roles.get(c) == "pii"]
include_pii = st.checkbox("Include personal data columns", value=False, key="export_include_pii",
                          help="E-mail addresses, names, phone numbers and other direct identifiers.",
                          disabled=not pii_columns)
if include_pii:
    st.warning(f"The file will contain personal data ({md(', '.join(pii_columns))}). Store and share it only where "
               "your data-protection rules allow.", icon=":material/shield:")
elif pii_columns:
    st.caption(f"Left out: {md(', '.join(pii_columns))}. Customers keep their id so you can join the segments back.")

customers = export.labelled_customers(result, names, include_pii=include_pii)
all_names = {p.segment: segment_label(p.segment, names) for p in result.profiles}

with st.container(border=True):
    st.markdown("**Labelled customers** · one row per customer with segment id, name and confidence")
    st.caption(f"{len(customers):,} rows · {len(customers.columns)} columns. Cells that a spreadsheet would run "
               "as formulas are neutralised.")
    st.download_button("Download customers CSV", data=lambda: export.to_csv_bytes(customers),
                       file_name=f"segments-{slug}-customers.csv", mime="text/csv", type="primary",
                       icon=":material/download:", on_click="ignore", key="download_customers")
    first = ["segment_id", "segment_name", "segment_confidence"]
    st.dataframe(customers.head(8), hide_index=True, width="stretch",
                 column_order=first + [c for c in customers.columns if c not in first],
                 column_config=table_columns(customers))

left, right = st.columns(2)
with left.container(border=True, height="stretch"):
    st.markdown("**Segment profiles** · size, share, top traits and keywords per segment")
    st.download_button("Download profiles CSV",
                       data=lambda: export.to_csv_bytes(profiles_table(result.profiles, all_names)),
                       file_name=f"segments-{slug}-profiles.csv", mime="text/csv", icon=":material/download:",
                       on_click="ignore", key="download_profiles")
with right.container(border=True, height="stretch"):
    st.markdown("**Run manifest** · settings, metrics and versions, to reproduce or audit the run")
    manifest = {**result.manifest(), "segment_names": {str(k): v for k, v in all_names.items()}}
    st.download_button("Download manifest JSON", data=lambda: json.dumps(manifest, indent=2, default=str),
                       file_name=f"segments-{slug}-manifest.json", mime="application/json",
                       icon=":material/download:", on_click="ignore", key="download_manifest")
