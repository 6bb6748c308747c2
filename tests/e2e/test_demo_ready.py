"""Demo-ready screens in a real browser: what a first-time user saw on the demo data, one test per fix.

Each test starts from "Use demo data" and the quick TF-IDF + PCA segmentation (``run_fast_segmentation``), then
checks one thing the screenshot pass found: segment names written on the map (and the switch that hides them),
the map's legend under the map instead of beside it, the customer file's preview with the same decimals in
every row, and the Assign page offering the demo customers only against the demo's segments (that one starts
from a customer file of its own).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.e2e.conftest import goto, nav, run_fast_segmentation, shot, wait_for_app

MALL = Path(__file__).resolve().parents[3] / "shared" / "data" / "mall_customers" / "Mall_Customers.csv"

LABELS = '[data-testid="stPlotlyChart"] g.annotation'


def demo_run(page, app_server: str) -> None:
    goto(page, app_server, "/")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page)
    run_fast_segmentation(page)


def open_map(page) -> None:
    nav(page, "Map")
    page.locator('[data-testid="stPlotlyChart"] .nsewdrag').first.wait_for()
    page.wait_for_timeout(1500)  # plotly draws after the script run has finished


def test_the_map_names_its_segments_and_the_switch_hides_the_names(app_server: str, page) -> None:
    demo_run(page, app_server)
    open_map(page)
    labels = page.locator(LABELS)
    assert labels.count() == 5                       # the demo's five segments, no Unassigned
    texts = [t.strip() for t in labels.all_text_contents()]
    legend = page.locator('[data-testid="stPlotlyChart"] .legend .legendtext').all_text_contents()
    # every label starts a legend entry (long names are cut at a word and end with "…")
    assert all(any(entry.startswith(text.rstrip("…")) for entry in legend) for text in texts), (texts, legend)
    boxes = [b for b in (label.bounding_box() for label in labels.all()) if b]
    for i, a in enumerate(boxes):                    # no two names on top of each other on screen
        for b in boxes[i + 1:]:
            assert (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
                    or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1), (a, b)
    shot(page, "demo_ready_map_labels")
    page.locator(".st-key-map_labels").get_by_text("Show labels").click()
    wait_for_app(page)
    page.wait_for_timeout(800)
    assert page.locator(LABELS).count() == 0


def test_the_map_legend_sits_under_the_map_at_1280_pixels(app_server: str, page) -> None:
    demo_run(page, app_server)
    page.set_viewport_size({"width": 1280, "height": 720})
    open_map(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    plot = chart.locator(".nsewdrag").first.bounding_box()
    legend = chart.locator(".legend").first.bounding_box()
    frame = chart.bounding_box()
    assert plot and legend and frame
    # before: the legend of long segment names took the right half and squeezed the map to ~440 px
    assert legend["y"] >= plot["y"] + plot["height"] - 2
    assert plot["width"] >= 0.9 * frame["width"]
    toggle = page.locator(".st-key-map_labels")
    assert toggle.get_by_text("Show labels", exact=True).is_visible()   # not cut to "Show…"


def test_the_customer_file_preview_shows_two_decimals_in_every_row() -> None:
    # The preview is a canvas grid whose accessible text keeps the raw numbers, so its column settings are
    # checked here. Before: 0.7765 beside 1 and 0.171 beside 0.6312 (and 79.6 beside 358.25 in a roll-up).
    from ui.format import table_columns

    frame = pd.DataFrame({"segment_confidence": [0.7765, 1.0], "monetary": [79.6, 12345.678], "orders": [1.0, 2.0],
                          "segment_id": [1, 2]})
    config = table_columns(frame)
    assert config["segment_confidence"]["type_config"]["format"] == "%,.2f"
    assert config["monetary"]["type_config"]["format"] == "%,.2f"
    assert "orders" not in config and "segment_id" not in config     # whole numbers stay whole


def test_assign_offers_the_demo_customers_only_against_the_demo_segments(app_server: str, page) -> None:
    # before: "Use the demo data" sat beside the upload whatever the data, inviting demo customers into
    # segments of a clothing-reviews or order-lines project
    goto(page, app_server, "data")
    page.locator('input[type="file"]').first.set_input_files(str(MALL))
    wait_for_app(page, timeout=120_000)
    page.get_by_text("Mall_Customers.csv").first.wait_for()
    run_fast_segmentation(page, text=False)
    nav(page, "Assign")
    page.get_by_text("2 · The customers to assign").first.wait_for()
    assert page.locator(".st-key-assign_demo").count() == 0
    assert page.locator(".st-key-assign_upload").count() == 1


def test_the_quality_cards_show_whole_names_and_verdicts_at_1280_pixels(app_server: str, page) -> None:
    # before: five cards in a 1280 px window cut "Calinski–Hara…", "Smallest seg…" and "Very small segm…"
    demo_run(page, app_server)
    page.set_viewport_size({"width": 1280, "height": 720})
    nav(page, "Quality")
    cards = page.locator('[class*="st-key-quality_card_"]')
    assert cards.count() == 5
    page.get_by_text("Calinski–Harabasz", exact=True).first.wait_for()
    cut = page.evaluate("""() => [...document.querySelectorAll('[class*="st-key-quality_card_"] *')]
        .filter(e => e.textContent.trim() && e.scrollWidth > e.clientWidth + 1
                     && getComputedStyle(e).overflowX !== "visible")
        .map(e => e.textContent.trim())""")
    assert cut == [], cut
    shot(page, "demo_ready_quality_1280")
