"""The map in a real browser: a lasso around customers summarises them, and downloads exactly them.

Demo data -> a fast segmentation chosen through the Segment form (TF-IDF, PCA, k-means) -> Map -> a lasso
drawn with the mouse on the plotly chart -> "N customers selected", the mini-profile, a CSV download of N rows,
and "Move them to a new segment", after which the run has one segment more. Screenshots go to
/tmp/shots/understand_*.png for a human to look at.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.e2e.conftest import choose, goto, nav, run_fast_segmentation, shot, wait_for_app


def test_a_lasso_on_the_map_summarises_and_downloads_the_selected_customers(app_server: str, page) -> None:
    goto(page, app_server, "/")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page)
    page.get_by_text("Column roles").first.wait_for()

    run_fast_segmentation(page)

    nav(page, "Map")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.wait_for()
    page.wait_for_timeout(1500)  # plotly draws after the script run has finished
    shot(page, "understand_map")

    area = chart.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    # a lasso around the middle of the map: a rectangle-ish loop drawn in small steps like a hand would
    left, top = area["x"] + area["width"] * 0.30, area["y"] + area["height"] * 0.30
    right, bottom = area["x"] + area["width"] * 0.60, area["y"] + area["height"] * 0.65
    corners = [(left, top), (right, top), (right, bottom), (left, bottom), (left, top + 2)]
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()

    summary = page.get_by_text(re.compile(r"^[\d,]+ customers selected")).first
    summary.wait_for(timeout=60_000)
    wait_for_app(page)
    n = int(re.match(r"([\d,]+)", summary.inner_text()).group(1).replace(",", ""))
    assert 0 < n < 2000

    selection = page.locator(".st-key-map_selection")
    assert selection.get_by_text("What sets them apart from everyone else").is_visible()
    profile = selection.locator("li").count() or selection.get_by_text("Nothing sets these customers").count()
    assert profile > 0
    assert selection.locator('[data-testid="stDataFrame"]').count() == 1
    page.mouse.move(5, 5)  # no hover label over the chart
    shot(page, "understand_map_selection")
    shot(selection, "understand_map_selection_summary")

    with page.expect_download() as pending:
        selection.locator(".st-key-map_download_selection button").click()
    content = Path(pending.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == n
    assert {"customer_id", "segment_id", "segment_name"} <= set(rows[0])
    assert "email" not in rows[0]  # personal data stays out of the selection file

    # the selection becomes a segment of its own; every page then counts one segment more
    choose(page, "map_move_target_", "A new segment")
    selection.locator(".st-key-map_move_go button").click()
    wait_for_app(page)
    page.get_by_text("6 segments").first.wait_for()
    page.get_by_text("Draw a lasso or a box").first.wait_for()  # the moved selection is cleared
    assert page.locator(".st-key-map_selection").count() == 0
