"""Acting on segments in a real browser: export the report and the model, then assign customers with them.

Demo data -> fast run (TF-IDF, PCA, k-means, chosen through the widgets) -> name the
largest segment -> Export: the stakeholder report (every segment name, nothing fetched
from the internet) and the model file -> Assign: the current segmentation, the demo
data, the movement section, and the assigned customers as CSV. Pages are opened
through the sidebar so the session keeps its data. Screenshots: /tmp/shots/act_e2e_*.png.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from segmentation.act.assign import load_model
from tests.e2e.conftest import load_demo, nav, run_fast_segmentation, shot, wait_for_app


def download(page, button: str) -> bytes:
    """Click the download button named ``button`` and return the file's bytes."""
    with page.expect_download() as pending:
        page.get_by_role("button", name=re.compile(re.escape(button))).click()
    return Path(pending.value.path()).read_bytes()




def test_export_the_report_and_model_then_assign_customers_with_it(page, app_server) -> None:
    load_demo(page, app_server)

    run_fast_segmentation(page)
    page.get_by_text("Current run: Run 1 · k-means").wait_for()
    summary = page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"\d+ segments")).first.inner_text()
    n_segments = int(re.search(r"(\d+) segments", summary).group(1))

    nav(page, "Profiles")
    name = page.locator(".st-key-card-0 input[type='text']").first  # the largest segment: "Segment 1"
    name.fill("Big spenders")
    name.press("Enter")
    wait_for_app(page)

    nav(page, "Export")
    for group in ("Audiences", "Share", "Reuse"):
        page.locator("h5").filter(has_text=group).first.wait_for()
    shot(page, "act_e2e_export")
    report = download(page, "Stakeholder report (HTML)").decode("utf-8")
    # the other segments carry their suggested names (issue 18): never "Segment N" as a name
    assert "Big spenders" in report and not re.search(r"<h3>Segment \d+</h3>", report)
    assert not re.search(r"<script\b", report, re.I)  # the report runs no script at all
    assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?https?://", report, re.I)
    model = load_model(download(page, "Segmentation model (.segmodel)"))
    assert model.segment_names[0] == "Big spenders" and len(model.segment_names) - 1 == n_segments

    nav(page, "Assign")
    page.get_by_text("Use the current segmentation").first.wait_for()
    page.get_by_text(f"{n_segments} segments learnt from 2,000 customers").first.wait_for()
    page.get_by_role("button", name="Use the demo data").click()
    wait_for_app(page)
    page.get_by_role("button", name="Assign 2,000 customers").click()
    wait_for_app(page, timeout=120_000)
    page.get_by_text("Movement since the model was built").wait_for()
    page.get_by_text(re.compile(r"\d+% stayed in the same segment")).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "act_e2e_assign")
    assigned = pd.read_csv(io.BytesIO(download(page, "Download assigned customers CSV")), dtype=str)
    assert len(assigned) == 2000
    assert {"customer_id", "segment_id", "segment_name", "confidence"} <= set(assigned.columns)
    assert "Big spenders" in set(assigned["segment_name"])
