"""``python -m segmentation value ORDERS --out DIR [--holdout-from YYYY-MM-DD]``: predicted value, and its check.

Without ``--holdout-from`` it writes ``predictions.csv`` (one row per customer who bought: history, P(alive),
expected purchases, predicted lifetime value, value at risk) and ``value.json`` (parameters and totals). With it,
it fits on the orders before that day and writes ``holdout.json`` (totals, mean absolute errors of the model and
of the past-rate baseline, parameters), ``holdout.csv`` per customer and ``holdout.html`` (the calibration chart).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from segmentation.cli.options import order_columns
from segmentation.common import json_safe
from segmentation.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``value`` command to the CLI's subcommands."""
    parser = subparsers.add_parser(
        "value", help="predict each customer's purchases, lifetime value and chance of being active; check it "
                      "on a holdout",
        description="Fit MBG/NBD (purchases) and Gamma-Gamma (spend) to order lines and predict per customer. "
                    "With --holdout-from, fit on the orders before that day and compare the predicted purchases "
                    "after it with what happened, against a baseline that keeps each customer's past rate.")
    parser.add_argument("file", help="order lines (CSV, TSV, Excel, Parquet; gzip allowed)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--holdout-from", metavar="YYYY-MM-DD",
                        help="fit on the orders before this day and check the predictions on the orders from it on")
    parser.add_argument("--horizon-days", type=int, default=365,
                        help="days ahead to predict purchases and value (default 365)")
    parser.add_argument("--orders", type=order_columns, default=None, metavar="customer=COL,date=COL,amount=COL",
                        help="the columns of the order lines, when they are not recognised")
    parser.add_argument("--encoding", help="text encoding of the file, e.g. utf-8 or cp1252 (default: detect)")
    parser.add_argument("--delimiter", help="column delimiter (default: detect among , ; tab |)")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    parser.set_defaults(handler=cmd_value)


def _layout(table, mapping):  # noqa: ANN001, ANN202 - the library's own types
    from segmentation.ingest.orders import detect_transactions, layout_from_mapping

    layout = layout_from_mapping(table, mapping) if mapping else detect_transactions(table)
    if layout is None:
        raise ConfigError("The file is not recognised as order lines (a repeating customer id, a date and an "
                          "amount). Name the columns with --orders customer=COL,date=COL,amount=COL.")
    return layout


def cmd_value(args: argparse.Namespace) -> int:
    """Load the order lines, predict (or run the holdout check), write the files, print where they are."""
    from segmentation.ingest.read import LoadOptions, load_table

    say = (lambda *a: None) if args.quiet else print
    started = time.perf_counter()
    loaded = load_table(Path(args.file), options=LoadOptions(encoding=args.encoding, delimiter=args.delimiter))
    layout = _layout(loaded.table, args.orders)
    say(layout.describe())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.holdout_from:
        files = _write_holdout(loaded.table, layout, args.holdout_from, out, say)
    else:
        files = _write_predictions(loaded.table, layout, args.horizon_days, out, say)
    say(f"Done in {time.perf_counter() - started:.1f} s.")
    say(json.dumps(files, indent=2))
    return 0


def _write_predictions(table, layout, horizon_days: int, out: Path, say) -> dict[str, str]:  # noqa: ANN001
    from segmentation.value.clv import predict_value

    prediction = predict_value(table, layout, horizon_days=horizon_days)
    customers = prediction.customers.rename_axis(layout.customer).reset_index()
    customers.to_csv(out / "predictions.csv", index=False)
    summary = {
        "customers": len(customers), "as_of": f"{prediction.as_of:%Y-%m-%d}", "horizon_days": horizon_days,
        "expected_purchases": round(float(customers["expected_purchases"].sum()), 2),
        "predicted_clv": round(float(customers["predicted_clv"].sum()), 2),
        "value_at_risk": round(float(customers["value_at_risk"].sum()), 2),
        "mean_p_alive": round(float(customers["p_alive"].mean()), 4),
        "parameters": prediction.model.parameters(), "fit_seconds": round(prediction.fit_seconds, 2),
        "notes": list(prediction.notes),
    }
    (out / "value.json").write_text(json.dumps(json_safe(summary), indent=2), encoding="utf-8")
    for note in prediction.notes:
        say(f"note: {note}")
    say(f"Predicted {summary['predicted_clv']:,.2f} of value over {horizon_days} days for {len(customers):,} "
        f"customers, {summary['value_at_risk']:,.2f} of it at risk.")
    return {"predictions": str(out / "predictions.csv"), "summary": str(out / "value.json")}


def _write_holdout(table, layout, holdout_from: str, out: Path, say) -> dict[str, str]:  # noqa: ANN001
    from segmentation.plots.value import holdout_figure
    from segmentation.value.holdout import holdout_check

    check = holdout_check(table, layout, holdout_from)
    check.customers.rename_axis(layout.customer).reset_index().to_csv(out / "holdout.csv", index=False)
    (out / "holdout.json").write_text(json.dumps(json_safe(check.summary), indent=2), encoding="utf-8")
    figure = holdout_figure(check.by_past_purchases)
    # plotly.js inline, so the page opens without a network connection
    figure.write_html(out / "holdout.html", include_plotlyjs=True, full_html=True)
    s = check.summary
    say(f"Holdout {s['holdout_from']} to {s['holdout_to']} ({s['holdout_days']} days), {s['customers']:,} "
        f"customers: {s['actual_purchases']:,} purchase days happened, the model predicted "
        f"{s['predicted_purchases']:,.1f} (mean absolute error {s['mae_model']:.3f} per customer), the past-rate "
        f"baseline {s['baseline_purchases']:,.1f} (error {s['mae_baseline']:.3f}).")
    say(s["verdict"])
    return {"holdout": str(out / "holdout.json"), "customers": str(out / "holdout.csv"),
            "chart": str(out / "holdout.html")}
