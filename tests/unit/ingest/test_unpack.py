"""Compressed files are inflated under one budget: a bomb is refused early, costing memory like a real file."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import APP_MAX_UPLOAD_BYTES
from segmentation.errors import DataError
from segmentation.ingest import unpack
from segmentation.ingest.read import load_table

ROOT = Path(__file__).resolve().parents[3]

CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from segmentation.errors import DataError
from segmentation.ingest.read import load_table
try:
    load_table(sys.argv[2])
    print("loaded")
except DataError as error:
    print(error)
try:  # this process's own peak: ru_maxrss would also count the parent's memory at the fork
    status = open("/proc/self/status").read()
    print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def gzip_of_zeros(path: Path, inflated_gb: float) -> None:
    """A one-column .csv.gz of ASCII zeros, written as repeated gzip members so the test never holds it whole."""
    block = gzip.compress(b"0" * (16 * 1024 * 1024), compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(b"value\n"))
        for _ in range(int(inflated_gb * 1000**3 / (16 * 1024 * 1024))):
            out.write(block)


def test_budget_rule() -> None:
    absolute = unpack.absolute_budget()
    assert 0 < absolute <= APP_MAX_UPLOAD_BYTES * unpack.TYPICAL_RATIO
    assert absolute <= unpack.available_memory() // unpack.MEMORY_SHARE
    assert unpack.decompression_budget(1_000) == min(unpack.FLOOR, absolute)  # small files: the floor
    assert unpack.decompression_budget(10 * 1000**2) == min(unpack.RATIO * 10 * 1000**2, absolute)
    assert unpack.decompression_budget(10**12) == absolute


def test_gzip_bomb_is_refused_with_memory_bounded_by_the_budget(tmp_path: Path) -> None:
    bomb = tmp_path / "zeros.csv.gz"
    gzip_of_zeros(bomb, 2.0)
    assert bomb.stat().st_size < 3 * 1000**2
    child = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(bomb)], capture_output=True, text=True,
                           timeout=300, check=True)
    message, peak_mb = child.stdout.strip().rsplit("\n", 1)
    assert "'zeros.csv.gz' was refused: the gzip file expands more than 100 times" in message
    assert "decompression bomb" in message and "Decompress it yourself" in message
    assert int(peak_mb) < 600, f"refusing a 2 MB gzip bomb peaked at {peak_mb} MB"


def test_gzip_over_the_absolute_budget_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unpack, "absolute_budget", lambda: 2 * unpack.CHUNK)
    with pytest.raises(DataError, match=r"expands to more than 0\.0 GB, more than this machine can load safely"):
        load_table(gzip.compress(b"a\n" + b"1\n" * (3 * unpack.CHUNK)), name="big.csv.gz")


def test_repetitive_gzip_under_the_floor_still_loads() -> None:
    rows = b"customer,spend\n" + b"A,0\n" * 2_000_000  # 8 MB of text that gzip shrinks about 500 times
    packed = gzip.compress(rows)
    assert len(rows) / len(packed) > unpack.RATIO
    dataset = load_table(packed, name="orders.csv.gz")
    assert len(dataset.table) == 2_000_000 and dataset.report.format == "csv (gzip)"


def test_gzip_preview_reads_only_the_head() -> None:
    assert unpack.gunzip_head(gzip.compress(b"x" * 10_000), 100) == b"x" * 100
    assert unpack.gunzip_head(b"\x1f\x8b\x08\x00damaged", 100) == b""


def workbook(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_xlsx_over_the_budget_is_refused_before_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unpack, "absolute_budget", lambda: 500_000)
    sheet = "".join(f"<row><c><v>{i}</v></c></row>" for i in range(40_000)).encode()  # ~1 MB, real-looking ratio
    book = workbook({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(DataError, match=r"'big\.xlsx' was refused: the workbook expands to more than"):
        load_table(book, name="big.xlsx")


def test_parquet_declaring_more_than_the_budget_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"zero": [0] * 200_000, "one": [1] * 200_000}).to_parquet(buffer)
    assert len(buffer.getvalue()) < 50_000  # run-length encoding: 3.2 MB of cells in a few kilobytes
    monkeypatch.setattr(unpack, "absolute_budget", lambda: 1_000_000)
    with pytest.raises(DataError, match=r"200,000 rows × 2 columns expand to more than 0\.0 GB"):
        load_table(buffer.getvalue(), name="zeros.parquet")
    monkeypatch.undo()
    assert len(load_table(buffer.getvalue(), name="zeros.parquet").table) == 200_000
