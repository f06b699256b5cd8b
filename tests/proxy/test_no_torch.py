"""Without torch the proxy command says which extra brings it, and writes nothing (runs without torch)."""
from __future__ import annotations

import sys

from fastzip.cli import main
from tests.helpers import DATA


def test_missing_torch_one_line_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)      # import torch now raises ImportError
    out = tmp_path / "runs.csv"
    data = str(DATA / "faq_qa.jsonl")
    assert main(["law", "proxy", data, "--heldout", data, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "pip install 'fastzip-select[proxy]'" in err
    assert list(tmp_path.iterdir()) == []


def test_version_parsing():
    from fastzip.proxy.harness import parse_version

    assert parse_version("a=x/b.jsonl").name == "a"
    assert parse_version("x/zip_s0.jsonl").name == "zip_s0"


def test_every_proxy_option_has_help():
    import argparse

    parser = argparse.ArgumentParser()
    from fastzip.cli.proxy import add_proxy_parser, run_proxy

    leaf = add_proxy_parser(parser.add_subparsers())
    assert leaf.get_default("func") is run_proxy
    for action in leaf._actions:
        if not isinstance(action, argparse._HelpAction):
            assert action.help and action.help.strip(), action.dest
