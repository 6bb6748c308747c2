"""The library is a package pip can install (a Ray worker does `pip install` of this repository)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_every_library_module_and_the_requirements(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "segmentation", source / "segmentation", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
                    "-w", str(tmp_path / "wheel")], check=True, capture_output=True, timeout=300)
    wheel = zipfile.ZipFile(next((tmp_path / "wheel").glob("segment_studio-*.whl")))
    packed = {name for name in wheel.namelist() if name.startswith("segmentation/")}
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "segmentation").rglob("*.py")}
    assert modules <= packed, f"missing from the wheel: {sorted(modules - packed)}"
    metadata = next(wheel.read(n).decode() for n in wheel.namelist() if n.endswith("METADATA"))
    assert "Requires-Dist: torch==2.13.0" in metadata  # the CPU build, as in requirements.txt
