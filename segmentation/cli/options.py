"""What the commands that segment a file share: their options, the run defaults, order lines, progress.

``run`` and ``auto`` start from the same settings as the app (``pipeline.default_config``: every free-text
column embedded unless ``--text`` names others) and treat order lines as the Data page does: rolled up to one row
per customer, said in one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from segmentation.config import DEFAULT_MODEL, ROLES, RunConfig, TextConfig
from segmentation.errors import ConfigError
from segmentation.ingest.orders import LAYOUT_PARTS


def role_override(value: str) -> tuple[str, str]:
    """``COLUMN=ROLE`` from the command line, e.g. ``segment=label``."""
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected COLUMN=ROLE, got {value!r}")
    column, role = value.rsplit("=", 1)
    if role not in ROLES:
        raise argparse.ArgumentTypeError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    return column, role


def order_columns(value: str) -> dict[str, str]:
    """``customer=COL,date=COL,amount=COL[,order=COL,...]`` from the command line, as {part: column}; which parts
    are needed and whether the columns fit is checked against the file (``orders.layout_from_mapping``)."""
    mapping: dict[str, str] = {}
    for item in (piece.strip() for piece in value.split(",")):
        part, sep, column = item.partition("=")
        if not sep or not part.strip() or not column.strip():
            raise argparse.ArgumentTypeError(f"expected PART=COLUMN pairs separated by commas, e.g. "
                                             f"customer=CustomerID,date=InvoiceDate,amount=Total; got {item!r}")
        mapping[part.strip()] = column.strip()
    return mapping


def add_representation_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``auto``: text, embedding model, reduction, roles, order lines, seed, output."""
    parser.add_argument("--text", action="append", default=[], metavar="COLUMN",
                        help="free-text column to embed (repeat for several; default: every column inferred as "
                             "free text, as in the app; --text-weight 0 embeds none)")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"embedding model: '{DEFAULT_MODEL}' (offline default), 'tfidf' (fast), or a "
                             "sentence-transformers model name or local folder")
    parser.add_argument("--reduce", default="umap", choices=["umap", "pca", "none"],
                        help="reduction before clustering (default umap)")
    parser.add_argument("--components", type=int, default=5, help="dimensions of the cluster space (default 5)")
    parser.add_argument("--neighbors", type=int, default=15, help="UMAP neighbours, 5 to 50 (default 15)")
    parser.add_argument("--map", default="umap", choices=["umap", "pca"], help="2-D map layout (default umap)")
    parser.add_argument("--role", action="append", default=[], type=role_override, metavar="COLUMN=ROLE",
                        help=f"override a column's role ({', '.join(ROLES)}); e.g. segment=label to check the "
                             "segments against known groups")
    parser.add_argument("--outcome", action="append", default=[], metavar="COLUMN",
                        help="a known outcome (churned, subscribed, a rating): never a feature; each segment gets "
                             "its rate with a 95%% interval and lift in profiles.csv (same as --role COLUMN=outcome)")
    parser.add_argument("--no-rollup", action="store_true",
                        help="segment order lines as they are (by default a file of order lines is rolled up to "
                             "one row per customer, as the app's Data page offers)")
    parser.add_argument("--orders", type=order_columns, default=None, metavar="customer=COL,date=COL,amount=COL",
                        help="the file is order lines with these columns (when they are not recognised); the "
                             f"parts are {', '.join(LAYOUT_PARTS)} (quantity and price may replace amount)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--theme-detail", type=float, default=0.5,
                        help="themes inside each segment: 0 a few broad ones, 1 many narrow ones (default 0.5)")
    parser.add_argument("--max-unassigned", type=float, default=1.0,
                        help="largest share of customers HDBSCAN/DBSCAN may leave unassigned, e.g. 0.1; the rest "
                             "join their nearest segment with a lower confidence (default 1: keep them all out)")
    parser.add_argument("--include-pii", action="store_true",
                        help="keep personal data unmasked in the exported customers: PII columns, and the "
                             "e-mail addresses and phone numbers inside free text (masked as <EMAIL> / <PHONE> "
                             "by default)")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    from segmentation.cli.llm import add_llm_options

    add_llm_options(parser)


def customers_of(dataset: Any, args: argparse.Namespace, say: Callable[[str], None]) -> Any:
    """The dataset to segment: ``dataset`` itself, or its order lines rolled up to one row per customer (said in
    one line) unless ``--no-rollup``. ``--orders`` names the columns when they are not recognised."""
    from segmentation.ingest.orders import detect_transactions, layout_from_mapping, rollup_dataset

    if args.no_rollup:
        if args.orders:
            raise ConfigError("--orders names the columns of order lines to roll up; it cannot go with --no-rollup.")
        return dataset
    layout = layout_from_mapping(dataset.table, args.orders) if args.orders else detect_transactions(dataset.table)
    if layout is None:
        return dataset
    rolled, notes = rollup_dataset(dataset, layout, predict=True)  # predicted value, when the history allows
    say(f"Rolled up {len(dataset.table):,} order lines to {len(rolled.table):,} customers "
        f"(--no-rollup keeps the rows). {layout.describe()}")
    restated = f"rolled up into {len(rolled.table):,} customers."   # the line above already says so
    for note in notes:
        if not note.endswith(restated):
            say(f"note: {note}")
    return rolled


def base_config(table: Any, args: argparse.Namespace, text_weight: float) -> RunConfig:
    """The app's run defaults for ``table`` with the representation options of ``args`` (everything but the
    clustering): ``--text`` replaces the inferred text columns, ``--role`` the inferred roles."""
    from segmentation.config import BlendConfig, ReduceConfig, ThemeConfig
    from segmentation.pipeline import default_config

    config = default_config(table, {**dict(args.role), **{c: "outcome" for c in getattr(args, "outcome", [])}})
    text = TextConfig(columns=tuple(args.text) or config.text.columns, model=args.model,
                      mask_pii=not getattr(args, "no_mask_pii", False))
    return config.replace(
        text=text, blend=BlendConfig(text_weight=text_weight),
        reduce=ReduceConfig(method=args.reduce, n_components=args.components, n_neighbors=args.neighbors,
                            map_method=args.map),
        themes=ThemeConfig(detail=getattr(args, "theme_detail", 0.5),
                           max_unassigned=getattr(args, "max_unassigned", 1.0)),
        random_state=args.seed)


def progress_printer(quiet: bool) -> Callable[[str, float], None]:
    """An ``on_progress`` callback printing each stage's progress to stderr in steps of 10% (nothing if ``quiet``),
    with the count where the stage reports one ("1,200 of 5,000")."""
    from segmentation.represent.embed import Progress

    last: dict[str, int] = {}

    def show(stage: str, fraction: float) -> None:
        step = int(fraction * 10)
        if quiet or last.get(stage) == step:
            return
        last[stage] = step
        count = f"  ({fraction.done:,} of {fraction.total:,})" if isinstance(fraction, Progress) else ""
        print(f"  {stage:<9} {fraction:6.0%}{count}", file=sys.stderr, flush=True)

    return show
