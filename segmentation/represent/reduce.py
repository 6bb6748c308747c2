"""Dimension reduction: UMAP or PCA behind one function, seeded, fit-on-sample for large data.

umap-learn is imported lazily: importing it compiles numba code (about 20 s on a
cold cache), which the app should pay only when a UMAP is actually asked for.
Point ``NUMBA_CACHE_DIR`` at a persistent folder so a second process reuses it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

from segmentation.config import ReduceConfig
from segmentation.errors import ConfigError

ProgressFn = Callable[[str, float], None]

PCA_BEFORE_UMAP = 50
"""Inputs wider than this are first projected with PCA: UMAP's neighbour search is
much faster on 50 dense dimensions and the neighbourhoods barely change."""


_UMAP_READY = False


def _import_umap():  # noqa: ANN202 - returns the umap module
    """Import umap-learn with numba's on-disk cache switched on for its compiled functions.

    umap-learn compiles its numba functions without ``cache=True``, so every new
    process pays 30-50 s of compilation. Turning caching on for those dispatchers
    before their first call lets a second process load the machine code from
    ``NUMBA_CACHE_DIR`` instead (about 4 s).
    """
    global _UMAP_READY
    if "NUMBA_CACHE_DIR" not in os.environ:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.path.expanduser("~"), ".cache", "segment-studio", "numba")
    import umap as umap_lib

    if not _UMAP_READY:
        import importlib
        import pkgutil

        from numba.core.registry import CPUDispatcher

        for info in pkgutil.iter_modules(umap_lib.__path__, "umap."):
            if info.name.split(".")[-1] not in {"umap_", "layouts", "utils", "distances", "spectral", "sparse"}:
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher) and type(obj._cache).__name__ == "NullCache":
                    try:
                        obj.enable_caching()
                    except Exception:  # noqa: BLE001 - a function numba cannot cache simply stays uncached
                        pass
        _UMAP_READY = True
    return umap_lib


def exact_neighbors(X: np.ndarray, k: int, queries: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of the k nearest rows of X, exact, via scikit-learn.

    Exact search on at most ``sample_threshold`` rows is fast and, unlike
    pynndescent, needs no numba compilation in each new process.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k).fit(X)
    distances, indices = index.kneighbors(X if queries is None else queries)
    return indices.astype(np.int32), distances.astype(np.float32)


def pca(X: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    n = max(1, min(n_components, X.shape[1], X.shape[0]))
    if X.shape[1] <= n:
        return np.asarray(X, dtype=np.float32)
    return PCA(n_components=n, random_state=random_state, svd_solver="auto").fit_transform(X).astype(np.float32)


def umap(X: np.ndarray, n_components: int, n_neighbors: int, min_dist: float, random_state: int,
         sample_threshold: int) -> np.ndarray:
    """Seeded UMAP on exact neighbours. Above ``sample_threshold`` rows: fit on a seeded sample,
    then place every other customer at the distance-weighted mean of its nearest sampled neighbours.

    A fixed ``random_state`` makes UMAP single-threaded; fitting on a sample keeps
    that affordable while staying deterministic (bench/pipeline.py reports how
    closely the segments agree with a full fit).
    """
    umap_lib = _import_umap()
    X = np.ascontiguousarray(X, dtype=np.float32)
    n = X.shape[0]
    if n < 4:
        raise ConfigError(f"UMAP needs at least 4 customers. Got {n}. Use PCA for tiny files.")
    rng = np.random.default_rng(random_state)
    sample = np.arange(n) if n <= sample_threshold else np.sort(rng.choice(n, size=sample_threshold, replace=False))
    fit_rows = X[sample]
    neighbors = max(2, min(n_neighbors, len(sample) - 1))
    knn = exact_neighbors(fit_rows, neighbors)
    # spectral initialisation fails on tiny or disconnected graphs; random init is safe there
    init = "spectral" if len(sample) > 50 else "random"
    model = umap_lib.UMAP(n_components=n_components, n_neighbors=neighbors, min_dist=min_dist,
                          metric="euclidean", random_state=random_state, init=init,
                          n_epochs=200 if len(sample) <= 10_000 else None, precomputed_knn=(*knn, None))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        fitted = model.fit_transform(fit_rows).astype(np.float32)
    if len(sample) == n:
        return fitted
    out = np.empty((n, n_components), dtype=np.float32)
    out[sample] = fitted
    rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
    k = min(max(3, neighbors // 3), len(sample))
    for start in range(0, rest.size, 50_000):  # bounded memory for very large inputs
        part = rest[start:start + 50_000]
        idx, dist = exact_neighbors(fit_rows, k, X[part])
        weights = 1.0 / (dist + 1e-6)
        weights /= weights.sum(1, keepdims=True)
        out[part] = np.einsum("nk,nkd->nd", weights, fitted[idx])
    return out


def prepare_for_umap(X: np.ndarray, random_state: int) -> np.ndarray:
    return pca(X, PCA_BEFORE_UMAP, random_state) if X.shape[1] > PCA_BEFORE_UMAP * 2 else X


def reduce(X: np.ndarray, config: ReduceConfig, random_state: int,
           on_progress: ProgressFn | None = None) -> np.ndarray:
    """The cluster space: ``config.n_components`` dimensions (or X itself when ``method='none'``)."""
    if on_progress:
        on_progress("reduce", 0.0)
    if config.method == "none":
        out = np.asarray(X, dtype=np.float32)
    elif config.method == "pca":
        out = pca(X, config.n_components, random_state)
    else:
        out = umap(prepare_for_umap(X, random_state), config.n_components, config.n_neighbors, config.min_dist,
                   random_state, config.sample_threshold)
    if on_progress:
        on_progress("reduce", 1.0)
    return out


def map_coordinates(X: np.ndarray, Z: np.ndarray, config: ReduceConfig, random_state: int,
                    on_progress: ProgressFn | None = None) -> np.ndarray:
    """2-D coordinates for the map.

    With UMAP the map is laid out from the cluster space ``Z`` when that is a UMAP
    space already: the neighbour search is then on 5 dimensions, not hundreds, and
    the map shows the same neighbourhoods the segments were found in.
    """
    if on_progress:
        on_progress("map", 0.0)
    if config.map_method == "pca":
        out = pca(X, 2, random_state)
        if out.shape[1] < 2:
            out = np.column_stack([out, np.zeros(len(out), dtype=np.float32)])
    else:
        source = Z if config.method == "umap" else prepare_for_umap(X, random_state)
        out = umap(source, 2, config.n_neighbors, 0.1, random_state, config.sample_threshold)
    if on_progress:
        on_progress("map", 1.0)
    return out
