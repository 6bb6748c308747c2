"""Scoring throughput: customers assigned per second per core, one process against Ray Data.

Three models, built from the demo data (TF-IDF / MiniLM text, PCA, k-means):

- numeric-only: the structured columns only;
- TF-IDF text: the structured columns plus the review, embedded with TF-IDF;
- MiniLM text: the same with the default sentence-transformers model (on fewer rows: it is ~100 texts/s).

New customers come from ``assets/make_demo_data.generate`` with another seed. The
single process is limited to one thread (BLAS and torch), so its figure is per
core; Ray runs ``--cpus`` workers of one thread each (Ray sets OMP_NUM_THREADS=1),
timed with the cluster already started (Ray's start-up is reported apart).

    .venv/bin/python bench/scoring.py [--numeric-rows 2000000] [--text-rows 200000] [--minilm-rows 1000]

Ray's cost per job (starting workers, loading the model in each) is measured with
200-row jobs and subtracted to give the steady rate; both are reported.

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
import warnings
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

from segmentation.act.assign import build_model  # noqa: E402
from segmentation.act.scale import assign_with_ray, import_ray, worker_runtime_env  # noqa: E402
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig  # noqa: E402
from segmentation.ingest.read import load_table  # noqa: E402
from segmentation.pipeline import run  # noqa: E402

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


def _ray_job(model_path: Path, table: pd.DataFrame, cpus: int, folder: Path) -> float:
    """Seconds for one Ray scoring job over ``table`` (written as a folder of Parquet files)."""
    data = folder / "input"
    shutil.rmtree(folder, ignore_errors=True)
    data.mkdir(parents=True)
    parts = max(cpus * 2, 1)
    size = -(-len(table) // parts)
    for i in range(parts):
        table.iloc[i * size:(i + 1) * size].to_parquet(data / f"part-{i:02d}.parquet")
    summary = assign_with_ray(model_path, data, folder / "out", num_cpus=cpus, batch_size=2048,
                              partitions=cpus * 4)
    assert summary.rows_out == len(table)
    return summary.seconds


def with_ray(model, full: pd.DataFrame, small: list[pd.DataFrame], cpus: int, folder: Path) -> dict[str, float]:
    """Ray's fixed cost per job (workers start, each loads the model) is the faster of two small jobs; the
    full job minus it gives the steady rate. On a shared 2-core machine the fixed cost varies by tens of
    seconds, so the steady figure is only meaningful when the full job runs well beyond it."""
    path = model.save(folder.parent / f"{folder.name}.segmodel")
    fixed = min(_ray_job(path, part, cpus, folder / f"small-{i}") for i, part in enumerate(small))
    total = _ray_job(path, full, cpus, folder / "full")
    out = {"rows": len(full), "seconds": round(total, 2), "fixed_seconds_per_job": round(fixed, 2),
           "rows_per_second_overall": round(len(full) / total)}
    if total > fixed * 1.5:
        steady = len(full) / (total - fixed)
        out.update(rows_per_second_steady=round(steady), rows_per_second_per_core_steady=round(steady / cpus))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000,
                        help="distinct new customers generated (the generator makes at most 59,999)")
    parser.add_argument("--numeric-rows", type=int, default=2_000_000, help="customers for the numeric model on Ray")
    parser.add_argument("--text-rows", type=int, default=200_000, help="customers for the TF-IDF model on Ray")
    parser.add_argument("--minilm-rows", type=int, default=1_000, help="customers for the MiniLM model (one process)")
    parser.add_argument("--train-minilm", type=int, default=500, help="training customers for the MiniLM model")
    parser.add_argument("--cpus", type=int, default=2, help="Ray CPUs (default 2)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*minimum number of concurrent actors.*")

    built = models(args.train_minilm)
    new, _ = generate(seed=2024, n=args.rows)

    def repeated(n: int) -> pd.DataFrame:
        # copies of the generated customers with new ids; a batch (2,048 rows) never holds the same text twice,
        # so nothing is embedded once for several customers
        copies = -(-n // len(new))
        return pd.concat([new.assign(customer_id=new["customer_id"] + f"-{r}") for r in range(copies)],
                         ignore_index=True).iloc[:n]

    m = args.minilm_rows
    # MiniLM vectors are cached by text: each measurement gets texts no earlier one has embedded
    local = {"numeric-only": repeated(200_000), "TF-IDF text": new, "MiniLM text": new.iloc[:m]}
    on_ray = {"numeric-only": repeated(args.numeric_rows), "TF-IDF text": repeated(args.text_rows),
              "MiniLM text": new.iloc[m:3 * m]}
    small = [new.iloc[-400:-200], new.iloc[-200:]]
    results: dict[str, dict] = {"machine_cpus": os.cpu_count(), "ray_cpus": args.cpus}
    for name, model in built.items():
        results[name] = {"single_process": single_process(model, local[name])}
        print(name, "single process:", results[name]["single_process"], flush=True)

    ray = import_ray()
    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env=worker_runtime_env())
    results["ray_start_seconds"] = round(time.perf_counter() - started, 1)
    try:
        work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
        for name, model in built.items():
            results[name]["ray"] = with_ray(model, on_ray[name], small, args.cpus, work / name.replace(" ", "-"))
            print(name, "ray:", results[name]["ray"], flush=True)
    finally:
        ray.shutdown()
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(results, indent=2))
    print(f"\nRay start-up {results['ray_start_seconds']} s, not included below.")
    print(f"{'model':<14} {'1 process/core':>15} {'Ray rows':>10} {'Ray total':>10} {'Ray fixed/job':>14} "
          f"{'Ray steady/core':>16}")
    for name in built:
        single, distributed = results[name]["single_process"], results[name]["ray"]
        steady = distributed.get("rows_per_second_per_core_steady")
        print(f"{name:<14} {single['rows_per_second_per_core']:>13,}/s {distributed['rows']:>10,} "
              f"{distributed['rows_per_second_overall']:>8,}/s {distributed['fixed_seconds_per_job']:>12} s "
              f"{(f'{steady:,}/s' if steady else 'n/a'):>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
