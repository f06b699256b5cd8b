"""CUDA sources for the fused GPU kernels, compiled by CuPy on first use.

Only two places pay for a hand-written kernel:

* ``token_nll_rows``: one thread block per scored row streams the vocabulary
  once, keeping a running (max, sum-of-exp) pair per thread (online
  log-sum-exp), merges the pairs in shared memory and writes
  ``logsumexp(row) - row[label]``. It reads each logit exactly once and never
  stores a probability. Mirrors :func:`fastzip.scoring.loss._lse_rows_cpu`.
* ``kcenter_update``: ``min_dist = min(min_dist, max(|x|^2 + |c|^2 - 2 x.c, 0))``
  fused into one element-wise pass after the matrix-vector product. Mirrors
  :func:`fastzip.scoring.kcenter._update_min_dist_cpu`.

Everything here is built lazily and cached; nothing imports CuPy at import time.
"""
from __future__ import annotations

import functools
from typing import Any

from ._device import cupy_status

NLL_THREADS = 256  # threads per block (one block per row); a power of two

_NLL_SOURCE = r"""
extern "C" __global__ void token_nll_rows_@T@(
        const @T@* __restrict__ logits,      // contiguous buffer holding the rows
        const long long* __restrict__ row_offset,  // element offset of each scored row
        const long long* __restrict__ target,      // label of each scored row, in [0, vocab)
        const long long n_rows,
        const long long vocab,
        double* __restrict__ nll_out) {          // logsumexp(row) - row[target]
    __shared__ @T@ s_max[@THREADS@];
    __shared__ @T@ s_sum[@THREADS@];
    const long long row = blockIdx.x;
    if (row >= n_rows) return;
    const @T@* x = logits + row_offset[row];
    const @T@ NEG_INF = @NEG_INF@;

    // Per-thread online log-sum-exp over a strided slice of the vocabulary.
    @T@ m = NEG_INF, s = 0;
    for (long long v = threadIdx.x; v < vocab; v += blockDim.x) {
        const @T@ xv = x[v];
        if (xv == NEG_INF) continue;            // exp(-inf) = 0: contributes nothing
        if (xv != xv) { m = xv; s = xv; continue; }  // NaN: poison both, reported on the host
        if (xv > m) { s = s * exp(m - xv) + 1; m = xv; }
        else        { s += exp(xv - m); }
    }
    s_max[threadIdx.x] = m;
    s_sum[threadIdx.x] = s;
    __syncthreads();

    // Tree merge of (max, sum) pairs.
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) {
            const @T@ m1 = s_max[threadIdx.x], m2 = s_max[threadIdx.x + stride];
            const @T@ s1 = s_sum[threadIdx.x], s2 = s_sum[threadIdx.x + stride];
            @T@ mm = m1 > m2 ? m1 : m2;
            @T@ ss;
            if (m1 != m1 || m2 != m2) { mm = m1 + m2; ss = mm; }  // keep NaN
            else if (mm == NEG_INF) ss = 0;                          // both halves empty
            else ss = (m1 == NEG_INF ? 0 : s1 * exp(m1 - mm))
                    + (m2 == NEG_INF ? 0 : s2 * exp(m2 - mm));
            s_max[threadIdx.x] = mm;
            s_sum[threadIdx.x] = ss;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        const double lse = (double)s_max[0] + log((double)s_sum[0]);
        nll_out[row] = lse - (double)x[target[row]];
    }
}
"""

# -inf spelled with device intrinsics, so the source needs no header.
_NEG_INF = {
    "float": "__int_as_float((int)0xff800000u)",
    "double": "__longlong_as_double((long long)0xfff0000000000000ull)",
}

_KCENTER_UPDATE = (
    "T dot, T sq_norm, T center_sq_norm",
    "T min_dist",
    "T d = sq_norm + center_sq_norm - (T)2 * dot; d = d > (T)0 ? d : (T)0; "
    "min_dist = d < min_dist ? d : min_dist;",
    "fastzip_kcenter_update",
)


@functools.cache
def token_nll_kernel(ctype: str) -> Any:
    """The compiled row-NLL kernel for ``ctype`` in {"float", "double"}."""
    if ctype not in ("float", "double"):
        raise ValueError(f"unsupported kernel type {ctype!r}")
    cp = cupy_status().module
    neg_inf = _NEG_INF[ctype]
    code = (_NLL_SOURCE.replace("@T@", ctype).replace("@THREADS@", str(NLL_THREADS))
            .replace("@NEG_INF@", neg_inf))
    return cp.RawKernel(code, f"token_nll_rows_{ctype}")


@functools.cache
def kcenter_update_kernel() -> Any:
    """The element-wise min-distance update (dtype-generic)."""
    cp = cupy_status().module
    return cp.ElementwiseKernel(*_KCENTER_UPDATE)
