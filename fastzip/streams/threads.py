"""The Python side of the batch thread pool: how many threads a call gets.

The pool itself is C (csrc/fz_batch.c: pthreads that sleep between batches,
or an OpenMP team); every batch call of fastzip passes it the count that
:func:`resolve_threads` returns.  Results never depend on that count.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import UsageError

MAX_THREADS = 256   # the native thread pool's limit; results never depend on the count


def resolve_threads(n_threads: int | None) -> int:
    """The number of threads for a batch, in scikit-learn's convention.

    Parameters
    ----------
    n_threads : int or None
        A positive count; -1 (or None) is every usable core, -2 all but one,
        and so on.  Counts above :data:`MAX_THREADS` are clamped to it.

    Returns
    -------
    int
        Between 1 and :data:`MAX_THREADS`.

    Raises
    ------
    fastzip.errors.UsageError
        ``n_threads`` is 0 or not an integer.
    """
    if n_threads is None:
        n_threads = -1
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)):
        raise UsageError(f"n_threads must be an integer, got {n_threads!r}")
    count = int(n_threads)
    if count == 0:
        raise UsageError("n_threads (--threads) must not be 0 (use -1 for all cores)")
    if count < 0:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cores = os.cpu_count() or 1
        count = max(1, cores + 1 + count)
    return min(count, MAX_THREADS)
