"""How a run was made, in plain words: the rows of the report's appendix, enough to repeat or audit the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmentation.common import library_versions
from segmentation.errors import SegmentationError

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult


def _columns_by_role(result: SegmentationResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for column, role in result.roles.items():
        out.setdefault(role, []).append(str(column))
    return out


def method_rows(result: SegmentationResult) -> list[tuple[str, str]]:
    """(topic, sentence) pairs saying how ``result`` was made: data, columns by role, cleaning, features, text,
    cluster space, map, algorithm and settings, seed, time taken and software versions."""
    from segmentation.segment.cluster import CLUSTERERS, resolve_params

    config = result.config
    roles = _columns_by_role(result)
    rows = [("Customers segmented", f"{len(result.labels):,}"),
            ("Data fingerprint", f"sha256 {result.data_digest}")]
    for role, title in (("numeric", "Numeric columns used"), ("categorical", "Categorical columns used"),
                        ("text", "Text columns"), ("id", "Customer id"), ("pii", "Personal data (left out)"),
                        ("label", "Known groups (used only to check)"),
                        ("describe", "Describing segments (not used to find them)"),
                        ("outcome", "Known outcomes (rates per segment, not used to find them)"),
                        ("date", "Dates (not used)"),
                        ("ignore", "Ignored")):
        if roles.get(role):
            rows.append((title, ", ".join(roles[role])))
    clean = config.clean
    cleaning = [f"empty numbers filled with the {clean.impute_numeric}" if clean.impute_numeric != "zero"
                else "empty numbers filled with 0",
                "empty categories kept as their own value" if clean.impute_categorical == "missing"
                else "empty categories filled with the most frequent value"]
    if clean.drop_duplicates:
        cleaning.append("duplicate customers dropped")
    if clean.clip_quantile > 0:
        cleaning.append(f"numbers clipped to the {clean.clip_quantile:.1%}–{1 - clean.clip_quantile:.1%} range")
    if clean.log_skewed:
        cleaning.append("strongly skewed amounts log-transformed")
    rows.append(("Cleaning", "; ".join(cleaning) + "."))
    if result.notes:
        rows.append(("What cleaning changed", " ".join(result.notes)))
    rows.append(("Structured features", f"numbers scaled ({config.features.scaling}); the "
                                        f"{config.features.max_categories} most frequent values of each category "
                                        "encoded, the rest grouped"))
    if config.text.columns and config.blend.text_weight > 0:
        model = "TF-IDF word statistics" if config.text.model.lower() == "tfidf" else \
            f"the sentence-embedding model {config.text.model}"
        rows.append(("Text", f"{', '.join(config.text.columns)} read with {model}; text carries "
                             f"{config.blend.text_weight:.0%} of the similarity between customers"
                             + ("; e-mails, phone numbers and similar were masked first" if config.text.mask_pii
                                else "")))
    reduce = config.reduce
    if reduce.method == "umap":
        space = (f"UMAP to {reduce.n_components} dimensions ({reduce.n_neighbors} neighbours, minimum distance "
                 f"{reduce.min_dist:g})")
    elif reduce.method == "pca":
        space = f"principal components (PCA) to {reduce.n_components} dimensions"
    else:
        space = "no reduction (segments found on all features)"
    rows.append(("Cluster space", space))
    rows.append(("Map", "UMAP in two dimensions" if reduce.map_method == "umap" else "the first two principal "
                 "components (PCA)"))
    spec = CLUSTERERS.get(config.cluster.algorithm)
    try:
        params = resolve_params(config.cluster)
    except SegmentationError:
        params = config.cluster.as_dict()
    label = spec.label if spec else config.cluster.algorithm
    described = f"{label}: {spec.description}" if spec else label
    if params:
        described += " Settings: " + ", ".join(f"{k} = {v}" for k, v in params.items()) + "."
    rows.append(("Segmentation", described))
    rows.append(("Random seed", f"{config.random_state} (same data and settings give the same segments)"))
    if result.timings:
        rows.append(("Time taken", ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())))
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items() if v)
    rows.append(("Software", f"Segment Studio {result.version}" + (f"; {versions}" if versions else "")))
    return rows
