"""``python -m segmentation auto FILE --out DIR``: find the best segmentation and write it with its leaderboard.

Wired into ``cli.py`` by ``register(subparsers)``; the handler returns the exit
status and lets ``SegmentationError`` reach ``cli.main``, which prints one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from segmentation.choose.search import ALGORITHMS
from segmentation.cli.options import add_representation_options, base_config, customers_of, progress_printer


def _algorithms(value: str) -> tuple[str, ...]:
    from segmentation.segment.cluster import CLUSTERERS

    names = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [name for name in names if name not in CLUSTERERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"algorithms must be a comma-separated list of {', '.join(CLUSTERERS)}; "
                                         f"got {value!r}")
    return names


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``auto`` command to the CLI's subcommands."""
    parser = subparsers.add_parser(
        "auto", help="try algorithms and numbers of segments, write the best segmentation and a leaderboard",
        description="Search k-means, Gaussian mixture and Ward for 2 to --max-k segments, HDBSCAN's minimum "
                    "segment size and DBSCAN's radius; rank them by silhouette, segment sizes, unassigned share "
                    "and stability; write the recommended segmentation and leaderboard.csv.")
    parser.add_argument("file", help="customer file: one row per customer (CSV, TSV, Excel, Parquet)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    add_representation_options(parser)
    parser.add_argument("--text-weight", type=float, default=0.5,
                        help="share of the distance given to text, 0 to 1 (default 0.5)")
    parser.add_argument("--max-k", type=int, default=None,
                        help="most segments to try (default: about one per 50 customers, at most 12)")
    parser.add_argument("--algorithms", type=_algorithms, default=ALGORITHMS,
                        help=f"comma-separated algorithms to search (default {','.join(ALGORITHMS)})")
    parser.add_argument("--min-share", type=float, default=0.03,
                        help="reject solutions with a segment under this share of customers (default 0.03)")
    parser.add_argument("--max-share", type=float, default=0.6,
                        help="reject solutions with a segment over this share of customers (default 0.6)")
    parser.add_argument("--max-noise", type=float, default=0.10,
                        help="reject solutions leaving more than this share unassigned (default 0.10)")
    parser.add_argument("--resamples", type=int, default=3,
                        help="re-clusterings of the reduced space per candidate, a quick screen, not the "
                             "stability check (default 3; 0 is faster but skips it)")
    parser.add_argument("--sample-size", type=int, default=5000,
                        help="search on a random sample of this many customers when there are more (default 5000)")
    parser.set_defaults(handler=cmd_auto)


def cmd_auto(args: argparse.Namespace) -> int:
    """Load, search, write the winner's outputs plus leaderboard.csv, print the recommendation."""
    from segmentation.act.bundle import write_run
    from segmentation.act.tables import to_csv_bytes
    from segmentation.choose.search import auto_segment
    from segmentation.ingest.read import load_table

    say = (lambda *a: None) if args.quiet else print
    started = time.perf_counter()
    loaded = load_table(Path(args.file))
    for line in loaded.report.summary_lines():
        say(line)
    dataset = customers_of(loaded, args, say)
    # the base settings; the search chooses the clustering
    config = base_config(dataset.table, args, args.text_weight)
    result, leaderboard = auto_segment(
        dataset.table, config, algorithms=args.algorithms, max_k=args.max_k, sample_size=args.sample_size,
        stability_resamples=args.resamples, min_share=args.min_share, max_noise=args.max_noise,
        max_share=args.max_share,
        on_progress=progress_printer(args.quiet), digest=dataset.digest)
    from segmentation.cli.llm import write_with_model

    result, written_names = write_with_model(result, args, args.out, say)   # unchanged without --llm-url
    files = write_run(result, args.out, names=written_names, include_pii=args.include_pii, dataset_name=dataset.name)
    board = Path(args.out) / "leaderboard.csv"
    board.write_bytes(to_csv_bytes(leaderboard.table().round(4)))
    files["leaderboard"] = str(board)
    if not args.quiet:
        print(f"Recommendation: {leaderboard.reason}")
        for note in leaderboard.notes:
            print(f"note: {note}")
        top = leaderboard.table().head(8)
        print(top[["algorithm", "params", "n_segments", "silhouette", "noise_share", "smallest_share", "stability",
                   "eligible"]].rename(columns={"stability": "recluster_agreement"}).round(3).to_string(index=False))
        m = result.metrics
        print(f"{m['n_segments']} segments for {m['n_customers']:,} customers ({m['noise_share']:.0%} unassigned), "
              f"silhouette {m['silhouette']:.3f}, in {time.perf_counter() - started:.1f} s.")
        for name, path in files.items():
            print(f"{name}: {path}", file=sys.stdout)
    return 0
