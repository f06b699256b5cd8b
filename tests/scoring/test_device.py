"""Device resolution of fastzip.scoring, and the embedding kernels on a GPU against the CPU.

The GPU test is marked ``gpu`` and skipped without CuPy and a CUDA device.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastzip import scoring
from fastzip.scoring import _device
from tests.scoring.helpers import cupy_or_skip


def test_import_does_not_import_cupy_but_auto_probes_once():
    """A meta-path hook records every attempt to import cupy."""
    code = textwrap.dedent("""
        import sys
        attempts = []
        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] == 'cupy':
                    attempts.append(name)
                    raise ImportError('cupy blocked by the test')
                return None
        sys.meta_path.insert(0, Spy())
        import numpy as np
        import fastzip.scoring as s
        x = np.eye(4, dtype=np.float32) + 0.1
        s.kcenter_greedy(x, 2, device='cpu')
        assert attempts == [], attempts
        s.kcenter_greedy(x, 2, device='auto')
        s.max_similarity(x, [0], device='auto')
        assert attempts == ['cupy'], attempts
        try:
            s.kcenter_greedy(x, 2, device='cuda')
        except RuntimeError as exc:
            assert 'CuPy' in str(exc), exc
        else:
            raise AssertionError('device=cuda without CuPy did not raise')
        print('ok')
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_cuda_without_gpu_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(_device, "cupy_status", lambda: _device.CupyStatus(
        None, "CuPy is installed but no CUDA GPU was found"))
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        _device.resolve_device("cuda")
    assert _device.resolve_device("auto") == "cpu"
    assert _device.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be one of"):
        _device.resolve_device("gpu")


@pytest.mark.gpu
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_gpu_embedding_kernels_match_cpu(emb, metric):
    cp = cupy_or_skip()
    g = cp.asarray(emb)
    for kwargs in (dict(), dict(initial=[1, 2])):
        cpu = scoring.kcenter_greedy(emb, 20, metric=metric, dtype=np.float64, device="cpu",
                                     **kwargs)
        gpu = scoring.kcenter_greedy(g, 20, metric=metric, dtype=np.float64, **kwargs)
        np.testing.assert_array_equal(gpu.get(), cpu)
    order = np.random.default_rng(0).permutation(len(emb))
    np.testing.assert_array_equal(
        scoring.deita_filter(g, order, 0.8, dtype=np.float64).get(),
        scoring.deita_filter(emb, order, 0.8, dtype=np.float64, device="cpu"))
    np.testing.assert_array_equal(
        scoring.facility_location_greedy(g, 10, dtype=np.float64).get(),
        scoring.facility_location_greedy(emb, 10, dtype=np.float64, device="cpu"))
    np.testing.assert_allclose(
        scoring.max_similarity(g, [0, 5, 9]).get(),
        scoring.max_similarity(emb, [0, 5, 9], device="cpu"), atol=1e-5)
