"""The whole segmentation as one call: ``run(table, config, on_progress) -> SegmentationResult``.

Stages are pure functions of (input, their own sub-configs). Expensive stage
outputs are kept in a small in-process cache keyed by the data digest and
exactly the sub-configs each stage depends on, so changing the number of
segments re-runs only the clustering; text embeddings also sit in a disk cache
shared by every project.
"""

from __future__ import annotations

import hashlib
import platform
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation import __version__
from segmentation.common import json_safe
from segmentation.config import RolesConfig, RunConfig, TextConfig, stable_hash
from segmentation.errors import DataError
from segmentation.ingest.clean import clean_table
from segmentation.ingest.privacy import mask_texts
from segmentation.ingest.roles import resolve_roles
from segmentation.paths import cache_dir
from segmentation.represent.embed import EmbeddingCache, embed_texts, make_embedder
from segmentation.represent.features import build_features
from segmentation.represent.reduce import map_coordinates, reduce
from segmentation.segment.cluster import cap_unassigned, cluster
from segmentation.segment.themes import build_themes
from segmentation.understand.explain import profile_segments
from segmentation.understand.metrics import external_metrics, internal_metrics
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.themes import ThemeProfile, describe_themes

ProgressFn = Callable[[str, float], None]

STAGES = ("prepare", "features", "embed", "reduce", "map", "cluster", "themes", "profile")
"""Stage names passed to ``on_progress``, in order."""


@dataclass(frozen=True)
class SegmentationResult:
    """One segmentation, immutable. Row ``i`` of every array is row ``i`` of ``table``."""

    config: RunConfig
    data_digest: str
    table: pd.DataFrame = field(repr=False)       # the customers segmented, values as loaded, original index
    roles: Mapping[str, str] = field(repr=False)
    row_ids: np.ndarray = field(repr=False)       # the customer id shown to people (str)
    texts: np.ndarray = field(repr=False)         # joined, PII-masked text per customer ("" when none)
    features: np.ndarray = field(repr=False)      # blended representation X
    embedding: np.ndarray = field(repr=False)     # cluster space Z
    coords: np.ndarray = field(repr=False)        # 2-D map
    labels: np.ndarray = field(repr=False)        # -1 = Unassigned
    confidence: np.ndarray = field(repr=False)
    metrics: Mapping[str, Any]
    profiles: tuple[SegmentProfile, ...] = field(repr=False)
    feature_names: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    feature_recipe: Mapping[str, Any] = field(default_factory=dict, repr=False)
    text_state: Mapping[str, Any] | None = field(default=None, repr=False)
    version: str = __version__
    # the theme level inside segments (segment.themes); None in runs stored before themes existed
    theme_labels: np.ndarray | None = field(default=None, repr=False)      # global theme id, -1 = Unassigned
    theme_confidence: np.ndarray | None = field(default=None, repr=False)
    theme_parent: Mapping[int, int] = field(default_factory=dict, repr=False)   # theme id -> segment id
    theme_profiles: tuple[ThemeProfile, ...] = field(default=(), repr=False)

    @property
    def n_themes(self) -> int:
        return len(self.theme_parent)

    def theme_names(self) -> dict[int, str]:
        """Theme id -> its name (see ``understand.themes.ThemeProfile``)."""
        return {p.theme: p.name for p in self.theme_profiles}

    def with_themes(self, detail: float) -> SegmentationResult:
        """The same segments with the theme level moved to ``detail`` (0 coarse .. 1 fine); about a second for
        20,000 customers, so a page can follow its control live."""
        from dataclasses import replace

        config = self.config.replace(themes=replace(self.config.themes, detail=float(detail)))
        return replace(self, config=config, **theme_fields(self, self.labels, config))

    @property
    def n_segments(self) -> int:
        return int(len(set(self.labels.tolist()) - {-1}))

    def with_labels(self, labels: np.ndarray, notes: tuple[str, ...] = ()) -> SegmentationResult:
        """A new result with other labels (after curation), metrics and profiles recomputed."""
        labels = np.asarray(labels, dtype=int)
        metrics = {**internal_metrics(self.embedding, labels, self.config.silhouette_sample, self.config.random_state),
                   **{k: v for k, v in self.metrics.items() if k.startswith("external_")}}
        profiles = profile_segments(self.table, self.roles, labels,
                                    list(self.texts) if any(t for t in self.texts) else None,
                                    embedding=self.embedding, random_state=self.config.random_state,
                                    phrase_model=self.config.text.model if self.config.blend.text_weight > 0 else None)
        from dataclasses import replace

        themes = theme_fields(self, labels, self.config)
        # the curation's own notes come last: they say what the analyst changed, after what the run found
        return replace(self, labels=labels, metrics=metrics, profiles=profiles,
                       **{**themes, "notes": themes["notes"] + tuple(notes)})

    def manifest(self) -> dict[str, Any]:
        """Everything needed to reproduce or audit the run (for exports)."""
        return {
            "segment_studio_version": self.version,
            "python": platform.python_version(),
            "data_digest": self.data_digest,
            "rows": int(len(self.labels)),
            "segments": self.n_segments,
            "unassigned": int((self.labels < 0).sum()),
            "themes": self.n_themes,
            "config": self.config.to_dict(),
            "roles": dict(self.roles),
            "metrics": json_safe(dict(self.metrics)),
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": list(self.notes),
        }


def compute_themes(table: pd.DataFrame, roles: Mapping[str, str], texts: Any, Z: np.ndarray, labels: np.ndarray,
                   row_ids: np.ndarray, config: RunConfig) -> dict[str, Any]:
    """The theme fields of a ``SegmentationResult`` for segment ``labels``: labels, confidence, parent, profiles."""
    themes = build_themes(Z, labels, config.themes, config.random_state)
    has_text = texts is not None and any(isinstance(t, str) and t for t in texts)
    profiles = describe_themes(table, roles, themes.labels, themes.parent, list(texts) if has_text else None,
                               embedding=Z, row_ids=row_ids, random_state=config.random_state)
    return {"theme_labels": themes.labels, "theme_confidence": themes.confidence, "theme_parent": themes.parent,
            "theme_profiles": profiles, "notes": themes.notes}


def _is_theme_note(note: str) -> bool:
    """Whether a run note is one of ``Themes.notes`` (they are replaced when the theme level moves)."""
    return bool(re.match(r"[\d,]+ (themes inside \d+ segments|candidate themes were merged|customers between themes "
                         r"joined)", note))


def theme_fields(result: SegmentationResult, labels: np.ndarray, config: RunConfig,
                 notes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The theme fields for ``labels``, and the run's ``notes`` (``result.notes`` by default) with the theme notes
    of the new level in place of the old ones."""
    fields = compute_themes(result.table, result.roles, result.texts, result.embedding, labels, result.row_ids,
                            config)
    kept = tuple(n for n in (result.notes if notes is None else notes) if not _is_theme_note(n))
    return {**fields, "notes": kept + tuple(fields["notes"])}


# --------------------------------------------------------------------------- stage cache
class StageCache:
    """A small LRU of stage outputs, bounded by entry count per stage."""

    def __init__(self, per_stage: int = 4) -> None:
        self.per_stage = per_stage
        self._data: dict[str, OrderedDict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, stage: str, key: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
        with self._lock:
            bucket = self._data.setdefault(stage, OrderedDict())
            if key in bucket:
                bucket.move_to_end(key)
                return bucket[key], True
        value = compute()
        with self._lock:
            bucket[key] = value
            while len(bucket) > self.per_stage:
                bucket.popitem(last=False)
        return value, False

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


DEFAULT_CACHE = StageCache()


def table_digest(table: pd.DataFrame) -> str:
    """A content digest of a table (values, dtypes, column names and order).

    Columns are hashed in their own dtype: converting a million numbers to text
    first would cost more than the whole k-means.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(f"{c}:{table[c].dtype}" for c in table.columns).encode("utf-8"))
    for column in table.columns:
        series = table[column]
        try:
            hashed = pd.util.hash_pandas_object(series, index=False)
        except TypeError:  # unhashable cells (lists, dicts): hash their text instead
            hashed = pd.util.hash_pandas_object(series.astype(str), index=False)
        h.update(hashed.to_numpy().tobytes())
    return h.hexdigest()[:32]


def _row_ids(table: pd.DataFrame, roles: Mapping[str, str]) -> np.ndarray:
    id_columns = [c for c, r in roles.items() if r == "id" and c in table.columns]
    if id_columns:
        return table[id_columns[0]].astype("string").fillna("").to_numpy(dtype=object).astype(str)
    return np.array([f"row {i + 1}" for i in table.index], dtype=object).astype(str)


def customer_texts(table: pd.DataFrame, columns: tuple[str, ...], mask_pii: bool) -> list[str]:
    """One text per customer: the chosen text columns joined with '. ', PII masked."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError("Text column(s) not found in the data: " + ", ".join(map(repr, missing)) + ".")
    parts = [table[c].astype("string").fillna("").str.strip() for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.str.cat(part, sep=". ").str.strip(". ")
    texts = joined.fillna("").tolist()
    return mask_texts(texts) if mask_pii else texts


def _block_scale(block: np.ndarray) -> np.ndarray:
    """Scale a block so its mean squared row norm is 1: then weights mean shares of distance."""
    rms = float(np.sqrt(np.mean(np.sum(block.astype(np.float64) ** 2, axis=1)))) if block.size else 0.0
    return block / rms if rms > 1e-12 else block


def blend(text_block: np.ndarray | None, structured: np.ndarray, text_weight: float) -> np.ndarray:
    """Concatenate text and structured blocks so text carries ``text_weight`` of the squared distance."""
    blocks = []
    if text_block is not None and text_block.shape[1] and text_weight > 0:
        blocks.append(_block_scale(text_block) * np.sqrt(text_weight if structured.shape[1] else 1.0))
    if structured.shape[1] and (text_weight < 1 or not blocks):
        blocks.append(_block_scale(structured) * np.sqrt(1 - text_weight if blocks else 1.0))
    if not blocks:
        raise DataError("No usable column to segment on: mark at least one column as numeric, categorical "
                        "or text on the Data page.")
    return np.hstack(blocks).astype(np.float32)


def space_settings(config: RunConfig) -> tuple[Any, ...]:
    """The settings the cluster space (and the map) depends on: everything but the clustering. Two runs with equal
    ``space_settings`` of the same data share one cluster space."""
    return (config.roles, config.clean, config.features, config.text, config.blend, config.random_state,
            config.reduce)


def space_key(digest: str, config: RunConfig) -> str:
    """Identifies a cluster space: the data digest and the settings before clustering. It is the key under which
    ``run`` keeps the reduced space in its stage cache, so a search or a stability check keyed by it reuses
    exactly what a run with these settings computed."""
    return stable_hash(digest, *space_settings(config))


# --------------------------------------------------------------------------- run defaults
def text_columns(roles: Mapping[str, str]) -> tuple[str, ...]:
    """The columns a run embeds unless told otherwise: every column whose role is "text", in table order."""
    return tuple(str(c) for c, role in roles.items() if role == "text")


def default_config(table: pd.DataFrame, overrides: Mapping[str, str] | None = None,
                   roles: Mapping[str, str] | None = None) -> RunConfig:
    """The settings a run starts from when the analyst chooses nothing else; the app's Segment page and
    ``python -m segmentation run`` both start from them.

    Numeric and categorical columns become features by their role, and every free-text column is embedded (with
    the default model, text carrying half the distance), so a file whose only content is free text is segmented on
    it. ``overrides`` (column -> role, the analyst's changes to the inferred roles) are kept in the config so the
    run resolves the same roles. ``roles``: the already resolved roles of ``table`` with those overrides, when the
    caller has them (they are resolved here otherwise).
    """
    overrides = dict(overrides or {})
    roles = resolve_roles(table, overrides) if roles is None else roles
    return RunConfig(roles=RolesConfig.from_mapping(overrides), text=TextConfig(columns=text_columns(roles)))


def prepare(table: pd.DataFrame, config: RunConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], Any]:
    """A run's first stage: (cleaned table, the kept rows as loaded, roles of the kept columns, the cleaning log).
    Profiles and exports show the kept rows' values as loaded, not clipped or log-transformed."""
    roles = resolve_roles(table, config.roles.as_dict())
    for column in config.text.columns:
        if column not in table.columns:
            raise DataError(f"Text column {column!r} is not in the data. Its columns are: "
                            f"{', '.join(map(str, table.columns[:20]))}.")
        roles[column] = "text"
    cleaned, log = clean_table(table, roles, config.clean)
    kept = table.loc[cleaned.index, [c for c in table.columns if c in cleaned.columns]]
    roles = {c: r for c, r in roles.items() if c in cleaned.columns}
    if len(cleaned) < 3:
        raise DataError(f"Only {len(cleaned)} customers are left after cleaning; segmenting needs at least 3.")
    return cleaned, kept, roles, log


def run_texts(table: pd.DataFrame, config: RunConfig) -> list[str]:
    """The texts a run of ``table`` with ``config`` embeds, one per kept customer ("" for none)."""
    cleaned = prepare(table, config)[0]
    return customer_texts(cleaned, config.text.columns, config.text.mask_pii) if config.text.columns else []


def run(table: pd.DataFrame, config: RunConfig | None = None, on_progress: ProgressFn | None = None,
        digest: str | None = None, cache: StageCache | None = DEFAULT_CACHE,
        embedding_cache: EmbeddingCache | None = None) -> SegmentationResult:
    """Segment the customers in ``table`` with ``config``.

    ``on_progress(stage, fraction)`` is called as stages advance (stages in
    ``STAGES``, each from 0.0 to 1.0). Where a stage can count its work (embedding: distinct texts), the fraction
    is a ``Progress``, a float that also carries ``done`` and ``total``; plain ``(stage, fraction)`` callbacks
    need not know. Same table + same config gives the same labels.
    """
    config = config or RunConfig()
    if table is None or len(table) == 0:
        raise DataError("The table has no rows. Load a file with at least a few customers.")
    if len(table.columns) == 0:
        raise DataError("The table has no columns.")
    progress = on_progress or (lambda stage, fraction: None)
    cache = cache or StageCache(per_stage=1)
    digest = digest or table_digest(table)
    timings: dict[str, float] = {}
    notes: list[str] = []

    def timed(stage: str, key_parts: tuple, compute: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value, hit = cache.get_or_compute(stage, stable_hash(digest, *key_parts), compute)
        timings[stage] = time.perf_counter() - start
        if hit:
            progress(stage, 1.0)
        return value

    # --- prepare: roles and cleaning ------------------------------------------------
    start = time.perf_counter()
    progress("prepare", 0.0)
    cleaned, kept, roles, log = prepare(table, config)
    notes += list(log.summary_lines())
    progress("prepare", 1.0)
    timings["prepare"] = time.perf_counter() - start

    # --- features ---------------------------------------------------------------
    progress("features", 0.0)
    structured, recipe = timed("features", (config.roles, config.clean, config.features),
                               lambda: build_features(cleaned, roles, config.features))
    progress("features", 1.0)

    # --- text -------------------------------------------------------------------
    text_columns = config.text.columns
    texts = customer_texts(cleaned, text_columns, config.text.mask_pii) if text_columns else [""] * len(cleaned)
    text_block = None
    text_state = None
    if text_columns and config.blend.text_weight > 0:
        if not any(t.strip() for t in texts):
            raise DataError("The text column(s) " + ", ".join(map(repr, text_columns)) + " are empty for every "
                            "customer. Choose another text column or set the text weight to 0.")
        embedder = make_embedder(config.text.model, config.text.batch_size, config.text.tfidf_dims,
                                 config.random_state)
        store = embedding_cache or EmbeddingCache(cache_dir() / "embeddings.sqlite")

        def compute_text() -> tuple[np.ndarray, Any]:
            vectors = embed_texts(texts, embedder, store, progress)
            return vectors, (embedder.state() if hasattr(embedder, "state") else None)

        progress("embed", 0.0)  # the step starts here (a fitted TF-IDF reports only its end)
        text_block, text_state = timed("embed", (config.roles, config.clean.drop_duplicates,
                                                 config.clean.drop_columns, config.text, config.random_state),
                                       compute_text)
        progress("embed", 1.0)
    elif not structured.shape[1]:
        raise DataError("No usable column to segment on: mark at least one column as numeric, categorical or "
                        "text, or choose a text column.")

    X = blend(text_block, structured, config.blend.text_weight)
    space = space_settings(config)

    # --- reduce and map -----------------------------------------------------------
    Z = timed("reduce", space, lambda: reduce(X, config.reduce, config.random_state, progress))
    coords = timed("map", space, lambda: map_coordinates(X, Z, config.reduce, config.random_state, progress))

    # --- cluster ------------------------------------------------------------------
    progress("cluster", 0.0)
    clustering = timed("cluster", (*space, config.cluster), lambda: cluster(Z, config.cluster, config.random_state))
    clustering = cap_unassigned(Z, clustering, config.themes.max_unassigned)
    labels = clustering.labels
    notes += list(clustering.notes)
    progress("cluster", 1.0)

    # --- themes inside the segments -----------------------------------------------------
    progress("themes", 0.0)
    row_ids = _row_ids(kept, roles)
    themes = timed("themes", (*space, config.cluster, config.themes),
                   lambda: compute_themes(kept, roles, texts if text_columns else None, Z, labels, row_ids, config))
    notes += list(themes["notes"])
    themes = {k: v for k, v in themes.items() if k != "notes"}   # the cached dict itself stays as it was
    progress("themes", 1.0)

    # --- metrics and profiles ------------------------------------------------------
    start = time.perf_counter()
    progress("profile", 0.0)
    metrics = internal_metrics(Z, labels, config.silhouette_sample, config.random_state)
    truth_columns = [c for c, r in roles.items() if r == "label"]
    if truth_columns:
        known = kept[truth_columns[0]].astype("string").fillna("(missing)").to_numpy()
        metrics.update({f"external_{k}": v for k, v in external_metrics(labels, known).items()})
        metrics["external_column"] = truth_columns[0]
    profiles = profile_segments(kept, roles, labels, texts if text_columns else None, embedding=Z,
                                random_state=config.random_state,
                                phrase_model=config.text.model if text_block is not None else None)
    timings["profile"] = time.perf_counter() - start
    progress("profile", 1.0)
    if metrics["n_segments"] == 0:
        notes.append("No segments were found: every customer is unassigned. The data may have no clear groups; "
                     "try k-means, a smaller minimum segment size, or other columns.")

    return SegmentationResult(
        config=config, data_digest=digest, table=kept, roles=roles, row_ids=row_ids,
        texts=np.asarray(texts, dtype=object), features=X, embedding=Z, coords=coords, labels=labels,
        confidence=clustering.confidence, metrics=metrics, profiles=profiles,
        feature_names=tuple(recipe.feature_names), timings=timings, notes=tuple(notes),
        feature_recipe=recipe.to_dict(), text_state=text_state, **themes,
    )

