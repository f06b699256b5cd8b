"""Selection past one machine's memory and past one machine.

``core`` scores samples stand-alone and keeps the exact prefilter (the N
samples stage 1 can reach), ``ooc`` selects out of core from files and
shards in one pass, and ``ray`` runs on Ray Data (exact and GreeDi).
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

__all__ = ["PartSelection", "ScoredBatch", "Scorer", "TopN", "local_select", "merge", "prefilter", "prefilter_size",
           "resolve_dedupe", "score"]
