"""The core path in a real browser: upload a CSV, segment it, see the map, select customers,
download the labelled customers, and open every page by its own URL."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import choose, goto, nav, shot, wait_for_app

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MALL = DATA / "mall_customers" / "Mall_Customers.csv"
PAGES = {"data": "Data", "segment": "Segment", "map": "Map", "profiles": "Profiles", "quality": "Quality",
         "export": "Export"}








@pytest.mark.parametrize("path", ["", *PAGES])
def test_every_page_opens_directly_by_its_url(page, app_server, path):
    goto(page, app_server, path)
    assert page.locator('[data-testid="stException"]').count() == 0
    # our navigation frame is there (not Streamlit's automatic pages/ list)
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text("Profiles", exact=True).count() == 1
    if path:
        assert page.locator("h1").first.inner_text().strip().startswith(PAGES[path])
        if path != "data":  # before any data, each page says what to do next
            assert page.get_by_text(re.compile("No data loaded|Load a file|No segmentation yet", re.I)).count() >= 1


def test_upload_segment_map_select_and_download(page, app_server):
    goto(page, app_server, "data")
    page.locator('input[type="file"]').first.set_input_files(str(MALL))
    wait_for_app(page, timeout=120_000)
    page.get_by_text("Mall_Customers.csv").first.wait_for()
    rows_read = page.locator('[data-testid="stMetric"]').filter(has_text="Rows read").first
    assert rows_read.locator('[data-testid="stMetricValue"]').inner_text().strip() == "200"
    shot(page, "core_data")

    nav(page, "Segment")
    choose(page, "seg_reduce", "PCA (fast, linear)")
    choose(page, "seg_map", "PCA (fast)")
    page.locator(".st-key-seg_run button").click()
    page.get_by_text("Current run: Run 1").wait_for(timeout=300_000)
    wait_for_app(page)
    shot(page, "core_segment")

    nav(page, "Map")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for()
    page.wait_for_timeout(1500)  # plotly draws after the script run has finished
    area = chart.locator(".nsewdrag").first.bounding_box()
    # the map's drag mode is the lasso: draw a loop around most of the plot area
    left, top = area["x"] + area["width"] * 0.05, area["y"] + area["height"] * 0.05
    right, bottom = area["x"] + area["width"] * 0.95, area["y"] + area["height"] * 0.95
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in [(right, top), (right, bottom), (left, bottom), (left, top + 2)]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    summary = page.get_by_text(re.compile(r"^[\d,]+ customers? selected")).first
    summary.wait_for()
    wait_for_app(page)
    selected = int(re.match(r"([\d,]+)", summary.inner_text()).group(1).replace(",", ""))
    assert 0 < selected <= 200
    shot(page, "core_map_selection")

    nav(page, "Export")
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Download customers CSV")).click()
    frame = pd.read_csv(io.BytesIO(Path(info.value.path()).read_bytes()), dtype=str)
    assert len(frame) == 200
    assert {"segment_id", "segment_name"} <= set(frame.columns)
    assert frame["CustomerID"].str.startswith("0").all()  # leading zeros survive the round trip
    assert frame["segment_name"].notna().all()
    shot(page, "core_export")
