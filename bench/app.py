"""App start-up and demo timings in headless Chromium.

Run by hand:  .venv/bin/python bench/app.py [--fast]
Prints seconds from starting the server until it answers, until the first page is
interactive (the "Use demo data" button can be clicked), and until the demo
segmentation is on screen after clicking Run with the default settings
(all-MiniLM-L6-v2 + UMAP + k-means; ``--fast`` uses TF-IDF + PCA instead).
Target: the first page interactive within 3 s of the server answering.

For scale it first measures the same thing for a bare Streamlit page (a title and
one button) in this run: Streamlit's own floor on this machine. ``--visits N``
opens the first page N times (the first visit pays the server's first script run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, CHROMIUM_PATH, start_streamlit, stop_streamlit, wait_for_app  # noqa: E402

BARE_APP = """import streamlit as st
st.title("Bare Streamlit page")
st.button("Use demo data")
"""


def first_page_seconds(playwright, app: Path, cwd: Path, env: dict, visits: int) -> list[float]:
    """Seconds from opening the page until "Use demo data" can be clicked and the script is done, per visit."""
    proc, url = start_streamlit(app, cwd, env)
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        out = []
        for _ in range(visits):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("button", name="Use demo data").first.wait_for(state="visible")
            wait_for_app(page)
            out.append(time.perf_counter() - start)
            page.close()
        browser.close()
        return out
    finally:
        stop_streamlit(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="TF-IDF + PCA instead of the default model and UMAP")
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    bare = Path(tempfile.mkdtemp(prefix="bench-app-bare-")) / "bare.py"
    bare.write_text(BARE_APP)
    with sync_playwright() as playwright:
        floor = first_page_seconds(playwright, bare, bare.parent, dict(os.environ), args.visits)
        ours = first_page_seconds(playwright, ROOT / "app.py", ROOT,
                                  dict(os.environ, SEGMENT_STUDIO_HOME=tempfile.mkdtemp(prefix="bench-app-")),
                                  args.visits)
    print("first page interactive, seconds per visit (browser navigation included):")
    print(f"  bare Streamlit page: {', '.join(f'{s:.2f}' for s in floor)}")
    print(f"  Segment Studio home: {', '.join(f'{s:.2f}' for s in ours)}")

    env = dict(os.environ, SEGMENT_STUDIO_HOME=tempfile.mkdtemp(prefix="bench-app-"))
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
    env.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    proc, url = start_streamlit(ROOT / "app.py", ROOT, env)
    answered = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(600_000)
            opened = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("button", name="Use demo data").first.wait_for(state="visible")
            wait_for_app(page)
            interactive = time.perf_counter()
            page.get_by_role("button", name="Use demo data").first.click()
            wait_for_app(page, timeout=600_000)
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Segment").first.click()
            wait_for_app(page)
            if args.fast:
                for key, option in (("seg_model", "TF-IDF (fast)"), ("seg_reduce", "PCA (fast, linear)"),
                                    ("seg_map", "PCA (fast)")):
                    page.locator(f".st-key-{key} [role=combobox]").click()
                    page.get_by_role("option", name=option, exact=True).click()
            clicked = time.perf_counter()
            page.locator(".st-key-seg_run button").click()
            page.get_by_text("Current run: Run 1").wait_for(timeout=600_000)
            done = time.perf_counter()
            browser.close()
    finally:
        stop_streamlit(proc)
    print(f"server answering after start: {answered - started:.1f} s")
    print(f"first page interactive after the server answered: {interactive - opened:.2f} s "
          f"(browser navigation included)")
    print(f"demo segmentation on screen after clicking Run ({'fast' if args.fast else 'default'} settings): "
          f"{done - clicked:.1f} s")


if __name__ == "__main__":
    main()
