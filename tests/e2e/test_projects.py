"""Several datasets in one project, in a real browser: the demo data is segmented, a second file is uploaded and
added to the same project after the app asks, and switching back to the demo in the sidebar brings its run back.

Screenshots go to .cache/e2e-shots/projects_*.png.
"""

from __future__ import annotations

import re

from tests.e2e.conftest import choose, load_demo, nav, run_fast_segmentation, shot, wait_for_app

SHOP = b"customer_id,spend,orders\nA1,10,1\nA2,20,2\nA3,5,1\nA4,90,7\nA5,70,6\nA6,12,1\n"


def test_upload_add_switch_back_and_the_earlier_run_is_still_listed(page, app_server) -> None:
    load_demo(page, app_server)
    sidebar = page.locator('[data-testid="stSidebar"]')
    run_fast_segmentation(page)

    nav(page, "Data")
    page.locator('input[type="file"]').first.set_input_files(
        {"name": "shop.csv", "mimeType": "text/csv", "buffer": SHOP})
    wait_for_app(page, timeout=120_000)
    question = page.locator(".st-key-upload_question")
    question.get_by_text("Where should “shop.csv” go?").wait_for()
    assert question.get_by_role("radio", name=re.compile("Add to this project")).is_checked()  # shares customer_id
    shot(page, "projects_question")
    question.get_by_role("button", name="Continue").click()
    wait_for_app(page, timeout=120_000)
    page.get_by_role("heading", name="shop.csv").wait_for()
    switch = sidebar.locator('[class*="st-key-sidebar_dataset_"]')
    assert "shop.csv · 6 rows" in (switch.inner_text() + switch.locator("input").first.input_value())
    sidebar.get_by_text("Not segmented yet.").wait_for()
    shot(page, "projects_added")

    choose(page, "sidebar_dataset_", "Demo customers · 2,000 rows")
    wait_for_app(page, timeout=120_000)
    sidebar.get_by_text("Run 1 · k-means").wait_for()  # the demo's run is back with its dataset
    nav(page, "Segment")
    page.get_by_text(re.compile(r"Current run: Run 1 · k-means")).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "projects_switched_back")

    nav(page, "Home", "Segment Studio")
    page.get_by_text(re.compile(r"2 datasets · 1 run\b")).first.wait_for()
