"""Acting on segments through AppTest: the Export page's downloads and the Assign page.

AppTest does not run a download button's deferred data function, so the file contents
are built with the same ``ui.act_view`` functions the page hands to the buttons, from the
same session state. Fast settings: TF-IDF text, PCA, k-means (4 segments) on the demo data.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.act.assign import load_model
from tests.app.test_pages import assert_clean, errors, fresh, load_demo, open_page, plain, run_fast_segmentation, texts
from ui import act_view
from ui.state import Studio

ASSIGN = "pages/assign.py"
DOWNLOADS = {"download_customers", "download_segments", "download_report", "download_profiles", "download_model",
             "download_manifest"}


def session(at: AppTest) -> Studio:
    """The app's session state as a Studio, to call the same helpers the page calls."""
    return Studio({key: at.session_state[key] for key in ("studio.runs", "studio.current_run", "studio.annotations",
                                                          "studio.curation", "studio.stability")
                   if key in at.session_state})


def open_assign(at: AppTest) -> AppTest:
    at.switch_page(ASSIGN).run()
    assert_clean(at)
    return at


@pytest.fixture(scope="module")
def named() -> AppTest:
    """Demo data, one fast k-means run (4 segments), the largest segment named "Big spenders"."""
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    open_page(at, "profiles")
    at.text_input(key=f"name-{at.session_state['studio.current_run']}-0").set_value("Big spenders").run()
    assert_clean(at)
    return at


def test_export_offers_every_download_and_the_files_carry_the_analysts_names(named: AppTest) -> None:
    at = open_page(named, "export")
    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) == DOWNLOADS
    assert buttons["download_customers"].proto.label == "Download customers CSV"
    assert "Big spenders" in set(at.dataframe[0].value["segment_name"])
    said = texts(at)
    assert all(f"{group}" in said for group in ("Audiences", "Share", "Reuse"))

    state = session(at)
    chosen = act_view.run_export(state, state.curated_run())
    customers = act_view.customers_table(chosen, include_pii=False)
    csv = pd.read_csv(io.BytesIO(act_view.customers_file(customers, "csv")))
    assert len(csv) == 2000 and "email" not in csv.columns
    assert {"segment_id", "segment_name", "segment_confidence", "distance_to_centre"} <= set(csv.columns)
    assert (csv.loc[csv["segment_id"] == 1, "segment_name"] == "Big spenders").all()  # label 0 is segment 1
    assert len(pd.read_excel(io.BytesIO(act_view.customers_file(customers, "xlsx")))) == 2000
    assert len(pd.read_parquet(io.BytesIO(act_view.customers_file(customers, "parquet")))) == 2000
    with zipfile.ZipFile(io.BytesIO(act_view.segments_zip(customers, "csv"))) as archive:
        assert "segment-01-big-spenders.csv" in archive.namelist() and len(archive.namelist()) == 4
    profiles = pd.read_csv(io.BytesIO(act_view.profiles_file(chosen)))
    assert "Big spenders" in set(profiles.astype(str).stack())
    manifest = json.loads(act_view.manifest_file(chosen))
    assert manifest["segment_names"]["1"] == "Big spenders" and "exported_at" in manifest
    report = act_view.report_file(chosen, None, "Demo customers")().decode()
    assert "Big spenders" in report and "Stability.</b> Not checked" in report
    model = load_model(act_view.model_file(chosen)())
    assert model.segment_names[0] == "Big spenders"
    assert act_view.model_file(chosen)() is act_view.model_file(chosen)()  # built once, then kept


def test_the_excel_format_relabels_the_customer_download(named: AppTest) -> None:
    at = open_page(named, "export")
    at.segmented_control(key="export_format").set_value("xlsx").run()
    assert_clean(at)
    assert {b.key: b.proto.label for b in at.get("download_button")}["download_customers"] == \
        "Download customers Excel"


def test_the_report_includes_the_stability_check_made_on_the_quality_page(named: AppTest) -> None:
    at = open_page(named, "quality")
    at.session_state["quality_tab"] = "Stability"
    at.run()
    at.button(key="quality_stability").click().run()
    assert_clean(at)
    state = session(at)
    run = state.curated_run()
    stability = act_view.stability_for_report(state, run.run_id)
    assert stability is not None and 0.0 <= stability["ari_mean"] <= 1.0 and stability["re_runs"] == 6
    report = act_view.report_file(act_view.run_export(state, run), stability, None)().decode()
    assert "Stability.</b> The segments are" in report and "re runs" in report
    open_page(at, "export")
    assert "Check stability on the Quality page" not in texts(at)


def test_assign_before_anything_explains_both_steps() -> None:
    at = open_assign(fresh())
    said = texts(at)
    assert "1 · The segments to assign to" in said and "2 · The customers to assign" in said
    assert "Choose the segments and the customers above" in said
    assert at.file_uploader(key="assign_model_file") is not None  # no run yet: uploading a model is the choice
    assert at.button(key="assign_demo") is not None
    assert not any(b.key == "assign_run" for b in at.button)


def test_assigning_the_demo_data_with_the_current_segmentation_gives_back_the_runs_segments(named: AppTest) -> None:
    at = open_assign(named)
    assert at.radio(key="assign_model_source").value == "current"
    assert "4 segments learnt from 2,000 customers" in texts(at)
    at.button(key="assign_demo").click().run()
    assert_clean(at)
    at.button(key="assign_run").click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers assigned"] == "2,000" and metrics["Segments found"] == "4"
    assert at.get("download_button")[0].key == "assign_download"

    # the same agreement, customer by customer, from the assignment the page made
    state = session(at)
    run = state.curated_run()
    chosen = act_view.ChosenModel(f"run|{act_view.run_export(state, run).key}", act_view.run_model(
        act_view.run_export(state, run)), "")
    found = act_view.earlier_assignment(chosen, at.session_state["studio.dataset"])
    labels = np.asarray(run.result.labels)
    inside = labels >= 0
    assert (found.assigned["segment_id"].to_numpy()[inside] == labels[inside] + 1).mean() >= 0.95

    # one confidence: where the page gives a customer the segment of the export, it gives the same confidence
    exported = act_view.customers_table(act_view.run_export(state, run), include_pii=False)
    same = found.assigned["segment_id"].to_numpy() == exported["segment_id"].to_numpy()
    assert same.mean() >= 0.95
    np.testing.assert_allclose(found.assigned["confidence"].to_numpy()[same],
                               exported["segment_confidence"].to_numpy()[same], atol=1e-3)

    # movement: the demo customers are the ones the model was built from, so nearly all stay
    said = texts(at)
    assert "Movement since the model was built" in said and "stayed in the same segment" in said
    moves = next(d.value for d in at.dataframe if "share_of_from" in d.value.columns)
    stayed = moves.loc[moves["from"] == moves["to"], "customers"].sum() / moves["customers"].sum()
    assert stayed >= 0.95 and "Big spenders" in set(moves["from"])
    drift = next(d.value for d in at.dataframe if "share_then" in d.value.columns)
    assert drift["customers_then"].sum() == drift["customers_now"].sum() == 2000
    assert any(json.loads(c.proto.spec)["data"][0]["type"] == "sankey" for c in at.get("plotly_chart"))


def test_a_file_without_the_models_columns_is_refused_with_the_library_message(named: AppTest) -> None:
    at = open_assign(named)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    at.file_uploader(key="assign_upload").set_value(("photo.csv", png, "text/csv")).run()
    assert not at.exception
    [error] = errors(at)
    assert error.startswith("photo.csv could not be loaded.")
    csv = b"customer_id,age,spend\nA1,30,10.5\nA2,41,99.0\n"
    at.file_uploader(key="assign_upload").set_value(("new.csv", csv, "text/csv")).run()
    assert_clean(at)
    assert "new.csv" in texts(at)
    at.button(key="assign_run").click().run()
    assert not at.exception
    [error] = errors(at)
    assert "The customers could not be assigned." in error and "lacks" in error and "annual_income" in error


def test_a_crafted_model_file_shows_a_clear_error_and_nothing_is_lost(named: AppTest) -> None:
    at = open_assign(named)
    at.radio(key="assign_model_source").set_value("upload").run()
    assert_clean(at)
    junk = np.random.default_rng(0).bytes(4096)
    at.file_uploader(key="assign_model_file").set_value(("model.segmodel", junk, "application/octet-stream")).run()
    assert not at.exception
    [error] = errors(at)
    assert "model.segmodel could not be used." in error and "not a Segment Studio model" in error
    assert "Choose the segments and the customers above" in plain(texts(at))
    assert at.session_state["studio.current_run"] is not None  # the run is untouched


def test_the_excel_download_is_one_workbook_with_segments_and_settings(named: AppTest) -> None:
    import openpyxl

    state = session(named)
    chosen = act_view.run_export(state, state.curated_run())
    customers = act_view.customers_table(chosen, include_pii=False)
    book = openpyxl.load_workbook(io.BytesIO(act_view.customers_file(customers, "xlsx", chosen)))
    assert book.sheetnames == ["Customers", "Segments", "About"]
    assert book["Customers"].freeze_panes == "A2" and book["Customers"].max_row == 2001
    segments = [row[0] for row in book["Segments"].iter_rows(min_row=2, values_only=True)]
    assert len(segments) >= 2
    names = {c.value for row in book["Segments"].iter_rows(min_row=2) for c in row}
    assert "Big spenders" in names


def test_the_assignment_shows_each_customer_s_theme_and_where_customers_went_by_theme(named: AppTest) -> None:
    state = session(named)
    run = state.curated_run()
    export_run = act_view.run_export(state, run)
    chosen = act_view.ChosenModel(f"run|{export_run.key}", act_view.run_model(export_run), "")
    found = act_view.earlier_assignment(chosen, named.session_state["studio.dataset"])
    if found is None:   # this module's assign test ran first or not: assign here the way the page does
        found = act_view.assign(chosen, named.session_state["studio.dataset"])
    assert {"theme_id", "theme_name", "theme_confidence"} <= set(found.assigned.columns)
    exported = act_view.customers_table(export_run, include_pii=False)
    assert (found.assigned["theme_id"].to_numpy() == exported["theme_id"].to_numpy()).mean() >= 0.95
    at = named.switch_page(ASSIGN).run()
    if at.radio(key="assign_model_source").value != "current":   # an earlier test may have left an upload chosen
        at.radio(key="assign_model_source").set_value("current").run()
    if not any("median_confidence" in d.value.columns for d in at.dataframe):
        at.button(key="assign_demo").click().run()   # an earlier test may have left another file chosen
    if any(b.key == "assign_run" for b in at.button):
        at.button(key="assign_run").click().run()
    assert_clean(at)
    by_theme = next(d.value for d in at.dataframe if "median_confidence" in d.value.columns)
    assert by_theme["customers"].sum() == 2000
    assert "Where customers went, by theme" in texts(at)
