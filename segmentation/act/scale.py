"""Scoring a whole customer base with a saved model: on this machine, or partition by partition on Ray.

Assigning customers to a saved model is embarrassingly parallel, so it runs on an
existing engine rather than a home-made one: Ray Data reads the input in
partitions, each worker loads the model once (a callable class in
``map_batches``), assigns its batches, and the results are written as Parquet.
Rows out are counted against rows in; a mismatch is an error, never a silent loss.
Every engine writes what ``SegmentModel.assign`` returns, so ``segment_id`` is the
segment's number as in every export (1, 2, …; -1 for Unassigned).

Ray is optional (``requirements-scale.txt``) and imported only when asked for.
The Ray engine reads plain CSV (comma-separated, UTF-8, header row; gzip allowed)
and Parquet, a single file or a folder of them; a folder of several files (or
large files) gives Ray partitions to spread over workers. For unusual CSV
dialects, convert the file with the local engine first, which uses the app's
tolerant loader.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation.act.assign import SegmentModel, load_model
from segmentation.errors import ConfigError, DataError, SegmentationError

ProgressFn = Callable[[str, float], None]

INSTALL_HINT = "Install requirements-scale.txt to use --engine ray (.venv/bin/pip install -r requirements-scale.txt)."
DEFAULT_BATCH_SIZE = 4096
"""Customers per batch: large enough to amortise the neighbour search, small enough to stay well under 1 GB."""

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_WORKER_ENV = ("SEGMENT_STUDIO_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "NUMBA_CACHE_DIR", "PYTHONHASHSEED",
               "RAY_USAGE_STATS_ENABLED")


@dataclass(frozen=True)
class ScoringSummary:
    """What a scoring run did: rows read and written, files written, time taken and the engine used."""

    rows_in: int
    rows_out: int
    files: tuple[str, ...]
    seconds: float
    engine: str
    workers: int

    @property
    def rows_per_second(self) -> float:
        return self.rows_out / self.seconds if self.seconds > 0 else float("nan")

    def summary_lines(self) -> list[str]:
        return [f"{self.rows_out:,} customers assigned in {self.seconds:.1f} s "
                f"({self.rows_per_second:,.0f} per second, {self.engine}, {self.workers} worker(s)).",
                f"Written to {len(self.files)} file(s)."]


# --------------------------------------------------------------------------- inputs
def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    return None


def input_files(path: str | os.PathLike) -> tuple[list[Path], str]:
    """The data files under ``path`` (a file or a folder) and their kind, "csv" or "parquet"."""
    source = Path(path)
    if not source.exists():
        raise DataError(f"The input {str(source)!r} does not exist. Give a CSV or Parquet file, or a folder of them.")
    if source.is_dir():
        files = sorted(f for f in source.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))
                       and _kind(f) is not None)
    else:
        files = [source]
    if not files:
        raise DataError(f"The folder {str(source)!r} holds no CSV or Parquet file.")
    kinds = {_kind(f) for f in files}
    if None in kinds:
        raise DataError(f"{str(files[0])!r} is neither CSV nor Parquet. Scoring at scale reads .csv, .csv.gz and "
                        ".parquet files.")
    if len(kinds) > 1:
        raise DataError(f"The folder {str(source)!r} mixes CSV and Parquet files. Keep one kind per folder.")
    return files, kinds.pop()


def _columns(files: Sequence[Path], kind: str) -> list[str]:
    """Column names of the first file, read without loading the data."""
    first = files[0]
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(first).names)
        opener = gzip.open if first.name.lower().endswith(".gz") else open
        with opener(first, "rt", encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, StopIteration, ValueError) as exc:
        raise DataError(f"Cannot read the columns of {str(first)!r} ({type(exc).__name__}: {exc}).") from exc


def _needed_columns(model: SegmentModel, columns: Sequence[str]) -> list[str]:
    model.check_columns(columns)
    # partitions are scored independently, so row numbers would restart in each: only an id joins back
    if not model.id_column:
        raise DataError("The model has no customer id column, and scoring at scale needs one to join the segments "
                        "back to the customers. Use the local engine, or rebuild the model with an id column.")
    if model.id_column not in columns:
        raise DataError(f"Scoring at scale needs the customer id column {model.id_column!r} in the input, to join "
                        "the segments back to the customers. Add it, or use the local engine.")
    return list(dict.fromkeys([model.id_column, *model.required_columns]))


def _count_rows(files: Sequence[Path], kind: str, columns: Sequence[str]) -> int:
    """Rows in the input, counted in this process with the parser Ray uses (pyarrow), streaming one column."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if kind == "parquet":
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    total = 0
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, include_columns=list(columns))
    for file in files:
        with pacsv.open_csv(pa.input_stream(str(file), compression="detect"), convert_options=convert) as reader:
            for batch in reader:
                total += batch.num_rows
    return total


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.glob("*.parquet")):
        raise ConfigError(f"The output folder {str(out_dir)!r} already holds Parquet files; rows would be counted "
                          "twice. Choose an empty or new folder.")
    out_dir.mkdir(parents=True, exist_ok=True)


def _parquet_rows(out_dir: Path) -> tuple[int, list[str]]:
    import pyarrow.parquet as pq

    files = sorted(out_dir.glob("*.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files), [str(f) for f in files]


# --------------------------------------------------------------------------- one process
def assign_local(model_path: str | os.PathLike | bytes | SegmentModel, input_path: str | os.PathLike,
                 out_dir: str | os.PathLike, batch_size: int = DEFAULT_BATCH_SIZE,
                 on_progress: ProgressFn | None = None) -> ScoringSummary:
    """Score a file or folder in this process, batch by batch, writing ``assigned.parquet`` into ``out_dir``.

    Files are read with the app's tolerant loader (``io.load_table``: encodings,
    delimiters, Excel), one file at a time.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segmentation.ingest.read import load_table

    started = time.perf_counter()
    model = load_model(model_path) if not isinstance(model_path, SegmentModel) else model_path
    source = Path(input_path)
    files = [source] if source.is_file() else input_files(source)[0]
    out = Path(out_dir)
    _check_out_dir(out)
    target = out / "assigned.parquet"
    rows_in = rows_out = 0
    writer = None
    try:
        for number, file in enumerate(files):
            table = load_table(file).table
            rows_in += len(table)
            for start in range(0, max(len(table), 1), batch_size):
                part = table.iloc[start:start + batch_size]
                if part.empty:
                    continue
                frame = model.assign(part, themes=True)
                if "row_number" in frame.columns:  # no id column: number rows across batches and files
                    frame["row_number"] += rows_out
                assigned = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(target, assigned.schema)
                writer.write_table(assigned)
                rows_out += assigned.num_rows
                if on_progress:
                    on_progress("assign", (number + min(1.0, (start + len(part)) / len(table))) / len(files))
    finally:
        if writer is not None:
            writer.close()
    written, paths = _parquet_rows(out)
    if written != rows_in or rows_out != rows_in:
        raise DataError(f"{rows_in:,} customers were read but {written:,} written; the output is incomplete.")
    return ScoringSummary(rows_in, written, tuple(paths), time.perf_counter() - started, "local", 1)


# --------------------------------------------------------------------------- Ray
def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a ``ConfigError`` that says how to install it.

    Ray's usage statistics are switched off before Ray is imported: nothing may leave this machine (or the
    cluster) unasked, and the workers Ray starts inherit the setting.
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships as the ray[data] extra
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return ray


class AssignBatch:
    """The Ray Data worker: loads the model once, then assigns one batch (a pandas DataFrame) per call."""

    def __init__(self, model_bytes: bytes, environment: dict[str, str] | None = None) -> None:
        for key, value in (environment or {}).items():
            os.environ.setdefault(key, value)
        self.model = load_model(model_bytes)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return self.model.assign(batch.reset_index(drop=True), themes=True)


_ERROR_LINE = re.compile(r"\b(SegmentationError|DataError|ConfigError|ModelFileError|WorkspaceError): ([^\n]+)")


def _segmentation_cause(error: BaseException) -> SegmentationError | None:
    """The library error behind a Ray error, if any.

    Ray keeps a worker's exception as a cause or a base class when it can; Ray Data
    passes on only its text, so the last "DataError: ..." line of that text is read back.
    """
    from segmentation import errors

    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SegmentationError):
            return current
        pending += [e for e in (current.__cause__, current.__context__, getattr(current, "cause", None))
                    if isinstance(e, BaseException)]
    found = _ERROR_LINE.findall(str(error))
    if found:
        kind, message = found[-1]
        return getattr(errors, kind)(message.strip())
    return None


def worker_runtime_env() -> dict[str, Any]:
    """The Ray runtime environment workers need: this package and the workspace settings.

    The package travels with the job (``py_modules``), so workers run this very code
    even where it is not installed; Ray accepts local folders only when a job starts,
    so pass this to ``ray.init(runtime_env=...)`` if you start Ray yourself before
    calling ``assign_with_ray``. The other libraries must be installed on the workers.
    """
    environment = {k: os.environ[k] for k in _WORKER_ENV if k in os.environ}
    return {"py_modules": [str(Path(__file__).resolve().parent)], "env_vars": environment}


def assign_with_ray(model_path: str | os.PathLike, input_path: str | os.PathLike, out_dir: str | os.PathLike,
                    address: str | None = None, num_cpus: int = 2, batch_size: int = DEFAULT_BATCH_SIZE,
                    workers: int | None = None, partitions: int | None = None) -> ScoringSummary:
    """Score a CSV or Parquet file (or a folder of them) with Ray Data, writing Parquet files into ``out_dir``.

    ``address`` joins a running Ray cluster (e.g. ``"ray://head:10001"`` or ``"auto"``);
    without it a local Ray is started with ``num_cpus`` CPUs and stopped afterwards
    (a Ray already started in this process is reused and left running; start it with
    ``runtime_env=worker_runtime_env()`` unless the package is installed on the workers).
    ``workers`` model-holding workers run at once (default: ``num_cpus``); they share
    the cluster's CPUs less one kept for listing, reading and writing.
    ``partitions`` asks Ray to read the input in that many parts (default: Ray's
    choice). ``batch_size`` customers are assigned per call. Rows are counted in
    this process with the same parser; ``DataError`` if the rows written differ.
    """
    import_ray()  # a clear message now if Ray is not installed, before any work
    started = time.perf_counter()
    model_bytes = Path(model_path).read_bytes() if not isinstance(model_path, bytes) else model_path
    model = load_model(model_bytes)  # fail here, once, rather than in every worker
    files, kind = input_files(input_path)
    columns = _needed_columns(model, _columns(files, kind))
    out = Path(out_dir)
    _check_out_dir(out)
    workers = max(1, int(workers or num_cpus))
    environment = worker_runtime_env()["env_vars"]

    rows_in = _count_rows(files, kind, columns[:1])
    map_on_ray(files, kind, columns, out, AssignBatch, {"model_bytes": model_bytes, "environment": environment},
               address, num_cpus, workers, partitions, batch_size)
    rows_out, written = _parquet_rows(out)
    if rows_out != rows_in:
        raise DataError(f"{rows_in:,} customers were read but {rows_out:,} written to {str(out)!r}; the output is "
                        "incomplete. Run the scoring again into an empty folder.")
    return ScoringSummary(rows_in, rows_out, tuple(written), time.perf_counter() - started, "ray", workers)


def map_on_ray(files: list[Path], kind: str, columns: list[str], out: Path, actor: type,
               actor_kwargs: dict[str, Any], address: str | None, num_cpus: int, workers: int,
               partitions: int | None, batch_size: int) -> dict[str, float]:
    """Read ``columns`` of ``files`` (CSV as text, parsed by the model as in the app) with Ray Data, pass every
    batch through ``actor(**actor_kwargs)`` on ``workers`` model-holding workers and write Parquet into ``out``.

    Ray is started here (and stopped afterwards) unless it is already running. A ``SegmentationError`` raised in a
    worker reaches the caller as our own class with our own message, not Ray's wrapping. Returns where the time
    went, in seconds (see ``ray_timings``).

    Each file is a block of its own when there are at least as many files as blocks wanted (``partitions``, else
    the files or two per worker, whichever is more); fewer files are split after reading.
    """
    ray = import_ray()
    we_started = False
    clock = time.perf_counter()
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False, runtime_env=worker_runtime_env())
        we_started = True
    timings = {"ray start": time.perf_counter() - clock}
    try:
        clock = time.perf_counter()
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # Ray's CPUs are scheduling slots, not cores. One slot is kept free for listing, reading and writing
        # tasks (a listing task asks for a whole one); the model-holding workers share the rest. Without
        # this split the workers can hold every slot while the read waits for one: a deadlock.
        total = float(ray.cluster_resources().get("CPU", num_cpus))
        io_cpus = 0.25
        worker_cpus = max(0.1, min(1.0, (total - 1.0) / workers))
        paths = [str(f) for f in files]
        blocks = partitions or max(len(files), 2 * workers)
        # With at least a file per block the blocks are read straight from the files and labelled as they come;
        # a repartition is a barrier (every row read before the first is labelled), kept for fewer, larger files
        whole_files = len(files) >= blocks
        if kind == "parquet":
            # Ray 2.60's newer Parquet reader (DataSource V2) hands a whole multi-file input over as one block
            # whatever override_num_blocks says (seen: 50 files, one block, one busy worker) and lists the files
            # in a task of its own; the classic reader gives one block per group of files, as asked
            previous = context.use_datasource_v2
            context.use_datasource_v2 = False
            try:
                dataset = ray.data.read_parquet(paths, columns=columns, override_num_blocks=blocks,
                                                num_cpus=io_cpus)
            finally:
                context.use_datasource_v2 = previous
        else:
            import pyarrow as pa
            import pyarrow.csv as pacsv

            # every needed column is read as text and parsed by the model as in the app: a column that looks
            # numeric in one partition and not in another must not break the read
            convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, include_columns=columns,
                                           strings_can_be_null=True)
            dataset = ray.data.read_csv(paths, convert_options=convert, override_num_blocks=blocks,
                                        num_cpus=io_cpus)
        if not whole_files:  # fewer files than blocks (e.g. one large file): split the rows for the workers
            dataset = dataset.repartition(blocks, shuffle=False)
        mapped = dataset.map_batches(actor, fn_constructor_kwargs=actor_kwargs, batch_format="pandas",
                                     batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=workers),
                                     num_cpus=worker_cpus)
        timings["plan"] = time.perf_counter() - clock
        clock = time.perf_counter()
        try:
            mapped.write_parquet(str(out), ray_remote_args={"num_cpus": io_cpus})
            timings["execute"] = time.perf_counter() - clock
            timings.update(ray_timings(mapped))
        except Exception as exc:  # Ray wraps what a worker raised; show the analyst our message, not Ray's
            cause = _segmentation_cause(exc)
            if cause is None:
                raise
            # Ray may raise a class derived from ours with its own constructor: rebuild our own class
            own = next(c for c in type(cause).__mro__ if c.__module__ == SegmentationError.__module__)
            message = cause.args[0] if cause.args and isinstance(cause.args[0], str) else str(cause)
            raise own(f"A Ray worker stopped: {message}") from exc
    finally:
        if we_started:
            ray.shutdown()
    return timings


def ray_timings(dataset: Any) -> dict[str, float]:
    """Seconds the executed ``dataset``'s tasks ran, summed over tasks, from Ray Data's statistics: "read busy",
    "label busy" (the workers' calls; their start is not in it), "label cpu" (CPU time of those calls: less than
    busy when the workers wait for a core), "write busy". Empty if Ray Data keeps no statistics."""
    try:
        summaries, found = [dataset.get_stats_summary()], {}
        while summaries:
            summary = summaries.pop()
            summaries += list(summary.parents)
            for op in summary.operators_stats:
                name = op.operator_name
                part = "label" if "MapBatches" in name else "read" if "Read" in name else \
                    "write" if "Write" in name else None
                if part and op.wall_time is not None:
                    found[f"{part} busy"] = found.get(f"{part} busy", 0.0) + float(op.wall_time.sum)
                if part == "label" and op.cpu_time is not None:
                    found["label cpu"] = found.get("label cpu", 0.0) + float(op.cpu_time.sum)
        return found
    except Exception:  # noqa: BLE001 - statistics are a diagnosis; their absence must not fail a finished run
        return {}


def read_assigned(out_dir: str | os.PathLike) -> pd.DataFrame:
    """All assignments written into ``out_dir`` (either engine), as one table."""
    import pyarrow.parquet as pq

    files = sorted(Path(out_dir).glob("*.parquet"))
    if not files:
        raise DataError(f"No Parquet files in {str(out_dir)!r}.")
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)

