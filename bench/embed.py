"""Embedding throughput and agreement with the default fp32 embeddings, per embedding option.

Run by hand:  .venv/bin/python bench/embed.py [--rows 2000]
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

from segmentation.embeddings import SentenceTransformerEmbedder, TfidfEmbedder, default_model_path  # noqa: E402

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
    args = parser.parse_args()
    texts = reviews(args.rows)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(default_model_path(), device="cpu")
    model.encode(texts[:64])  # warm-up: first call allocates
    reference, t_ref = timed(lambda: model.encode(texts, batch_size=32, normalize_embeddings=True))
    rows = [("sentence-transformers encode, fp32 (reference)", t_ref, reference)]

    ours = SentenceTransformerEmbedder(precision="fp32")
    vectors, seconds = timed(lambda: ours.embed(texts))
    rows.append(("Segment Studio, fp32", seconds, vectors))
    fast = SentenceTransformerEmbedder(precision="bf16")
    fast.embed(texts[:64])
    vectors, seconds = timed(lambda: fast.embed(texts))
    rows.append(("Segment Studio, bf16 (default)", seconds, vectors))
    duplicated = texts[: len(texts) // 2] * 2
    vectors, seconds = timed(lambda: __import__("segmentation.embeddings", fromlist=["embed_texts"]).embed_texts(
        duplicated, fast, None))
    rows.append(("Segment Studio, bf16, half the texts repeated (each distinct text once)", seconds, None))
    tfidf = TfidfEmbedder(128, 0)
    vectors, seconds = timed(lambda: tfidf.embed(texts))
    rows.append(("TF-IDF + SVD (different space, no agreement figure)", seconds, None))

    print(f"{len(texts)} reviews from womens_clothing_reviews, {os.cpu_count()} CPU cores\n")
    print(f"{'option':<78} {'texts/s':>9} {'speed-up':>9} {'cos mean':>9} {'cos min':>9}")
    for name, seconds, vectors in rows:
        rate = len(texts) / seconds
        agree = cosine(vectors, reference) if vectors is not None else None
        print(f"{name:<78} {rate:9.1f} {t_ref / seconds:8.2f}x "
              f"{(f'{agree.mean():.5f}' if agree is not None else '-'):>9} "
              f"{(f'{agree.min():.5f}' if agree is not None else '-'):>9}")


if __name__ == "__main__":
    main()
