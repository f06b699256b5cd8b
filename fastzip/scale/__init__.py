"""Selection past one machine's memory and past one machine.

``core`` scores samples stand-alone and keeps the exact prefilter (the N
samples stage 1 can reach), ``ooc`` selects out of core from files and
shards in one pass, ``ray`` runs on Ray Data (exact and GreeDi), and
``disk`` keeps a packed pool in files that the engine reads memory-mapped.
"""
from __future__ import annotations

from .core import (
    PartSelection,
    ScoredBatch,
    Scorer,
    TopN,
    local_select,
    merge,
    prefilter,
    prefilter_size,
    resolve_dedupe,
    score,
)
from .disk import PoolWriter, open_pool, write_pool

__all__ = ["PartSelection", "PoolWriter", "ScoredBatch", "Scorer", "TopN", "local_select", "merge", "open_pool",
           "prefilter", "prefilter_size", "resolve_dedupe", "score", "write_pool"]
