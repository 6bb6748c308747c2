"""Stability check figures: the honest check (re-run the reduction and clustering) against the old one
(re-cluster the already reduced space), on real and demo data, one run each.

Run by hand (2 cores; the demo's review texts are embedded once and then cached in the workspace):
    .venv/bin/python bench/stability.py                       # demo, mall_customers, bank_marketing (20k rows)
    .venv/bin/python bench/stability.py --data bank --rows 20000 --sample-size 2000

For each data set it runs the pipeline with its default settings, then prints, for the old and the new check:
seconds, overall agreement (ARI), mean per-segment Jaccard, the badges, and the per-theme badges where the run
has themes
(by default k-means inside each re-run segment; --pipeline-themes re-finds them with segment.themes instead).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))

from segmentation.choose.stability import SAMPLE_SIZE, StabilityReport, stability  # noqa: E402
from segmentation.config import ReduceConfig, RunConfig  # noqa: E402
from segmentation.pipeline import run  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def load(name: str, rows: int) -> pd.DataFrame:
    if name == "demo":
        return pd.read_csv(ROOT / "assets" / "demo_customers.csv")
    if name == "mall":
        return pd.read_csv(DATA / "mall_customers" / "Mall_Customers.csv")
    if name == "bank":
        table = pd.read_csv(DATA / "bank_marketing" / "bank-full.csv", sep=";")
        return table.sample(n=min(rows, len(table)), random_state=0).reset_index(drop=True)
    raise SystemExit(f"unknown data set {name!r}: use demo, mall or bank")


def line(kind: str, report: StabilityReport) -> str:
    badges = report.segments["badge"].value_counts().to_dict()
    text = (f"  {kind:<4} {report.seconds:6.1f} s  agreement {report.agreement:.2f}  "
            f"mean Jaccard {report.segments['jaccard'].mean():.2f}  "
            f"per segment {np.round(report.segments['jaccard'].to_numpy(), 2).tolist()}  badges {badges}")
    if len(report.themes):
        text += (f"\n       themes: mean Jaccard {report.themes['jaccard'].mean():.2f}  "
                 f"badges {report.themes['badge'].value_counts().to_dict()}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["demo", "mall", "bank"])
    parser.add_argument("--rows", type=int, default=20_000, help="rows sampled from bank_marketing (default 20000)")
    parser.add_argument("--sample-size", type=int, default=SAMPLE_SIZE,
                        help=f"customers the new check re-runs at most (default {SAMPLE_SIZE})")
    parser.add_argument("--pipeline-themes", action="store_true",
                        help="also re-find the themes of each re-run with the pipeline's own theme step")
    args = parser.parse_args()
    for name in args.data:
        table = load(name, args.rows)
        start = time.perf_counter()
        result = run(table, RunConfig())
        config = result.config
        themes = len(getattr(result, "theme_parent", None) or {})
        print(f"{name}: {len(table):,} customers, {result.n_segments} segments, {themes} themes "
              f"({config.cluster.algorithm} {dict(config.cluster.params)}, reduce {config.reduce.method}); "
              f"pipeline {time.perf_counter() - start:.1f} s")
        old = stability(result.embedding, ReduceConfig(method="none"), config.cluster, config.random_state,
                        labels=result.labels, sample_size=5000)   # the old check: re-cluster Z only
        print(line("old", old))
        new = stability(result.features, config.reduce, config.cluster, config.random_state, labels=result.labels,
                        theme_labels=getattr(result, "theme_labels", None),
                        theme_parents=getattr(result, "theme_parent", None) or None, sample_size=args.sample_size)
        print(line("new", new))
        print(f"       {new.method()}")
        if args.pipeline_themes and getattr(result, "theme_labels", None) is not None:
            from segmentation.segment.themes import build_themes

            def pipeline_themes(Z: np.ndarray, labels: np.ndarray, wanted: dict, seed: int,
                                settings: object = config.themes) -> np.ndarray:
                return build_themes(Z, labels, settings, seed).labels

            again = stability(result.features, config.reduce, config.cluster, config.random_state,
                              labels=result.labels, theme_labels=result.theme_labels,
                              theme_parents=result.theme_parent, sample_size=args.sample_size,
                              find_themes=pipeline_themes)
            print(line("new", again).replace("themes:", "themes (re-found by the pipeline's own theme step):"))


if __name__ == "__main__":
    main()
