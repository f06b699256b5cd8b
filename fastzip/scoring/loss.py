"""Loss-based scores: per-sample NLL from logits or log-probs, perplexity, IFD.

``token_nll`` never materializes a log-softmax: it walks the scored positions
in chunks of rows, and each row chunk over the vocabulary in blocks, with a
streaming log-sum-exp, so the extra memory is about
``chunk_size * vocab_chunk_size`` floats whatever the batch size.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from . import _device
from ._cuda_kernels import NLL_THREADS, token_nll_kernel
from ._device import Array, ArrayModule, Device
from ._validate import as_count, check_all_finite, check_real_dtype

DEFAULT_CHUNK_ROWS_CPU = 64
DEFAULT_CHUNK_ROWS_GPU = 1024
DEFAULT_VOCAB_CHUNK = 32768


def token_nll(logits: Array, labels: Array, ignore_index: int = -100, *, shift: bool = True,
              chunk_size: int | None = None, vocab_chunk_size: int = DEFAULT_VOCAB_CHUNK,
              device: Device = "auto") -> Array:
    """Per-sample mean negative log-likelihood (natural log) of *labels* under *logits*.

    Parameters
    ----------
    logits : numpy.ndarray or cupy.ndarray
        ``(batch, seq, vocab)`` float array (float16/32/64; computed in
        float32, or float64 for float64 input).
    labels : numpy.ndarray or cupy.ndarray
        ``(batch, seq)`` integer array; positions equal to ``ignore_index``
        are not scored (prompt, padding).
    ignore_index : int, default -100
        Label value that marks unscored positions.
    shift : bool, default True
        ``True`` follows the Hugging Face causal-LM convention: pass the same
        ``labels`` you would give the model (usually ``input_ids`` with the
        prompt set to ``-100``); ``logits[:, t]`` scores ``labels[:, t + 1]``
        and the last logit is unused. The result then equals the per-sample
        ``outputs.loss`` the model would report. ``False``: labels are already
        aligned, ``logits[:, t]`` scores ``labels[:, t]``.
    chunk_size : int or None
        Scored rows per chunk (default 64 on the CPU, 1024 per host-to-GPU
        transfer).
    vocab_chunk_size : int, default 32768
        Vocabulary columns per block on the CPU.
    device : {"auto", "cpu", "cuda"}
        Where to compute (see :mod:`fastzip.scoring`).

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        ``(batch,)`` float64: the mean NLL over each sample's scored tokens;
        NaN for a sample with no scored token (as PyTorch's mean over
        nothing). numpy in -> numpy out; CuPy in -> CuPy out.

    Raises
    ------
    fastzip.errors.InputError
        Bad shapes or dtypes, a label outside ``[0, vocab)`` that is not
        ``ignore_index``, or a non-finite loss at a scored position (NaN or
        +inf logits, or a target logit of -inf). Only scored rows are read,
        so NaN at ignored positions is harmless.
    RuntimeError
        ``device="cuda"`` without CuPy or a usable CUDA GPU.
    """
    logits = logits if hasattr(logits, "dtype") else np.asarray(logits)
    labels = labels if hasattr(labels, "dtype") else np.asarray(labels)
    dev = _device.resolve_device(device, logits)
    was_cupy = _device.is_cupy_array(logits)
    batch, vocab = _check_logits_labels(logits, labels, shift)
    if not was_cupy:
        logits = np.asarray(logits)
    b_idx, t_idx, target = _scored_positions(_device.to_host(labels), ignore_index, shift, vocab)
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK_ROWS_GPU if dev == "cuda" else DEFAULT_CHUNK_ROWS_CPU
    chunk_size = as_count(chunk_size, "chunk_size")
    vocab_chunk_size = as_count(vocab_chunk_size, "vocab_chunk_size")

    if dev == "cuda":
        row_nll = _row_nll_gpu(logits, b_idx, t_idx, target, chunk_size)
    else:
        if was_cupy:
            logits = logits.get()
        row_nll = _row_nll_cpu(logits, b_idx, t_idx, target, chunk_size, vocab_chunk_size)
    _raise_on_nonfinite(row_nll, b_idx, t_idx)
    sums = np.bincount(b_idx, weights=row_nll, minlength=batch)
    counts = np.bincount(b_idx, minlength=batch)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return _device.like_input(mean, was_cupy)


def from_logprobs(token_logprobs: Array, mask: Array | None = None) -> Array:
    """Per-sample mean NLL from per-token log-probabilities (e.g. from vLLM).

    Parameters
    ----------
    token_logprobs : numpy.ndarray or cupy.ndarray
        ``(batch, seq)`` log p(token) values (<= 0).
    mask : numpy.ndarray or cupy.ndarray or None
        ``(batch, seq)`` booleans (or 0/1) marking the tokens to score;
        ``None`` scores every token. Unscored entries may hold anything, NaN
        included.

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        ``(batch,)`` float64 mean of ``-logprob`` over the scored tokens; NaN
        for a sample with no scored token. Same array type as the input.

    Raises
    ------
    fastzip.errors.InputError
        A bad shape or dtype, a mask of another shape, a non-finite scored
        value, or a positive log-probability.
    """
    was_cupy = _device.is_cupy_array(token_logprobs)
    xp = _device.cupy_status().module if was_cupy else np
    lp = xp.asarray(token_logprobs)
    if lp.ndim != 2 or lp.size == 0:
        raise InputError(f"token_logprobs must be a non-empty 2-D (batch, seq) array, "
                         f"got shape {tuple(lp.shape)}")
    check_real_dtype(lp, "token_logprobs")
    m = xp.ones(lp.shape, dtype=bool) if mask is None else xp.asarray(mask)
    if m.shape != lp.shape:
        raise InputError(f"mask shape {tuple(m.shape)} != token_logprobs shape {tuple(lp.shape)}")
    m = m.astype(bool)
    scored = xp.where(m, lp.astype(np.float64), 0.0)
    check_all_finite(scored, "token_logprobs (at scored positions)")
    if bool(_device.to_host((scored > 1e-4).any())):
        raise InputError("token_logprobs must be log-probabilities (<= 0); got a positive value")
    with np.errstate(invalid="ignore", divide="ignore"):
        return -scored.sum(axis=1) / m.sum(axis=1)


def perplexity(nll: Array) -> Array:
    """Perplexity from mean NLL in nats: ``exp(nll)``.

    Parameters
    ----------
    nll : numpy.ndarray or cupy.ndarray
        Per-sample mean NLL (e.g. from :func:`token_nll`), finite.

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        float64 perplexities; same array type as the input.

    Raises
    ------
    fastzip.errors.InputError
        An empty, non-float or non-finite ``nll``.
    """
    xp = _device.cupy_status().module if _device.is_cupy_array(nll) else np
    values = _finite_float_array(xp, nll, "nll")
    return xp.exp(values)


def ifd(cond_nll: Array, uncond_nll: Array) -> Array:
    """Instruction-Following Difficulty (Cherry-LLM, Li et al. 2024; Superfiltering).

    ``IFD = s(A|Q) / s(A)``: the mean answer loss given the instruction divided
    by the mean loss of the answer alone. Values near or above 1 mean the
    instruction does not help predict the answer (selectors usually drop > 1).

    Parameters
    ----------
    cond_nll : numpy.ndarray or cupy.ndarray
        Per-sample mean NLL of the answer conditioned on the prompt; >= 0.
    uncond_nll : numpy.ndarray or cupy.ndarray
        Per-sample mean NLL of the answer alone, same shape; > 0.

    Returns
    -------
    numpy.ndarray or cupy.ndarray
        float64 ``cond_nll / uncond_nll``; same array type as ``cond_nll``.

    Raises
    ------
    fastzip.errors.InputError
        Empty, non-float or non-finite inputs, different shapes, or values
        out of range.
    """
    xp = _device.cupy_status().module if _device.is_cupy_array(cond_nll) else np
    cond = _finite_float_array(xp, cond_nll, "cond_nll")
    uncond = _finite_float_array(xp, uncond_nll, "uncond_nll")
    if cond.shape != uncond.shape:
        raise InputError(f"cond_nll shape {tuple(cond.shape)} != uncond_nll shape "
                         f"{tuple(uncond.shape)}")
    if bool(_device.to_host((cond < 0).any())) or bool(_device.to_host((uncond <= 0).any())):
        raise InputError("IFD needs cond_nll >= 0 and uncond_nll > 0 (mean NLLs in nats)")
    return cond / uncond


# --- helpers -------------------------------------------------------------------------------

def _finite_float_array(xp: ArrayModule, x: Array, name: str) -> Array:
    arr = xp.asarray(x)
    check_real_dtype(arr, name)
    if arr.size == 0:
        raise InputError(f"{name} is empty")
    arr = arr.astype(np.float64, copy=False)
    try:
        check_all_finite(arr, name)
    except ValueError as exc:
        raise InputError(f"{exc}; a NaN NLL usually comes from a sample with no scored "
                         "token") from None
    return arr


def _check_logits_labels(logits: Array, labels: Array, shift: bool) -> tuple[int, int]:
    if getattr(logits, "ndim", None) != 3:
        raise InputError(f"logits must be 3-D (batch, seq, vocab), got shape "
                         f"{tuple(np.shape(logits))}")
    if getattr(labels, "ndim", np.ndim(labels)) != 2:
        raise InputError(f"labels must be 2-D (batch, seq), got shape {tuple(np.shape(labels))}")
    batch, seq, vocab = (int(s) for s in logits.shape)
    if tuple(int(s) for s in labels.shape) != (batch, seq):
        raise InputError(f"labels shape {tuple(labels.shape)} does not match logits "
                         f"(batch, seq) = {(batch, seq)}")
    if batch == 0 or seq == 0 or vocab == 0:
        raise InputError(f"logits is empty (shape {(batch, seq, vocab)})")
    if shift and seq < 2:
        raise InputError("shift=True needs seq >= 2 (logits[:, t] scores labels[:, t + 1])")
    check_real_dtype(logits, "logits")
    if np.dtype(labels.dtype).kind not in "iu":
        raise InputError(f"labels must be integers, got dtype {labels.dtype}")
    return batch, vocab


def _scored_positions(labels: np.ndarray, ignore_index: int, shift: bool,
                      vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample, logit position, target id) of every scored token, in row-major order."""
    aligned = labels[:, 1:] if shift else labels
    b_idx, t_idx = np.nonzero(aligned != ignore_index)
    target = aligned[b_idx, t_idx].astype(np.int64)
    if target.size:
        bad = np.flatnonzero((target < 0) | (target >= vocab))
        if bad.size:
            i = bad[0]
            pos = t_idx[i] + 1 if shift else t_idx[i]
            raise InputError(f"label {target[i]} at sample {b_idx[i]}, position {pos} is outside "
                             f"[0, {vocab}) and is not ignore_index ({ignore_index})")
    return b_idx.astype(np.int64), t_idx.astype(np.int64), target


def _raise_on_nonfinite(row_nll: np.ndarray, b_idx: np.ndarray, t_idx: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isfinite(row_nll))
    if bad.size:
        i = bad[0]
        raise InputError(f"non-finite loss at sample {b_idx[i]}, logit position {t_idx[i]}: "
                         "the logits hold NaN or +inf there, or the target logit is -inf")


def _compute_dtype(dtype: npt.DTypeLike) -> type[np.floating[Any]]:
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _row_nll_cpu(logits: np.ndarray, b_idx: np.ndarray, t_idx: np.ndarray, target: np.ndarray,
                 chunk_rows: int, vocab_chunk: int) -> np.ndarray:
    """NLL of each scored row: ``logsumexp(logits[b, t]) - logits[b, t, target]``."""
    out = np.empty(b_idx.size, dtype=np.float64)
    ctype = _compute_dtype(logits.dtype)
    for start in range(0, b_idx.size, chunk_rows):
        b = b_idx[start:start + chunk_rows]
        t = t_idx[start:start + chunk_rows]
        lse = _lse_rows_cpu(logits, b, t, vocab_chunk, ctype)
        picked = logits[b, t, target[start:start + chunk_rows]].astype(np.float64)
        out[start:start + b.size] = lse - picked
    return out


def _lse_rows_cpu(logits: np.ndarray, b: np.ndarray, t: np.ndarray, vocab_chunk: int,
                  ctype: type[np.floating[Any]]) -> np.ndarray:
    """Streaming log-sum-exp of rows ``logits[b, t, :]``, one vocabulary block at a time."""
    vocab = logits.shape[2]
    run_max = np.full(b.size, -np.inf, dtype=ctype)
    run_sum = np.zeros(b.size, dtype=ctype)
    with np.errstate(invalid="ignore", over="ignore"):
        for v0 in range(0, vocab, vocab_chunk):
            block = logits[b, t, v0:v0 + vocab_chunk].astype(ctype, copy=False)  # a fresh copy
            new_max = np.maximum(run_max, block.max(axis=1))
            shift_by = np.where(new_max == -np.inf, 0, new_max).astype(ctype, copy=False)
            block -= shift_by[:, None]
            np.exp(block, out=block)
            run_sum = run_sum * np.exp(run_max - shift_by) + block.sum(axis=1)
            run_max = new_max
        return run_max.astype(np.float64) + np.log(run_sum.astype(np.float64))


def _row_nll_gpu(logits: Array, b_idx: np.ndarray, t_idx: np.ndarray, target: np.ndarray,
                 chunk_rows: int) -> np.ndarray:
    """GPU twin of :func:`_row_nll_cpu`: one fused kernel launch per chunk of rows."""
    cp = _device.cupy_status().module
    seq, vocab = int(logits.shape[1]), int(logits.shape[2])
    ctype = _compute_dtype(logits.dtype)
    kernel = token_nll_kernel("double" if ctype == np.float64 else "float")
    out = cp.empty(b_idx.size, dtype=cp.float64)
    if _device.is_cupy_array(logits):
        # Resident on the GPU: one launch over all scored rows, reading them in place.
        flat = cp.ascontiguousarray(logits)
        if flat.dtype != ctype:  # float16/bfloat16: cast once (the kernel reads float/double)
            flat = flat.astype(ctype)
        offsets = cp.asarray((b_idx * seq + t_idx) * vocab)
        _launch_nll(kernel, flat, offsets, cp.asarray(target), vocab, out, NLL_THREADS)
        return _device.to_host(out)
    # On the host: gather and ship ``chunk_rows`` scored rows at a time.
    for start in range(0, b_idx.size, chunk_rows):
        stop = min(start + chunk_rows, b_idx.size)
        rows = logits[b_idx[start:stop], t_idx[start:stop], :]
        dev_rows = cp.asarray(rows, dtype=ctype)
        offsets = cp.arange(stop - start, dtype=cp.int64) * vocab
        _launch_nll(kernel, dev_rows, offsets, cp.asarray(target[start:stop]), vocab,
                    out[start:stop], NLL_THREADS)
    return _device.to_host(out)


def _launch_nll(kernel: Any, rows: Array, offsets: Array, target: Array, vocab: int, out: Array,
                threads: int) -> None:
    n_rows = int(offsets.size)
    if n_rows == 0:
        return
    kernel((n_rows,), (threads,),
           (rows, offsets, target, np.int64(n_rows), np.int64(vocab), out))
