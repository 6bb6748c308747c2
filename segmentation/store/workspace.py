"""The workspace: the index of the analyst's projects on this machine.

Layout under the workspace root (``paths.home_dir()`` unless given)::

    workspace.sqlite                  index: project id, name (unique, case-insensitive), created
    projects/<id>/                    one folder per project (see segmentation.store.project)
    cache/                            embeddings shared by every project (``paths.cache_dir``)

The index holds only names, and is rebuilt from the project folders if it is lost or
damaged. Nothing is ever read with pickle: tables are Parquet, arrays ``.npz`` read with
``allow_pickle=False``, everything else JSON.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy
from segmentation.paths import cache_dir, home_dir
from segmentation.store.database import (
    INDEX_DAMAGE_ADVICE,
    INDEX_FORMAT,
    INDEX_SCHEMA,
    PROJECT_FILE,
    PROJECT_FORMAT,
    SCHEMA_VERSION,
    DamagedDatabase,
    check_version,
    connect,
    create_project_db,
    is_damage,
    read_meta,
    rollback,
    stored_time,
    transaction,
    translate,
)
from segmentation.store.files import ORPHAN_AGE_S, age_s, folder_size, link_or_copy, remove_tree
from segmentation.store.project import Project

io = lazy("segmentation.ingest.read")

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

MAX_NAME_LENGTH = 80
INDEX_FILE = "workspace.sqlite"
INDEX_LABEL = "The workspace index"
_PROJECT_ID = re.compile(r"^[0-9a-f]{12}$")
_TRASH_PREFIX = ".trash-"


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
        raise ConfigError("A project name must not contain line breaks, tabs or other control characters. "
                          "Type it again on one line, with spaces between words.")
    return clean


def _name_key(name: str) -> str:
    return name.casefold()


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
                if not is_damage(exc) or attempt == 2:
                    raise translate(exc, self.index_path, INDEX_LABEL, INDEX_DAMAGE_ADVICE) from exc
                self._move_index_aside(str(exc))
            except _ForeignIndex as exc:
                if attempt == 2:
                    raise WorkspaceError(str(exc)) from exc
                self._move_index_aside(str(exc))
        if created:
            self._rebuild_index()

    def _init_index(self) -> bool:
        """Create the index tables when missing; True when they were just created."""
        db = connect(self.index_path, create=True)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            version = check_version(db, f"The workspace index {self.index_path}")
            if version == 0:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise _ForeignIndex(f"{self.index_path} is not a Segment Studio workspace index")
                for statement in INDEX_SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('format', ?)", (INDEX_FORMAT,))
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif read_meta(db).get("format") != INDEX_FORMAT:
                raise _ForeignIndex(f"{self.index_path} is not a Segment Studio workspace index")
            db.execute("COMMIT")
            return version == 0
        except BaseException:
            rollback(db)
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
                with transaction(folder / PROJECT_FILE, "A project", write=False) as db:
                    meta = read_meta(db)
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
        """One transaction on the index. An index lost or damaged while this workspace is open (the app keeps
        it open for as long as it runs) is set aside and rebuilt from the project folders, as on opening."""
        if not self.index_path.is_file():
            self._open_index()
        entered = False
        try:
            with transaction(self.index_path, INDEX_LABEL, write, INDEX_DAMAGE_ADVICE) as db:
                entered = True
                yield db
            return
        except DamagedDatabase:
            if entered:  # found by the caller's own statements: rebuilding now could hide its half-done work
                raise
        self._open_index()
        with transaction(self.index_path, INDEX_LABEL, write, INDEX_DAMAGE_ADVICE) as db:
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
        """The folder of the project with id ``project_id`` (whether or not it exists)."""
        return self.projects_dir / project_id

    def name_of(self, project_id: str) -> str | None:
        """The current name of the project with id ``project_id``; None once it is deleted."""
        with self._index() as db:
            row = db.execute("SELECT name FROM projects WHERE id = ?", (project_id,)).fetchone()
        return None if row is None else str(row[0])

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
        size = folder_size(folder) if folder.is_dir() else 0
        try:
            with transaction(folder / PROJECT_FILE, f"The project {name!r}", write=False) as db:
                meta = read_meta(db)
                if meta.get("format") != PROJECT_FORMAT:
                    raise WorkspaceError(f"The project {name!r} is damaged: {folder / PROJECT_FILE} is not a "
                                         "Segment Studio project. Other projects are not affected.")
                n_datasets = db.execute("SELECT count(*) FROM datasets").fetchone()[0]
                n_runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
                best = db.execute("SELECT id, silhouette FROM runs WHERE silhouette IS NOT NULL "
                                  "ORDER BY silhouette DESC, id LIMIT 1").fetchone()
            updated = float(meta.get("updated", created))
        except WorkspaceError as error:
            return ProjectInfo(project_id, name, stored_time(created), stored_time(created), size, 0, 0, None,
                               str(error))
        return ProjectInfo(project_id, name, stored_time(created), stored_time(updated), size, int(n_datasets),
                           int(n_runs), (int(best[0]), float(best[1])) if best else None)

    def create_project(self, name: str) -> Project:
        """A new, empty project. Names are unique regardless of case."""
        name = check_project_name(name)
        self._refuse_taken(name)
        project_id = secrets.token_hex(6)
        folder = self.project_folder(project_id)
        created = time.time()
        try:
            folder.mkdir(parents=True)
            create_project_db(folder / PROJECT_FILE, name, created)
        except (OSError, sqlite3.Error) as exc:
            remove_tree(folder)
            raise WorkspaceError(f"The project {name!r} cannot be created in {self.projects_dir} ({exc}). Check "
                                 "that the disk has free space and that the folder is writable.") from exc
        self._register(project_id, name, created, folder)
        return Project(self, project_id)

    def _refuse_taken(self, name: str) -> None:
        with self._index() as db:
            row = db.execute("SELECT name FROM projects WHERE name_key = ?", (_name_key(name),)).fetchone()
        if row:
            raise WorkspaceError(f"A project called {row[0]!r} already exists. Choose another name, or open it.")

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
            remove_tree(folder)
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
            Project(self, project_id).keep_name(new)
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
                src = connect(source.db_path)
                dst = connect(target_db, create=True)
                try:
                    src.backup(dst)
                finally:
                    src.close()
                    dst.close()
            except sqlite3.Error as exc:
                raise translate(exc, source.db_path, f"The project {name!r}") from exc
            db = connect(target_db)
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
                rollback(db)
                db.close()
            for kind, key in folders:
                (folder / kind / key).mkdir(parents=True)
                for item in (source.folder / kind / key).iterdir():
                    link_or_copy(item, folder / kind / key / item.name)
            if files:
                (folder / "models").mkdir()
            for key in files:
                link_or_copy(source.folder / "models" / key, folder / "models" / key)
        except (OSError, sqlite3.Error) as exc:
            remove_tree(folder)
            raise WorkspaceError(f"The project {name!r} cannot be copied ({exc}). Check that the disk has free "
                                 "space and that the folder is writable, then try again.") from exc
        except BaseException:
            remove_tree(folder)
            raise
        self._register(project_id, new_name, created, folder)
        return Project(self, project_id)

    def delete_project(self, name: str) -> int:
        """Delete a project and its folder for good; returns the bytes freed. The app asks first."""
        project_id, _name = self._resolve(name)
        folder = self.project_folder(project_id)
        size = folder_size(folder) if folder.is_dir() else 0
        with self._index(write=True) as db:
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        trash = self.projects_dir / f"{_TRASH_PREFIX}{project_id}-{secrets.token_hex(2)}"
        try:
            os.replace(folder, trash)
        except OSError:
            trash = folder
        remove_tree(trash)
        return size

    # --- storage --------------------------------------------------------------------------------------------------
    def size_bytes(self) -> int:
        """Bytes used by all projects (not counting the shared embedding cache)."""
        return folder_size(self.projects_dir)

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
            if ours and folder.is_dir() and not folder.is_symlink() and age_s(folder) >= min_age_s:
                freed += folder_size(folder)
                remove_tree(folder)
        return freed

    def cache_size_bytes(self) -> int:
        """Bytes used by the caches shared by every project (embeddings by content)."""
        return folder_size(cache_dir(self.root))

    def clear_embedding_cache(self) -> int:
        """Empty the shared embedding cache (texts are embedded again when next needed); returns bytes freed."""
        from segmentation.represent.embed import EmbeddingCache

        before = self.cache_size_bytes()
        path = cache_dir(self.root) / "embeddings.sqlite"
        if path.exists():
            try:
                EmbeddingCache(path).clear()
            except sqlite3.Error as exc:
                raise WorkspaceError(f"The embedding cache {path} cannot be cleared ({exc}). Close other windows "
                                     "that are segmenting, or delete the file by hand.") from exc
        return max(before - self.cache_size_bytes(), 0)


class _ForeignIndex(Exception):
    """The index file is an SQLite database, but not ours."""


def _age_fallback(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:
        return time.time()


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


def format_size(n_bytes: int) -> str:
    """Bytes for people: '850 B', '12.3 kB', '4.5 MB', '1.2 GB'."""
    size = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
