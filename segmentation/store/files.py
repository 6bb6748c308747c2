"""Files of the workspace on disk: written atomically, read back without pickle.

Every file is written under a temporary name, flushed to disk and moved into place
with ``os.replace``, so a reader sees the old file or the new one, never half of one.
Tables are Parquet; arrays are ``.npz`` read with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from segmentation.errors import WorkspaceError
from segmentation.lazy import lazy

np = lazy("numpy")
pd = lazy("pandas")

ORPHAN_AGE_S = 3600.0
"""Unreferenced folders older than this are leftovers of a killed save; younger ones may be a save in progress."""


def new_key() -> str:
    """A fresh name for a stored folder or file (16 hex digits)."""
    return secrets.token_hex(8)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temp_path)``, flush it to disk, then move it to ``path`` in one step."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        write(temp)
        _fsync(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    write_atomic(path, lambda temp: temp.write_bytes(data))


def write_parquet(frame: pd.DataFrame, path: Path, what: str) -> list[str]:
    """Write ``frame`` (index dropped) as Parquet; returns the columns that had to be stored as text.

    ``what`` names the table in error messages ("dataset 'customers.csv'").
    """
    if not all(isinstance(c, str) for c in frame.columns):
        raise WorkspaceError(f"The {what} cannot be saved: its column names must be text. Rename the columns "
                             "and try again.")
    frame = frame.reset_index(drop=True)
    try:
        write_atomic(path, lambda temp: frame.to_parquet(temp, index=False))
        return []
    except (ValueError, TypeError, NotImplementedError):
        pass
    # Columns of mixed Python objects have no Parquet type: keep them as text rather than refuse to save.
    converted = []
    fixed = frame.copy()
    for column in fixed.columns:
        if fixed[column].dtype == object:
            fixed[column] = fixed[column].astype("string")
            converted.append(column)
    try:
        write_atomic(path, lambda temp: fixed.to_parquet(temp, index=False))
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise WorkspaceError(f"The {what} cannot be saved as Parquet ({exc}).") from exc
    return converted


def read_parquet(path: Path, what: str) -> pd.DataFrame:
    """The table stored at ``path``; a missing or damaged file raises WorkspaceError naming ``what``."""
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise WorkspaceError(f"The {what} is missing its file {path}. Restore the project folder from a backup, "
                             "or delete and re-create this item.") from exc
    except Exception as exc:  # pyarrow raises several unrelated types for damaged files
        raise WorkspaceError(f"The {what} is damaged: {path} is not a readable Parquet file ({exc}).") from exc


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write numeric arrays to ``path`` atomically (arrays of Python objects are refused when read)."""

    def write(temp: Path) -> None:
        with open(temp, "wb") as handle:
            np.savez(handle, **arrays)

    write_atomic(path, write)


def read_npz(path: Path, what: str, required: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays stored at ``path``, never unpickled; raises WorkspaceError when one of ``required`` is missing."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError as exc:
        raise WorkspaceError(f"The {what} is missing its file {path}. Delete the run and segment again.") from exc
    except (OSError, ValueError, EOFError) as exc:  # ValueError also covers arrays that would need pickle
        reason = "it holds Python objects, which are never read with pickle" if "pickle" in str(exc) else str(exc)
        raise WorkspaceError(f"The {what} is damaged: {path} is not a readable array file ({reason}).") from exc
    missing = [name for name in required if name not in arrays]
    if missing:
        raise WorkspaceError(f"The {what} is damaged: {path} lacks {', '.join(missing)}.")
    return arrays


def folder_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (links not followed; files vanishing meanwhile not counted)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def remove_tree(path: Path) -> None:
    """Remove a folder; failures are left for a later ``tidy`` (e.g. a file still open on Windows)."""
    shutil.rmtree(path, ignore_errors=True)


def age_s(path: Path) -> float:
    """Seconds since ``path`` last changed (0 when it cannot be read, so it is never taken for a leftover)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link stored files (never modified in place, only replaced), else copy them."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
