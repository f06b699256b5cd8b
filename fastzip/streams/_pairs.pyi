import numpy as np
import numpy.typing as npt

CODEC_IDS: dict[str, int]
CONTAINER_IDS: dict[str, int]

def supported(codec: str, container: str) -> bool: ...
def oneshot_sizes(
    codec: str,
    level: int,
    container: str,
    data: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64] | None = ...,
    n_threads: int = ...,
) -> npt.NDArray[np.int64]: ...
def pair_sizes(
    codec: str,
    level: int,
    container: str,
    a_data: npt.NDArray[np.uint8],
    a_offsets: npt.NDArray[np.int64],
    b_data: npt.NDArray[np.uint8],
    b_offsets: npt.NDArray[np.int64],
    separator: bytes = ...,
    row_ids: npt.NDArray[np.int64] | None = ...,
    col_ptr: npt.NDArray[np.int64] | None = ...,
    cols: npt.NDArray[np.int64] | None = ...,
    singles: bool = ...,
    n_threads: int = ...,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
