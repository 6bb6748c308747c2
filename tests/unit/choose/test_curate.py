"""Curation: merge, split, move, place the unassigned; ids and names follow; steps are JSON; undo works."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation.choose.curate import (
    CurationHistory,
    CurationStep,
    assign_noise_to_nearest,
    carry_names,
    merge,
    move,
    split,
)
from segmentation.errors import ConfigError

LABELS = np.array([0, 0, 0, 1, 1, 2, 2, -1])


def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Segment 0 is two blobs (rows 0-29 near (0, 0), rows 30-49 near (10, 0)); segment 1 near (0, 10);
    two unassigned customers, one near each of segment 0's first blob and segment 1."""
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal((0, 0), 0.5, (30, 2)), rng.normal((10, 0), 0.5, (20, 2)),
                        rng.normal((0, 10), 0.5, (25, 2)), [[0.5, 0.5], [0.2, 9.0]]])
    labels = np.array([0] * 50 + [1] * 25 + [-1, -1])
    return labels, points


# --------------------------------------------------------------------------- merge
def test_merge_keeps_the_smallest_id_and_maps_the_others() -> None:
    labels, mapping = merge(LABELS, [2, 1])
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 1, -1]
    assert mapping == {-1: -1, 0: 0, 1: 1, 2: 1}
    assert LABELS.tolist() == [0, 0, 0, 1, 1, 2, 2, -1]          # the input is never changed


def test_merge_refuses_unknown_or_single_segments() -> None:
    with pytest.raises(ConfigError, match=r"segment 7 does not exist\. Existing segment ids: 0, 1, 2"):
        merge(LABELS, [0, 7])
    with pytest.raises(ConfigError, match="at least two different segments"):
        merge(LABELS, [1, 1])
    with pytest.raises(ConfigError, match="does not exist"):
        merge(LABELS, [-1, 0])                                   # Unassigned is not a segment to merge


# --------------------------------------------------------------------------- split
def test_split_recovers_two_blobs_and_appends_a_new_id() -> None:
    labels, points = blobs()
    outcome = split(labels, points, segment=0, k=2, random_state=0)
    assert outcome.labels[:30].tolist() == [0] * 30              # the larger part keeps the id (and the name)
    assert outcome.labels[30:50].tolist() == [2] * 20            # the other gets the next free id
    assert outcome.labels[50:].tolist() == labels[50:].tolist()
    assert outcome.mapping == {-1: -1, 0: 0, 1: 1} and outcome.created == (2,)
    again = split(labels, points, segment=0, k=2, random_state=0)
    assert np.array_equal(again.labels, outcome.labels)


def test_split_needs_the_embedding_and_a_sensible_k() -> None:
    labels, points = blobs()
    with pytest.raises(ConfigError, match="needs the cluster-space embedding"):
        split(labels, None, 0)
    with pytest.raises(ConfigError, match=r"'k' setting of split must be between 2 and 20.*Got 1"):
        split(labels, points, 0, k=1)
    with pytest.raises(ConfigError, match="embedding has shape"):
        split(labels, points[:10], 0)


# --------------------------------------------------------------------------- move
def test_move_to_existing_new_and_unassigned() -> None:
    labels, mapping = move(LABELS, [3, 4], 0)
    assert labels.tolist() == [0, 0, 0, 0, 0, 2, 2, -1]
    assert mapping[1] is None and mapping[2] == 2                 # segment 1 has no customer left
    outcome = move(LABELS, np.array([False] * 6 + [True, True]), 5)
    assert outcome.labels.tolist() == [0, 0, 0, 1, 1, 2, 5, 5] and outcome.created == (5,)
    assert move(LABELS, [0], -1).labels.tolist()[0] == -1
    with pytest.raises(ConfigError, match="No customers are selected"):
        move(LABELS, [], 1)
    with pytest.raises(ConfigError, match="between 0 and 7"):
        move(LABELS, [8], 1)


# --------------------------------------------------------------------------- unassigned
@pytest.mark.parametrize("method", ["centroid", "neighbours"])
def test_unassigned_customers_go_to_the_nearest_segment(method: str) -> None:
    labels, points = blobs()
    outcome = assign_noise_to_nearest(labels, points, method=method)
    assert outcome.labels[-2:].tolist() == [0, 1]
    assert (outcome.labels >= 0).all() and np.array_equal(outcome.labels[:-2], labels[:-2])
    assert outcome.mapping == {-1: None, 0: 0, 1: 1}


def test_unassigned_policy_refuses_when_nothing_is_assigned() -> None:
    with pytest.raises(ConfigError, match="Every customer is unassigned"):
        assign_noise_to_nearest([-1, -1], np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="'centroid' or 'neighbours'"):
        assign_noise_to_nearest([0, -1], np.zeros((2, 2)), method="magic")


# --------------------------------------------------------------------------- names follow
def test_names_follow_their_segments() -> None:
    names = {0: "Loyal", 1: "Lapsed", 2: "Unhappy"}
    assert carry_names(names, merge(LABELS, [1, 2]).mapping) == {0: "Loyal", 1: "Lapsed"}
    # the surviving id had no name: the merged-in segment's name moves over
    assert carry_names({2: "Unhappy"}, merge(LABELS, [0, 2]).mapping) == {0: "Unhappy"}
    assert carry_names(names, move(LABELS, [3, 4], 0).mapping) == {0: "Loyal", 2: "Unhappy"}


# --------------------------------------------------------------------------- steps and history
def test_steps_are_plain_json_and_validated() -> None:
    step = CurationStep("move", {"rows": np.array([1, 2]), "target": np.int64(3)})
    assert step.to_dict() == {"kind": "move", "params": {"rows": [1, 2], "target": 3}}
    assert CurationStep.from_dict(json.loads(json.dumps(step.to_dict()))) == step
    assert step.describe() == "Moved 2 customers to segment 4"
    with pytest.raises(ConfigError, match="'kind' of a curation step must be one of"):
        CurationStep("delete", {})
    with pytest.raises(ConfigError, match=r"Missing: \['segments'\]"):
        CurationStep("merge", {})
    with pytest.raises(ConfigError, match=r"unknown: \['colour'\]"):
        CurationStep("split", {"segment": 0, "colour": "red"})


def test_history_replays_composes_ids_and_undoes() -> None:
    labels, points = blobs()
    history = (CurationHistory()
               .push(CurationStep("split", {"segment": 0, "k": 2, "random_state": 0}))
               .push(CurationStep("merge", {"segments": [1, 2]}))
               .push(CurationStep("assign_noise", {})))
    final = history.replay(labels, points)
    assert final.labels[:30].tolist() == [0] * 30 and set(final.labels[30:75].tolist()) == {1}
    assert (final.labels >= 0).all()
    assert final.mapping == {-1: None, 0: 0, 1: 1}
    assert final.created == (1,)                                 # id 2 from the split ended in segment 1

    restored = CurationHistory.from_list(json.loads(json.dumps(history.to_list())))
    assert np.array_equal(restored.replay(labels, points).labels, final.labels)

    undone = history.undo()
    assert len(undone) == 2 and len(history) == 3                # histories are immutable
    assert (undone.replay(labels, points).labels[-2:] == -1).all()
    assert np.array_equal(undone.undo().undo().replay(labels, points).labels, labels)
    with pytest.raises(ConfigError, match="nothing to undo"):
        CurationHistory().undo()
    assert not CurationHistory().can_undo and history.can_undo


# --------------------------------------------------------------------------- a run as the analyst left it
def small_result():
    """A real run of 40 customers in three groups (k-means, PCA), for the functions that take a result."""
    import pandas as pd

    from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
    from segmentation.pipeline import StageCache, run

    rng = np.random.default_rng(1)
    table = pd.DataFrame({"customer_id": [f"C{i}" for i in range(39)],
                          "spend": [(20, 200, 600)[i % 3] + rng.normal(0, 3) for i in range(39)],
                          "visits": [(1, 8, 3)[i % 3] for i in range(39)]})
    config = RunConfig(reduce=ReduceConfig(method="pca", n_components=2, map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    return run(table, config, cache=StageCache())


def test_apply_curation_replays_stored_steps_and_recomputes_profiles() -> None:
    from segmentation.choose.curate import apply_curation

    result = small_result()
    before = result.labels.copy()
    # as a workspace stores a step: the app's undo information beside it is ignored
    stored = [{"kind": "merge", "params": {"segments": [1, 2]}, "mapping": {"1": 1, "2": 1}, "annotations": {}}]
    curated = apply_curation(result, stored)
    assert curated.labels.tolist() == np.where(before == 2, 1, before).tolist()
    assert curated.n_segments == 2 and curated.metrics["n_segments"] == 2
    assert sorted((p.segment, p.size) for p in curated.profiles) == [(0, 13), (1, 26)]
    assert curated.notes[-1] == "Changed by hand after the run: Merged segments 2, 3."
    assert np.array_equal(result.labels, before)                 # the run itself is never changed
    history = CurationHistory.from_list(stored)
    assert np.array_equal(apply_curation(result, history).labels, curated.labels)
    assert apply_curation(result, []) is result and apply_curation(result, None) is result
    with pytest.raises(ConfigError, match=r"segment 7 does not exist"):
        apply_curation(result, [{"kind": "merge", "params": {"segments": [0, 7]}}])


def test_apply_descriptions_puts_the_analyst_s_words_in_the_profiles() -> None:
    from segmentation.choose.curate import apply_descriptions

    result = small_result()
    described = apply_descriptions(result, {1: "Big spenders", 2: "  ", 9: "no such segment"})
    words = {p.segment: p.description for p in described.profiles}
    generated = {p.segment: p.description for p in result.profiles}
    assert words[1] == "Big spenders" and words[0] == generated[0] and words[2] == generated[2]
    assert apply_descriptions(result, {}) is result
