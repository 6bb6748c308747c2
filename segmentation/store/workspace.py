"""Projects, datasets, runs and the analyst's notes, kept on this machine between sessions.

Layout under the workspace root (``paths.home_dir()`` unless given)::

    workspace.sqlite                  index: project id, name (unique, case-insensitive), created
    projects/<id>/project.sqlite      one database per project: datasets, runs, segment texts, models, UI state
    projects/<id>/datasets/<key>/     table.parquet (+ rejected.parquet)
    projects/<id>/runs/<key>/         arrays.npz, rows.parquet, profiles.json (+ table.parquet)
    projects/<id>/models/<key>.bin    saved model files, bytes as given
    cache/                            embeddings shared by every project (``paths.cache_dir``)

Why this shape:

- One database per project, so a damaged file hides one project, not the workspace; the
  index holds only names, and is rebuilt from the project folders if it is lost or damaged.
- Files are written under a temporary name, moved into place with ``os.replace``, and only
  then is the database row that refers to them committed (one transaction per write
  method). A run killed halfway leaves an unreferenced folder that nobody sees and that
  :meth:`Project.tidy` removes later; the project stays as it was.
- SQLite in WAL mode with a busy timeout lets two browser tabs, threads or processes
  write to the same project; writers take the lock up front (``BEGIN IMMEDIATE``).
- Nothing is ever read with pickle: tables are Parquet, arrays ``.npz`` read with
  ``allow_pickle=False``, everything else JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentation.config import ROLES, RunConfig
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy
from segmentation.paths import cache_dir, home_dir

np = lazy("numpy")
pd = lazy("pandas")
io = lazy("segmentation.ingest.read")

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

SCHEMA_VERSION = 1
"""Stored as ``PRAGMA user_version``; a newer file is refused rather than misread."""

MAX_NAME_LENGTH = 80
BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another writer before giving up with a clear message."""
ORPHAN_AGE_S = 3600.0
"""Unreferenced folders older than this are leftovers of a killed save; younger ones may be a save in progress."""
MAX_UI_STATE_BYTES = 1_000_000

INDEX_FILE = "workspace.sqlite"
PROJECT_FILE = "project.sqlite"
_INDEX_FORMAT = "segment-studio-workspace"
_PROJECT_FORMAT = "segment-studio-project"
_PROJECT_ID = re.compile(r"^[0-9a-f]{12}$")
_FOLDER_KEY = re.compile(r"^[0-9a-f]{16}$")
_TRASH_PREFIX = ".trash-"
_TEXT_FIELDS = ("name", "description", "notes")
_ARRAYS = ("rows", "labels", "confidence", "coords", "embedding", "features")
_TEXT_STATE_PREFIX = "text_state."
_EXTRA_PREFIX = "extra."
_RESULT_FIELDS = frozenset({
    "config", "data_digest", "table", "roles", "row_ids", "texts", "features", "embedding", "coords", "labels",
    "confidence", "metrics", "profiles", "feature_names", "timings", "notes", "feature_recipe", "text_state", "version",
})
"""SegmentationResult fields stored in their own form; any other field is stored generically."""

_INDEX_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL)",
)
_PROJECT_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE datasets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,"
    " folder TEXT NOT NULL, created REAL NOT NULL, n_rows INTEGER NOT NULL, n_columns INTEGER NOT NULL,"
    " report_json TEXT NOT NULL, role_overrides_json TEXT NOT NULL)",
    "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " dataset_id INTEGER NOT NULL REFERENCES datasets(id), folder TEXT NOT NULL, created REAL NOT NULL,"
    " data_digest TEXT NOT NULL, version TEXT NOT NULL, config_json TEXT NOT NULL, algorithm TEXT NOT NULL,"
    " n_customers INTEGER NOT NULL, n_segments INTEGER NOT NULL, silhouette REAL, noise_share REAL,"
    " seconds REAL NOT NULL, metrics_json TEXT NOT NULL, timings_json TEXT NOT NULL, notes_json TEXT NOT NULL,"
    " details_json TEXT NOT NULL, curation_json TEXT NOT NULL DEFAULT '[]', note TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE segment_texts (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " segment INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
    " notes TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, segment))",
    "CREATE TABLE models (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL, name TEXT NOT NULL, file TEXT NOT NULL,"
    " size_bytes INTEGER NOT NULL, created REAL NOT NULL)",
)


# --------------------------------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectInfo:
    """One line of the project list. ``damaged`` holds the reason when the project cannot be read."""

    id: str
    name: str
    created: datetime
    updated: datetime
    size_bytes: int
    n_datasets: int
    n_runs: int
    best_run: tuple[int, float] | None  # (run id, silhouette) of the run with the highest silhouette
    damaged: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset kept in a project, without its table."""

    id: int
    name: str
    digest: str
    created: datetime
    n_rows: int
    n_columns: int
    summary: tuple[str, ...]  # the load report's summary lines
    role_overrides: dict[str, str]


@dataclass(frozen=True)
class RunInfo:
    """A saved run, without its arrays; ``silhouette`` is None when undefined (fewer than 2 segments)."""

    id: int
    created: datetime
    dataset_id: int
    algorithm: str
    n_customers: int
    n_segments: int
    silhouette: float | None
    noise_share: float
    seconds: float
    note: str


@dataclass(frozen=True)
class ModelInfo:
    """A saved model file (bytes kept as given) and the run it came from (None once that run is deleted)."""

    id: int
    run_id: int | None
    name: str
    created: datetime
    size_bytes: int


# --------------------------------------------------------------------------------------------------------------------
# Small helpers: time, names, JSON, files
# --------------------------------------------------------------------------------------------------------------------
def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _new_key() -> str:
    return secrets.token_hex(8)


def check_project_name(name: str) -> str:
    """The name with surrounding spaces removed; raises ConfigError when it cannot name a project."""
    if not isinstance(name, str):
        raise ConfigError(f"A project name must be text. Got {type(name).__name__} instead.")
    clean = name.strip()
    if not clean:
        raise ConfigError("A project name must not be empty. Type a name such as 'Spring campaign'.")
    if len(clean) > MAX_NAME_LENGTH:
        raise ConfigError(f"A project name must be at most {MAX_NAME_LENGTH} characters. Got {len(clean)} "
                          "characters; shorten it.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in clean):
        raise ConfigError("A project name must not contain line breaks, tabs or other control characters.")
    return clean


def _name_key(name: str) -> str:
    return name.casefold()


def _plain(value: Any) -> Any:
    """JSON-ready value: numpy scalars and arrays become Python numbers and lists, pandas NA becomes None."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, default=_plain, ensure_ascii=False)  # key order kept
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"The {what} cannot be saved: only text, numbers, lists and dictionaries can be "
                          f"stored ({exc}).") from exc


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"The stored {what} is damaged (not valid JSON: {exc}).") from exc


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def _write_atomic(path: Path, write: Any) -> None:
    """Call ``write(temp_path)``, flush it to disk, then move it to ``path`` in one step."""
    temp = _temp_name(path)
    try:
        write(temp)
        _fsync(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _write_bytes(path: Path, data: bytes) -> None:
    _write_atomic(path, lambda temp: temp.write_bytes(data))


def _write_parquet(frame: pd.DataFrame, path: Path, what: str) -> list[str]:
    """Write ``frame`` (index dropped) as Parquet; returns the columns that had to be stored as text."""
    if not all(isinstance(c, str) for c in frame.columns):
        raise WorkspaceError(f"The {what} cannot be saved: its column names must be text. Rename the columns "
                             "and try again.")
    frame = frame.reset_index(drop=True)
    try:
        _write_atomic(path, lambda temp: frame.to_parquet(temp, index=False))
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
        _write_atomic(path, lambda temp: fixed.to_parquet(temp, index=False))
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise WorkspaceError(f"The {what} cannot be saved as Parquet ({exc}).") from exc
    return converted


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise WorkspaceError(f"The {what} is missing its file {path}. Restore the project folder from a backup, "
                             "or delete and re-create this item.") from exc
    except Exception as exc:  # pyarrow raises several unrelated types for damaged files
        raise WorkspaceError(f"The {what} is damaged: {path} is not a readable Parquet file ({exc}).") from exc


def _folder_size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def _remove_tree(path: Path) -> None:
    """Remove a folder; failures are left for :meth:`Workspace.tidy` (e.g. a file still open on Windows)."""
    shutil.rmtree(path, ignore_errors=True)


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link stored files (never modified in place, only replaced), else copy them."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# --------------------------------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------------------------------
def _is_damage(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "no such table", "encrypted"))


def _translate(exc: sqlite3.Error, path: Path, what: str) -> WorkspaceError:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return WorkspaceError(f"{what} is busy: another window or command has been writing to it for more than "
                              f"{BUSY_TIMEOUT_S:.0f} s. Try again in a moment.")
    if _is_damage(exc):
        return WorkspaceError(f"{what} is damaged: {path} is not a readable Segment Studio database ({text}). "
                              "Other projects are not affected. Restore this project's folder from a backup, "
                              "or delete the project.")
    if not path.exists():
        return WorkspaceError(f"{what} is missing its database file {path}. Restore the folder from a backup, "
                              "or delete the project.")
    return WorkspaceError(f"{what} could not be read or written ({text}; file {path}). Check that the disk has "
                          "free space and that the folder is writable.")


def _connect(path: Path, create: bool = False) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _check_version(db: sqlite3.Connection, what: str) -> int:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise WorkspaceError(f"{what} was saved by a newer Segment Studio (storage version {version}; this one "
                             f"reads up to {SCHEMA_VERSION}). Update Segment Studio to open it; nothing was changed.")
    return version


@contextmanager
def _transaction(path: Path, what: str, write: bool) -> Iterator[sqlite3.Connection]:
    """One transaction on an existing database; writers take the write lock up front (no upgrade deadlocks)."""
    if not path.is_file():
        raise WorkspaceError(f"{what} is missing its database file {path}. Restore the folder from a backup, "
                             "or delete the project.")
    try:
        db = _connect(path)
    except sqlite3.Error as exc:
        raise _translate(exc, path, what) from exc
    try:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        if _check_version(db, what) == 0:
            raise WorkspaceError(f"{what} is not a Segment Studio database ({path}). Move the file away; "
                                 "other projects are not affected.")
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(db)
        raise _translate(exc, path, what) from exc
    except BaseException:
        _rollback(db)
        raise
    finally:
        db.close()


def _rollback(db: sqlite3.Connection) -> None:
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _meta(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT key, value FROM meta").fetchall())


def _create_project_db(path: Path, name: str, created: float) -> None:
    db = _connect(path, create=True)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("BEGIN IMMEDIATE")
        for statement in _PROJECT_SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("format", _PROJECT_FORMAT), ("name", name), ("created", repr(created)),
                        ("updated", repr(created)), ("ui_state", "{}")])
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise
    finally:
        db.close()


# --------------------------------------------------------------------------------------------------------------------
# Workspace
# --------------------------------------------------------------------------------------------------------------------
class Workspace:
    """The analyst's projects on this machine.

    ``root`` is the workspace folder; by default ``$SEGMENT_STUDIO_HOME`` or
    ``~/.segment-studio`` (see :func:`segmentation.paths.home_dir`). Any number of
    ``Workspace`` objects, threads and processes may use the same root at once.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        try:
            self.root = home_dir(root)
            self.projects_dir = self.root / "projects"
            self.projects_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"The workspace folder {root or '(default)'} cannot be created or used ({exc}). "
                                 "Choose another folder (--workspace DIR or SEGMENT_STUDIO_HOME).") from exc
        self.index_path = self.root / INDEX_FILE
        self.repaired: str | None = None
        """Set when the index was damaged and has been rebuilt from the project folders (for a notice)."""
        self._open_index()
        try:
            self.tidy()
        except OSError:
            pass  # tidying is housekeeping; never a reason to refuse the workspace

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # --- index ----------------------------------------------------------------------------------------------------
    def _open_index(self) -> None:
        for attempt in range(3):
            try:
                created = self._init_index()
                break
            except sqlite3.Error as exc:
                if not _is_damage(exc) or attempt == 2:
                    raise _translate(exc, self.index_path, "The workspace index") from exc
                self._move_index_aside(str(exc))
            except _ForeignIndex as exc:
                if attempt == 2:
                    raise WorkspaceError(str(exc)) from exc
                self._move_index_aside(str(exc))
        if created:
            self._rebuild_index()

    def _init_index(self) -> bool:
        """Create the index tables when missing; True when they were just created."""
        db = _connect(self.index_path, create=True)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            version = _check_version(db, f"The workspace index {self.index_path}")
            if version == 0:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise _ForeignIndex(f"{self.index_path} is not a Segment Studio workspace index")
                for statement in _INDEX_SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('format', ?)", (_INDEX_FORMAT,))
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif _meta(db).get("format") != _INDEX_FORMAT:
                raise _ForeignIndex(f"{self.index_path} is not a Segment Studio workspace index")
            db.execute("COMMIT")
            return version == 0
        except BaseException:
            _rollback(db)
            raise
        finally:
            db.close()

    def _move_index_aside(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.index_path.with_name(f"{INDEX_FILE}.damaged-{stamp}-{secrets.token_hex(2)}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.index_path) + suffix)
            try:
                os.replace(source, Path(str(kept) + suffix))
            except FileNotFoundError:
                pass  # another process moved it first
            except OSError as exc:
                raise WorkspaceError(f"The workspace index {self.index_path} is damaged ({reason}) and cannot be "
                                     f"moved aside ({exc}). Move it away by hand; your projects are in "
                                     f"{self.projects_dir}.") from exc
        self.repaired = (f"The workspace index was damaged ({reason}); it was rebuilt from the project folders "
                         f"and the damaged file was kept as {kept.name}.")

    def _rebuild_index(self) -> None:
        """Register project folders that the (new) index does not know, by the name each project stores."""
        found = []
        for folder in sorted(self.projects_dir.iterdir()):
            if not (_PROJECT_ID.match(folder.name) and (folder / PROJECT_FILE).is_file()):
                continue
            name, created = f"Damaged project {folder.name}", _age_fallback(folder)
            try:
                with _transaction(folder / PROJECT_FILE, "A project", write=False) as db:
                    meta = _meta(db)
                name = check_project_name(meta.get("name", name))
                created = float(meta.get("created", created))
            except (WorkspaceError, ConfigError, ValueError):
                pass  # listed as damaged; the analyst decides what to do with it
            found.append((folder.name, name, created))
        if not found:
            return
        with self._index(write=True) as db:
            taken = {row[0] for row in db.execute("SELECT name_key FROM projects")}
            known = {row[0] for row in db.execute("SELECT id FROM projects")}
            for project_id, name, created in found:
                if project_id in known:
                    continue
                unique, n = name, 2
                while _name_key(unique) in taken:
                    unique = f"{name[:MAX_NAME_LENGTH - 6]} ({n})"
                    n += 1
                taken.add(_name_key(unique))
                db.execute("INSERT INTO projects VALUES (?, ?, ?, ?)", (project_id, unique, _name_key(unique), created))

    @contextmanager
    def _index(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with _transaction(self.index_path, "The workspace index", write) as db:
            yield db

    def _resolve(self, name_or_id: str) -> tuple[str, str]:
        """(id, name) of a project given its name (any case) or id."""
        key = str(name_or_id).strip()
        with self._index() as db:
            row = db.execute("SELECT id, name FROM projects WHERE name_key = ? OR id = ?",
                             (_name_key(key), key)).fetchone()
            names = [r[0] for r in db.execute("SELECT name FROM projects ORDER BY name_key")] if row is None else []
        if row is None:
            known = ", ".join(map(repr, names[:20])) if names else "none yet"
            raise WorkspaceError(f"There is no project called {key!r} in {self.root}. Projects: {known}. "
                                 "Create it first (python -m segmentation projects create NAME).")
        return row[0], row[1]

    def project_folder(self, project_id: str) -> Path:
        return self.projects_dir / project_id

    # --- projects -------------------------------------------------------------------------------------------------
    def list_projects(self) -> list[ProjectInfo]:
        """Every project with its last change, size on disk and best run, most recently changed first.

        A project whose files cannot be read is listed with ``damaged`` set to the
        reason; the others are unaffected.
        """
        with self._index() as db:
            rows = db.execute("SELECT id, name, created FROM projects").fetchall()
        infos = [self._describe(project_id, name, created) for project_id, name, created in rows]
        return sorted(infos, key=lambda info: (-info.updated.timestamp(), info.name.casefold()))

    def project_info(self, name_or_id: str) -> ProjectInfo:
        """One project's line of the list (``damaged`` set when it cannot be read)."""
        project_id, _name = self._resolve(name_or_id)
        with self._index() as db:
            row = db.execute("SELECT id, name, created FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise WorkspaceError(f"The project {name_or_id!r} has just been deleted.")
        return self._describe(*row)

    def _describe(self, project_id: str, name: str, created: float) -> ProjectInfo:
        folder = self.project_folder(project_id)
        size = _folder_size(folder) if folder.is_dir() else 0
        try:
            with _transaction(folder / PROJECT_FILE, f"The project {name!r}", write=False) as db:
                meta = _meta(db)
                if meta.get("format") != _PROJECT_FORMAT:
                    raise WorkspaceError(f"The project {name!r} is damaged: {folder / PROJECT_FILE} is not a "
                                         "Segment Studio project. Other projects are not affected.")
                n_datasets = db.execute("SELECT count(*) FROM datasets").fetchone()[0]
                n_runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
                best = db.execute("SELECT id, silhouette FROM runs WHERE silhouette IS NOT NULL "
                                  "ORDER BY silhouette DESC, id LIMIT 1").fetchone()
            updated = float(meta.get("updated", created))
        except WorkspaceError as error:
            return ProjectInfo(project_id, name, _when(created), _when(created), size, 0, 0, None, str(error))
        return ProjectInfo(project_id, name, _when(created), _when(updated), size, int(n_datasets), int(n_runs),
                           (int(best[0]), float(best[1])) if best else None)

    def create_project(self, name: str) -> Project:
        """A new, empty project. Names are unique regardless of case."""
        name = check_project_name(name)
        self._refuse_taken(name)
        project_id = secrets.token_hex(6)
        folder = self.project_folder(project_id)
        created = time.time()
        try:
            folder.mkdir(parents=True)
            _create_project_db(folder / PROJECT_FILE, name, created)
        except (OSError, sqlite3.Error) as exc:
            _remove_tree(folder)
            raise WorkspaceError(f"The project {name!r} cannot be created in {self.projects_dir} ({exc}). Check "
                                 "that the disk has free space and that the folder is writable.") from exc
        self._register(project_id, name, created, folder)
        return Project(self, project_id)

    def _refuse_taken(self, name: str, except_id: str | None = None) -> None:
        with self._index() as db:
            row = db.execute("SELECT id, name FROM projects WHERE name_key = ?", (_name_key(name),)).fetchone()
        if row and row[0] != except_id:
            raise WorkspaceError(f"A project called {row[1]!r} already exists. Choose another name, or open it.")

    def _register(self, project_id: str, name: str, created: float, folder: Path) -> None:
        """Add the index row for a project folder that is complete; remove the folder when the name is taken."""
        try:
            with self._index(write=True) as db:
                try:
                    db.execute("INSERT INTO projects VALUES (?, ?, ?, ?)", (project_id, name, _name_key(name), created))
                except sqlite3.IntegrityError:
                    taken = db.execute("SELECT name FROM projects WHERE name_key = ?", (_name_key(name),)).fetchone()
                    raise WorkspaceError(f"A project called {taken[0] if taken else name!r} already exists. "
                                         "Choose another name, or open it.") from None
        except BaseException:
            _remove_tree(folder)
            raise

    def open_project(self, name_or_id: str) -> Project:
        """The project with this name (any case) or id; raises WorkspaceError when it is missing or damaged."""
        project_id, name = self._resolve(name_or_id)
        project = Project(self, project_id, name)
        try:
            project.tidy()
        except (OSError, WorkspaceError):
            pass
        return project

    def rename_project(self, old: str, new: str) -> None:
        """Give a project another name (a change of case only is allowed)."""
        new = check_project_name(new)
        project_id, _name = self._resolve(old)
        with self._index(write=True) as db:
            try:
                db.execute("UPDATE projects SET name = ?, name_key = ? WHERE id = ?", (new, _name_key(new), project_id))
            except sqlite3.IntegrityError:
                raise WorkspaceError(f"A project called {new!r} already exists. Choose another name.") from None
        try:  # the project keeps its own name too, so that a lost index can be rebuilt
            Project(self, project_id)._set_meta("name", new, touch=True)
        except WorkspaceError:
            pass  # a damaged project can still be renamed in the list

    def duplicate_project(self, name: str, new_name: str) -> Project:
        """A full, independent copy of a project (datasets, runs, names, notes, models, UI state)."""
        new_name = check_project_name(new_name)
        self._refuse_taken(new_name)
        source = self.open_project(name)
        project_id = secrets.token_hex(6)
        folder = self.project_folder(project_id)
        created = time.time()
        try:
            folder.mkdir(parents=True)
            target_db = folder / PROJECT_FILE
            # The backup API copies a consistent snapshot even while another process writes.
            try:
                src = _connect(source.db_path)
                dst = _connect(target_db, create=True)
                try:
                    src.backup(dst)
                finally:
                    src.close()
                    dst.close()
            except sqlite3.Error as exc:
                raise _translate(exc, source.db_path, f"The project {name!r}") from exc
            db = _connect(target_db)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("BEGIN IMMEDIATE")
                db.executemany("UPDATE meta SET value = ? WHERE key = ?",
                               [(new_name, "name"), (repr(created), "created"), (repr(created), "updated")])
                folders = [("datasets", r[0]) for r in db.execute("SELECT folder FROM datasets")]
                folders += [("runs", r[0]) for r in db.execute("SELECT folder FROM runs")]
                files = [r[0] for r in db.execute("SELECT file FROM models")]
                db.execute("COMMIT")
            finally:
                _rollback(db)
                db.close()
            for kind, key in folders:
                (folder / kind / key).mkdir(parents=True)
                for item in (source.folder / kind / key).iterdir():
                    _link_or_copy(item, folder / kind / key / item.name)
            if files:
                (folder / "models").mkdir()
            for key in files:
                _link_or_copy(source.folder / "models" / key, folder / "models" / key)
        except (OSError, sqlite3.Error) as exc:
            _remove_tree(folder)
            raise WorkspaceError(f"The project {name!r} cannot be copied ({exc}). Check that the disk has free "
                                 "space, then try again.") from exc
        except BaseException:
            _remove_tree(folder)
            raise
        self._register(project_id, new_name, created, folder)
        return Project(self, project_id)

    def delete_project(self, name: str) -> int:
        """Delete a project and its folder for good; returns the bytes freed. The app asks first."""
        project_id, _name = self._resolve(name)
        folder = self.project_folder(project_id)
        size = _folder_size(folder) if folder.is_dir() else 0
        with self._index(write=True) as db:
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        trash = self.projects_dir / f"{_TRASH_PREFIX}{project_id}-{secrets.token_hex(2)}"
        try:
            os.replace(folder, trash)
        except OSError:
            trash = folder
        _remove_tree(trash)
        return size

    # --- storage --------------------------------------------------------------------------------------------------
    def size_bytes(self) -> int:
        """Bytes used by all projects (not counting the shared embedding cache)."""
        return _folder_size(self.projects_dir)

    def tidy(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove leftovers of interrupted creates and deletes older than ``min_age_s``; returns bytes freed.

        Only folders that Segment Studio names itself are touched; anything else
        found in the workspace is left alone.
        """
        with self._index() as db:
            known = {row[0] for row in db.execute("SELECT id FROM projects")}
        freed = 0
        for folder in self.projects_dir.iterdir():
            ours = folder.name.startswith(_TRASH_PREFIX) or (
                _PROJECT_ID.match(folder.name) is not None and folder.name not in known)
            if ours and folder.is_dir() and not folder.is_symlink() and _age_s(folder) >= min_age_s:
                freed += _folder_size(folder)
                _remove_tree(folder)
        return freed

    def cache_size_bytes(self) -> int:
        """Bytes used by the embedding cache shared by every project."""
        return cache_size_bytes(self.root)

    def clear_embedding_cache(self) -> int:
        """Empty the embedding cache (texts are embedded again when next needed); returns bytes freed."""
        return clear_embedding_cache(self.root)


class _ForeignIndex(Exception):
    """The index file is an SQLite database, but not ours."""


def _age_fallback(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:
        return time.time()


# --------------------------------------------------------------------------------------------------------------------
# Project
# --------------------------------------------------------------------------------------------------------------------
class Project:
    """One project: its datasets, runs, the analyst's segment names and notes, curation steps, models, UI state.

    Obtain it from :class:`Workspace`. Each write method is one transaction; the
    object holds no connection and may be shared by threads.
    """

    def __init__(self, workspace: Workspace, project_id: str, name: str | None = None) -> None:
        self.workspace = workspace
        self.id = project_id
        self.folder = workspace.project_folder(project_id)
        self.db_path = self.folder / PROJECT_FILE
        self._label = f"The project {name or project_id!r}"
        self._tables: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        with self._read() as db:
            meta = _meta(db)
        if meta.get("format") != _PROJECT_FORMAT:
            raise WorkspaceError(f"{self._label} is damaged: {self.db_path} is not a Segment Studio project. "
                                 "Other projects are not affected.")
        self._label = f"The project {meta.get('name', project_id)!r}"

    def __repr__(self) -> str:
        return f"Project(id={self.id!r}, folder={str(self.folder)!r})"

    @property
    def name(self) -> str:
        """The current name (read from the workspace index, so a rename elsewhere is seen at once)."""
        with self.workspace._index() as db:
            row = db.execute("SELECT name FROM projects WHERE id = ?", (self.id,)).fetchone()
        if row is None:
            raise WorkspaceError(f"{self._label} has been deleted.")
        return str(row[0])

    # --- transactions ---------------------------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with _transaction(self.db_path, self._label, write=False) as db:
            yield db

    @contextmanager
    def _write(self, touch: bool = True) -> Iterator[sqlite3.Connection]:
        with _transaction(self.db_path, self._label, write=True) as db:
            yield db
            if touch:
                self._touch(db)

    def _touch(self, db: sqlite3.Connection) -> None:
        """Record the time of the last change (shown on the home page)."""
        db.execute("UPDATE meta SET value = ? WHERE key = 'updated'", (repr(time.time()),))

    def _set_meta(self, key: str, value: str, touch: bool) -> None:
        with self._write(touch=touch) as db:
            db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))

    def _row(self, db: sqlite3.Connection, sql: str, key: int, what: str) -> tuple:
        row = db.execute(sql, (int(key),)).fetchone()
        if row is None:
            raise WorkspaceError(f"{self._label} has no {what} {key}. It may have been deleted in another window.")
        return row

    # --- datasets -------------------------------------------------------------------------------------------------
    def add_dataset(self, dataset: io.Dataset, role_overrides: Mapping[str, str] | None = None) -> int:
        """Keep a loaded dataset (table as Parquet, name, digest, load report); returns its id.

        A dataset whose digest is already in the project is not stored twice: its id
        is returned, and its role overrides are replaced when ``role_overrides`` is given.
        """
        overrides = _check_overrides(role_overrides or {})
        with self._read() as db:
            row = db.execute("SELECT id FROM datasets WHERE digest = ?", (dataset.digest,)).fetchone()
        if row is not None:
            if role_overrides is not None:
                self.set_role_overrides(int(row[0]), overrides)
            return int(row[0])
        key = _new_key()
        folder = self.folder / "datasets" / key
        try:
            folder.mkdir(parents=True)
            as_text = _write_parquet(dataset.table, folder / "table.parquet", f"dataset {dataset.name!r}")
            report = dataset.report
            if len(report.rejected):
                _write_parquet(report.rejected, folder / "rejected.parquet", "list of rejected rows")
            stored_report = {
                "format": report.format, "encoding": report.encoding, "delimiter": report.delimiter,
                "rows_read": report.rows_read, "rows_kept": report.rows_kept, "rows_rejected": report.rows_rejected,
                "renamed_columns": [list(pair) for pair in report.renamed_columns],
                "unconverted_cells": dict(report.unconverted_cells), "warnings": list(report.warnings),
                "summary": report.summary_lines(), "stored_as_text": as_text,
            }
            with self._write() as db:
                cursor = db.execute(
                    "INSERT INTO datasets (name, digest, folder, created, n_rows, n_columns, report_json, "
                    "role_overrides_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(digest) DO NOTHING",
                    (dataset.name, dataset.digest, key, time.time(), len(dataset.table), len(dataset.table.columns),
                     _dumps(stored_report, "load report"), _dumps(overrides, "column roles")))
                if cursor.rowcount == 0:  # another window added the same file meanwhile
                    dataset_id = int(db.execute("SELECT id FROM datasets WHERE digest = ?",
                                                (dataset.digest,)).fetchone()[0])
                    duplicate = True
                else:
                    dataset_id, duplicate = int(cursor.lastrowid), False
        except OSError as exc:
            _remove_tree(folder)
            raise WorkspaceError(f"The dataset {dataset.name!r} cannot be saved in the "
                                 f"{self._label.removeprefix('The ')} ({exc}). Check that the disk has free space."
                                 ) from exc
        except BaseException:
            _remove_tree(folder)
            raise
        if duplicate:
            _remove_tree(folder)
            if role_overrides is not None:
                self.set_role_overrides(dataset_id, overrides)
        return dataset_id

    def datasets(self) -> list[DatasetInfo]:
        """The project's datasets, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT id, name, digest, created, n_rows, n_columns, report_json, role_overrides_json "
                              "FROM datasets ORDER BY id").fetchall()
        return [DatasetInfo(int(r[0]), r[1], r[2], _when(r[3]), int(r[4]), int(r[5]),
                            tuple(_loads(r[6], "load report").get("summary", ())), _loads(r[7], "column roles"))
                for r in rows]

    def dataset_id_for(self, digest: str) -> int | None:
        """The id of the dataset with this digest, if the project has it."""
        with self._read() as db:
            row = db.execute("SELECT id FROM datasets WHERE digest = ?", (digest,)).fetchone()
        return int(row[0]) if row else None

    def load_dataset(self, dataset_id: int) -> io.Dataset:
        """The dataset as it was loaded: same table, name, digest and load report."""
        with self._read() as db:
            name, digest, key, report_json = self._row(
                db, "SELECT name, digest, folder, report_json FROM datasets WHERE id = ?", dataset_id, "dataset")
        stored = _loads(report_json, "load report")
        folder = self.folder / "datasets" / key
        rejected_path = folder / "rejected.parquet"
        if rejected_path.exists():
            rejected = _read_parquet(rejected_path, f"list of rejected rows of dataset {name!r}")
        else:
            rejected = pd.DataFrame([], columns=["line", "reason", "raw"])  # as io.load_table builds it
        report = io.LoadReport(
            format=stored["format"], encoding=stored["encoding"], delimiter=stored["delimiter"],
            rows_read=int(stored["rows_read"]), rows_kept=int(stored["rows_kept"]),
            rows_rejected=int(stored["rows_rejected"]), rejected=rejected,
            renamed_columns=tuple(tuple(pair) for pair in stored["renamed_columns"]),
            unconverted_cells={str(k): int(v) for k, v in stored["unconverted_cells"].items()},
            warnings=tuple(stored["warnings"]),
        )
        table = self._dataset_table(key, name).copy(deep=False)
        return io.Dataset(table=table, name=name, digest=digest, report=report)

    def _dataset_table(self, key: str, name: str) -> pd.DataFrame:
        """The stored table, kept for the two most recent datasets (their files never change)."""
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        table = _read_parquet(self.folder / "datasets" / key / "table.parquet", f"dataset {name!r}")
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > 2:
                self._tables.popitem(last=False)
        return table

    def set_role_overrides(self, dataset_id: int, overrides: Mapping[str, str]) -> None:
        """Replace the analyst's column-role overrides for a dataset (column -> role in ``config.ROLES``)."""
        clean = _check_overrides(overrides)
        with self._write() as db:
            self._row(db, "SELECT id FROM datasets WHERE id = ?", dataset_id, "dataset")
            db.execute("UPDATE datasets SET role_overrides_json = ? WHERE id = ?",
                       (_dumps(clean, "column roles"), int(dataset_id)))

    def delete_dataset(self, dataset_id: int) -> None:
        """Delete a dataset that no run uses any more (delete its runs first)."""
        with self._write() as db:
            (key,) = self._row(db, "SELECT folder FROM datasets WHERE id = ?", dataset_id, "dataset")
            n_runs = db.execute("SELECT count(*) FROM runs WHERE dataset_id = ?", (int(dataset_id),)).fetchone()[0]
            if n_runs:
                raise WorkspaceError(f"Dataset {dataset_id} is used by {n_runs} run(s); delete those runs first.")
            db.execute("DELETE FROM datasets WHERE id = ?", (int(dataset_id),))
        _remove_tree(self.folder / "datasets" / key)

    # --- runs -----------------------------------------------------------------------------------------------------
    def save_run(self, dataset_id: int, result: SegmentationResult, names: Mapping[int, str] | None = None) -> int:
        """Keep a finished run of ``dataset_id`` with optional segment names; returns the new run id.

        The run appears only once every file is in place and the database row is
        committed, so an interrupted save leaves the project as it was.
        """
        with self._read() as db:
            name, key = self._row(db, "SELECT name, folder FROM datasets WHERE id = ?", dataset_id, "dataset")
        stored = self._dataset_table(key, name)
        index = result.table.index
        own_table = not _is_slice_of(result.table, stored)
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
                extra[field.name] = _encode(value)
            except TypeError as exc:
                raise WorkspaceError(f"The run cannot be saved: its {field.name!r} cannot be stored ({exc}).") from exc
        details = {
            "roles": dict(result.roles), "columns": [str(c) for c in result.table.columns],
            "own_table": own_table, "feature_names": list(result.feature_names),
            "feature_recipe": dict(result.feature_recipe), "text_state": text_json, "extra": extra,
        }
        try:
            profiles_text = json.dumps(_encode(tuple(result.profiles)), ensure_ascii=False)
        except TypeError as exc:
            raise WorkspaceError(f"The run cannot be saved: its profiles hold a value that cannot be stored "
                                 f"({exc}).") from exc
        metrics = dict(result.metrics)
        timings = {k: float(v) for k, v in result.timings.items()}
        values = {
            "dataset_id": int(dataset_id), "created": time.time(), "data_digest": result.data_digest,
            "version": result.version, "config_json": result.config.to_json(),
            "algorithm": result.config.cluster.algorithm, "n_customers": len(result.labels),
            "n_segments": int(result.n_segments), "silhouette": _finite_or_none(metrics.get("silhouette")),
            "noise_share": _finite_or_none(metrics.get("noise_share")), "seconds": float(sum(timings.values())),
            "metrics_json": _dumps(metrics, "run metrics"), "timings_json": _dumps(timings, "run timings"),
            "notes_json": _dumps(list(result.notes), "run notes"), "details_json": _dumps(details, "run details"),
        }
        segment_names = {int(k): str(v) for k, v in (names or {}).items()}

        run_key = _new_key()
        folder = self.folder / "runs" / run_key
        try:
            folder.mkdir(parents=True)
            if own_table:
                _write_parquet(result.table, folder / "table.parquet", "table of the run")
            _write_parquet(pd.DataFrame({"row_id": pd.array([str(v) for v in result.row_ids], dtype="string"),
                                         "text": pd.array([str(v) for v in result.texts], dtype="string")}),
                           folder / "rows.parquet", "customer ids and texts of the run")
            _write_bytes(folder / "profiles.json", profiles_text.encode("utf-8"))
            _write_atomic(folder / "arrays.npz", lambda temp: _save_npz(temp, arrays))
            return self._commit_run(run_key, values, segment_names)
        except OSError as exc:
            _remove_tree(folder)
            raise WorkspaceError(f"The run cannot be saved in the {self._label.removeprefix('The ')} ({exc}). "
                                 "Check that the disk has free space.") from exc
        except BaseException:
            _remove_tree(folder)
            raise

    def _commit_run(self, run_key: str, values: Mapping[str, Any], names: Mapping[int, str]) -> int:
        """The one step that makes a saved run visible: its files are already in place."""
        with self._write() as db:
            columns = ", ".join(values)
            marks = ", ".join("?" * len(values))
            cursor = db.execute(f"INSERT INTO runs (folder, {columns}) VALUES (?, {marks})",
                                (run_key, *values.values()))
            run_id = int(cursor.lastrowid)
            db.executemany("INSERT INTO segment_texts (run_id, segment, name) VALUES (?, ?, ?)",
                           [(run_id, segment, name) for segment, name in sorted(names.items())])
        return run_id

    def runs(self) -> list[RunInfo]:
        """The project's runs, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT id, created, dataset_id, algorithm, n_customers, n_segments, silhouette, "
                              "noise_share, seconds, note FROM runs ORDER BY id").fetchall()
        return [RunInfo(int(r[0]), _when(r[1]), int(r[2]), r[3], int(r[4]), int(r[5]),
                        None if r[6] is None else float(r[6]), float(r[7] or 0.0), float(r[8]), r[9])
                for r in rows]

    def load_run(self, run_id: int) -> SegmentationResult:
        """The run exactly as saved: labels, map, cluster space, metrics, profiles, config and table."""
        from segmentation.pipeline import SegmentationResult

        with self._read() as db:
            row = self._row(db, "SELECT r.folder, r.data_digest, r.version, r.config_json, r.metrics_json, "
                                "r.timings_json, r.notes_json, r.details_json, d.folder, d.name "
                                "FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?", run_id, "run")
        key, digest, version, config_json, metrics_json, timings_json, notes_json, details_json, dkey, dname = row
        what = f"run {run_id} of {self._label.removeprefix('The ')}"
        folder = self.folder / "runs" / key
        details = _loads(details_json, f"details of {what}")
        arrays = _load_npz(folder / "arrays.npz", what)
        rows = arrays["rows"]
        if details["own_table"]:
            table = _read_parquet(folder / "table.parquet", f"table of {what}")
            table.index = pd.Index(rows)
        else:
            stored = self._dataset_table(dkey, dname)
            if len(rows) and (rows.min() < 0 or rows.max() >= len(stored)):
                raise WorkspaceError(f"The {what} is damaged: it refers to rows its dataset does not have.")
            table = stored.loc[rows, details["columns"]]
        row_frame = _read_parquet(folder / "rows.parquet", f"customer ids of {what}")
        n = len(arrays["labels"])
        if not (len(table) == len(row_frame) == n == len(arrays["coords"]) == len(arrays["embedding"])):
            raise WorkspaceError(f"The {what} is damaged: its files disagree on the number of customers.")
        text_state = _join_arrays(details["text_state"], {k.removeprefix(_TEXT_STATE_PREFIX): v
                                                          for k, v in arrays.items()
                                                          if k.startswith(_TEXT_STATE_PREFIX)})
        try:
            config = RunConfig.from_json(config_json)
        except ConfigError as exc:
            raise WorkspaceError(f"The settings of {what} cannot be read: {exc}") from exc
        profiles_path = folder / "profiles.json"
        try:
            profiles = tuple(_decode(_loads(profiles_path.read_text(encoding="utf-8"), f"profiles of {what}")))
            known = {f.name for f in dataclasses.fields(SegmentationResult) if f.init}
            extra = {k: _decode(v) for k, v in details.get("extra", {}).items() if k in known}
            extra.update({k.removeprefix(_EXTRA_PREFIX): v for k, v in arrays.items()
                          if k.startswith(_EXTRA_PREFIX) and k.removeprefix(_EXTRA_PREFIX) in known})
        except FileNotFoundError as exc:
            raise WorkspaceError(f"The {what} is missing its file {profiles_path}.") from exc
        except (KeyError, TypeError, ValueError, AttributeError, ImportError) as exc:
            raise WorkspaceError(f"The profiles of {what} are damaged or from another version ({exc}).") from exc
        return SegmentationResult(
            config=config, data_digest=digest, table=table, roles=dict(details["roles"]),
            row_ids=np.asarray(row_frame["row_id"].fillna("").tolist(), dtype=str),
            texts=np.asarray(row_frame["text"].fillna("").tolist(), dtype=object),
            features=arrays["features"], embedding=arrays["embedding"], coords=arrays["coords"],
            labels=arrays["labels"], confidence=arrays["confidence"],
            metrics=_loads(metrics_json, f"metrics of {what}"), profiles=profiles,
            feature_names=tuple(details["feature_names"]), timings=_loads(timings_json, f"timings of {what}"),
            notes=tuple(_loads(notes_json, f"notes of {what}")), feature_recipe=details["feature_recipe"],
            text_state=text_state, version=version, **extra,
        )

    def delete_run(self, run_id: int) -> None:
        """Delete a run with its segment names, notes and curation steps; its saved models are kept."""
        with self._write() as db:
            (key,) = self._row(db, "SELECT folder FROM runs WHERE id = ?", run_id, "run")
            db.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))
        _remove_tree(self.folder / "runs" / key)

    def set_run_note(self, run_id: int, note: str) -> None:
        """The analyst's note on a whole run (shown next to it in the run list)."""
        with self._write() as db:
            self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
            db.execute("UPDATE runs SET note = ? WHERE id = ?", (str(note), int(run_id)))

    # --- the analyst's texts and curation -------------------------------------------------------------------------
    def set_segment_text(self, run_id: int, segment: int, name: str | None = None, description: str | None = None,
                         notes: str | None = None) -> None:
        """Set a segment's name, description or notes; ``None`` leaves a field as it is, "" clears it."""
        changes = {k: str(v) for k, v in (("name", name), ("description", description), ("notes", notes))
                   if v is not None}
        with self._write() as db:
            self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
            db.execute("INSERT INTO segment_texts (run_id, segment) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       (int(run_id), int(segment)))
            for field_name, value in changes.items():
                db.execute(f"UPDATE segment_texts SET {field_name} = ? WHERE run_id = ? AND segment = ?",
                           (value, int(run_id), int(segment)))

    def segment_texts(self, run_id: int) -> dict[int, dict[str, str]]:
        """segment -> {"name", "description", "notes"} for the segments the analyst wrote about."""
        with self._read() as db:
            self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
            rows = db.execute("SELECT segment, name, description, notes FROM segment_texts WHERE run_id = ? "
                              "ORDER BY segment", (int(run_id),)).fetchall()
        return {int(r[0]): dict(zip(_TEXT_FIELDS, r[1:])) for r in rows}

    def segment_names(self, run_id: int) -> dict[int, str]:
        """segment -> the analyst's name, for exports and profiles (segments without a name left out)."""
        return {segment: texts["name"] for segment, texts in self.segment_texts(run_id).items() if texts["name"]}

    def set_curation(self, run_id: int, steps: Sequence[Mapping[str, Any]]) -> None:
        """Replace the run's curation steps (merges, splits, moves...) with ``steps`` (JSON-able dicts)."""
        text = _dumps([dict(step) for step in steps], "curation steps")
        with self._write() as db:
            self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
            db.execute("UPDATE runs SET curation_json = ? WHERE id = ?", (text, int(run_id)))

    def curation(self, run_id: int) -> list[dict[str, Any]]:
        with self._read() as db:
            (text,) = self._row(db, "SELECT curation_json FROM runs WHERE id = ?", run_id, "run")
        return list(_loads(text, "curation steps"))

    # --- models ---------------------------------------------------------------------------------------------------
    def save_model_bytes(self, run_id: int | None, name: str, data: bytes) -> int:
        """Keep a model file's bytes (opaque here) made from ``run_id``; returns the model id."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ConfigError(f"A model must be given as bytes. Got {type(data).__name__} instead.")
        key = f"{_new_key()}.bin"
        (self.folder / "models").mkdir(exist_ok=True)
        path = self.folder / "models" / key
        try:
            _write_bytes(path, bytes(data))
            with self._write() as db:
                if run_id is not None:
                    self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
                cursor = db.execute("INSERT INTO models (run_id, name, file, size_bytes, created) "
                                    "VALUES (?, ?, ?, ?, ?)",
                                    (None if run_id is None else int(run_id), str(name), key, len(data), time.time()))
                return int(cursor.lastrowid)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise WorkspaceError(f"The model cannot be saved ({exc}). Check that the disk has free space.") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def models(self) -> list[ModelInfo]:
        with self._read() as db:
            rows = db.execute("SELECT id, run_id, name, created, size_bytes FROM models ORDER BY id").fetchall()
        return [ModelInfo(int(r[0]), None if r[1] is None else int(r[1]), r[2], _when(r[3]), int(r[4])) for r in rows]

    def load_model_bytes(self, model_id: int) -> bytes:
        with self._read() as db:
            (key,) = self._row(db, "SELECT file FROM models WHERE id = ?", model_id, "model")
        try:
            return (self.folder / "models" / key).read_bytes()
        except OSError as exc:
            raise WorkspaceError(f"Model {model_id} of the {self._label.removeprefix('The ')} cannot be read "
                                 f"({exc}).") from exc

    def delete_model(self, model_id: int) -> None:
        with self._write() as db:
            (key,) = self._row(db, "SELECT file FROM models WHERE id = ?", model_id, "model")
            db.execute("DELETE FROM models WHERE id = ?", (int(model_id),))
        (self.folder / "models" / key).unlink(missing_ok=True)

    # --- UI state -------------------------------------------------------------------------------------------------
    def set_ui_state(self, state: Mapping[str, Any]) -> None:
        """Where the analyst was (page, run id, widget choices), so that a refresh lands there again.

        Not counted as a change of the project (the home page's "last change").
        """
        text = _dumps(dict(state), "UI state")
        if len(text.encode()) > MAX_UI_STATE_BYTES:
            raise ConfigError(f"The UI state is {len(text.encode()):,} bytes; keep it under "
                              f"{MAX_UI_STATE_BYTES:,} (store choices, not data).")
        self._set_meta("ui_state", text, touch=False)

    def ui_state(self) -> dict[str, Any]:
        with self._read() as db:
            text = _meta(db).get("ui_state", "{}")
        state = _loads(text, "UI state")
        return state if isinstance(state, dict) else {}

    # --- storage --------------------------------------------------------------------------------------------------
    def size_bytes(self) -> int:
        """Bytes this project uses on disk."""
        return _folder_size(self.folder)

    def integrity_check(self) -> str:
        """SQLite's own check of the project database: "ok" when sound."""
        with self._read() as db:
            return "; ".join(str(r[0]) for r in db.execute("PRAGMA integrity_check"))

    def tidy(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove files no row refers to (left by interrupted saves) older than ``min_age_s``; returns bytes freed."""
        with self._read() as db:
            known = {("datasets", r[0]) for r in db.execute("SELECT folder FROM datasets")}
            known |= {("runs", r[0]) for r in db.execute("SELECT folder FROM runs")}
            known |= {("models", r[0]) for r in db.execute("SELECT file FROM models")}
        freed = 0
        for kind in ("datasets", "runs", "models"):
            parent = self.folder / kind
            if not parent.is_dir():
                continue
            for item in parent.iterdir():
                stem = item.name.removesuffix(".bin")
                ours = _FOLDER_KEY.match(stem) or (item.name.startswith(".") and ".tmp-" in item.name)
                if not ours or (kind, item.name) in known or _age_s(item) < min_age_s or item.is_symlink():
                    continue
                if item.is_dir():
                    freed += _folder_size(item)
                    _remove_tree(item)
                else:
                    freed += item.stat().st_size
                    item.unlink(missing_ok=True)
        return freed


# --------------------------------------------------------------------------------------------------------------------
# Run pieces: arrays, profiles, text state
# --------------------------------------------------------------------------------------------------------------------
def _check_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    clean = {}
    for column, role in overrides.items():
        if role not in ROLES:
            raise ConfigError(f"The role of column {column!r} must be one of {', '.join(map(repr, ROLES))}. "
                              f"Got {role!r} instead.")
        clean[str(column)] = str(role)
    return clean


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


def _save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _load_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError as exc:
        raise WorkspaceError(f"The {what} is missing its file {path}. Delete the run and segment again.") from exc
    except (OSError, ValueError, EOFError) as exc:  # ValueError also covers arrays that would need pickle
        reason = "it holds Python objects, which are never read with pickle" if "pickle" in str(exc) else str(exc)
        raise WorkspaceError(f"The {what} is damaged: {path} is not a readable array file ({reason}).") from exc
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise WorkspaceError(f"The {what} is damaged: {path} lacks {', '.join(missing)}.")
    return arrays


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


# Profiles (and any field a later SegmentationResult adds) are stored as tagged JSON. Only dataclasses defined in
# the library's own result modules are rebuilt, by name, and only with the fields this version knows: stored
# data never chooses what code runs.
_REBUILDABLE_MODULES = ("segmentation.understand.profile", "segmentation.pipeline", "segmentation.understand.metrics")


def _encode(value: Any) -> Any:
    """A JSON-ready, tagged form of tuples, dicts, data frames and the library's frozen dataclasses."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {"__frame__": {
            "columns": [_encode(c) for c in value.columns], "dtypes": [str(t) for t in value.dtypes],
            "data": [[_encode(v) for v in row] for row in value.itertuples(index=False, name=None)],
            "index": None if value.index.equals(pd.RangeIndex(len(value))) else _encode(value.index.tolist()),
        }}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__tuple__": [_encode(v) for v in value.tolist()]}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__dataclass__": type(value).__name__, "module": type(value).__module__,
                "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode(v) for k, v in value.items()}}
        return {"__pairs__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(f"{type(value).__name__} cannot be stored")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__pairs__" in value:
        return {_decode(k): _decode(v) for k, v in value["__pairs__"]}
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
    columns = [_decode(c) for c in data["columns"]]
    frame = pd.DataFrame([[_decode(v) for v in row] for row in data["data"]], columns=columns)
    for position, dtype in enumerate(data["dtypes"]):
        column = frame.iloc[:, position]
        if str(column.dtype) != dtype:
            try:
                frame.isetitem(position, column.astype(dtype))
            except (TypeError, ValueError):
                pass  # keep what JSON gave back rather than refuse the run
    if data.get("index") is not None:
        frame.index = pd.Index(_decode(data["index"]))
    return frame


def _decode_dataclass(value: Mapping[str, Any]) -> Any:
    import importlib

    module_name, class_name = value.get("module"), value["__dataclass__"]
    if module_name not in _REBUILDABLE_MODULES:
        raise ValueError(f"a stored {class_name} from {module_name!r} is not one of Segment Studio's results")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"this version has no result type {class_name!r}")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: _decode(v) for k, v in value["fields"].items() if k in known})


# --------------------------------------------------------------------------------------------------------------------
# For the CLI and the settings page
# --------------------------------------------------------------------------------------------------------------------
def record_cli_run(workspace: Workspace, project_name: str, dataset: io.Dataset, result: SegmentationResult,
                   role_overrides: Mapping[str, str] | None = None) -> int:
    """Save a command-line run into ``project_name`` (created if needed; the dataset added if new); returns its id."""
    try:
        project = workspace.open_project(project_name)
    except WorkspaceError:
        try:
            project = workspace.create_project(project_name)
        except WorkspaceError:  # created meanwhile by another command or window
            project = workspace.open_project(project_name)
    dataset_id = project.add_dataset(dataset, role_overrides)
    return project.save_run(dataset_id, result)


def cache_size_bytes(root: str | os.PathLike[str] | None = None) -> int:
    """Bytes used by the caches shared by every project (embeddings by content)."""
    return _folder_size(cache_dir(root))


def clear_embedding_cache(root: str | os.PathLike[str] | None = None) -> int:
    """Empty the shared embedding cache; returns the bytes freed. Texts are embedded again when next needed."""
    from segmentation.represent.embed import EmbeddingCache

    before = cache_size_bytes(root)
    path = cache_dir(root) / "embeddings.sqlite"
    if path.exists():
        try:
            EmbeddingCache(path).clear()
        except sqlite3.Error as exc:
            raise WorkspaceError(f"The embedding cache {path} cannot be cleared ({exc}). Close other windows "
                                 "that are segmenting, or delete the file by hand.") from exc
    return max(before - cache_size_bytes(root), 0)


def format_size(n_bytes: int) -> str:
    """Bytes for people: '850 B', '12.3 kB', '4.5 MB', '1.2 GB'."""
    size = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
