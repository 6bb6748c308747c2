import pkgutil
import subprocess
import sys
from pathlib import Path

import segmentation

ROOT = Path(__file__).resolve().parents[2]


def test_the_library_never_imports_streamlit():
    modules = [m.name for m in pkgutil.iter_modules(segmentation.__path__, "segmentation.")
               if not m.name.endswith("__main__")]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print('streamlit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", out.stderr
    assert len(modules) >= 15
