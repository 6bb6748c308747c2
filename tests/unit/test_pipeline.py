from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.cli.options import progress_printer
from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RolesConfig, RunConfig, TextConfig
from segmentation.errors import DataError
from segmentation.ingest.read import load_table
from segmentation.pipeline import StageCache, default_config, run, run_texts, space_key
from segmentation.represent.embed import EmbeddingCache, Progress, embed_texts

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo_customers.csv"
FAST = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=4))


def fast_text(column: str, **changes) -> RunConfig:
    return FAST.replace(text=TextConfig(columns=(column,), model="tfidf"), blend=BlendConfig(0.5), **changes)


def check_sane(result, n_rows):
    assert len(result.labels) == len(result.table) == len(result.coords) == n_rows
    assert (result.labels >= -1).all() and result.n_segments >= 2
    for key in ("silhouette", "davies_bouldin", "calinski_harabasz", "noise_share"):
        assert np.isfinite(result.metrics[key]), key
    assert sum(p.size for p in result.profiles) == n_rows
    assert np.isfinite(result.coords).all()


def test_demo_run_is_deterministic_and_profiles_every_segment():
    table = load_table(DEMO).table
    config = fast_text("review")
    a = run(table, config, cache=StageCache())
    b = run(table, config, cache=StageCache())
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.coords, b.coords)
    check_sane(a, len(table))
    assert all(p.keywords for p in a.profiles)
    # PII columns never become features, and texts are masked
    assert not any(name.startswith(("email", "full_name")) for name in a.feature_names)
    assert not any("@example" in t for t in a.texts)


def test_changing_only_the_clustering_reuses_every_earlier_stage():
    table = load_table(DEMO).table
    cache = StageCache()
    seen = []
    run(table, fast_text("review"), cache=cache)
    run(table, fast_text("review", cluster=ClusterConfig.make("kmeans", n_clusters=6)),
        on_progress=lambda stage, f: seen.append(stage), cache=cache)
    result = run(table, fast_text("review", cluster=ClusterConfig.make("gmm", n_clusters=3)), cache=cache)
    assert result.n_segments == 3
    assert result.timings["embed"] < 0.05 and result.timings["reduce"] < 0.05


def test_progress_reports_every_stage_in_order():
    stages = []
    run(load_table(DEMO).table, fast_text("review"), on_progress=lambda s, f: stages.append(s), cache=StageCache())
    order = [s for i, s in enumerate(stages) if s not in stages[:i]]
    assert order == ["prepare", "features", "embed", "reduce", "map", "cluster", "themes", "profile"]


class HalvesEmbedder:
    """A stand-in neural embedder reporting its own progress in two halves, as the real one does per batch."""

    model_id = "halves"

    def embed(self, texts, on_progress=None):
        for fraction in (0.5, 1.0):
            if on_progress:
                on_progress("embed", fraction)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_embedding_progress_counts_distinct_texts_and_starts_from_those_in_the_cache(tmp_path):
    texts = ["late parcel", "great fit", "late parcel", "", "lovely fabric", "where is my order"]  # 4 distinct
    seen = []
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    embed_texts(texts[:3], HalvesEmbedder(), cache)  # "late parcel" and "great fit" are cached now
    embed_texts(texts, HalvesEmbedder(), cache, lambda stage, f: seen.append((stage, f)))
    assert all(isinstance(f, Progress) for _, f in seen)
    assert [(s, f.done, f.total) for s, f in seen] == [("embed", 2, 4), ("embed", 3, 4), ("embed", 4, 4)]
    assert [float(f) for _, f in seen] == [0.5, 0.75, 1.0]  # still the fraction, for (stage, fraction) callbacks


def test_progress_is_a_plain_fraction_for_callbacks_that_do_not_count():
    assert Progress(1, 4) == 0.25 and f"{Progress(1, 4):.0%}" == "25%" and str(Progress(1, 4)) == "0.25"
    assert Progress(0, 0) == 1.0  # nothing to do is done
    reports = []
    run(load_table(DEMO).table, fast_text("review"), on_progress=lambda s, f: reports.append((s, f)),
        cache=StageCache())
    embed = [f for s, f in reports if s == "embed"]
    assert embed[0] == 0.0 and embed[-1] == 1.0
    counted = [f for f in embed if isinstance(f, Progress)]
    assert counted and counted[-1].done == counted[-1].total > 1000  # the demo's distinct reviews


def test_the_command_line_prints_counts_where_a_stage_reports_them(capsys):
    show = progress_printer(quiet=False)
    show("embed", Progress(0, 2000))
    show("embed", Progress(1200, 2000))
    show("reduce", 1.0)
    assert capsys.readouterr().err.splitlines() == ["  embed         0%  (0 of 2,000)",
                                                    "  embed        60%  (1,200 of 2,000)",
                                                    "  reduce      100%"]


@pytest.mark.parametrize(
    ("folder", "file", "config", "rows"),
    [
        ("mall_customers", "Mall_Customers.csv", FAST, 200),
        ("customer_personality", "marketing_campaign.csv", FAST, 2240),
        ("telco_churn", "WA_Fn-UseC_-Telco-Customer-Churn.csv", FAST, 7043),
        ("bank_marketing", "bank-full.csv", FAST, 45211),
        ("womens_clothing_reviews", "Womens Clothing E-Commerce Reviews.csv", fast_text("Review Text"), 23486),
    ],
)
def test_real_files_give_sane_segments(folder, file, config, rows):
    dataset = load_table(DATA / folder / file)
    result = run(dataset.table, config, digest=dataset.digest, cache=StageCache())
    check_sane(result, rows)


def test_known_groups_are_used_for_validation_only():
    table = load_table(DATA / "mall_customers" / "Mall_Customers.csv").table
    config = FAST.replace(roles=RolesConfig.from_mapping({"Genre": "label"}))
    result = run(table, config, cache=StageCache())
    assert not any(n.startswith("Genre") for n in result.feature_names)
    assert 0 <= result.metrics["external_nmi"] <= 1 and result.metrics["external_column"] == "Genre"


@pytest.mark.parametrize(
    ("table", "config", "message"),
    [
        (pd.DataFrame(), FAST, "no rows"),
        (pd.DataFrame({"id": [f"c{i}" for i in range(20)]}), FAST, "No usable column"),
        (pd.DataFrame({"x": np.arange(20.0), "t": [""] * 20}), fast_text("t"), "empty for every customer"),
        (pd.DataFrame({"x": np.arange(20.0)}), fast_text("nope"), "Text column 'nope' is not in the data"),
    ],
)
def test_bad_input_gets_a_specific_message(table, config, message):
    with pytest.raises(DataError, match=message):
        run(table, config, cache=StageCache())


def comments_table() -> pd.DataFrame:
    """30 customers with an id, a spend and a free-text comment about one of three topics."""
    topics = ("The delivery was late again and the parcel arrived damaged, very disappointed",
              "Great prices and a generous discount, I will buy again for the price",
              "Friendly staff on the phone, customer service solved my problem quickly")
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(30)], "spend": np.arange(30.0),
                         "comment": [f"{topics[i % 3]} (order {i})" for i in range(30)]})


def test_run_defaults_embed_every_free_text_column_and_keep_the_overrides():
    table = comments_table()
    config = default_config(table)
    assert config.text.columns == ("comment",) and config.blend.text_weight == 0.5
    assert config.roles.as_dict() == {} and config.cluster == RunConfig().cluster
    ignored = default_config(table, {"comment": "ignore"})
    assert ignored.text.columns == () and ignored.roles.as_dict() == {"comment": "ignore"}
    # roles already resolved by the caller (the app caches them) are used as given
    assert default_config(table, roles={"spend": "numeric", "comment": "categorical"}).text.columns == ()


def test_a_file_of_free_text_only_segments_with_the_defaults():
    table = comments_table().drop(columns="spend")
    config = default_config(table).replace(text=TextConfig(columns=("comment",), model="tfidf"),
                                           reduce=FAST.reduce, cluster=ClusterConfig.make("kmeans", n_clusters=3))
    result = run(table, config, cache=StageCache())
    assert result.n_segments == 3 and all(p.keywords for p in result.profiles)


def test_the_cluster_space_key_is_the_key_of_the_reduced_space_in_the_stage_cache():
    table = comments_table().drop(columns="comment")
    cache = StageCache()
    run(table, FAST, digest="d1", cache=cache)
    _, hit = cache.get_or_compute("reduce", space_key("d1", FAST), lambda: pytest.fail("not the run's key"))
    assert hit
    other_k = FAST.replace(cluster=ClusterConfig.make("kmeans", n_clusters=2))
    assert space_key("d1", other_k) == space_key("d1", FAST)          # the clustering is not part of the space
    assert space_key("d2", FAST) != space_key("d1", FAST)
    assert space_key("d1", FAST.replace(reduce=ReduceConfig(method="pca", n_components=3, map_method="pca"))) \
        != space_key("d1", FAST)


@pytest.mark.slow
def test_real_model_and_real_umap_end_to_end():
    table = load_table(DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv").table
    table = table.dropna(subset=["Review Text"]).head(400).reset_index(drop=True)
    config = RunConfig(text=TextConfig(columns=("Review Text",)), blend=BlendConfig(0.8),
                       cluster=ClusterConfig.make("hdbscan", min_cluster_size=15))
    result = run(table, config, cache=StageCache())
    assert result.embedding.shape == (400, 5) and result.coords.shape == (400, 2)
    assert result.metrics["n_segments"] >= 2
    again = run(table, config, cache=StageCache())  # embeddings now come from the disk cache
    assert np.array_equal(result.labels, again.labels)
    assert again.timings["embed"] < result.timings["embed"]


def test_run_texts_are_the_kept_customers_texts_with_personal_data_masked():
    table = pd.DataFrame({"id": ["a", "b", "c", "d"], "spend": [1.0, 2.0, 3.0, 4.0],
                          "note": ["mail me at ann@example.com", "late parcel", None, "great fit"]})
    config = RunConfig(text=TextConfig(columns=("note",)))
    assert run_texts(table, config) == ["mail me at <EMAIL>", "late parcel", "", "great fit"]
    assert run_texts(table, RunConfig()) == []
