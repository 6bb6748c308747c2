import pytest

from segmentation.config import (
    BlendConfig,
    ClusterConfig,
    ReduceConfig,
    RolesConfig,
    RunConfig,
    TextConfig,
    stable_hash,
)
from segmentation.errors import ConfigError


def test_run_config_round_trips_through_json():
    config = RunConfig(text=TextConfig(columns=("review",), model="tfidf"), blend=BlendConfig(0.7),
                       cluster=ClusterConfig.make("hdbscan", min_cluster_size=30),
                       roles=RolesConfig.from_mapping({"b": "ignore", "a": "numeric"}))
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert hash(again) == hash(config)
    assert again.roles.overrides == (("a", "numeric"), ("b", "ignore"))


def test_stage_keys_depend_only_on_their_sub_configs():
    base = RunConfig()
    other_k = base.replace(cluster=ClusterConfig.make("kmeans", n_clusters=7))
    assert stable_hash(base.text, base.blend) == stable_hash(other_k.text, other_k.blend)
    assert stable_hash(base.cluster) != stable_hash(other_k.cluster)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BlendConfig(text_weight=1.5),
         r"'text_weight' setting of BlendConfig must be between 0 and 1\. Got 1\.5"),
        (lambda: ReduceConfig(method="tsne"), r"'method' setting of ReduceConfig must be one of 'umap', 'pca', 'none'"),
        (lambda: ReduceConfig(n_neighbors=1), r"'n_neighbors' .* between 2 and 200"),
        (lambda: TextConfig(model=" "), r"must name an embedding model"),
        (lambda: RolesConfig.from_mapping({"x": "banana"}), r"role of 'x'.*Got 'banana'"),
        (lambda: RunConfig.from_json("{not json"), r"not valid JSON"),
        (lambda: RunConfig.from_dict({"blend": {"weight": 1}}), r"setting this version does not know"),
    ],
)
def test_invalid_settings_name_the_field_and_value(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
