"""Automatic mode (full search) on customers with text: cold, then warm, and where the time goes per stage.

Run by hand:
    .venv/bin/python bench/auto.py --rows 20000            # the issue's size: target < 3 min cold, < 60 s warm
    .venv/bin/python bench/auto.py --rows 2000             # a quick look

The customers are those of bench/pipeline.py (the clothing reviews' structured columns, and distinct texts of
two sentences each from the shared corpora; ``--texts resampled`` uses the reviews themselves). It runs
``choose.search.auto_segment`` with every algorithm (the CLI's ``auto`` defaults) twice in one fresh workspace:
  - cold: empty embedding cache, empty stage cache (the model's first load and numba's first compile count,
    unless they were warmed on this machine before: NUMBA_CACHE_DIR is the repository's);
  - warm: the embeddings cached on disk, a new stage cache (so reduction, search and profiles are re-done),
    as when the analyst comes back to the same file;
and prints, for each, the seconds spent in each stage (from the progress callbacks: the time up to each call is
given to the stage that reported it) and the recommendation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ["SEGMENT_STUDIO_HOME"] = tempfile.mkdtemp(prefix="bench-auto-")  # cold: nothing cached

from pipeline import customers  # noqa: E402  (bench/pipeline.py, beside this file; it makes a fresh workspace too)

from segmentation.choose.search import ALGORITHMS, auto_segment  # noqa: E402
from segmentation.config import BlendConfig, TextConfig  # noqa: E402
from segmentation.pipeline import StageCache, default_config  # noqa: E402


class StageClock:
    """An ``on_progress`` callback that adds the time since the previous call to the stage now reporting."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.last = time.perf_counter()

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.perf_counter()
        self.seconds[stage] += now - self.last
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--texts", choices=["distinct", "resampled"], default="distinct")
    parser.add_argument("--model", default=None, help="embedding model (default: the app's)")
    parser.add_argument("--sample-size", type=int, default=5000, help="the search's sample (the CLI's default)")
    args = parser.parse_args()

    table = customers(args.rows, distinct=args.texts == "distinct")
    config = default_config(table)
    config = config.replace(text=TextConfig(columns=("Review Text",), model=args.model or config.text.model),
                            blend=BlendConfig(0.7))
    print(f"{args.rows:,} customers, {table['Review Text'].nunique():,} distinct texts; model "
          f"{config.text.model!r}; algorithms {', '.join(ALGORITHMS)}; search sample {args.sample_size:,}; "
          f"{os.cpu_count()} CPU cores; workspace {os.environ['SEGMENT_STUDIO_HOME']}\n")
    totals = {}
    for label in ("cold", "warm (embeddings cached)"):
        clock = StageClock()
        started = time.perf_counter()
        result, board = auto_segment(table, config, algorithms=ALGORITHMS, sample_size=args.sample_size,
                                     on_progress=clock, cache=StageCache(per_stage=2))
        totals[label] = time.perf_counter() - started
        rest = totals[label] - sum(clock.seconds.values())
        stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in clock.seconds.items())
        print(f"{label:<26} {totals[label]:7.1f} s   {stages}, after the last report {rest:.1f}")
        print(f"{'':<26} {result.metrics['n_segments']} segments, {len(board.table())} candidates; "
              f"{board.reason[:110]}")
    print(f"\ncold {totals['cold']:.1f} s (target < 180 s at 20,000), warm {totals['warm (embeddings cached)']:.1f} s "
          "(target < 60 s at 20,000)")


if __name__ == "__main__":
    main()
