"""One project: its datasets, runs, the analyst's segment texts and curation, models and UI state.

Layout of a project folder::

    project.sqlite        datasets, runs, segment texts, models, UI state (one database per project,
                          so a damaged file hides one project, not the workspace)
    datasets/<key>/       table.parquet (+ rejected.parquet)
    runs/<key>/           see segmentation.store.runs
    models/<key>.bin      saved model files, bytes as given

Files are written first, then the database row that refers to them is committed (one
transaction per write method): a save killed halfway leaves an unreferenced folder that
nobody sees and that :meth:`Project.tidy` removes later.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from segmentation.errors import ConfigError, WorkspaceError
from segmentation.lazy import lazy
from segmentation.store.codec import dumps, loads
from segmentation.store.database import PROJECT_FILE, PROJECT_FORMAT, read_meta, stored_time, transaction
from segmentation.store.datasets import DatasetInfo, check_overrides, report_from_json, report_to_json, shares_columns
from segmentation.store.files import (
    ORPHAN_AGE_S,
    age_s,
    folder_size,
    new_key,
    read_parquet,
    remove_tree,
    write_bytes,
    write_parquet,
)
from segmentation.store.runs import pack_run, read_run, write_run_files

pd = lazy("pandas")
io = lazy("segmentation.ingest.read")

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

MAX_UI_STATE_BYTES = 1_000_000
WRITE_ADVICE = "Check that the disk has free space and that the folder is writable."
_FOLDER_KEY = re.compile(r"^[0-9a-f]{16}$")
_TEXT_FIELDS = ("name", "description", "notes")


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


class ProjectIndex(Protocol):
    """What a project needs from its workspace (:class:`segmentation.store.workspace.Workspace`)."""

    def project_folder(self, project_id: str) -> Path: ...

    def name_of(self, project_id: str) -> str | None: ...


class Project:
    """One project: its datasets, runs, the analyst's segment names and notes, curation steps, models, UI state.

    Obtain it from :class:`segmentation.store.workspace.Workspace`. Each write method is one
    transaction; the object holds no connection and may be shared by threads.
    """

    def __init__(self, workspace: ProjectIndex, project_id: str, name: str | None = None) -> None:
        self.workspace = workspace
        self.id = project_id
        self.folder = workspace.project_folder(project_id)
        self.db_path = self.folder / PROJECT_FILE
        self._label = f"The project {name or project_id!r}"
        self._tables: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        with self._read() as db:
            meta = read_meta(db)
        if meta.get("format") != PROJECT_FORMAT:
            raise WorkspaceError(f"{self._label} is damaged: {self.db_path} is not a Segment Studio project. "
                                 "Other projects are not affected.")
        self._label = f"The project {meta.get('name', project_id)!r}"

    def __repr__(self) -> str:
        return f"Project(id={self.id!r}, folder={str(self.folder)!r})"

    @property
    def name(self) -> str:
        """The current name (read from the workspace index, so a rename elsewhere is seen at once)."""
        name = self.workspace.name_of(self.id)
        if name is None:
            raise WorkspaceError(f"{self._label} has been deleted.")
        return name

    def keep_name(self, name: str) -> None:
        """Store the project's own copy of its name, from which a lost workspace index is rebuilt."""
        self._set_meta("name", name, touch=True)

    # --- transactions ---------------------------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.db_path, self._label, write=False) as db:
            yield db

    @contextmanager
    def _write(self, touch: bool = True) -> Iterator[sqlite3.Connection]:
        with transaction(self.db_path, self._label, write=True) as db:
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
        overrides = check_overrides(role_overrides or {})
        with self._read() as db:
            row = db.execute("SELECT id FROM datasets WHERE digest = ?", (dataset.digest,)).fetchone()
        if row is not None:
            if role_overrides is not None:
                self.set_role_overrides(int(row[0]), overrides)
            return int(row[0])
        key = new_key()
        folder = self.folder / "datasets" / key
        try:
            folder.mkdir(parents=True)
            as_text = write_parquet(dataset.table, folder / "table.parquet", f"dataset {dataset.name!r}")
            if len(dataset.report.rejected):
                write_parquet(dataset.report.rejected, folder / "rejected.parquet", "list of rejected rows")
            stored_report = report_to_json(dataset, as_text)
            with self._write() as db:
                cursor = db.execute(
                    "INSERT INTO datasets (name, digest, folder, created, n_rows, n_columns, report_json, "
                    "role_overrides_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(digest) DO NOTHING",
                    (dataset.name, dataset.digest, key, time.time(), len(dataset.table), len(dataset.table.columns),
                     dumps(stored_report, "load report"), dumps(overrides, "column roles")))
                if cursor.rowcount == 0:  # another window added the same file meanwhile
                    dataset_id = int(db.execute("SELECT id FROM datasets WHERE digest = ?",
                                                (dataset.digest,)).fetchone()[0])
                    duplicate = True
                else:
                    dataset_id, duplicate = int(cursor.lastrowid), False
        except OSError as exc:
            remove_tree(folder)
            raise WorkspaceError(f"The dataset {dataset.name!r} cannot be saved in the "
                                 f"{self._label.removeprefix('The ')} ({exc}). {WRITE_ADVICE}") from exc
        except BaseException:
            remove_tree(folder)
            raise
        if duplicate:
            remove_tree(folder)
            if role_overrides is not None:
                self.set_role_overrides(dataset_id, overrides)
        return dataset_id

    def datasets(self) -> list[DatasetInfo]:
        """The project's datasets, oldest first, each with its column names and number of runs."""
        with self._read() as db:
            rows = db.execute("SELECT d.id, d.name, d.digest, d.created, d.n_rows, d.n_columns, d.report_json, "
                              "d.role_overrides_json, d.folder, "
                              "(SELECT count(*) FROM runs r WHERE r.dataset_id = d.id) "
                              "FROM datasets d ORDER BY d.id").fetchall()
        infos = []
        for r in rows:
            report = loads(r[6], "load report")
            columns = report.get("columns")
            if columns is None:  # kept before column names were stored: read them from the table's schema
                columns = self._stored_columns(r[8], r[1])
            infos.append(DatasetInfo(int(r[0]), r[1], r[2], stored_time(r[3]), int(r[4]), int(r[5]),
                                     tuple(report.get("summary", ())), loads(r[7], "column roles"),
                                     tuple(map(str, columns)), int(r[9])))
        return infos

    def _stored_columns(self, key: str, name: str) -> list[str]:
        try:
            import pyarrow.parquet as pq

            return list(pq.read_schema(self.folder / "datasets" / key / "table.parquet").names)
        except Exception:  # noqa: BLE001 - a damaged table is reported when it is loaded, not when it is listed
            return []

    def find_dataset(self, name_or_id: str | int) -> DatasetInfo:
        """The dataset with this id, or this name (any case); raises WorkspaceError listing the datasets when there
        is none, or when several share the name (then give the id)."""
        infos = self.datasets()
        key = str(name_or_id).strip()
        found = [d for d in infos if str(d.id) == key] or [d for d in infos if d.name.casefold() == key.casefold()]
        if len(found) == 1:
            return found[0]
        listing = "; ".join(f"{d.id}: {d.name!r}" for d in infos) or "none yet"
        if found:
            raise WorkspaceError(f"{len(found)} datasets of the {self._label.removeprefix('The ')} are called "
                                 f"{key!r}; give the id instead ({listing}).")
        raise WorkspaceError(f"The {self._label.removeprefix('The ')} has no dataset {key!r}. Its datasets: {listing}.")

    def dataset_by_digest(self, digest: str) -> int | None:
        """The id of the dataset loaded from the file with this digest, or None when the project lacks it."""
        with self._read() as db:
            row = db.execute("SELECT id FROM datasets WHERE digest = ?", (str(digest),)).fetchone()
        return None if row is None else int(row[0])

    def shares_columns(self, columns: Sequence[str]) -> bool:
        """Whether a table with these columns has a column name in common with one of the project's datasets
        (the app then suggests adding a new file to this project rather than starting another one)."""
        return shares_columns(self.datasets(), columns)

    def active(self) -> tuple[int | None, int | None]:
        """(dataset id, run id) the analyst last looked at (see :meth:`switch_dataset`); when none was chosen, or
        it was removed: the dataset of the latest run and that run, else the latest dataset. (None, None) when
        the project holds no data."""
        with self._read() as db:
            chosen = loads(read_meta(db).get("ui_state", "{}"), "UI state")
            datasets = [int(r[0]) for r in db.execute("SELECT id FROM datasets ORDER BY id")]
            runs = [(int(r[0]), int(r[1])) for r in db.execute("SELECT id, dataset_id FROM runs ORDER BY id")]
        chosen = chosen if isinstance(chosen, dict) else {}
        dataset_id = chosen.get("dataset_id")
        if dataset_id not in datasets:
            if runs:
                return runs[-1][1], runs[-1][0]
            return (datasets[-1] if datasets else None), None
        own_runs = [run for run, on in runs if on == dataset_id]
        run_id = chosen.get("run")
        return int(dataset_id), (run_id if run_id in own_runs else (own_runs[-1] if own_runs else None))

    def switch_dataset(self, dataset_id: int, run_id: int | None = None) -> int | None:
        """Make ``dataset_id`` the active dataset, showing ``run_id`` (one of its runs) or by default its latest
        run; returns the run shown (None when the dataset has no run yet). Kept in the UI state's
        ``"dataset_id"`` and ``"run"``, so the app opens the project there; not counted as a change."""
        with self._read() as db:
            self._row(db, "SELECT id FROM datasets WHERE id = ?", dataset_id, "dataset")
            own_runs = [int(r[0]) for r in db.execute("SELECT id FROM runs WHERE dataset_id = ? ORDER BY id",
                                                      (int(dataset_id),))]
        if run_id is not None and int(run_id) not in own_runs:
            raise WorkspaceError(f"Run {run_id} was not made on dataset {dataset_id} of the "
                                 f"{self._label.removeprefix('The ')}; its runs are "
                                 f"{', '.join(map(str, own_runs)) or 'none yet'}.")
        shown = int(run_id) if run_id is not None else (own_runs[-1] if own_runs else None)
        self.set_ui_state({**self.ui_state(), "dataset_id": int(dataset_id), "run": shown})
        return shown

    def remove_dataset(self, dataset_id: int) -> int:
        """Remove a dataset with its runs, their segment names, notes and curation (models made from them are
        kept, no longer linked to a run); returns the bytes freed. The project's only dataset is refused: delete
        the project instead. The app asks the analyst first; this does not."""
        with self._read() as db:
            name, key = self._row(db, "SELECT name, folder FROM datasets WHERE id = ?", dataset_id, "dataset")
        with self._write() as db:
            if db.execute("SELECT count(*) FROM datasets").fetchone()[0] <= 1:
                raise WorkspaceError(f"The dataset {name!r} is the only one in the {self._label.removeprefix('The ')}"
                                     " and cannot be removed. Delete the project instead (on Home, or python -m "
                                     "segmentation projects delete NAME --yes).")
            run_keys = [r[0] for r in db.execute("SELECT folder FROM runs WHERE dataset_id = ?", (int(dataset_id),))]
            db.execute("DELETE FROM runs WHERE dataset_id = ?", (int(dataset_id),))
            db.execute("DELETE FROM datasets WHERE id = ?", (int(dataset_id),))
        with self._lock:
            self._tables.pop(key, None)
        folders = [self.folder / "datasets" / key] + [self.folder / "runs" / k for k in run_keys]
        freed = sum(folder_size(f) for f in folders if f.is_dir())
        for folder in folders:  # rows first, files after: a removal cut short leaves files tidy() removes
            remove_tree(folder)
        return freed

    def load_dataset(self, dataset_id: int) -> io.Dataset:
        """The dataset as it was loaded: same table, name, digest and load report."""
        with self._read() as db:
            name, digest, key, report_json = self._row(
                db, "SELECT name, digest, folder, report_json FROM datasets WHERE id = ?", dataset_id, "dataset")
        rejected_path = self.folder / "datasets" / key / "rejected.parquet"
        rejected = read_parquet(rejected_path, f"list of rejected rows of dataset {name!r}") \
            if rejected_path.exists() else None
        report = report_from_json(loads(report_json, "load report"), rejected)
        table = self._dataset_table(key, name).copy(deep=False)
        return io.Dataset(table=table, name=name, digest=digest, report=report)

    def _dataset_table(self, key: str, name: str) -> pd.DataFrame:
        """The stored table, kept for the two most recent datasets (their files never change)."""
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        table = read_parquet(self.folder / "datasets" / key / "table.parquet", f"dataset {name!r}")
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > 2:
                self._tables.popitem(last=False)
        return table

    def set_role_overrides(self, dataset_id: int, overrides: Mapping[str, str]) -> None:
        """Replace the analyst's column-role overrides for a dataset (column -> role in ``config.ROLES``)."""
        clean = check_overrides(overrides)
        with self._write() as db:
            self._row(db, "SELECT id FROM datasets WHERE id = ?", dataset_id, "dataset")
            db.execute("UPDATE datasets SET role_overrides_json = ? WHERE id = ?",
                       (dumps(clean, "column roles"), int(dataset_id)))

    # --- runs -----------------------------------------------------------------------------------------------------
    def save_run(self, dataset_id: int, result: SegmentationResult, names: Mapping[int, str] | None = None) -> int:
        """Keep a finished run of ``dataset_id`` with optional segment names; returns the new run id.

        The run appears only once every file is in place and the database row is
        committed, so an interrupted save leaves the project as it was.
        """
        with self._read() as db:
            name, key = self._row(db, "SELECT name, folder FROM datasets WHERE id = ?", dataset_id, "dataset")
        packed = pack_run(result, self._dataset_table(key, name))
        values = {"dataset_id": int(dataset_id), "created": time.time(), **packed.row}
        segment_names = {int(k): str(v) for k, v in (names or {}).items()}
        run_key = new_key()
        folder = self.folder / "runs" / run_key
        try:
            folder.mkdir(parents=True)
            write_run_files(folder, result, packed)
            return self._commit_run(run_key, values, segment_names)
        except OSError as exc:
            remove_tree(folder)
            raise WorkspaceError(f"The run cannot be saved in the {self._label.removeprefix('The ')} ({exc}). "
                                 f"{WRITE_ADVICE}") from exc
        except BaseException:
            remove_tree(folder)
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

    def runs(self, dataset_id: int | None = None) -> list[RunInfo]:
        """The project's runs, oldest first; with ``dataset_id`` only the runs made on that dataset."""
        where, args = ("WHERE dataset_id = ? ", (int(dataset_id),)) if dataset_id is not None else ("", ())
        with self._read() as db:
            if dataset_id is not None:
                self._row(db, "SELECT id FROM datasets WHERE id = ?", dataset_id, "dataset")
            rows = db.execute("SELECT id, created, dataset_id, algorithm, n_customers, n_segments, silhouette, "
                              f"noise_share, seconds, note FROM runs {where}ORDER BY id", args).fetchall()
        return [RunInfo(int(r[0]), stored_time(r[1]), int(r[2]), r[3], int(r[4]), int(r[5]),
                        None if r[6] is None else float(r[6]), float(r[7] or 0.0), float(r[8]), r[9])
                for r in rows]

    def load_run(self, run_id: int) -> SegmentationResult:
        """The run exactly as saved: labels, map, cluster space, metrics, profiles, config and table."""
        columns = ("folder", "data_digest", "version", "config_json", "metrics_json", "timings_json", "notes_json",
                   "details_json")
        with self._read() as db:
            row = self._row(db, f"SELECT {', '.join('r.' + c for c in columns)}, d.folder, d.name "
                                "FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?", run_id, "run")
        stored = dict(zip(columns, row))
        dataset_key, dataset_name = row[-2:]
        return read_run(self.folder / "runs" / stored["folder"], stored,
                        lambda: self._dataset_table(dataset_key, dataset_name),
                        f"run {run_id} of {self._label.removeprefix('The ')}")

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
        text = dumps([dict(step) for step in steps], "curation steps")
        with self._write() as db:
            self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
            db.execute("UPDATE runs SET curation_json = ? WHERE id = ?", (text, int(run_id)))

    def curation(self, run_id: int) -> list[dict[str, Any]]:
        """The run's curation steps, as :meth:`set_curation` was given them."""
        with self._read() as db:
            (text,) = self._row(db, "SELECT curation_json FROM runs WHERE id = ?", run_id, "run")
        return list(loads(text, "curation steps"))

    # --- models ---------------------------------------------------------------------------------------------------
    def save_model_bytes(self, run_id: int | None, name: str, data: bytes) -> int:
        """Keep a model file's bytes (opaque here) made from ``run_id``; returns the model id."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ConfigError(f"A model must be given as bytes. Got {type(data).__name__} instead.")
        key = f"{new_key()}.bin"
        (self.folder / "models").mkdir(exist_ok=True)
        path = self.folder / "models" / key
        try:
            write_bytes(path, bytes(data))
            with self._write() as db:
                if run_id is not None:
                    self._row(db, "SELECT id FROM runs WHERE id = ?", run_id, "run")
                cursor = db.execute("INSERT INTO models (run_id, name, file, size_bytes, created) "
                                    "VALUES (?, ?, ?, ?, ?)",
                                    (None if run_id is None else int(run_id), str(name), key, len(data), time.time()))
                return int(cursor.lastrowid)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise WorkspaceError(f"The model {str(name)!r} cannot be saved in the {self._label.removeprefix('The ')} "
                                 f"({exc}). {WRITE_ADVICE}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def models(self) -> list[ModelInfo]:
        """The project's saved models, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT id, run_id, name, created, size_bytes FROM models ORDER BY id").fetchall()
        return [ModelInfo(int(r[0]), None if r[1] is None else int(r[1]), r[2], stored_time(r[3]), int(r[4]))
                for r in rows]

    def load_model_bytes(self, model_id: int) -> bytes:
        """The bytes of a saved model file, exactly as given to :meth:`save_model_bytes`."""
        with self._read() as db:
            (key,) = self._row(db, "SELECT file FROM models WHERE id = ?", model_id, "model")
        try:
            return (self.folder / "models" / key).read_bytes()
        except OSError as exc:
            raise WorkspaceError(f"Model {model_id} of the {self._label.removeprefix('The ')} cannot be read "
                                 f"({exc}).") from exc

    # --- UI state -------------------------------------------------------------------------------------------------
    def set_ui_state(self, state: Mapping[str, Any]) -> None:
        """Where the analyst was (page, run id, widget choices), so that a refresh lands there again.

        Not counted as a change of the project (the home page's "last change").
        """
        text = dumps(dict(state), "UI state")
        if len(text.encode()) > MAX_UI_STATE_BYTES:
            raise ConfigError(f"The UI state is {len(text.encode()):,} bytes; keep it under "
                              f"{MAX_UI_STATE_BYTES:,} (store choices, not data).")
        self._set_meta("ui_state", text, touch=False)

    def ui_state(self) -> dict[str, Any]:
        """The state last given to :meth:`set_ui_state` ({} when none)."""
        with self._read() as db:
            text = read_meta(db).get("ui_state", "{}")
        state = loads(text, "UI state")
        return state if isinstance(state, dict) else {}

    # --- storage --------------------------------------------------------------------------------------------------
    def size_bytes(self) -> int:
        """Bytes this project uses on disk."""
        return folder_size(self.folder)

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
                if not ours or (kind, item.name) in known or age_s(item) < min_age_s or item.is_symlink():
                    continue
                if item.is_dir():
                    freed += folder_size(item)
                    remove_tree(item)
                else:
                    freed += item.stat().st_size
                    item.unlink(missing_ok=True)
        return freed

