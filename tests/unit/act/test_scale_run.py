"""``run --engine ray``: fit on a seeded sample in this process, label every customer on a local 2-CPU Ray.

As in test_scale.py, the Ray tests need requirements-scale.txt installed; without Ray they fail (they are not
skipped), so a CI without the optional dependency shows it plainly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act import scale_run
from segmentation.act.scale import import_ray, read_assigned
from segmentation.act.scale_run import (
    LabelBatch,
    read_sample,
    run_with_ray,
    sample_dataset,
    sample_positions,
)
from segmentation.act.tables import labelled_customers
from segmentation.cli.main import main
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.read import load_table
from segmentation.pipeline import run

REPO = Path(__file__).resolve().parents[3]
CONFIG = RunConfig(text=TextConfig(columns=("review",), model="tfidf"),
                   reduce=ReduceConfig(method="pca", map_method="pca"),
                   cluster=ClusterConfig.make("kmeans", n_clusters=4))
SEGMENT_COLUMNS = ["segment_id", "segment_name", "segment_confidence"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The 2,000 demo customers as two CSV files in a folder (two partitions), and as one Parquet file."""
    folder = tmp_path_factory.mktemp("base")
    table = pd.read_csv(REPO / "assets" / "demo_customers.csv")
    (folder / "csv").mkdir()
    table.iloc[:1100].to_csv(folder / "csv" / "part-1.csv", index=False)
    table.iloc[1100:].to_csv(folder / "csv" / "part-2.csv", index=False)
    table.to_parquet(folder / "customers.parquet", index=False)
    return folder, table


@pytest.fixture(scope="module")
def ray_run(base, tmp_path_factory):
    folder, _ = base
    out = tmp_path_factory.mktemp("out")
    summary = run_with_ray(folder / "csv", out, CONFIG, sample_size=600, seed=7, num_cpus=2, batch_size=256)
    return summary, out


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values compared as CSV spells them: Ray reads CSV as text, the app's loader parses it."""
    return pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=False)), dtype=str, keep_default_na=False)


def test_every_customer_is_labelled_on_ray_and_rows_in_equal_rows_out(ray_run, base):
    summary, out = ray_run
    _, table = base
    assert summary.rows_in == summary.rows_out == 2000 and summary.sample_rows == 600
    assert set(summary.timings) == {"sample", "fit", "label"}
    labelled = read_assigned(out / "customers")
    assert len(labelled) == 2000 and sorted(labelled["customer_id"]) == sorted(table["customer_id"])
    assert labelled["segment_id"].isin([-1, 1, 2, 3, 4]).all()
    assert labelled["segment_confidence"].between(0, 1).all()
    assert "Segments fitted on a seeded sample of 600 of 2,000" in summary.summary_lines()[0]


def test_the_summary_says_where_labelling_time_went(ray_run):
    summary, _ = ray_run
    parts = summary.ray_timings
    assert {"ray start", "plan", "execute", "read busy", "label busy", "label cpu", "write busy"} <= set(parts)
    assert all(v >= 0 for v in parts.values()) and parts["label busy"] > 0
    # Ray was started for the run, planned and executed inside the labelling stage
    assert parts["ray start"] + parts["plan"] + parts["execute"] <= summary.timings["label"]


def test_the_sample_is_exported_exactly_as_the_single_process_run_of_those_customers(ray_run, base):
    summary, out = ray_run
    _, table = base
    positions = sample_positions(2000, 600, seed=7)
    alone = load_table(table.iloc[positions].to_csv(index=False).encode(), name="sample.csv")
    expected = labelled_customers(run(alone.table, CONFIG, digest=alone.digest))
    written = pd.read_csv(out / "sample" / "customers.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, _as_text(expected))
    assert (out / "sample" / "model.segmodel").exists() is False  # export options as given: none here


def test_sampled_customers_carry_the_same_labelled_columns_in_the_full_output(ray_run, base):
    _, out = ray_run
    _, table = base
    sample = pd.read_csv(out / "sample" / "customers.csv", dtype=str, keep_default_na=False)
    labelled = _as_text(read_assigned(out / "customers"))
    # the labelled-customer columns of customers.csv, personal data left out the same way (email, name); what
    # needs the fitted run itself (distance to centre, tags, themes) is in the sample's customers.csv only
    core = [c for c in sample.columns if c in {*table.columns, *SEGMENT_COLUMNS}]
    assert list(labelled.columns) == core and core[-3:] == SEGMENT_COLUMNS
    assert "email" not in labelled.columns and "full_name" not in labelled.columns
    joined = sample.merge(labelled, on="customer_id", suffixes=("", "_all"))
    assert len(joined) == 600
    for column in [*SEGMENT_COLUMNS, "review", "total_spend"]:
        assert joined[column].tolist() == joined[f"{column}_all"].tolist(), column


def test_the_cli_runs_on_ray_from_parquet(base, tmp_path, capsys):
    folder, _ = base
    code = main(["run", str(folder / "customers.parquet"), "--out", str(tmp_path / "out"), "--engine", "ray",
                 "--model", "tfidf", "--reduce", "pca", "--map", "pca", "-k", "3", "--sample-size", "400",
                 "--no-report", "--no-model"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2,000 customers labelled on Ray" in printed and '"all_customers"' in printed
    labelled = read_assigned(tmp_path / "out" / "customers")
    assert len(labelled) == 2000 and labelled["segment_id"].isin([-1, 1, 2, 3]).all()
    assert len(pd.read_csv(tmp_path / "out" / "sample" / "customers.csv")) == 400


def test_cli_options_the_ray_engine_cannot_honour_are_refused(base, tmp_path, capsys):
    folder, _ = base
    code = main(["run", str(folder / "customers.parquet"), "--out", str(tmp_path / "out"), "--engine", "ray",
                 "--project", "Spring"])
    assert code == 2
    assert "--project is not available with --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_seeded_sample_is_read_in_one_pass_across_files(base):
    folder, table = base
    positions = sample_positions(2000, 50, seed=3)
    assert np.array_equal(positions, sample_positions(2000, 50, seed=3)) and len(set(positions)) == 50
    assert np.array_equal(sample_positions(5, 50, seed=3), np.arange(5))
    files = sorted((folder / "csv").glob("*.csv"))
    sample = read_sample(files, "csv", list(table.columns), positions)
    assert sample["customer_id"].tolist() == table["customer_id"].iloc[positions].tolist()
    dataset = sample_dataset(sample, "csv")  # the app's loader gives the types back
    assert pd.api.types.is_numeric_dtype(dataset.table["total_spend"])


def test_a_batch_is_labelled_by_the_model_and_sampled_customers_keep_their_segment(base):
    from segmentation.act.assign import build_model

    _, table = base
    dataset = load_table(table.iloc[:300].to_csv(index=False).encode(), name="few.csv")
    result = run(dataset.table, CONFIG, digest=dataset.digest)
    model = build_model(result)
    known = labelled_customers(result, with_distance=False)[["customer_id", *SEGMENT_COLUMNS]].set_index(
        "customer_id")
    known.iloc[0, 1] = "Hand-made name"  # shows the sample's own value wins over the model's vote
    worker = LabelBatch(model.to_bytes(), known, leave_out=["email"], mask=["review"])
    batch = table.iloc[:310].astype(str).reset_index(drop=True)
    batch.loc[1, "review"] = "call me on mail@example.com"
    out = worker(batch)
    assert len(out) == 310 and "email" not in out.columns
    assert out.loc[0, "segment_name"] == "Hand-made name"
    assert out.loc[1, "review"] == "call me on <EMAIL>"
    assigned = model.assign(batch.iloc[300:])
    assert out["segment_id"].iloc[300:].tolist() == assigned["segment_id"].tolist()


def test_a_short_output_is_an_error_not_a_silent_loss(base, tmp_path, monkeypatch):
    folder, table = base

    def lose_rows(files, kind, columns, out, *rest):
        table.iloc[:5].to_parquet(out / "part.parquet")
        return 2, {}

    monkeypatch.setattr(scale_run, "_label_on_ray", lose_rows)
    with pytest.raises(DataError, match=r"2,000 customers were read but 5 written"):
        run_with_ray(folder / "csv", tmp_path / "out", CONFIG, sample_size=300)


def test_inputs_without_an_id_or_with_a_tiny_sample_are_refused(base, tmp_path):
    _, table = base
    no_id = tmp_path / "no_id.csv"
    table[["age", "total_spend", "review"]].iloc[:400].to_csv(no_id, index=False)
    with pytest.raises(DataError, match=r"needs a customer id column .* or use the local engine"):
        run_with_ray(no_id, tmp_path / "out", CONFIG, sample_size=200)
    with pytest.raises(ConfigError, match=r"sample size must be at least 100 customers\. Got 10"):
        run_with_ray(no_id, tmp_path / "out2", CONFIG, sample_size=10)


def test_ray_usage_statistics_are_off_before_ray_is_imported(monkeypatch):
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "1")
    import_ray()
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
    from ray._common.usage import usage_lib

    assert usage_lib.usage_stats_enabled() is False
