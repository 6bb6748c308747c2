"""Structured block: numeric columns imputed and scaled, categories one-hot encoded.

The fitted recipe is plain JSON (numbers and strings), so a saved model can
re-apply it to new customers without pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation.config import FeatureConfig
from segmentation.errors import DataError

OTHER = "(other)"
MISSING = "(missing)"


@dataclass(frozen=True)
class FeatureRecipe:
    """What was learnt from the training customers: enough to encode new ones identically."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    centers: tuple[float, ...]
    scales: tuple[float, ...]
    fill_values: tuple[float, ...]
    categories: tuple[tuple[str, ...], ...]
    scaling: str

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for column, values in zip(self.categorical, self.categories):
            names += [f"{column} = {value}" for value in values]
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "centers": list(self.centers),
            "scales": list(self.scales),
            "fill_values": list(self.fill_values),
            "categories": [list(v) for v in self.categories],
            "scaling": self.scaling,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureRecipe:
        return cls(
            numeric=tuple(data["numeric"]),
            categorical=tuple(data["categorical"]),
            centers=tuple(float(v) for v in data["centers"]),
            scales=tuple(float(v) for v in data["scales"]),
            fill_values=tuple(float(v) for v in data["fill_values"]),
            categories=tuple(tuple(str(x) for x in v) for v in data["categories"]),
            scaling=str(data["scaling"]),
        )


def numeric_values(series: pd.Series) -> np.ndarray:
    """A column as float64, booleans as 0/1, anything unparsable as NaN."""
    if series.dtype == bool:
        return series.astype(float).to_numpy()
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def category_values(series: pd.Series) -> pd.Series:
    """A column as strings with missing values spelled out, so they form their own group."""
    out = series.astype("string").str.strip()
    return out.fillna(MISSING).replace("", MISSING).astype(str)


def fit_features(table: pd.DataFrame, roles: Mapping[str, str], config: FeatureConfig) -> FeatureRecipe:
    """Learn scaling and category vocabularies from the columns whose role is numeric or categorical."""
    numeric = tuple(c for c, r in roles.items() if r == "numeric" and c in table.columns)
    categorical = tuple(c for c, r in roles.items() if r == "categorical" and c in table.columns)
    centers, scales, fills = [], [], []
    for column in numeric:
        values = numeric_values(table[column])
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise DataError(f"Column '{column}' is marked numeric but has no numbers. "
                            "Change its role on the Data page.")
        fill = float(np.median(finite))
        if config.scaling == "robust":
            q1, med, q3 = np.percentile(finite, [25, 50, 75])
            center, scale = float(med), float(q3 - q1)
        elif config.scaling == "minmax":
            center, scale = float(finite.min()), float(finite.max() - finite.min())
        else:
            center, scale = float(finite.mean()), float(finite.std())
        centers.append(center)
        scales.append(scale if scale > 1e-12 else 1.0)
        fills.append(fill)
    categories = []
    for column in categorical:
        counts = category_values(table[column]).value_counts(sort=False)
        # most frequent first, ties broken by value so the encoding is deterministic
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [value for value, _ in ordered[: config.max_categories]]
        if len(ordered) > config.max_categories:
            kept.append(OTHER)
        categories.append(tuple(kept))
    return FeatureRecipe(numeric, categorical, tuple(centers), tuple(scales), tuple(fills),
                         tuple(categories), config.scaling)


def transform_features(recipe: FeatureRecipe, table: pd.DataFrame) -> np.ndarray:
    """Encode customers with a fitted recipe. Every column of the recipe must be present."""
    missing = [c for c in (*recipe.numeric, *recipe.categorical) if c not in table.columns]
    if missing:
        raise DataError(
            "These columns are needed but missing from the data: " + ", ".join(repr(c) for c in missing)
            + ". Rename the columns in your file or choose other columns."
        )
    blocks: list[np.ndarray] = []
    if recipe.numeric:
        values = np.column_stack([numeric_values(table[c]) for c in recipe.numeric])
        fill = np.asarray(recipe.fill_values)
        values = np.where(np.isfinite(values), values, fill)
        blocks.append((values - np.asarray(recipe.centers)) / np.asarray(recipe.scales))
    for column, vocabulary in zip(recipe.categorical, recipe.categories):
        values = category_values(table[column]).to_numpy()
        known = set(vocabulary)
        if OTHER in known:
            values = np.where(np.isin(values, list(known - {OTHER})), values, OTHER)
        onehot = (values[:, None] == np.asarray(vocabulary, dtype=object)[None, :]).astype(float)
        # one-hot columns weighted so a categorical column as a whole weighs like one numeric column
        blocks.append(onehot / np.sqrt(2.0))
    if not blocks:
        return np.zeros((len(table), 0))
    return np.hstack(blocks).astype(np.float32)


def build_features(table: pd.DataFrame, roles: Mapping[str, str], config: FeatureConfig
                   ) -> tuple[np.ndarray, FeatureRecipe]:
    """Fit and apply the structured recipe in one call."""
    recipe = fit_features(table, roles, config)
    return transform_features(recipe, table), recipe
