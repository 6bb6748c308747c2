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

``--cold`` measures a fresh machine instead: for each variant a new server starts with an EMPTY workspace and an
EMPTY ``NUMBA_CACHE_DIR`` (fresh temporary folders, as after a fresh ``make run``), and it prints the seconds
from clicking "Use demo data" to the first segmentation with the real model on screen (Segment page, Run with
the default settings). Variants: ``off`` (no warm-up), ``background`` (the app's warm-up thread, the analyst
clicks as soon as the page is interactive), ``background+N`` (the analyst first reads the page for N seconds),
``setup`` (the install's warm-up, as ``make setup`` and ``make run`` run it, before the server started),
``setup-nodemo`` (the same without the demo step, ``SEGMENT_STUDIO_WARMUP=embedding,umap``, in the install and
the app: the demo's reviews are embedded in the run itself). Target with the warm-up: < 15 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
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


def demo_to_segmentation(page, fast: bool = False) -> float:
    """From an interactive first page: click "Use demo data", open Segment, click Run; seconds from the first
    click until the run is on screen."""
    start = time.perf_counter()
    page.get_by_role("button", name="Use demo data").first.click()
    wait_for_app(page, timeout=600_000)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Segment").first.click()
    wait_for_app(page)
    if fast:
        for key, option in (("seg_model", "TF-IDF (fast)"), ("seg_reduce", "PCA (fast, linear)"),
                            ("seg_map", "PCA (fast)")):
            page.locator(f".st-key-{key} [role=combobox]").click()
            page.get_by_role("option", name=option, exact=True).click()
    page.locator(".st-key-seg_run button").click()
    page.get_by_text("Current run: Run 1").wait_for(timeout=600_000)
    return time.perf_counter() - start


def cold_start(playwright, variant: str) -> tuple[float, float | None]:
    """(seconds from "Use demo data" to the segmentation on screen, seconds the install warm-up took) for one
    variant, on a server with an empty workspace and an empty numba cache."""
    warmup, _, think = variant.partition("+")
    steps = {"off": "0", "setup-nodemo": "embedding,umap"}.get(warmup, "1")
    env = dict(os.environ, SEGMENT_STUDIO_HOME=tempfile.mkdtemp(prefix="bench-cold-home-"),
               NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="bench-cold-numba-"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", SEGMENT_STUDIO_WARMUP=steps)
    env.pop("SEGMENT_STUDIO_EMBED_BACKEND", None)
    setup_seconds = None
    if warmup.startswith("setup"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "segmentation.warmup"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        setup_seconds = time.perf_counter() - start
    proc, url = start_streamlit(ROOT / "app.py", ROOT, env)
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(600_000)
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("button", name="Use demo data").first.wait_for(state="visible")
        wait_for_app(page)
        time.sleep(float(think or 0))  # the analyst reading the first page
        seconds = demo_to_segmentation(page)
        browser.close()
        return seconds, setup_seconds
    finally:
        stop_streamlit(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="TF-IDF + PCA instead of the default model and UMAP")
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--cold", default="", metavar="VARIANTS",
                        help="only the fresh-machine timings, e.g. 'off,background,background+60,setup,setup-nodemo'")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.cold:
        print(f"fresh machine (empty workspace and numba cache), {os.cpu_count()} CPU cores: seconds from "
              "'Use demo data' to the first segmentation with the real model on screen")
        with sync_playwright() as playwright:
            for variant in args.cold.split(","):
                seconds, setup_seconds = cold_start(playwright, variant.strip())
                extra = f" (the install warm-up took {setup_seconds:.1f} s before)" if setup_seconds else ""
                print(f"  warm-up {variant.strip():<16} {seconds:6.1f} s{extra}", flush=True)
        return

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
