"""Out of core: kill -9 in the scoring pass or in the selection, rerun, the same bytes."""
from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest

from fastzip.scale.ooc import SCORING_FILE, select_shards
from fastzip.selection import checkpoint as ckpt
from tests.selection.test_checkpoint import ARGS, fastzip_cli, kill_at, run, saved_round


@pytest.fixture(scope="module")
def shards(tmp_path_factory, evals_rows):
    folder = tmp_path_factory.mktemp("shards") / "pool"
    folder.mkdir()
    for k in range(8):
        part = evals_rows[k * 600:(k + 1) * 600]
        (folder / f"part-{k}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    return folder


@pytest.fixture(scope="module")
def uninterrupted(shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    done = run(fastzip_cli(shards, "-o", out, "--budget", 400, *ARGS))
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def scored_shards(folder):
    """How many shards a checkpoint's scoring pass has finished."""
    try:
        saved = ckpt.load_arrays(os.path.join(folder, SCORING_FILE))
    except Exception:
        return 0
    return 0 if saved is None else int(saved["next"][0])


@pytest.mark.parametrize("where,seed", [("scoring", 1), ("scoring", 2), ("select", 3), ("select", 4)])
def test_kill_9_out_of_core_then_rerun_gives_the_same_bytes(shards, uninterrupted, tmp_path, where, seed):
    rng = random.Random(seed)
    folder = tmp_path / "ckpt"
    out = tmp_path / "out.jsonl"
    cmd = fastzip_cli(shards, "-o", out, "--budget", 400, *ARGS, "--checkpoint", folder)
    if where == "scoring":
        killed = kill_at(cmd, lambda: scored_shards(folder), rng.randint(1, 7))
    else:
        killed = kill_at(cmd, lambda: saved_round(str(folder / "select" / ckpt.ENGINE_FILE)), rng.randint(1, 35))
    assert killed and not out.exists()      # killed before it wrote anything
    done = run(cmd)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == uninterrupted


def test_out_of_core_resume_in_process_and_refusal(shards, tmp_path, monkeypatch):
    """A scoring pass stopped after shard 3 continues from it; another budget on the same folder is refused."""
    paths = sorted(str(p) for p in shards.iterdir())
    whole = select_shards(paths, 120, k1=300, k2=40, k3=10)
    real_save = ckpt.save_arrays
    calls = []

    def save_then_stop(path, arrays):
        real_save(path, arrays)
        if path.endswith(SCORING_FILE):
            calls.append(int(arrays["next"][0]))
            if calls[-1] == 3:
                raise KeyboardInterrupt

    monkeypatch.setattr("fastzip.scale.ooc.save_arrays", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        select_shards(paths, 120, k1=300, k2=40, k3=10, checkpoint=tmp_path)
    calls.clear()
    resumed = select_shards(paths, 120, k1=300, k2=40, k3=10, checkpoint=tmp_path)
    assert calls[0] == 4                     # shards 0-2 were not read again
    assert np.array_equal(resumed.indices, whole.indices)
    assert resumed.pool_size == whole.pool_size and resumed.kept == whole.kept
    with pytest.raises(Exception, match="made with other arguments or another input"):
        select_shards(paths, 130, k1=300, k2=40, k3=10, checkpoint=tmp_path)


def test_every_path_refuses_a_folder_made_by_another_run(shards, tmp_path, evals_rows):
    """One folder, one run: an in-memory run's folder is refused out of core and on Ray, before any work."""
    import fastzip
    from fastzip.errors import InputError

    fastzip.select(evals_rows[:300], 20, k1=100, k2=40, k3=10, checkpoint=tmp_path)
    paths = sorted(str(p) for p in shards.iterdir())
    with pytest.raises(InputError, match="made with other arguments or another input"):
        select_shards(paths, 20, k1=100, k2=40, k3=10, checkpoint=tmp_path)
    pytest.importorskip("ray.data")
    from fastzip.scale.ray import select_files

    with pytest.raises(InputError, match="made with other arguments or another input"):
        select_files(paths, 20, k1=100, k2=40, k3=10, checkpoint=str(tmp_path))
