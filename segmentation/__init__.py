"""Segment Studio's library: load customers, represent them, segment them, explain and export.

The library never imports streamlit; the app and the CLI are thin layers over it. The names below are the public
API, in the order of the work::

    from segmentation import load_table, default_config, run, apply_curation, write_run

    dataset = load_table("customers.csv")
    result = run(dataset.table, default_config(dataset.table), digest=dataset.digest)
    write_run(result, "out/")

Each name is imported from its stage module on first use, so ``import segmentation`` stays light (the app's first
page does not load pandas or scikit-learn).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    # errors
    "SegmentationError": "segmentation.errors", "DataError": "segmentation.errors",
    "ConfigError": "segmentation.errors", "WorkspaceError": "segmentation.errors",
    # ingest
    "LoadOptions": "segmentation.ingest.read", "Dataset": "segmentation.ingest.read",
    "load_table": "segmentation.ingest.read",
    "infer_roles": "segmentation.ingest.roles", "resolve_roles": "segmentation.ingest.roles",
    "clean_table": "segmentation.ingest.clean",
    "detect_transactions": "segmentation.ingest.orders", "layout_from_mapping": "segmentation.ingest.orders",
    "rollup_dataset": "segmentation.ingest.orders",
    # configure and run
    "RunConfig": "segmentation.config",
    "SegmentationResult": "segmentation.pipeline", "default_config": "segmentation.pipeline",
    "run": "segmentation.pipeline",
    "ThemeConfig": "segmentation.config", "build_themes": "segmentation.segment.themes",
    # choose
    "search": "segmentation.choose.search", "stability": "segmentation.choose.stability",
    "compare_runs": "segmentation.choose.compare",
    "apply_curation": "segmentation.choose.curate", "apply_descriptions": "segmentation.choose.curate",
    # act
    "labelled_customers": "segmentation.act.tables", "write_run": "segmentation.act.bundle",
    "build_report": "segmentation.act.report",
    "SegmentModel": "segmentation.act.assign", "save_model": "segmentation.act.assign",
    "load_model": "segmentation.act.assign", "movement": "segmentation.act.movement",
    # store
    "Workspace": "segmentation.store.workspace",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'segmentation' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
