"""How stored values become JSON and come back: plain JSON for the database, tagged JSON for results.

Plain JSON (:func:`dumps`, :func:`loads`) holds settings, metrics, notes, curation steps
and UI state. Tagged JSON (:func:`encode`, :func:`decode`) holds what plain JSON would
flatten: tuples, dicts with non-text keys, data frames, arrays and the library's result
dataclasses (segment profiles with their rules), so that a run comes back exactly as saved.

Stored data never chooses what code runs: a dataclass is rebuilt only when its class name
is in :func:`result_types`, and only with the fields this version knows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from segmentation.common import json_safe
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy

np = lazy("numpy")
pd = lazy("pandas")


# --------------------------------------------------------------------------------------------------------------------
# Plain JSON
# --------------------------------------------------------------------------------------------------------------------
def dumps(value: Any, what: str) -> str:
    """``value`` as JSON text (key order kept); ``what`` names it in the error when it holds something else.

    NaN is kept (``json_safe(keep_nan=True)``): metrics such as the silhouette of a one-segment run are NaN
    and must come back as NaN, not None; only Python reads these files.
    """
    try:
        return json.dumps(json_safe(value, keep_nan=True), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"The {what} cannot be saved: only text, numbers, lists and dictionaries can be "
                          f"stored ({exc}).") from exc


def loads(text: str, what: str) -> Any:
    """The value stored as JSON ``text``; raises WorkspaceError naming ``what`` when the text is damaged."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"The stored {what} is damaged (not valid JSON: {exc}).") from exc


# --------------------------------------------------------------------------------------------------------------------
# Tagged JSON
# --------------------------------------------------------------------------------------------------------------------
@cache
def result_types() -> dict[str, type]:
    """The dataclasses a saved run may hold, by class name: the only classes :func:`decode` ever builds.

    Keyed by class name, never by the module stored with older runs ("segmentation.profiling" before the
    library moved into sub-packages), so that moving a class never breaks a saved workspace. Built on first
    use: importing the store must not import pandas (the app's first page).
    """
    from segmentation.understand.profile import SegmentProfile
    from segmentation.understand.rules import Condition, Rule
    from segmentation.understand.themes import ThemeProfile

    return {cls.__name__: cls for cls in (SegmentProfile, Rule, Condition, ThemeProfile)}


def encode(value: Any) -> Any:
    """A JSON-ready, tagged form of tuples, dicts, data frames, arrays and the library's result dataclasses.

    Raises TypeError for anything else, so that a run that could not be read back is never saved.
    """
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {"__frame__": {
            "columns": [encode(c) for c in value.columns], "dtypes": [str(t) for t in value.dtypes],
            "data": [[encode(v) for v in row] for row in value.itertuples(index=False, name=None)],
            "index": None if value.index.equals(pd.RangeIndex(len(value))) else encode(value.index.tolist()),
        }}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__tuple__": [encode(v) for v in value.tolist()]}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if result_types().get(name) is not type(value):
            raise TypeError(f"{type(value).__module__}.{name} is not one of the result types a run can store")
        return {"__dataclass__": name, "fields": {f.name: encode(getattr(value, f.name))
                                                  for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: encode(v) for k, v in value.items()}}
        return {"__pairs__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"{type(value).__name__} cannot be stored")


def decode(value: Any) -> Any:
    """The value :func:`encode` was given. Raises ValueError for a tag or result type this version does not know."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: decode(v) for k, v in value["__dict__"].items()}
    if "__pairs__" in value:
        return {decode(k): decode(v) for k, v in value["__pairs__"]}
    if "__timestamp__" in value:
        return pd.Timestamp(value["__timestamp__"])
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
    if "__frame__" in value:
        return _decode_frame(value["__frame__"])
    if "__dataclass__" in value:
        return _decode_dataclass(value)
    raise ValueError(f"unknown stored value with keys {sorted(value)[:5]}")


def _decode_frame(data: Mapping[str, Any]) -> pd.DataFrame:
    columns = [decode(c) for c in data["columns"]]
    frame = pd.DataFrame([[decode(v) for v in row] for row in data["data"]], columns=columns)
    for position, dtype in enumerate(data["dtypes"]):
        column = frame.iloc[:, position]
        if str(column.dtype) != dtype:
            try:
                frame.isetitem(position, column.astype(dtype))
            except (TypeError, ValueError):
                pass  # keep what JSON gave back rather than refuse the run
    if data.get("index") is not None:
        frame.index = pd.Index(decode(data["index"]))
    return frame


def _decode_dataclass(value: Mapping[str, Any]) -> Any:
    # A "module" key written by earlier versions is ignored: the class name alone picks the type.
    name = value["__dataclass__"]
    cls = result_types().get(name)
    if cls is None:
        raise ValueError(f"a stored {name!r} is not one of Segment Studio's result types")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: decode(v) for k, v in value["fields"].items() if k in known})
