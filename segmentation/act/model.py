"""A saved segmentation model: assign new customers to the segments of an earlier run.

The model file is a zip with exactly two members:

- ``manifest.json``: the format name and version, the run configuration, column
  roles, the cleaning and feature recipes, the text settings, the blend factors,
  the segment names and descriptions, and library versions; plain JSON.
- ``arrays.npz``: numeric and fixed-width text arrays (the labelled reference
  customers in the blended space, the training ids and their segments, and the
  TF-IDF vocabulary and matrices when text was embedded with TF-IDF).

No Python object is ever serialised, so loading a model cannot run code:

- arrays are written with ``allow_pickle=False`` and read with ``np.load(...,
  allow_pickle=False)``; an array header that declares Python objects is
  refused before anything is read;
- everything else is JSON, turned into dataclasses by explicit constructors;
- only the two known members (and, inside ``arrays.npz``, only known array
  names) are read; encrypted members, unknown members and unknown compression
  are refused;
- every member is read with a size cap (declared sizes are checked first, then
  reads stop at the cap whatever the header claims), so a zip bomb costs at most
  the cap; an array's declared shape is checked against its bytes before it is
  allocated;
- the format name and version are checked, and shapes are checked against the
  manifest, so a damaged or foreign file fails with one ``ModelFileError``.

New customers are encoded exactly like the training customers: the same
cleaning (fill values, clip bounds and log transforms learnt from the training
data), the same feature recipe, the same text embedding (the same
sentence-transformers model, or the saved TF-IDF state), and each block
multiplied by the factor it got when the training blocks were blended (the
block's training RMS scale and the text weight; see ``pipeline.blend``). They are
then assigned by a distance-weighted vote of their nearest labelled reference
customers in that blended space.
"""

from __future__ import annotations

import difflib
import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmentation import __version__
from segmentation.common import NOISE_NAME, json_safe, library_versions, segment_label
from segmentation.config import TFIDF_MODEL, CleanConfig
from segmentation.errors import DataError, ModelFileError
from segmentation.represent.features import MISSING, FeatureRecipe, category_values, transform_features

if TYPE_CHECKING:  # the model only reads a result; the pipeline is imported where a result is built
    import plotly.graph_objects as go

    from segmentation.pipeline import SegmentationResult
    from segmentation.represent.embed import EmbeddingCache

ProgressFn = Callable[[str, float], None]

FORMAT = "segment-studio-model"
FORMAT_VERSION = 1
"""Bumped when a change makes older readers misread a file; readers refuse newer versions."""

MANIFEST_MEMBER = "manifest.json"
ARRAYS_MEMBER = "arrays.npz"
MODEL_SUFFIX = ".segmodel"

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MODEL_BYTES = 4 * 1024 * 1024 * 1024
"""Default cap on the decoded size of a model's arrays (and on the file itself)."""

REFERENCE_LIMIT = 50_000
"""Training customers kept as the labelled reference; above this a seeded sample stratified by segment."""
MIN_REFERENCE_PER_SEGMENT = 200
DEFAULT_NEIGHBOURS = 10
NEAREST_FLOOR_SHARE = 0.1
"""Neighbour distances below this share of the typical nearest-neighbour distance count as that floor,
so an exact copy of a training customer cannot outvote all its other neighbours (confidence stays a
vote share, not always 100%)."""

_ARRAY_NAMES = frozenset({
    "reference_features", "reference_labels", "training_ids", "training_labels",
    "tfidf_terms", "tfidf_idf", "tfidf_components",
})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no wall-clock time: same model, same bytes
_ASSIGN_CHUNK = 5_000


# --------------------------------------------------------------------------- cleaning recipe
@dataclass(frozen=True)
class CleaningRecipe:
    """What ``clean.clean_table`` did to each structured column of the training data, as numbers.

    ``numeric`` maps a column to its fill value, optional clip bounds and whether
    it was log-transformed; ``categorical`` maps a column to the value its empty
    cells get. Applying it to new customers reproduces the training cleaning
    exactly, whatever the new file's own distribution.
    """

    numeric: Mapping[str, Mapping[str, Any]]
    categorical: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": {c: dict(v) for c, v in self.numeric.items()}, "categorical": dict(self.categorical)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CleaningRecipe:
        numeric = {}
        for column, step in dict(data.get("numeric", {})).items():
            clip = step.get("clip")
            numeric[str(column)] = {"fill": float(step["fill"]), "log": bool(step["log"]),
                                    "clip": None if clip is None else [float(clip[0]), float(clip[1])]}
        return cls(numeric, {str(c): str(v) for c, v in dict(data.get("categorical", {})).items()})


def fit_cleaning(table: pd.DataFrame, recipe: FeatureRecipe, config: CleanConfig) -> CleaningRecipe:
    """Learn the cleaning of ``config`` from the training table (values as loaded), column by column.

    Mirrors ``clean.clean_table``: fill, then clip at the quantiles, then log1p when
    non-negative and skewed. The private helpers of ``clean`` are reused so the two
    cannot drift apart silently (a renamed helper fails loudly at import).
    """
    from segmentation.ingest.clean import SKEW_THRESHOLD, _as_numbers, _numeric_fill, _skewness

    numeric: dict[str, dict[str, Any]] = {}
    for column in recipe.numeric:
        values = _as_numbers(table[column])
        fill = _numeric_fill(values, config.impute_numeric)
        values = values.fillna(fill)
        clip = None
        if config.clip_quantile > 0 and values.nunique() > 2:
            low, high = np.quantile(values.to_numpy(), [config.clip_quantile, 1 - config.clip_quantile])
            clip = [float(low), float(high)]
            values = values.clip(low, high)
        log = bool(config.log_skewed and len(values) and values.min() >= 0 and _skewness(values) > SKEW_THRESHOLD)
        numeric[column] = {"fill": float(fill), "clip": clip, "log": log}
    categorical: dict[str, str] = {}
    for column in recipe.categorical:
        present = table[column].dropna()
        fill = MISSING
        if config.impute_categorical == "most_frequent" and not present.empty:
            counts = present.value_counts(sort=False)
            first_seen = {v: i for i, v in enumerate(present.drop_duplicates())}
            best = max(counts.index, key=lambda v: (counts[v], -first_seen[v]))
            fill = _category_text(best)
        categorical[column] = fill
    return CleaningRecipe(numeric, categorical)


def _category_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _align_categories(series: pd.Series, vocabulary: Sequence[str], fill: str) -> pd.Series:
    """A categorical column as the strings the recipe knows.

    A number may be spelt "1" in training and read as 1.0 in a new file (or the
    reverse); each value takes the spelling the vocabulary has.
    """
    if pd.api.types.is_bool_dtype(series):
        out = series.astype("object").map(lambda v: str(bool(v)), na_action="ignore")
    elif pd.api.types.is_numeric_dtype(series):
        known = set(vocabulary)

        def spell(value: Any) -> str:
            candidates = [str(value)]
            number = float(value)
            if number.is_integer():
                candidates += [str(int(number)), str(number)]
            return next((c for c in candidates if c in known), candidates[0])

        out = series.astype("object").map(spell, na_action="ignore")
    else:
        out = series.astype("object")
    if fill != MISSING:
        out = out.where(out.notna(), fill)
    return category_values(out)


def apply_cleaning(table: pd.DataFrame, cleaning: CleaningRecipe, recipe: FeatureRecipe) -> pd.DataFrame:
    """The structured columns of ``table`` cleaned as the training data was (other columns untouched)."""
    from segmentation.ingest.clean import _as_numbers

    out = pd.DataFrame(index=table.index)
    for column in recipe.numeric:
        step = cleaning.numeric.get(column, {"fill": 0.0, "clip": None, "log": False})
        values = _as_numbers(table[column]).fillna(step["fill"])
        if step["clip"] is not None:
            values = values.clip(*step["clip"])
        if step["log"]:
            # a new customer may carry a negative amount the training data never had: log1p is undefined there
            values = np.log1p(values.clip(lower=0.0))
        out[column] = values
    for column, vocabulary in zip(recipe.categorical, recipe.categories):
        out[column] = _align_categories(table[column], vocabulary, cleaning.categorical.get(column, MISSING))
    return out


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds arrays
class SegmentModel:
    """A loaded segmentation model. Build one with ``build_model`` or ``load_model``; it never changes."""

    manifest: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray] = field(repr=False)
    _index: Any = field(default=None, init=False, repr=False, compare=False)  # fitted neighbour search, built once
    _embedder: Any = field(default=None, init=False, repr=False, compare=False)  # TF-IDF rebuilt once, not per batch

    def __post_init__(self) -> None:
        _check_model(self.manifest, self.arrays)

    # --- what it holds -------------------------------------------------------------
    @property
    def segment_names(self) -> dict[int, str]:
        """Segment id -> name shown to people (the analyst's name, else "Segment N"); -1 is Unassigned."""
        names = {int(s["id"]): str(s["name"]) for s in self.manifest["segments"]}
        names[-1] = NOISE_NAME
        return names

    def segment_name(self, segment: int) -> str:
        return self.segment_names.get(int(segment), segment_label(int(segment)))

    @property
    def id_column(self) -> str | None:
        return self.manifest["columns"]["id"]

    @property
    def text_columns(self) -> tuple[str, ...]:
        return tuple(self.manifest["text"]["columns"]) if self.manifest["text"]["used"] else ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        """The columns a file must have to be assigned: the structured columns used and the text columns."""
        recipe = self.feature_recipe
        return (*recipe.numeric, *recipe.categorical, *self.text_columns)

    @property
    def feature_recipe(self) -> FeatureRecipe:
        return FeatureRecipe.from_dict(self.manifest["features"]["recipe"])

    @property
    def cleaning(self) -> CleaningRecipe:
        return CleaningRecipe.from_dict(self.manifest["features"]["cleaning"])

    @property
    def n_reference(self) -> int:
        return int(self.arrays["reference_labels"].shape[0])

    def summary_lines(self) -> list[str]:
        """Plain sentences about the model, for the CLI and the Assign page."""
        m = self.manifest
        segments = [s for s in m["segments"] if s["id"] >= 0]
        text = (f"text columns {', '.join(map(repr, self.text_columns))} embedded with {m['text']['model']!r} "
                f"(weight {m['text']['weight']:.0%})" if self.text_columns else "no text")
        return [
            f"{len(segments)} segments learnt from {m['training']['rows']:,} customers "
            f"(data digest {str(m['training']['data_digest'])[:12]}…).",
            f"Uses {len(self.feature_recipe.numeric)} numeric and {len(self.feature_recipe.categorical)} "
            f"categorical columns, {text}.",
            f"New customers are assigned by their {m['assign']['neighbours']} nearest of "
            f"{self.n_reference:,} reference customers.",
        ]

    # --- columns ---------------------------------------------------------------------
    def check_columns(self, columns: Sequence[Any]) -> None:
        """Raise ``DataError`` naming every required column that ``columns`` lacks, with near matches."""
        have = [str(c) for c in columns]
        missing = [c for c in self.required_columns if c not in have]
        if not missing:
            return
        hints = []
        lowered = {h.lower().strip(): h for h in have}
        for column in missing:
            match = lowered.get(column.lower().strip())
            close = [match] if match else difflib.get_close_matches(column, have, n=2, cutoff=0.6)
            if close:
                hints.append(f"{column!r} (did you mean {' or '.join(map(repr, close))}?)")
            else:
                hints.append(repr(column))
        raise DataError(
            f"The file lacks {len(missing)} column(s) the model needs: {', '.join(hints)}. Rename the columns in "
            "your file to the names the model was built with, or build a new model from this file."
        )

    # --- encoding ----------------------------------------------------------------------
    def transform(self, table: pd.DataFrame, embedding_cache: EmbeddingCache | None = None,
                  on_progress: ProgressFn | None = None) -> np.ndarray:
        """The blended representation of ``table``'s customers, exactly as the training customers were encoded.

        ``embedding_cache`` stores sentence-transformers vectors (default: the shared
        cache in the workspace); TF-IDF needs none.
        """
        self.check_columns(list(table.columns))
        blocks = self.manifest["blocks"]
        parts: list[np.ndarray] = []
        if blocks["text"]["dims"]:
            parts.append(self._text_block(table, embedding_cache, on_progress) * blocks["text"]["factor"])
        if blocks["structured"]["dims"]:
            recipe = self.feature_recipe
            cleaned = apply_cleaning(table, self.cleaning, recipe)
            parts.append(transform_features(recipe, cleaned).astype(np.float64) * blocks["structured"]["factor"])
        return np.hstack(parts).astype(np.float32) if parts else np.zeros((len(table), 0), dtype=np.float32)

    def _text_block(self, table: pd.DataFrame, embedding_cache: EmbeddingCache | None,
                    on_progress: ProgressFn | None) -> np.ndarray:
        from segmentation.pipeline import customer_texts
        from segmentation.represent.embed import EmbeddingCache, TfidfEmbedder, embed_texts, make_embedder

        text = self.manifest["text"]
        dims = int(self.manifest["blocks"]["text"]["dims"])
        texts = customer_texts(table, tuple(text["columns"]), bool(text["mask_pii"]))
        if not any(t.strip() for t in texts):  # e.g. one partition of a big file with no text at all
            return np.zeros((len(texts), dims), dtype=np.float64)
        if str(text["model"]).strip().lower() == TFIDF_MODEL:
            if self._embedder is None:
                object.__setattr__(self, "_embedder", TfidfEmbedder.from_state({
                    "dims": text["tfidf_dims"], "random_state": text["random_state"],
                    "terms": self.arrays["tfidf_terms"].tolist(), "idf": self.arrays["tfidf_idf"],
                    "components": self.arrays["tfidf_components"],
                }))
            vectors = embed_texts(texts, self._embedder, None, on_progress)
        else:
            from segmentation.paths import cache_dir

            embedder: Any = make_embedder(str(text["model"]), int(text["batch_size"]))
            store = embedding_cache or EmbeddingCache(cache_dir() / "embeddings.sqlite")
            vectors = embed_texts(texts, embedder, store, on_progress)
        if vectors.shape[1] != dims:
            raise ModelFileError(
                f"The embedding model {text['model']!r} gives vectors of {vectors.shape[1]} dimensions here, but the "
                f"model was built with {dims}. Install the same model the segmentation was built with."
            )
        return vectors.astype(np.float64)

    # --- assignment ---------------------------------------------------------------------
    def assign(self, table: pd.DataFrame, k: int | None = None, embedding_cache: EmbeddingCache | None = None,
               on_progress: ProgressFn | None = None) -> pd.DataFrame:
        """Assign each customer of ``table`` to a segment.

        Returns one row per input row, in order: the customer id (the model's id
        column when the file has it, else ``row_number`` from 1), ``segment_id``
        (-1 = Unassigned), ``segment_name`` and ``confidence``: the distance-weighted
        share of the ``k`` nearest reference customers (default 10) that vote for
        that segment. Customers whose neighbours are mostly unassigned stay
        Unassigned. Same model + same table = same answer.
        """
        if table is None or len(table.columns) == 0:
            raise DataError("The file has no columns. Load the customers to assign.")
        X = self.transform(table, embedding_cache, on_progress)
        labels, confidence = self.vote(X, k)
        id_column = self.id_column
        if id_column is not None and id_column in table.columns:
            ids = table[id_column].astype("string").fillna("").to_numpy(dtype=object).astype(str)
            key = id_column
        else:
            ids = np.arange(1, len(table) + 1)
            key = "row_number"
        names = self.segment_names
        return pd.DataFrame({
            key: ids,
            "segment_id": labels.astype(np.int64),
            "segment_name": [names.get(int(s), segment_label(int(s))) for s in labels],
            "confidence": np.round(confidence, 4),
        })

    def vote(self, X: np.ndarray, k: int | None = None, skip_exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(labels, confidence) of blended rows ``X`` by a distance-weighted vote of their nearest references.

        ``skip_exact`` leaves out a reference at distance zero (the customer itself, when
        ``X`` holds training customers): the vote a customer would get if it were new.
        """
        from sklearn.neighbors import NearestNeighbors

        reference = self.arrays["reference_features"]
        reference_labels = self.arrays["reference_labels"].astype(np.int64)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != reference.shape[1]:
            raise DataError(f"Expected {reference.shape[1]} features per customer, got {X.shape[-1]}.")
        n = X.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        k = int(k or self.manifest["assign"]["neighbours"])
        k = max(1, min(k, reference.shape[0]))
        if self._index is None:
            object.__setattr__(self, "_index", NearestNeighbors().fit(reference))
        index = self._index
        floor = float(self.manifest["assign"]["distance_floor"])
        segments = np.unique(reference_labels)  # sorted: ties go to the lower id, Unassigned (-1) first
        labels = np.empty(n, dtype=np.int64)
        confidence = np.empty(n, dtype=np.float64)
        for start in range(0, n, _ASSIGN_CHUNK):
            part = X[start:start + _ASSIGN_CHUNK]
            if skip_exact and reference.shape[0] > k:
                distances, neighbours = index.kneighbors(part, n_neighbors=k + 1)
                # drop the first neighbour where it is the customer itself, else the farthest one
                drop = np.where(distances[:, 0] <= 1e-6, 0, k)
                keep = np.ones_like(distances, dtype=bool)
                keep[np.arange(len(part)), drop] = False
                distances, neighbours = distances[keep].reshape(len(part), k), neighbours[keep].reshape(len(part), k)
            else:
                distances, neighbours = index.kneighbors(part, n_neighbors=k)
            weights = 1.0 / np.maximum(distances, floor)
            votes = np.zeros((len(part), len(segments)))
            columns = np.searchsorted(segments, reference_labels[neighbours])
            np.add.at(votes, (np.repeat(np.arange(len(part)), k), columns.ravel()), weights.ravel())
            best = votes.argmax(axis=1)
            labels[start:start + len(part)] = segments[best]
            confidence[start:start + len(part)] = votes[np.arange(len(part)), best] / votes.sum(axis=1)
        return labels, confidence

    # --- movement ----------------------------------------------------------------------------
    def training_segments(self) -> pd.DataFrame:
        """The customers the model was built from: id and segment (id, name)."""
        labels = self.arrays["training_labels"].astype(np.int64)
        names = self.segment_names
        return pd.DataFrame({"customer": self.arrays["training_ids"].astype(str), "segment_id": labels,
                             "segment_name": [names.get(int(s), segment_label(int(s))) for s in labels]})

    def previous_segments(self, table: pd.DataFrame) -> tuple[pd.Series | None, str]:
        """Each customer's earlier segment name, where one is known, and where it came from.

        A ``segment_id`` or ``segment_name`` column in the file (an earlier export)
        wins; otherwise customers are matched on the model's id column with the
        customers the model was built from. Unknown customers get NaN. Returns
        ``(None, reason)`` when there is nothing to compare with.
        """
        names = self.segment_names
        for column in ("segment_id", "segment_name"):
            if column not in table.columns:
                continue
            if column == "segment_id":
                ids = pd.to_numeric(table[column], errors="coerce")
                previous = ids.map(lambda s: names.get(int(s), segment_label(int(s))), na_action="ignore")
            else:
                previous = table[column].astype("string").str.strip().replace("", pd.NA)
            previous = previous.astype("object").reset_index(drop=True)
            if previous.notna().any():
                return previous.where(previous.notna(), None), f"the file's {column} column"
        id_column = self.id_column
        if id_column is None or id_column not in table.columns:
            return None, "the file has no earlier segment column and no customer id column to match on"
        training = self.training_segments().drop_duplicates("customer").set_index("customer")["segment_name"]
        keys = table[id_column].astype("string").fillna("").astype(str)
        previous = keys.map(training).astype("object").reset_index(drop=True)
        if previous.notna().sum() == 0:
            return None, f"no customer in the file matches a customer the model was built from (on {id_column!r})"
        return previous.where(previous.notna(), None), \
            f"the customers the model was built from (matched on {id_column!r})"

    def compare(self, table: pd.DataFrame, assigned: pd.DataFrame) -> Movement | None:
        """Movement between each customer's earlier segment and ``assigned`` (from ``assign(table)``), if known."""
        previous, source = self.previous_segments(table)
        if previous is None:
            return None
        known = previous.notna().to_numpy()
        then = None
        if source.startswith("the customers the model"):
            then = self.training_segments()["segment_name"].tolist()
        return movement(previous[known].tolist(), assigned["segment_name"][known].tolist(), then=then,
                        now=assigned["segment_name"].tolist(), source=source, names=self.segment_names)

    # --- bytes --------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The model file's bytes (a zip of manifest.json and arrays.npz); the same model gives the same bytes."""
        manifest = json.dumps(json_safe(self.manifest), indent=1, sort_keys=True, allow_nan=False).encode("utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            info = zipfile.ZipInfo(MANIFEST_MEMBER, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, manifest)
            info = zipfile.ZipInfo(ARRAYS_MEMBER, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED  # its members are compressed already
            archive.writestr(info, _npz_bytes(self.arrays))
        return buffer.getvalue()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model file (written to a temporary name first, so a crash never leaves half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(self.to_bytes())
        temporary.replace(path)
        return path


# --------------------------------------------------------------------------- building
def build_model(result: SegmentationResult, names: Mapping[int, str] | None = None,
                descriptions: Mapping[int, str] | None = None, reference_limit: int = REFERENCE_LIMIT,
                neighbours: int = DEFAULT_NEIGHBOURS) -> SegmentModel:
    """A model that assigns new customers to the segments of ``result``.

    ``names`` and ``descriptions`` map segment ids to the analyst's words (unnamed
    segments are called "Segment N", as in exports). Up to ``reference_limit``
    training customers are kept as the labelled reference (all of them below it,
    else a seeded sample stratified by segment); more references mean slower but
    finer assignment. ``neighbours`` (5 to 30 works well) is how many references
    vote for each new customer.
    """

    config = result.config
    recipe = FeatureRecipe.from_dict(result.feature_recipe)
    cleaning = fit_cleaning(result.table, recipe, config.clean)
    X = np.asarray(result.features, dtype=np.float32)
    labels = np.asarray(result.labels, dtype=np.int64)
    n_structured = len(recipe.feature_names)
    weight = float(config.blend.text_weight)
    has_text = bool(config.text.columns) and weight > 0
    has_structured = n_structured > 0 and (weight < 1 or not has_text)
    text_dims = X.shape[1] - (n_structured if has_structured else 0)
    if has_text and text_dims <= 0:
        raise ModelFileError("The run's features do not hold the text block its configuration describes; "
                             "re-run the segmentation before saving a model.")

    # Blend factors: each block was divided by its training RMS and multiplied by the square root of its weight.
    structured_factor = 0.0
    if has_structured:
        raw = transform_features(recipe, apply_cleaning(result.table, cleaning, recipe)).astype(np.float64)
        rms = float(np.sqrt(np.mean(np.sum(raw ** 2, axis=1)))) if raw.size else 0.0
        share = (1 - weight) if has_text else 1.0
        structured_factor = math.sqrt(share) / rms if rms > 1e-12 else math.sqrt(share)
    text_factor = 0.0
    if has_text:
        # embeddings are unit vectors (or zero for empty text), so a blended row's norm is the block's factor
        norms = np.linalg.norm(X[:, :text_dims].astype(np.float64), axis=1)
        text_factor = float(np.median(norms[norms > 1e-6])) if (norms > 1e-6).any() else 0.0

    rows = reference_rows(labels, reference_limit, config.random_state)
    reference = X[rows]
    floor = _distance_floor(reference, config.random_state)
    id_column = next((c for c, r in result.roles.items() if r == "id"), None)
    segment_ids = sorted(set(labels.tolist()) - {-1})
    by_segment = {p.segment: p for p in result.profiles}
    segments = []
    for s in segment_ids + ([-1] if (labels < 0).any() else []):
        profile = by_segment.get(s)
        segments.append({
            "id": int(s),
            "name": segment_label(int(s), names),
            "description": str((descriptions or {}).get(s) or getattr(profile, "description", "") or ""),
            "customers": int((labels == s).sum()),
            "share": float((labels == s).mean()),
        })
    arrays: dict[str, np.ndarray] = {
        "reference_features": reference.astype(np.float32),
        "reference_labels": labels[rows].astype(np.int32),
        "training_ids": np.asarray(result.row_ids).astype(str),
        "training_labels": labels.astype(np.int32),
    }
    text_model = str(config.text.model)
    if has_text and text_model.strip().lower() == TFIDF_MODEL:
        state = result.text_state
        if not state:
            raise ModelFileError("The run used TF-IDF but kept no TF-IDF state; re-run the segmentation.")
        arrays["tfidf_terms"] = np.asarray(list(state["terms"])).astype(str)
        arrays["tfidf_idf"] = np.asarray(state["idf"], dtype=np.float32)
        arrays["tfidf_components"] = np.asarray(state["components"], dtype=np.float32)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_with": {"segment_studio": __version__, "libraries": library_versions()},
        "training": {"rows": int(len(labels)), "data_digest": result.data_digest,
                     "unassigned": int((labels < 0).sum())},
        "config": result.config.to_dict(),
        "roles": {str(c): str(r) for c, r in result.roles.items()},
        "columns": {"id": id_column,
                    "required": [*recipe.numeric, *recipe.categorical, *(config.text.columns if has_text else ())]},
        "features": {"recipe": recipe.to_dict(), "cleaning": cleaning.to_dict()},
        "text": {
            "used": has_text, "columns": list(config.text.columns) if has_text else [], "model": text_model,
            "mask_pii": bool(config.text.mask_pii), "batch_size": int(config.text.batch_size),
            "tfidf_dims": int(config.text.tfidf_dims), "random_state": int(config.random_state), "weight": weight,
        },
        "blocks": {
            "text": {"dims": int(text_dims if has_text else 0), "factor": text_factor},
            "structured": {"dims": int(n_structured if has_structured else 0), "factor": structured_factor},
        },
        "assign": {"neighbours": int(neighbours), "distance_floor": floor, "reference_rows": int(len(rows)),
                   "reference_sampled": bool(len(rows) < len(labels))},
        "segments": segments,
    }
    return SegmentModel(manifest, arrays)


def save_model(result: SegmentationResult, path: str | os.PathLike, names: Mapping[int, str] | None = None,
               descriptions: Mapping[int, str] | None = None) -> Path:
    """Build the model of ``result`` (see ``build_model``) and write it to ``path`` (``.segmodel`` by convention)."""
    return build_model(result, names, descriptions).save(path)


def reference_rows(labels: np.ndarray, limit: int, random_state: int) -> np.ndarray:
    """Row positions of the reference customers: all up to ``limit``, else a seeded sample per segment.

    Each segment keeps its share of the sample, but at least ``MIN_REFERENCE_PER_SEGMENT``
    customers (or all it has), so small segments can still win votes.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    chosen = []
    for segment in np.unique(labels):
        rows = np.flatnonzero(labels == segment)
        quota = min(len(rows), max(MIN_REFERENCE_PER_SEGMENT, int(round(limit * len(rows) / n))))
        chosen.append(rng.choice(rows, size=quota, replace=False))
    return np.sort(np.concatenate(chosen))


def _distance_floor(reference: np.ndarray, random_state: int) -> float:
    """``NEAREST_FLOOR_SHARE`` of the median distance from a reference customer to its nearest other one."""
    from sklearn.neighbors import NearestNeighbors

    if len(reference) < 3:
        return 1e-6
    rng = np.random.default_rng(random_state)
    probe = reference[rng.choice(len(reference), size=min(1000, len(reference)), replace=False)]
    distances, _ = NearestNeighbors(n_neighbors=2).fit(reference).kneighbors(probe)
    positive = distances[:, 1][distances[:, 1] > 0]
    typical = float(np.median(positive)) if positive.size else 0.0
    return max(typical * NEAREST_FLOOR_SHARE, 1e-6)


def agreement(model: SegmentModel, result: SegmentationResult) -> dict[str, float]:
    """How often the model gives the customers it was built from their own segment back.

    ``assigned`` is the share over customers in a segment, ``all`` over every customer
    (Unassigned included); expect at least 0.95 for assigned customers. ``as_new`` is
    the share for customers in a segment when each is left out of its own vote, as if
    it were a new customer: an honest estimate of how well look-alike newcomers are placed.
    """
    X = model.transform(result.table)
    assigned, _ = model.vote(X)
    as_new, _ = model.vote(X, skip_exact=True)
    labels = np.asarray(result.labels)
    inside = labels >= 0
    if not inside.any():
        return {"assigned": float("nan"), "all": float((assigned == labels).mean()), "as_new": float("nan")}
    return {
        "assigned": float((assigned[inside] == labels[inside]).mean()),
        "all": float((assigned == labels).mean()),
        "as_new": float((as_new[inside] == labels[inside]).mean()),
    }


# --------------------------------------------------------------------------- movement
@dataclass(frozen=True)
class Movement:
    """Where customers went between two segmentations.

    ``table``: one row per (from, to) pair with ``customers`` and ``share_of_from``;
    ``drift``: one row per segment with customers and shares then and now and the
    change in percentage points; ``figure``: a Sankey flow diagram; ``source``: what the
    earlier segments were taken from, in words.
    """

    table: pd.DataFrame
    drift: pd.DataFrame
    figure: go.Figure = field(repr=False)
    customers: int
    stayed_share: float
    source: str = ""

    def summary_lines(self) -> list[str]:
        lines = [f"{self.customers:,} customers compared with {self.source}." if self.source
                 else f"{self.customers:,} customers compared.",
                 f"{self.stayed_share:.0%} stayed in the same segment."]
        moved = self.table[self.table["from"] != self.table["to"]]
        if len(moved):
            top = moved.iloc[0]
            lines.append(f"The largest move: {int(top['customers']):,} customers from {top['from']} to {top['to']}.")
        if len(self.drift) and self.drift["change_points"].abs().max() >= 0.5:
            biggest = self.drift.iloc[self.drift["change_points"].abs().argmax()]
            lines.append(f"The largest shift in share: {biggest['segment']} "
                         f"({biggest['share_then']:.0%} then, {biggest['share_now']:.0%} now).")
        return lines


def _as_names(values: Sequence[Any], names: Mapping[int, str] | None) -> list[str]:
    out = []
    for value in values:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            out.append((names or {}).get(int(value)) or segment_label(int(value)))
        elif isinstance(value, (float, np.floating)) and float(value).is_integer():
            out.append((names or {}).get(int(value)) or segment_label(int(value)))
        else:
            out.append(str(value))
    return out


def movement(previous: Sequence[Any], new: Sequence[Any], names: Mapping[int, str] | None = None,
             then: Sequence[Any] | None = None, now: Sequence[Any] | None = None, source: str = "") -> Movement:
    """Compare each customer's ``previous`` segment with their ``new`` one (same order, same length).

    Segments may be given as ids (named with ``names``, else "Segment N"; -1 is
    Unassigned) or as names. The drift table compares segment shares in ``then``
    and ``now`` (default: ``previous`` and ``new`` themselves), e.g. the whole
    training base against the whole new file.
    """
    import plotly.graph_objects as go

    from segmentation.plots.charts import SEGMENT_PALETTE, UNASSIGNED_COLOUR

    before, after = _as_names(previous, names), _as_names(new, names)
    if len(before) != len(after):
        raise DataError(f"Cannot compare {len(before):,} earlier segments with {len(after):,} new ones: "
                        "the two lists must hold the same customers in the same order.")
    pairs = pd.DataFrame({"from": before, "to": after})
    table = (pairs.groupby(["from", "to"], sort=False).size().rename("customers").reset_index()
             if len(pairs) else pd.DataFrame(columns=["from", "to", "customers"]))
    if len(table):
        table["customers"] = table["customers"].astype(np.int64)
        totals = table.groupby("from")["customers"].transform("sum")
        table["share_of_from"] = (table["customers"] / totals).round(4)
        table = table.sort_values(["customers", "from", "to"], ascending=[False, True, True]).reset_index(drop=True)
    else:
        table["share_of_from"] = []
    stayed = float((pairs["from"] == pairs["to"]).mean()) if len(pairs) else float("nan")

    then_names = _as_names(then, names) if then is not None else before
    now_names = _as_names(now, names) if now is not None else after
    then_counts, now_counts = pd.Series(then_names).value_counts(), pd.Series(now_names).value_counts()
    segments = _ordered_segments(set(then_counts.index) | set(now_counts.index), then_counts, now_counts)
    drift = pd.DataFrame({
        "segment": segments,
        "customers_then": [int(then_counts.get(s, 0)) for s in segments],
        "customers_now": [int(now_counts.get(s, 0)) for s in segments],
    })
    drift["share_then"] = (drift["customers_then"] / max(len(then_names), 1)).round(4)
    drift["share_now"] = (drift["customers_now"] / max(len(now_names), 1)).round(4)
    drift["change_points"] = ((drift["share_now"] - drift["share_then"]) * 100).round(2)

    colour_of = {s: (UNASSIGNED_COLOUR if s == NOISE_NAME else SEGMENT_PALETTE[i % len(SEGMENT_PALETTE)])
                 for i, s in enumerate([s for s in segments if s != NOISE_NAME] + [NOISE_NAME])}
    if names:  # the segment's own colour when its id is known, as on the map
        for segment_id, name in names.items():
            if name in colour_of:
                colour_of[name] = UNASSIGNED_COLOUR if segment_id < 0 else \
                    SEGMENT_PALETTE[int(segment_id) % len(SEGMENT_PALETTE)]
    left = [s for s in segments if s in set(before)]
    right = [s for s in segments if s in set(after)]
    node_index = {("from", s): i for i, s in enumerate(left)}
    node_index.update({("to", s): len(left) + i for i, s in enumerate(right)})
    figure = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=[f"{s} (before)" for s in left] + [f"{s} (now)" for s in right],
                  color=[colour_of.get(s, UNASSIGNED_COLOUR) for s in left + right], pad=14, thickness=16,
                  line=dict(width=0)),
        link=dict(source=[node_index[("from", f)] for f in table["from"]],
                  target=[node_index[("to", t)] for t in table["to"]],
                  value=table["customers"].tolist(),
                  color=["rgba(150,160,175,0.35)" if f != t else "rgba(84,162,75,0.30)"
                         for f, t in zip(table["from"], table["to"])],
                  hovertemplate="%{source.label} → %{target.label}: %{value:,} customers<extra></extra>"),
    ))
    figure.update_layout(title=dict(text="Where customers moved", x=0, xanchor="left"), font=dict(size=13),
                         paper_bgcolor="white", height=max(320, 40 * max(len(left), len(right)) + 120),
                         margin=dict(l=10, r=10, t=50, b=10))
    return Movement(table=table, drift=drift, figure=figure, customers=int(len(pairs)), stayed_share=stayed,
                    source=source)


def _ordered_segments(segments: set[str], then: pd.Series, now: pd.Series) -> list[str]:
    """Largest first (then + now), ties by name, Unassigned last."""
    return sorted(segments, key=lambda s: (s == NOISE_NAME, -(then.get(s, 0) + now.get(s, 0)), s))


# --------------------------------------------------------------------------- reading and writing
def load_model(source: str | os.PathLike | bytes, max_bytes: int = MAX_MODEL_BYTES) -> SegmentModel:
    """Read a model file (path or bytes). Anything damaged, foreign or oversized raises ``ModelFileError``.

    ``max_bytes`` caps the file and the decoded arrays, against zip bombs.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "The uploaded model file"
    else:
        path = Path(source)
        label = f"The model file {str(path)!r}"
        if not path.is_file():
            raise ModelFileError(f"{label} does not exist. Give the path of a .segmodel file saved from a run.")
        if path.stat().st_size > max_bytes:
            raise ModelFileError(f"{label} is larger than {max_bytes:,} bytes, the most a model file may be.")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ModelFileError(f"{label} is larger than {max_bytes:,} bytes, the most a model file may be.")
    foreign = f"{label} is not a Segment Studio model. Save the model again from the run's Export page or CLI."
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(foreign)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            if sorted(names) != sorted([MANIFEST_MEMBER, ARRAYS_MEMBER]):
                unexpected = sorted(set(names) - {MANIFEST_MEMBER, ARRAYS_MEMBER})
                detail = f" (unexpected: {', '.join(map(repr, unexpected[:5]))})" if unexpected else ""
                raise ModelFileError(foreign + detail)
            by_name = {i.filename: i for i in infos}
            manifest_bytes = _read_member(archive, by_name[MANIFEST_MEMBER], MAX_MANIFEST_BYTES, label)
            arrays_bytes = _read_member(archive, by_name[ARRAYS_MEMBER], max_bytes, label)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(f"{label} is damaged ({type(exc).__name__}: {exc}). Save the model again.") from exc
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{label} has an unreadable manifest ({exc}). Save the model again.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(foreign)
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{label} has no valid format version. Save the model again.")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was saved by a newer Segment Studio (model format {version}; this version "
                             f"reads up to {FORMAT_VERSION}). Update Segment Studio to use it.")
    arrays = _read_npz(arrays_bytes, max_bytes, label)
    return SegmentModel(manifest, arrays)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> bytes:
    """A member's bytes, refusing encrypted members and stopping at ``limit`` whatever the header claims."""
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{label} holds an encrypted member; model files are never encrypted.")
    if info.file_size > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} would unpack to {info.file_size:,} bytes, more "
                             f"than the {limit:,} allowed. The file is damaged or not a model.")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{label}: member {info.filename!r} unpacks to more than the {limit:,} bytes "
                             "allowed. The file is damaged or not a model.")
    return data


def _read_npz(data: bytes, limit: int, label: str) -> dict[str, np.ndarray]:
    """The arrays of an npz archive, checked member by member before anything is allocated; never unpickles."""
    damaged = f"{label} has damaged arrays"
    arrays: dict[str, np.ndarray] = {}
    budget = limit
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else ""
                if name not in _ARRAY_NAMES or name in arrays:
                    raise ModelFileError(f"{label} holds an unexpected array member {info.filename!r}; it is not a "
                                         "Segment Studio model.")
                raw = _read_member(archive, info, budget, label)
                budget -= len(raw)
                stream = io.BytesIO(raw)
                major, minor = np.lib.format.read_magic(stream)
                if (major, minor) == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                elif (major, minor) in ((2, 0), (3, 0)):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                else:
                    raise ModelFileError(f"{damaged} (unknown array format {major}.{minor}).")
                if dtype.hasobject or dtype.kind not in "biufU":
                    raise ModelFileError(f"{label}: array {name!r} holds Python objects ({dtype}); model files hold "
                                         "only numbers and text, and this one is refused because loading it could "
                                         "run code.")
                declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if declared != len(raw) - stream.tell():
                    raise ModelFileError(f"{damaged} (array {name!r} declares {declared:,} bytes but holds "
                                         f"{len(raw) - stream.tell():,}).")
                arrays[name] = np.load(io.BytesIO(raw), allow_pickle=False)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise ModelFileError(f"{damaged} ({type(exc).__name__}: {exc}). Save the model again.") from exc
    return arrays


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An npz archive (readable by ``np.load``) written without pickle and without timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array = np.ascontiguousarray(arrays[name])
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


_REQUIRED_KEYS = ("training", "config", "roles", "columns", "features", "text", "blocks", "assign", "segments")


def _check_model(manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Check that the manifest and arrays describe one consistent model, else ``ModelFileError``."""
    problem = "The model file is damaged or was not written by Segment Studio"
    missing = [k for k in _REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ModelFileError(f"{problem}: its manifest lacks {', '.join(missing)}.")
    absent = [k for k in ("reference_features", "reference_labels", "training_ids", "training_labels")
              if k not in arrays]
    if absent:
        raise ModelFileError(f"{problem}: it lacks the arrays {', '.join(absent)}.")
    try:
        recipe = FeatureRecipe.from_dict(manifest["features"]["recipe"])
        CleaningRecipe.from_dict(manifest["features"]["cleaning"])
        blocks = manifest["blocks"]
        text_dims, structured_dims = int(blocks["text"]["dims"]), int(blocks["structured"]["dims"])
        float(blocks["text"]["factor"]), float(blocks["structured"]["factor"])
        neighbours = int(manifest["assign"]["neighbours"])
        float(manifest["assign"]["distance_floor"])
        segment_ids = {int(s["id"]) for s in manifest["segments"]}
        for s in manifest["segments"]:
            str(s["name"])
        text = manifest["text"]
        columns = [str(c) for c in text["columns"]]
        bool(text["used"]), str(text["model"]), bool(text["mask_pii"])
        id_column = manifest["columns"]["id"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{problem}: its manifest is incomplete ({type(exc).__name__}: {exc}).") from exc
    numbers = [*recipe.centers, *recipe.scales, *recipe.fill_values, float(blocks["text"]["factor"]),
               float(blocks["structured"]["factor"])]
    for step in CleaningRecipe.from_dict(manifest["features"]["cleaning"]).numeric.values():
        numbers += [step["fill"], *(step["clip"] or [])]
    if not all(math.isfinite(x) for x in numbers) or any(scale == 0 for scale in recipe.scales):
        raise ModelFileError(f"{problem}: its recipe holds numbers that are not finite.")
    if not float(manifest["assign"]["distance_floor"]) > 0:
        raise ModelFileError(f"{problem}: its distance floor must be positive.")
    if id_column is not None and not isinstance(id_column, str):
        raise ModelFileError(f"{problem}: its id column is not a name.")
    reference, labels = arrays["reference_features"], arrays["reference_labels"]
    if reference.ndim != 2 or reference.dtype.kind != "f" or labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ModelFileError(f"{problem}: its reference arrays have the wrong type or shape.")
    if reference.shape[0] != labels.shape[0] or reference.shape[0] == 0:
        raise ModelFileError(f"{problem}: it holds {reference.shape[0]} reference customers but "
                             f"{labels.shape[0]} reference segments.")
    if reference.shape[1] != text_dims + structured_dims:
        raise ModelFileError(f"{problem}: its reference customers have {reference.shape[1]} features, the manifest "
                             f"says {text_dims + structured_dims}.")
    if structured_dims not in (0, len(recipe.feature_names)):
        raise ModelFileError(f"{problem}: the feature recipe gives {len(recipe.feature_names)} features, the "
                             f"manifest says {structured_dims}.")
    if not np.isfinite(reference).all():
        raise ModelFileError(f"{problem}: its reference customers hold values that are not numbers.")
    unknown = set(np.unique(labels).tolist()) - segment_ids - {-1}
    if unknown:
        raise ModelFileError(f"{problem}: its reference customers belong to segments it does not describe.")
    ids, training = arrays["training_ids"], arrays["training_labels"]
    if ids.ndim != 1 or training.ndim != 1 or len(ids) != len(training) or ids.dtype.kind != "U":
        raise ModelFileError(f"{problem}: its training ids and segments do not match.")
    if neighbours < 1:
        raise ModelFileError(f"{problem}: it asks for {neighbours} neighbours.")
    if text_dims and not columns:
        raise ModelFileError(f"{problem}: it has a text block but no text columns.")
    if text_dims and str(text["model"]).strip().lower() == TFIDF_MODEL:
        need = ("tfidf_terms", "tfidf_idf", "tfidf_components")
        if any(k not in arrays for k in need):
            raise ModelFileError(f"{problem}: it uses TF-IDF but lacks the TF-IDF vocabulary.")
        terms, idf, components = (arrays[k] for k in need)
        if not (terms.ndim == 1 and idf.shape == terms.shape and components.ndim == 2
                and components.shape == (text_dims, terms.shape[0]) and terms.dtype.kind == "U"
                and np.isfinite(idf).all() and np.isfinite(components).all()):
            raise ModelFileError(f"{problem}: its TF-IDF arrays do not fit together.")


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def model_file_name(stem: str) -> str:
    """A safe file name for a model download, e.g. ``run-3.segmodel``."""
    return (_SAFE_NAME.sub("-", stem).strip("-.") or "segments") + MODEL_SUFFIX
