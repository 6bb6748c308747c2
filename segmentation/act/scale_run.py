"""Segmenting a whole customer base with Ray: fit on a seeded sample here, label every customer on Ray.

``run --engine ray`` splits the work the way its costs fall. Fitting (cleaning recipe,
features, text embedding, reduction, clustering, profiles) needs every fitted row at
once, so it runs in this process on a seeded sample of ``sample_size`` customers,
exactly as the single-process ``run`` would on a file of those customers: the sample's
exports (customers.csv, profiles.csv, metrics, config, model) are the single-process
path's. Labelling every customer is embarrassingly parallel, so Ray Data reads the
input in partitions and each worker embeds and featurises its batches with the saved
model and assigns them by the model's nearest-neighbour vote (``act.assign``), writing
Parquet as it goes. Customers in the sample keep the segment and confidence the
clustering gave them, so their rows are the same everywhere.

The cost on N machines is about (seconds per partition × partitions / workers) plus a
fixed cost (reading the sample, fitting, starting Ray); ``bench/scale.py`` measures both.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation.act.assign import build_model, load_model
from segmentation.act.scale import (
    _check_out_dir,
    _columns,
    _count_rows,
    _parquet_rows,
    input_files,
    map_on_ray,
    worker_runtime_env,
)
from segmentation.config import RunConfig
from segmentation.errors import ConfigError, DataError

ProgressFn = Callable[[str, float], None]
ConfigFor = Callable[[pd.DataFrame], RunConfig]

DEFAULT_SAMPLE_SIZE = 20_000
"""Customers the segments are fitted on: enough for stable segments and profiles, small enough for one machine."""
SEGMENT_COLUMNS = ("segment_id", "segment_name", "segment_confidence")


@dataclass(frozen=True)
class ScaleRunSummary:
    """What ``run_with_ray`` did: rows read and written, the sample fitted, files written and where the time went."""

    rows_in: int
    rows_out: int
    sample_rows: int
    sample_files: dict[str, str]
    files: tuple[str, ...]
    seconds: float
    workers: int
    timings: dict[str, float] = field(default_factory=dict)
    ray_timings: dict[str, float] = field(default_factory=dict)
    """Where labelling's time went (``scale.map_on_ray``): "ray start", "plan", "execute" in this process; "read
    busy", "label busy", "label cpu", "write busy" summed over Ray's tasks."""

    def summary_lines(self) -> list[str]:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())
        return [f"Segments fitted on a seeded sample of {self.sample_rows:,} of {self.rows_in:,} customers; "
                f"{self.rows_out:,} customers labelled on Ray ({self.workers} worker(s)) in {self.seconds:.1f} s "
                f"({stages}).",
                f"Every customer's segment is in {len(self.files)} Parquet file(s); the sample's exports are in "
                f"{Path(self.sample_files['customers']).parent}."]


# --------------------------------------------------------------------------- the sample
def sample_positions(rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row positions of a seeded sample of ``size`` of ``rows`` rows (every row when ``size >= rows``)."""
    if size >= rows:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))


def _batches(files: list[Path], kind: str, columns: list[str]) -> Any:
    """The input's record batches in file order, every column as text for CSV (as Ray reads it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    for file in files:
        if kind == "parquet":
            yield from pq.ParquetFile(file).iter_batches(columns=columns)
            continue
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=True)
        with pacsv.open_csv(pa.input_stream(str(file), compression="detect"), convert_options=convert) as reader:
            yield from reader


def read_sample(files: list[Path], kind: str, columns: list[str], positions: np.ndarray) -> pd.DataFrame:
    """The rows at ``positions`` (sorted), read in one streaming pass: memory holds one batch and the sample."""
    import pyarrow as pa

    parts, offset = [], 0
    for batch in _batches(files, kind, columns):
        low, high = np.searchsorted(positions, [offset, offset + batch.num_rows])
        if high > low:
            parts.append(batch.take(pa.array(positions[low:high] - offset)))
        offset += batch.num_rows
    return pa.Table.from_batches(parts).to_pandas() if parts else pd.DataFrame(columns=columns)


def sample_dataset(sample: pd.DataFrame, kind: str) -> Any:
    """The sample as the app would load it from a file of those customers (types, roles and digest alike)."""
    from segmentation.act.tables import to_parquet_bytes
    from segmentation.ingest.read import load_table

    if kind == "parquet":
        return load_table(to_parquet_bytes(sample), name="sample.parquet")
    return load_table(sample.to_csv(index=False).encode("utf-8"), name="sample.csv")


# --------------------------------------------------------------------------- the Ray worker
class LabelBatch:
    """The Ray Data worker: holds the model and the sample's segments; labels one batch (a DataFrame) per call.

    A batch comes back with the columns the single-process ``customers.csv`` has for those customers (personal
    data left out and masked the same way) and ``segment_id``, ``segment_name``, ``segment_confidence``. What
    needs the fitted run itself (distance to centre, tags, themes, propensity) is in the sample's files only.
    """

    def __init__(self, model_bytes: bytes, known: pd.DataFrame, leave_out: list[str], mask: list[str],
                 environment: dict[str, str] | None = None) -> None:
        for key, value in (environment or {}).items():
            os.environ.setdefault(key, value)
        self.model = load_model(model_bytes)
        self.known = known[~known.index.duplicated()]
        self.leave_out, self.mask = leave_out, mask

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from segmentation.ingest.privacy import mask_text_column

        batch = batch.reset_index(drop=True)
        assigned = self.model.assign(batch)
        out = batch.drop(columns=self.leave_out)
        for column in self.mask:
            # back to the column's text type: Ray would otherwise store Python objects, not Parquet strings
            out[column] = mask_text_column(out[column]).astype(batch[column].dtype)
        out["segment_id"] = assigned["segment_id"].to_numpy()
        out["segment_name"] = assigned["segment_name"].to_numpy(dtype=object)
        out["segment_confidence"] = assigned["confidence"].to_numpy()
        # a sampled customer keeps what the clustering gave it, as in the sample's customers.csv
        ids = batch[self.model.id_column].astype("string").fillna("").to_numpy(dtype=object).astype(str)
        found = self.known.index.get_indexer(ids)
        hit = found >= 0
        if hit.any():
            for column in SEGMENT_COLUMNS:
                values = out[column].to_numpy(copy=True)
                values[hit] = self.known[column].to_numpy()[found[hit]]
                out[column] = values
        return out


def _known_segments(customers: pd.DataFrame, id_column: str) -> pd.DataFrame:
    ids = customers[id_column].astype("string").fillna("").to_numpy(dtype=object).astype(str)
    return customers[list(SEGMENT_COLUMNS)].set_axis(pd.Index(ids, name=id_column)).astype(
        {"segment_name": object})


# --------------------------------------------------------------------------- the engine
def run_with_ray(input_path: str | os.PathLike, out_dir: str | os.PathLike,
                 config: RunConfig | ConfigFor | None = None, sample_size: int = DEFAULT_SAMPLE_SIZE,
                 seed: int = 42, address: str | None = None, num_cpus: int = 2, workers: int | None = None,
                 partitions: int | None = None, batch_size: int = 4096, include_pii: bool = False,
                 export: dict[str, Any] | None = None, on_progress: ProgressFn | None = None) -> ScaleRunSummary:
    """Segment the CSV or Parquet file (or folder of them) at ``input_path``, labelling every customer on Ray.

    ``config`` is the run's settings, or a function giving them for the sample (the CLI passes the app's
    defaults for the sampled table); ``sample_size`` customers (seeded by ``seed``) are fitted in this process
    and exported to ``out_dir/sample`` as the single-process ``run`` would (``export``: keyword arguments of
    ``bundle.write_run``). Every customer is then labelled on Ray and written to ``out_dir/customers`` as
    Parquet; the rows written are counted against the rows read (``DataError`` if they differ). The input
    needs a customer id column to join the partitions' rows back. ``address``, ``num_cpus``, ``workers``,
    ``partitions`` and ``batch_size`` are as for ``scale.assign_with_ray``.
    """
    from segmentation.act.bundle import write_run
    from segmentation.act.tables import labelled_customers, personal_columns
    from segmentation.pipeline import run

    if sample_size < 100:
        raise ConfigError(f"The sample size must be at least 100 customers. Got {sample_size}.")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    files, kind = input_files(input_path)
    columns = _columns(files, kind)
    out = Path(out_dir)
    _check_out_dir(out / "customers")

    clock = time.perf_counter()
    rows_in = _count_rows(files, kind, columns[:1])
    if rows_in == 0:
        raise DataError(f"The input {str(input_path)!r} has no rows. Give a file with at least a few customers.")
    dataset = sample_dataset(read_sample(files, kind, columns, sample_positions(rows_in, sample_size, seed)), kind)
    timings["sample"] = time.perf_counter() - clock

    clock = time.perf_counter()
    settings = config(dataset.table) if callable(config) else (config or RunConfig())
    result = run(dataset.table, settings, on_progress, digest=dataset.digest)
    model = build_model(result)
    if not model.id_column:
        raise DataError("Segmenting with --engine ray needs a customer id column to join every partition's rows "
                        "back; none was found. Add one (or name it with --role COLUMN=id), or use the local engine.")
    sample_files = write_run(result, out / "sample", include_pii=include_pii, **(export or {}))
    pii, text = personal_columns(result)
    known = _known_segments(labelled_customers(result, include_pii=include_pii, with_distance=False),
                            model.id_column)
    timings["fit"] = time.perf_counter() - clock

    clock = time.perf_counter()
    worker_count, ray_timings = _label_on_ray(files, kind, columns, out / "customers", model.to_bytes(), known,
                                              [] if include_pii else [c for c in pii if c in columns],
                                              [] if include_pii else [c for c in text if c in columns],
                                              address, num_cpus, workers, partitions, batch_size)
    timings["label"] = time.perf_counter() - clock
    rows_out, written = _parquet_rows(out / "customers")
    if rows_out != rows_in:
        raise DataError(f"{rows_in:,} customers were read but {rows_out:,} written to {str(out / 'customers')!r}; "
                        "the output is incomplete. Run again into an empty folder.")
    return ScaleRunSummary(rows_in, rows_out, len(dataset.table), sample_files, tuple(written),
                           time.perf_counter() - started, worker_count, timings, ray_timings)


def _label_on_ray(files: list[Path], kind: str, columns: list[str], out: Path, model_bytes: bytes,
                  known: pd.DataFrame, leave_out: list[str], mask: list[str], address: str | None, num_cpus: int,
                  workers: int | None, partitions: int | None, batch_size: int) -> tuple[int, dict[str, float]]:
    """(workers used, where labelling's time went: ``scale.map_on_ray``'s timings)."""
    workers = max(1, int(workers or num_cpus))
    found = map_on_ray(files, kind, columns, out, LabelBatch,
                       {"model_bytes": model_bytes, "known": known, "leave_out": leave_out, "mask": mask,
                        "environment": worker_runtime_env()["env_vars"]},
                       address, num_cpus, workers, partitions, batch_size)
    return workers, found
