"""Embedding throughput and agreement with the default fp32 embeddings, per embedding option.

Run by hand:  .venv/bin/python bench/embed.py [--rows 2000] [--repeats 2]
Prints texts per second for each option measured in this one run, the speed-up
against sentence-transformers' default ``encode`` (fp32), and the mean / minimum
cosine similarity of each option's vectors to the fp32 reference.

It also runs the first-use calibration (segmentation/represent/calibrate.py) afresh, in a temporary workspace,
prints what it measured and chose, and says whether that choice is the fastest agreeing option at full size
in this same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from segmentation.represent.embed import SentenceTransformerEmbedder, TfidfEmbedder, default_model_path  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv"


def reviews(n: int, seed: int = 0) -> list[str]:
    table = pd.read_csv(DATA, usecols=["Review Text"]).dropna()
    return table["Review Text"].sample(n=min(n, len(table)), random_state=seed).astype(str).tolist()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2,
                        help="rounds, interleaved; each option's fastest round is reported (shared machines are noisy)")
    args = parser.parse_args()
    texts = reviews(args.rows)
    from sentence_transformers import SentenceTransformer

    from segmentation.represent import calibrate
    from segmentation.represent.embed import BACKEND_ENV, bf16_is_fast, embed_texts
    from segmentation.represent.openvino import openvino_available

    os.environ.pop(BACKEND_ENV, None)
    model = SentenceTransformer(default_model_path(), device="cpu")
    precisions = ["fp32", "bf16"] if bf16_is_fast() else ["fp32"]
    choices = [f"{b}/{p}" for b in ("torch", "openvino") if b == "torch" or openvino_available() for p in precisions]
    # the first-use calibration, measured now (its own temporary file), before the full-size rounds
    calibrate.forget()
    start = time.perf_counter()
    calibration = calibrate.best_option(
        SentenceTransformerEmbedder().model_id,
        {c: SentenceTransformerEmbedder(precision=c.split("/")[1], backend=c.split("/")[0]).embed for c in choices},
        Path(tempfile.mkdtemp(prefix="bench-calibration-")) / calibrate.CALIBRATION_FILE)
    calibration_seconds = time.perf_counter() - start
    options = {
        "sentence-transformers encode, fp32 (reference)":
            lambda batch: model.encode(batch, batch_size=32, normalize_embeddings=True),
        **{f"Segment Studio, {c}": SentenceTransformerEmbedder(precision=c.split("/")[1],
                                                               backend=c.split("/")[0]).embed for c in choices},
    }
    duplicated = texts[: len(texts) // 2] * 2
    default = (SentenceTransformerEmbedder(precision=calibration.precision, backend=calibration.backend)
               if calibration else SentenceTransformerEmbedder())
    for fn in options.values():  # warm-up: loads, exports once, compiles, allocates
        fn(texts[:64])
    best: dict[str, tuple[float, np.ndarray | None]] = {}
    for _ in range(args.repeats):
        for name, fn in options.items():
            vectors, seconds = timed(lambda fn=fn: fn(texts))
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, vectors)
        _, seconds = timed(lambda: embed_texts(duplicated, default, None))
        key = "Segment Studio default (calibrated), half the texts repeated (each distinct text embedded once)"
        if key not in best or seconds < best[key][0]:
            best[key] = (seconds, None)
    tfidf = TfidfEmbedder(128, 0)
    _, seconds = timed(lambda: tfidf.embed(texts))
    best["TF-IDF + SVD (different space, no agreement figure)"] = (seconds, None)

    t_ref, reference = best["sentence-transformers encode, fp32 (reference)"]
    print(f"{len(texts)} reviews from womens_clothing_reviews, {os.cpu_count()} CPU cores, "
          f"best of {args.repeats} interleaved rounds\n")
    full_size: dict[str, float] = {}
    print(f"{'option':<84} {'texts/s':>9} {'speed-up':>9} {'cos mean':>9} {'cos min':>9}")
    for name, (seconds, vectors) in best.items():
        rate = len(texts) / seconds
        agree = cosine(vectors, reference) if vectors is not None else None
        print(f"{name:<84} {rate:9.1f} {t_ref / seconds:8.2f}x "
              f"{(f'{agree.mean():.5f}' if agree is not None else '-'):>9} "
              f"{(f'{agree.min():.5f}' if agree is not None else '-'):>9}")
        if name.startswith("Segment Studio, ") and agree is not None and agree.min() >= calibrate.MIN_COSINE:
            full_size[name.removeprefix("Segment Studio, ")] = rate
    report_calibration(calibration, calibration_seconds, full_size)


def report_calibration(calibration, seconds: float, full_size: dict[str, float]) -> None:
    """The calibration's own figures, and whether its choice is the fastest agreeing option at full size."""
    print(f"\nfirst-use calibration ({seconds:.1f} s, {len(calibration.measurements) if calibration else 0} options"
          f" on 48 short texts; full-size figures above):")
    if calibration is None:
        print("  nothing could be measured: the embedder keeps its default")
        return
    for m in calibration.measurements:
        figures = (f"{m.rate:7.1f} texts/s, cos min {m.min_cosine:.5f}" if m.error is None
                   else f"skipped: {m.error}")
        print(f"  {m.option:<14} {figures}{'   <- chosen' if m.option == calibration.choice else ''}")
    best = max(full_size, key=full_size.__getitem__) if full_size else None
    verdict = "yes" if best == calibration.choice else (
        f"no: {best} at {full_size[best]:.1f} texts/s vs {full_size.get(calibration.choice, float('nan')):.1f} "
        f"({full_size.get(calibration.choice, 0) / full_size[best]:.0%} of the fastest)" if best else "unknown")
    print(f"calibrated choice {calibration.choice} is the fastest agreeing option at full size: {verdict}")


if __name__ == "__main__":
    main()
