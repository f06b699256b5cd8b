"""Type stubs for the Cython wrapper over csrc/ (fastzip/_native.pyx)."""
from typing import Optional

import numpy as np
import numpy.typing as npt

CODEC_IDS: dict[str, int]

def codec_available(codec: str) -> bool: ...
def codec_version(codec: str) -> tuple[int, ...]: ...
def have_openmp() -> bool: ...

class NativeStream:
    codec: str
    level: int
    def __init__(self, codec: str, level: int, long_distance: bool = ...) -> None: ...
    def append(self, data: npt.NDArray[np.uint8]) -> None: ...
    def seal(self) -> None: ...
    def measure(
        self,
        data: npt.NDArray[np.uint8],
        offsets: npt.NDArray[np.int64],
        prefix: bytes = ...,
        suffix: bytes = ...,
        base: int = ...,
        n_threads: int = ...,
        index: Optional[npt.NDArray[np.int64]] = ...,
    ) -> npt.NDArray[np.int64]: ...
    def zstd_params(self, frame_len: int) -> tuple[dict[str, int], dict[str, int]]: ...
