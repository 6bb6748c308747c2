"""Decompression bombs: the peak memory of refusing each one, measured in a fresh interpreter.

Run by hand:  .venv/bin/python bench/bombs.py [--gzip-mb 2] [--npz-gib 1.5]
Target (issue 13): under 600 MB peak for either bomb; before the fix the gzip bomb peaked at ~2 GB and the model
file bomb at ~5 GB.

* ``csv.gz``: a gzip of zeros (about 2 MB) that inflates to about 2 GB, loaded with ``load_table``.
* ``.segmodel``: a real model file (from a tiny run) whose ``arrays.npz`` inflates to 1.5 GiB, loaded with
  ``segmentation.act.assign.load_model``.

Each bomb is built on disk in a streaming way (never whole in memory) and loaded in a child process, which
prints its own peak resident memory (``ru_maxrss``) and the first words of the refusal. The baseline line is
the same child importing the library and loading nothing, so the difference is what the bomb cost.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SEGMENT_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-bombs-"))
CHUNK = 16 * 1024 * 1024

CHILD = r"""
import resource, sys, time
sys.path.insert(0, {root!r})
kind, path = sys.argv[1], sys.argv[2]
from segmentation.errors import SegmentationError
from segmentation.ingest.read import load_table
from segmentation.act.assign import load_model
start = time.perf_counter()
outcome = "nothing loaded" if kind == "none" else "loaded (not refused)"
try:
    if kind == "gzip":
        load_table(path)
    elif kind == "model":
        load_model(path)
except SegmentationError as error:
    outcome = "refused: " + str(error)[:110]
except MemoryError:
    outcome = "MemoryError"
seconds = time.perf_counter() - start
try:  # this process's own peak (ru_maxrss would also count the parent's memory at the fork)
    peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{peak:.0f}}\t{{seconds:.2f}}\t{{outcome}}")
"""


def gzip_bomb(path: Path, inflated_bytes: int) -> None:
    """A .csv.gz that inflates to ``inflated_bytes`` of ASCII zeros after a one-column header."""
    zeros = b"0" * CHUNK
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(b"value\n")
        written = 0
        while written < inflated_bytes:
            stream.write(zeros[: min(CHUNK, inflated_bytes - written)])
            written += CHUNK


def real_model_bytes() -> bytes:
    """A real model file from a tiny seeded run, so the bomb carries a manifest that passes every check."""
    import pandas as pd

    from segmentation.act.assign import build_model
    from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
    from segmentation.pipeline import StageCache, run

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"customer_id": [f"C{i}" for i in range(60)], "spend": rng.normal(size=60),
                          "visits": rng.normal(size=60)})
    config = RunConfig(reduce=ReduceConfig(method="none", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    return build_model(run(table, config, cache=StageCache())).to_bytes()


def model_bomb(path: Path, inflated_bytes: int) -> None:
    """A real .segmodel whose reference_features array in arrays.npz is replaced by ``inflated_bytes`` of
    deflated zeros (the other arrays and the manifest kept)."""
    with zipfile.ZipFile(io.BytesIO(real_model_bytes())) as model:
        manifest = model.read("manifest.json")
        with zipfile.ZipFile(io.BytesIO(model.read("arrays.npz"))) as arrays:
            kept = {info.filename: arrays.read(info) for info in arrays.infolist()}
    features = np.load(io.BytesIO(kept.pop("reference_features.npy")))
    npz = path.with_suffix(".npz")
    n = inflated_bytes // (8 * features.shape[1])
    with zipfile.ZipFile(npz, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("reference_features.npy", "w", force_zip64=True) as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (n, features.shape[1])}
            np.lib.format.write_array_header_2_0(member, header)
            zeros = bytes(CHUNK)
            left = n * features.shape[1] * 8
            while left > 0:
                member.write(zeros[: min(CHUNK, left)])
                left -= CHUNK
        for name, content in kept.items():
            archive.writestr(name, content)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", manifest)
        archive.write(npz, "arrays.npz")
    npz.unlink()


def measure(kind: str, path: Path | None) -> str:
    child = CHILD.format(root=str(ROOT))
    completed = subprocess.run([sys.executable, "-c", child, kind, str(path or "")], capture_output=True,
                               text=True, check=False)
    if completed.returncode != 0:
        return f"child failed (exit {completed.returncode}): {completed.stderr.strip().splitlines()[-1:]}"
    peak, seconds, outcome = completed.stdout.strip().split("\t", 2)
    return f"peak {peak:>6} MB  {seconds:>6} s  {outcome}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gzip-gb", type=float, default=2.0, help="what the gzip bomb inflates to (GB)")
    parser.add_argument("--npz-gib", type=float, default=1.5, help="what the model file's arrays inflate to (GiB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bombs-") as folder:
        gz = Path(folder) / "zeros.csv.gz"
        gzip_bomb(gz, int(args.gzip_gb * 1000**3))
        model = Path(folder) / "bomb.segmodel"
        model_bomb(model, int(args.npz_gib * 1024**3))
        print(f"baseline (imports only)            {measure('none', None)}")
        print(f"csv.gz    {gz.stat().st_size / 1e6:5.2f} MB -> {args.gzip_gb:.1f} GB   {measure('gzip', gz)}")
        print(f"segmodel  {model.stat().st_size / 1e6:5.2f} MB -> {args.npz_gib:.1f} GiB  {measure('model', model)}")


if __name__ == "__main__":
    main()
