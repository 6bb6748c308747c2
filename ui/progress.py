"""Long work with progress on screen: the pipeline in a status box (one line per finished stage, an embedding bar
with an estimate of the time left), and a throttle for progress callbacks that would redraw too often."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from segmentation.config import RunConfig
from segmentation.errors import SegmentationError
from segmentation.lazy import lazy

from . import cache
from .format import fmt_seconds, md

io = lazy("segmentation.ingest.read")
pipeline = lazy("segmentation.pipeline")

STAGE_LABELS = {
    "prepare": "Prepared and cleaned the data",
    "features": "Built the structured features",
    "embed": "Embedded the texts",
    "reduce": "Reduced the dimensions",
    "map": "Laid out the map",
    "cluster": "Found the segments",
    "profile": "Profiled the segments",
}
STAGE_RUNNING = {
    "prepare": "Preparing the data",
    "features": "Building the structured features",
    "embed": "Embedding the texts",
    "reduce": "Reducing the dimensions",
    "map": "Laying out the map",
    "cluster": "Finding the segments",
    "profile": "Profiling the segments",
}


def throttled(draw: Callable[[str, float], None], every: float = 0.2) -> Callable[[str, float], None]:
    """An on_progress callback that redraws at most every ``every`` seconds (and always at the start and end)."""
    last = [0.0]

    def on_progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if fraction <= 0.0 or fraction >= 1.0 or now - last[0] >= every:
            last[0] = now
            draw(stage, min(max(float(fraction), 0.0), 1.0))
    return on_progress


def run_with_progress(dataset: io.Dataset, config: RunConfig) -> pipeline.SegmentationResult | None:
    """Run the pipeline inside a status box: one line per finished stage, an embedding bar with an ETA."""
    started = time.perf_counter()
    embeds = bool(config.text.columns) and config.blend.text_weight > 0
    stages = [s for s in pipeline.STAGES if s != "embed" or embeds]
    marks: dict[str, float] = {}
    done: set[str] = set()
    with st.status("Segmenting customers…", expanded=True) as status:
        bars: dict[str, Any] = {}
        embed_start: list[tuple[float, float]] = []
        last_draw = [0.0]

        def on_progress(stage: str, fraction: float) -> None:
            now = time.perf_counter()
            if stage not in marks:
                marks[stage] = now
                status.update(label=f"{STAGE_RUNNING.get(stage, stage)}…", expanded=True)
            if stage == "embed" and fraction < 1.0:
                if not embed_start:
                    embed_start.append((now, fraction))
                    bars["embed"] = st.progress(fraction, text="Embedding texts…")
                t0, f0 = embed_start[0]
                if now - last_draw[0] > 0.25 and fraction > f0:
                    eta = (now - t0) * (1 - fraction) / (fraction - f0)
                    bars["embed"].progress(min(fraction, 1.0),
                                           text=f"Embedding texts · {fraction:.0%} · about {fmt_seconds(eta)} left")
                    last_draw[0] = now
            if fraction >= 1.0 and stage not in done:
                done.add(stage)
                if "embed" in bars and stage == "embed":
                    bars.pop("embed").empty()
                st.write(f":green[:material/check:] {STAGE_LABELS.get(stage, stage)} "
                         f"· {fmt_seconds(now - marks[stage])}")
                following = [s for s in stages[stages.index(stage) + 1:] if s not in done] if stage in stages else []
                if following:  # say what is being worked on until the next stage reports
                    status.update(label=f"{STAGE_RUNNING[following[0]]}…", expanded=True)
        try:
            result = cache.run_segmentation(dataset, config, on_progress)
        except SegmentationError as error:
            status.update(label="The segmentation stopped", state="error", expanded=True)
            st.error(md(error), icon=":material/error:")
            return None
        status.update(label=f"Done in {fmt_seconds(time.perf_counter() - started)}", state="complete",
                      expanded=False)
    return result
