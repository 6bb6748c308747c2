"""Embedding throughput and agreement with the default fp32 embeddings, per embedding option.

Run by hand:  .venv/bin/python bench/embed.py [--rows 2000] [--repeats 2]
Prints texts per second for each option measured in this one run, the speed-up
against sentence-transformers' default ``encode`` (fp32), and the mean / minimum
cosine similarity of each option's vectors to the fp32 reference.
"""

from __future__ import annotations

import argparse
import os
import sys
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

    from segmentation.represent.embed import embed_texts

    model = SentenceTransformer(default_model_path(), device="cpu")
    options = {
        "sentence-transformers encode, fp32 (reference)":
            lambda batch: model.encode(batch, batch_size=32, normalize_embeddings=True),
        "Segment Studio, torch fp32": SentenceTransformerEmbedder(precision="fp32", backend="torch").embed,
        "Segment Studio, torch bf16": SentenceTransformerEmbedder(precision="bf16", backend="torch").embed,
        "Segment Studio, OpenVINO fp32": SentenceTransformerEmbedder(precision="fp32", backend="openvino").embed,
        "Segment Studio, OpenVINO auto precision (default)": SentenceTransformerEmbedder(backend="openvino").embed,
    }
    duplicated = texts[: len(texts) // 2] * 2
    default = SentenceTransformerEmbedder(backend="openvino")
    for fn in options.values():  # warm-up: loads, exports once, compiles, allocates
        fn(texts[:64])
    best: dict[str, tuple[float, np.ndarray | None]] = {}
    for _ in range(args.repeats):
        for name, fn in options.items():
            vectors, seconds = timed(lambda fn=fn: fn(texts))
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, vectors)
        _, seconds = timed(lambda: embed_texts(duplicated, default, None))
        key = "Segment Studio default, half the texts repeated (each distinct text embedded once)"
        if key not in best or seconds < best[key][0]:
            best[key] = (seconds, None)
    tfidf = TfidfEmbedder(128, 0)
    _, seconds = timed(lambda: tfidf.embed(texts))
    best["TF-IDF + SVD (different space, no agreement figure)"] = (seconds, None)

    t_ref, reference = best["sentence-transformers encode, fp32 (reference)"]
    print(f"{len(texts)} reviews from womens_clothing_reviews, {os.cpu_count()} CPU cores, "
          f"best of {args.repeats} interleaved rounds\n")
    print(f"{'option':<84} {'texts/s':>9} {'speed-up':>9} {'cos mean':>9} {'cos min':>9}")
    for name, (seconds, vectors) in best.items():
        rate = len(texts) / seconds
        agree = cosine(vectors, reference) if vectors is not None else None
        print(f"{name:<84} {rate:9.1f} {t_ref / seconds:8.2f}x "
              f"{(f'{agree.mean():.5f}' if agree is not None else '-'):>9} "
              f"{(f'{agree.min():.5f}' if agree is not None else '-'):>9}")


if __name__ == "__main__":
    main()
