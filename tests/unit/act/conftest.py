"""Runs shared by the tests of ``segmentation.act``: the demo customers with TF-IDF text (five k-means segments,
PCA), its saved model, the Mall customers (numbers only), and 36 hand-made customers for the export tables.
Built once per test session."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.assign import build_model
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.ingest.read import load_table
from segmentation.pipeline import run

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
DEMO = REPO / "assets" / "demo_customers.csv"

TEXT_CONFIG = RunConfig(text=TextConfig(columns=("review",), model="tfidf"),
                        reduce=ReduceConfig(method="pca", map_method="pca"),
                        cluster=ClusterConfig.make("kmeans", n_clusters=5))
FAST = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=5))


@pytest.fixture(scope="session")
def demo():
    """(dataset, result) of the demo customers segmented with TF-IDF text into five segments."""
    dataset = load_table(DEMO)
    return dataset, run(dataset.table, TEXT_CONFIG, digest=dataset.digest)


@pytest.fixture(scope="session")
def demo_model(demo):
    return build_model(demo[1], names={0: "Bargain hunters"})


@pytest.fixture(scope="session")
def mall():
    """(dataset, result) of the Mall customers (numbers only) in five segments."""
    dataset = load_table(DATA / "mall_customers" / "Mall_Customers.csv")
    return dataset, run(dataset.table, FAST, digest=dataset.digest)


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 36
    notes = ["fine"] * n
    notes[0] = '=HYPERLINK("http://evil.example","click")'
    notes[1] = "-5 off next time"
    notes[2] = "@channel look"
    notes[3] = "\tstarts with a tab"
    notes[4] = "\rstarts with a return"
    notes[5] = "+44 20 7946 0000"
    return pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "email": [f"person{i}@example.com" for i in range(n)],
        "+x": rng.normal(0, 1, n).round(3),  # a numeric column whose header looks like a formula
        "spend": np.r_[rng.normal(20, 2, 12), rng.normal(60, 3, 12), rng.normal(120, 5, 12)].round(2),
        "visits": np.r_[rng.integers(1, 4, 12), rng.integers(5, 9, 12), rng.integers(10, 15, 12)],
        "plan": ["basic", "plus", "pro"] * 12,
        "note": pd.array(notes, dtype="string"),
    })


@pytest.fixture(scope="session")
def small_run():
    """36 customers in three k-means segments, with PII, formula-like text, and three customers made Unassigned."""
    table = _table()
    config = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    config = replace(config, roles=config.roles.from_mapping({"email": "pii", "note": "ignore"}))
    out = run(table, config)
    labels = out.labels.copy()
    labels[:3] = -1  # a few customers fit no segment, as HDBSCAN would leave them
    return replace(out, labels=labels)


def two_themes_per_segment(result):
    """``result`` with a theme level made by hand, whatever ``segment.themes`` finds: each segment split in two
    by 2-means in its cluster space, numbered segment by segment, largest theme first, described by
    ``understand.themes.describe_themes``."""
    from sklearn.cluster import KMeans

    from segmentation.understand.themes import describe_themes

    labels = np.asarray(result.labels)
    themes, parent = np.full(len(labels), -1), {}
    for segment in sorted(set(labels.tolist()) - {-1}):
        rows = np.flatnonzero(labels == segment)
        local = KMeans(2, n_init=3, random_state=0).fit_predict(np.asarray(result.embedding)[rows])
        if (local == 1).sum() > (local == 0).sum():
            local = 1 - local
        for number in (0, 1):
            parent[len(parent)] = segment
            themes[rows[local == number]] = len(parent) - 1
    profiles = describe_themes(result.table, result.roles, themes, parent, list(result.texts), result.embedding,
                               result.row_ids)
    return replace(result, theme_labels=themes, theme_confidence=np.ones(len(labels)), theme_parent=parent,
                   theme_profiles=profiles)


@pytest.fixture(scope="session")
def themed():
    """(dataset, result, model) of the demo customers (TF-IDF text, five segments) with two themes per segment."""
    dataset = load_table(DEMO)
    result = two_themes_per_segment(run(dataset.table, TEXT_CONFIG, digest=dataset.digest))
    return dataset, result, build_model(result, names={0: "Bargain hunters"})
