"""The drop-in examples: npc_gzip's and ZIP-FIT's own code next to fastzip, on tests/data texts."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.helpers import EXAMPLES, require_zstd_match

INSTALL = "pip install --no-deps npc-gzip==0.1.1 zip-fit==1.0.9"


@pytest.fixture(autouse=True)
def _no_stand_ins_left():
    """The ZIP-FIT example stubs datasets and brotli in sys.modules: take them out again afterwards
    (a stub without a spec breaks other packages' find_spec, e.g. transformers' in the proxy tests)."""
    names = ("datasets", "brotli")
    before = {name: sys.modules.get(name) for name in names}
    yield
    for name, module in before.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_npc_gzip_predictions_are_equal(capsys):
    pytest.importorskip("npc_gzip", reason=f"needs npc_gzip: {INSTALL}")
    example = _example("npc_gzip_backend")
    result = example.main(["--train", "120", "--test", "40", "--threads", "2"])   # asserts inside
    assert "same distances and predictions" in capsys.readouterr().out
    assert 0 < result["accuracy"] <= 1
    # with k = 3 the vote and its ties must agree as well
    train, labels, test, _ = example.load_texts(60, 20, seed=3)
    d1, p1 = example.npc_gzip_predict(train, labels, test, top_k=3, seed=5)
    d2, p2 = example.fastzip_predict(train, labels, test, top_k=3, seed=5, n_threads=1)
    assert (d1 == d2).all() and (p1 == p2).all()


def test_zipfit_picks_are_equal(capsys):
    if importlib.util.find_spec("zip_fit") is None:     # (importing it needs datasets, brotli)
        pytest.skip(f"needs zip_fit: {INSTALL}")
    pytest.importorskip("lz4.frame")
    pytest.importorskip("zstandard")
    example = _example("zipfit_backend")
    example.main(["--sources", "150", "--targets", "12", "-k", "30", "--level", "9"])  # asserts inside
    assert "same picks and scores" in capsys.readouterr().out
    sources, targets = example.load_texts(80, 6)
    for level in (0, 6):                                   # 0 is ZIP-FIT's default level
        ours = example.fastzip_rank(sources, targets, 25, level, n_threads=2)
        theirs = example.zipfit_rank(sources, targets, 25, level)
        assert [s for _, s in ours] == [s for _, s in theirs]
        assert example.same_picks(ours, theirs)


@pytest.mark.parametrize("algorithm,level", [("zstd", 3), ("zstd", 0), ("zstd", 19), ("lz4", 0), ("lz4", 9)])
def test_zipfit_zstd_and_lz4_modes(algorithm, level):
    """ZIP-FIT's zstd and lz4 modes give the same picks as well."""
    if importlib.util.find_spec("zip_fit") is None:
        pytest.skip(f"needs zip_fit: {INSTALL}")
    if algorithm == "zstd":
        require_zstd_match()
    example = _example("zipfit_backend")
    sources, targets = example.load_texts(80, 6)
    ours = example.fastzip_rank(sources, targets, 25, level, n_threads=2, algorithm=algorithm)
    theirs = example.zipfit_rank(sources, targets, 25, level, algorithm=algorithm)
    assert [s for _, s in ours] == [s for _, s in theirs]
    assert example.same_picks(ours, theirs)
