import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segmentation.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "assets" / "demo_customers.csv"


def test_run_writes_labelled_customers_profiles_metrics_and_config(tmp_path, capsys):
    code = main(["run", str(DEMO), "--text", "review", "--model", "tfidf", "--reduce", "pca", "--map", "pca",
                 "-k", "5", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    customers = pd.read_csv(tmp_path / "customers.csv", dtype=str)
    assert len(customers) == 2000 and customers["segment_id"].nunique() == 5
    assert "email" not in customers.columns  # PII stays out unless asked for
    assert customers["customer_id"].str.startswith("C0").any()  # leading zeros kept
    profiles = pd.read_csv(tmp_path / "profiles.csv")
    assert profiles["customers"].sum() == 2000
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["cluster"] == {"algorithm": "kmeans", "params": {"n_clusters": 5}}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["n_segments"] == 5
    # the config file reproduces the run exactly
    again = tmp_path / "again"
    assert main(["run", str(DEMO), "--config", str(tmp_path / "config.json"), "--out", str(again), "--quiet"]) == 0
    assert (again / "customers.csv").read_bytes() == (tmp_path / "customers.csv").read_bytes()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", [], "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, [], "not a table|binary|image"),
        (b"id\nA\nB\nC\nD\n", [], "No usable column"),
        (b"x,t\n1,\n2,\n3,\n4,\n", ["--text", "t", "--model", "tfidf"], "empty for every customer"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys, content, args, message):
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--reduce", "pca", "--map", "pca", "--quiet",
                 *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err, flags=__import__("re").I)
    assert "Traceback" not in err


def test_help_documents_every_option_and_module_entry_point_works():
    out = subprocess.run([sys.executable, "-m", "segmentation", "run", "--help"], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    for option in ("--text", "--model", "--text-weight", "--algorithm", "--clusters", "--param", "--reduce",
                   "--role", "--seed", "--out", "--config", "--no-rollup", "--orders"):
        assert option in out
    assert "--rollup" not in out.replace("--no-rollup", "")  # every option the help mentions exists
    missing = subprocess.run([sys.executable, "-m", "segmentation", "run", "nope.csv", "--out", "x"],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


# --------------------------------------------------------------------------- the app's defaults
FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca"]


def comments_csv(path: Path) -> Path:
    """30 customers: an id and a free-text comment about one of three topics, nothing else."""
    topics = ("The delivery was late again and the parcel arrived damaged, very disappointed",
              "Great prices and a generous discount, I will buy again for the price",
              "Friendly staff on the phone, customer service solved my problem quickly")
    pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(30)],
                  "comment": [f"{topics[i % 3]} (order {i})" for i in range(30)]}).to_csv(path, index=False)
    return path


def test_a_file_of_free_text_only_is_segmented_on_its_text_as_in_the_app(tmp_path, capsys):
    source = comments_csv(tmp_path / "comments.csv")
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "3", "--quiet", *FAST]) == 0
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert len(customers) == 30 and customers["segment_id"].nunique() == 3
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["text"]["columns"] == ["comment"] and config["blend"]["text_weight"] == 0.5
    # --text still chooses, and a text weight of 0 embeds nothing: then nothing is left to segment on
    assert main(["run", str(source), "--out", str(tmp_path / "none"), "--text-weight", "0", "--quiet", *FAST]) == 2
    assert re.search(r"^error: No usable column", capsys.readouterr().err)
    assert main(["run", str(source), "--out", str(tmp_path / "named"), "--text", "comment", "-k", "3", "--quiet",
                 *FAST]) == 0
    assert (tmp_path / "named" / "customers.csv").read_bytes() == (tmp_path / "out" / "customers.csv").read_bytes()


# --------------------------------------------------------------------------- order lines
def order_log(path: Path, customer: str = "customer_id", date: str = "order_date", amount: str = "amount") -> Path:
    """36 order lines of 12 customers (3 each): C01-C04 buy small and often, C05-C08 big and recently, C09-C12
    medium and long ago."""
    rows = []
    for c in range(1, 13):
        group = (c - 1) // 4
        for k in range(3):
            day = {0: 10 + 7 * k, 1: 300 + 10 * k, 2: 20 + 3 * k}[group]
            rows.append({"order_id": f"O{c:02d}{k}", customer: f"C{c:02d}",
                         date: (pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)).strftime("%Y-%m-%d"),
                         amount: {0: 12.5, 1: 480.0, 2: 95.0}[group] + c + k})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_order_lines_are_rolled_up_to_customers_as_the_data_page_offers(tmp_path, capsys):
    source = order_log(tmp_path / "orders.csv")
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "3", *FAST]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"^Rolled up 36 order lines to 12 customers", out, re.M)) == 1
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert len(customers) == 12 and sorted(customers["customer_id"]) == [f"C{c:02d}" for c in range(1, 13)]
    assert customers["segment_id"].nunique() == 3
    # --no-rollup keeps the rows as they are
    assert main(["run", str(source), "--out", str(tmp_path / "rows"), "-k", "3", "--no-rollup", *FAST]) == 0
    assert "Rolled up" not in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "rows" / "customers.csv")) == 36


def test_orders_names_the_columns_when_they_are_not_recognised(tmp_path, capsys):
    source = order_log(tmp_path / "orders.csv", customer="who", date="when", amount="euros")
    assert main(["run", str(source), "--out", str(tmp_path / "rows"), "-k", "3", "--quiet", *FAST]) == 0
    # issue 17: names that say nothing no longer hide order lines: a repeating code, dates and money are found
    # from their values (ingest.layout), so the file is rolled up even without --orders
    assert len(pd.read_csv(tmp_path / "rows" / "customers.csv")) == 12
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "3", *FAST,
                 "--orders", "customer=who,date=when,amount=euros,order=order_id"]) == 0
    assert re.search(r"^Rolled up 36 order lines to 12 customers", capsys.readouterr().out, re.M)
    assert len(pd.read_csv(tmp_path / "out" / "customers.csv")) == 12
    assert main(["run", str(source), "--out", str(tmp_path / "bad"), "--quiet", *FAST,
                 "--orders", "customer=nobody,date=when,amount=euros"]) == 2
    assert re.search(r"^error: .*'nobody'", capsys.readouterr().err)
    assert main(["run", str(source), "--out", str(tmp_path / "bad"), "--quiet", "--no-rollup", *FAST,
                 "--orders", "customer=who,date=when,amount=euros"]) == 2
    assert "cannot go with --no-rollup" in capsys.readouterr().err
    assert main(["run", str(source), "--out", str(tmp_path / "bad"), "--quiet", *FAST,
                 "--orders", "buyer=who,date=when,amount=euros"]) == 2
    assert re.search(r"^error: The order-line part 'buyer' is not one of customer, date", capsys.readouterr().err)
    with pytest.raises(SystemExit):
        main(["run", str(source), "--out", str(tmp_path / "bad"), "--orders", "who"])
    assert "expected PART=COLUMN pairs" in capsys.readouterr().err
