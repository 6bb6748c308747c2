"""Command line: ``python -m segmentation run FILE --out DIR`` and friends.

Every result the app shows can be produced here with the same library. Errors
the user can fix exit with status 2 and one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segmentation import __version__
from segmentation.cli.options import add_representation_options, base_config, customers_of, progress_printer
from segmentation.config import CleanConfig, ClusterConfig, RunConfig
from segmentation.errors import SegmentationError
from segmentation.segment.cluster import CLUSTERERS


def _param(value: str) -> tuple[str, Any]:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    name, raw = value.split("=", 1)
    try:
        number: Any = float(raw)
        number = int(number) if number.is_integer() and "." not in raw else number
    except ValueError:
        number = raw
    return name.strip(), number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m segmentation",
                                     description="Segment Studio: customer segmentation from the command line.")
    parser.add_argument("--version", action="version", version=f"Segment Studio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="segment a customer file and write labelled customers, profiles and metrics",
                         description="Segment a customer file (CSV, TSV, Excel, Parquet; gzip allowed).")
    run.add_argument("file", help="customer file: one row per customer, or order lines (rolled up to customers; "
                                  "see --no-rollup and --orders)")
    run.add_argument("--out", required=True, help="output folder (created if missing)")
    add_representation_options(run)
    run.add_argument("--text-weight", type=float, default=0.5,
                     help="share of the distance given to text, 0 to 1 (default 0.5)")
    run.add_argument("--algorithm", default="kmeans", choices=sorted(CLUSTERERS),
                     help="clustering algorithm (default kmeans)")
    run.add_argument("--clusters", "-k", type=int, default=None, help="number of segments (k-means, GMM, Ward)")
    run.add_argument("--param", action="append", default=[], type=_param, metavar="NAME=VALUE",
                     help="algorithm parameter, e.g. min_cluster_size=30 (repeat for several)")
    run.add_argument("--drop-duplicates", action="store_true", help="drop duplicate customers before segmenting")
    run.add_argument("--clip", type=float, default=0.0, help="clip numeric outliers at this quantile, e.g. 0.01")
    run.add_argument("--no-mask-pii", action="store_true", help="embed text without masking e-mails and phones")
    run.add_argument("--config", help="a config.json from an earlier run; other options are then ignored")
    run.add_argument("--encoding", help="text encoding of the file, e.g. utf-8 or cp1252 (default: detect)")
    run.add_argument("--delimiter", help="column delimiter (default: detect among , ; tab |)")
    from segmentation.cli import act as cli_act

    cli_act.add_export_options(run)
    cli_act.add_scale_options(run)
    run.add_argument("--project", help="also save the dataset and this run in a workspace project (created if new)")
    from segmentation.cli import workspace as cli_workspace

    cli_workspace.add_workspace_argument(run)
    for module in _extension_modules():
        module.register(sub)
    return parser


def _extension_modules() -> list:
    """Command groups that live beside their feature: workspace, choosing, acting, value."""
    from segmentation.cli import act, choose, value, workspace

    return [workspace, choose, act, value]


def config_from_args(args: argparse.Namespace, table: Any) -> RunConfig:
    """The run's settings: ``--config`` as written, else the app's defaults for ``table`` with the options given."""
    if args.config:
        return RunConfig.from_json(Path(args.config).read_text())
    params = dict(args.param)
    if args.clusters is not None:
        params["n_clusters"] = args.clusters
    return base_config(table, args, args.text_weight).replace(
        clean=CleanConfig(drop_duplicates=args.drop_duplicates, clip_quantile=args.clip),
        cluster=ClusterConfig(args.algorithm, tuple(params.items())))


def cmd_run(args: argparse.Namespace) -> int:
    from segmentation.act.bundle import write_run
    from segmentation.cli.act import export_options
    from segmentation.ingest.read import LoadOptions, load_table
    from segmentation.pipeline import run

    if getattr(args, "engine", "local") == "ray":   # fit on a sample here, label every customer on Ray
        from segmentation.cli.act import cmd_run_ray

        return cmd_run_ray(args, lambda table: config_from_args(args, table))
    say = (lambda *a: None) if args.quiet else print
    started = time.perf_counter()
    loaded = load_table(Path(args.file), options=LoadOptions(encoding=args.encoding, delimiter=args.delimiter))
    for line in loaded.report.summary_lines():
        say(line)
    dataset = customers_of(loaded, args, say)
    config = config_from_args(args, dataset.table)
    result = run(dataset.table, config, progress_printer(args.quiet), digest=dataset.digest)
    from segmentation.cli.llm import write_with_model

    result, written_names = write_with_model(result, args, args.out, say)   # unchanged without --llm-url
    files = write_run(result, args.out, names=written_names, include_pii=args.include_pii, dataset_name=dataset.name,
                      **export_options(args))
    if args.project:
        from segmentation.cli.workspace import workspace_from_args
        from segmentation.store.workspace import record_cli_run

        run_id = record_cli_run(workspace_from_args(args), args.project, dataset, result, dict(args.role))
        files["project"] = f"{args.project} (run {run_id})"
    m = result.metrics
    say(f"{m['n_segments']} segments for {m['n_customers']:,} customers ({m['noise_share']:.0%} unassigned), "
        f"silhouette {m['silhouette']:.3f}, in {time.perf_counter() - started:.1f} s.")
    for note in result.notes:
        say(f"note: {note}")
    say(json.dumps(files, indent=2))
    return 0


COMMANDS = {"run": cmd_run}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        return handler(args)
    except SegmentationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: file not found: {error.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
