"""Scoring throughput: customers assigned per second per core, one process against Ray Data.

Three models, built from the demo data (TF-IDF / MiniLM text, PCA, k-means):

- numeric-only: the structured columns only;
- TF-IDF text: the structured columns plus the review, embedded with TF-IDF;
- MiniLM text: the same with the default sentence-transformers model (on fewer rows: it is ~100 texts/s).

New customers come from ``assets/make_demo_data.generate`` with another seed. The
single process is limited to one thread (BLAS and torch), so its figure is per
core; Ray runs ``--cpus`` workers of one thread each (Ray sets OMP_NUM_THREADS=1),
timed with the cluster already started (Ray's start-up is reported apart).

    .venv/bin/python bench/scoring.py [--rows 20000] [--minilm-rows 1000] [--cpus 2]

Figures go to stdout and bench/out/scoring.json. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "assets")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# a fresh embedding cache: new customers' texts must really be embedded
os.environ["SEGMENT_STUDIO_HOME"] = tempfile.mkdtemp(prefix="bench-scoring-")

import pandas as pd  # noqa: E402
from make_demo_data import generate  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig  # noqa: E402
from segmentation.io import load_table  # noqa: E402
from segmentation.model import build_model  # noqa: E402
from segmentation.pipeline import run  # noqa: E402
from segmentation.scale import assign_with_ray, import_ray  # noqa: E402

FAST = dict(reduce=ReduceConfig(method="pca", map_method="pca"), cluster=ClusterConfig.make("kmeans", n_clusters=6))


def models(train_rows: int) -> dict[str, object]:
    dataset = load_table(REPO / "assets" / "demo_customers.csv")
    table = dataset.table
    small = table.iloc[:train_rows]
    configs = {
        "numeric-only": (table, RunConfig(**FAST)),
        "TF-IDF text": (table, RunConfig(text=TextConfig(columns=("review",), model="tfidf"), **FAST)),
        "MiniLM text": (small, RunConfig(text=TextConfig(columns=("review",)), **FAST)),
    }
    out = {}
    for name, (data, config) in configs.items():
        started = time.perf_counter()
        out[name] = build_model(run(data, config))
        print(f"built {name} model from {len(data):,} customers in {time.perf_counter() - started:.1f} s",
              flush=True)
    return out


def single_process(model, table: pd.DataFrame) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    with threadpool_limits(1):
        model.assign(table.iloc[:50])  # first call: neighbour index, model load (reported apart)
        started = time.perf_counter()
        model.assign(table)
        seconds = time.perf_counter() - started
    return {"rows": len(table), "seconds": round(seconds, 2), "rows_per_second_per_core": round(len(table) / seconds)}


def with_ray(model, table: pd.DataFrame, cpus: int, folder: Path) -> dict[str, float]:
    data = folder / "input"
    shutil.rmtree(folder, ignore_errors=True)
    data.mkdir(parents=True)
    parts = max(cpus * 2, 1)
    size = -(-len(table) // parts)
    for i in range(parts):  # a folder of files: Ray's partitions
        table.iloc[i * size:(i + 1) * size].to_parquet(data / f"part-{i:02d}.parquet")
    path = model.save(folder / "model.segmodel")
    summary = assign_with_ray(path, data, folder / "out", num_cpus=cpus, batch_size=2048)
    return {"rows": summary.rows_out, "seconds": round(summary.seconds, 2),
            "rows_per_second": round(summary.rows_per_second),
            "rows_per_second_per_core": round(summary.rows_per_second / cpus)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="new customers for numeric and TF-IDF models")
    parser.add_argument("--minilm-rows", type=int, default=1_000, help="new customers for the MiniLM model")
    parser.add_argument("--train-minilm", type=int, default=500, help="training customers for the MiniLM model")
    parser.add_argument("--cpus", type=int, default=2, help="Ray CPUs (default 2)")
    args = parser.parse_args()

    built = models(args.train_minilm)
    new, _ = generate(seed=2024, n=args.rows)
    results: dict[str, dict] = {"machine_cpus": os.cpu_count(), "ray_cpus": args.cpus}
    for name, model in built.items():
        rows = new.iloc[:args.minilm_rows] if name.startswith("MiniLM") else new
        results[name] = {"single_process": single_process(model, rows)}
        print(name, "single process:", results[name]["single_process"], flush=True)

    ray = import_ray()
    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results["ray_start_seconds"] = round(time.perf_counter() - started, 1)
    try:
        work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
        for name, model in built.items():
            rows = new.iloc[:args.minilm_rows] if name.startswith("MiniLM") else new
            results[name]["ray"] = with_ray(model, rows, args.cpus, work / name.replace(" ", "-"))
            print(name, "ray:", results[name]["ray"], flush=True)
    finally:
        ray.shutdown()
    print(f"Ray start-up: {results['ray_start_seconds']} s (not included above)")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'model':<14} {'rows':>7} {'1 process, per core':>22} {'Ray, per core':>15} {'Ray, total':>12}")
    for name in built:
        single, distributed = results[name]["single_process"], results[name]["ray"]
        print(f"{name:<14} {single['rows']:>7,} {single['rows_per_second_per_core']:>18,}/s "
              f"{distributed['rows_per_second_per_core']:>13,}/s {distributed['rows_per_second']:>10,}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
