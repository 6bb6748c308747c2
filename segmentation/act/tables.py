"""Export tables and their bytes: labelled customers (CSV, Excel, Parquet; one file per segment in a zip), profiles.

Everything meant to be opened in a spreadsheet goes through ``spreadsheet_safe``:
text cells and headers that a spreadsheet would run as a formula (starting with
=, +, -, @, tab or carriage return) get an apostrophe in front, while numeric
columns stay numeric. Parquet is for data tools, not spreadsheets, and keeps
values exactly as they are. Personal data stays out unless the analyst asks for
it (``include_pii``): PII columns (role "pii") are left out, and e-mail addresses
and phone numbers inside free text become ``<EMAIL>`` / ``<PHONE>``, with the
masking the embeddings use (``ingest.privacy.mask_text``). Unassigned customers
are always kept. Excel holds at most 32,767 characters in a cell: longer cells
are cut, and ``excel_note`` says which columns lost how many.

Segments carry their number (``common.segment_number``: 1, 2, …; -1 for Unassigned)
in ``segment_id`` and in the per-segment file names, the number the screen and the
report show. The files of a whole run (``write_run``) are ``act.bundle``'s.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segmentation.act.neighbours import segment_confidence
from segmentation.common import segment_label, segment_number
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.privacy import mask_text_column
from segmentation.pipeline import SegmentationResult
from segmentation.understand.naming import display_names
from segmentation.understand.outcomes import outcome_export_columns, propensity_columns
from segmentation.understand.profile import profiles_table
from segmentation.understand.tags import customer_tags
from segmentation.understand.wording import is_money_column
from segmentation.value.summary import segment_value_columns

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx", "parquet")
"""File formats for customer tables: CSV (spreadsheet-safe), Excel (spreadsheet-safe), Parquet (exact)."""

EXCEL_MAX_ROWS = 1_048_575  # one row is the header
EXCEL_MAX_CHARS = 32_767
"""The most characters an Excel cell holds; longer cells are cut (see ``excel_note``)."""

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no wall-clock time: the same run gives the same bytes
_EXCEL_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FILE_SAFE = re.compile(r"[^A-Za-z0-9]+")


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise formula-like text cells and headers; numeric columns stay numeric."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[column] = series.map(neutralise, na_action="ignore")
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def distance_to_centre(result: SegmentationResult) -> np.ndarray:
    """Each customer's distance to the centre (mean) of their segment in the cluster space; NaN when Unassigned.

    Small values mark typical members; compare values within a segment, not across runs.
    """
    Z = np.asarray(result.embedding, dtype=np.float64)
    labels = np.asarray(result.labels)
    out = np.full(len(labels), np.nan)
    for segment in set(labels.tolist()) - {-1}:
        mask = labels == segment
        out[mask] = np.linalg.norm(Z[mask] - Z[mask].mean(axis=0), axis=1)
    return out


def personal_columns(result: SegmentationResult) -> tuple[list[str], list[str]]:
    """(PII columns, free-text columns) of a run: what ``labelled_customers`` leaves out, and where it masks
    e-mail addresses and phone numbers, unless ``include_pii``."""
    pii = [c for c in result.table.columns if result.roles.get(c) == "pii"]
    text = [c for c in result.table.columns
            if c not in pii and (result.roles.get(c) == "text" or c in result.config.text.columns)]
    return pii, text


def labelled_customers(result: SegmentationResult, names: Mapping[int, str] | None = None,
                       include_pii: bool = False, with_distance: bool = True) -> pd.DataFrame:
    """The customers as loaded, with ``segment_id``, ``segment_name`` and ``segment_confidence`` appended (and
    ``theme_id``, ``theme_name`` for runs with themes: ``_with_themes``).

    ``segment_id`` is the segment's number (1, 2, …; -1 for Unassigned), as on screen and in the report;
    ``segment_confidence`` is ``neighbours.segment_confidence``, the value a saved model of this run gives the
    customer on the Assign page. Unless ``include_pii`` (personal data unmasked), PII columns are left out and
    e-mail addresses and phone numbers inside free-text columns become ``<EMAIL>`` / ``<PHONE>``, as on screen
    (``personal_columns`` names both). Unassigned customers are kept, never dropped. ``with_distance`` adds
    ``distance_to_centre`` (see ``distance_to_centre``). With texts, ``tags`` holds the key phrases each
    customer wrote (``understand.tags.customer_tags``: "lost baggage; refund"). Each outcome column gets
    ``<outcome>_propensity`` (``understand.outcomes.propensity_columns``).
    """
    table = result.table
    pii, text = personal_columns(result)
    if not include_pii:
        table = table[[c for c in table.columns if c not in pii]]
    out = table.reset_index(drop=True).copy()
    if not include_pii:
        for column in text:
            out[column] = mask_text_column(out[column])
    labels = np.asarray(result.labels)
    out["segment_id"] = np.array([segment_number(s) for s in labels], dtype=np.int64)
    names = display_names(result.profiles, names)   # the analyst's names, else the suggested ones
    out["segment_name"] = [segment_label(int(s), names) for s in labels]
    out["segment_confidence"] = np.round(segment_confidence(result), 4)
    out = _with_themes(out, result)
    if with_distance:
        out["distance_to_centre"] = np.round(distance_to_centre(result), 4)
    propensity = propensity_columns(result.table, result.roles, result.config.random_state)   # outcome columns
    for column in propensity.columns:
        out[column] = propensity[column].to_numpy()
    tags = result_tags(result)
    if tags is not None:
        out["tags"] = tags
    return out


def _with_themes(out: pd.DataFrame, result: SegmentationResult) -> pd.DataFrame:
    """``theme_id`` (1, 2, … across the whole run, numbered segment by segment; -1 for Unassigned, as
    ``segment_id``) and ``theme_name``, for runs that have themes. A whole number rather than "2.3": a spreadsheet
    reads "2.10" as the number 2.1, and ``segment_id`` beside it already says which segment a theme is in."""
    themes = getattr(result, "theme_labels", None)
    if themes is None or len(themes) != len(out):
        return out
    themes = np.asarray(themes, dtype=np.int64)
    names = {p.theme: p.name for p in getattr(result, "theme_profiles", ())}
    out["theme_id"] = np.where(themes < 0, -1, themes + 1)
    out["theme_name"] = [names.get(int(t), f"Theme {t + 1}") if t >= 0 else "Unassigned" for t in themes]
    return out


def result_tags(result: SegmentationResult) -> list[str] | None:
    """Each customer's tags (``understand.tags.customer_tags`` over the run's key phrases, "lost baggage; refund"),
    in row order; None when the run has no text."""
    if not any(isinstance(t, str) and t for t in result.texts):
        return None
    return customer_tags(list(result.texts), np.asarray(result.labels),
                         {p.segment: p.key_phrases or p.keywords for p in result.profiles})


def profile_table(result: SegmentationResult, names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """``profiles_table`` with the analyst's names and segment numbers (as in ``labelled_customers``), plus any
    profile field it lacks (value share, action, ...), the persona name suggested from the data
    (``suggested_name``), the one-line ``portrait``, ``key_phrases`` and the tone of the segment's words."""
    names = display_names(result.profiles, names)   # the analyst's names, else the suggested ones
    frame = profiles_table(result.profiles, {p.segment: segment_label(p.segment, names) for p in result.profiles})
    if "segment_id" in frame.columns:
        frame["segment_id"] = [segment_number(s) for s in frame["segment_id"]]
    extras = {"suggested_name": [], "value_share": [], "description": [], "action": [], "action_reason": [],
              "portrait": [], "key_phrases": [], "complaint_share": [], "praise_share": [], "rating_split": []}
    for profile in result.profiles:
        for key in extras:
            value = getattr(profile, "name" if key == "suggested_name" else key, None)
            if key == "suggested_name" and profile.is_noise:
                value = None
            elif key == "key_phrases" and value:
                value = ", ".join(value)
            elif key == "rating_split" and value:   # "1–2: 58% (others 20%); 3: ..."
                value = "; ".join(f"{band}: {share:.0%} (others {rest:.0%})" for band, share, rest in value)
            elif isinstance(value, float) and key.endswith("_share"):
                value = round(value, 4)
            extras[key].append(None if value is None or value == "" or value == () else value)
    for key, values in extras.items():
        if key not in frame.columns and any(v is not None for v in values):
            frame[key] = values
    outcomes = outcome_export_columns(result.profiles)   # outcome rates (interval, lift)
    for column in outcomes.columns:
        frame[column] = outcomes[column].to_numpy()
    # predicted value per segment: sums over the customers with a prediction (value.summary)
    worth = segment_value_columns(result.table, result.labels, [p.segment for p in result.profiles])
    for column in worth.columns:
        frame[column] = worth[column].to_numpy()
    return frame


# --------------------------------------------------------------------------- formats
def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV, spreadsheet-safe, with CRLF line ends (RFC 4180).

    CRLF also makes the writer quote a cell holding a bare carriage return; with
    plain LF line ends such a cell would split its row in two when read back.
    """
    buffer = io.StringIO()
    spreadsheet_safe(frame).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def _excel_text(value: Any) -> Any:
    return _EXCEL_ILLEGAL.sub("", value)[:EXCEL_MAX_CHARS] if isinstance(value, str) else value


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheet-safe, without the control characters Excel files cannot hold, without time zones, and with
    no cell longer than ``EXCEL_MAX_CHARS``."""
    out = spreadsheet_safe(frame)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            if getattr(series.dt, "tz", None) is not None:
                out[column] = series.dt.tz_localize(None)
        elif not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            out[column] = series.map(_excel_text, na_action="ignore")
    out.columns = [_excel_text(str(c)) for c in out.columns]
    return out


def excel_cut_cells(frame: pd.DataFrame) -> dict[str, int]:
    """{column: how many of its cells} an Excel export of ``frame`` cuts to ``EXCEL_MAX_CHARS`` characters."""
    cut: dict[str, int] = {}
    for column, series in spreadsheet_safe(frame).items():
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
                or pd.api.types.is_datetime64_any_dtype(series):
            continue
        count = sum(isinstance(v, str) and len(_EXCEL_ILLEGAL.sub("", v)) > EXCEL_MAX_CHARS for v in series)
        if count:
            cut[str(column)] = int(count)
    return cut


def excel_note(frame: pd.DataFrame, cut: Mapping[str, int] | None = None) -> str | None:
    """One sentence saying which cells an Excel export of ``frame`` cuts; None if none. ``cut``: its
    ``excel_cut_cells``, when already counted."""
    cut = excel_cut_cells(frame) if cut is None else cut
    if not cut:
        return None
    parts = ", ".join(f"{count:,} in {column!r}" for column, count in cut.items())
    return (f"Excel holds at most {EXCEL_MAX_CHARS:,} characters in a cell, so {sum(cut.values()):,} cell(s) were "
            f"cut to fit ({parts}); the CSV and Parquet files keep them whole.")


def to_excel_bytes(sheets: pd.DataFrame | Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, spreadsheet-safe: one sheet per frame (a single frame becomes sheet "customers").

    Every sheet is made readable (``_readable_sheet``): the header row frozen and bold, columns sized to their
    contents, numbers with thousands separators, shares as percentages, money with two decimals, dates as dates.
    Excel holds at most 1,048,575 rows per sheet; larger tables raise ``DataError``. Cells longer than
    ``EXCEL_MAX_CHARS`` are cut to fit: ``excel_note`` says which.
    """
    if isinstance(sheets, pd.DataFrame):
        sheets = {"customers": sheets}
    for frame in sheets.values():
        if len(frame) > EXCEL_MAX_ROWS:
            raise DataError(f"The table has {len(frame):,} rows; Excel holds at most {EXCEL_MAX_ROWS:,}. "
                            "Export CSV or Parquet instead.")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            sheet = _EXCEL_ILLEGAL.sub("", re.sub(r"[\[\]:*?/\\]", " ", str(name)))[:31] or "sheet"
            ready = _excel_ready(frame)
            ready.to_excel(writer, sheet_name=sheet, index=False)
            _readable_sheet(writer.sheets[sheet], frame, ready)
    return _without_clock(buffer.getvalue())


def run_workbook(result: SegmentationResult, customers: pd.DataFrame | None = None,
                 names: Mapping[int, str] | None = None, include_pii: bool = False) -> bytes:
    """The whole run as one Excel workbook: "Customers" (``customers``, else ``labelled_customers``), "Segments"
    (``profile_table``), "Themes" (``themes_export.theme_table``, when a segment holds more than one theme: else
    it would repeat the Segments sheet) and "About" (how the run was made, in plain words: ``act.method.method_rows``).
    """
    from segmentation.act.method import method_rows  # method asks the clusterer registry: only when needed
    from segmentation.act.themes_export import theme_table

    if customers is None:
        customers = labelled_customers(result, names, include_pii=include_pii)
    about = pd.DataFrame(method_rows(result), columns=["Topic", "How this run was made"])
    themes = theme_table(result, names)
    refined = len(themes) > themes["segment_id"].nunique()
    return to_excel_bytes({"Customers": customers, "Segments": profile_table(result, names),
                           **({"Themes": themes} if refined else {}), "About": about})


_WIDTH_ROWS = 200        # column widths are measured on the header and the first rows
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _number_format(column: Any, values: pd.Series) -> str | None:
    """The Excel number format that shows ``column`` as the screen and the report do (``understand.wording``)."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_datetime64_any_dtype(values):
        times = values.dropna()
        return "yyyy-mm-dd" if times.empty or bool((times == times.dt.normalize()).all()) else "yyyy-mm-dd hh:mm"
    if not pd.api.types.is_numeric_dtype(values):
        return None
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if str(column).endswith(("_share", "_rate")) or str(column) in ("share", "segment_confidence"):
        if finite.empty or finite.between(0, 1).all():
            return "0.0%"
    if str(column) in ("segment_id",) or pd.api.types.is_integer_dtype(values):
        return "0" if str(column) == "segment_id" else "#,##0"
    if is_money_column(column):
        return "#,##0.00"
    if not finite.empty and (finite.abs() >= 1000).any():   # thousands separators where they help reading
        return "#,##0" if bool((finite == finite.round()).all()) else "#,##0.00"
    return "General"


def _readable_sheet(sheet: Any, frame: pd.DataFrame, ready: pd.DataFrame) -> None:
    """Freeze and embolden the header row, size each column to its contents, give numbers their formats."""
    from openpyxl.styles import Font  # openpyxl is loaded by the writer already
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for position, (column, header) in enumerate(zip(frame.columns, ready.columns), start=1):
        letter = get_column_letter(position)
        sheet.cell(row=1, column=position).font = bold
        sample = ready[header].head(_WIDTH_ROWS)
        longest = max([len(str(header))] + [len(str(v)) for v in sample if v is not None and v == v])
        sheet.column_dimensions[letter].width = min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2))
        number_format = _number_format(column, frame[column])
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, max_row=len(frame) + 1, min_col=position, max_col=position):
                cell.number_format = number_format


_CORE_TIMES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _without_clock(xlsx: bytes) -> bytes:
    """The workbook with fixed zip entry times and document dates: the same table gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(r"\g<1>2000-01-01T00:00:00Z\g<2>", data.decode("utf-8")).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return out.getvalue()


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet with values exactly as they are (not neutralised: Parquet is read by data tools, not spreadsheets)."""
    buffer = io.BytesIO()
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    out.to_parquet(buffer, index=False)
    return buffer.getvalue()


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as ``fmt``: "csv", "xlsx" or "parquet"."""
    writers = {"csv": to_csv_bytes, "xlsx": to_excel_bytes, "parquet": to_parquet_bytes}
    if fmt not in writers:
        raise ConfigError(f"The export format must be one of {', '.join(map(repr, FORMATS))}. Got {fmt!r} instead.")
    return writers[fmt](frame)


def segment_file_name(number: int, name: str, fmt: str) -> str:
    """A portable file name for the customers of segment ``number`` (``segment_id``: 1, 2, …; -1 for
    Unassigned), e.g. ``segment-01-loyal-regulars.csv``."""
    if number < 0:
        return f"unassigned.{fmt}"
    slug = _FILE_SAFE.sub("-", name.lower()).strip("-")[:40]
    return f"segment-{number:02d}" + (f"-{slug}" if slug else "") + f".{fmt}"


def segments_zip_bytes(customers: pd.DataFrame, fmt: str = "csv") -> bytes:
    """A zip with one file per segment (Unassigned included) from a ``labelled_customers`` table."""
    if "segment_id" not in customers.columns:
        raise DataError("The customer table has no 'segment_id' column; export it with labelled_customers.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        ids = customers["segment_id"].to_numpy()
        for segment in sorted(set(ids.tolist()), key=lambda s: (s < 0, s)):
            part = customers[ids == segment].reset_index(drop=True)
            name = str(part["segment_name"].iloc[0]) if "segment_name" in part.columns else ""
            entry = zipfile.ZipInfo(segment_file_name(int(segment), name, fmt), date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, table_bytes(part, fmt))
    return buffer.getvalue()
