"""Test-wide environment defaults.

`make test` sets these variables itself; this file sets the same defaults (without
overriding anything already set) so that a plain `.venv/bin/python -m pytest` behaves
the same way. It must run before anything imports numba, transformers or the library,
hence the module-level code ahead of every other import.
"""

import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR / "numba"))
os.environ.setdefault("PYTHONHASHSEED", "0")  # inherited by subprocesses (e.g. the e2e app server)
# no background warm-up in every AppTest run and e2e server (segmentation/warmup.py has its own tests)
os.environ.setdefault("SEGMENT_STUDIO_WARMUP", "0")
if "SEGMENT_STUDIO_HOME" not in os.environ:
    # A fresh workspace per plain pytest run; `make test` wipes the whole parent first.
    _workspace_parent = CACHE_DIR / "test-workspace"
    _workspace_parent.mkdir(parents=True, exist_ok=True)
    os.environ["SEGMENT_STUDIO_HOME"] = tempfile.mkdtemp(prefix="pytest-", dir=_workspace_parent)

Path(os.environ["NUMBA_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
Path(os.environ["SEGMENT_STUDIO_HOME"]).mkdir(parents=True, exist_ok=True)
