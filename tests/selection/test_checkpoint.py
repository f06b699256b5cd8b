"""Resume: a run killed with SIGKILL at a random round, rerun with the same arguments, gives the same bytes."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastzip
from fastzip.errors import InputError, UsageError
from fastzip.selection import checkpoint as ckpt
from tests.helpers import ROOT

# the command line with a checkpoint after every round, so that a kill can land after any of them
RUNNER = ("import sys; import fastzip.selection.checkpoint as c; c.EVERY_ROUNDS = 1; "
          "from fastzip.cli.main import main; sys.exit(main(sys.argv[1:]))")
ARGS = ["--k1", "300", "--k2", "40", "--k3", "10", "--quiet"]


def fastzip_cli(*args):
    return [sys.executable, "-c", RUNNER, "select", *map(str, args)]


def saved_round(path):
    """The round a checkpoint file holds (0 when there is none yet)."""
    try:
        saved = ckpt.load_arrays(path)
    except InputError:
        return 0
    if saved is None:
        return 0
    return int(json.loads(saved["meta"].tobytes())["round_no"])


def kill_at(cmd, watch, at_round, timeout=120.0):
    """Start ``cmd``, SIGKILL it once ``watch`` holds round ``at_round`` or later; True if it was killed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if watch() >= at_round:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.005)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run(cmd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def pool_file(tmp_path_factory, evals_rows):
    path = tmp_path_factory.mktemp("pool") / "pool.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in evals_rows[:1500]))
    return path


@pytest.fixture(scope="module")
def uninterrupted(pool_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    done = run(fastzip_cli(pool_file, "-o", out, "--budget", 400, *ARGS))
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_a_random_round_then_rerun_gives_the_same_bytes(pool_file, uninterrupted, tmp_path, seed):
    rng = random.Random(seed)
    folder = tmp_path / "ckpt"
    out = tmp_path / "out.jsonl"
    cmd = fastzip_cli(pool_file, "-o", out, "--budget", 400, *ARGS, "--checkpoint", folder)
    watch = lambda: saved_round(str(folder / ckpt.ENGINE_FILE))   # noqa: E731
    kills = 0
    for at in sorted(rng.sample(range(1, 30), 2)):   # killed twice, at two random rounds of 40
        if not kill_at(cmd, watch, at):
            break                                     # it finished first
        kills += 1
        assert not out.exists()                       # nothing written by a killed run
        assert 0 < watch() < 40
    assert kills >= 1
    done = run(cmd)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == uninterrupted
    again = run(cmd)                                  # a finished checkpoint gives the same output again
    assert again.returncode == 0 and out.read_bytes() == uninterrupted


def test_a_checkpoint_of_another_run_is_refused_in_one_line(pool_file, tmp_path):
    folder = tmp_path / "ckpt"
    first = run(fastzip_cli(pool_file, "-o", tmp_path / "a.jsonl", "--budget", 30, *ARGS, "--checkpoint", folder))
    assert first.returncode == 0, first.stderr
    other_args = run(fastzip_cli(pool_file, "-o", tmp_path / "b.jsonl", "--budget", 40, *ARGS,
                                 "--checkpoint", folder))
    assert other_args.returncode == 2
    assert "made with other arguments or another input" in other_args.stderr
    assert len(other_args.stderr.strip().splitlines()) == 1 and not (tmp_path / "b.jsonl").exists()
    changed = tmp_path / "pool.jsonl"
    changed.write_text(pool_file.read_text().replace("the", "teh", 1))
    other_input = run(fastzip_cli(changed, "-o", tmp_path / "c.jsonl", "--budget", 30, *ARGS, "--checkpoint", folder))
    assert other_input.returncode == 2 and "another input" in other_input.stderr


def test_select_resumes_from_a_saved_state(evals_rows, tmp_path, monkeypatch):
    """In process: a run stopped after round 7 continues to exactly the uninterrupted selection and trace."""
    rows = evals_rows[:800]
    kwargs = dict(k1=200, k2=40, k3=10, codec="lz77")
    whole = fastzip.select(rows, 150, **kwargs)
    monkeypatch.setattr(ckpt, "EVERY_ROUNDS", 1)

    class Stop(Exception):
        pass

    real_write = ckpt.FileCheckpointer._write

    def write_then_stop(self, state):
        real_write(self, state)
        if state.round_no == 7:
            raise Stop

    monkeypatch.setattr(ckpt.FileCheckpointer, "_write", write_then_stop)
    with pytest.raises(Stop):
        fastzip.select(rows, 150, checkpoint=tmp_path, **kwargs)
    monkeypatch.setattr(ckpt.FileCheckpointer, "_write", real_write)
    resumed = fastzip.select(rows, 150, checkpoint=tmp_path, **kwargs)
    assert resumed.indices.tolist() == whole.indices.tolist()
    assert [t.round for t in resumed.trace] == [t.round for t in whole.trace]
    assert [t.picks for t in resumed.trace] == [t.picks for t in whole.trace]
    assert resumed.ratio == whole.ratio
    # a byte budget and a token budget resume too
    counts = np.asarray([len(str(r)) // 4 + 1 for r in rows])
    for budget_kwargs in (dict(budget_bytes=60_000), dict(budget_tokens=12_000, token_counts=counts)):
        whole = fastzip.select(rows, **budget_kwargs, **kwargs)
        folder = tmp_path / str(sorted(budget_kwargs))
        monkeypatch.setattr(ckpt.FileCheckpointer, "_write", write_then_stop)
        with pytest.raises(Stop):
            fastzip.select(rows, **budget_kwargs, checkpoint=folder, **kwargs)
        monkeypatch.setattr(ckpt.FileCheckpointer, "_write", real_write)
        assert fastzip.select(rows, **budget_kwargs, checkpoint=folder, **kwargs).indices.tolist() == \
            whole.indices.tolist()


def test_checkpoint_needs_default_mode(evals_rows, tmp_path):
    with pytest.raises(UsageError, match="checkpoint= needs the default mode"):
        fastzip.select(evals_rows[:200], 10, k1=100, k2=50, k3=10, compat="reference", checkpoint=tmp_path)
