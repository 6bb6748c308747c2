"""A browser refresh keeps the analyst's work: dataset, run, segment names, and the page they were on.

Real Chromium against a real server with a workspace of its own: use the demo
data, run a fast segmentation (TF-IDF, PCA, k-means) through the widgets, name
segment 1 on the Profiles page, reload the page, and find everything again.
Screenshots go to /tmp/shots/workspace_*.png (Home and Settings included).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import load_demo, nav, run_fast_segmentation, shot, wait_for_app


def test_a_refresh_keeps_the_dataset_the_run_and_the_segment_names(page, app_server) -> None:
    load_demo(page, app_server)
    sidebar = page.locator('[data-testid="stSidebar"]')

    run_fast_segmentation(page)
    page.get_by_text("Current run: Run 1 · k-means").wait_for()

    nav(page, "Profiles")
    name = page.locator(".st-key-card-0 input[type='text']").first  # the largest segment: "Segment 1"
    name.fill("Big spenders")
    name.press("Enter")
    wait_for_app(page)
    shot(page, "workspace_before_refresh")
    assert re.search(r"[?&]project=[0-9a-f]{12}", page.url) and re.search(r"[?&]run=1\b", page.url)

    page.reload(wait_until="domcontentloaded")
    wait_for_app(page, timeout=120_000)
    page.locator("h1").filter(has_text="Profiles").first.wait_for()
    expect(page.locator(".st-key-card-0 input[type='text']").first).to_have_value("Big spenders", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Demo customers").count() >= 1  # the project (and its dataset)
    assert sidebar.get_by_text("2,000 rows · 15 columns").count() == 1
    assert sidebar.get_by_text("Run 1 · k-means").count() == 1
    shot(page, "workspace_after_refresh")

    nav(page, "Home", "Segment Studio")
    page.get_by_text("1 dataset · 1 run").first.wait_for()
    shot(page, "workspace_home")
    nav(page, "Settings")
    page.get_by_text("Where files live").wait_for()
    shot(page, "workspace_settings")
