"""Benchmark: does the automatic mode find the known groups of labelled text sets?

For each set in /work/shared/data (or ``--data``) it prints ARI, NMI and
V-measure against the known groups for three methods computed in the same run,
on the same customers and the same MiniLM embeddings (embedded once, kept in the
disk cache):

- auto: ``selection.auto_segment`` (pipeline: MiniLM -> UMAP 5-d -> search);
- BERTopic-style default: MiniLM -> UMAP (5-d, 15 neighbours, cosine,
  min_dist 0) -> HDBSCAN (minimum cluster size 10), as BERTopic does by default
  (seeded here; BERTopic's own UMAP is not);
- k-means told the true number of groups, on the pipeline's cluster space;
- for the sets in ``--fine-sets`` (default banking77, 77 intents of about 1.3%
  each), also the automatic mode with fine-grained rules: segments down to 0.5%
  and up to 40 of them. The default rules (no segment under 3%, at most 12)
  suit marketing segments and cannot express 77 small groups.

Unassigned customers (HDBSCAN's -1) count as a group of their own, which is
what a BERTopic user sees as topic -1.

It also checks the words of the automatic mode's segments (``understand.keyphrases`` and ``persona``):
the share of segments with a generic name ("Segment 3"; target 0), the share whose name contains one of
the segment's own key phrases, and the names themselves; ``--names-only`` skips the three baselines for a
quick run (a few minutes with ``--max-rows 1000``).

``--themes`` compares the theme level instead (``segment.themes``: themes inside the automatic mode's segments)
with BERTopic's defaults, EVoC's defaults and k-means told the true k, all given the same MiniLM embeddings in one
run (BERTopic and EVoC from requirements-bench.txt; BERTopic's UMAP seeded with its default parameters), and
prints the time and peak memory of the theme stage on 100,000 synthetic customers (``--scale-rows``).

Usage::

    .venv/bin/python bench/quality.py [--max-rows 3000] [--sets banking77,bbc_news] [--seed 42] [--names-only]
    .venv/bin/python bench/quality.py --themes --sets banking77,ag_news,bbc_news [--scale-rows 100000]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from segmentation.config import (  # noqa: E402
    DEFAULT_MODEL,
    BlendConfig,
    CleanConfig,
    ReduceConfig,
    RolesConfig,
    RunConfig,
    TextConfig,
)
from segmentation.understand.metrics import external_metrics  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class LabelledSet:
    name: str
    path: str
    text_columns: tuple[str, ...]
    label: str
    sep: str = ","
    numeric: tuple[str, ...] = ()


SETS = (
    LabelledSet("banking77", "banking77/test.csv", ("text",), "category"),
    LabelledSet("ag_news", "ag_news/ag_news_test_labeled.csv", ("title", "description"), "label_name"),
    LabelledSet("bbc_news", "bbc_news/bbc_news.csv", ("text",), "category"),
    LabelledSet("womens_clothing_reviews", "womens_clothing_reviews/Womens Clothing E-Commerce Reviews.csv",
                ("Review Text",), "Department Name", numeric=("Rating",)),
    LabelledSet("amazon_alexa", "amazon_alexa_reviews/amazon_alexa.tsv", ("verified_reviews",), "feedback", sep="\t",
                numeric=("rating",)),
)
GENERIC_NAME = re.compile(r"^Segment \d+$")


def load(spec: LabelledSet, data: Path, max_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """The set's text and label columns, rows without text or label dropped, then a seeded sample."""
    frame = pd.read_csv(data / spec.path, dtype=str, keep_default_na=True, sep=spec.sep, encoding="utf-8-sig")
    frame = frame[list(spec.text_columns) + [spec.label] + list(spec.numeric)]
    for column in spec.numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    has_text = frame[list(spec.text_columns)].fillna("").apply(lambda c: c.str.strip()).ne("").any(axis=1)
    frame = frame[has_text & frame[spec.label].notna()]
    available = len(frame)
    if available > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed).sort_index()
    return frame.reset_index(drop=True), available


def bertopic_style(vectors: np.ndarray, seed: int) -> np.ndarray:
    """BERTopic's default clustering of sentence embeddings: UMAP 5-d cosine, then HDBSCAN(10)."""
    import hdbscan

    from segmentation.represent.reduce import _import_umap

    umap_lib = _import_umap()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # seeding makes UMAP single-threaded
        reduced = umap_lib.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                random_state=seed).fit_transform(vectors)
    return hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom"
                           ).fit_predict(reduced)


def kmeans_true_k(Z: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means with the true number of groups, fitted as the registry's k-means (which caps k at 50)."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(Z)


def row(method: str, labels: np.ndarray, truth: np.ndarray, seconds: float) -> dict[str, object]:
    scores = external_metrics(labels, truth)
    return {"method": method, "segments": int(len(set(labels.tolist()) - {-1})),
            "unassigned": float((labels < 0).mean()), "ari": scores["ari"], "nmi": scores["nmi"],
            "v_measure": scores["v_measure"], "seconds": seconds}


FINE_RULES = {"min_share": 0.005, "max_k": 40}


def name_figures(result) -> dict[str, object]:
    """Generic names (share), names holding one of their segment's key phrases (share), the names themselves."""
    named = [p for p in result.profiles if not p.is_noise]
    generic = [p for p in named if GENERIC_NAME.match(p.name)]
    phrased = [p for p in named if any(k.lower() in p.name.lower() for k in p.key_phrases)]
    return {"generic_names": len(generic) / max(len(named), 1), "names_with_phrase": len(phrased) / max(len(named), 1),
            "distinct": len({p.name for p in named}) == len(named), "names": [p.name for p in named],
            "portraits": [p.portrait for p in named]}


def base_config(spec, seed: int) -> RunConfig:
    """The run settings every quality measure starts from: the set's text embedded with the default model, its
    label as the known groups, UMAP to 5 dimensions, seeded."""
    roles = [(c, "text") for c in spec.text_columns] + [(spec.label, "label")] + [(c, "numeric") for c in spec.numeric]
    return RunConfig(roles=RolesConfig(tuple(roles)), clean=CleanConfig(drop_duplicates=False),
                     text=TextConfig(columns=spec.text_columns, model=DEFAULT_MODEL), blend=BlendConfig(1.0),
                     reduce=ReduceConfig(method="umap", n_components=5, n_neighbors=15, map_method="pca"),
                     random_state=seed)


def bench_set(spec: LabelledSet, data: Path, max_rows: int, seed: int, resamples: int, fine: bool,
              names_only: bool = False) -> pd.DataFrame:
    from segmentation.choose.search import auto_segment
    from segmentation.pipeline import run

    table, available = load(spec, data, max_rows, seed)
    truth_k = table[spec.label].nunique()
    sampled = f"a seeded sample of {len(table):,} of {available:,} rows" if available > len(table) else \
        f"all {len(table):,} rows"
    print(f"\n== {spec.name}: {sampled}, {truth_k} known groups in {spec.label!r}", flush=True)
    base = base_config(spec, seed)

    start = time.perf_counter()
    first = run(table, base)  # embeds (disk-cached) and reduces once; the rest reuse it
    prepared = time.perf_counter() - start
    print(f"   embedded and reduced in {prepared:.0f} s", flush=True)
    truth = first.table[spec.label].astype(str).to_numpy()

    start = time.perf_counter()
    result, board = auto_segment(table, base, stability_resamples=resamples)
    auto_seconds = time.perf_counter() - start
    print(f"   auto: {board.reason}", flush=True)
    words = name_figures(result)
    print(f"   names: {words['generic_names']:.0%} generic, {words['names_with_phrase']:.0%} hold a key phrase of "
          f"their segment, {'all distinct' if words['distinct'] else 'SOME REPEATED'}", flush=True)
    for name, portrait in zip(words["names"], words["portraits"]):
        print(f"     - {name}: {portrait}", flush=True)
    if names_only:
        out = pd.DataFrame([row("auto", result.labels, truth, auto_seconds)])
        out.insert(0, "set", spec.name)
        out["rows"] = len(truth)
        out["auto_choice"] = board.recommended_row["label"] if board.recommended is not None else "none"
        out["generic_names"], out["names_with_phrase"] = words["generic_names"], words["names_with_phrase"]
        return out

    extra = []
    if fine:
        start = time.perf_counter()
        fine_result, fine_board = auto_segment(table, base, stability_resamples=resamples,
                                               min_share=FINE_RULES["min_share"],
                                               max_k=min(FINE_RULES["max_k"], len(table) // 20))
        print(f"   auto, fine rules: {fine_board.reason}", flush=True)
        extra.append(row("auto, fine rules", fine_result.labels, truth, time.perf_counter() - start))

    start = time.perf_counter()
    topic_labels = bertopic_style(first.features, seed)
    topic_seconds = time.perf_counter() - start

    start = time.perf_counter()
    kmeans_labels = kmeans_true_k(first.embedding, truth_k, seed)
    kmeans_seconds = time.perf_counter() - start

    rows = [row("auto", result.labels, truth, auto_seconds),
            row("BERTopic-style default", topic_labels, truth, topic_seconds),
            row(f"k-means, true k={truth_k}", kmeans_labels, truth, kmeans_seconds), *extra]
    out = pd.DataFrame(rows)
    out.insert(0, "set", spec.name)
    out["rows"] = len(truth)
    out["auto_choice"] = board.recommended_row["label"] if board.recommended is not None else "none"
    out["generic_names"] = [words["generic_names"]] + [np.nan] * (len(out) - 1)
    out["names_with_phrase"] = [words["names_with_phrase"]] + [np.nan] * (len(out) - 1)
    return out


def bertopic_defaults(texts: list[str], vectors: np.ndarray, seed: int) -> np.ndarray:
    """BERTopic with its default settings, given the embeddings (its UMAP seeded, same parameters)."""
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False,
                      random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        topics, _ = BERTopic(umap_model=umap_model).fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


def evoc_defaults(vectors: np.ndarray, seed: int) -> np.ndarray:
    """EVoC with its default settings (its chosen layer), seeded."""
    import evoc

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        return np.asarray(evoc.EVoC(random_state=seed).fit_predict(vectors))


def theme_set(spec: LabelledSet, data: Path, max_rows: int, seed: int, resamples: int) -> pd.DataFrame:
    """Theme ARI/NMI and counts on one labelled set: ours vs BERTopic, EVoC and k-means(true k), same embeddings."""
    from segmentation.choose.search import auto_segment
    from segmentation.pipeline import compute_themes, run

    table, available = load(spec, data, max_rows, seed)
    truth_k = table[spec.label].nunique()
    print(f"\n== {spec.name}: {len(table):,} of {available:,} rows, {truth_k} known groups", flush=True)
    base = base_config(spec, seed)
    first = run(table, base)
    truth = first.table[spec.label].astype(str).to_numpy()
    result, board = auto_segment(table, base, stability_resamples=resamples)
    print(f"   segments: {board.reason}", flush=True)
    start = time.perf_counter()
    themes = compute_themes(result.table, result.roles, result.texts, result.embedding, result.labels,
                            result.row_ids, result.config)
    theme_seconds = time.perf_counter() - start
    rows = [row("ours: segments", result.labels, truth, float("nan")),
            row(f"ours: themes (detail {result.config.themes.detail:g})", themes["theme_labels"], truth,
                theme_seconds)]
    texts = [str(t) for t in first.texts]
    for method, fit in (("BERTopic defaults", lambda: bertopic_defaults(texts, first.features, seed)),
                        ("EVoC defaults", lambda: evoc_defaults(first.features, seed)),
                        (f"k-means, true k={truth_k}", lambda: kmeans_true_k(first.embedding, truth_k, seed))):
        start = time.perf_counter()
        try:
            labels = fit()
        except ImportError as exc:
            print(f"   {method}: not installed ({exc}); pip install -r requirements-bench.txt", flush=True)
            continue
        rows.append(row(method, labels, truth, time.perf_counter() - start))
    names = [p.name for p in themes["theme_profiles"]]
    print(f"   {len(names)} theme names, e.g. {'; '.join(names[:8])}", flush=True)
    out = pd.DataFrame(rows)
    out.insert(0, "set", spec.name)
    return out


def theme_scale(n_rows: int, seed: int) -> None:
    """Time (wall and CPU) and peak memory of ``build_themes`` on ``n_rows`` synthetic customers in a 5-d space."""
    import resource
    import tracemalloc

    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs

    from segmentation.config import ThemeConfig
    from segmentation.segment.themes import build_themes

    Z, _ = make_blobs(n_rows, n_features=5, centers=60, cluster_std=0.6, random_state=seed)
    segments = KMeans(8, n_init=1, random_state=seed).fit_predict(Z)
    print(f"\n== theme stage on {n_rows:,} synthetic customers (5-d, 8 segments)")
    for detail in (0.0, 0.5, 1.0):
        tracemalloc.start()
        wall, cpu = time.perf_counter(), time.process_time()
        found = build_themes(Z, segments, ThemeConfig(detail=detail), seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"   detail {detail:g}: {found.n_themes} themes (smallest {found.min_size}), {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU, peak {peak / 1e6:.0f} MB allocated (process peak RSS {rss:.0f} MB)", flush=True)


def themes_main(chosen: list[LabelledSet], args: argparse.Namespace) -> int:
    print(f"Theme level vs known labels: up to {args.max_rows:,} rows per set (seed {args.seed}); MiniLM "
          "embeddings given to every method; unassigned customers (BERTopic's topic -1) count as one group.")
    theme_scale(args.scale_rows, args.seed)
    results = pd.concat([theme_set(s, args.data, args.max_rows, args.seed, args.resamples) for s in chosen],
                        ignore_index=True)
    print("\n" + results.to_string(index=False, na_rep="", formatters={
        "unassigned": "{:.0%}".format, "ari": "{:.3f}".format, "nmi": "{:.3f}".format,
        "v_measure": "{:.3f}".format, "seconds": "{:.1f}".format}))
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.csv, index=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding the labelled sets")
    parser.add_argument("--sets", default=",".join(s.name for s in SETS), help="comma-separated set names")
    parser.add_argument("--max-rows", type=int, default=3000, help="seeded sample per set (default 3000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--resamples", type=int, default=3, help="stability re-runs per candidate (default 3)")
    parser.add_argument("--fine-sets", default="banking77",
                        help="sets also run with fine-grained rules (segments down to 0.5%%, up to 40)")
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file (e.g. bench/out/q.csv)")
    parser.add_argument("--names-only", action="store_true",
                        help="only the automatic mode and its names (skip the BERTopic-style and k-means baselines)")
    parser.add_argument("--themes", action="store_true",
                        help="compare the theme level with BERTopic, EVoC and k-means(true k) instead")
    parser.add_argument("--scale-rows", type=int, default=100_000,
                        help="synthetic customers for the theme stage's time and memory (with --themes)")
    args = parser.parse_args(argv)
    chosen = [s for s in SETS if s.name in args.sets.split(",")]
    if not chosen:
        parser.error(f"--sets must name some of {', '.join(s.name for s in SETS)}")
    if args.themes:
        return themes_main(chosen, args)
    print(f"Segment Studio quality benchmark: up to {args.max_rows:,} rows per set (seeded sample, seed "
          f"{args.seed}); MiniLM embeddings; unassigned customers count as one group.")
    started = time.perf_counter()
    fine = set(args.fine_sets.split(","))
    results = pd.concat([bench_set(s, args.data, args.max_rows, args.seed, args.resamples,
                                   s.name in fine and not args.names_only, args.names_only)
                         for s in chosen], ignore_index=True)
    def share(value: float) -> str:
        return "" if pd.isna(value) else f"{value:.0%}"

    print("\n" + results.drop(columns=["auto_choice"]).to_string(
        index=False, na_rep="", formatters={"unassigned": share, "ari": "{:.3f}".format, "nmi": "{:.3f}".format,
                                            "v_measure": "{:.3f}".format, "seconds": "{:.1f}".format,
                                            "generic_names": share, "names_with_phrase": share}))
    print("\nAutomatic choices: " + "; ".join(f"{r.set}: {r.auto_choice}" for r in
                                                results[results["method"] == "auto"].itertuples()))
    verdicts = []
    for name, group in results.groupby("set", sort=False) if not args.names_only else ():
        auto = group[group["method"] == "auto"].iloc[0]
        topic = group[group["method"] == "BERTopic-style default"].iloc[0]
        wins = [m for m in ("ari", "nmi", "v_measure") if auto[m] > topic[m]]
        verdict = f"{name}: auto beats BERTopic-style on {len(wins)}/3 ({', '.join(wins) or 'none'})"
        fine_rows = group[group["method"] == "auto, fine rules"]
        if len(fine_rows):
            fine_wins = [m for m in ("ari", "nmi", "v_measure") if fine_rows.iloc[0][m] > topic[m]]
            verdict += f"; with fine rules on {len(fine_wins)}/3 ({', '.join(fine_wins) or 'none'})"
        verdicts.append(verdict)
    print("\n".join(verdicts))
    print(f"Total {time.perf_counter() - started:.0f} s.")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
