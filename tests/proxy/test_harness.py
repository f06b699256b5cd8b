"""The proxy harness end to end: micro-run, cache, determinism, interruption, law commands on its outputs."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastzip.cli import main  # noqa: E402
from fastzip.law.ingest import loss_from_trainer_state, ratio_and_count  # noqa: E402
from fastzip.proxy import harness  # noqa: E402
from fastzip.proxy.text import Tokenizer, joined_text, record_texts  # noqa: E402
from fastzip.proxy.train import TrainConfig, train_proxy  # noqa: E402
from fastzip.proxy.versions import build_versions  # noqa: E402

TINY = ["--context", "64", "--width", "32", "--heads", "2", "--layers", "1", "--batch-size", "16"]


@pytest.fixture(scope="module")
def version_files(evals_rows, tmp_path_factory):
    """Five real data versions of 30 KB (ZIP, two random, inconsistent, a mixture) and the held-out slice."""
    vs = build_versions(evals_rows[:1000], budget_bytes=30_000, kinds=("zip", "random", "inconsistent", "mix"),
                        random_seeds=(0, 1), mixtures=(0.5,), heldout_bytes=12_000)
    return vs.write(tmp_path_factory.mktemp("versions"))


def _proxy(files, out, *extra):
    versions = [f"{n}={p}" for n, p in files.items() if n != "heldout"]
    return main(["law", "proxy", *versions, "--heldout", files["heldout"], "-o", str(out), "-q", *TINY, *extra])


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def micro_run(version_files, tmp_path_factory):
    """The CI micro-run: five versions x one seed with a tiny model."""
    out = tmp_path_factory.mktemp("run") / "runs.csv"
    assert _proxy(version_files, out) == 0
    return out


def test_micro_run_table(micro_run, version_files):
    rows = _rows(micro_run)
    assert [r["name"] for r in rows] == ["zip", "random_s0", "random_s1", "mix50", "inconsistent"]
    workdir = str(micro_run.with_suffix("")) + ".proxy"
    for r in rows:
        ratio, count = ratio_and_count(version_files[r["name"]])      # what `fastzip law ratio` prints
        assert float(r["ratio"]) == ratio and int(r["records"]) == count
        state = os.path.join(workdir, r["name"], "trainer_state.json")
        assert float(r["loss"]) == loss_from_trainer_state(state)
        assert 0 < float(r["loss"]) < np.log(256) + 0.5              # nats per byte, near or below uniform
        assert -9 < float(r["performance"]) < 0                      # minus bits per byte


def test_law_commands_read_the_micro_run(micro_run, capsys):
    assert main(["law", "fit", str(micro_run), "--target", "performance", "--bootstrap", "0", "--json"]) == 0
    fitted = json.loads(capsys.readouterr().out)
    assert fitted["n_runs"] == 5
    workdir = str(micro_run.with_suffix("")) + ".proxy"
    state = os.path.join(workdir, "inconsistent")
    status = main(["law", "check", str(micro_run), "--trainer-state", state, "--ratio", "2.5",
                   "--bootstrap", "0", "--json"])
    assert status in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["loss"] == pytest.approx(float(_rows(micro_run)[-1]["loss"]), abs=0)


def test_trainer_state_format(micro_run):
    workdir = str(micro_run.with_suffix("")) + ".proxy"
    with open(os.path.join(workdir, "zip", "trainer_state.json")) as f:
        state = json.load(f)
    steps = [e for e in state["log_history"] if "loss" in e]
    assert [e["step"] for e in steps] == list(range(1, state["global_step"] + 1))
    assert steps[-1]["epoch"] == 1.0 and state["logging_steps"] == 1
    assert any("eval_loss" in e for e in state["log_history"])
    assert "train_loss" in state["log_history"][-1] and "loss" not in state["log_history"][-1]


def test_rerun_skips_finished_versions(micro_run, version_files, capsys):
    workdir = str(micro_run.with_suffix("")) + ".proxy"
    stamp = os.stat(os.path.join(workdir, "zip", "result.json")).st_mtime_ns
    before = micro_run.read_text()
    versions = [f"{n}={p}" for n, p in version_files.items() if n != "heldout"]
    assert main(["law", "proxy", *versions, "--heldout", version_files["heldout"], "-o", str(micro_run),
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert err.count("(cached)") == 5
    assert os.stat(os.path.join(workdir, "zip", "result.json")).st_mtime_ns == stamp
    assert micro_run.read_text() == before
    # another seed is another run
    assert main(["law", "proxy", f"zip={version_files['zip']}", "--heldout", version_files["heldout"],
                 "-o", str(micro_run.parent / "seed1.csv"), "--work-dir", workdir, "--seed", "1", *TINY]) == 0
    assert "(cached)" not in capsys.readouterr().err


def test_same_seed_same_numbers(evals_rows):
    tok = Tokenizer.load()
    tokens = tok.encode(joined_text(record_texts(evals_rows[:120])))
    held = tok.encode(joined_text(record_texts(evals_rows[4000:4030])))
    cfg = TrainConfig(context=64, d_model=32, n_layers=1, n_heads=2, seed=3)
    a = train_proxy(tokens, {"h": (held, len(held) - 1)}, cfg, 256)
    b = train_proxy(tokens, {"h": (held, len(held) - 1)}, cfg, 256)
    c = train_proxy(tokens, {"h": (held, len(held) - 1)}, TrainConfig(**{**cfg.__dict__, "seed": 4}), 256)
    assert abs(a.loss - b.loss) <= 1e-6 and abs(a.performance["h"] - b.performance["h"]) <= 1e-6
    assert a.loss != c.loss
    assert torch.are_deterministic_algorithms_enabled() is False       # restored after the run


def test_tokenizer_file(evals_rows, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    texts = [t.decode() for t in record_texts(evals_rows[:500])]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"],
                                                       show_progress=False))
    tok.save(str(tmp_path / "bpe.json"))
    data, held = tmp_path / "v.jsonl", tmp_path / "h.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in evals_rows[:100]))
    held.write_text("".join(json.dumps(r) + "\n" for r in evals_rows[4000:4030]))
    out = tmp_path / "runs.csv"
    assert main(["law", "proxy", str(data), "--heldout", str(held), "-o", str(out), "-q", *TINY,
                 "--tokenizer", str(tmp_path / "bpe.json")]) == 0
    row = _rows(out)[0]
    assert row["name"] == "v"
    assert int(row["train_tokens"]) == len(tok.encode(joined_text(record_texts(evals_rows[:100])).decode()).ids)


def test_ctrl_c_keeps_finished_versions_and_writes_no_table(version_files, tmp_path, monkeypatch, capsys):
    from fastzip.proxy import train

    real = train.train_proxy
    calls = []

    def interrupt_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "train_proxy", interrupt_second)
    out = tmp_path / "runs.csv"
    assert _proxy(version_files, out) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()
    workdir = tmp_path / "runs.proxy"
    assert (workdir / "zip" / "result.json").exists()
    assert not (workdir / "random_s0").exists()
    assert not [p for p in workdir.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("case, message", [
    ("duplicate", "two versions are named"),
    ("missing", "no such file"),
    ("device", "CUDA is not available"),
    ("badname", "must be letters"),
])
def test_bad_input_one_line_nothing_written(version_files, tmp_path, capsys, case, message):
    if case == "device" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    out = tmp_path / "runs.csv"
    zip_file, held = version_files["zip"], version_files["heldout"]
    argv = {"duplicate": [f"a={zip_file}", f"a={version_files['mix50']}", "--heldout", held],
            "missing": [f"a={zip_file}", "--heldout", str(tmp_path / "nope.jsonl")],
            "device": [f"a={zip_file}", "--heldout", held, "--device", "cuda"],
            "badname": [f".a={zip_file}", "--heldout", held]}[case]
    assert main(["law", "proxy", *argv, "-o", str(out), "-q", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_time_limit_before_the_first_epoch_is_an_error(version_files, tmp_path, capsys):
    assert _proxy({"zip": version_files["zip"], "heldout": version_files["heldout"]}, tmp_path / "r.csv",
                  "--time-limit", "1e-9") == 2
    assert "before the first epoch" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_cache_key_follows_the_data(version_files, tmp_path):
    cfg = TrainConfig()
    tok = Tokenizer.load()
    v = harness.Version("zip", version_files["zip"])
    k1 = harness.cache_key(v, cfg, harness.RatioSettings(), version_files["heldout"], None, tok)
    copy = tmp_path / "zip.jsonl"
    copy.write_bytes(open(version_files["zip"], "rb").read() + b"\n")
    k2 = harness.cache_key(harness.Version("zip", str(copy)), cfg, harness.RatioSettings(),
                           version_files["heldout"], None, tok)
    k3 = harness.cache_key(v, TrainConfig(lr=1e-3), harness.RatioSettings(), version_files["heldout"], None, tok)
    assert len({k1, k2, k3}) == 3
