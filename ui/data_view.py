"""The Data page's panels: how the file was read (and reading it again with other options), the column roles,
data quality, the offer to roll order lines up to customers, and a masked preview."""

from __future__ import annotations

import streamlit as st

from segmentation.config import ROLES
from segmentation.lazy import lazy

from . import cache
from .format import md, table_columns, user_errors
from .loading import load_into_session
from .state import Source, studio

pd = lazy("pandas")
io = lazy("segmentation.ingest.read")
privacy = lazy("segmentation.ingest.privacy")
orders = lazy("segmentation.ingest.orders")

SEVERITY = {"error": (":material/error:", "red"), "warning": (":material/warning:", "orange"),
            "info": (":material/info:", "blue")}


def load_report_panel(dataset: io.Dataset) -> None:
    report = dataset.report
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{report.rows_read:,}", border=True)
    cols[1].metric("Rows kept", f"{report.rows_kept:,}", border=True)
    cols[2].metric("Rows rejected", f"{report.rows_rejected:,}", border=True)
    cols[3].metric("Columns", f"{len(dataset.table.columns):,}", border=True)
    st.caption(md(report.summary_lines()[0]))
    for warning in report.warnings:
        st.warning(md(warning), icon=":material/warning:")
    if report.renamed_columns or report.unconverted_cells or report.rows_rejected:
        with st.expander("What the loader changed"):
            for line in report.summary_lines()[1:]:
                if line not in report.warnings:
                    st.markdown(f"- {md(line)}")
            if report.rows_rejected:
                st.dataframe(report.rejected.head(200), hide_index=True, width="stretch")
                st.download_button("Download rejected rows", data=lambda: report.rejected.to_csv(index=False),
                                   file_name="rejected_rows.csv", mime="text/csv", on_click="ignore",
                                   icon=":material/download:", key="download_rejected")


ENCODINGS = {"auto": "Detect automatically", "utf-8": "UTF-8", "cp1252": "Windows-1252 (Western Europe)",
             "latin-1": "Latin-1 (ISO-8859-1)", "utf-16": "UTF-16", "cp1250": "Windows-1250 (Central Europe)"}
DECIMALS = {"auto": "Detect automatically", ".": "Point  1.5", ",": "Comma  1,5"}
DELIMITERS = {"auto": "Detect automatically", ",": "Comma  ,", ";": "Semicolon  ;", "\t": "Tab", "|": "Pipe  |"}


def reading_options_panel(source: Source, dataset: io.Dataset) -> None:
    """Encoding and delimiter overrides with a live preview of the raw file."""
    warned = any("encod" in w.lower() or "decod" in w.lower() for w in dataset.report.warnings)
    options = source.options or io.LoadOptions()
    with st.expander("Reading options: encoding, separator and decimal mark", expanded=warned,
                     icon=":material/tune:"):
        left, middle, right = st.columns(3)
        encoding = left.selectbox("Text encoding", list(ENCODINGS), format_func=ENCODINGS.get, key="read_encoding",
                                  index=list(ENCODINGS).index(options.encoding) if options.encoding in ENCODINGS
                                  else 0, help="Pick the one that makes accented letters look right below.")
        decimal = right.selectbox("Decimal mark", list(DECIMALS), format_func=DECIMALS.get, key="read_decimal",
                                  index=list(DECIMALS).index(options.decimal) if options.decimal in DECIMALS else 0)
        delimiter = middle.selectbox("Column separator", list(DELIMITERS), format_func=DELIMITERS.get,
                                    key="read_delimiter",
                                    index=list(DELIMITERS).index(options.delimiter) if options.delimiter in DELIMITERS
                                    else 0)
        with user_errors():
            preview = io.preview_text(source.data, encoding if encoding != "auto" else
                                      (dataset.report.encoding or "utf-8"), n_lines=12)
            st.code(preview or "(nothing to preview)", language=None, wrap_lines=False)
        if st.button("Reload with these options", icon=":material/refresh:", key="reload_with_options"):
            with user_errors():
                chosen = io.LoadOptions(encoding=None if encoding == "auto" else encoding,
                                        delimiter=None if delimiter == "auto" else delimiter,
                                        decimal=None if decimal == "auto" else decimal)
                if load_into_session(source.name, source.data, chosen):
                    st.rerun()


def roles_editor(dataset: io.Dataset) -> dict[str, str]:
    """One table of columns and roles; edits are stored as overrides. Returns the resolved roles."""
    state = studio()
    inferred = cache.infer_roles(dataset)
    overrides = {c: r for c, r in state.role_overrides.items() if c in inferred}
    frame = pd.DataFrame({
        "column": list(inferred),
        "role": [overrides.get(c, r.role) for c, r in inferred.items()],
        "reason": [r.reason for r in inferred.values()],
    })
    edited = st.data_editor(
        frame, key=f"roles_editor_{dataset.digest[:12]}", hide_index=True, width="stretch", num_rows="fixed",
        height=min(35 * (len(frame) + 1) + 3, 640),
        column_config={
            "column": st.column_config.TextColumn("Column", disabled=True, width="medium"),
            "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True, width="small",
                                                     help="How the column is used. 'pii' columns are never used "
                                                          "as features and are masked; 'ignore' leaves a column "
                                                          "out; 'label' holds known groups used only to check "
                                                          "the segments."),
            "reason": st.column_config.TextColumn("Why", disabled=True, width="large"),
        },
    )
    chosen = dict(zip(edited["column"].astype(str), edited["role"].astype(str)))
    new_overrides = {c: r for c, r in chosen.items() if r != inferred[c].role}
    if new_overrides != overrides:
        state.set_role_overrides(new_overrides)
    return {c: chosen.get(c, r.role) for c, r in inferred.items()}


def quality_panel(dataset: io.Dataset, roles: dict[str, str]) -> None:
    report = cache.quality_report(dataset, roles)
    cols = st.columns(3)
    cols[0].metric("Customers", f"{report.n_rows:,}", border=True)
    cols[1].metric("Duplicate rows", f"{report.n_duplicate_rows:,}", border=True)
    cols[2].metric("Repeated customer ids", f"{report.n_duplicate_ids:,}", border=True)
    issues = sorted(report.issues, key=lambda i: list(SEVERITY).index(i.severity) if i.severity in SEVERITY else 9)
    if not issues:
        st.success("No data quality issues found.", icon=":material/check_circle:")
    else:
        warnings = sum(i.severity in ("error", "warning") for i in issues)
        st.markdown(f"**{len(issues)} findings**" + (f" · {warnings} to look at" if warnings else
                                                       " · for information, cleaning handles them"))
        # a long list scrolls inside its box instead of pushing the rest of the page down
        with st.container(height=min(44 * len(issues) + 24, 320), border=True):
            for issue in issues:
                icon, colour = SEVERITY.get(issue.severity, SEVERITY["info"])
                st.markdown(f":{colour}[{icon}] {md(issue.message)}")
    if report.columns is not None and len(report.columns):
        with st.expander("Column statistics", icon=":material/bar_chart:"):
            column_statistics(report.columns, cache.column_histograms(dataset, roles))


def column_statistics(columns: pd.DataFrame, histograms: dict[str, list[int]]) -> None:
    """One row per column with its distribution drawn as small bars (computed by
    ``segmentation.ingest.distribution``)."""
    frame = columns.copy()
    frame.insert(2, "distribution", [histograms.get(str(c), []) for c in frame["column"]])
    # measures that only numbers have are written as text, so other columns show an empty cell, not "None"
    frame["skewness"] = [f"{v:.1f}" if pd.notna(v) else "" for v in frame["skewness"]]
    frame["outlier_share"] = [f"{100 * v:.1f}%" if pd.notna(v) else "" for v in frame["outlier_share"]]
    st.dataframe(frame, hide_index=True, width="stretch", key="column_statistics",
                 height=min(35 * (len(frame) + 1) + 3, 520),
                 column_config={
                     "column": st.column_config.TextColumn("Column", width="medium"),
                     "role": st.column_config.TextColumn("Role", width="small"),
                     "distribution": st.column_config.BarChartColumn(
                         "Distribution", y_min=0, width="medium",
                         help="Numbers: how many customers fall in each of 20 equal ranges from the 1st to the "
                              "99th percentile, on a log scale for very uneven amounts such as spend (whole numbers "
                              "with few values: one bar each). Categories: the most frequent values, largest "
                              "first. Text, ids and personal data are not drawn."),
                     "missing_share": st.column_config.NumberColumn("Empty cells", format="percent",
                                                                    help="Share of rows with no value."),
                     "distinct": st.column_config.NumberColumn("Different values", format="localized"),
                     "skewness": st.column_config.TextColumn(
                         "Skewness", help="0 is symmetric; above 1 a long tail of large values (typical of money), "
                                          "which cleaning evens out by taking logarithms."),
                     "outlier_share": st.column_config.TextColumn(
                         "Far-out values", help="Share of values more than three times the spread of the middle "
                                                "half beyond it."),
                 })
    st.caption("Bars show each column's spread; hover a row's bars to read the counts.")


ORDER_PARTS = {  # part -> (label, help); customer and date are needed, and amount or quantity and price
    "customer": ("Customer", "The id that repeats on every line of one customer."),
    "date": ("Date", "When the line was bought."),
    "amount": ("Amount", "What the line is worth. Leave empty to use quantity × price."),
    "quantity": ("Quantity", "Units on the line; a negative quantity marks a return."),
    "price": ("Unit price", "Price per unit, multiplied by the quantity when there is no amount."),
    "order": ("Order id (optional)", "Counts orders; an id starting with 'C' marks a cancellation."),
    "product": ("Product (optional)", "Gives each customer the number of distinct products."),
    "category": ("Category (optional)", "Gives each customer a favourite category."),
    "text": ("Text (optional)", "Comments or product names, joined per customer."),
}
NONE = "(none)"


def transactions_offer(dataset: io.Dataset) -> None:
    """If the rows look like order lines, say so with the columns found and why; let the analyst correct the
    columns (or say "these are order lines" when nothing was found), preview the first customers, and roll up."""
    guess = cache.guess_layout(dataset)
    if guess is None and dataset.name.endswith("(per customer)"):
        return
    with st.container(border=True):
        if guess is not None:
            st.markdown(f"**These rows look like order lines, not customers.** {md(guess.layout.describe())}")
            st.caption(f"Confidence: **{guess.confidence}**. " + " ".join(md(r) for r in guess.reasons))
            by_hand = st.toggle("Change the columns", key=f"orders_by_hand_{dataset.digest[:12]}")
        else:
            by_hand = st.toggle("These rows are order lines: name the columns",
                                key=f"orders_by_hand_{dataset.digest[:12]}",
                                help="For a file of purchases (one row per order line) that was not recognised.")
        layout = guess.layout if guess is not None and not by_hand else None
        if by_hand:
            mapping = _mapping_form(dataset, guess)
            if not ({"customer", "date"} <= set(mapping) and ("amount" in mapping or {"quantity", "price"} <= set(
                    mapping))):
                st.info("Choose the customer, the date, and the amount (or the quantity and the unit price).",
                        icon=":material/checklist:")
                return
            with user_errors("These columns do not make order lines."):
                layout = orders.layout_from_mapping(dataset.table, mapping)
        if layout is None:
            return
        with user_errors("The first customers could not be rolled up with these columns."):
            preview = cache.preview_rollup(dataset, layout)
            st.dataframe(preview, hide_index=True, width="stretch", height=min(35 * (len(preview) + 1) + 3, 280),
                         column_config=table_columns(preview), key="rollup_preview")
            st.caption(f"Preview: the first {len(preview):,} customers rolled up (RFM scores ranked among them "
                       "only). Lines without a customer id, a readable date or an amount are left out and listed "
                       "in the load report.")
        rollup_button(dataset, layout)


def rollup_button(dataset: io.Dataset, layout: object, key: str = "rollup") -> None:
    """The button that rolls the order lines of ``dataset`` up to one row per customer with ``layout`` and makes
    that the current dataset."""
    if st.button(f"Roll up {len(dataset.table):,} order lines to one row per customer", type="primary",
                 icon=":material/merge:", key=key):
        with user_errors("The order lines could not be rolled up."):
            rolled, notes = cache.rollup(dataset, layout)
            source = studio().source
            studio().set_dataset(rolled, source, notice=f"Rolled up to {len(rolled.table):,} customers. "
                                 + " ".join(notes))
            st.rerun()


def order_lines_warning(dataset: io.Dataset) -> None:
    """On the Segment page: when the rows look like order lines that were not rolled up, say that segmenting them
    groups lines, not customers, and offer the roll-up right there (the command line rolls up by default)."""
    guess = cache.guess_layout(dataset)
    if guess is None:
        return
    with st.container(border=True, key="orders_warning"):
        st.warning(f"**These {len(dataset.table):,} rows look like order lines, not customers.** Segmenting them "
                   "as they are groups order lines, not customers: roll them up to one row per customer first, or "
                   f"check the columns on the Data page. {md(guess.layout.describe())}", icon=":material/warning:")
        rollup_button(dataset, guess.layout, key="rollup_segment")


def _mapping_form(dataset: io.Dataset, guess: object) -> dict[str, str]:
    """One selectbox per part of an order line, starting from the detected columns; returns {part: column}."""
    columns = [str(c) for c in dataset.table.columns]
    found = dict(vars(guess.layout)) if guess is not None else {}  # type: ignore[attr-defined]
    chosen: dict[str, str] = {}
    cells = st.columns(3)
    for i, (part, (label, help_text)) in enumerate(ORDER_PARTS.items()):
        options = [NONE, *columns]
        start = found.get(part)
        choice = cells[i % 3].selectbox(label, options, index=options.index(start) if start in options else 0,
                                        key=f"orders_part_{part}_{dataset.digest[:12]}", help=help_text)
        if choice != NONE:
            chosen[part] = choice
    return chosen


def masked_preview(dataset: io.Dataset, roles: dict[str, str], rows: int = 200) -> None:
    shown = privacy.mask_frame(dataset.table.head(rows), roles)
    st.dataframe(shown, hide_index=True, width="stretch", height=min(320, 35 * (len(shown) + 1) + 3),
                 column_config=table_columns(shown))
    pii = [c for c, r in roles.items() if r == "pii"]
    st.caption(f"First {min(rows, len(dataset.table)):,} of {len(dataset.table):,} rows."
               + (f" Personal data is masked: {md(', '.join(pii))}." if pii else ""))
