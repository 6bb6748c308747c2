"""A model built from a rolled-up order log assigns new order lines: rolled up the same way, value predicted
with the saved parameters (never refitted)."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.assign import load_model
from segmentation.cli.act import main_assign
from segmentation.cli.main import main
from segmentation.errors import ModelFileError
from segmentation.value.clv import VALUE_COLUMNS, order_lines, predict_with
from tests.unit.value.conftest import LAYOUT, make_orders

FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca", "-k", "3", "--quiet"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """A run on a seeded order log through the CLI (`run ORDERS`), and a new order log of other customers."""
    folder = tmp_path_factory.mktemp("orders")
    source = folder / "orders.csv"
    make_orders(customers=80, seed=7).to_csv(source, index=False)
    assert main(["run", str(source), "--out", str(folder / "run"), *FAST]) == 0
    new = make_orders(customers=30, seed=11)
    new["customer_id"] = "N-" + new["customer_id"]
    new_source = folder / "new_orders.csv"
    new.to_csv(new_source, index=False)
    return folder / "run" / "model.segmodel", new_source


def test_the_model_keeps_the_layout_and_the_fitted_value_parameters(built):
    model = load_model(built[0])
    orders = model.manifest["orders"]
    assert orders["layout"]["customer"] == "customer_id" and orders["layout"]["amount"] == "amount"
    assert set(orders["value"]["parameters"]) == {"r", "alpha", "a", "b", "p", "q", "v", "customers",
                                                   "repeat_customers"}
    assert orders["value"]["horizon_days"] == 365
    assert any("rolled up to customers the same way" in line for line in model.summary_lines())


def test_assign_on_new_order_lines_predicts_value_with_the_saved_parameters(built, tmp_path, capsys):
    model_path, new_source = built
    assert main_assign(["assign", str(model_path), str(new_source), "--out", str(tmp_path / "out")]) == 0
    assigned = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert set(VALUE_COLUMNS) <= set(assigned.columns)
    assert "not refitted" in capsys.readouterr().out

    model = load_model(model_path)
    new = pd.read_csv(new_source)
    lines, _ = order_lines(new, LAYOUT)
    direct = predict_with(model.value_model, lines)        # the same parameters, straight from the library
    assert len(assigned) == new["customer_id"].nunique()  # one row per customer, not per line
    got = assigned.set_index("customer_id").loc[direct.index, list(VALUE_COLUMNS)]
    np.testing.assert_allclose(got.to_numpy(), direct[list(VALUE_COLUMNS)].to_numpy(), rtol=0, atol=1e-9)
    returns_only = assigned.set_index("customer_id").loc["N-R-returns"]
    assert np.isnan(returns_only["p_alive"])               # no purchase: no prediction, but still assigned
    assert returns_only["segment_id"] in {1, 2, 3, -1}


def test_a_table_of_customers_is_assigned_as_it_is(built):
    model = load_model(built[0])
    rolled, notes = model.customers_of(pd.read_csv(built[1]))
    assert notes and len(rolled) < len(pd.read_csv(built[1]))
    again, more = model.customers_of(rolled)                # already customers: nothing rolled up twice
    assert again is rolled and more == []


def _edited(model_path: Path, change) -> bytes:  # noqa: ANN001 - a function editing the manifest
    with zipfile.ZipFile(model_path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    manifest = json.loads(files["manifest.json"])
    change(manifest)
    files["manifest.json"] = json.dumps(manifest).encode()
    out = model_path.with_name("edited.segmodel")
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out.read_bytes()


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["orders"]["value"]["parameters"].update(q=0.5),
     r"'orders\.value\.parameters\.q' must be a number above 1; got 0\.5"),
    (lambda m: m["orders"]["value"]["parameters"].update(r="abc"),
     r"'orders\.value\.parameters\.r' must be a number above 0; got 'abc'"),
    (lambda m: m["orders"]["value"]["parameters"].update(alpha=float("inf")),
     r"'orders\.value\.parameters\.alpha' must be a number above 0; got Infinity"),
    (lambda m: m["orders"]["value"].update(horizon_days=0),
     r"'orders\.value\.horizon_days' must be a whole number between 1 and 3650; got 0"),
    (lambda m: m["orders"]["layout"].update(amount=None),
     r"'orders\.layout\.amount' must be a column name when quantity and price are not both given; got null"),
    (lambda m: m["orders"]["value"]["parameters"].update(repeat_customers=10**9),
     r"'orders\.value\.parameters\.repeat_customers' must be at most"),
    (lambda m: m["orders"].update(extra=1), r"unknown field 'orders\.extra'"),
])
def test_edited_value_fields_are_refused_by_name(built, change, message):
    with pytest.raises(ModelFileError, match=message):
        load_model(_edited(built[0], change))


def test_models_of_customers_say_null_and_files_from_before_still_load(built):
    data = _edited(built[0], lambda m: m.pop("orders"))     # a file written before order lines were kept
    model = load_model(data)
    assert model.order_layout is None and model.value_model is None
    table = pd.read_csv(built[1])
    rolled, notes = model.customers_of(table)
    assert rolled is table and notes == []
