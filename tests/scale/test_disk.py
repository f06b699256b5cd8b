"""A disk-backed (memory-mapped) pool selects exactly as the same pool in memory."""
from __future__ import annotations

import numpy as np
import pytest

import fastzip
from fastzip.errors import InputError
from fastzip.samples.pool import Pool
from fastzip.scale.disk import PoolWriter, open_pool, write_pool


@pytest.fixture(scope="module")
def pools(evals_rows, tmp_path_factory):
    rows = evals_rows[:1200] + evals_rows[:100]          # exact duplicates too: dedupe reads the mapped bytes
    memory = Pool.from_samples(rows, "text")
    folder = tmp_path_factory.mktemp("disk") / "pool"
    write_pool(memory, folder)
    return memory, open_pool(folder)


def test_the_mapped_pool_is_on_disk_and_holds_the_same_samples(pools):
    memory, disk = pools
    assert isinstance(disk.data, np.memmap) and not disk.data.flags.writeable
    assert len(disk) == len(memory) and np.array_equal(disk.offsets, memory.offsets)
    assert all(disk.item(i) == memory.item(i) for i in range(0, len(memory), 97))


@pytest.mark.parametrize("kwargs", [dict(budget=150, codec="zstd"), dict(budget=200, codec="lz77"),
                                    dict(budget_bytes=50_000, codec="zstd"), dict(budget=100, codec="zlib")])
def test_disk_backed_pool_gives_the_same_picks(pools, kwargs):
    memory, disk = pools
    a = fastzip.select(memory, k1=400, k2=60, k3=20, **kwargs)
    b = fastzip.select(disk, k1=400, k2=60, k3=20, **kwargs)
    assert b.indices.tolist() == a.indices.tolist()
    assert b.ratio == a.ratio and b.duplicates_dropped == a.duplicates_dropped == 100


def test_writer_streams_samples_and_a_bad_folder_is_named(tmp_path, evals_bytes):
    with PoolWriter(tmp_path / "p", "json") as w:
        w.extend(evals_bytes[:50])
        w.add(evals_bytes[50])
    pool = open_pool(tmp_path / "p")
    assert [pool.item(i) for i in range(51)] == evals_bytes[:51] and pool.serializer == "json"
    (tmp_path / "p" / "samples.bin").write_bytes(b"short")
    with pytest.raises(InputError, match="files disagree"):
        open_pool(tmp_path / "p")
    with pytest.raises(InputError, match="not a pool folder"):
        open_pool(tmp_path / "nothing")


def test_out_of_core_keeps_digests_not_bytes(tmp_path, evals_rows):
    """The streaming pass keeps 16 bytes a kept sample; the selection reads the bytes from a mapped pool."""
    import json

    from fastzip.scale import Scorer
    from fastzip.scale.ooc import score_shards, select_shards

    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in evals_rows[:2000]))
    top = score_shards([str(path)], 800, Scorer())
    kept = top.result()
    assert len(kept) == 800 and {len(b) for b in kept.items} == {16}
    res = select_shards(str(path), 60, k1=400, k2=60, k3=20)
    assert res.indices.tolist() == fastzip.select(evals_rows[:2000], 60, k1=400, k2=60, k3=20).indices.tolist()
