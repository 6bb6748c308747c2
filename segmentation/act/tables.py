"""Exports: labelled customers (CSV, Excel, Parquet; one file per segment in a zip), profiles, run manifest.

Everything meant to be opened in a spreadsheet goes through ``spreadsheet_safe``:
text cells and headers that a spreadsheet would run as a formula (starting with
=, +, -, @, tab or carriage return) get an apostrophe in front, while numeric
columns stay numeric. Parquet is for data tools, not spreadsheets, and keeps
values exactly as they are. PII columns (role "pii") are left out unless the
analyst asks for them; Unassigned customers are always kept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import json_safe, library_versions, segment_label
from segmentation.errors import ConfigError, DataError
from segmentation.pipeline import SegmentationResult
from segmentation.understand.profile import profiles_table

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx", "parquet")
"""File formats for customer tables: CSV (spreadsheet-safe), Excel (spreadsheet-safe), Parquet (exact)."""

EXCEL_MAX_ROWS = 1_048_575  # one row is the header

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


def labelled_customers(result: SegmentationResult, names: Mapping[int, str] | None = None,
                       include_pii: bool = False, with_distance: bool = True) -> pd.DataFrame:
    """The customers as loaded, with segment id, segment name and confidence appended.

    PII columns are left out unless ``include_pii``. Unassigned customers are kept
    (segment id -1, name "Unassigned"), never dropped. ``with_distance`` adds
    ``distance_to_centre`` (see ``distance_to_centre``).
    """
    table = result.table
    if not include_pii:
        table = table[[c for c in table.columns if result.roles.get(c) != "pii"]]
    out = table.reset_index(drop=True).copy()
    labels = np.asarray(result.labels)
    out["segment_id"] = labels
    out["segment_name"] = [segment_label(int(s), names) if s >= 0 else "Unassigned" for s in labels]
    out["segment_confidence"] = np.round(np.asarray(result.confidence, dtype=float), 4)
    if with_distance:
        out["distance_to_centre"] = np.round(distance_to_centre(result), 4)
    return out


def profile_table(result: SegmentationResult, names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """``profiles_table`` with the analyst's names, plus any profile field it lacks (value share, action, ...)."""
    frame = profiles_table(result.profiles, {p.segment: segment_label(p.segment, names) for p in result.profiles})
    extras = {"value_share": [], "description": [], "action": [], "action_reason": []}
    for profile in result.profiles:
        for key in extras:
            value = getattr(profile, key, None)
            extras[key].append(None if value is None or value == "" else value)
    for key, values in extras.items():
        if key not in frame.columns and any(v is not None for v in values):
            frame[key] = values
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


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheet-safe, without the control characters Excel files cannot hold and without time zones."""
    out = spreadsheet_safe(frame)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            if getattr(series.dt, "tz", None) is not None:
                out[column] = series.dt.tz_localize(None)
        elif not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            out[column] = series.map(lambda v: _EXCEL_ILLEGAL.sub("", v) if isinstance(v, str) else v,
                                     na_action="ignore")
    out.columns = [_EXCEL_ILLEGAL.sub("", str(c)) for c in out.columns]
    return out


def to_excel_bytes(sheets: pd.DataFrame | Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, spreadsheet-safe: one sheet per frame (a single frame becomes sheet "customers").

    Excel holds at most 1,048,575 rows per sheet; larger tables raise ``DataError``.
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
            _excel_ready(frame).to_excel(writer, sheet_name=sheet, index=False)
    return _without_clock(buffer.getvalue())


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


def segment_file_name(segment: int, name: str, fmt: str) -> str:
    """A portable file name for one segment's customers, e.g. ``segment-01-loyal-regulars.csv``."""
    if segment < 0:
        return f"unassigned.{fmt}"
    slug = _FILE_SAFE.sub("-", name.lower()).strip("-")[:40]
    return f"segment-{segment + 1:02d}" + (f"-{slug}" if slug else "") + f".{fmt}"


def segments_zip_bytes(customers: pd.DataFrame, fmt: str = "csv") -> bytes:
    """A zip with one file per segment (Unassigned included) from a ``labelled_customers`` table."""
    if "segment_id" not in customers.columns:
        raise DataError("The customer table has no 'segment_id' column; export it with labelled_customers.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        ids = customers["segment_id"].to_numpy()
        for segment in sorted(set(ids.tolist()), key=lambda s: (s < 0, s)):
            part = customers[ids == segment].reset_index(drop=True)
            name = str(part["segment_name"].iloc[0]) if "segment_name" in part.columns else \
                segment_label(int(segment))
            entry = zipfile.ZipInfo(segment_file_name(int(segment), name, fmt), date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, table_bytes(part, fmt))
    return buffer.getvalue()


# --------------------------------------------------------------------------- manifest
def run_manifest(result: SegmentationResult, names: Mapping[int, str] | None = None,
                 files: Mapping[str, str] | None = None, exported_at: dt.datetime | None = None) -> dict[str, Any]:
    """``result.manifest()`` plus what an auditor needs: library versions, seeds, row counts, segment names.

    ``files`` maps exported file names to their sha256 digests (added by ``write_run``).
    ``exported_at`` is recorded when given; without it the manifest depends only on the
    run, so exporting the same run twice gives the same bytes.
    """
    manifest = result.manifest()
    labels = np.asarray(result.labels)
    ids, counts = np.unique(labels, return_counts=True)
    if exported_at is not None:
        manifest["exported_at"] = exported_at.replace(microsecond=0).isoformat()
    manifest.update({
        "library_versions": library_versions(),
        "seeds": {"random_state": result.config.random_state},
        "row_counts": {
            "customers": int(len(labels)),
            "assigned": int((labels >= 0).sum()),
            "unassigned": int((labels < 0).sum()),
            "per_segment": {segment_label(int(s), names): int(c) for s, c in zip(ids, counts)},
        },
        "segment_names": {str(int(s)): segment_label(int(s), names) for s in ids},
    })
    if files:
        manifest["files"] = dict(files)
    return manifest


def _json(value: Any) -> str:
    return json.dumps(json_safe(value), indent=2, default=str, allow_nan=False)


def manifest_json(result: SegmentationResult, names: Mapping[int, str] | None = None,
                  exported_at: Any = None) -> bytes:
    """The run manifest as JSON bytes, for a download."""
    return _json(run_manifest(result, names, exported_at=exported_at)).encode("utf-8")


def write_run(result: SegmentationResult, out_dir: Any, names: Mapping[int, str] | None = None,
              include_pii: bool = False, *, formats: Sequence[str] = ("csv",), segment_zip: bool = False,
              report: bool = False, model: bool = False, descriptions: Mapping[int, str] | None = None,
              stability: Any = None) -> dict[str, str]:
    """Write a run's exports into ``out_dir`` and return {kind: path}.

    Always: customers.csv, profiles.csv, metrics.json, config.json, manifest.json.
    ``formats`` adds customers.xlsx / customers.parquet (and profiles in the same
    format); ``segment_zip`` adds segments.zip (one CSV per segment);
    ``report`` adds the self-contained report.html; ``model`` adds
    model.segmodel for assigning new customers. The manifest lists every file
    with its sha256 digest.
    """
    import hashlib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"The export format must be one of {', '.join(map(repr, FORMATS))}. Got {fmt!r}.")
    customers = labelled_customers(result, names, include_pii)
    profiles = profile_table(result, names)
    files: dict[str, Path] = {
        "customers": out / "customers.csv",
        "profiles": out / "profiles.csv",
        "metrics": out / "metrics.json",
        "config": out / "config.json",
    }
    files["customers"].write_bytes(to_csv_bytes(customers))
    files["profiles"].write_bytes(to_csv_bytes(profiles))
    for fmt in formats:
        if fmt == "csv":
            continue
        files[f"customers_{fmt}"] = out / f"customers.{fmt}"
        files[f"customers_{fmt}"].write_bytes(table_bytes(customers, fmt))
        files[f"profiles_{fmt}"] = out / f"profiles.{fmt}"
        files[f"profiles_{fmt}"].write_bytes(table_bytes(profiles, fmt))
    if segment_zip:
        files["segments"] = out / "segments.zip"
        files["segments"].write_bytes(segments_zip_bytes(customers, "csv"))
    if report:
        from segmentation.act.report import write_report

        files["report"] = write_report(result, out / "report.html", names=names, descriptions=descriptions,
                                       stability=stability)
    if model:
        from segmentation.act.model import save_model

        files["model"] = save_model(result, out / "model.segmodel", names=names, descriptions=descriptions)
    manifest = result.manifest()
    files["metrics"].write_text(_json(manifest["metrics"]))
    files["config"].write_text(json.dumps(result.config.to_dict(), indent=2, default=str))
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files.values()}
    files["manifest"] = out / "manifest.json"
    files["manifest"].write_text(_json(run_manifest(result, names, digests)))
    return {k: str(v) for k, v in files.items()}

