"""Automatic mode: planted structure is found, structureless data is called so, every row can be re-run."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.datasets import make_blobs

from segmentation.choose.diagnostics import leaderboard_curves
from segmentation.choose.search import COLUMNS, Leaderboard, auto_segment, default_k_max, null_silhouette, search
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
from segmentation.errors import ConfigError, DataError
from segmentation.plots import quality as plots_quality
from segmentation.segment.cluster import CLUSTERERS, cluster


@pytest.fixture(scope="module")
def four_blobs() -> tuple[np.ndarray, Leaderboard]:
    Z, _ = make_blobs(n_samples=400, n_features=5, centers=4, random_state=1)
    return Z, search(Z, random_state=0)


@pytest.fixture(scope="module")
def uniform() -> Leaderboard:
    return search(np.random.default_rng(0).uniform(size=(400, 5)), random_state=0)


def test_four_planted_segments_are_recommended(four_blobs: tuple[np.ndarray, Leaderboard]) -> None:
    _, board = four_blobs
    best = board.recommended_row
    assert board.recommended == 0
    assert best["n_segments"] == 4
    assert best["eligible"] and best["silhouette"] > 0.7 and best["stability"] > 0.95
    assert board.structure == "clear"
    # the settings in words, no "n_clusters=4" (issue 15)
    assert board.reason.startswith("4 segments (k-means, asked for 4): the best silhouette")
    assert "no segment under 3% and at most 10% unassigned" in board.reason


def test_seven_planted_segments_are_recommended() -> None:
    Z, _ = make_blobs(n_samples=560, n_features=5, centers=7, cluster_std=0.8, random_state=3)
    board = search(Z, random_state=0, stability_resamples=1)
    assert board.recommended_row["n_segments"] == 7
    assert board.reason.startswith("7 segments")


def test_one_group_against_everyone_else_loses_to_the_real_groups() -> None:
    # three groups side by side and a fourth far away: silhouette alone prefers "far group vs the rest"
    centres = [[0, 0, 0, 0], [5, 0, 0, 0], [0, 5, 0, 0], [14, 0, 0, 0]]
    Z, _ = make_blobs(n_samples=400, n_features=4, centers=centres, cluster_std=0.8, random_state=0)
    board = search(Z, algorithms=("kmeans",), stability_resamples=1, random_state=0)
    two = board.frame[board.frame["n_segments"] == 2].iloc[0]
    assert two["silhouette"] > board.recommended_row["silhouette"]
    assert board.recommended_row["n_segments"] == 4
    assert "k-means, 2 segments separates better (0.67) but puts 75% of customers in one segment" in board.reason


def test_structureless_data_says_no_clear_segments(uniform: Leaderboard) -> None:
    assert uniform.structure == "weak"
    assert uniform.reason.startswith("No clear segments found: the structure is weak")
    # still a least-bad answer the analyst can open, and its silhouette is no better than on random data
    assert uniform.recommended == 0
    assert uniform.recommended_row["silhouette"] < uniform.null_silhouette + 0.1


def test_every_candidate_in_the_leaderboard(four_blobs: tuple[np.ndarray, Leaderboard]) -> None:
    Z, board = four_blobs
    frame = board.frame
    assert list(frame.columns) == list(COLUMNS)
    k_max = default_k_max(len(Z))
    assert k_max == 8
    for algorithm in ("kmeans", "gmm", "agglomerative"):
        assert sorted(frame.loc[frame["algorithm"] == algorithm, "params"]) == \
            sorted(f"n_clusters={k}" for k in range(2, k_max + 1))
    assert (frame["algorithm"] == "hdbscan").sum() >= 4 and (frame["algorithm"] == "dbscan").sum() == 3
    assert frame["params"][frame["algorithm"] == "dbscan"].str.contains("eps=").all()
    # eligibility follows the rules, and each rejected row says why
    eligible = frame[frame["eligible"]]
    assert (eligible["smallest_share"] >= 0.03).all() and (eligible["noise_share"] <= 0.10).all()
    assert (frame.loc[~frame["eligible"], "why_not"].str.len() > 0).all()
    assert (frame["seconds"] >= 0).all() and frame["stability"].between(-1, 1).all()
    table = board.table()
    assert "config" not in table.columns and table["recommended"].sum() == 1


def test_a_row_re_runs_to_the_same_segments(four_blobs: tuple[np.ndarray, Leaderboard]) -> None:
    Z, board = four_blobs
    for row in (0, int(board.frame.index[board.frame["params"] == "n_clusters=6"][0])):
        config = board.config(row)
        assert isinstance(config, ClusterConfig)
        assert cluster(Z, config, 0).labels.max() + 1 == board.frame.at[row, "n_segments"]


def test_large_data_is_searched_on_a_sample_with_counts_scaled_back() -> None:
    Z, _ = make_blobs(n_samples=1200, n_features=3, centers=3, random_state=4)
    seen: list[tuple[str, float]] = []
    board = search(Z, algorithms=("kmeans", "hdbscan"), sample_size=400, stability_resamples=0,
                   random_state=0, on_progress=lambda stage, f: seen.append((stage, f)))
    assert board.sample_rows == 400 and board.n_rows == 1200
    assert "sample of 400 of 1,200 customers" in board.notes[0]
    sizes = [dict(c.params)["min_cluster_size"] for c in board.frame["config"] if c.algorithm == "hdbscan"]
    assert min(sizes) == 15  # 5 customers in the 400-row sample stand for 15 in all 1,200
    assert board.recommended_row["n_segments"] == 3
    assert board.frame["stability"].isna().all()
    assert {s for s, _ in seen} == {"search"} and seen[-1][1] == 1.0
    assert [f for _, f in seen] == sorted(f for _, f in seen)


def test_null_silhouette_matches_structureless_data() -> None:
    rng = np.random.default_rng(3)
    square = rng.uniform(size=(600, 2))
    # k-means on a uniform square scores about 0.4 although there are no groups: the reference sees the same
    assert 0.3 < null_silhouette(square, 4, 0) < 0.5


def test_bad_settings_are_refused_with_clear_messages() -> None:
    Z = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(ConfigError, match="'algorithms' setting"):
        search(Z, algorithms=("kmeans", "spectral"))
    with pytest.raises(ConfigError, match="at least 20 customers"):
        search(Z[:10])
    with pytest.raises(ConfigError, match="'k_range' setting"):
        search(Z, k_range=(1, 4))
    with pytest.raises(DataError, match="missing or infinite"):
        search(np.where(np.eye(100, 3) > 0, np.nan, Z))


def test_figures_and_curves_from_the_leaderboard(four_blobs: tuple[np.ndarray, Leaderboard]) -> None:
    _, board = four_blobs
    fig = plots_quality.leaderboard_figure(board)
    assert isinstance(fig, go.Figure)
    assert "Higher is better" in fig.layout.title.subtitle.text
    star = [t for t in fig.data if t.name == "Recommended"]
    assert len(star) == 1 and star[0].x[0] == 4
    curves = leaderboard_curves(board.frame)
    kmeans = curves[curves["algorithm"] == "kmeans"]
    assert kmeans["k"].tolist() == list(range(2, 9))
    assert int(kmeans.loc[kmeans["silhouette"].idxmax(), "k"]) == 4


def _blob_table(seed: int = 5) -> pd.DataFrame:
    centres = [[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 0]]  # three groups the same distance apart
    X, _ = make_blobs(n_samples=300, n_features=4, centers=centres, cluster_std=0.8, random_state=seed)
    return pd.DataFrame(X, columns=["spend", "orders", "tenure", "visits"])


def test_auto_segment_re_runs_the_pipeline_with_the_winner() -> None:
    base = RunConfig(reduce=ReduceConfig(method="pca", n_components=4, map_method="pca"),
                     cluster=ClusterConfig.make("kmeans", n_clusters=8))
    stages: set[str] = set()
    result, board = auto_segment(_blob_table(), base, algorithms=("kmeans", "agglomerative"),
                                 stability_resamples=1, on_progress=lambda s, f: stages.add(s))
    assert result.n_segments == 3
    assert result.config.cluster == board.recommended_config != base.cluster
    assert result.config.reduce == base.reduce
    assert result.notes[0] == f"Chosen automatically: {board.reason}"
    assert {"reduce", "cluster", "search"} <= stages


def test_cli_auto_writes_the_winner_and_the_leaderboard(tmp_path, capsys) -> None:
    from segmentation.cli.choose import register

    source = tmp_path / "customers.csv"
    _blob_table(6).assign(customer_id=[f"C{i}" for i in range(300)]).to_csv(source, index=False)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["auto", str(source), "--out", str(tmp_path / "out"), "--reduce", "pca", "--map", "pca",
                              "--algorithms", "kmeans", "--resamples", "1", "--max-k", "5"])
    assert args.handler(args) == 0
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert len(board) == 4 and board["recommended"].sum() == 1
    assert board.loc[board["recommended"], "n_segments"].item() == 3
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert customers["segment_id"].nunique() == 3 and len(customers) == 300
    out = capsys.readouterr().out
    assert "Recommendation: 3 segments (k-means, asked for 3): " in out  # settings in words, not "n_clusters=3"


def test_the_leaderboard_for_people_names_settings_in_words(four_blobs: tuple[np.ndarray, Leaderboard]) -> None:
    import re

    _, board = four_blobs
    table = board.table()
    words = set(table["params"])
    assert "4 segments" in words and not any(re.search(r"\w+_\w+|=", text) for text in words), words
    hdbscan = table.loc[table["algorithm"] == CLUSTERERS["hdbscan"].label, "params"]
    assert hdbscan.str.match(r"smallest segment size \d[\d,]*, neighbours needed \d+$").all()
    assert not re.search(r"n_clusters|min_cluster_size|min_samples|=", board.reason), board.reason
    assert (board.frame["params"] == "n_clusters=4").any()   # the machine-readable column stays for the code
