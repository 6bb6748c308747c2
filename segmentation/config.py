"""Frozen, hashable, JSON-serialisable run configuration: one sub-config per stage.

A stage's cache key is exactly the sub-configs it depends on, so changing the
number of segments never re-embeds text and changing the embedding model never
re-reads the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from segmentation.errors import ConfigError

ROLES = ("id", "numeric", "categorical", "text", "date", "pii", "label", "describe", "outcome", "ignore")
"""Column roles. ``label`` marks known groups used only to validate segments, never as a feature. ``describe``
columns (RFM groups, predicted value) describe segments in profiles, on the map and in exports but never drive
them; an ``outcome`` (churned, subscribed, a rating) is never a feature either: each segment gets its rate with a
confidence interval and lift, and a held-out-validated model its propensity (``understand.outcomes``)."""

DEFAULT_MODEL = "all-MiniLM-L6-v2"
TFIDF_MODEL = "tfidf"
APP_MAX_UPLOAD_MB = 200  # the app refuses larger uploads; the command line takes any size
"""The app's upload limit in megabytes of 1,000,000 bytes: ``server.maxUploadSize`` in .streamlit/config.toml.

Streamlit's uploader counts this many megabytes as ``MB × 1000²`` bytes (``× 1024²`` only in browsers on Windows)
and shows "Limit 200MB per file"; its server accepts up to ``MB × 1024²``. The smallest of these is what every
analyst can upload, so the app counts, checks and words sizes in the same decimal megabytes."""
APP_MAX_UPLOAD_BYTES = APP_MAX_UPLOAD_MB * 1000 * 1000


def _check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    if not (low <= value <= high):
        raise ConfigError(
            f"The '{name}' setting of {owner} must be between {low:g} and {high:g}. Got {value!r} instead."
        )


def _check_choice(owner: str, name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"The '{name}' setting of {owner} must be one of {', '.join(map(repr, allowed))}. Got {value!r} instead."
        )


@dataclass(frozen=True)
class RolesConfig:
    """The analyst's overrides of inferred column roles, as sorted (column, role) pairs."""

    overrides: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for column, role in self.overrides:
            _check_choice("RolesConfig", f"role of {column!r}", role, ROLES)
        object.__setattr__(self, "overrides", tuple(sorted((str(c), str(r)) for c, r in self.overrides)))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> RolesConfig:
        return cls(tuple(mapping.items()))

    def as_dict(self) -> dict[str, str]:
        return dict(self.overrides)


@dataclass(frozen=True)
class CleanConfig:
    """How structured columns are cleaned before they become features.

    ``clip_quantile`` of 0.01 clips each numeric column to its 1st and 99th
    percentiles (0 disables clipping). ``log_skewed`` log-transforms non-negative
    columns whose skewness is above 2, typical of amounts and counts.
    """

    impute_numeric: str = "median"
    impute_categorical: str = "missing"
    drop_duplicates: bool = False
    clip_quantile: float = 0.0
    log_skewed: bool = True
    drop_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("CleanConfig", "impute_numeric", self.impute_numeric, ("median", "mean", "zero"))
        _check_choice("CleanConfig", "impute_categorical", self.impute_categorical, ("missing", "most_frequent"))
        _check_range("CleanConfig", "clip_quantile", self.clip_quantile, 0.0, 0.2)
        object.__setattr__(self, "drop_columns", tuple(self.drop_columns))


@dataclass(frozen=True)
class FeatureConfig:
    """Structured block: numeric columns scaled, categories one-hot encoded.

    ``max_categories`` keeps the most frequent values of each categorical column
    and folds the rest into "other"; 10 to 30 works well.
    """

    scaling: str = "standard"
    max_categories: int = 20

    def __post_init__(self) -> None:
        _check_choice("FeatureConfig", "scaling", self.scaling, ("standard", "robust", "minmax"))
        _check_range("FeatureConfig", "max_categories", self.max_categories, 2, 200)


@dataclass(frozen=True)
class TextConfig:
    """Free-text columns and how they are embedded.

    ``model`` is ``"all-MiniLM-L6-v2"`` (the offline default), ``"tfidf"`` (fast,
    non-neural TF-IDF + SVD), or any sentence-transformers model name or local folder.
    """

    columns: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    mask_pii: bool = True
    tfidf_dims: int = 128

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.model or not str(self.model).strip():
            raise ConfigError("The 'model' setting of TextConfig must name an embedding model. Got an empty name.")
        _check_range("TextConfig", "batch_size", self.batch_size, 1, 1024)
        _check_range("TextConfig", "tfidf_dims", self.tfidf_dims, 2, 1024)


@dataclass(frozen=True)
class BlendConfig:
    """``text_weight`` is the share of the distance given to text (0 = structure only, 1 = text only)."""

    text_weight: float = 0.5

    def __post_init__(self) -> None:
        _check_range("BlendConfig", "text_weight", self.text_weight, 0.0, 1.0)


@dataclass(frozen=True)
class ReduceConfig:
    """Dimension reduction before clustering (``method``) and for the 2-D map (``map_method``).

    UMAP ``n_neighbors`` from 5 to 50 works well: small values keep local detail,
    large values the global shape. Above ``sample_threshold`` rows UMAP is fitted on
    a seeded sample and the rest are transformed, which is much faster and keeps
    the segments (see bench/pipeline.py).
    """

    method: str = "umap"
    n_components: int = 5
    n_neighbors: int = 15
    min_dist: float = 0.0
    map_method: str = "umap"
    sample_threshold: int = 10_000

    def __post_init__(self) -> None:
        _check_choice("ReduceConfig", "method", self.method, ("umap", "pca", "none"))
        _check_choice("ReduceConfig", "map_method", self.map_method, ("umap", "pca"))
        _check_range("ReduceConfig", "n_components", self.n_components, 2, 50)
        _check_range("ReduceConfig", "n_neighbors", self.n_neighbors, 2, 200)
        _check_range("ReduceConfig", "min_dist", self.min_dist, 0.0, 0.99)
        _check_range("ReduceConfig", "sample_threshold", self.sample_threshold, 500, 10_000_000)


@dataclass(frozen=True)
class ClusterConfig:
    """The clustering algorithm (a name from ``clustering.CLUSTERERS``) and its parameters."""

    algorithm: str = "kmeans"
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        params = self.params.items() if isinstance(self.params, Mapping) else self.params
        object.__setattr__(self, "params", tuple(sorted((str(k), v) for k, v in params)))
        # validated against the registry lazily (clustering.validate) to keep config import-light

    def as_dict(self) -> dict[str, Any]:
        return dict(self.params)

    @classmethod
    def make(cls, algorithm: str, **params: Any) -> ClusterConfig:
        return cls(algorithm, tuple(params.items()))


@dataclass(frozen=True)
class ThemeConfig:
    """The theme level inside segments (``segment.themes``) and the cap on unassigned customers.

    ``detail`` moves the themes coarser or finer: 0 gives a few broad themes per segment, 1 many narrow ones; the
    smallest theme is 3.2% of the customers at 0, 0.56% at 0.5 (the default) and 0.1% at 1. ``max_unassigned`` is
    the largest share of customers a density-based clustering (HDBSCAN, DBSCAN) may leave unassigned: above it,
    the unassigned customers nearest a segment join it (and its nearest theme) with a lower confidence, until the
    share is at most this. 1.0 (the default) keeps every unassigned customer unassigned, as before; 0.05 to 0.2 is
    usual when every customer must be reached.
    """

    detail: float = 0.5
    max_unassigned: float = 1.0

    def __post_init__(self) -> None:
        _check_range("ThemeConfig", "detail", self.detail, 0.0, 1.0)
        _check_range("ThemeConfig", "max_unassigned", self.max_unassigned, 0.0, 1.0)


@dataclass(frozen=True)
class RunConfig:
    """Everything a segmentation depends on besides the data. Same data + same config = same segments."""

    roles: RolesConfig = field(default_factory=RolesConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    text: TextConfig = field(default_factory=TextConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    reduce: ReduceConfig = field(default_factory=ReduceConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    themes: ThemeConfig = field(default_factory=ThemeConfig)
    random_state: int = 42
    silhouette_sample: int = 2000

    def __post_init__(self) -> None:
        _check_range("RunConfig", "random_state", self.random_state, 0, 2**32 - 1)
        _check_range("RunConfig", "silhouette_sample", self.silhouette_sample, 100, 1_000_000)

    # --- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["roles"]["overrides"] = [list(p) for p in self.roles.overrides]
        data["cluster"]["params"] = {k: v for k, v in self.cluster.params}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        try:
            return cls(
                roles=RolesConfig(tuple(tuple(p) for p in data.get("roles", {}).get("overrides", ()))),
                clean=CleanConfig(**{**data.get("clean", {}),
                                     "drop_columns": tuple(data.get("clean", {}).get("drop_columns", ()))}),
                features=FeatureConfig(**data.get("features", {})),
                text=TextConfig(**{**data.get("text", {}), "columns": tuple(data.get("text", {}).get("columns", ()))}),
                blend=BlendConfig(**data.get("blend", {})),
                reduce=ReduceConfig(**data.get("reduce", {})),
                cluster=ClusterConfig(
                    data.get("cluster", {}).get("algorithm", "kmeans"),
                    tuple(dict(data.get("cluster", {}).get("params", {})).items()),
                ),
                themes=ThemeConfig(**data.get("themes", {})),   # runs saved before themes have none: defaults
                random_state=int(data.get("random_state", 42)),
                silhouette_sample=int(data.get("silhouette_sample", 2000)),
            )
        except TypeError as exc:  # unknown key in a hand-written file
            raise ConfigError(f"The run configuration has a setting this version does not know: {exc}.") from exc

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"The run configuration is not valid JSON: {exc}.") from exc

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


def stable_hash(*parts: Any) -> str:
    """A short, process-independent digest of configs and strings, for cache keys."""
    h = hashlib.sha256()
    for part in parts:
        if dataclasses.is_dataclass(part) and not isinstance(part, type):
            part = json.dumps(dataclasses.asdict(part), sort_keys=True, default=str)
        h.update(repr(part).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:24]
