"""The checks every embedding kernel of fastzip.scoring makes on its input (fastzip.scoring._embeddings)."""
from __future__ import annotations

import numpy as np
import pytest

from fastzip import scoring


@pytest.mark.parametrize("fn", ["kcenter_greedy", "facility_location_greedy", "deita_filter",
                                "max_similarity"])
def test_embedding_kernels_reject_bad_embeddings(fn):
    call = {
        "kcenter_greedy": lambda x: scoring.kcenter_greedy(x, 1, device="cpu"),
        "facility_location_greedy": lambda x: scoring.facility_location_greedy(x, 1,
                                                                               device="cpu"),
        "deita_filter": lambda x: scoring.deita_filter(x, None, device="cpu"),
        "max_similarity": lambda x: scoring.max_similarity(x, [0], device="cpu"),
    }[fn]
    x = np.ones((5, 4), np.float32)
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity \\(first at index \\(3, 1\\)"):
        call(x)
    with pytest.raises(ValueError, match="empty"):
        call(np.zeros((0, 4), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        call(np.ones(4, np.float32))
    z = np.ones((5, 4), np.float32)
    z[2] = 0
    with pytest.raises(ValueError, match="row 2 is all zeros"):
        call(z)
