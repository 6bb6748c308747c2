"""Themes inside segments in a real browser, on the demo data with the quick settings (TF-IDF, PCA, k-means):
each Profiles card lists its themes, the "Segments and themes" tab draws the sunburst, the "Theme detail" control
moves, and the map colours by theme. Screenshots at 1440×900 and 1280×720 go to .cache/e2e-shots/."""

from __future__ import annotations

import re

from tests.e2e.conftest import choose, goto, nav, run_fast_segmentation, shot, wait_for_app

SIZES = {"1440": {"width": 1440, "height": 900}, "1280": {"width": 1280, "height": 720}}


def test_profiles_show_themes_the_sunburst_and_the_detail_control(page, app_server):
    goto(page, app_server, "/")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page)
    run_fast_segmentation(page)
    nav(page, "Profiles")
    assert page.locator('[data-testid="stException"]').count() == 0

    themes = page.locator('[data-testid="stExpander"]').filter(has_text=re.compile(r"Themes in this segment \(\d+\)"))
    assert themes.count() >= 4                                   # one per segment of the demo
    themes.first.locator("summary").click()
    themes.first.locator("table.theme-table").wait_for()
    assert themes.first.get_by_text(re.compile("Customers to look at:")).count() >= 1
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(400)
        shot(page, f"themes_profiles_{name}")

    caption = page.get_by_text(re.compile(r"themes inside \d+ segments")).first
    assert re.search(r"\d+ themes inside", caption.inner_text())
    control = page.locator('[data-testid="stSlider"]').filter(has_text="Theme detail")
    thumb = '[data-testid="stSliderThumbValue"]'
    assert control.locator(thumb).inner_text().strip() == "0.5 · default"
    control.locator('input[type="range"]').focus()
    control.locator('input[type="range"]').press("End")          # all the way to "finer"
    wait_for_app(page, settle_ms=800)
    control = page.locator('[data-testid="stSlider"]').filter(has_text="Theme detail")
    assert control.locator(thumb).inner_text().strip() == "1 · finest"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlert"]').filter(has_text=re.compile("error", re.I)).count() == 0

    page.get_by_role("tab", name=re.compile("Segments and themes")).click()
    wait_for_app(page)
    sunburst = page.locator('[data-testid="stPlotlyChart"] .sunburstlayer path.surface')
    sunburst.first.wait_for()
    assert sunburst.count() >= 8                                 # segments and their themes
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(600)
        shot(page, f"themes_tree_{name}")

    nav(page, "Map")
    choose(page, "map_colour", "Theme")
    wait_for_app(page)
    page.get_by_text("Customers by theme").first.wait_for()
    page.wait_for_timeout(1500)  # plotly draws after the script run has finished
    assert page.locator('[data-testid="stPlotlyChart"] .legend .groups').count() >= 4   # grouped by segment
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(800)
        shot(page, f"themes_map_{name}")
