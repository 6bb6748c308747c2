"""What loading a file costs the analyst before the Data page shows, for a wide file and a normal one (issue #16).

Run by hand (full size: about a minute on 2 busy cores):
    .venv/bin/python bench/wide.py
Small:
    .venv/bin/python bench/wide.py --wide-rows 200 --wide-columns 2000 --rows 20000

Two seeded CSV files: a wide one (--wide-rows customers x an id + --wide-columns float columns rounded to 3
decimals, as an export of measurements gives) and a normal one (--rows customers x 20 columns: an id, floats with
gaps, whole numbers, scores, categories, a date). For each it prints the seconds of every step the app runs when
such a file is loaded: load_table, infer_roles, quality_report, column_histograms, resolve_roles and
pipeline.default_config as the app calls them (with the roles already inferred), and, for comparison, the last
two as a caller without those roles calls them (they infer the roles again). --root DIR measures the
segmentation/ package of another checkout (the code before a change) on the same files.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if "--root" in sys.argv:    # measure another checkout (e.g. the code before a change) with the same files
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))

from segmentation.ingest.clean import quality_report  # noqa: E402
from segmentation.ingest.distribution import column_histograms  # noqa: E402
from segmentation.ingest.read import load_table  # noqa: E402
from segmentation.ingest.roles import infer_roles, resolve_roles  # noqa: E402
from segmentation.pipeline import default_config  # noqa: E402


def wide_csv(rows: int, columns: int) -> bytes:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, columns)).round(3), columns=[f"feature_{i}" for i in range(columns)])
    frame.insert(0, "customer_id", [f"C{i}" for i in range(rows)])
    return frame.to_csv(index=False).encode()


def normal_csv(rows: int) -> bytes:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(rows)]})
    for j in range(8):
        values = np.round(rng.lognormal(3, 1, rows), 2)
        values[rng.random(rows) < 0.05] = np.nan
        frame[f"amount_{j}"] = values
    for j in range(5):
        frame[f"visits_{j}"] = rng.integers(0, 50, rows)
    frame["score"] = rng.integers(1, 6, rows)
    frame["flag"] = rng.integers(0, 2, rows)
    frame["region"] = rng.choice(["North", "South", "East", "West"], rows)
    frame["plan"] = rng.choice(["basic", "plus", "pro"], rows)
    frame["channel"] = rng.choice([f"channel {k}" for k in range(60)], rows)
    frame["signup"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D")
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode()


def measure(label: str, data: bytes) -> None:
    steps: list[tuple[str, float]] = []

    def timed(name: str, step: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = step()
        steps.append((name, time.perf_counter() - start))
        return result

    dataset = timed("load_table", lambda: load_table(data, name=f"{label}.csv"))
    table = dataset.table  # type: ignore[attr-defined]
    inferred = timed("infer_roles", lambda: infer_roles(table))
    if "inferred" in inspect.signature(resolve_roles).parameters:
        roles = timed("resolve_roles (inferred given, as the app)",
                      lambda: resolve_roles(table, {}, inferred=inferred))
    else:    # a checkout from before resolve_roles could be given them
        roles = timed("resolve_roles (re-infers, as the app did)", lambda: resolve_roles(table, {}))
    timed("quality_report", lambda: quality_report(table, roles))
    timed("column_histograms", lambda: column_histograms(table, roles))
    timed("default_config (roles given, as the app)", lambda: default_config(table, {}, roles=roles))
    app_total = sum(seconds for _, seconds in steps)
    timed("resolve_roles (re-infers)", lambda: resolve_roles(table, {}))
    timed("default_config (re-infers)", lambda: default_config(table))
    print(f"\n{label}: {table.shape[0]:,} rows x {table.shape[1]:,} columns, {len(data) / 1e6:.0f} MB")
    for name, seconds in steps:
        print(f"  {name:<45} {seconds:7.2f} s")
    print(f"  {'what the app runs (first six steps)':<45} {app_total:7.2f} s")
    print(f"  {'all eight (the issue' + chr(39) + 's sequence)':<45} {sum(s for _, s in steps):7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wide-rows", type=int, default=1_000)
    parser.add_argument("--wide-columns", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the normal file (20 columns)")
    parser.add_argument("--root", help="the checkout whose segmentation/ to measure (default: this one)")
    args = parser.parse_args()
    measure("wide", wide_csv(args.wide_rows, args.wide_columns))
    measure("normal", normal_csv(args.rows))


if __name__ == "__main__":
    main()
