"""Pay the one-time costs before the analyst asks: the embedding model, UMAP's compiled code and the demo.

A fresh machine's first segmentation with the real model otherwise waits for the model's export to ONNX, the
embedding calibration (``represent/calibrate.py``), numba compiling UMAP (tens of seconds) and embedding the
texts. ``warm_up`` does it ahead:

- ``umap``: compiles (or loads from ``NUMBA_CACHE_DIR``) UMAP's code on 300 made-up points;
- ``demo``: segments the shipped demo file (``assets/demo_customers.csv``, nobody's data) with its default
  settings, as "Use demo data" then Run does, so its reviews and key phrases are in the embedding cache and
  every numba function the real path calls is compiled. Skipped when the demo's texts are already cached, so
  the app's start-up does not redo what the install did;
- ``embedding``: loads the default model and calibrates the backends on made-up texts (the ONNX export and the
  calibration land in the workspace cache), unless the demo's run did.

``make setup`` and ``make run`` run it once at install (``python -m segmentation.warmup``); the app starts it in
a background thread (``start_in_background``), where it finds the caches warm and only loads the model and the
compiled code into its process.

Safe beside a real run: each step runs once per process under a lock, and what a step shares with a run (model
loading, embedding with one model, the OpenVINO export, numba's compiler, the calibration) has its own lock, so
a run that starts meanwhile simply waits for, then reuses, the warm piece. Most heavy work is in C (torch,
OpenVINO, LLVM) that releases the GIL, so the app keeps serving pages; importing sentence-transformers (about
5 s, the in-app ``embedding`` step) does not, and slows a run started in those seconds (bench/app.py: 9.4 s
instead of 6.9 s for the first demo run). Nothing is downloaded and nothing connects anywhere. A failing step is
logged and skipped: warming up never breaks the app or the install.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

WARMUP_ENV = "SEGMENT_STUDIO_WARMUP"
"""``0`` switches the warm-up off in the app (e.g. for tests that start many servers); a comma-separated list of
step names (``embedding,umap``) runs only those, in the app and at install; unset or ``1``: every step."""

_LOCK = threading.Lock()
_DONE: set[str] = set()
_THREAD: threading.Thread | None = None
_THREAD_LOCK = threading.Lock()


def warm_embedding() -> None:
    """Load the default model, calibrate the embedding backends (exporting to ONNX once) and compile the chosen
    one, by embedding a few made-up texts (not cached: they are nobody's data)."""
    from segmentation.represent.calibrate import calibration_texts
    from segmentation.represent.embed import SentenceTransformerEmbedder

    SentenceTransformerEmbedder().embed(calibration_texts(8))


def warm_umap() -> None:
    """Compile (or load from ``NUMBA_CACHE_DIR``) UMAP's numba code with the pipeline's own calls and settings:
    the cluster space and the 2-D map, on 300 seeded points in three blobs."""
    from segmentation.config import ReduceConfig
    from segmentation.represent.reduce import map_coordinates, reduce

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(300, 16)) + np.repeat(np.eye(3, 16) * 6, 100, axis=0)).astype(np.float32)
    config = ReduceConfig()
    map_coordinates(X, reduce(X, config, 0), config, 0)


def _demo() -> tuple[Any, Any]:
    """(table, default run settings) of the shipped demo file, as "Use demo data" loads it."""
    from segmentation.ingest.read import load_table
    from segmentation.paths import DEMO_DATA
    from segmentation.pipeline import default_config

    table = load_table(DEMO_DATA).table
    return table, default_config(table)


def demo_is_cached(demo: tuple[Any, Any] | None = None) -> bool:
    """Whether every text a default run of the demo (``demo``: its table and settings) embeds is already in the
    embedding cache."""
    from segmentation.paths import cache_dir
    from segmentation.pipeline import run_texts
    from segmentation.represent.embed import EmbeddingCache, make_embedder, text_key

    table, config = demo or _demo()
    keys = sorted({text_key(t) for t in run_texts(table, config) if t.strip()})
    model_id = make_embedder(config.text.model, config.text.batch_size).model_id
    return len(EmbeddingCache(cache_dir() / "embeddings.sqlite").get_many(model_id, keys)) == len(keys)


def warm_demo() -> None:
    """Segment the demo file with its default settings (a private stage cache: the app's first run still does
    every stage), unless its texts are cached already."""
    from segmentation.pipeline import StageCache, run

    table, config = demo = _demo()
    if demo_is_cached(demo):
        log.info("Warm-up: the demo's texts are already embedded")
        return
    run(table, config, cache=StageCache(per_stage=1))


STEPS: dict[str, Callable[[], None]] = {"umap": warm_umap, "demo": warm_demo, "embedding": warm_embedding}
"""In order of what the analyst needs first: "Use demo data" then Run needs UMAP's code and the demo's vectors
(when the install cached them, not the model); a file of their own needs the model. At install every step runs
in turn, so the calibration (inside the demo's run on a fresh machine) measures on a quiet CPU."""


def chosen_steps() -> dict[str, Callable[[], None]]:
    """The steps ``$SEGMENT_STUDIO_WARMUP`` asks for (see ``WARMUP_ENV``), in ``STEPS`` order; unknown names are
    logged and ignored."""
    value = os.environ.get(WARMUP_ENV, "").strip().lower()
    if value in ("", "1"):
        return dict(STEPS)
    if value == "0":
        return {}
    names = {n.strip() for n in value.split(",") if n.strip()}
    if names - set(STEPS):
        log.warning("Unknown warm-up step(s) in $%s: %s (known: %s)", WARMUP_ENV, ", ".join(sorted(names - set(STEPS))),
                    ", ".join(STEPS))
    return {name: step for name, step in STEPS.items() if name in names}


def warm_up(steps: Mapping[str, Callable[[], None]] | None = None) -> dict[str, float | str]:
    """Run each warm-up step once per process (``steps``, default: ``chosen_steps()``); returns seconds per step
    run now, or the error of a step that failed (logged, never raised). A second call, from any thread, waits for
    the first and skips what it did."""
    report: dict[str, float | str] = {}
    with _LOCK:
        for name, step in (chosen_steps() if steps is None else steps).items():
            if name in _DONE:
                continue
            start = time.perf_counter()
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - a warm-up must never break the app or the install
                log.warning("Warm-up step %s failed (the first run will pay for it instead): %s", name, exc)
                report[name] = f"{type(exc).__name__}: {exc}"
            else:
                report[name] = time.perf_counter() - start
                log.info("Warm-up: %s ready in %.1f s", name, report[name])
            _DONE.add(name)
    return report


def start_in_background(steps: Mapping[str, Callable[[], None]] | None = None) -> threading.Thread | None:
    """Start ``warm_up`` in a daemon thread, once per process, and return at once (the thread, or None when
    ``$SEGMENT_STUDIO_WARMUP`` is ``0``). Calling it again returns the same thread."""
    global _THREAD
    if os.environ.get(WARMUP_ENV, "").strip() == "0":
        return None
    with _THREAD_LOCK:
        if _THREAD is None:
            _THREAD = threading.Thread(target=warm_up, args=(steps,), name="segment-studio-warm-up", daemon=True)
            _THREAD.start()
        return _THREAD


def main() -> int:
    """``python -m segmentation.warmup``: warm this machine's caches; always exits 0."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    start = time.perf_counter()
    report = warm_up()
    parts = [f"{name} {value:.1f} s" if isinstance(value, float) else f"{name} skipped ({value})"
             for name, value in report.items()]
    print(f"Segment Studio warm-up done in {time.perf_counter() - start:.1f} s: {', '.join(parts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
