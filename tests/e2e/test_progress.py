"""A run's progress is in view, and a run cut short by a refresh is said and offered again.

The demo run with the fast settings takes a few seconds, too quick to reload in the middle of. This test's own
server is started with ``SEGMENT_STUDIO_SLOW_STAGE=reduce:<seconds>`` (read by ``ui.progress``, for tests only),
which holds the "Reducing the dimensions" step that long while the panel is drawn. Screenshots go to
.cache/e2e-shots/progress_*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    REPO_ROOT,
    VIEWPORT,
    choose,
    goto,
    nav,
    shot,
    start_streamlit,
    stop_streamlit,
    wait_for_app,
)

HOLD_SECONDS = 8


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {**os.environ, "SEGMENT_STUDIO_HOME": str(tmp_path_factory.mktemp("studio-home")),
           "SEGMENT_STUDIO_SLOW_STAGE": f"reduce:{HOLD_SECONDS}"}
    proc, url = start_streamlit(REPO_ROOT / "app.py", REPO_ROOT, env)
    try:
        yield url
    finally:
        stop_streamlit(proc)


def test_the_panel_is_in_view_and_a_refresh_mid_run_offers_the_run_again(page, slow_server) -> None:
    goto(page, slow_server, "data")
    page.get_by_role("button", name="Use demo data").click()
    wait_for_app(page, timeout=120_000)
    nav(page, "Segment")
    choose(page, "seg_model", "TF-IDF (fast)")
    choose(page, "seg_reduce", "PCA (fast, linear)")
    choose(page, "seg_map", "PCA (fast)")
    page.locator(".st-key-seg_run button").click()

    # the panel, under the title and above the form, inside the first screen without scrolling
    share = page.get_by_text(re.compile(r"\d+% of the run done")).first
    share.wait_for(timeout=60_000)
    page.get_by_text("Reducing the dimensions…").first.wait_for()
    box = share.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"]
    assert page.evaluate("window.scrollY") == 0
    assert page.get_by_text(re.compile(r"Prepared and cleaned the data · ")).count() >= 1  # a step done
    shot(page, "progress_panel")

    page.reload(wait_until="domcontentloaded")  # in the middle of the held step
    wait_for_app(page, timeout=120_000)
    page.locator("h1").filter(has_text="Segment").first.wait_for()
    expect(page.get_by_text(re.compile(r"The last run did not finish: the page was reloaded or closed"))
           ).to_be_visible(timeout=30_000)
    shot(page, "progress_interrupted")

    page.locator(".st-key-seg_run_again button").click()
    page.get_by_text(re.compile(r"Current run: Run 1")).first.wait_for(timeout=120_000)
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"The last run did not finish")).count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
