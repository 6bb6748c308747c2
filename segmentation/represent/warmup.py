"""Pay the one-time costs before the analyst asks: the embedding model and UMAP's compiled code.

A fresh machine's first segmentation with the real model otherwise waits for the model's export to ONNX, the
embedding calibration (``calibrate.py``) and numba compiling UMAP (tens of seconds). ``warm_up`` does all of it
on tiny made-up data, so the disk caches (the ONNX export and the calibration in the workspace cache, the
compiled code in ``NUMBA_CACHE_DIR``) and this process's memory are ready. The app starts it in a background
thread (``start_in_background``); ``make setup`` runs it once at install (``python -m
segmentation.represent.warmup``).

Safe beside a real run: each step runs once per process under a lock, and what a step shares with a run (model
loading, the OpenVINO export, numba's compiler, the calibration) has its own lock, so a run that starts
meanwhile simply waits for, then reuses, the warm piece. The heavy work is in C (torch, OpenVINO, LLVM) that
releases the GIL, so the app keeps serving pages. Nothing is downloaded and nothing connects anywhere. A
failing step is logged and skipped: warming up never breaks the app or the install.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

log = logging.getLogger(__name__)

WARMUP_ENV = "SEGMENT_STUDIO_WARMUP"
"""Set to ``0`` to switch the app's background warm-up off (e.g. for tests that start many servers)."""

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


STEPS: dict[str, Callable[[], None]] = {"embedding": warm_embedding, "umap": warm_umap}
"""In order: the embedding first, so its calibration measures on a quiet CPU."""


def warm_up(steps: Mapping[str, Callable[[], None]] | None = None) -> dict[str, float | str]:
    """Run each warm-up step once per process; returns seconds per step run now, or the error of a step that
    failed (logged, never raised). A second call, from any thread, waits for the first and skips what it did."""
    report: dict[str, float | str] = {}
    with _LOCK:
        for name, step in (STEPS if steps is None else steps).items():
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
    """``python -m segmentation.represent.warmup``: warm this machine's caches; always exits 0."""
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
