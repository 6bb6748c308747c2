"""Command-line pieces for acting on segments: ``assign`` new customers, and export options for ``run``.

Wired into ``segmentation.cli`` by the lead:

- ``register(subparsers)`` adds ``python -m segmentation assign MODEL FILE --out DIR
  [--engine local|ray] [--ray-address ADDR] [--num-cpus N] [--batch-size N]``;
- ``add_export_options(run_parser)`` adds ``--format``, ``--segment-files``,
  ``--no-report`` and ``--no-model`` to ``run``, and ``export_options(args)`` turns
  them into keyword arguments for ``bundle.write_run``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from segmentation.errors import ConfigError


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``run`` that choose what is written besides customers.csv and profiles.csv."""
    parser.add_argument("--format", action="append", default=[], choices=["csv", "xlsx", "parquet"],
                        dest="formats", help="also write customers and profiles in this format (repeat for several)")
    parser.add_argument("--segment-files", action="store_true",
                        help="also write segments.zip: one CSV of customers per segment, Unassigned included")
    parser.add_argument("--no-report", action="store_true", help="do not write the HTML report (report.html)")
    parser.add_argument("--no-model", action="store_true",
                        help="do not write the model for assigning new customers (model.segmodel)")


def export_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``bundle.write_run`` from the options of ``add_export_options``."""
    return {
        "formats": tuple(dict.fromkeys(["csv", *getattr(args, "formats", [])])),
        "segment_zip": bool(getattr(args, "segment_files", False)),
        "report": not getattr(args, "no_report", False),
        "model": not getattr(args, "no_model", False),
    }


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``run`` that segment a whole customer base on Ray (``--engine ray``)."""
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: this process (default); ray: fit on a seeded sample here, then label every "
                             "customer partition by partition on Ray (CSV/Parquet file or folder with a customer "
                             "id column; needs requirements-scale.txt)")
    parser.add_argument("--sample-size", type=int, default=20_000,
                        help="with --engine ray: customers the segments are fitted on (default 20000)")
    parser.add_argument("--ray-address", default=None,
                        help="with --engine ray: join a running Ray cluster, e.g. 'auto' (default: a local Ray)")
    parser.add_argument("--num-cpus", type=int, default=2, help="with --engine ray: CPUs for a local Ray (default 2)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="with --engine ray: read the input in this many partitions (default: Ray's choice)")


def cmd_run_ray(args: argparse.Namespace, config_for: Any) -> int:
    """``run --engine ray``: ``config_for(sample_table)`` gives the run's settings, as ``run`` makes them."""
    from segmentation.act.scale_run import run_with_ray
    from segmentation.cli.options import progress_printer

    # the Ray engine reads plain UTF-8 CSV or Parquet, segments the rows as they are (never rolled up) and writes
    # files, not a project
    for option, given in (("--project", args.project), ("--llm-url", getattr(args, "llm_url", None)),
                          ("--orders", args.orders), ("--encoding", getattr(args, "encoding", None)),
                          ("--delimiter", getattr(args, "delimiter", None))):
        if given:
            raise ConfigError(f"{option} is not available with --engine ray. Run without it, or use the local engine.")
    say = (lambda *a: None) if args.quiet else print
    summary = run_with_ray(args.file, args.out, config_for, sample_size=args.sample_size, seed=args.seed,
                           address=args.ray_address, num_cpus=args.num_cpus, partitions=args.partitions,
                           include_pii=args.include_pii, export=export_options(args),
                           on_progress=progress_printer(args.quiet))
    for line in summary.summary_lines():
        say(line)
    say(json.dumps({**summary.sample_files, "all_customers": str(Path(args.out) / "customers")}, indent=2))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``assign`` command to the CLI's subparsers."""
    assign = subparsers.add_parser(
        "assign", help="assign new customers to the segments of a saved model",
        description="Assign the customers of FILE to the segments of MODEL (a model.segmodel written by `run` or "
                    "the app's Export page). Writes assignments (one row per customer: id, segment_id, "
                    "segment_name, confidence, and theme_id, theme_name, theme_confidence when the model has "
                    "themes) and, when earlier segments are known, where customers moved. A "
                    "model built from order lines takes order lines: they are rolled up the same way, and "
                    "p_alive, expected_purchases, predicted_clv and value_at_risk are predicted with the saved "
                    "parameters.")
    assign.add_argument("model", help="the saved model (.segmodel)")
    assign.add_argument("file", help="customers to assign: a file (CSV, TSV, Excel, Parquet) or, with --engine ray, "
                                     "a CSV/Parquet file or folder")
    assign.add_argument("--out", required=True, help="output folder (created if missing)")
    assign.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: this process (default); ray: partition by partition on Ray "
                             "(needs requirements-scale.txt)")
    assign.add_argument("--ray-address", default=None,
                        help="join a running Ray cluster, e.g. 'auto' or 'ray://host:10001' (default: start a "
                             "local Ray)")
    assign.add_argument("--num-cpus", type=int, default=2, help="CPUs for a local Ray (default 2)")
    assign.add_argument("--batch-size", type=int, default=4096, help="customers per batch (default 4096)")
    assign.add_argument("--quiet", action="store_true", help="print only errors")
    assign.set_defaults(handler=cmd_assign)


def cmd_assign(args: argparse.Namespace) -> int:
    """Run ``assign``: returns the exit status (errors the user can fix are raised as SegmentationError)."""
    from segmentation.act.assign import load_model
    from segmentation.act.movement import model_movement
    from segmentation.act.tables import to_csv_bytes, to_parquet_bytes

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1. Got {args.batch_size}.")
    out = Path(args.out)
    model = load_model(args.model)
    say = (lambda *a: None) if args.quiet else print
    for line in model.summary_lines():
        say(line)
    if args.engine == "ray":
        from segmentation.act.scale import assign_with_ray

        summary = assign_with_ray(args.model, args.file, out / "assignments", address=args.ray_address,
                                  num_cpus=args.num_cpus, batch_size=args.batch_size)
        for line in summary.summary_lines():
            say(line)
        say(json.dumps({"assignments": str(out / "assignments")}, indent=2))
        return 0
    source = Path(args.file)
    if source.is_dir():
        from segmentation.act.scale import assign_local

        summary = assign_local(model, source, out / "assignments", batch_size=args.batch_size)
        for line in summary.summary_lines():
            say(line)
        return 0

    from segmentation.ingest.read import load_table

    table, notes = model.customers_of(load_table(source).table)   # order lines: rolled up as in training
    for note in notes:
        say(f"note: {note}")
    out.mkdir(parents=True, exist_ok=True)
    assigned = model.assign(table, themes=True)
    files = {"assignments": out / "assignments.csv", "assignments_parquet": out / "assignments.parquet"}
    files["assignments"].write_bytes(to_csv_bytes(assigned))
    files["assignments_parquet"].write_bytes(to_parquet_bytes(assigned))
    counts = assigned["segment_name"].value_counts()
    say(f"{len(assigned):,} customers assigned: " + ", ".join(f"{name} {count:,}" for name, count in counts.items())
        + ".")
    if "theme_id" in assigned.columns:
        say(f"{assigned.loc[assigned['theme_id'] > 0, 'theme_id'].nunique():,} of the model's "
            f"{len(model.theme_names):,} themes received customers (theme_id, theme_name, theme_confidence).")
    moved = model_movement(model, table, assigned)
    if moved is not None:
        files["movement"] = out / "movement.csv"
        files["drift"] = out / "drift.csv"
        files["movement"].write_bytes(to_csv_bytes(moved.table))
        files["drift"].write_bytes(to_csv_bytes(moved.drift))
        for line in moved.summary_lines():
            say(line)
    say(json.dumps({k: str(v) for k, v in files.items()}, indent=2))
    return 0


def main_assign(argv: list[str] | None = None) -> int:
    """Stand-alone entry point for ``assign`` (tests, or before the command is wired into the main CLI)."""
    from segmentation.errors import SegmentationError

    parser = argparse.ArgumentParser(prog="python -m segmentation")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SegmentationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
