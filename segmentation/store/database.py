"""SQLite for the workspace index and the project databases: their tables, connections, transactions, errors.

SQLite in WAL mode with a busy timeout lets two browser tabs, threads or processes write
to the same database; writers take the lock up front (``BEGIN IMMEDIATE``), so a reader
never has to upgrade its lock and two writers never deadlock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from segmentation.errors import WorkspaceError

SCHEMA_VERSION = 1
"""Stored as ``PRAGMA user_version``; a newer file is refused rather than misread."""

BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another writer before giving up with a clear message."""

PROJECT_FILE = "project.sqlite"
PROJECT_FORMAT = "segment-studio-project"
"""Kept in a project database's ``meta`` table: an SQLite file without it is some other application's."""
INDEX_FORMAT = "segment-studio-workspace"
INDEX_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL)",
)
PROJECT_SCHEMA = (
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


def stored_time(seconds: float) -> datetime:
    """A time stored as seconds since the epoch, as an aware UTC datetime."""
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite's error means the file is not (or no longer) a readable database of ours."""
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "no such table", "encrypted"))


class DamagedDatabase(WorkspaceError):
    """The file is not (or no longer) a readable database of ours: the workspace index rebuilds itself from it."""


PROJECT_DAMAGE_ADVICE = ("Other projects are not affected. Restore this project's folder from a backup, "
                         "or delete the project.")
INDEX_DAMAGE_ADVICE = ("Your projects are not affected: try again, and restart Segment Studio if this persists "
                       "(the index is then rebuilt from the project folders).")


def translate(exc: sqlite3.Error, path: Path, what: str,
              damage_advice: str = PROJECT_DAMAGE_ADVICE) -> WorkspaceError:
    """SQLite's error as a message the analyst can act on; ``what`` names the database ("The project 'Acme'"),
    ``damage_advice`` says what to do when the file is damaged."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return WorkspaceError(f"{what} is busy: another window or command has been writing to it for more than "
                              f"{BUSY_TIMEOUT_S:.0f} s. Try again in a moment.")
    if is_damage(exc):
        return DamagedDatabase(f"{what} is damaged: {path} is not a readable Segment Studio database ({text}). "
                               f"{damage_advice}")
    if not path.exists():
        return WorkspaceError(f"{what} is missing its database file {path}. Restore the folder from a backup, "
                              "or delete the project.")
    return WorkspaceError(f"{what} could not be read or written ({text}; file {path}). Check that the disk has "
                          "free space and that the folder is writable.")


def connect(path: Path, create: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); ``create`` makes the file when missing."""
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def check_version(db: sqlite3.Connection, what: str) -> int:
    """The file's storage version (0: not one of ours yet); refuses files written by a newer Segment Studio."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise WorkspaceError(f"{what} was saved by a newer Segment Studio (storage version {version}; this one "
                             f"reads up to {SCHEMA_VERSION}). Update Segment Studio to open it; nothing was changed.")
    return version


@contextmanager
def transaction(path: Path, what: str, write: bool,
                damage_advice: str = PROJECT_DAMAGE_ADVICE) -> Iterator[sqlite3.Connection]:
    """One transaction on an existing database; writers take the write lock up front (no upgrade deadlocks)."""
    if not path.is_file():
        raise WorkspaceError(f"{what} is missing its database file {path}. Restore the folder from a backup, "
                             "or delete the project.")
    try:
        db = connect(path)
    except sqlite3.Error as exc:
        raise translate(exc, path, what, damage_advice) from exc
    try:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        if check_version(db, what) == 0:
            raise DamagedDatabase(f"{what} is not a Segment Studio database ({path}). Move the file away; "
                                  "other projects are not affected.")
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        rollback(db)
        raise translate(exc, path, what, damage_advice) from exc
    except BaseException:
        rollback(db)
        raise
    finally:
        db.close()


def rollback(db: sqlite3.Connection) -> None:
    """Roll back an open transaction, if any (errors ignored: the connection is closed next)."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    """The database's ``meta`` table (format, name, times, UI state) as a dict."""
    return dict(db.execute("SELECT key, value FROM meta").fetchall())


def create_project_db(path: Path, name: str, created: float) -> None:
    """Create an empty project database at ``path`` for a project called ``name``."""
    db = connect(path, create=True)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("BEGIN IMMEDIATE")
        for statement in PROJECT_SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("format", PROJECT_FORMAT), ("name", name), ("created", repr(created)),
                        ("updated", repr(created)), ("ui_state", "{}")])
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise
    finally:
        db.close()
