from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

Device = Literal["auto", "cpu", "cuda"]
Metric = Literal["cosine", "l2"]
# numpy.ndarray, or cupy.ndarray (CuPy in -> CuPy out); Any keeps CuPy optional.
Array = Any

def token_nll(
    logits: Array,
    labels: Array,
    ignore_index: int = ...,
    *,
    shift: bool = ...,
    chunk_size: int | None = ...,
    vocab_chunk_size: int = ...,
    device: Device = ...,
) -> Array: ...
def from_logprobs(token_logprobs: Array, mask: Array | None = ...) -> Array: ...
def perplexity(nll: Array) -> Array: ...
def ifd(cond_nll: Array, uncond_nll: Array) -> Array: ...
@overload
def kcenter_greedy(
    embeddings: Array,
    k: int,
    initial: Array | Sequence[int] | None = ...,
    metric: Metric = ...,
    *,
    dtype: npt.DTypeLike = ...,
    return_radii: Literal[False] = ...,
    device: Device = ...,
) -> Array: ...
@overload
def kcenter_greedy(
    embeddings: Array,
    k: int,
    initial: Array | Sequence[int] | None = ...,
    metric: Metric = ...,
    *,
    dtype: npt.DTypeLike = ...,
    return_radii: Literal[True],
    device: Device = ...,
) -> tuple[Array, Array]: ...
def deita_filter(
    embeddings: Array,
    order: Array | Sequence[int] | None = ...,
    threshold: float = ...,
    budget: int | None = ...,
    *,
    dtype: npt.DTypeLike = ...,
    device: Device = ...,
) -> Array: ...
@overload
def facility_location_greedy(
    embeddings: Array,
    k: int,
    *,
    dtype: npt.DTypeLike = ...,
    return_gains: Literal[False] = ...,
    similarity_cache_bytes: int = ...,
    device: Device = ...,
) -> Array: ...
@overload
def facility_location_greedy(
    embeddings: Array,
    k: int,
    *,
    dtype: npt.DTypeLike = ...,
    return_gains: Literal[True],
    similarity_cache_bytes: int = ...,
    device: Device = ...,
) -> tuple[Array, Array]: ...
@overload
def max_similarity(
    embeddings: Array,
    selected: Array | Sequence[int],
    *,
    dtype: npt.DTypeLike = ...,
    return_index: Literal[False] = ...,
    device: Device = ...,
) -> Array: ...
@overload
def max_similarity(
    embeddings: Array,
    selected: Array | Sequence[int],
    *,
    dtype: npt.DTypeLike = ...,
    return_index: Literal[True],
    device: Device = ...,
) -> tuple[Array, Array]: ...
def ncd_matrix(
    a: Sequence[str | bytes],
    b: Sequence[str | bytes] | None = ...,
    codec: str = ...,
    level: int | None = ...,
    n_threads: int = ...,
    *,
    formula: Literal["ncd", "cdm", "clm"] = ...,
    separator: bytes | str = ...,
    container: str | None = ...,
    order: Literal["ab", "ba"] = ...,
    symmetric: bool = ...,
) -> npt.NDArray[np.float64]: ...

__all__: list[str]
