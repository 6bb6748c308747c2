"""The files of a whole run: ``write_run`` writes them into a folder, with a manifest an auditor can check.

customers.csv, profiles.csv, metrics.json, config.json and manifest.json always; other formats, the
per-segment zip, the report and the model on request. The manifest lists every file with its sha256 digest
and depends only on the run (no clock unless asked), so exporting the same run twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.act.tables import (
    FORMATS,
    excel_cut_cells,
    excel_note,
    labelled_customers,
    profile_table,
    run_workbook,
    segments_zip_bytes,
    table_bytes,
    to_csv_bytes,
)
from segmentation.act.themes_export import theme_table
from segmentation.common import json_safe, library_versions, segment_label, segment_number
from segmentation.errors import ConfigError
from segmentation.pipeline import SegmentationResult
from segmentation.understand.naming import display_names


def run_manifest(result: SegmentationResult, names: Mapping[int, str] | None = None,
                 files: Mapping[str, str] | None = None, exported_at: dt.datetime | None = None,
                 cut_cells: Mapping[str, Mapping[str, int]] | None = None,
                 notes: Sequence[str] = ()) -> dict[str, Any]:
    """``result.manifest()`` plus what an auditor needs: library versions, seeds, row counts, segment names.

    ``segment_names`` is keyed by segment number (``segment_id`` in the customer files: "1", "2", …, "-1").

    ``files`` maps exported file names to their sha256 digests (added by ``write_run``). ``cut_cells`` maps an
    Excel file to {column: cells cut to Excel's cell size} (``excel_cut_cells``), and ``notes`` are added to the
    run's notes (the export note saying so).
    ``exported_at`` is recorded when given; without it the manifest depends only on the
    run, so exporting the same run twice gives the same bytes.
    """
    manifest = result.manifest()
    labels = np.asarray(result.labels)
    ids, counts = np.unique(labels, return_counts=True)
    names = display_names(result.profiles, names)   # the analyst's names, else the suggested ones
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
        "segment_names": {str(segment_number(s)): segment_label(int(s), names) for s in ids},
    })
    if files:
        manifest["files"] = dict(files)
    if cut_cells:
        manifest["excel_cut_cells"] = {name: dict(cut) for name, cut in cut_cells.items()}
    if notes:
        manifest["notes"] = [*manifest.get("notes", []), *notes]
    return manifest


def _json_text(value: Any) -> str:
    """Indented JSON of ``value`` made safe by ``common.json_safe`` (NaN as null); other objects as their text."""
    return json.dumps(json_safe(value), indent=2, default=str, allow_nan=False)


def manifest_json(result: SegmentationResult, names: Mapping[int, str] | None = None,
                  exported_at: Any = None) -> bytes:
    """The run manifest as JSON bytes, for a download."""
    return _json_text(run_manifest(result, names, exported_at=exported_at)).encode("utf-8")


def write_run(result: SegmentationResult, out_dir: Any, names: Mapping[int, str] | None = None,
              include_pii: bool = False, *, formats: Sequence[str] = ("csv",), segment_zip: bool = False,
              report: bool = False, model: bool = False, descriptions: Mapping[int, str] | None = None,
              stability: Any = None, dataset_name: str | None = None) -> dict[str, str]:
    """Write a run's exports into ``out_dir`` and return {kind: path}.

    Always: customers.csv, profiles.csv, metrics.json, config.json, manifest.json; themes.csv for a run with
    themes (``themes_export.theme_table``: one row per theme, the app's themes download; the workbook's "Themes"
    sheet).
    ``formats`` adds customers.xlsx (one workbook: Customers, Segments, About) / customers.parquet (and
    profiles in the same format); ``segment_zip`` adds segments.zip (one CSV per segment);
    ``report`` adds the self-contained report.html (``dataset_name`` in its title line); ``model`` adds
    model.segmodel for assigning new customers. The manifest lists every file
    with its sha256 digest, and says which Excel cells were cut to Excel's cell size.
    Unless ``include_pii`` (personal data unmasked), PII columns are left out of the customer files
    and e-mail addresses and phone numbers inside free text are masked (see ``tables.labelled_customers``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"The export format must be one of {', '.join(map(repr, FORMATS))}. Got {fmt!r}.")
    names = display_names(result.profiles, names)   # once, for every file: the analyst's, else the suggested
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
    themes = theme_table(result, names)
    if len(themes):   # the themes inside the segments, one row each (themes_export.theme_table)
        files["themes"] = out / "themes.csv"
        files["themes"].write_bytes(to_csv_bytes(themes))
    cut_cells: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    for fmt in formats:
        if fmt == "csv":
            continue
        if fmt == "xlsx":
            for name, frame in (("customers.xlsx", customers), ("profiles.xlsx", profiles)):
                cut = excel_cut_cells(frame)
                if cut:
                    cut_cells[name] = cut
                    notes.append(f"{name}: {excel_note(frame, cut)}")
        files[f"customers_{fmt}"] = out / f"customers.{fmt}"
        files[f"customers_{fmt}"].write_bytes(run_workbook(result, customers, names) if fmt == "xlsx"  # one workbook
                                              else table_bytes(customers, fmt))
        files[f"profiles_{fmt}"] = out / f"profiles.{fmt}"
        files[f"profiles_{fmt}"].write_bytes(table_bytes(profiles, fmt))
    if segment_zip:
        files["segments"] = out / "segments.zip"
        files["segments"].write_bytes(segments_zip_bytes(customers, "csv"))
    if report:
        from segmentation.act.report import write_report

        files["report"] = write_report(result, out / "report.html", names=names, descriptions=descriptions,
                                       stability=stability, dataset_name=dataset_name)
    if model:
        from segmentation.act.assign import save_model

        files["model"] = save_model(result, out / "model.segmodel", names=names, descriptions=descriptions)
    manifest = result.manifest()
    files["metrics"].write_text(_json_text(manifest["metrics"]))
    files["config"].write_text(json.dumps(result.config.to_dict(), indent=2, default=str))
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files.values()}
    files["manifest"] = out / "manifest.json"
    files["manifest"].write_text(_json_text(run_manifest(result, names, digests, cut_cells=cut_cells, notes=notes)))
    return {k: str(v) for k, v in files.items()}

