"""Tests of the ``fastzip law`` sub-commands, on a parser of their own.

They build ``argparse.ArgumentParser().add_subparsers()``, add ``law`` with
:func:`fastzip.cli.law.add_subparser`, and call ``args.func(args)``, so they
do not depend on the main CLI.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import fastzip.law as law
from fastzip.cli.law import add_subparser
from fastzip.errors import InputError
from fastzip.law import ingest
from tests.helpers import DATA


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fastzip")
    add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def runs_csv(tmp_path):
    """12 earlier data versions: L = 2.6 - 0.8 ln R, Z = 0.9 - 0.12 ln R - 0.25 L (+ noise)."""
    rng = np.random.default_rng(0)
    r = np.sort(rng.uniform(1.5, 5.0, 12))
    loss = 2.6 - 0.8 * np.log(r) + rng.normal(0, 0.02, 12)
    perf = 0.9 - 0.12 * np.log(r) - 0.25 * (loss + rng.normal(0, 0.1, 12)) + rng.normal(0, 0.003, 12)
    path = tmp_path / "runs.csv"
    path.write_text("name,ratio,loss,performance\n" + "".join(
        f"v{i},{a:.6f},{b:.6f},{c:.6f}\n" for i, (a, b, c) in enumerate(zip(r, loss, perf))))
    return path


def expected_loss(ratio: float) -> float:
    return 2.6 - 0.8 * np.log(ratio)


# ------------------------------------------------------------------- help
def _leaf_parsers():
    parser = argparse.ArgumentParser(prog="fastzip")
    law_parser = add_subparser(parser.add_subparsers(dest="command"))
    sub = next(a for a in law_parser._actions if isinstance(a, argparse._SubParsersAction))
    return law_parser, sub.choices


def test_law_has_fit_check_ratio_and_every_option_has_help():
    law_parser, leaves = _leaf_parsers()
    assert set(leaves) == {"fit", "check", "ratio", "proxy"}
    assert all(w in law_parser.format_help() for w in ("fit", "check", "ratio"))
    for name, leaf in leaves.items():
        for action in leaf._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help.strip(), f"law {name} {action.option_strings or action.dest}: no help"
        assert leaf.get_default("func") is not None


def test_law_without_a_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli("law")
    assert exc.value.code == 2


# -------------------------------------------------------------------- fit
def test_fit_prints_the_law(runs_csv, capsys):
    assert run_cli("law", "fit", runs_csv, "--form", "loglinear", "--bootstrap", "100") == 0
    out = capsys.readouterr().out
    assert out.startswith("loss law, form loglinear, 12 runs: loss = a + b*ln(ratio)")
    assert "95% CI" in out and "R^2" in out


def test_fit_json_matches_the_api(runs_csv, capsys, tmp_path):
    out_file = tmp_path / "law.json"
    assert run_cli("law", "fit", runs_csv, "--target", "performance", "--bootstrap", "50", "--seed", "3",
                   "--json", "-o", out_file) == 0
    printed = json.loads(capsys.readouterr().out)
    api = law.fit(runs_csv, target="performance", n_boot=50, seed=3)
    assert printed["form"] == api.form and printed["params"] == api.params
    assert printed["ci"] == {k: list(v) for k, v in api.ci.items()}
    assert json.loads(out_file.read_text()) == printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law.json", "runs.csv"]


def test_fit_bad_input_raises_input_error(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("name,ratio,loss\na,2.0,1.5\nb,2.5,1.4\nc,3.0,1.3\n")
    with pytest.raises(InputError, match=r"runs.csv: too few runs: .* at least 4 runs"):
        run_cli("law", "fit", path, "--form", "linear")
    path.write_text("name,ratio,loss\na,2.0,1.5\nb,2.5,nan\nc,3.0,1.3\nd,3.5,1.2\ne,4.0,1.1\n")
    with pytest.raises(InputError, match=r"runs.csv: record 1: run 'b' has loss = nan"):
        run_cli("law", "check", path, "--ratio", "3", "--loss", "1.3")
    with pytest.raises(SystemExit):
        run_cli("law", "fit", path, "--bootstrap", "-3")


def test_fit_plot(runs_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fit.png"
    assert run_cli("law", "fit", runs_csv, "--bootstrap", "50", "--plot", png) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {png}" in capsys.readouterr().out


def test_plot_without_matplotlib_is_a_clear_error(runs_csv, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert run_cli("law", "fit", runs_csv, "--plot", tmp_path / "x.png") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("fastzip: error: --plot: plotting needs matplotlib")
    assert not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------ check
def test_check_ok_and_risk_exit_codes(runs_csv, capsys):
    assert run_cli("law", "check", runs_csv, "--ratio", "3.0", "--loss", expected_loss(3.0),
                   "--bootstrap", "100") == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: loss ")
    assert run_cli("law", "check", runs_csv, "--ratio", "3.0", "--loss", expected_loss(3.0) + 0.3,
                   "--bootstrap", "100") == 1
    assert capsys.readouterr().out.startswith("RISK: loss ")


def test_check_json_and_floor(runs_csv, capsys, tmp_path):
    r, loss = 3.0, expected_loss(3.0)
    perf = law.fit(runs_csv, target="performance", n_boot=100)
    predicted = perf.predict(r, loss)
    code = run_cli("law", "check", runs_csv, "--ratio", r, "--loss", loss, "--floor", predicted + 0.05,
                   "--bootstrap", "100", "--json")
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["verdict"] == "risk"
    assert [i["target"] for i in result["items"]] == ["loss", "performance"]
    assert result["items"][0]["verdict"] == "ok" and result["items"][1]["verdict"] == "risk"
    assert result["items"][1]["expected"] == pytest.approx(predicted)
    assert set(result["laws"]) == {"loss", "performance"}
    assert run_cli("law", "check", runs_csv, "--ratio", r, "--loss", loss, "--floor", predicted - 0.05,
                   "--bootstrap", "100") == 0


def test_check_floor_needs_performance(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("name,ratio,loss\n" + "".join(f"v{i},{1.5 + i / 4},{2 - i / 10 + (i % 3) / 50}\n"
                                                  for i in range(8)))
    with pytest.raises(InputError, match="--floor needs a performance law"):
        run_cli("law", "check", path, "--ratio", "2", "--loss", "1.9", "--floor", "0.5")


def test_check_reads_the_loss_from_a_trainer_state(runs_csv, tmp_path, capsys):
    first = [expected_loss(2.5) + d for d in (0.05, 0.01, -0.02, -0.04)]
    log = [{"epoch": 0.25 * (i + 1), "grad_norm": 1.3, "learning_rate": 4e-05, "loss": v, "step": 5 * (i + 1)}
           for i, v in enumerate(first + [0.5, 0.4, 0.3, 0.2])]
    log.insert(4, {"epoch": 1.0, "eval_loss": 0.01, "eval_runtime": 0.5, "step": 20})
    log.append({"epoch": 2.0, "step": 40, "total_flos": 1e12, "train_loss": 0.01, "train_runtime": 9.0})
    state = {"best_metric": None, "epoch": 2.0, "global_step": 40, "log_history": log, "logging_steps": 5,
             "max_steps": 40, "num_train_epochs": 2, "total_flos": 1e12, "train_batch_size": 8}
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(state))
    assert run_cli("law", "check", runs_csv, "--ratio", "2.5", "--trainer-state", path,
                   "--bootstrap", "100", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loss"] == pytest.approx(np.mean(first))
    # the second epoch's losses (far lower) would have made it a risk
    assert run_cli("law", "check", runs_csv, "--ratio", "2.5", "--loss", np.mean(first + [0.5, 0.4, 0.3, 0.2]),
                   "--bootstrap", "100") == 1


def test_check_reads_the_loss_from_a_csv(runs_csv, tmp_path, capsys):
    path = tmp_path / "loss.csv"
    path.write_text("step,loss,epoch\n10,{0},0.5\n20,{0},1.0\n30,0.1,1.5\n".format(expected_loss(2.5) + 0.5))
    assert run_cli("law", "check", runs_csv, "--ratio", "2.5", "--loss-csv", path, "--bootstrap", "100",
                   "--json") == 1
    assert json.loads(capsys.readouterr().out)["loss"] == pytest.approx(expected_loss(2.5) + 0.5)


def test_check_asks_for_quality_when_the_performance_law_uses_it(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = []
    for i in range(10):
        r, q = 1.5 + 0.35 * i, rng.uniform(2, 5)
        loss = expected_loss(r) + rng.normal(0, 0.05)
        rows.append(f"v{i},{r},{loss},{0.9 - 0.1 * np.log(r) - 0.2 * loss + 0.03 * q + rng.normal(0, 0.003)},{q}\n")
    path = tmp_path / "runs.csv"
    path.write_text("name,ratio,loss,performance,quality\n" + "".join(rows))
    with pytest.raises(InputError, match="pass --quality"):
        run_cli("law", "check", path, "--ratio", "3", "--loss", expected_loss(3), "--bootstrap", "20")
    assert run_cli("law", "check", path, "--ratio", "3", "--loss", expected_loss(3), "--quality", "3.5",
                   "--bootstrap", "20", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["quality"] == 3.5 and result["laws"]["performance"]["predictors"][-1] == "quality"
    assert run_cli("law", "check", path, "--ratio", "3", "--loss", expected_loss(3), "--no-quality",
                   "--bootstrap", "20") == 0


def test_check_needs_a_ratio_and_a_loss(runs_csv):
    with pytest.raises(SystemExit):
        run_cli("law", "check", runs_csv, "--loss", "1.5")
    with pytest.raises(SystemExit):
        run_cli("law", "check", runs_csv, "--ratio", "2.0", "--loss", "1.5", "--loss-csv", "x.csv")


def test_check_plot(runs_csv, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "check.png"
    assert run_cli("law", "check", runs_csv, "--ratio", "3.0", "--loss", "2.5", "--bootstrap", "50",
                   "--plot", png) == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ ratio
@pytest.fixture
def fake_ratio_api(monkeypatch):
    """Stand-ins for fastzip.io.read_records and fastzip.compression_ratio that
    record how they were called (tests the plumbing, not the codecs)."""
    calls = []

    def read_records(path):
        return [{"text": Path(path).name}] * (len(Path(path).name) + 1)

    def compression_ratio(samples, codec="zlib", level=9, serializer="repr"):
        calls.append((len(samples), codec, level, serializer))
        return 1.0 + len(samples) / 10

    monkeypatch.setattr(ingest, "read_records", read_records)
    monkeypatch.setattr(ingest, "compression_ratio", compression_ratio)
    return calls


def test_ratio_table_and_options_are_forwarded(fake_ratio_api, capsys):
    assert run_cli("law", "ratio", "a/v1.jsonl", "b/v22.jsonl", "--codec", "zstd", "--level", "19",
                   "--serializer", "text") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# codec zstd, level 19, serializer text"
    assert out[1].split() == ["name", "records", "ratio", "file"]
    assert out[2].split() == ["v1", "9", "1.9000", "a/v1.jsonl"]
    assert out[3].split() == ["v22", "10", "2.0000", "b/v22.jsonl"]
    assert fake_ratio_api == [(9, "zstd", 19, "text"), (10, "zstd", 19, "text")]


def test_ratio_csv_and_json(fake_ratio_api, capsys):
    assert run_cli("law", "ratio", "x/data.jsonl", "y/data.jsonl", "--csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,ratio,records,file"
    assert lines[1] == "x/data,2.100000,11,x/data.jsonl"  # a shared stem is told apart by its folder
    assert run_cli("law", "ratio", "v1.jsonl", "--json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "v1", "ratio": pytest.approx(1.9), "records": 9, "file": "v1.jsonl"}]
    assert fake_ratio_api[-1] == (9, "zlib", 9, "repr")  # level left to compression_ratio's default


def test_check_data_computes_the_ratio(fake_ratio_api, runs_csv, capsys):
    name = "version_x_data.json"  # the fake reads len(name) + 1 = 20 records: ratio 1 + 20/10 = 3.0
    assert run_cli("law", "check", runs_csv, "--data", name, "--loss", expected_loss(3.0), "--codec", "lz4",
                   "--bootstrap", "50", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ratio"] == pytest.approx(3.0)
    assert fake_ratio_api == [(20, "lz4", 9, "repr")]


def _real_ratio_api():
    try:
        from fastzip import compression_ratio
        from fastzip.io import read_records
    except (ImportError, AttributeError) as exc:  # the selector's side is not built yet
        pytest.skip(f"fastzip.compression_ratio / fastzip.io.read_records unavailable: {exc}")
    return compression_ratio, read_records


@pytest.mark.parametrize("codec", ["zlib", "zstd"])
def test_ratio_of_a_real_file_matches_compression_ratio(codec, capsys):
    compression_ratio, read_records = _real_ratio_api()
    path = DATA / "faq_qa.jsonl"
    assert run_cli("law", "ratio", path, "--codec", codec, "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    records = read_records(str(path))
    assert row["records"] == len(records) == 481
    assert row["ratio"] == pytest.approx(compression_ratio(records, codec=codec))
    assert row["ratio"] > 1.0


# ------------------------------------------------------------------- outputs: checked first, all or none
def _main(capsys, *argv) -> tuple[int, str]:
    from fastzip.cli import main

    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("command", ["fit", "check"])
def test_an_output_that_is_the_runs_table_is_refused_and_the_table_kept(runs_csv, capsys, command):
    before = runs_csv.read_bytes()
    extra = ["--ratio", "2.5", "--loss", "1.9"] if command == "check" else []
    rc, err = _main(capsys, "law", command, runs_csv, *extra, "-o", runs_csv)
    assert rc == 2 and err.count("\n") == 1 and "is the input" in err, err
    assert runs_csv.read_bytes() == before


def test_a_plot_whose_suffix_names_no_image_format_is_one_line_before_any_work(runs_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rc, err = _main(capsys, "law", "fit", runs_csv, "--plot", tmp_path / "law.txt", "-o", tmp_path / "law.json")
    assert rc == 2 and err.count("\n") == 1 and ".txt" in err and ".png" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def test_a_failing_output_leaves_no_plot(runs_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rc, err = _main(capsys, "law", "fit", runs_csv, "--plot", tmp_path / "law.png", "-o", tmp_path / "no" / "x.json")
    assert rc == 2 and "does not exist" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]
    assert _main(capsys, "law", "fit", runs_csv, "--plot", tmp_path / "law.png", "-o", tmp_path / "law.json")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["law.json", "law.png", "runs.csv"]


def test_law_ratio_names_a_compressed_file_by_its_stem(tmp_path, capsys):
    import gzip

    (tmp_path / "v1.jsonl.gz").write_bytes(gzip.compress((DATA / "faq_qa.jsonl").read_bytes()))
    (tmp_path / "v2.jsonl").write_bytes((DATA / "faq_qa.jsonl").read_bytes())
    assert run_cli("law", "ratio", tmp_path / "v1.jsonl.gz", tmp_path / "v2.jsonl", "--csv") == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["v1", "v2"]


@pytest.mark.parametrize("extra, words", [
    (["--level", "9"], "--codec, --level and --serializer measure --data"),
    (["--serializer", "text"], "--codec, --level and --serializer measure --data"),
    (["--quality", "0.5"], "--quality is read by a performance law with a quality term"),
    (["--performance-form", "linear", "no-performance"], "--performance-form needs a performance law")])
def test_law_check_refuses_an_option_it_would_ignore(runs_csv, tmp_path, capsys, extra, words):
    table = runs_csv
    if "no-performance" in extra:
        extra = extra[:-1]
        table = tmp_path / "no_perf.csv"
        table.write_text("".join(",".join(line.split(",")[:3]) + "\n" for line in runs_csv.read_text().splitlines()))
    rc, err = _main(capsys, "law", "check", table, "--ratio", "2.5", "--loss", "1.9", "--bootstrap", "0", *extra)
    assert rc == 2 and err.count("\n") == 1 and words in err, err
