"""ui.state.Studio on a plain dict: one place clears derived state; everything persists as plain pieces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation.config import ClusterConfig, RunConfig
from segmentation.ingest.read import Dataset, LoadReport
from segmentation.pipeline import SegmentationResult
from ui.state import Source, Studio


def dataset(name: str = "customers.csv") -> Dataset:
    report = LoadReport("csv", "utf-8", ",", 3, 3, 0, pd.DataFrame(columns=["line", "reason", "raw"]), (), {}, ())
    return Dataset(pd.DataFrame({"id": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0]}), name, "digest-" + name, report)


def result(config: RunConfig, digest: str = "digest-customers.csv") -> SegmentationResult:
    n = 3
    return SegmentationResult(config=config, data_digest=digest, table=dataset().table, roles={"id": "id"},
                              row_ids=np.array(["a", "b", "c"]), texts=np.array([""] * n, dtype=object),
                              features=np.zeros((n, 1)), embedding=np.zeros((n, 1)), coords=np.zeros((n, 2)),
                              labels=np.array([0, 0, 1]), confidence=np.ones(n),
                              metrics={"n_segments": 2, "silhouette": 0.3}, profiles=())


@pytest.fixture()
def studio() -> Studio:
    state = Studio({})
    state.set_dataset(dataset(), Source("customers.csv", b"id,spend\n"))
    return state


def test_a_new_dataset_clears_everything_derived_from_the_old_one(studio: Studio) -> None:
    config = RunConfig(cluster=ClusterConfig.make("kmeans", n_clusters=2))
    studio.set_role_overrides({"spend": "ignore"})
    studio.set_run_config(config)
    studio.set_form_value("model_choice", "tfidf")
    run = studio.add_run(config, result(config))
    studio.annotate(0, "name", "Loyal")
    studio.set_choice("map_colour", "spend")
    studio.set_load_error("bad.csv could not be loaded.")

    studio.set_dataset(dataset("other.csv"), notice="Loaded other.csv")

    assert studio.dataset.name == "other.csv" and studio.pop_notice() == "Loaded other.csv"
    assert studio.role_overrides == {} and studio.run_config is None and studio.form_value("model_choice") is None
    assert studio.runs == [] and studio.current_run is None and studio.result is None
    assert studio.segment_names(run.run_id) == {} and studio.choice("map_colour") is None
    assert studio.load_error is None


def test_runs_are_numbered_and_the_newest_is_current(studio: Studio) -> None:
    first = studio.add_run(RunConfig(), result(RunConfig()), seconds=1.5)
    second_config = RunConfig(random_state=7)
    second = studio.add_run(second_config, result(second_config))
    assert (first.number, second.number) == (1, 2) and first.run_id != second.run_id
    assert studio.current_run == second and first.title == "Run 1 · k-means"
    assert studio.find_run(RunConfig()) == first and studio.find_run(RunConfig(random_state=9)) is None
    studio.select_run(first.run_id)
    assert studio.result is first.result
    studio.select_run("no-such-run")
    assert studio.current_run == first


def test_segment_names_are_kept_per_run_and_tidied(studio: Studio) -> None:
    first = studio.add_run(RunConfig(), result(RunConfig()))
    studio.annotate(0, "name", "  Big   spenders ")
    studio.annotate(1, "notes", "call them")
    second = studio.add_run(RunConfig(random_state=1), result(RunConfig(random_state=1)))
    assert studio.segment_names() == {}
    assert studio.segment_names(first.run_id) == {0: "Big spenders"}
    assert studio.annotations(first.run_id)[1] == {"notes": "call them"}
    studio.annotate(0, "name", "", second.run_id)
    assert studio.segment_names(second.run_id) == {}
    with pytest.raises(ValueError, match="field_name must be one of"):
        studio.annotate(0, "colour", "red")


def test_an_upload_is_handled_once(studio: Studio) -> None:
    assert studio.upload_is_new("data_upload:1")
    assert not studio.upload_is_new("data_upload:1")
    assert studio.upload_is_new("data_upload:2")


def test_routing_mark_lasts_one_run(studio: Studio) -> None:
    assert not studio.pop_routed()
    studio.mark_routed()
    assert studio.pop_routed() and not studio.pop_routed()


def test_snapshot_is_json_and_restores_the_session(studio: Studio) -> None:
    config = RunConfig(cluster=ClusterConfig.make("kmeans", n_clusters=2))
    studio.set_role_overrides({"spend": "numeric"})
    studio.set_run_config(config)
    run = studio.add_run(config, result(config), seconds=2.0)
    studio.annotate(1, "name", "Occasional")
    studio.set_choice("map_hover", ["spend"])

    snapshot = json.loads(json.dumps(studio.snapshot()))
    restored = Studio({})
    restored.restore(snapshot, dataset(), {run.run_id: run.result})

    assert restored.snapshot() == snapshot
    assert restored.current_run.config == config and restored.current_run.seconds == 2.0
    assert restored.segment_names() == {1: "Occasional"} and restored.choice("map_hover") == ["spend"]
    assert restored.role_overrides == {"spend": "numeric"} and restored.run_config == config
