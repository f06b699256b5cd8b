"""Plain helpers the scoring tests share: unit rows, clustered embeddings, CuPy or a skip."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip.scoring import _device


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered_embeddings(n, d, n_clusters=12, seed=0, spread=0.35):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d))
    labels = rng.integers(0, n_clusters, n)
    return (centers[labels] + spread * rng.standard_normal((n, d))).astype(np.float32)


def cupy_or_skip():
    """CuPy when it and a CUDA device are there; else skip, naming what is missing."""
    status = _device.cupy_status()
    if status.module is None:
        pytest.skip(f"GPU test needs CuPy and a CUDA device: {status.missing}")
    return status.module
