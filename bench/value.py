"""Roll-up + RFM + predicted value: seconds and peak memory, and the holdout check on Online Retail.

Cases, each in a fresh process (so the peak memory is its own and every import is counted):

- ``retail``: the shared Online Retail file (541,909 lines): load, roll-up without and with predictions (MBG/NBD +
  Gamma-Gamma fitted with scipy), then the holdout check fitted on the orders before 2011-09-01 (MAE of the model
  against the past-rate baseline);
- ``synthetic``: ``--lines`` order lines of ``--customers`` customers over two years (seeded), roll-up without
  and with predictions;
- ``reference``: the same MBG/NBD and Gamma-Gamma fitted to Online Retail by pymc-marketing (flat priors, MAP), the
  reference the tests compare with: its seconds (import, compile, fit) and its parameters next to ours. Needs
  requirements-dev.txt.

    .venv/bin/python bench/value.py [--lines 1000000] [--customers 100000] [--cases retail,synthetic,reference]

Figures go to stdout and bench/out/value.json. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RETAIL = REPO.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def case_retail() -> dict:
    from segmentation.ingest.orders import detect_transactions, rollup
    from segmentation.ingest.read import load_table
    from segmentation.value.clv import order_lines
    from segmentation.value.holdout import holdout_from_lines

    out: dict = {}
    started = time.perf_counter()
    dataset = load_table(RETAIL)
    layout = detect_transactions(dataset.table)
    out["load_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    plain, _ = rollup(dataset.table, layout)
    out["rollup_rfm_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    rolled, notes = rollup(dataset.table, layout, predict=True)
    out["rollup_rfm_value_s"] = round(time.perf_counter() - started, 2)
    out["customers"] = len(rolled)
    out["predicted_customers"] = int(rolled["p_alive"].notna().sum())
    out["p_alive_quantiles"] = rolled["p_alive"].quantile([0, 0.05, 0.5, 0.95]).round(4).tolist()
    out["predicted_clv_total"] = round(float(rolled["predicted_clv"].sum()), 2)
    out["value_at_risk_total"] = round(float(rolled["value_at_risk"].sum()), 2)
    out["value_notes"] = [n for n in notes if "redict" in n]
    started = time.perf_counter()
    again, _ = rollup(dataset.table, layout, predict=True)
    out["rollup_rfm_value_second_time_in_process_s"] = round(time.perf_counter() - started, 2)
    out["deterministic"] = bool(again.equals(rolled))

    lines, unreadable = order_lines(dataset.table, layout)
    started = time.perf_counter()
    check = holdout_from_lines(lines, "2011-09-01", unreadable)
    out["holdout_s"] = round(time.perf_counter() - started, 2)
    out["holdout"] = {k: v for k, v in check.summary.items() if k not in ("definitions", "verdict")}
    out["notes"] = [check.summary["verdict"]]
    once = check.customers["frequency"] == 0   # bought on one day only before the holdout
    out["holdout_p_alive_quantiles_one_time_buyers"] = check.customers.loc[once, "p_alive"].quantile(
        [0, 0.05, 0.5, 0.95]).round(4).tolist()
    out["peak_mb"] = _peak_mb()
    return out


def case_reference() -> dict:
    """pymc-marketing's MAP fit of the same models on the same history, with our scipy fit beside it."""
    import logging
    import warnings

    import numpy as np
    import pandas as pd

    from segmentation.ingest.orders import detect_transactions
    from segmentation.ingest.read import load_table
    from segmentation.value.clv import fit_value_model, order_lines, purchase_history

    dataset = load_table(RETAIL)
    lines, _ = order_lines(dataset.table, detect_transactions(dataset.table))
    history = purchase_history(lines, lines["when"].max())
    out: dict = {"customers": len(history)}
    started = time.perf_counter()
    ours = fit_value_model(history)
    out["scipy_fit_s"] = round(time.perf_counter() - started, 2)
    out["scipy_parameters"] = {k: round(getattr(ours, k), 6) for k in ("r", "alpha", "a", "b", "p", "q", "v")}
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymc_extras.prior import Prior
        from pymc_marketing.clv import GammaGammaModel, ModifiedBetaGeoModel

        logging.getLogger("pymc").setLevel(logging.ERROR)
        out["pymc_import_s"] = round(time.perf_counter() - started, 2)
        data = pd.DataFrame({"customer_id": np.arange(len(history)), "frequency": history["frequency"].to_numpy(),
                             "recency": history["recency"].to_numpy(), "T": history["T"].to_numpy()})
        started = time.perf_counter()
        purchases = ModifiedBetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
        purchases.fit(data=data, method="map", progressbar=False)
        out["pymc_purchase_fit_s"] = round(time.perf_counter() - started, 2)
        repeat = history["frequency"].to_numpy() > 0
        started = time.perf_counter()
        spend = GammaGammaModel()
        spend.fit(data=pd.DataFrame({"customer_id": np.arange(int(repeat.sum())),
                                     "frequency": history["frequency"].to_numpy()[repeat],
                                     "monetary_value": history["monetary_value"].to_numpy()[repeat]}),
                  method="map", progressbar=False)
        out["pymc_spend_fit_s"] = round(time.perf_counter() - started, 2)
    out["pymc_parameters"] = {k: round(float(np.asarray(m.fit_result[k]).squeeze()), 6)
                              for m, names in ((purchases, "r alpha a b"), (spend, "p q v")) for k in names.split()}
    out["peak_mb"] = _peak_mb()
    return out


def _synthetic(n_lines: int, n_customers: int, seed: int = 0):
    """Order lines with a purchase rate and an active span per customer, 1-4 lines per order, over two years."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = rng.gamma(0.8, 1.0, n_customers)
    # every customer has a line; the rest go to customers by their weight
    customer = np.concatenate([np.arange(n_customers),
                               rng.choice(n_customers, size=n_lines - n_customers, p=weights / weights.sum())])
    first = rng.integers(0, 700, n_customers)
    span = np.minimum(rng.exponential(250, n_customers), 729 - first)
    day = first[customer] + np.floor(rng.random(n_lines) * (span[customer] + 1)).astype("int64")
    # about three lines per order: lines of one customer on one day share an order number
    when = pd.Timestamp("2022-01-01") + pd.to_timedelta(day, unit="D")
    quantity = rng.integers(1, 12, n_lines)
    quantity[rng.random(n_lines) < 0.02] *= -1  # returns
    return pd.DataFrame({"InvoiceNo": (customer.astype("int64") * 1000 + day).astype("str"),
                         "CustomerID": customer + 10_000, "InvoiceDate": when, "Quantity": quantity,
                         "UnitPrice": np.round(rng.gamma(2.0, 4.0, n_lines), 2)})


def case_synthetic(n_lines: int, n_customers: int) -> dict:
    from segmentation.ingest.orders import detect_transactions, rollup

    out: dict = {}
    started = time.perf_counter()
    table = _synthetic(n_lines, n_customers)
    out["generate_s"] = round(time.perf_counter() - started, 2)
    layout = detect_transactions(table)
    started = time.perf_counter()
    plain, _ = rollup(table, layout)
    out["rollup_rfm_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    rolled, notes = rollup(table, layout, predict=True)
    out["rollup_rfm_value_s"] = round(time.perf_counter() - started, 2)
    out["lines"], out["customers"] = n_lines, len(rolled)
    out["predicted_customers"] = int(rolled["p_alive"].notna().sum()) if "p_alive" in rolled else 0
    out["value_notes"] = [n for n in notes if "redict" in n]
    out["peak_mb"] = _peak_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--cases", default="retail,synthetic,reference")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # run one case in this process
    args = parser.parse_args()
    if args.case:
        cases = {"retail": case_retail, "reference": case_reference,
                 "synthetic": lambda: case_synthetic(args.lines, args.customers)}
        result = cases[args.case]()
        print(json.dumps(result))
        return
    results = {}
    for case in args.cases.split(","):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--case", case, "--lines", str(args.lines),
                               "--customers", str(args.customers)], capture_output=True, text=True)
        if done.returncode:
            results[case] = {"error": done.stderr[-2000:]}
        else:
            results[case] = json.loads(done.stdout.strip().splitlines()[-1])
        results[case]["process_s"] = round(time.perf_counter() - started, 2)
        print(case, json.dumps(results[case], indent=2), flush=True)
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "value.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
