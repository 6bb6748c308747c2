"""`run --engine ray` on a large customer base against the single-process `run`, and the cost model for N machines.

Run by hand (full size: about 3 minutes on 2 cores with TF-IDF, much longer with --model default):
    .venv/bin/python bench/scale.py --rows 1000000 --partitions 50 --reference-rows 100000
Small (a few minutes):
    .venv/bin/python bench/scale.py --rows 20000 --partitions 4

It writes N synthetic customers (id, age, spend, visits, region, a short text of 3-8 words drawn from a few
hundred phrases; seeded) as Parquet files, then measures:
  - the single-process path: `pipeline.run` on every row (or on --reference-rows rows and extrapolated linearly
    to N when N is larger; the printout says so), PCA + k-means, the same embedding model;
  - `run_with_ray` on local Ray with --num-cpus CPUs: reading the seeded sample, fitting on it, labelling every
    customer in partitions (Ray start included), rows in == rows out;
  - the seconds one partition takes to label in one process (the worker's own code, no Ray), on one thread as a
    Ray worker runs it (Ray sets OMP_NUM_THREADS to a worker's CPUs, at least 1; here 0.5 each) and, for
    comparison, on every core;
and prints the cost model  T(machines) = seconds per partition x partitions / workers + fixed cost,
with fixed cost = Ray start + sample + fit + what labelling took beyond its partitions' share, split into
planning the read (driver), the workers' start and waits (execution beyond the workers' busy time / workers) and
the workers' slowdown against one process alone (busy time / workers beyond the partitions' share: they share
the cores with the driver, Ray's own processes and the read and write tasks; "label cpu" < "label busy" shows
them waiting for a core).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ.setdefault("SEGMENT_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-scale-"))

from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig  # noqa: E402

WORDS = ("delivery late refund app crash great price quality size small large return easy fast slow support "
         "helpful rude store staff parcel damaged colour lovely cheap expensive offer discount account login "
         "password payment card failed loyal points newsletter again never always").split()
REGIONS = ["North", "South", "East", "West", "Wales", "Scotland", "Northern Ireland"]


def customers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic customers in four loose groups, each with a short text (3 to 8 words)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 4, n)
    phrases = [" ".join(rng.choice(WORDS, size=rng.integers(3, 9))) for _ in range(400)]
    # each group leans on its own quarter of the phrases, so the text carries the groups too
    pick = (group * 100 + rng.integers(0, 100, n)) % 400
    pick = np.where(rng.random(n) < 0.3, rng.integers(0, 400, n), pick)
    return pd.DataFrame({
        "customer_id": [f"C{i:08d}" for i in range(n)],
        "age": (rng.normal(25 + 10 * group, 6)).round().clip(18, 90).astype(int),
        "spend": rng.gamma(2.0, 20 + 40 * group).round(2),
        "visits": rng.poisson(2 + 3 * group),
        "region": rng.choice(REGIONS, n),
        "note": np.asarray(phrases, dtype=object)[pick],
    })


def write_parts(table: pd.DataFrame, folder: Path, parts: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number, chunk in enumerate(np.array_split(np.arange(len(table)), parts)):
        table.iloc[chunk].to_parquet(folder / f"part-{number:04d}.parquet", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4, help="input files = Ray partitions")
    parser.add_argument("--sample-size", type=int, default=20_000, help="customers fitted on the driver")
    parser.add_argument("--reference-rows", type=int, default=100_000,
                        help="the single-process run is measured on at most this many rows, then extrapolated")
    parser.add_argument("--num-cpus", type=int, default=2)
    parser.add_argument("--model", default="tfidf", help="embedding model (default tfidf; 'default' = the app's)")
    parser.add_argument("--cores-per-machine", type=int, default=2, help="workers per machine in the cost model")
    args = parser.parse_args()

    from segmentation.act.scale_run import LabelBatch, run_with_ray
    from segmentation.pipeline import StageCache, run

    model_name = args.model if args.model != "default" else TextConfig().model
    config = RunConfig(text=TextConfig(columns=("note",), model=model_name),
                       reduce=ReduceConfig(method="pca", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=4))
    work = Path(tempfile.mkdtemp(prefix="bench-scale-data-"))
    try:
        started = time.perf_counter()
        table = customers(args.rows)
        write_parts(table, work / "in", args.partitions)
        print(f"{args.rows:,} customers in {args.partitions} Parquet partitions "
              f"({time.perf_counter() - started:.1f} s to make); {os.cpu_count()} cores; model {model_name!r}; "
              f"PCA + k-means (k=4)\n")

        # --- the single-process path
        reference_rows = min(args.rows, args.reference_rows)
        clock = time.perf_counter()
        result = run(table.iloc[:reference_rows].reset_index(drop=True), config, cache=StageCache(per_stage=1))
        single = time.perf_counter() - clock
        single_n = single * args.rows / reference_rows
        how = "measured" if reference_rows == args.rows else \
            f"measured on {reference_rows:,} rows ({single:.1f} s) and extrapolated linearly"
        print(f"single process: {single_n:8.1f} s for {args.rows:,} rows ({how}); stages: "
              + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items()))
        del result

        # --- Ray: started here, so that its start is measured apart from the work (run_with_ray reuses it)
        from segmentation.act.scale import import_ray, worker_runtime_env

        ray = import_ray()
        clock = time.perf_counter()
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env=worker_runtime_env())
        ray_start = time.perf_counter() - clock
        clock = time.perf_counter()
        summary = run_with_ray(work / "in", work / "out", config, sample_size=args.sample_size,
                               num_cpus=args.num_cpus, partitions=args.partitions,
                               export={"model": True})
        ray_total = time.perf_counter() - clock + ray_start
        ray.shutdown()
        assert summary.rows_in == summary.rows_out == args.rows
        print(f"Ray ({args.num_cpus} CPUs, {summary.workers} workers): {ray_total:8.1f} s; start {ray_start:.1f} s, "
              + ", ".join(f"{k} {v:.1f} s" for k, v in summary.timings.items())
              + f"; rows in {summary.rows_in:,} == rows out {summary.rows_out:,}; {len(summary.files)} files written")
        print("  label, in parts: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.ray_timings.items()))

        # --- one partition in one process: the worker's code without Ray
        model_bytes = (work / "out" / "sample" / "model.segmodel").read_bytes()
        known = pd.DataFrame(columns=["segment_id", "segment_name", "segment_confidence"])
        worker = LabelBatch(model_bytes, known, leave_out=[], mask=[])
        partition = pd.read_parquet(work / "in" / "part-0000.parquet")  # as Ray reads it: the file's own types
        worker(partition.iloc[:100])  # build the neighbour index and the embedder once, as a worker does

        def one_partition() -> float:
            clock = time.perf_counter()
            for start in range(0, len(partition), 4096):
                worker(partition.iloc[start:start + 4096])
            return time.perf_counter() - clock

        every_core = one_partition()
        with threadpool_limits(1):   # as a Ray worker runs: one thread
            per_partition = one_partition()

        labelled_share = per_partition * args.partitions / summary.workers
        overhead = max(0.0, summary.timings["label"] - labelled_share)
        parts = summary.ray_timings
        busy_share = parts.get("label busy", 0.0) / summary.workers
        plan, execute = parts.get("plan", 0.0), parts.get("execute", 0.0)
        fixed = ray_start + summary.timings["sample"] + summary.timings["fit"] + overhead
        print(f"\nper partition: {per_partition:.2f} s for {len(partition):,} rows on one thread "
              f"({len(partition) / per_partition:,.0f} rows/s per worker; {every_core:.2f} s on every core); "
              f"partitions {args.partitions}; fixed cost {fixed:.1f} s (sample {summary.timings['sample']:.1f}, "
              f"fit {summary.timings['fit']:.1f}, Ray start {ray_start:.1f}, labelling beyond its partitions' share "
              f"{overhead:.1f})")
        print(f"labelling beyond its share {overhead:.1f} s = planning the read {plan:.1f} + workers' start, first "
              f"block and tail {execute - busy_share:.1f} (execute {execute:.1f} - busy {busy_share:.1f} per worker) "
              f"+ workers' slowdown against one process alone {busy_share - labelled_share:.1f} (busy per worker "
              f"{busy_share:.1f} - share {labelled_share:.1f}; CPU {parts.get('label cpu', 0.0):.1f} of busy "
              f"{parts.get('label busy', 0.0):.1f} s) + the rest "
              f"{summary.timings['label'] - plan - execute:.1f} (Ray start if not started yet, counting rows out)")
        print(f"single process / Ray here: {single_n / ray_total:.2f}x")
        print(f"\ncost model T = {per_partition:.2f} s x {args.partitions} partitions / workers + {fixed:.1f} s "
              f"({args.cores_per_machine} workers per machine; the same partitions, so rows per partition fixed):")
        for machines in (1, 2, 4, 8, 16, 32):
            workers = machines * args.cores_per_machine
            print(f"  {machines:>3} machine(s), {workers:>3} workers: "
                  f"{per_partition * args.partitions / workers + fixed:9.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
