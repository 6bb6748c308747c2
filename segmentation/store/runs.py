"""A saved run on disk: what its files and its database row hold, and how a run is rebuilt from them.

A run's folder holds ``arrays.npz`` (labels, confidence, map, cluster space, features and any
array of the text model), ``rows.parquet`` (customer ids and texts), ``profiles.json``
(tagged JSON, see :mod:`segmentation.store.codec`) and, only when the run's table is not
simply some rows and columns of its dataset, ``table.parquet``. Everything else (settings,
metrics, timings, notes, roles, feature recipe) is in the run's database row.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentation.config import RunConfig
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy
from segmentation.store.codec import decode, dumps, encode, loads
from segmentation.store.files import read_npz, read_parquet, write_bytes, write_npz, write_parquet

np = lazy("numpy")
pd = lazy("pandas")

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

RUN_ARRAYS = ("rows", "labels", "confidence", "coords", "embedding", "features")
"""Arrays every saved run has (``rows``: positions in the dataset, or the run table's own integer index)."""
_TEXT_STATE_PREFIX = "text_state."
_EXTRA_PREFIX = "extra."
_RESULT_FIELDS = frozenset({
    "config", "data_digest", "table", "roles", "row_ids", "texts", "features", "embedding", "coords", "labels",
    "confidence", "metrics", "profiles", "feature_names", "timings", "notes", "feature_recipe", "text_state", "version",
})
"""SegmentationResult fields stored in their own form; any other field is stored generically."""


@dataclass(frozen=True)
class PackedRun:
    """A run checked and encoded for storage, before any file is written.

    ``row``: the values of its database row (without the dataset and the time); ``own_table``: whether its
    table differs from its dataset's and is stored with it.
    """

    row: dict[str, Any]
    arrays: dict[str, np.ndarray]
    profiles_json: str
    own_table: bool


def pack_run(result: SegmentationResult, dataset_table: pd.DataFrame) -> PackedRun:
    """Check and encode ``result`` (a run on ``dataset_table``); raises WorkspaceError for what cannot be stored."""
    index = result.table.index
    own_table = not _is_slice_of(result.table, dataset_table)
    rows = (index.to_numpy(dtype=np.int64) if pd.api.types.is_integer_dtype(index.dtype)
            else np.arange(len(result.table), dtype=np.int64))

    text_json, text_arrays = _split_arrays(result.text_state)
    arrays = {"rows": rows, "labels": np.asarray(result.labels), "confidence": np.asarray(result.confidence),
              "coords": np.asarray(result.coords), "embedding": np.asarray(result.embedding),
              "features": np.asarray(result.features),
              **{_TEXT_STATE_PREFIX + k: v for k, v in text_arrays.items()}}
    for array_name, array in arrays.items():
        if array.dtype == object:
            raise WorkspaceError(f"The run cannot be saved: its {array_name!r} array holds Python objects "
                                 "instead of numbers.")
    extra: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if field.name in _RESULT_FIELDS:
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[_EXTRA_PREFIX + field.name] = value
            continue
        try:
            extra[field.name] = encode(value)
        except TypeError as exc:
            raise WorkspaceError(f"The run cannot be saved: its {field.name!r} cannot be stored ({exc}).") from exc
    details = {
        "roles": dict(result.roles), "columns": [str(c) for c in result.table.columns],
        "own_table": own_table, "feature_names": list(result.feature_names),
        "feature_recipe": dict(result.feature_recipe), "text_state": text_json, "extra": extra,
    }
    try:
        profiles_json = json.dumps(encode(tuple(result.profiles)), ensure_ascii=False)
    except TypeError as exc:
        raise WorkspaceError(f"The run cannot be saved: its profiles hold a value that cannot be stored "
                             f"({exc}).") from exc
    metrics = dict(result.metrics)
    timings = {k: float(v) for k, v in result.timings.items()}
    row = {
        "data_digest": result.data_digest, "version": result.version, "config_json": result.config.to_json(),
        "algorithm": result.config.cluster.algorithm, "n_customers": len(result.labels),
        "n_segments": int(result.n_segments), "silhouette": _finite_or_none(metrics.get("silhouette")),
        "noise_share": _finite_or_none(metrics.get("noise_share")), "seconds": float(sum(timings.values())),
        "metrics_json": dumps(metrics, "run metrics"), "timings_json": dumps(timings, "run timings"),
        "notes_json": dumps(list(result.notes), "run notes"), "details_json": dumps(details, "run details"),
    }
    return PackedRun(row, arrays, profiles_json, own_table)


def write_run_files(folder: Path, result: SegmentationResult, packed: PackedRun) -> None:
    """Write the files of ``result`` (packed by :func:`pack_run`) into the existing, empty ``folder``."""
    if packed.own_table:
        write_parquet(result.table, folder / "table.parquet", "table of the run")
    write_parquet(pd.DataFrame({"row_id": pd.array([str(v) for v in result.row_ids], dtype="string"),
                                "text": pd.array([str(v) for v in result.texts], dtype="string")}),
                  folder / "rows.parquet", "customer ids and texts of the run")
    write_bytes(folder / "profiles.json", packed.profiles_json.encode("utf-8"))
    write_npz(folder / "arrays.npz", packed.arrays)


def read_run(folder: Path, row: Mapping[str, Any], dataset_table: Callable[[], pd.DataFrame],
             what: str) -> SegmentationResult:
    """The run stored in ``folder`` with its database ``row`` (the columns :func:`pack_run` fills).

    ``dataset_table`` gives the dataset's table when the run keeps only row positions into it; ``what``
    names the run in error messages ("run 3 of project 'Acme'").
    """
    from segmentation.pipeline import SegmentationResult

    details = loads(row["details_json"], f"details of {what}")
    arrays = read_npz(folder / "arrays.npz", what, RUN_ARRAYS)
    rows = arrays["rows"]
    if details["own_table"]:
        table = read_parquet(folder / "table.parquet", f"table of {what}")
        table.index = pd.Index(rows)
    else:
        stored = dataset_table()
        if len(rows) and (rows.min() < 0 or rows.max() >= len(stored)):
            raise WorkspaceError(f"The {what} is damaged: it refers to rows its dataset does not have.")
        table = stored.loc[rows, details["columns"]]
    row_frame = read_parquet(folder / "rows.parquet", f"customer ids of {what}")
    n = len(arrays["labels"])
    if not (len(table) == len(row_frame) == n == len(arrays["coords"]) == len(arrays["embedding"])):
        raise WorkspaceError(f"The {what} is damaged: its files disagree on the number of customers.")
    text_state = _join_arrays(details["text_state"], {k.removeprefix(_TEXT_STATE_PREFIX): v
                                                      for k, v in arrays.items() if k.startswith(_TEXT_STATE_PREFIX)})
    try:
        config = RunConfig.from_json(row["config_json"])
    except ConfigError as exc:
        raise WorkspaceError(f"The settings of {what} cannot be read: {exc}") from exc
    profiles_path = folder / "profiles.json"
    try:
        profiles = tuple(decode(loads(profiles_path.read_text(encoding="utf-8"), f"profiles of {what}")))
        known = {f.name for f in dataclasses.fields(SegmentationResult) if f.init}
        extra = {k: decode(v) for k, v in details.get("extra", {}).items() if k in known}
        extra.update({k.removeprefix(_EXTRA_PREFIX): v for k, v in arrays.items()
                      if k.startswith(_EXTRA_PREFIX) and k.removeprefix(_EXTRA_PREFIX) in known})
    except FileNotFoundError as exc:
        raise WorkspaceError(f"The {what} is missing its file {profiles_path}.") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WorkspaceError(f"The profiles of {what} are damaged or from another version ({exc}).") from exc
    return SegmentationResult(
        config=config, data_digest=row["data_digest"], table=table, roles=dict(details["roles"]),
        row_ids=np.asarray(row_frame["row_id"].fillna("").tolist(), dtype=str),
        texts=np.asarray(row_frame["text"].fillna("").tolist(), dtype=object),
        features=arrays["features"], embedding=arrays["embedding"], coords=arrays["coords"],
        labels=arrays["labels"], confidence=arrays["confidence"],
        metrics=loads(row["metrics_json"], f"metrics of {what}"), profiles=profiles,
        feature_names=tuple(details["feature_names"]), timings=loads(row["timings_json"], f"timings of {what}"),
        notes=tuple(loads(row["notes_json"], f"notes of {what}")), feature_recipe=details["feature_recipe"],
        text_state=text_state, version=row["version"], **extra,
    )


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _is_slice_of(table: pd.DataFrame, stored: pd.DataFrame) -> bool:
    """Whether ``table`` is exactly some rows and columns of the stored dataset (then only positions are kept)."""
    index = table.index
    if not pd.api.types.is_integer_dtype(index.dtype) or not index.is_unique:
        return False
    if len(index) and (index.min() < 0 or index.max() >= len(stored)):
        return False
    if any(c not in stored.columns for c in table.columns) or len(set(table.columns)) != len(table.columns):
        return False
    candidate = stored.loc[index, list(table.columns)]
    return all(candidate[c].dtype == table[c].dtype and candidate[c].equals(table[c]) for c in table.columns)


def _split_arrays(state: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """Top-level arrays of a state dict go to the array file; the rest is JSON."""
    if state is None:
        return None, {}
    plain, arrays = {}, {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[str(key)] = value
            plain[str(key)] = {"__array__": str(key)}
        else:
            plain[str(key)] = value
    return plain, arrays


def _join_arrays(plain: Mapping[str, Any] | None, arrays: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
    if plain is None:
        return None
    out = {}
    for key, value in plain.items():
        if isinstance(value, dict) and set(value) == {"__array__"}:
            if value["__array__"] not in arrays:
                raise WorkspaceError(f"A saved run is damaged: its text model lacks the array {key!r}.")
            out[key] = arrays[value["__array__"]]
        else:
            out[key] = value
    return out
