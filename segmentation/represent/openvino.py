"""Run a sentence-transformers model's transformer on OpenVINO: the fast CPU path.

The transformer (the costly part) is exported once to ONNX with torch's exporter,
cached on disk, and compiled by the OpenVINO runtime for the CPU in
throughput mode. On CPUs with bfloat16 units (AMX / AVX-512 BF16) OpenVINO runs it
in bf16; elsewhere in fp32. Pooling, normalisation and any other modules after
the transformer stay the model's own torch modules, so any sentence-transformers
model whose first module is a ``Transformer`` is supported and gives the same
vectors (bench/embed.py: cosine to sentence-transformers' fp32 ``encode``
above 0.9999).

Only the OpenVINO *runtime* is used (``read_model``/``compile_model``), always imported through
``runtime()``, which keeps OpenVINO's conversion tools (and their usage telemetry) out of the process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from segmentation.paths import cache_dir

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]

# compiled models (with the names of their inputs) by model location and precision
_EXPORT_LOCK = threading.Lock()
_COMPILED: dict[tuple[str, bool], tuple[Any, list[str]]] = {}


def runtime() -> ModuleType:
    """OpenVINO's runtime module, imported without its model-conversion tools.

    ``import openvino`` also imports ``openvino.tools.ovc`` (the converter), and importing the converter sends a
    usage event to Intel: a forked process looks up www.google-analytics.com and a client id is written under
    ``~/intel`` unless a consent file says no. We never convert with it (torch exports the ONNX file), so the
    converter and the telemetry package are marked as not importable before the first import; openvino's own
    ``try: from openvino.tools.ovc import convert_model / except ImportError`` then skips it.
    """
    if "openvino" not in sys.modules:
        for name in ("openvino.tools.ovc", "openvino_telemetry"):
            sys.modules.setdefault(name, None)  # None in sys.modules: "import name" raises ImportError
    import openvino

    return openvino


def openvino_available() -> bool:
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)

        runtime()
    except ImportError:
        return False
    return True


def _tokenize(st_model: Any, texts: Sequence[str]) -> dict[str, Any]:
    """The model's own tokenisation (``preprocess`` in sentence-transformers >= 6, ``tokenize`` before)."""
    method = getattr(st_model, "preprocess", None) or st_model.tokenize
    return method(list(texts))


def _export_key(location: str, input_names: Sequence[str]) -> str:
    import torch

    parts = [os.path.abspath(location) if os.path.isdir(location) else location, torch.__version__, *input_names]
    folder = Path(location)
    if folder.is_dir():  # a changed model folder gets a new export
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in {".safetensors", ".bin", ".json"}:
                stat = file.stat()
                parts.append(f"{file.relative_to(folder)}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _token_embeddings_module(model: Any, names: Sequence[str]) -> Any:
    """A torch module taking the tokenizer's tensors positionally and returning the token embeddings."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            return self.model(**dict(zip(names, tensors, strict=True))).last_hidden_state

    return TokenEmbeddings()


def _export(st_model: Any, path: Path, names: Sequence[str]) -> None:
    import torch

    auto_model = st_model[0].auto_model
    example = _tokenize(st_model, ["Segment Studio", "a slightly longer example sentence"])
    previous = getattr(auto_model.config, "_attn_implementation", None)
    switch = hasattr(auto_model, "set_attn_implementation") and previous not in (None, "eager")
    if switch:  # the eager attention exports to a plain graph OpenVINO fuses well
        auto_model.set_attn_implementation("eager")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shapes the dynamic axes cover
            torch.onnx.export(
                _token_embeddings_module(auto_model, names), tuple(example[n] for n in names), str(tmp),
                input_names=list(names), output_names=["token_embeddings"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]},
                opset_version=17, dynamo=False)
        os.replace(tmp, path)
    finally:
        if switch:
            auto_model.set_attn_implementation(previous)
        tmp.unlink(missing_ok=True)


def compiled_model(st_model: Any, location: str, bf16: bool) -> tuple[Any, list[str]]:
    """The OpenVINO model for ``st_model``'s transformer and its input names; exported to ONNX on first
    use (kept on disk, keyed by the model's files and torch version), compiled once per process."""
    ov = runtime()

    with _EXPORT_LOCK:
        if (location, bf16) not in _COMPILED:
            names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in _tokenize(st_model, ["x"])]
            folder = cache_dir() / "openvino"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{_export_key(location, names)}.onnx"
            if not path.exists():
                log.info("Exporting the embedding model to %s (once per model)", path)
                _export(st_model, path, names)
            core = ov.Core()
            config = {"PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32"}
            _COMPILED[(location, bf16)] = (core.compile_model(core.read_model(str(path)), "CPU", config), names)
    return _COMPILED[(location, bf16)]


def encode(st_model: Any, location: str, texts: Sequence[str], order: np.ndarray, batch_size: int, bf16: bool,
           on_progress: ProgressFn | None = None) -> np.ndarray:
    """Normalised sentence embeddings for ``texts``, in order.

    Batches are consecutive runs of ``order`` (``embeddings.batch_order``). They stream through
    OpenVINO's parallel infer requests: the next batch is tokenised and finished
    batches are pooled while the others run, and memory stays bounded by the
    number of requests in flight.
    """
    ov = runtime()
    import torch

    compiled, names = compiled_model(st_model, location, bf16)
    tail = list(st_model)[1:]  # pooling, normalize, dense...: the model's own modules
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    queue = ov.AsyncInferQueue(compiled)
    finished: dict[int, np.ndarray] = {}  # batch number -> token embeddings, filled by OpenVINO's threads
    pending: dict[int, dict[str, Any]] = {}  # batch number -> its tokenizer features
    out: np.ndarray | None = None
    done = 0

    def keep(request: Any, number: int) -> None:
        finished[number] = request.get_output_tensor(0).data.copy()

    def pool_finished() -> None:
        nonlocal out, done
        for number in list(finished):
            tokens, feats = finished.pop(number), pending.pop(number)
            features: dict[str, Any] = {**feats, "token_embeddings": torch.from_numpy(tokens)}
            with torch.inference_mode():
                for module in tail:
                    features = module(features)
            vectors = torch.nn.functional.normalize(features["sentence_embedding"].float(), dim=1).numpy()
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batches[number]] = vectors
            done += len(batches[number])
            if on_progress:
                on_progress("embed", done / len(texts))

    queue.set_callback(keep)
    for number, idx in enumerate(batches):
        pending[number] = _tokenize(st_model, [texts[i] for i in idx])
        queue.start_async([pending[number][n].numpy() for n in names], number)  # waits while all requests are busy
        pool_finished()
    queue.wait_all()
    pool_finished()
    assert out is not None and not pending
    return out
