"""Scoring at scale: Ray Data on a local 2-CPU Ray, the one-process engine, and their input checks.

The Ray test needs requirements-scale.txt installed; without Ray it fails (it is not skipped), so a CI
without the optional dependency shows it plainly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.assign import build_model
from segmentation.act.scale import assign_local, assign_with_ray, import_ray, input_files, read_assigned
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.read import load_table
from segmentation.pipeline import run

REPO = Path(__file__).resolve().parents[3]
TEXT_CONFIG = RunConfig(text=TextConfig(columns=("review",), model="tfidf"),
                        reduce=ReduceConfig(method="pca", map_method="pca"),
                        cluster=ClusterConfig.make("kmeans", n_clusters=5))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    dataset = load_table(REPO / "assets" / "demo_customers.csv")
    result = run(dataset.table, TEXT_CONFIG, digest=dataset.digest)
    model = build_model(result)
    folder = tmp_path_factory.mktemp("scale")
    path = model.save(folder / "model.segmodel")
    return model, path, dataset.table, folder


def test_ray_scores_a_folder_in_partitions_and_counts_every_row(saved, tmp_path):
    model, path, table, _ = saved
    sample = table.iloc[:300]
    source = tmp_path / "new"
    source.mkdir()
    sample.iloc[:120].to_csv(source / "part-1.csv", index=False)  # two files: two partitions read in parallel
    sample.iloc[120:].to_csv(source / "part-2.csv", index=False)
    summary = assign_with_ray(path, source, tmp_path / "out", num_cpus=2, batch_size=100)
    assert summary.rows_in == summary.rows_out == 300 and summary.engine == "ray"
    scored = read_assigned(tmp_path / "out").sort_values("customer_id").reset_index(drop=True)
    expected = model.assign(sample).sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_array_equal(scored["segment_id"].to_numpy(), expected["segment_id"].to_numpy())
    np.testing.assert_allclose(scored["confidence"], expected["confidence"])
    assert scored["segment_name"].tolist() == expected["segment_name"].tolist()


def test_ray_splits_parquet_input_for_every_worker(saved, tmp_path):
    # Ray's Parquet reader handed four files over as one block, so one worker did all the work (1M customers:
    # 3.7x slower than one process); the input is now split into partitions for the workers
    model, path, table, _ = saved
    source = tmp_path / "parquet"
    source.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(400), 4)):
        table.iloc[rows].astype(str).to_parquet(source / f"part-{i}.parquet", index=False)
    summary = assign_with_ray(path, source, tmp_path / "out", num_cpus=2, batch_size=50)
    assert summary.rows_in == summary.rows_out == 400
    assert len(summary.files) >= 2, summary.files  # one output file per block written
    scored = read_assigned(tmp_path / "out").sort_values("customer_id").reset_index(drop=True)
    expected = model.assign(table.iloc[:400]).sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_array_equal(scored["segment_id"].to_numpy(), expected["segment_id"].to_numpy())


def test_ray_labels_each_parquet_file_as_a_block_of_its_own_without_a_repartition(saved, tmp_path):
    # Ray 2.60's newer Parquet reader listed the files in a task of its own and read them all as one block, so
    # every run repartitioned (a barrier: all rows read before the first was labelled). With at least a file
    # per block, each file is now read and labelled as it comes: one output file per input file, same rows
    import pyarrow.parquet as pq
    import ray

    model, path, table, _ = saved
    source = tmp_path / "parquet"
    source.mkdir()
    sizes = [40, 55, 70, 85, 100, 50]   # uneven: a repartition would have split them into equal blocks
    bounds = np.cumsum([0, *sizes])
    for i in range(len(sizes)):
        table.iloc[bounds[i]:bounds[i + 1]].to_parquet(source / f"part-{i}.parquet", index=False)
    summary = assign_with_ray(path, source, tmp_path / "out", num_cpus=2, batch_size=30)
    assert summary.rows_in == summary.rows_out == 400
    assert sorted(pq.ParquetFile(f).metadata.num_rows for f in summary.files) == sorted(sizes)
    file_of = {cid: i for i in range(len(sizes)) for cid in table["customer_id"].iloc[bounds[i]:bounds[i + 1]]}
    for file in summary.files:   # every output file holds the customers of one input file
        assert len({file_of[c] for c in pq.read_table(file)["customer_id"].to_pylist()}) == 1, file
    scored = read_assigned(tmp_path / "out").sort_values("customer_id").reset_index(drop=True)
    expected = model.assign(table.iloc[:400]).sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_array_equal(scored["segment_id"].to_numpy(), expected["segment_id"].to_numpy())
    # the classic reader is asked for this read only: Ray's own setting is left as it was
    assert ray.data.DataContext.get_current().use_datasource_v2 is True


def test_ray_timings_read_ray_datas_statistics_and_never_fail():
    from segmentation.act.scale import ray_timings

    class Stats:  # the shape of Ray Data's DatasetStatsSummary, hand-made
        def __init__(self, operators, parents=()):
            self.operators_stats, self.parents = operators, list(parents)

    def op(name, wall, cpu):
        return type("Op", (), {"operator_name": name, "wall_time": type("S", (), {"sum": wall})(),
                               "cpu_time": type("S", (), {"sum": cpu})()})()

    read = Stats([op("ReadParquet", 0.5, 0.4)])
    written = Stats([op("MapBatches(LabelBatch)", 8.0, 6.0), op("Write", 0.25, 0.2)], parents=[read])
    dataset = type("Dataset", (), {"get_stats_summary": lambda self: written})()
    assert ray_timings(dataset) == {"read busy": 0.5, "label busy": 8.0, "label cpu": 6.0, "write busy": 0.25}
    assert ray_timings(object()) == {}   # no statistics: a diagnosis missing, not a failed run


def test_local_engine_scores_a_folder_and_matches_the_model(saved, tmp_path):
    model, path, table, _ = saved
    folder = tmp_path / "parts"
    folder.mkdir()
    table.iloc[:150].to_csv(folder / "a.csv", index=False)
    table.iloc[150:400].to_csv(folder / "b.csv", index=False)
    summary = assign_local(path, folder, tmp_path / "out", batch_size=64)
    assert summary.rows_in == summary.rows_out == 400
    scored = read_assigned(tmp_path / "out")
    expected = model.assign(table.iloc[:400])
    assert scored["customer_id"].tolist() == expected["customer_id"].tolist()
    assert scored["segment_id"].tolist() == expected["segment_id"].tolist()
    with pytest.raises(ConfigError, match="already holds Parquet"):
        assign_local(path, folder, tmp_path / "out")


def test_inputs_are_checked_before_any_work(saved, tmp_path):
    _, path, table, _ = saved
    with pytest.raises(DataError, match="does not exist"):
        input_files(tmp_path / "nothing")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    table.iloc[:5].to_csv(mixed / "a.csv", index=False)
    table.iloc[:5].to_parquet(mixed / "b.parquet")
    with pytest.raises(DataError, match="mixes CSV and Parquet"):
        input_files(mixed)
    files, kind = input_files(mixed / "b.parquet")
    assert kind == "parquet" and files == [mixed / "b.parquet"]
    renamed = tmp_path / "renamed.csv"
    table.iloc[:5].rename(columns={"orders": "Orders"}).to_csv(renamed, index=False)
    # the column check runs before Ray is started, with the same near-match hint as the app
    with pytest.raises(DataError, match="did you mean 'Orders'"):
        assign_with_ray(path, renamed, tmp_path / "never")


def test_missing_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if it were not installed
    with pytest.raises(ConfigError, match="requirements-scale.txt"):
        import_ray()


def test_read_assigned_needs_parquet_files(tmp_path):
    with pytest.raises(DataError, match="No Parquet files"):
        read_assigned(tmp_path)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.parquet")
    assert read_assigned(tmp_path)["a"].tolist() == [1]


def test_a_worker_error_is_shown_as_the_library_error_it_was():
    from segmentation.act.scale import _segmentation_cause

    try:
        try:
            raise DataError("The file lacks 'age'.")
        except DataError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert str(_segmentation_cause(outer)) == "The file lacks 'age'."
    # Ray Data passes on only the text of what a worker raised
    remote = RuntimeError("ray::MapWorker.submit()\n  File x.py\nsegmentation.errors.ConfigError: Model missing.\n")
    found = _segmentation_cause(remote)
    assert isinstance(found, ConfigError) and str(found) == "Model missing."
    assert _segmentation_cause(ValueError("a bug")) is None
