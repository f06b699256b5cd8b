"""Type stubs for the Cython wrapper over csrc/ (fastzip/streams/_native.pyx)."""

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, disjoint_base

from .protocol import Capabilities

CODEC_IDS: dict[str, int]

def codec_available(codec: str) -> bool: ...
def codec_version(codec: str) -> tuple[int, ...]: ...
def codec_capabilities(codec: str) -> Capabilities: ...
def have_openmp() -> bool: ...

@disjoint_base
class NativeStream:
    codec: str
    level: int
    # a cdef class with __cinit__: the arguments go to __new__
    def __new__(cls, codec: str, level: int, long_distance: bool = ...) -> Self: ...
    def append(self, data: npt.NDArray[np.uint8]) -> None: ...
    @property
    def capabilities(self) -> Capabilities: ...
    def seal(self) -> None: ...
    def measure(
        self,
        data: npt.NDArray[np.uint8],
        offsets: npt.NDArray[np.int64],
        prefix: bytes = ...,
        suffix: bytes = ...,
        base: int = ...,
        n_threads: int = ...,
        index: npt.NDArray[np.int64] | None = ...,
    ) -> npt.NDArray[np.int64]: ...
    def params(self, frame_len: int) -> tuple[dict[str, int], dict[str, int]]: ...
    def zstd_params(self, frame_len: int) -> tuple[dict[str, int], dict[str, int]]: ...
