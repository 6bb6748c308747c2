"""A saved segmentation model: build it from a run, and assign new customers to the run's segments.

New customers are encoded exactly like the training customers: the same
cleaning (``ingest.clean.apply_cleaning`` with the recipe learnt from the
training data), the same feature recipe, the same text embedding (the same
sentence-transformers model, or the saved TF-IDF state), and each block
multiplied by the factor it got when the training blocks were blended (the
block's training RMS scale and the text weight; see ``pipeline.blend``). They are
then assigned by a distance-weighted vote of their nearest labelled reference
customers in that blended space.

A customer's confidence is the share of that vote its segment won, as defined once
in ``act.neighbours`` for new and training customers alike.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmentation import __version__
from segmentation.act.model_file import (
    FORMAT,
    FORMAT_VERSION,
    MAX_MODEL_BYTES,
    check_model,
    model_bytes,
    read_model_file,
)
from segmentation.act.neighbours import (
    DEFAULT_NEIGHBOURS,
    REFERENCE_LIMIT,
    RememberedQueries,
    nearest_index,
    neighbour_votes,
    run_reference,
    theme_votes,
    vote_shares,
)
from segmentation.common import NOISE_NAME, json_safe, library_versions, segment_label, segment_number
from segmentation.config import TFIDF_MODEL
from segmentation.errors import DataError, ModelFileError
from segmentation.ingest.clean import CleaningRecipe, apply_cleaning, fit_cleaning
from segmentation.represent.features import FeatureRecipe, transform_features
from segmentation.understand.wording import join_words, model_label, pretty_column

if TYPE_CHECKING:  # the model only reads a result; the pipeline is imported where a result is built
    from sklearn.neighbors import NearestNeighbors

    from segmentation.pipeline import SegmentationResult
    from segmentation.represent.embed import EmbeddingCache

ProgressFn = Callable[[str, float], None]

# --------------------------------------------------------------------------- the model
def _spelt_like(texts: pd.Series, vocabulary: Sequence[str]) -> pd.Series:
    """Categories as the recipe spells them.

    Cleaning spells a number category one way ("1" for 1 and 1.0), but a model saved before it did may
    know the value as "1.0": each number takes the spelling the vocabulary has.
    """
    known = set(vocabulary)

    def spell(value: Any) -> Any:
        if not isinstance(value, str) or value in known:
            return value
        try:
            number = float(value)
        except ValueError:
            return value
        candidates = ([str(int(number))] if number.is_integer() else []) + [str(number)]
        return next((c for c in candidates if c in known), value)

    spelling = {value: spell(value) for value in texts.dropna().unique()}
    return texts.map(spelling, na_action="ignore")


def _structured_block(table: pd.DataFrame, cleaning: CleaningRecipe, recipe: FeatureRecipe) -> np.ndarray:
    """The structured features of ``table``: cleaned with the training recipe, then encoded."""
    cleaned = apply_cleaning(table[[*recipe.numeric, *recipe.categorical]], cleaning)
    for column, vocabulary in zip(recipe.categorical, recipe.categories):
        cleaned[column] = _spelt_like(cleaned[column], vocabulary)
    return transform_features(recipe, cleaned).astype(np.float64)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds arrays
class SegmentModel:
    """A loaded segmentation model. Build one with ``build_model`` or ``load_model``; it never changes.

    Segments are keyed by their label (0-based, as in the arrays); what people and files see is
    ``common.segment_number`` of it (1, 2, …; -1 for Unassigned).
    """

    manifest: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray] = field(repr=False)
    _index: Any = field(default=None, init=False, repr=False, compare=False)  # fitted neighbour search, built once
    _embedder: Any = field(default=None, init=False, repr=False, compare=False)  # TF-IDF rebuilt once, not per batch

    def __post_init__(self) -> None:
        check_model(self.manifest, self.arrays)

    # --- what it holds -------------------------------------------------------------
    @property
    def segment_names(self) -> dict[int, str]:
        """Segment label -> name shown to people (the analyst's name, else "Segment N"); -1 is Unassigned."""
        names = {int(s["id"]): str(s["name"]) for s in self.manifest["segments"]}
        names[-1] = NOISE_NAME
        return names

    def segment_name(self, segment: int) -> str:
        return self.segment_names.get(int(segment), segment_label(int(segment)))

    @property
    def theme_names(self) -> dict[int, str]:
        """Theme id (0-based, as in the arrays; people read ``id + 1``) -> name; empty for a model without themes
        (saved before themes existed)."""
        return {int(t["id"]): str(t["name"]) for t in self.manifest.get("themes", ())}

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
        columns = join_words([f"“{pretty_column(c)}”" for c in self.text_columns])
        text = (f"the text in {columns} read with {model_label(m['text']['model'])}, weighted "
                f"{m['text']['weight']:.0%}" if self.text_columns else "no text")
        return [   # the data digest stays in the manifest (and the About sheet): no sentence for a marketer
            f"{len(segments)} segments learnt from {m['training']['rows']:,} customers.",
            f"Uses {len(self.feature_recipe.numeric)} numeric and {len(self.feature_recipe.categorical)} "
            f"categorical columns, {text}.",
            f"New customers are assigned by their {m['assign']['neighbours']} nearest of "
            f"{self.n_reference:,} reference customers.",
        ] + self._orders_lines()

    def _orders_lines(self) -> list[str]:
        orders = self.manifest.get("orders")
        if not orders:
            return []
        line = (f"Built from order lines: a file of order lines (customer {orders['layout']['customer']!r}, date "
                f"{orders['layout']['date']!r}) is rolled up to customers the same way before assigning")
        if orders["value"]:
            return [line + "; their chance of still buying, expected purchases, predicted CLV and value at risk "
                    "come from the saved purchase and spend models (not refitted)."]
        return [line + "."]

    # --- order lines ---------------------------------------------------------------------
    @property
    def order_layout(self) -> Any:
        """The ``ingest.orders.TransactionSchema`` the training order lines were rolled up with, or None when the
        model was built from a table of customers."""
        orders = self.manifest.get("orders")
        if not orders:
            return None
        from segmentation.ingest.orders import TransactionSchema

        return TransactionSchema(**orders["layout"])

    @property
    def value_model(self) -> Any:
        """The saved ``value.clv.ValueModel`` (purchase and spend parameters), or None."""
        orders = self.manifest.get("orders")
        if not orders or not orders["value"]:
            return None
        from segmentation.value.clv import model_from_parameters

        return model_from_parameters(orders["value"]["parameters"])

    def customers_of(self, table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """``table`` as the model's customers, and notes: order lines are rolled up with the training layout
        (and their value predicted with the saved parameters, not refitted) when the model was built from order
        lines and ``table`` has the layout's columns but not the model's; any other table is returned as it is."""
        layout = self.order_layout
        if layout is None or table is None:
            return table, []
        have = {str(c) for c in table.columns}
        parts = [layout.customer, layout.date, *([layout.amount] if layout.amount else [layout.quantity, layout.price])]
        if not all(p in have for p in parts) or all(c in have for c in self.required_columns):
            return table, []
        from segmentation.ingest.orders import rollup

        model = self.value_model
        customers, notes = rollup(table, layout, predict=model is not None, value_model=model)
        return customers, notes

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
            parts.append(_structured_block(table, self.cleaning, self.feature_recipe)
                         * blocks["structured"]["factor"])
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
               on_progress: ProgressFn | None = None, themes: bool = False) -> pd.DataFrame:
        """Assign each customer of ``table`` to a segment.

        Returns one row per input row, in order: the customer id (the model's id
        column when the file has it, else ``row_number`` from 1), ``segment_id``
        (the segment's number, as in every export: 1, 2, …; -1 = Unassigned),
        ``segment_name`` and ``confidence``: the distance-weighted share of the ``k``
        nearest reference customers (default 10) that vote for that segment (see the
        module docstring). Customers whose neighbours are mostly unassigned stay
        Unassigned. Same model + same table = same answer. ``themes`` adds ``theme_id`` (as in customers.csv),
        ``theme_name`` and ``theme_confidence`` when the model has themes (``vote_themes``); the CLI, the Assign
        page and the Ray engines ask for them.

        A model built from order lines takes order lines too (see ``customers_of``): they are rolled up first,
        the rows are then the customers, and ``p_alive``, ``expected_purchases``, ``predicted_clv`` and
        ``value_at_risk`` follow (empty for customers without a purchase) when the model holds value parameters
        and the customers have them.
        """
        if table is None or len(table.columns) == 0:
            raise DataError("The file has no columns. Load the customers to assign.")
        table, _ = self.customers_of(table)
        from segmentation.value.clv import VALUE_COLUMNS

        predicted = self.value_model is not None and any(c in table.columns for c in VALUE_COLUMNS)
        X = self.transform(table, embedding_cache, on_progress)
        queries = RememberedQueries(self.neighbour_index()) if themes and self.theme_names else None
        labels, confidence = self.vote(X, k, index=queries)
        id_column = self.id_column
        if id_column is not None and id_column in table.columns:
            ids = table[id_column].astype("string").fillna("").to_numpy(dtype=object).astype(str)
            key = id_column
        else:
            ids = np.arange(1, len(table) + 1)
            key = "row_number"
        names = self.segment_names
        out = pd.DataFrame({
            key: ids,
            "segment_id": np.array([segment_number(s) for s in labels], dtype=np.int64),
            "segment_name": [names.get(int(s), segment_label(int(s))) for s in labels],
            "confidence": np.round(confidence, 4),
        })
        if themes and self.theme_names:   # theme_id as in customers.csv: 1, 2, … across the run, -1 for Unassigned
            voted, theme_confidence = self.vote_themes(X, labels, k, index=queries)
            out["theme_id"] = np.where(voted < 0, -1, voted + 1).astype(np.int64)
            out["theme_name"] = [self.theme_names.get(int(t), f"Theme {t + 1}") if t >= 0 else NOISE_NAME
                                 for t in voted]
            out["theme_confidence"] = np.round(theme_confidence, 4)
        if predicted:
            for column in VALUE_COLUMNS:
                values = table[column] if column in table.columns else pd.Series(np.nan, index=table.index)
                out[column] = values.to_numpy(dtype="float64")
        return out

    def neighbour_index(self) -> NearestNeighbors:
        """The search index over the reference customers, built once per model."""
        if self._index is None:
            object.__setattr__(self, "_index", nearest_index(self.arrays["reference_features"]))
        return self._index

    def _votes(self, X: np.ndarray, k: int | None, skip_exact: bool, index: Any = None
               ) -> tuple[np.ndarray, np.ndarray]:
        reference = self.arrays["reference_features"]
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != reference.shape[1]:
            raise DataError(f"Expected {reference.shape[1]} features per customer, got {X.shape[-1]}.")
        return neighbour_votes(index or self.neighbour_index(), self.arrays["reference_labels"], X,
                               int(k or self.manifest["assign"]["neighbours"]),
                               float(self.manifest["assign"]["distance_floor"]), skip_exact)

    def vote(self, X: np.ndarray, k: int | None = None, skip_exact: bool = False, index: Any = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, confidence) of blended rows ``X``: the winner of the vote of their nearest references and its
        share (see ``neighbour_votes`` for ``skip_exact``; ``index``: a ``RememberedQueries`` shared with
        ``vote_themes``)."""
        segments, votes = self._votes(X, k, skip_exact, index)
        if not len(votes):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        labels = segments[votes.argmax(axis=1)].astype(np.int64)
        return labels, vote_shares(segments, votes, labels)

    def vote_themes(self, X: np.ndarray, segments: np.ndarray, k: int | None = None, skip_exact: bool = False,
                    given: np.ndarray | None = None, index: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(themes, confidence) of blended rows ``X`` in ``segments`` (from ``vote``): the closeness-weighted vote
        of their nearest references restricted to their own segment (``neighbours.theme_votes``; ``given``: the
        share of these themes instead). Theme -1 for a model without themes and for the Unassigned."""
        if "reference_themes" not in self.arrays:
            return np.full(len(X), -1, dtype=np.int64), np.zeros(len(X))
        self._votes(X[:0], k, skip_exact)   # checks the number of features
        return theme_votes(index or self.neighbour_index(), self.arrays["reference_labels"],
                           self.arrays["reference_themes"],
                           np.asarray(X, dtype=np.float32), segments, int(k or self.manifest["assign"]["neighbours"]),
                           float(self.manifest["assign"]["distance_floor"]), skip_exact, given)

    # --- bytes --------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The model file's bytes (a zip of manifest.json and arrays.npz); the same model gives the same bytes."""
        return model_bytes(self.manifest, self.arrays)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model file (written to a temporary name first, so a crash never leaves half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(self.to_bytes())
        temporary.replace(path)
        return path


def load_model(source: str | os.PathLike | bytes, max_bytes: int = MAX_MODEL_BYTES) -> SegmentModel:
    """Read a model file (path or bytes). Anything damaged, foreign or oversized raises ``ModelFileError``.

    ``max_bytes`` caps the file and the decoded arrays, against zip bombs.
    """
    manifest, arrays = read_model_file(source, max_bytes)
    return SegmentModel(manifest, arrays)


# --------------------------------------------------------------------------- building
def build_model(result: SegmentationResult, names: Mapping[int, str] | None = None,
                descriptions: Mapping[int, str] | None = None, reference_limit: int = REFERENCE_LIMIT,
                neighbours: int = DEFAULT_NEIGHBOURS) -> SegmentModel:
    """A model that assigns new customers to the segments of ``result``.

    ``names`` and ``descriptions`` map segment labels to the analyst's words (unnamed
    segments get their suggested names, ``understand.naming.display_names``, as in exports). Up to ``reference_limit``
    training customers are kept as the labelled reference (all of them below it,
    else a seeded sample stratified by segment); more references mean slower but
    finer assignment. ``neighbours`` (5 to 30 works well) is how many references
    vote for each new customer.
    """
    config = result.config
    recipe = FeatureRecipe.from_dict(result.feature_recipe)
    # the very recipe clean_table learnt: the same function on the same rows, columns and roles
    cleaning = fit_cleaning(result.table, result.roles, config.clean)
    X, labels, rows, floor = run_reference(result, reference_limit)
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
        raw = _structured_block(result.table, cleaning, recipe)
        rms = float(np.sqrt(np.mean(np.sum(raw ** 2, axis=1)))) if raw.size else 0.0
        share = (1 - weight) if has_text else 1.0
        structured_factor = math.sqrt(share) / rms if rms > 1e-12 else math.sqrt(share)
    text_factor = 0.0
    if has_text:
        # embeddings are unit vectors (or zero for empty text), so a blended row's norm is the block's factor
        norms = np.linalg.norm(X[:, :text_dims].astype(np.float64), axis=1)
        text_factor = float(np.median(norms[norms > 1e-6])) if (norms > 1e-6).any() else 0.0

    id_column = next((c for c, r in result.roles.items() if r == "id"), None)
    by_segment = {p.segment: p for p in result.profiles}
    themed = _themes_fit(result, labels)
    from segmentation.understand.naming import display_names  # only when a model is built from a result

    names = display_names(result.profiles, names)   # the analyst's names, else the suggested ones
    segments = []
    for s in sorted(set(labels.tolist()) - {-1}) + ([-1] if (labels < 0).any() else []):
        profile = by_segment.get(s)
        segments.append({
            "id": int(s),
            "segment_id": segment_number(s),
            "name": segment_label(int(s), names),
            "description": str((descriptions or {}).get(s) or getattr(profile, "description", "") or ""),
            "customers": int((labels == s).sum()),
            "share": float((labels == s).mean()),
        })
    arrays: dict[str, np.ndarray] = {
        "reference_features": X[rows],
        "reference_labels": labels[rows].astype(np.int32),
        **({"reference_themes": np.asarray(result.theme_labels)[rows].astype(np.int32)} if themed else {}),
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
    if themed:   # the themes inside the segments (format 2); theme_id as in customers.csv
        theme_labels, theme_names = np.asarray(result.theme_labels), result.theme_names()
        manifest["themes"] = [{"id": int(t), "theme_id": int(t) + 1, "segment": int(s), "customers": int(
            (theme_labels == t).sum()), "name": theme_names.get(int(t), f"Theme {int(t) + 1}")}
            for t, s in sorted(result.theme_parent.items())]
    from segmentation.value.clv import VALUE_ATTR

    # how the customers were rolled up from order lines (null for a table of customers)
    manifest["orders"] = result.table.attrs.get(VALUE_ATTR) or None
    # as plain JSON, so a built model and the same model loaded from its file hold exactly the same manifest
    return SegmentModel(json.loads(json.dumps(json_safe(manifest), allow_nan=False)), arrays)


def _themes_fit(result: SegmentationResult, labels: np.ndarray) -> bool:
    """Whether ``result``'s theme level belongs to ``labels``: every theme inside the segment of its customers (a
    result whose labels were changed by hand without its themes is saved without them)."""
    themes = getattr(result, "theme_labels", None)
    if themes is None or not result.theme_parent or len(themes) != len(labels):
        return False
    themes = np.asarray(themes)
    parent = np.array([result.theme_parent.get(int(t), -2) for t in themes[themes >= 0]], dtype=np.int64)
    return bool((parent == labels[themes >= 0]).all() and (themes[labels >= 0] >= 0).all())


def save_model(result: SegmentationResult, path: str | os.PathLike, names: Mapping[int, str] | None = None,
               descriptions: Mapping[int, str] | None = None) -> Path:
    """Build the model of ``result`` (see ``build_model``) and write it to ``path`` (``.segmodel`` by convention)."""
    return build_model(result, names, descriptions).save(path)


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
