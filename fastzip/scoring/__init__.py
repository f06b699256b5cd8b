"""Scoring kernels for data selectors: losses and embedding diversity, on CPU or GPU.

Loss scores (``fastzip.scoring.loss``):
    token_nll, from_logprobs, perplexity, ifd
Diversity over embeddings:
    kcenter_greedy, deita_filter, facility_location_greedy, max_similarity
Compression distance (native kernels):
    ncd_matrix

Arrays in, arrays out: numpy in -> numpy out, CuPy in -> CuPy out. The heavy
functions take ``device="auto" | "cpu" | "cuda"``: ``"auto"`` runs CuPy input on
its GPU and numpy input on the GPU when CuPy and a CUDA device are usable,
otherwise on the CPU; ``"cuda"`` raises ``RuntimeError`` naming what is missing.
CuPy is imported only when a call resolves ``"auto"`` or ``"cuda"``, never by
``import fastzip.scoring``. Embedding kernels compute in float32 unless given
``dtype=numpy.float64``.
"""
from __future__ import annotations

from .deita import deita_filter
from .facility import facility_location_greedy
from .kcenter import kcenter_greedy
from .loss import from_logprobs, ifd, perplexity, token_nll
from .ncd import ncd_matrix
from .similarity import max_similarity

__all__ = [
    "deita_filter",
    "facility_location_greedy",
    "from_logprobs",
    "ifd",
    "kcenter_greedy",
    "max_similarity",
    "ncd_matrix",
    "perplexity",
    "token_nll",
]
