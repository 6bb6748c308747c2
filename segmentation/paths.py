"""Where Segment Studio keeps its files on this machine (nothing ever leaves it)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "SEGMENT_STUDIO_HOME"


def home_dir(override: str | os.PathLike | None = None) -> Path:
    """The workspace folder: ``override``, else ``$SEGMENT_STUDIO_HOME``, else ``~/.segment-studio``."""
    chosen = override or os.environ.get(HOME_ENV) or Path.home() / ".segment-studio"
    path = Path(chosen).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """Caches shared by every project (embeddings by content)."""
    path = home_dir(override) / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


DEMO_DATA = Path(__file__).resolve().parents[1] / "assets" / "demo_customers.csv"
"""The demo customers shipped with the app (made by ``assets/make_demo_data.py``; "Use demo data")."""
