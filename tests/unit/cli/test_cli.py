import json
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
                   "--role", "--seed", "--out", "--config"):
        assert option in out
    missing = subprocess.run([sys.executable, "-m", "segmentation", "run", "nope.csv", "--out", "x"],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
