import numpy as np
import pandas as pd
import pytest

from segmentation.config import FeatureConfig
from segmentation.errors import DataError
from segmentation.represent.features import OTHER, FeatureRecipe, build_features, transform_features


def small_table():
    return pd.DataFrame({
        "age": [20, 30, np.nan, 50],
        "city": ["A", "B", "A", None],
        "note": ["x", "y", "z", "w"],
    })


def test_numeric_is_imputed_and_standardised_and_categories_one_hot():
    X, recipe = build_features(small_table(), {"age": "numeric", "city": "categorical", "note": "text"},
                               FeatureConfig())
    assert recipe.feature_names == ["age", "city = A", "city = (missing)", "city = B"]
    age = X[:, 0]
    # the missing age is filled with the median of 20, 30, 50 = 30
    assert age[2] == pytest.approx(age[1])
    assert np.isfinite(X).all()
    # one-hot rows each hold exactly one category
    assert (X[:, 1:] > 0).sum(1).tolist() == [1, 1, 1, 1]


def test_recipe_is_json_and_reapplies_identically_with_unseen_category():
    table = small_table()
    X, recipe = build_features(table, {"age": "numeric", "city": "categorical"}, FeatureConfig(max_categories=2))
    assert OTHER in recipe.categories[0]
    again = FeatureRecipe.from_dict(recipe.to_dict())
    np.testing.assert_allclose(transform_features(again, table), X)
    new = pd.DataFrame({"age": [25], "city": ["Zurich"]})
    row = transform_features(again, new)
    assert row[0, recipe.feature_names.index(f"city = {OTHER}")] > 0


def test_missing_column_is_named():
    _, recipe = build_features(small_table(), {"age": "numeric"}, FeatureConfig())
    with pytest.raises(DataError, match="missing from the data: 'age'"):
        transform_features(recipe, pd.DataFrame({"x": [1]}))


def test_numeric_role_without_numbers_is_refused():
    with pytest.raises(DataError, match="marked numeric but has no numbers"):
        build_features(pd.DataFrame({"a": ["x", "y"]}), {"a": "numeric"}, FeatureConfig())
