"""One million numeric-only customers segmented with k-means: seconds and peak memory.

Run by hand:  .venv/bin/python bench/numeric.py [--rows 1000000]
Target (Speed issue): under a minute and under 4 GB of memory on this 2-core machine.
The data are synthetic (seeded): 8 numeric columns and 2 categorical ones with 6 planted groups.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["SEGMENT_STUDIO_HOME"] = tempfile.mkdtemp(prefix="bench-numeric-")

from segmentation.config import ClusterConfig, ReduceConfig, RunConfig  # noqa: E402
from segmentation.pipeline import StageCache, run  # noqa: E402


def customers(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 6, n)
    centres = rng.normal(0, 3, size=(6, 8))
    values = centres[groups] + rng.normal(0, 1, size=(n, 8))
    table = pd.DataFrame(values, columns=[f"metric_{i}" for i in range(8)])
    table.insert(0, "customer_id", np.char.add("C", np.arange(n).astype(str)))
    table["region"] = np.array(["North", "South", "East", "West"])[(groups + rng.integers(0, 2, n)) % 4]
    table["channel"] = np.array(["web", "app", "store"])[rng.integers(0, 3, n)]
    return table, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    table, groups = customers(args.rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    config = RunConfig(reduce=ReduceConfig(method="none", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=6))
    start = time.perf_counter()
    result = run(table, config, cache=StageCache())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from sklearn.metrics import adjusted_rand_score

    print(f"{args.rows:,} numeric customers, k-means k=6, {os.cpu_count()} CPU cores")
    print(f"total {seconds:.1f} s; stages: " + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items()))
    print(f"peak memory {peak:,.0f} MB (data generated before the run: {before:,.0f} MB)")
    print(f"ARI against the planted groups: {adjusted_rand_score(groups, result.labels):.3f}")


if __name__ == "__main__":
    main()
