"""Export: audiences for the CRM, a report and profiles to share, and a model and manifest to reuse the run."""

import streamlit as st

from segmentation.act.tables import EXCEL_MAX_ROWS, personal_columns
from ui import act_view
from ui.act_view import FORMAT_LABELS, download
from ui.format import md, table_columns
from ui.frame import PAGES, page_header, require_result
from ui.state import studio

page_header("Export", "Take the segments to your CRM, spreadsheet or BI tool, share them with stakeholders, and keep "
                      "the model to place new customers later. Every customer is included; those who fit no segment "
                      "are labelled “Unassigned”.")
run = require_result()
state = studio()
chosen = act_view.run_export(state, run)
result = chosen.result
slug = f"segments-{chosen.slug}"

pii_columns, text_columns = personal_columns(result)
include_pii = st.checkbox("Include personal data unmasked", value=False, key="export_include_pii",
                          help="Columns of direct identifiers (e-mail addresses, names, phone numbers…), and the "
                               "e-mail addresses and phone numbers written inside free text, which are otherwise "
                               "masked as `<EMAIL>` and `<PHONE>`.",
                          disabled=not (pii_columns or text_columns))
if include_pii:
    st.warning(f"The customer files will contain personal data ({md(', '.join(pii_columns + text_columns))}, "
               "unmasked). Store and share them only where your data-protection rules allow.",
               icon=":material/shield:")
elif pii_columns or text_columns:
    st.caption((f"Left out: {md(', '.join(pii_columns))}. Customers keep their id so you can join the segments "
                "back. " if pii_columns else "")
               + (f"E-mail addresses and phone numbers in {md(', '.join(text_columns))} are masked."
                  if text_columns else ""))

customers = act_view.customers_table(chosen, include_pii)
audiences, share, reuse = st.columns(3, gap="medium")

with audiences.container(border=True, height="stretch"):
    st.markdown("##### :material/groups: Audiences")
    fmt = st.segmented_control("File format", list(FORMAT_LABELS), format_func=FORMAT_LABELS.get, default="csv",
                               key="export_format", required=True,
                               help="CSV and Excel neutralise cells a spreadsheet would run as formulas; Parquet "
                                    "keeps values exactly, for data tools.") or "csv"
    too_big = fmt == "xlsx" and len(customers) > EXCEL_MAX_ROWS
    download(f"Download customers {FORMAT_LABELS[fmt]}",
             f"{len(customers):,} customers with segment, name, confidence and distance to the segment centre."
             + (" One workbook: sheets Customers, Segments (the profiles) and About (how the run was made)."
                if fmt == "xlsx" else "")
             + (f" Excel holds at most {EXCEL_MAX_ROWS:,} rows: use CSV or Parquet." if too_big else ""),
             lambda: act_view.customers_file(customers, fmt, chosen), f"{slug}-customers.{fmt}", fmt,
             "download_customers", primary=True, disabled=too_big)
    if note := act_view.customers_note(chosen, include_pii, customers, fmt):
        st.warning(md(note), icon=":material/content_cut:")
    download("One file per segment (zip)",
             f"{'An' if fmt == 'xlsx' else 'A'} {FORMAT_LABELS[fmt]} file of customers for each segment, ready to "
             "upload as a campaign audience.", lambda: act_view.segments_zip(customers, fmt),
             f"{slug}-by-segment.zip", "zip", "download_segments", icon=":material/folder_zip:")

with share.container(border=True, height="stretch"):
    st.markdown("##### :material/co_present: Share")
    stability = act_view.stability_for_report(state, run.run_id)
    download("Stakeholder report (HTML)", "One page with the map, a card per segment and how far to trust them. "
             "Opens offline and prints to PDF." + ("" if stability else " Check stability on the Quality page to "
                                                   "include it."),
             act_view.report_file(chosen, stability, state.dataset.name if state.dataset else None),
             f"{slug}-report.html", "html", "download_report", icon=":material/description:", primary=True)
    download("Segment profiles (CSV)", "Size, share, top traits, keywords and descriptions of each segment.",
             lambda: act_view.profiles_file(chosen), f"{slug}-profiles.csv", "csv", "download_profiles",
             icon=":material/table_chart:")
    if chosen.result.n_themes > chosen.result.n_segments:   # themes that refine the segments, as themes.csv
        download("Themes inside the segments (CSV)", "Each theme's segment, size, share of its segment, key phrases "
                 "and a quote; theme_id as in the customer file.", lambda: act_view.themes_file(chosen) or b"",
                 f"{slug}-themes.csv", "csv", "download_themes", icon=":material/account_tree:")

with reuse.container(border=True, height="stretch"):
    st.markdown("##### :material/replay: Reuse")
    download("Segmentation model (.segmodel)", "Places new customers in these segments, on the Assign page or "
             "with the command line. Holds numbers and text only, never code.", act_view.model_file(chosen),
             act_view.model_name(chosen), "segmodel", "download_model", icon=":material/model_training:",
             primary=True)
    download("Run manifest (JSON)", "Settings, seeds, metrics, library versions and row counts, to reproduce or "
             "audit the run.", lambda: act_view.manifest_file(chosen), f"{slug}-manifest.json", "json",
             "download_manifest", icon=":material/receipt_long:")
    st.page_link(PAGES["assign"], label="Assign new customers", icon=":material/person_add:")

st.markdown(f"**Preview of the customer file** · first 8 of {len(customers):,} rows, {len(customers.columns)} "
            "columns")
first = ["segment_id", "segment_name", "segment_confidence", "distance_to_centre"]
st.dataframe(customers.head(8), hide_index=True, width="stretch",
             column_order=first + [c for c in customers.columns if c not in first],
             column_config=table_columns(customers))
