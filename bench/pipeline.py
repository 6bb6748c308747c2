"""End-to-end pipeline timings against a BERTopic-style reference, measured in one run.

Run by hand:
    .venv/bin/python bench/pipeline.py --rows 10000
    .venv/bin/python bench/pipeline.py --rows 100000 --no-reference-rerun --reference-rows 10000
        # 100,000 distinct texts; the reference estimated from its 10,000-row run (it would take over 45 min)
    .venv/bin/python bench/pipeline.py --rows 100000 --texts resampled   # real reviews, resampled with a seed
    add --umap-check to also report ARI of the segments, UMAP fitted on a sample vs on every row

For N customers with one text column it prints, per stage, seconds and the process's peak
memory. The customers are the clothing reviews' structured columns resampled with a
seed; their text is, by default, N distinct texts (``--texts distinct``: two sentences of
one shared corpus each: clothing reviews, Alexa reviews, banking77, AG News, BBC News;
no duplicate for the embedding cache to save), or the reviews themselves (``--texts
resampled``: duplicates above 22,641 rows). Measured:
  - ours, cold (empty embedding cache and stage cache, in a fresh workspace)
  - ours, warm after a new clustering setting
  - ours, warm after a new reduction setting
  - the reference: sentence-transformers' default encode -> UMAP (5-d, 15 neighbours,
    cosine) -> HDBSCAN, as a BERTopic-style user runs it, and a re-run of it with a
    new clustering setting (which re-does everything, as such scripts do)
and the ratios between them. ``--skip-reference`` leaves the reference out; ``--reference-rows M`` runs it on the
first M customers and scales its times linearly to N (embedding is linear; UMAP and HDBSCAN grow a little faster,
so the estimate favours the reference), said on the printout.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
# a fresh workspace: "cold" means nothing cached (--workspace reuses one, for --only-umap-check)
_workspace = sys.argv[sys.argv.index("--workspace") + 1] if "--workspace" in sys.argv[:-1] else None
os.environ["SEGMENT_STUDIO_HOME"] = _workspace or tempfile.mkdtemp(prefix="bench-pipeline-")

from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RunConfig, TextConfig  # noqa: E402
from segmentation.pipeline import StageCache, run  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DATA = SHARED / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _corpora() -> dict[str, list[str]]:
    """Distinct sentences (4 to 40 words) of each shared text corpus."""
    sources = {
        "womens_clothing_reviews": pd.read_csv(DATA)["Review Text"],
        "amazon_alexa": pd.read_csv(SHARED / "amazon_alexa_reviews" / "amazon_alexa.tsv", sep="\t",
                                    encoding="utf-8-sig")["verified_reviews"],
        "banking77": pd.read_csv(SHARED / "banking77" / "train.csv")["text"],
        "ag_news": pd.read_csv(SHARED / "ag_news" / "ag_news_test_labeled.csv")["description"],
        "bbc_news": pd.read_csv(SHARED / "bbc_news" / "bbc_news.csv")["text"],
    }
    corpora = {}
    for name, texts in sources.items():
        sentences = (s.strip() for t in texts.dropna().astype(str) for s in _SENTENCE_END.split(t.replace("\n", " ")))
        corpora[name] = sorted({s for s in sentences if 4 <= len(s.split()) <= 40})
    return corpora


def distinct_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` different texts, each two sentences of one corpus (seeded): real language, no duplicate to cache.

    A customer's corpus is drawn in proportion to the corpus's sentences, so the texts hold the corpora's topics
    (fashion, smart speakers, banking, news) rather than noise; pairs that repeat are drawn again."""
    corpora = _corpora()
    names = sorted(corpora)
    sizes = np.array([len(corpora[c]) for c in names], dtype=float)
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    texts: list[str] = []
    while len(texts) < n:
        need = n - len(texts)
        picks = rng.choice(len(names), size=need, p=sizes / sizes.sum())
        for corpus in picks:
            pool = corpora[names[corpus]]
            first, second = rng.choice(len(pool), size=2, replace=False)
            text = f"{pool[first]} {pool[second]}"
            if text not in seen:
                seen.add(text)
                texts.append(text)
    return texts


def customers(n: int, seed: int = 0, distinct: bool = True) -> pd.DataFrame:
    """``n`` customers: the clothing reviews' structured columns resampled with ``seed``, and as "Review Text"
    either ``n`` distinct texts (``distinct_texts``) or the reviews themselves (resampled: duplicates above
    22,641, which the embedding cache embeds once)."""
    table = pd.read_csv(DATA).dropna(subset=["Review Text"])
    table = table.sample(n=n, replace=n > len(table), random_state=seed).reset_index(drop=True)
    table = table.drop(columns=[table.columns[0]])
    if distinct:
        table["Review Text"] = distinct_texts(n, seed)
    table.insert(0, "customer_id", [f"C{i:07d}" for i in range(n)])
    return table


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(table: pd.DataFrame) -> list[tuple[str, float, dict]]:
    base = RunConfig(text=TextConfig(columns=("Review Text",)), blend=BlendConfig(0.7),
                     reduce=ReduceConfig(method="umap", n_components=5, n_neighbors=15),
                     cluster=ClusterConfig.make("hdbscan", min_cluster_size=max(10, len(table) // 200)))
    cache = StageCache()
    rows = []
    for label, config in [
        ("ours cold", base),
        ("ours warm, new clustering", base.replace(cluster=ClusterConfig.make("kmeans", n_clusters=8))),
        ("ours warm, new reduction", base.replace(reduce=ReduceConfig(n_neighbors=30))),
    ]:
        start = time.perf_counter()
        result = run(table, config, cache=cache)
        rows.append((label, time.perf_counter() - start, dict(result.timings), result.labels))
    return rows


def umap_sampling_agreement(table: pd.DataFrame) -> None:
    """ARI of the final segments with UMAP fitted on a sample (the default above
    ``sample_threshold`` rows) against UMAP fitted on every row; same embeddings."""
    from sklearn.metrics import adjusted_rand_score

    text = TextConfig(columns=("Review Text",))
    sampled_reduce = ReduceConfig(method="umap", n_components=5, n_neighbors=15, map_method="pca")
    full_reduce = ReduceConfig(method="umap", n_components=5, n_neighbors=15, map_method="pca",
                               sample_threshold=max(len(table), 500))
    if len(table) <= sampled_reduce.sample_threshold:
        print(f"UMAP sampling: {len(table):,} rows is at or under the {sampled_reduce.sample_threshold:,}-row "
              "threshold, so every row is fitted; nothing to compare")
        return
    cache = StageCache()
    clusterings = {"HDBSCAN": ClusterConfig.make("hdbscan", min_cluster_size=max(10, len(table) // 200)),
                   "k-means k=8": ClusterConfig.make("kmeans", n_clusters=8)}
    print(f"\nUMAP fitted on a {sampled_reduce.sample_threshold:,}-row sample vs on all {len(table):,} rows "
          "(baseline: two full fits that differ only in the seed):")
    for name, cluster in clusterings.items():
        labels, seconds = {}, {}
        for how, reduce, seed in (("sample", sampled_reduce, 42), ("full", full_reduce, 42),
                                  ("full, seed 7", full_reduce, 7)):
            result = run(table, RunConfig(text=text, blend=BlendConfig(0.7), reduce=reduce, cluster=cluster,
                                          random_state=seed), cache=cache)
            labels[how], seconds[how] = result.labels, result.timings.get("reduce", 0.0)
        print(f"  {name:<12} ARI sample vs full {adjusted_rand_score(labels['sample'], labels['full']):.3f}; "
              f"full vs full, seed 7 {adjusted_rand_score(labels['full'], labels['full, seed 7']):.3f}"
              + (f"   (reduce: sample {seconds['sample']:.1f} s, full {seconds['full']:.1f} s)"
                 if name == "HDBSCAN" else ""))


def reference(table: pd.DataFrame, rerun: bool = True) -> list[tuple[str, float, dict]]:
    import hdbscan
    import umap
    from sentence_transformers import SentenceTransformer

    from segmentation.represent.embed import default_model_path

    texts = table["Review Text"].astype(str).tolist()
    rows = []
    runs = [("reference cold", max(10, len(table) // 200)), ("reference re-run, new clustering", 50)]
    for label, min_size in runs[:2 if rerun else 1]:
        timings = {}
        start = time.perf_counter()
        model = SentenceTransformer(default_model_path(), device="cpu")
        vectors = model.encode(texts, batch_size=32)
        timings["embed"] = time.perf_counter() - start
        t = time.perf_counter()
        reduced = umap.UMAP(n_components=5, n_neighbors=15, metric="cosine", min_dist=0.0,
                            random_state=42).fit_transform(vectors)
        timings["reduce"] = time.perf_counter() - t
        t = time.perf_counter()
        labels = hdbscan.HDBSCAN(min_cluster_size=min_size).fit_predict(reduced)
        timings["cluster"] = time.perf_counter() - t
        rows.append((label, time.perf_counter() - start, timings, labels))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--no-reference-rerun", action="store_true",
                        help="run the reference once; its re-run with a new clustering setting re-does the same "
                             "work, so the cold time stands in for it (saves half an hour at 100,000 rows)")
    parser.add_argument("--reference-rows", type=int, default=None,
                        help="run the reference on this many customers and scale its times linearly to --rows")
    parser.add_argument("--texts", choices=["distinct", "resampled"], default="distinct",
                        help="distinct: every customer a different text (default); resampled: the clothing reviews")
    parser.add_argument("--workspace", help="reuse this workspace (its embedding cache) instead of a fresh one")
    parser.add_argument("--only-umap-check", action="store_true", help="skip the timed runs; implies --umap-check")
    parser.add_argument("--umap-check", action="store_true",
                        help="also fit UMAP on every row and report the ARI of the segments against the sampled fit")
    args = parser.parse_args()
    table = customers(args.rows, distinct=args.texts == "distinct")
    if args.only_umap_check:
        umap_sampling_agreement(table)
        return
    texts = table["Review Text"]
    print(f"{args.rows:,} customers with one text column ({texts.nunique():,} distinct texts, "
          f"{texts.str.split().str.len().mean():.0f} words on average); {os.cpu_count()} CPU cores; "
          f"workspace {os.environ['SEGMENT_STUDIO_HOME']}\n")
    results = ours(table)
    print(f"peak memory after ours: {peak_mb():,.0f} MB")
    if not args.skip_reference:
        measured = min(args.reference_rows or args.rows, args.rows)
        found = reference(table.iloc[:measured], rerun=not args.no_reference_rerun)
        if measured < args.rows:  # an estimate: times scaled linearly, labels of a subset (no ARI)
            scale = args.rows / measured
            print(f"reference measured on {measured:,} customers "
                  f"({', '.join(f'{label} {seconds:.1f} s' for label, seconds, _, _ in found)}); "
                  f"times below are scaled by {scale:.0f}x: an ESTIMATE")
            found = [(f"{label} (estimated)", seconds * scale, {k: v * scale for k, v in timings.items()}, None)
                     for label, seconds, timings, _ in found]
        results += found
        print(f"peak memory after reference: {peak_mb():,.0f} MB")
    print(f"\n{'run':<36} {'total s':>9}  stages (s)")
    for label, seconds, timings, _ in results:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
        print(f"{label:<36} {seconds:9.1f}  {stages}")
    by = {label.replace(" (estimated)", ""): seconds for label, seconds, _, _ in results}
    if "reference cold" in by:
        print(f"\ncold: reference / ours = {by['reference cold'] / by['ours cold']:.2f}x")
        rerun = by.get("reference re-run, new clustering")
        note = "" if rerun else " (reference re-run not run: its cold time stands in, same work)"
        rerun = rerun or by["reference cold"]
        print(f"warm clustering change: reference re-run / ours = "
              f"{rerun / by['ours warm, new clustering']:.1f}x (ours {by['ours warm, new clustering']:.2f} s){note}")
    from sklearn.metrics import adjusted_rand_score

    labels = {label: lab for label, _, _, lab in results}
    if labels.get("reference cold") is not None:
        ari = adjusted_rand_score(labels["ours cold"], labels["reference cold"])
        print(f"ARI ours cold vs reference cold: {ari:.3f}  (different pipelines: ours blends text with "
              "the structured columns; a description, not a target)")
    if args.umap_check:
        umap_sampling_agreement(table)


if __name__ == "__main__":
    main()
