"""Tags per customer: key phrases each customer wrote, own segment first; the ``tags`` column of the export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.act.tables import labelled_customers, profile_table
from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import DataError
from segmentation.pipeline import run
from segmentation.understand.tags import customer_tags
from tests.unit.understand.test_keyphrases import planted

PHRASES = {0: ("lost baggage", "baggage claim", "refund"), 1: ("late flight", "missed connection"),
           -1: ("seat",)}


def test_tags_are_the_key_phrases_each_customer_wrote() -> None:
    texts = ["They lost my baggage, refund now", "Late flight and a lost baggage claim form",
             "The late flight made me miss my connection", "Nothing to report", "", None]
    labels = np.array([0, 1, 1, 0, 1, -1])
    tags = customer_tags(texts, labels, PHRASES)
    assert tags[0] == "lost baggage; refund"
    assert tags[1] == "late flight; lost baggage; baggage claim"   # the own segment's phrase first
    assert tags[2] == "late flight"                       # "missed connection" was not what they wrote
    assert tags[3:] == ["", "", ""]


def test_tags_skip_repeated_ideas_and_keep_at_most_top() -> None:
    phrases = {0: ("lost baggage", "baggage", "refund", "claim form", "delays")}
    tags = customer_tags(["lost baggage, baggage again, refund, claim form, delays"], np.array([0]), phrases, top=3)
    assert tags == ["lost baggage; refund; claim form"]
    assert customer_tags(["anything"], np.array([0]), {}) == [""]
    with pytest.raises(DataError, match="2 texts for 1 customers"):
        customer_tags(["a", "b"], np.array([0]), phrases)


def test_the_exports_carry_tags_drawn_from_the_text_and_the_persona_names() -> None:
    texts, _ = planted(per_group=30)
    table = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(len(texts))], "message": texts,
                          "spend": np.random.default_rng(0).normal(100, 10, len(texts))})
    config = RunConfig(text=TextConfig(columns=("message",), model="tfidf", tfidf_dims=16), blend=BlendConfig(1.0),
                       reduce=ReduceConfig(method="pca", map_method="pca", n_components=4),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3), random_state=0)
    result = run(table, config, cache=None)
    customers = labelled_customers(result)
    assert "tags" in customers.columns
    for text, tags in zip(customers["message"], customers["tags"]):
        for tag in filter(None, tags.split("; ")):
            assert all(word in text.lower() for word in tag.split()), (tag, text)
    assert customers["tags"].str.contains("lost baggage|late flight|rude staff").mean() > 0.9
    profiles = profile_table(result)   # profiles.csv carries the persona names, portraits and key phrases
    assert {"suggested_name", "portrait", "key_phrases", "complaint_share"} <= set(profiles.columns)
    assert sorted(profiles["suggested_name"]) == ["Unhappy about late flight", "Unhappy about lost baggage",
                                                  "Unhappy about rude staff"]
    assert profiles["portrait"].str.startswith("Write about “").all()
    no_text = labelled_customers(run(table.drop(columns="message"), RunConfig(
        reduce=ReduceConfig(method="pca", map_method="pca"), cluster=ClusterConfig.make("kmeans", n_clusters=2)),
        cache=None))
    assert "tags" not in no_text.columns
