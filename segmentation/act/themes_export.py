"""The theme level in the files a run gives away: one table of themes, and the themes of an assignment.

``theme_table`` is the one description of a run's themes that every file shares: ``themes.csv`` (written by
``bundle.write_run`` for the app and the CLI alike), the per-segment zip, the Excel workbook's "Themes" sheet
and the report's theme lists. ``theme_id`` is the number ``customers.csv`` carries (1, 2, … across the run,
numbered segment by segment, largest theme first), ``segment_id`` and ``segment_name`` are the segment's
number and display name as in every export. Quotes come masked from ``understand.themes`` (e-mail addresses and
phone numbers replaced), as on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from segmentation.common import segment_label, segment_number
from segmentation.understand.naming import display_names

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

THEME_COLUMNS = ("segment_id", "segment_name", "theme_id", "theme_name", "customers", "share_of_segment",
                 "key_phrases", "quote")
"""The columns of ``theme_table`` (and of themes.csv), in order."""


def theme_table(result: SegmentationResult, names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per theme of ``result`` in ``theme_id`` order (``THEME_COLUMNS``); no rows for a run without
    themes. ``names`` are the analyst's segment names (unnamed segments get their suggested names,
    ``understand.naming.display_names``, as in every export). ``share_of_segment`` is a share from 0 to 1,
    ``key_phrases`` the theme's distinctive phrases joined by ", ", ``quote`` its first masked quote ("" without
    text)."""
    names = display_names(result.profiles, names)
    rows = [{
        "segment_id": segment_number(p.segment), "segment_name": segment_label(p.segment, names),
        "theme_id": p.theme + 1, "theme_name": p.name, "customers": int(p.size),
        "share_of_segment": round(float(p.share_of_segment), 4), "key_phrases": ", ".join(p.key_phrases),
        "quote": " ".join(str(p.quotes[0]).split()) if p.quotes else "",
    } for p in sorted(getattr(result, "theme_profiles", ()) or (), key=lambda p: p.theme)]
    frame = pd.DataFrame(rows, columns=list(THEME_COLUMNS))
    return frame.astype({"segment_id": "int64", "theme_id": "int64", "customers": "int64"})


def assigned_themes(assigned: pd.DataFrame) -> pd.DataFrame | None:
    """Where the customers of an assignment (``SegmentModel.assign``) went, theme by theme: one row per
    (segment, theme) with ``customers``, ``share`` of all the customers assigned (0 to 1) and the median
    ``theme_confidence``, in segment then theme order (Unassigned last). None when the model has no themes."""
    if "theme_id" not in assigned.columns or not len(assigned):
        return None
    keys = ["segment_id", "segment_name", "theme_id", "theme_name"]
    table = (assigned.groupby(keys, sort=False, dropna=False)
             .agg(customers=("theme_id", "size"), median_confidence=("theme_confidence", "median"))
             .reset_index())
    table["share"] = (table["customers"] / len(assigned)).round(4)
    table["median_confidence"] = table["median_confidence"].round(4)
    order = table.assign(last=table["segment_id"] < 0).sort_values(["last", "segment_id", "theme_id"])
    return order[[*keys, "customers", "share", "median_confidence"]].reset_index(drop=True)
