"""Is the customer map responsive at 100,000 customers?

Run by hand:  .venv/bin/python bench/map.py [--rows 100000]
Segments N customers (telco_churn rows resampled with a seed; PCA + k-means so
the bench measures the map, not the pipeline), then for each "Points drawn"
setting of the Map page prints: seconds to build the figure, the size of the
JSON the browser receives, and, in headless Chromium (software WebGL: no GPU),
seconds from opening the page (plotly.js included) until the map is drawn, a zoom redraw, and from releasing the mouse
after dragging a selection box over a quarter of the plot until Plotly reports
the selected customers (what the Map page then lists).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SEGMENT_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-map-"))

from segmentation.config import ClusterConfig, ReduceConfig, RunConfig  # noqa: E402
from segmentation.pipeline import run  # noqa: E402
from segmentation.plots import map as plots  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, CHROMIUM_PATH  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "telco_churn"


def customers(n: int, seed: int = 0) -> pd.DataFrame:
    source = next(p for p in sorted(DATA.iterdir()) if p.suffix == ".csv")
    table = pd.read_csv(source)
    table = table.sample(n=n, replace=n > len(table), random_state=seed).reset_index(drop=True)
    table["customerID"] = [f"C{i:07d}" for i in range(n)]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    table = customers(args.rows)
    start = time.perf_counter()
    result = run(table, RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                                  cluster=ClusterConfig.make("kmeans", n_clusters=6)))
    print(f"{args.rows:,} customers segmented (PCA + k-means) in {time.perf_counter() - start:.1f} s\n")
    hover = [c for c in ("tenure", "Contract", "MonthlyCharges") if c in result.table.columns]
    out = Path(tempfile.mkdtemp(prefix="bench-map-html-"))
    print(f"{'points drawn':>12} {'build s':>8} {'JSON MB':>8} {'drawn s':>8} {'zoom s':>7} {'select s':>9}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for points in (5_000, 20_000, 50_000):
            start = time.perf_counter()
            figure = plots.map_figure(result, hover_fields=hover, max_points=points)
            built = time.perf_counter() - start
            payload = figure.to_json()
            html = out / f"map-{points}.html"
            figure.write_html(html, include_plotlyjs=True, full_html=True, div_id="map")
            start = time.perf_counter()  # loading plotly.js (4.6 MB, inline) is included
            page.goto(html.as_uri(), wait_until="domcontentloaded")
            page.wait_for_function("() => document.querySelector('#map')?._fullLayout && "
                                   "document.querySelectorAll('#map canvas').length > 0")
            drawn = time.perf_counter() - start
            zoom = page.evaluate("""async () => {
                const gd = document.getElementById('map'); const t = performance.now();
                const [x0, x1] = gd._fullLayout.xaxis.range; const [y0, y1] = gd._fullLayout.yaxis.range;
                await Plotly.relayout(gd, {'xaxis.range': [x0, (x0 + x1) / 2], 'yaxis.range': [y0, (y0 + y1) / 2]});
                return (performance.now() - t) / 1000; }""")
            page.evaluate("""async () => {
                const gd = document.getElementById('map');
                await Plotly.relayout(gd, {'xaxis.autorange': true, 'yaxis.autorange': true, dragmode: 'select'});
                window.selected = new Promise(done => gd.on('plotly_selected', e => done(e ? e.points.length : 0)));
                }""")
            box = page.locator("#map .nsewdrag").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=4)
            start = time.perf_counter()
            page.mouse.up()
            chosen = page.evaluate("() => window.selected")
            select = time.perf_counter() - start
            print(f"{points:>12,} {built:8.2f} {len(payload) / 1e6:8.1f} {drawn:8.2f} {zoom:7.2f} {select:9.2f}"
                  f"   ({chosen:,} customers selected)")
        browser.close()


if __name__ == "__main__":
    main()
