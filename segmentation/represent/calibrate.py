"""Which embedding backend and precision is fastest on this machine: measured once, remembered in the workspace.

On first use of a model, a few batches of review-like texts go through every available option (torch fp32,
torch bf16, OpenVINO fp32, OpenVINO bf16, as the caller offers them). Options whose vectors stray from the
torch fp32 reference (minimum cosine below 0.999) are rejected; the fastest of the rest is the choice. It is
kept in ``cache/embed_backend.json`` under a key made of the model, the torch and OpenVINO versions and the
CPU's flags, so later processes on the same machine reuse it; a changed library or CPU measures again, and an
unreadable file is ignored. Calibration never makes a run fail: an option that raises is skipped, and when
nothing can be measured the caller keeps its own default.

This module imports nothing heavy; the options are plain functions ``texts -> vectors`` handed in by
``embed.py``, so tests can calibrate fake embedders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.paths import cache_dir

log = logging.getLogger(__name__)

EmbedFn = Callable[[Sequence[str]], np.ndarray]

REFERENCE = "torch/fp32"
"""The option every other is compared with: the model's own full-precision torch path."""
MIN_COSINE = 0.999
"""An option is kept only when every calibration text's vector has at least this cosine to the reference."""
CALIBRATION_FILE = "embed_backend.json"
FORMAT = 1
_CPU_FLAGS_SHOWN = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_vnni", "neon", "asimd")

_LOCK = threading.Lock()
_CHOSEN: dict[tuple[str, str], Calibration | None] = {}  # (file, key) -> calibration, once per process


@dataclass(frozen=True)
class Measurement:
    """One option's calibration: texts per second, minimum cosine to the reference, or why it was skipped."""

    option: str
    rate: float | None = None
    min_cosine: float | None = None
    error: str | None = None

    @property
    def agrees(self) -> bool:
        return self.error is None and self.min_cosine is not None and self.min_cosine >= MIN_COSINE


@dataclass(frozen=True)
class Calibration:
    """The chosen option (``"backend/precision"``) with every measurement behind it and the machine key."""

    choice: str
    measurements: tuple[Measurement, ...]
    key: Mapping[str, str]
    seconds: float = 0.0

    @property
    def backend(self) -> str:
        return self.choice.split("/")[0]

    @property
    def precision(self) -> str:
        return self.choice.split("/")[1]

    def to_json(self) -> dict[str, Any]:
        return {"choice": self.choice, "seconds": round(self.seconds, 2), "key": dict(self.key),
                "measurements": [asdict(m) for m in self.measurements]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        measurements = tuple(Measurement(str(m["option"]), _number(m.get("rate")), _number(m.get("min_cosine")),
                                         None if m.get("error") is None else str(m["error"]))
                             for m in data["measurements"])
        choice = str(data["choice"])
        if choice not in {m.option for m in measurements if m.agrees}:
            raise ValueError(f"the stored choice {choice!r} is not among the agreeing options")
        return cls(choice, measurements, {str(k): str(v) for k, v in data["key"].items()},
                   float(data.get("seconds", 0.0)))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- texts
_OPENINGS = ("I ordered this dress for a wedding and", "Bought the jacket in navy;", "The delivery was quick and",
             "Second time buying from this shop:", "My daughter loves the sweater, but", "Honestly,",
             "The jeans run small, so", "Customer service answered within a day and", "Great value for money:",
             "The fabric feels cheap and")
_MIDDLES = ("the fit is perfect around the waist", "the colour is brighter than in the photos",
            "the stitching came loose after two washes", "it arrived a week later than promised",
            "the return was easy and the refund came fast", "the size chart was spot on",
            "the material is soft and warm enough for winter", "the packaging was damaged",
            "I had to exchange it for a larger size", "it looks more expensive than it was")
_ENDINGS = ("Would buy again.", "Not worth the price.", "Highly recommend it to friends.",
            "I will probably return it.", "Five stars from me.", "Disappointed overall.",
            "It is now my favourite piece.", "Check the measurements before ordering.")


def calibration_texts(n: int = 48, random_state: int = 0) -> list[str]:
    """``n`` distinct review-like texts of 8 to ~80 words, seeded: realistic lengths for the padding and
    attention costs the options differ on."""
    rng = np.random.default_rng(random_state)
    texts = []
    for i in range(n):
        sentences = [f"{rng.choice(_OPENINGS)} {rng.choice(_MIDDLES)}. {rng.choice(_ENDINGS)}"
                     for _ in range(int(rng.integers(1, 5)))]
        texts.append(f"Order {i}: " + " ".join(sentences))
    return texts


# --------------------------------------------------------------------------- measuring
def _min_cosine(vectors: np.ndarray, reference: np.ndarray) -> float:
    a = np.asarray(vectors, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"vectors of shape {a.shape} against the reference's {b.shape}")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    cosine = float((a * b).sum(axis=1).min())
    return cosine if np.isfinite(cosine) else -1.0


def measure(options: Mapping[str, EmbedFn], texts: Sequence[str], reference: str = REFERENCE,
            warm_texts: int = 4) -> list[Measurement]:
    """Texts per second and minimum cosine to ``reference`` for each option, in the order given.

    Each option first embeds ``warm_texts`` texts untimed (loading, export and compilation are paid once per
    process, not per text), then all ``texts`` timed. An option that raises, or returns vectors of the wrong
    shape, is recorded with its error; when the reference itself fails, no option can be compared.
    """
    texts = list(texts)
    results: dict[str, tuple[float, np.ndarray] | str] = {}
    for name in [reference, *[o for o in options if o != reference]]:
        if name not in options:
            results[name] = "not offered"
            continue
        try:
            options[name](texts[:warm_texts])
            start = time.perf_counter()
            vectors = np.asarray(options[name](texts))
            seconds = max(time.perf_counter() - start, 1e-9)
            results[name] = (len(texts) / seconds, vectors)
        except Exception as exc:  # noqa: BLE001 - any failing option is skipped, never fatal
            log.info("Embedding option %s skipped in calibration: %s", name, exc)
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    out = []
    ref = results[reference]
    for name, result in results.items():
        if isinstance(result, str):
            out.append(Measurement(name, error=result))
        elif isinstance(ref, str):
            out.append(Measurement(name, rate=result[0], error="the reference could not run"))
        else:
            try:
                out.append(Measurement(name, rate=result[0], min_cosine=_min_cosine(result[1], ref[1])))
            except ValueError as exc:
                out.append(Measurement(name, rate=result[0], error=str(exc)))
    return out


def fastest(measurements: Sequence[Measurement]) -> str | None:
    """The fastest option among those that agree with the reference; None when none does."""
    agreeing = [m for m in measurements if m.agrees and m.rate is not None]
    return max(agreeing, key=lambda m: m.rate).option if agreeing else None


# --------------------------------------------------------------------------- the machine key and the file
def cpu_flags() -> list[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``), else the processor's name: what speed depends on."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.lower().startswith(("flags", "features")):
                    return sorted(set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return [platform.processor() or "unknown"]


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "absent"


def machine_key(model_id: str, options: Sequence[str]) -> dict[str, str]:
    """What a stored choice is valid for: the model, the options offered, the library versions and the CPU."""
    flags = cpu_flags()
    return {"format": str(FORMAT), "model": model_id, "options": ",".join(sorted(options)),
            "torch": _version("torch"), "openvino": _version("openvino"),
            "machine": platform.machine(), "cpus": str(os.cpu_count()),
            "cpu_flags": hashlib.sha256(" ".join(flags).encode()).hexdigest()[:16],
            "cpu_features": " ".join(f for f in _CPU_FLAGS_SHOWN if f in flags)}


def _key_id(key: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(key), sort_keys=True).encode()).hexdigest()[:20]


def calibration_path(folder: str | os.PathLike | None = None) -> Path:
    return Path(folder) / CALIBRATION_FILE if folder is not None else cache_dir() / CALIBRATION_FILE


def _read_all(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("choices"), dict):
        return {}
    return data["choices"]


def load(path: Path, key: Mapping[str, str]) -> Calibration | None:
    """The stored calibration for ``key``, or None when the file is missing, unreadable, old or for another key."""
    entry = _read_all(path).get(_key_id(key))
    try:
        calibration = Calibration.from_json(entry) if isinstance(entry, dict) else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.info("Ignoring a damaged embedding calibration in %s: %s", path, exc)
        return None
    return calibration if calibration is not None and dict(calibration.key) == dict(key) else None


def save(path: Path, calibration: Calibration) -> None:
    """Add ``calibration`` to the file, keeping other models' entries; written atomically."""
    choices = _read_all(path)
    choices[_key_id(calibration.key)] = calibration.to_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "choices": choices}, indent=1), encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- the one entry point
def best_option(model_id: str, options: Mapping[str, EmbedFn], path: Path | None = None,
                texts: Sequence[str] | None = None) -> Calibration | None:
    """The calibrated choice for ``model_id`` among ``options`` (``"backend/precision" -> embed function``).

    Read from the workspace's calibration file when it holds one for this model, these options and this
    machine; else measured now (a few seconds) and stored. Once per process and key; thread-safe (a second
    caller waits for the first's measurement). None when nothing could be measured, or on any error: the
    caller then keeps its own default.
    """
    try:
        path = path or calibration_path()
        key = machine_key(model_id, list(options))
        memo = (str(path), _key_id(key))
        with _LOCK:
            if memo not in _CHOSEN:
                _CHOSEN[memo] = load(path, key) or _measure_and_save(path, key, options, texts)
            return _CHOSEN[memo]
    except Exception as exc:  # noqa: BLE001 - calibration must never make a run fail
        log.warning("Embedding calibration failed (%s); using the default backend", exc)
        return None


def _measure_and_save(path: Path, key: Mapping[str, str], options: Mapping[str, EmbedFn],
                      texts: Sequence[str] | None) -> Calibration | None:
    start = time.perf_counter()
    if list(options) == [REFERENCE]:  # nothing to choose between: no need to spend seconds measuring
        return Calibration(REFERENCE, (Measurement(REFERENCE, min_cosine=1.0),), key)
    measurements = measure(options, texts if texts is not None else calibration_texts())
    choice = fastest(measurements)
    if choice is None:
        log.warning("No embedding option could be calibrated: %s",
                    "; ".join(f"{m.option}: {m.error}" for m in measurements))
        return None
    calibration = Calibration(choice, tuple(measurements), key, time.perf_counter() - start)
    log.info("Embedding calibration chose %s in %.1f s: %s", choice, calibration.seconds,
             ", ".join(f"{m.option} {m.rate:.0f}/s" for m in measurements if m.rate))
    try:
        save(path, calibration)
    except OSError as exc:  # a read-only workspace: the choice still holds for this process
        log.warning("Could not store the embedding calibration in %s: %s", path, exc)
    return calibration


def forget() -> None:
    """Drop this process's remembered choices (the file stays): for tests and benchmarks."""
    with _LOCK:
        _CHOSEN.clear()
