"""Long work with progress on screen.

``run_with_progress`` runs the pipeline inside a progress panel: the steps (done, going, waiting), one bar for the
whole run and, for a step that counts its work (embedding the texts), a bar with the count, the rate and the time
left. The panel is drawn where the page asks (the Segment page puts it right under its title, so it is in view).
The run is recorded as started in the session and the open project before it begins and as finished after it,
so a run cut short by a browser refresh (or a closed tab, or a click that reruns the page) is noticed on the next
visit: ``interrupted_run`` says which one it was.

``RunProgress`` does the arithmetic without Streamlit, so it is tested on its own. ``throttled`` wraps a progress
callback that would otherwise redraw too often.

For tests only: ``SEGMENT_STUDIO_SLOW_STAGE=<stage>:<seconds>`` (e.g. ``reduce:30``) holds that stage for that
long when it starts, redrawing the panel meanwhile, so a browser test can reload the page in the middle of a run.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from segmentation.config import RunConfig
from segmentation.errors import SegmentationError
from segmentation.lazy import lazy
from segmentation.represent.embed import Progress

from . import cache
from .format import fmt_seconds, md
from .state import Studio, studio

io = lazy("segmentation.ingest.read")
pipeline = lazy("segmentation.pipeline")

SLOW_STAGE_ENV = "SEGMENT_STUDIO_SLOW_STAGE"
STAGE_LABELS = {
    "prepare": "Prepared and cleaned the data",
    "features": "Built the structured features",
    "embed": "Embedded the texts",
    "reduce": "Reduced the dimensions",
    "map": "Laid out the map",
    "cluster": "Found the segments",
    "themes": "Found the themes inside each segment",
    "profile": "Profiled the segments",
}
STAGE_RUNNING = {
    "prepare": "Preparing the data",
    "features": "Building the structured features",
    "embed": "Embedding the texts",
    "reduce": "Reducing the dimensions",
    "map": "Laying out the map",
    "cluster": "Finding the segments",
    "themes": "Finding the themes inside each segment",
    "profile": "Profiling the segments",
}
STAGE_WAITING = {
    "prepare": "Prepare the data",
    "features": "Build the structured features",
    "embed": "Embed the texts",
    "reduce": "Reduce the dimensions",
    "map": "Lay out the map",
    "cluster": "Find the segments",
    "themes": "Find the themes inside each segment",
    "profile": "Profile the segments",
}
UNITS = {"embed": "texts"}
"""What a stage that counts its work is counting."""
_ACTIVE: set[str] = set()
"""Runs going on in this server process now (their tokens), in any session."""


def throttled(draw: Callable[[str, float], None], every: float = 0.2) -> Callable[[str, float], None]:
    """An on_progress callback that redraws at most every ``every`` seconds (and always at the start and end)."""
    last = [0.0]

    def on_progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if fraction <= 0.0 or fraction >= 1.0 or now - last[0] >= every:
            last[0] = now
            draw(stage, min(max(float(fraction), 0.0), 1.0))
    return on_progress


@dataclass
class _Step:
    started: float
    fraction: float = 0.0
    finished: float | None = None
    first: tuple[float, float, int | None] | None = None  # time, fraction and count of the first report
    done: int | None = None
    total: int | None = None


class RunProgress:
    """Where a run is, from its ``on_progress(stage, fraction)`` calls: steps done, going and waiting, the share of
    the whole run done, and for a step that counts its work, the count, rate and time left."""

    def __init__(self, stages: Sequence[str], clock: Callable[[], float] = time.perf_counter) -> None:
        self.stages = list(stages)
        self.clock = clock
        self.started = clock()
        self.steps: dict[str, _Step] = {}

    def report(self, stage: str, fraction: float) -> bool:
        """Take one progress report; True when a step started or finished (worth drawing at once)."""
        now = self.clock()
        if stage not in self.stages:
            self.stages.append(stage)
        step = self.steps.get(stage)
        changed = step is None
        if step is None:
            step = self.steps[stage] = _Step(started=now)
        value = min(max(float(fraction), 0.0), 1.0)
        step.fraction = value
        if isinstance(fraction, Progress):
            step.done, step.total = fraction.done, fraction.total
        counts_from_here = isinstance(fraction, Progress) and (step.first is None or step.first[2] is None)
        if value < 1.0 and (step.first is None or counts_from_here):  # the rate counts from the first count
            step.first = (now, value, step.done)
        if value >= 1.0 and step.finished is None:
            step.finished, changed = now, True
        return changed

    @property
    def current(self) -> str | None:
        """The step being worked on (the latest started and not finished), if any."""
        going = [s for s in self.stages if s in self.steps and self.steps[s].finished is None]
        return going[-1] if going else None

    def overall(self) -> float:
        """The share of the steps done, counting the current step's fraction."""
        if not self.stages:
            return 0.0
        return sum(self.steps[s].fraction if s in self.steps else 0.0 for s in self.stages) / len(self.stages)

    def rows(self) -> list[tuple[str, str, float | None]]:
        """One row per step: (stage, "done" | "going" | "waiting", seconds it took or has taken so far)."""
        now = self.clock()
        out: list[tuple[str, str, float | None]] = []
        for stage in self.stages:
            step = self.steps.get(stage)
            if step is None:
                out.append((stage, "waiting", None))
            elif step.finished is not None:
                out.append((stage, "done", step.finished - step.started))
            else:
                out.append((stage, "going", now - step.started))
        return out

    def detail(self, stage: str) -> str | None:
        """For a step that counts: '1,200 of 2,000 texts · 150 texts a second · about 5 s left' (rate and time
        left once 2 s and 5% of the work have gone by); None for a step without counts."""
        step = self.steps.get(stage)
        if step is None or step.total is None or step.done is None:
            return None
        unit = UNITS.get(stage, "items")
        parts = [f"{step.done:,} of {step.total:,} {unit}"]
        if step.first is not None and step.finished is None:
            t0, f0, d0 = step.first
            elapsed = self.clock() - t0
            if elapsed >= 2.0 and step.fraction - f0 >= 0.05:  # earlier, one slow first batch misleads
                if d0 is not None and step.done > d0:
                    parts.append(f"{(step.done - d0) / elapsed:,.0f} {unit} a second")
                left = elapsed * (1.0 - step.fraction) / (step.fraction - f0)
                parts.append(f"about {fmt_seconds(left)} left")
            else:
                parts.append("working out the time left")
        return " · ".join(parts)


def _draw(box: Any, progress: RunProgress, title: str) -> None:
    """Draw the panel into ``box`` (an st.empty), replacing what it showed."""
    with box.container(border=True):
        current = progress.current
        rows = progress.rows()
        finished = sum(1 for _, state, _ in rows if state == "done")
        elapsed = fmt_seconds(progress.clock() - progress.started)
        doing = f"{STAGE_RUNNING.get(current, current)}…" if current else "Starting…"
        st.markdown(f"**{title}** · step {min(finished + 1, len(rows))} of {len(rows)}: {doing} · {elapsed} so far")
        st.progress(progress.overall(), text=f"{progress.overall():.0%} of the run done")
        steps, counts = st.columns(2, gap="large")
        lines = []
        for stage, state, seconds in rows:
            if state == "done":
                lines.append(f":green[:material/check_circle:] {STAGE_LABELS.get(stage, stage)} · "
                             f"{fmt_seconds(seconds or 0.0)}")
            elif state == "going":
                lines.append(f":blue[:material/pending:] **{STAGE_RUNNING.get(stage, stage)}…**")
            else:
                lines.append(f":gray[:material/radio_button_unchecked: {STAGE_WAITING.get(stage, stage)}]")
        steps.markdown("  \n".join(lines))
        detail = progress.detail(current) if current else None
        if current and detail:
            fraction = progress.steps[current].fraction
            counts.progress(fraction, text=f"{STAGE_RUNNING.get(current, current)} · {fraction:.0%} · {detail}")
        elif current:
            counts.caption(f"{STAGE_RUNNING.get(current, current)}: this step gives no count of its own; the "
                           "list moves on when it is done.")


def _slow_stage() -> tuple[str, float] | None:
    """The test-only hold from ``SEGMENT_STUDIO_SLOW_STAGE`` ("stage:seconds"), or None."""
    stage, _, seconds = os.environ.get(SLOW_STAGE_ENV, "").partition(":")
    try:
        return (stage, float(seconds)) if stage and float(seconds) > 0 else None
    except ValueError:
        return None


def run_marker(config: RunConfig, digest: str) -> dict[str, Any]:
    """What the session and the project keep about a run going on: its settings, data and start (plain JSON)."""
    return json.loads(json.dumps({"token": uuid.uuid4().hex, "config": config.to_dict(), "digest": digest,
                                  "started": time.time()}))


def interrupted_run(state: Studio) -> tuple[RunConfig, bool] | None:
    """The run this session (or the project) recorded as started and never as finished, on the current data: its
    settings and whether it is still going somewhere in this server (another tab); None when there is none."""
    marker = state.run_marker
    dataset = state.dataset
    if not marker or dataset is None or marker.get("digest") != dataset.digest:
        return None
    try:
        config = RunConfig.from_dict(marker["config"])
    except (SegmentationError, AttributeError, KeyError, TypeError, ValueError):  # a damaged project file
        return None
    return config, marker.get("token") in _ACTIVE


def run_with_progress(dataset: io.Dataset, config: RunConfig, where: Any = None
                      ) -> pipeline.SegmentationResult | None:
    """Run the pipeline with the progress panel drawn in ``where`` (a container; here when None). The run is
    recorded as started (session and project) before it begins, and as finished when it ends or fails with a
    message; a run stopped by a refresh stays recorded as started, which is how the next visit knows."""
    from . import workspace_sync

    state = studio()
    embeds = bool(config.text.columns) and config.blend.text_weight > 0
    progress = RunProgress([s for s in pipeline.STAGES if s != "embed" or embeds])
    with where if where is not None else st.container():
        box = st.empty()
        failure = st.empty()
    last = [0.0]
    slow = _slow_stage()

    def on_progress(stage: str, fraction: float) -> None:
        started = stage not in progress.steps
        changed = progress.report(stage, fraction)
        now = time.perf_counter()
        if changed or now - last[0] >= 0.25:
            last[0] = now
            _draw(box, progress, "Segmenting customers")
        if slow and started and stage == slow[0]:
            until = now + slow[1]
            while time.perf_counter() < until:  # redrawing lets a refresh stop the run here, as it would a real one
                time.sleep(0.2)
                _draw(box, progress, "Segmenting customers")

    marker = run_marker(config, dataset.digest)
    state.set_run_marker(marker)
    workspace_sync.persist()  # the project knows a run started, even if this script never gets to its end
    _ACTIVE.add(marker["token"])
    _draw(box, progress, "Segmenting customers")
    try:
        result = cache.run_segmentation(dataset, config, on_progress)
    except SegmentationError as error:
        state.set_run_marker(None)
        box.empty()
        failure.error(md(f"The segmentation stopped. {error}"), icon=":material/error:")
        return None
    finally:
        _ACTIVE.discard(marker["token"])
    state.set_run_marker(None)
    box.empty()
    return result
