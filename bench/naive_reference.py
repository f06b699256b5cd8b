"""A faithful naive implementation of the published ZIP (docs/semantics.md §2).

This is the cost model fastzip replaces: every ratio recompresses the whole
``str(list)`` with zlib level 9, candidates spread over a process pool, and
scores are float32 as in the reference's torch tensors.  It breaks ties as
docs/semantics.md §2 does, so its selections equal ``fastzip.select(compat="reference")``.
Only the benchmarks use it.
"""
from __future__ import annotations

import multiprocessing
import zlib

import numpy as np

_POOL: list = []


def _init(samples: list) -> None:
    global _POOL
    _POOL = samples


def _ratio(task: tuple) -> float:
    """ratio(list) = len(b) / len(zlib.compress(b, 9)), b = str(list).encode()."""
    members, candidate = task
    b = str([_POOL[i] for i in members] + [_POOL[candidate]]).encode("utf-8")
    return len(b) / len(zlib.compress(b, 9))


def naive_zip(samples: list, budget: int, k1: int, k2: int, k3: int, processes: int = 2) -> list[int]:
    """Pool indices selected by the reference algorithm, recomputed naively."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes, initializer=_init, initargs=(samples,)) as pool:
        n = len(samples)
        chunk = max(1, n // (processes * 8))
        pi = np.array(pool.map(_ratio, [((), i) for i in range(n)], chunksize=chunk), dtype=np.float32)
        selected: list[int] = []
        while len(selected) < budget:
            order = np.argsort(pi, kind="stable")[:k1]
            sel = tuple(selected)
            values = np.array(pool.map(_ratio, [(sel, int(c)) for c in order],
                                       chunksize=max(1, len(order) // (processes * 8))), dtype=np.float32)
            pi[order] = values
            top = order[np.argsort(values, kind="stable")[:k2]]
            pi[top] = np.float32(1e6)
            local: list[int] = []
            taken = np.zeros(len(top), dtype=bool)
            for _ in range(k3):
                scores = np.full(len(top), np.float32(1e6), dtype=np.float32)
                open_ = np.flatnonzero(~taken)
                loc = tuple(local)
                scores[open_] = pool.map(_ratio, [(loc, int(top[j])) for j in open_],
                                         chunksize=max(1, len(open_) // (processes * 4)))
                best = int(np.argmin(scores))
                taken[best] = True
                local.append(int(top[best]))
            selected.extend(local)
        return selected
