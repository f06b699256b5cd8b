"""The out-of-core kept pool's scratch folder: a run killed with SIGKILL leaves it, the next run removes it.

A living run's folder is never touched: each run holds a lock on it that
only its death releases.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

from fastzip.scale import ooc
from tests.helpers import ROOT

HOLD = """
import sys, time
from fastzip.scale.ooc import scratch_folder
with scratch_folder() as folder:
    open(folder + "/samples.bin", "wb").write(b"x" * 4096)
    print(folder, flush=True)
    time.sleep(600)
"""


def _holder(tmp_path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_a_killed_runs_scratch_goes_and_a_living_runs_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed, killed_folder = _holder(tmp_path)
    living, living_folder = _holder(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert os.path.exists(os.path.join(killed_folder, "samples.bin"))     # SIGKILL skipped the cleanup
        old_style = tmp_path / f"{ooc.SCRATCH_PREFIX}abc"                      # no lock file: not ours to judge
        old_style.mkdir()
        with ooc.scratch_folder() as mine:
            assert not os.path.exists(killed_folder)
            assert os.path.exists(os.path.join(living_folder, "samples.bin"))
            assert old_style.exists() and os.path.isdir(mine)
        assert not os.path.exists(mine)
    finally:
        living.kill()
        living.wait(timeout=30)
