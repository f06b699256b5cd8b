"""Embedding-like test data shared by the scoring benchmarks and the GPU check."""
from __future__ import annotations

import numpy as np


def clustered(n: int, d: int = 768, n_clusters: int = 200, seed: int = 0,
              spread: tuple[float, float] = (0.8, 0.8)) -> np.ndarray:
    """Unit-ish cluster centres plus per-row noise, float32 (real embeddings cluster like this)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d), dtype=np.float32)
    out = rng.standard_normal((n, d), dtype=np.float32)
    out *= rng.uniform(*spread, size=(n, 1)).astype(np.float32)  # per-row noise level
    out += centers[rng.integers(0, n_clusters, n)]
    return out
