"""The screenshot pass of issue 15 in a real browser at 1280×720: one test per screen that was cut off or misleading.

Small data only (the demo, or a 46-line order log) with TF-IDF, PCA and k-means, so each test takes seconds:
the Segment page's automatic-mode button and its settings that apply, the warning about order lines that were
not rolled up, the sidebar's dataset switch, and the map of a small base.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.app.test_orders import classic_log
from tests.e2e.conftest import choose, goto, nav, run_fast_segmentation, shot, wait_for_app

SMALL = {"width": 1280, "height": 720}
LOG_NAME = "online_retail_december_orders_30k.csv"


def overflows(locator) -> bool:
    """Whether the element's text is wider than its box (cut off, or ended with "…" by CSS)."""
    return bool(locator.evaluate("e => e.scrollWidth > e.clientWidth + 1"))


def upload_log(page, app_server: str, tmp_path: Path) -> None:
    """Load the order log through the Data page, as a project of its own when the app asks where it goes."""
    path = tmp_path / LOG_NAME
    path.write_bytes(classic_log())
    goto(page, app_server, "/")
    nav(page, "Data")
    page.locator('input[type="file"]').first.set_input_files(str(path))
    wait_for_app(page)
    question = page.locator(".st-key-upload_question")
    if question.count():
        question.get_by_text(re.compile("^New project")).click()
        wait_for_app(page)
        question.get_by_role("button", name="Continue").click()
        wait_for_app(page)


def test_segment_page_at_1280_keeps_the_auto_button_whole_and_shows_only_settings_that_apply(
        app_server: str, page) -> None:
    page.set_viewport_size(SMALL)
    goto(page, app_server, "/")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page)
    nav(page, "Segment")
    choose(page, "seg_reduce", "PCA (fast, linear)")
    wait_for_app(page)
    choose(page, "seg_map", "PCA (fast)")
    wait_for_app(page)
    # before: "UMAP neighbours" stayed on screen with PCA chosen twice
    assert page.locator(".st-key-seg_neighbors").count() == 0
    button = page.locator(".st-key-auto_find button")
    button.scroll_into_view_if_needed()
    assert button.inner_text().strip().endswith("Find the best segmentation")
    # before: "Find the best segmentat…" at 1280 pixels
    assert not overflows(button) and not overflows(button.locator("p").first)
    shot(page, "polish_segment_1280")
    choose(page, "seg_map", "UMAP")
    wait_for_app(page)
    assert page.locator(".st-key-seg_neighbors").is_visible()


def test_order_lines_on_the_segment_page_are_rolled_up_from_a_warning_and_the_switch_fits(
        app_server: str, page, tmp_path: Path) -> None:
    page.set_viewport_size(SMALL)
    upload_log(page, app_server, tmp_path)
    nav(page, "Segment")
    # before: nothing said these were order lines; the run grouped lines, not customers
    warning = page.locator(".st-key-orders_warning")
    assert warning.get_by_text(re.compile("look like order lines, not customers")).is_visible()
    shot(page, "polish_orders_warning")
    warning.get_by_role("button", name=re.compile(r"Roll up 46 order lines")).click()
    wait_for_app(page)
    page.get_by_text(re.compile(f"{re.escape(LOG_NAME)} \\(per customer\\) · 15 rows")).first.wait_for()
    page.locator(".st-key-orders_warning").wait_for(state="detached", timeout=20_000)   # the warning is gone
    # before: "online_retail_30k.csv (per custor" in the sidebar's dataset box
    switch = page.locator('[class*="st-key-sidebar_dataset_"] input[role="combobox"]')
    switch.scroll_into_view_if_needed()
    assert switch.input_value() == "online_ret…customer) · 15 rows"
    assert switch.is_visible() and not overflows(switch)
    shot(page, "polish_dataset_switch")


def test_the_map_of_a_small_base_says_all_customers_are_drawn(app_server: str, page, tmp_path: Path) -> None:
    page.set_viewport_size(SMALL)
    upload_log(page, app_server, tmp_path)
    nav(page, "Data")
    page.get_by_role("button", name=re.compile(r"Roll up 46 order lines")).click()
    wait_for_app(page)
    run_fast_segmentation(page, text=False)
    nav(page, "Map")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    # before: a disabled "Points drawn" slider with its knob at the left, reading like zero
    assert page.locator(".st-key-map_points").count() == 0
    assert page.locator(".st-key-map_points_all").get_by_text("All 15 customers drawn").is_visible()
    shot(page, "polish_map_small")
