"""Help and the report speak to users (issue 21, Why 7): no paths into docs/, every default stated,
the two measures explained, ``info`` described, the three stages explained."""
from __future__ import annotations

import argparse
import importlib

import pytest

from fastzip.selection import report

cli_main = importlib.import_module("fastzip.cli.main")   # the module (fastzip.cli.main is the function)


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    todo = [("fastzip", cli_main._build_parser())]
    while todo:
        name, parser = todo.pop()
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend((f"{name} {sub}", p) for sub, p in action.choices.items())
    return found


PARSERS = _parsers()


def test_the_walk_finds_every_command():
    names = {name for name, _ in PARSERS}
    assert {"fastzip select", "fastzip ratio", "fastzip info", "fastzip law fit", "fastzip law ratio"} <= names


@pytest.mark.parametrize("name, parser", PARSERS, ids=[n for n, _ in PARSERS])
def test_no_help_points_into_docs(name, parser):
    text = parser.format_help()
    assert "docs/" not in text and "semantics.md" not in text and "§" not in text, name


@pytest.mark.parametrize("name, parser", PARSERS, ids=[n for n, _ in PARSERS])
def test_every_default_is_stated(name, parser):
    for action in parser._actions:
        if action.help in (None, argparse.SUPPRESS) or isinstance(action, (argparse._HelpAction,
                                                                          argparse._VersionAction)):
            continue
        if action.default not in (None, False, argparse.SUPPRESS) or action.dest in ("codec", "serializer"):
            assert "default" in action.help.lower(), f"{name} {action.option_strings}: {action.help}"


def _help_of(command: str, option: str) -> str:
    parser = dict(PARSERS)[command]
    return next(a.help for a in parser._actions if option in a.option_strings)


def test_select_and_ratio_state_their_codec_and_serializer_defaults():
    assert "default: lz77" in _help_of("fastzip select", "--codec")
    assert "--codec zstd" in _help_of("fastzip select", "--codec")    # the way out where lz77 cannot run
    assert "default: text" in _help_of("fastzip select", "--serializer")
    assert "default: zlib" in _help_of("fastzip ratio", "--codec")
    assert "default: repr" in _help_of("fastzip ratio", "--serializer")


def test_the_two_measures_are_explained_where_users_meet_them():
    for command in ("fastzip select", "fastzip ratio"):
        description = dict(PARSERS)[command].description
        assert "zlib" in description and "repr" in description and "lz77" in description, command
    assert "select" in _help_of("fastzip law ratio", "--codec")


def test_info_is_described_and_the_stages_explained():
    assert "zlib" in dict(PARSERS)["fastzip info"].description
    assert "default codec" in dict(PARSERS)["fastzip info"].description
    for k in (1, 2, 3):
        assert f"stage {k}" in _help_of("fastzip select", f"--k{k}")


def test_the_report_page_does_not_point_into_docs():
    import inspect
    assert "docs/" not in inspect.getsource(report._html)
