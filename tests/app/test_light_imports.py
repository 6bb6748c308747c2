"""The frame and the Home page must not wait for pandas, scikit-learn or torch (bench/app.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.lazy import lazy

ROOT = Path(__file__).resolve().parents[2]


def test_the_frame_and_home_page_modules_load_without_the_heavy_libraries():
    code = ("import sys\n"
            "import ui.state, ui.frame, ui.format, ui.loading, ui.cache, ui.workspace_sync\n"
            "import segmentation.store.workspace\n"
            "heavy = ('pandas', 'sklearn', 'torch', 'sentence_transformers', 'umap', 'openvino')\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_lazy_module_behaves_like_the_module_once_used():
    json_module = lazy("json")
    assert json_module.dumps({"a": 1}) == '{"a": 1}'
    assert "json" in repr(json_module)
    with pytest.raises(ModuleNotFoundError, match="no_such_module_here"):
        _ = lazy("no_such_module_here").anything
