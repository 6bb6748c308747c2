"""What a saved model's manifest may hold: a small declarative schema, checked before any of it is used.

``MANIFEST`` names every field with its type and range (whole numbers, finite numbers in a range, texts,
true/false, lists, objects with known fields). ``check_manifest`` walks it and then checks what the fields
say together (one scale per numeric column, one vocabulary per categorical column, segment ids that are
unique, blocks that add up); the first field that does not fit raises one ``ModelFileError`` that names it:

    The model file's 'text.weight' must be a number between 0 and 1; got 'abc'.

``expected_shapes`` gives the shape each array must have, so that arrays are checked before they are read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from segmentation.common import segment_number
from segmentation.errors import ModelFileError

AGAIN = "The file is damaged or was edited by hand: save the model again from its run."


def _shown(value: Any) -> str:
    """A short, safe rendering of a manifest value for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _refuse(path: str, what: str, value: Any) -> ModelFileError:
    return ModelFileError(f"The model file's '{path}' must be {what}; got {_shown(value)}. {AGAIN}")


class _Spec:
    """A field's rule: ``fits`` tests the value itself, ``check_inside`` what it holds (items, fields)."""

    what = "a value"

    def fits(self, value: Any) -> bool:
        raise NotImplementedError

    def check_inside(self, value: Any, path: str) -> None:
        """Nothing inside a number, a text or a flag."""

    def check(self, value: Any, path: str) -> None:
        if not self.fits(value):
            raise _refuse(path, self.what, value)
        self.check_inside(value, path)


@dataclass(frozen=True)
class Number(_Spec):
    """A finite JSON number (never true/false); ``whole`` for integers; ``above`` excludes ``low`` itself."""

    low: float = -math.inf
    high: float = math.inf
    whole: bool = False
    above: bool = False
    nonzero: bool = False

    @property
    def what(self) -> str:  # type: ignore[override]
        kind = "a whole number" if self.whole else "a number"
        if self.above:
            return f"{kind} above {self.low:g}" + ("" if self.high == math.inf else f" and at most {self.high:g}")
        if self.low > -math.inf and self.high < math.inf:
            return f"{kind} between {self.low:g} and {self.high:.0f}" if self.whole else \
                f"{kind} between {self.low:g} and {self.high:g}"
        if self.low > -math.inf:
            return f"{kind} of at least {self.low:g}"
        return f"a finite {kind[2:]}" + (" other than 0" if self.nonzero else "")

    def fits(self, value: Any) -> bool:
        return (not isinstance(value, bool) and isinstance(value, (int, float))
                and (isinstance(value, int) or not self.whole) and math.isfinite(value)
                and self.low <= value <= self.high and not (self.above and value == self.low)
                and not (self.nonzero and value == 0))


@dataclass(frozen=True)
class Text(_Spec):
    max_chars: int = 100_000
    choices: tuple[str, ...] = ()

    @property
    def what(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(map(repr, self.choices))
        return f"a text of at most {self.max_chars:,} characters"

    def fits(self, value: Any) -> bool:
        return isinstance(value, str) and len(value) <= self.max_chars and (not self.choices or value in self.choices)


@dataclass(frozen=True)
class Flag(_Spec):
    what = "true or false"

    def fits(self, value: Any) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True)
class Nullable(_Spec):
    inner: _Spec

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"{self.inner.what} or null"

    def fits(self, value: Any) -> bool:
        return value is None or self.inner.fits(value)

    def check_inside(self, value: Any, path: str) -> None:
        if value is not None:
            self.inner.check_inside(value, path)


@dataclass(frozen=True)
class ListOf(_Spec):
    item: _Spec
    max_items: int = 1_000_000
    size: int | None = None

    @property
    def what(self) -> str:  # type: ignore[override]
        return f"a list of {self.size} item(s)" if self.size is not None else \
            f"a list of at most {self.max_items:,} item(s)"

    def fits(self, value: Any) -> bool:
        return isinstance(value, list) and len(value) <= self.max_items and self.size in (None, len(value))

    def check_inside(self, value: Any, path: str) -> None:
        for i, item in enumerate(value):
            self.item.check(item, f"{path}[{i}]")


@dataclass(frozen=True)
class Record(_Spec):
    """A JSON object with exactly these fields (``optional`` ones may be absent); ``fields=None``: any object."""

    fields: Mapping[str, _Spec] | None = None
    optional: frozenset[str] = field(default_factory=frozenset)
    what = "an object"

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict)

    def check_inside(self, value: Any, path: str) -> None:
        if self.fields is None:
            return
        prefix = f"{path}." if path else ""
        missing = [k for k in self.fields if k not in value and k not in self.optional]
        if missing:
            raise ModelFileError(f"The model file's manifest lacks '{prefix}{missing[0]}'. {AGAIN}")
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            raise ModelFileError(f"The model file's manifest has an unknown field '{prefix}{unknown[0]}'. {AGAIN}")
        for key, spec in self.fields.items():
            if key in value:
                spec.check(value[key], prefix + key)


@dataclass(frozen=True)
class MapOf(_Spec):
    """A JSON object from names (column names) to values of one kind."""

    value: _Spec
    max_items: int = 1_000_000
    what = "an object"

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict) and len(value) <= self.max_items

    def check_inside(self, value: Any, path: str) -> None:
        for key, item in value.items():
            self.value.check(item, f'{path}["{key}"]')


NAME = Text(10_000)
FINITE = Number()
DIMS = Number(0, 1_000_000, whole=True)
ROWS = Number(1, 10**12, whole=True)
COUNT = Number(0, 10**12, whole=True)

POSITIVE = Number(0, above=True)
ORDERS = Record({
    "layout": Record({"customer": NAME, "date": NAME, **{part: Nullable(NAME) for part in (
        "amount", "quantity", "price", "order", "product", "category", "text")}}),
    "value": Nullable(Record({
        "parameters": Record({**{name: POSITIVE for name in ("r", "alpha", "a", "b", "p", "v")},
                              "q": Number(1, above=True), "customers": ROWS, "repeat_customers": COUNT}),
        "horizon_days": Number(1, 3650, whole=True),
    })),
})
"""How a model built from order lines rolls new ones up (``value.clv.rollup_record``; null for a model built from
customers, absent in files written before it): the layout, and the fitted
MBG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) parameters when value was predicted (q above 1, as the spend
model's mean needs)."""

MANIFEST = Record({
    "format": Text(100),
    "format_version": Number(1, whole=True),
    "created_with": Record(),
    "training": Record({"rows": ROWS, "data_digest": Nullable(Text(1000)), "unassigned": COUNT},
                       optional=frozenset({"unassigned"})),
    "config": Record(),
    "roles": MapOf(Text(100)),
    "columns": Record({"id": Nullable(NAME), "required": ListOf(NAME)}, optional=frozenset({"required"})),
    "features": Record({
        "recipe": Record({
            "numeric": ListOf(NAME), "categorical": ListOf(NAME), "centers": ListOf(FINITE),
            "scales": ListOf(Number(nonzero=True)), "fill_values": ListOf(FINITE),
            "categories": ListOf(ListOf(NAME)), "scaling": Text(choices=("standard", "robust", "minmax")),
        }),
        "cleaning": Record({
            "numeric": MapOf(Record({"fill": FINITE, "clip": Nullable(ListOf(FINITE, size=2)), "log": Flag()})),
            "categorical": MapOf(NAME),
        }),
    }),
    "text": Record({
        "used": Flag(), "columns": ListOf(NAME), "model": Text(1000), "mask_pii": Flag(),
        "batch_size": Number(1, 100_000, whole=True), "tfidf_dims": Number(1, 100_000, whole=True),
        "random_state": Number(0, 2**32 - 1, whole=True), "weight": Number(0, 1),
    }),
    "blocks": Record({
        "text": Record({"dims": DIMS, "factor": Number(0)}),
        "structured": Record({"dims": DIMS, "factor": Number(0)}),
    }),
    "assign": Record({
        "neighbours": Number(1, 10_000, whole=True), "distance_floor": Number(0, above=True),
        "reference_rows": ROWS, "reference_sampled": Flag(),
    }, optional=frozenset({"reference_rows", "reference_sampled"})),
    "segments": ListOf(Record({
        "id": Number(-1, 1_000_000, whole=True), "segment_id": Number(-1, 1_000_001, whole=True), "name": NAME,
        "description": Text(), "customers": COUNT, "share": Number(0, 1),
    }, optional=frozenset({"segment_id", "description", "customers", "share"})), max_items=100_000),
    "orders": Nullable(ORDERS),
    "themes": ListOf(Record({
        "id": Number(0, 1_000_000, whole=True), "theme_id": Number(1, 1_000_001, whole=True),
        "segment": Number(0, 1_000_000, whole=True), "name": NAME, "customers": COUNT,
    }, optional=frozenset({"customers"})), max_items=100_000),
}, optional=frozenset({"created_with", "orders", "themes"}))
"""Every field of a model manifest (format versions 1 and 2), with its type and range. ``themes`` (format 2; absent
in older files): the themes inside the segments, ``id`` as in the ``reference_themes`` array (from 0),
``theme_id`` the number people and files use (``id`` + 1), ``segment`` the label of the segment it lies in."""


def check_manifest(manifest: Any) -> None:
    """Raise ``ModelFileError`` naming the first field of ``manifest`` that does not fit ``MANIFEST`` or the others."""
    MANIFEST.check(manifest, "")
    recipe = manifest["features"]["recipe"]
    for key in ("centers", "scales", "fill_values"):
        if len(recipe[key]) != len(recipe["numeric"]):
            raise ModelFileError(f"The model file's 'features.recipe.{key}' must hold {len(recipe['numeric'])} "
                                 f"number(s), one per numeric column; got {len(recipe[key])}. {AGAIN}")
    if len(recipe["categories"]) != len(recipe["categorical"]):
        raise ModelFileError(f"The model file's 'features.recipe.categories' must hold {len(recipe['categorical'])} "
                             f"list(s), one per categorical column; got {len(recipe['categories'])}. {AGAIN}")
    ids = [s["id"] for s in manifest["segments"]]
    if len(set(ids)) != len(ids) or not ids:
        raise ModelFileError(f"The model file's 'segments' must list each segment once; got ids {ids[:20]}. {AGAIN}")
    for i, segment in enumerate(manifest["segments"]):
        if "segment_id" in segment and segment["segment_id"] != segment_number(segment["id"]):
            raise _refuse(f"segments[{i}].segment_id", f"{segment_number(segment['id'])} (the number of id "
                          f"{segment['id']})", segment["segment_id"])
    blocks, text = manifest["blocks"], manifest["text"]
    features = len(recipe["numeric"]) + sum(len(c) for c in recipe["categories"])
    if blocks["structured"]["dims"] not in (0, features):
        raise _refuse("blocks.structured.dims", f"0 or {features} (the features of the recipe)",
                      blocks["structured"]["dims"])
    if blocks["text"]["dims"] + blocks["structured"]["dims"] == 0:
        raise _refuse("blocks.text.dims", "above 0 when the structured block is empty", blocks["text"]["dims"])
    if blocks["text"]["dims"] and not (text["used"] and text["columns"]):
        raise _refuse("text.columns", "a list of the text columns the text block was built from", text["columns"])
    training, assign = manifest["training"], manifest["assign"]
    if training.get("unassigned", 0) > training["rows"]:
        raise _refuse("training.unassigned", f"at most 'training.rows' ({training['rows']:,})",
                      training["unassigned"])
    if assign.get("reference_rows", 0) > training["rows"]:
        raise _refuse("assign.reference_rows", f"at most 'training.rows' ({training['rows']:,})",
                      assign["reference_rows"])
    if manifest.get("orders") is not None:
        _check_orders(manifest["orders"])
    if "themes" in manifest:
        _check_themes(manifest["themes"], set(ids))


def _check_themes(themes: list[Mapping[str, Any]], segments: set[int]) -> None:
    """Each theme once, numbered as people read it, inside a segment the manifest describes."""
    ids = [t["id"] for t in themes]
    if len(set(ids)) != len(ids):
        raise ModelFileError(f"The model file's 'themes' must list each theme once; got ids {ids[:20]}. {AGAIN}")
    for i, theme in enumerate(themes):
        if theme["theme_id"] != theme["id"] + 1:
            raise _refuse(f"themes[{i}].theme_id", f"{theme['id'] + 1} (the number of id {theme['id']})",
                          theme["theme_id"])
        if theme["segment"] not in segments:
            raise _refuse(f"themes[{i}].segment", "the id of a segment in 'segments'", theme["segment"])


def _check_orders(orders: Mapping[str, Any]) -> None:
    """What the fields of ``orders`` say together: a value to roll up, and no more repeat customers than customers."""
    layout = orders["layout"]
    if layout["amount"] is None and (layout["quantity"] is None or layout["price"] is None):
        raise _refuse("orders.layout.amount", "a column name when quantity and price are not both given",
                      layout["amount"])
    if orders["value"] is not None:
        parameters = orders["value"]["parameters"]
        if parameters["repeat_customers"] > parameters["customers"]:
            raise _refuse("orders.value.parameters.repeat_customers",
                          f"at most 'orders.value.parameters.customers' ({parameters['customers']:,})",
                          parameters["repeat_customers"])


def expected_shapes(manifest: Mapping[str, Any]) -> dict[str, tuple[int | None, ...]]:
    """The shape each array of a checked manifest's model must have (None where the manifest does not say)."""
    blocks = manifest["blocks"]
    rows, references = manifest["training"]["rows"], manifest["assign"].get("reference_rows")
    dims = blocks["text"]["dims"] + blocks["structured"]["dims"]
    return {
        "reference_features": (references, dims), "reference_labels": (references,), "reference_themes": (references,),
        "training_ids": (rows,), "training_labels": (rows,),
        "tfidf_terms": (None,), "tfidf_idf": (None,), "tfidf_components": (blocks["text"]["dims"], None),
    }
