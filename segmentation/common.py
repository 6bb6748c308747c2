"""Small facts shared by every stage. This module imports nothing else from the package.

One definition each: how a segment is numbered and labelled for people and files, how a column name splits
into words, how a value becomes JSON, and which library versions a run or model records.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from importlib import metadata
from typing import Any

NOISE = -1
"""The label of customers no segment claims (density-based algorithms)."""

NOISE_NAME = "Unassigned"

LIBRARIES = ("pandas", "numpy", "scikit-learn", "scipy", "umap-learn", "hdbscan", "sentence-transformers", "torch",
             "pyarrow", "plotly")
"""Libraries whose versions go into the run manifest and the model file."""


ID_WORDS = frozenset({"id", "ids", "code", "uid", "uuid", "guid", "custid", "userid", "clientid", "customerid",
                      "memberid", "accountid"})
"""Words of a column name that mark an identifier (see ``name_tokens``); ingest adds its own for each job."""


def segment_number(label: int) -> int:
    """The number people, files and CRMs see for internal label ``label``: 1, 2, … and -1 for Unassigned.

    Labels inside the library are 0-based (scikit-learn's convention); everything shown or written uses this
    number, so "Segment 3" on screen is ``segment_id`` 3 in ``customers.csv`` and ``segment-03-…`` in the zip.
    """
    label = int(label)
    return NOISE if label < 0 else label + 1


def segment_label(segment: int, names: Mapping[int, str] | None = None) -> str:
    """The label shown to people: the analyst's name, else 'Segment N' (see ``segment_number``), 'Unassigned'
    for noise. ``segment`` is the internal 0-based label; ``names`` is keyed by it."""
    if segment < 0:
        return NOISE_NAME
    if names and names.get(segment):
        return names[segment]
    return f"Segment {segment_number(segment)}"


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a column name: "CustomerID" -> ["customer", "id"], "Dt_Customer" -> ["dt", "customer"]."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return [t for t in re.split(r"[\W_]+", text.lower()) if t]


def json_safe(value: Any, keep_nan: bool = False) -> Any:
    """A JSON-ready copy: numpy scalars as Python numbers, NaN and infinity as null, tuples as lists.

    ``keep_nan=True`` keeps NaN and infinity as floats, for JSON that only Python reads back (the workspace),
    where a one-segment run's undefined silhouette must come back as NaN rather than None.
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, keep_nan) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, keep_nan) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value) and not keep_nan:
        return None
    return value


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a run depends on (None when one is not installed)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
