"""Exports: labelled customers (formula-safe CSV), profiles, run manifest."""

from __future__ import annotations

import io
import json
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .pipeline import SegmentationResult
from .profiling import profiles_table, segment_label

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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


def labelled_customers(result: SegmentationResult, names: Mapping[int, str] | None = None,
                       include_pii: bool = False) -> pd.DataFrame:
    """The customers as loaded, with segment id, segment name and confidence appended.

    PII columns are left out unless ``include_pii``. Unassigned customers are kept
    (segment id -1, name "Unassigned"), never dropped.
    """
    table = result.table
    if not include_pii:
        table = table[[c for c in table.columns if result.roles.get(c) != "pii"]]
    out = table.reset_index(drop=True).copy()
    labels = np.asarray(result.labels)
    out["segment_id"] = labels
    out["segment_name"] = [segment_label(int(s), names) if s >= 0 else "Unassigned" for s in labels]
    out["segment_confidence"] = np.round(np.asarray(result.confidence, dtype=float), 4)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    spreadsheet_safe(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def write_run(result: SegmentationResult, out_dir: Any, names: Mapping[int, str] | None = None,
              include_pii: bool = False) -> dict[str, str]:
    """Write customers.csv, profiles.csv, metrics.json, config.json and manifest.json into ``out_dir``."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "customers": out / "customers.csv",
        "profiles": out / "profiles.csv",
        "metrics": out / "metrics.json",
        "config": out / "config.json",
        "manifest": out / "manifest.json",
    }
    files["customers"].write_bytes(to_csv_bytes(labelled_customers(result, names, include_pii)))
    files["profiles"].write_bytes(to_csv_bytes(profiles_table(result.profiles, names)))
    manifest = result.manifest()
    files["metrics"].write_text(json.dumps(manifest["metrics"], indent=2))
    files["config"].write_text(json.dumps(result.config.to_dict(), indent=2, default=str))
    files["manifest"].write_text(json.dumps(manifest, indent=2, default=str))
    return {k: str(v) for k, v in files.items()}
