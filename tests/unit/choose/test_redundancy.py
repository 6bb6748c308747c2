"""Segments that repeat a column: detected (V, ARI, U), said in words, and avoided by the automatic mode."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.choose.diagnostics import result_warnings
from segmentation.choose.redundancy import (
    column_overlaps,
    cramers_v,
    explained_share,
    prefer_informative,
    repeated_columns,
)
from segmentation.choose.search import COLUMNS, Leaderboard
from segmentation.config import ClusterConfig, RunConfig
from segmentation.pipeline import SegmentationResult
from segmentation.segment.cluster import cluster


def copied(seed: int = 0, n: int = 400) -> tuple[np.ndarray, pd.DataFrame, dict[str, str]]:
    """Segments equal to Department Name except for 5% of customers; Colour unrelated; an id-like code."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    department = np.array(["Tops", "Dresses", "Bottoms"], dtype=object)[labels]
    flip = rng.random(n) < 0.05
    department[flip] = rng.choice(["Tops", "Dresses", "Bottoms"], flip.sum())
    table = pd.DataFrame({"Department Name": department, "Colour": rng.choice(["red", "blue", "green"], n),
                          "code": [f"K{i}" for i in range(n)], "spend": rng.normal(size=n)})
    roles = {"Department Name": "categorical", "Colour": "categorical", "code": "categorical", "spend": "numeric"}
    return labels, table, roles


def test_cramers_v_and_explained_share_on_hand_made_tables() -> None:
    a = np.repeat([0, 1, 2], 50)
    assert cramers_v(a, a) == pytest.approx(1.0) and explained_share(a, a) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    assert cramers_v(a, rng.integers(0, 3, 150)) < 0.15
    finer = np.repeat([0, 1, 2, 3], 50)            # two segments inside each of two departments
    department = np.repeat([0, 1], 100)
    assert cramers_v(finer, department) == pytest.approx(1.0, abs=0.01)
    assert explained_share(finer, department) == pytest.approx(0.5)
    assert cramers_v(a, np.zeros(150)) == 0.0


def test_a_copied_column_is_detected_and_an_unrelated_one_is_not() -> None:
    labels, table, roles = copied()
    overlaps = {o.column: o for o in column_overlaps(labels, table, roles)}
    assert set(overlaps) == {"Department Name", "Colour"}          # the id-like code is not compared
    department = overlaps["Department Name"]
    assert department.cramers_v > 0.9 and department.ari > 0.8 and department.repeats
    assert not overlaps["Colour"].repeats and overlaps["Colour"].cramers_v < 0.2
    assert [o.column for o in repeated_columns(labels, table, roles)] == ["Department Name"]
    assert re.match(r"These segments mostly repeat Department Name \(Cramér's V 0\.9\d, adjusted Rand index 0\.\d\d\)",
                    department.message)
    assert "'Department Name'" in department.message and "re-run without it" in department.message


def test_segments_that_split_a_column_further_do_not_repeat_it() -> None:
    labels = np.repeat([0, 1, 2, 3], 50)
    table = pd.DataFrame({"Department Name": np.repeat(["Tops", "Dresses"], 100)})
    assert repeated_columns(labels, table, {"Department Name": "categorical"}) == []


def _result(table: pd.DataFrame, roles: dict[str, str], labels: np.ndarray, embedding: np.ndarray,
            ) -> SegmentationResult:
    n = len(labels)
    return SegmentationResult(
        config=RunConfig(cluster=ClusterConfig.make("kmeans", n_clusters=int(labels.max()) + 1)), data_digest="t",
        table=table, roles=roles, row_ids=np.arange(n).astype(str), texts=np.array([""] * n, dtype=object),
        features=embedding, embedding=embedding, coords=embedding[:, :2], labels=labels, confidence=np.ones(n),
        metrics={"silhouette": 0.7}, profiles=())


def test_the_finding_appears_among_the_warnings() -> None:
    labels, table, roles = copied()
    findings = result_warnings(_result(table, roles, labels, np.zeros((len(labels), 2))))
    found = [d for d in findings if d.code == "repeats_column"]
    assert len(found) == 1 and found[0].severity == "warning" and "Department Name" in found[0].message
    unrelated = result_warnings(_result(table.drop(columns="Department Name"), roles, labels,
                                        np.zeros((len(labels), 2))))
    assert "repeats_column" not in [d.code for d in unrelated]


def test_the_automatic_mode_prefers_a_close_runner_up_that_adds_information() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [0, 8], [30, 0], [30, 8]], dtype=float)
    Z = np.vstack([c + rng.normal(0, 0.5, (50, 2)) for c in centres])
    two, four = ClusterConfig.make("kmeans", n_clusters=2), ClusterConfig.make("kmeans", n_clusters=4)
    department = np.where(cluster(Z, two, 42).labels == 0, "Tops", "Dresses")  # the 2-segment answer, as a column
    table = pd.DataFrame({"Department Name": department})
    result = _result(table, {"Department Name": "categorical"}, cluster(Z, two, 42).labels, Z)

    def board(scores: tuple[float, float]) -> Leaderboard:
        frame = pd.DataFrame([{c: None for c in COLUMNS} for _ in range(2)])
        frame["algorithm"], frame["params"] = "kmeans", ["n_clusters=2", "n_clusters=4"]
        frame["n_segments"], frame["score"], frame["silhouette"] = [2, 4], list(scores), list(scores)
        frame["eligible"], frame["label"], frame["config"] = True, ["k-means, 2 segments", "k-means, 4 segments"], \
            [two, four]
        return Leaderboard(frame=frame, recommended=0, reason="2 segments: the best silhouette.")

    chosen = prefer_informative(board((0.80, 0.77)), result)
    assert chosen.recommended == 0 and chosen.recommended_config == four
    assert re.search(r"k-means, 2 segments scores 0\.80, but its segments mostly repeat Department Name "
                     r"\(Cramér's V 1\.00\)", chosen.reason), chosen.reason
    far = prefer_informative(board((0.80, 0.60)), result)     # too costly: the recommendation stays
    assert far.recommended_config == two and far.reason == "2 segments: the best silhouette."
