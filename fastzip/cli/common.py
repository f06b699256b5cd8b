"""What every sub-command shares: the parser class, exit codes and the codec options."""
from __future__ import annotations

import argparse
import math
import re
import sys
from typing import NoReturn

from ..samples.serialize import SERIALIZERS

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fastzip: error: ...`` and exit 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split()[1:]     # "fastzip select" -> ["select"]
        where = f"{' '.join(command)}: " if command else ""
        print(f"fastzip: error: {where}{' '.join(message.split())}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def add_codec_options(p: argparse.ArgumentParser, codec_default: str, serializer_default: str) -> None:
    """Add ``--codec``, ``--level``, ``--serializer`` and ``--text-field``, each help stating its default.

    Parameters
    ----------
    p : argparse.ArgumentParser
    codec_default, serializer_default : str
        How this command's help states the defaults (e.g. ``"default: zlib"``).
    """
    p.add_argument("--codec", help=f"zlib, zstd, lz4, lz77 (native-only LZ77 cost estimate) or a registered "
                                   f"codec ({codec_default})")
    p.add_argument("--level", type=int, help="codec level (zlib 0-9, zstd 1-22, lz4 <=0 fast / 1-12 HC, lz77 1-2; "
                                             "default: the codec's own: zlib 9, zstd 3, lz4 0, lz77 2)")
    p.add_argument("--serializer", choices=SERIALIZERS,
                   help="how a record becomes bytes: repr (Python's repr of the record, as the paper does), json "
                        "(compact JSON) or text (the readable content: chat turns as 'role: content' lines, "
                        f"instruction/input/output joined, a text field; other records as JSON) ({serializer_default})")
    p.add_argument("--text-field", metavar="FIELD",
                   help="use this string field of each record as its text (text serializer; a record without it "
                        "is an error; default: found by the record's shape)")


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30, "gib": 2**30, "t": 2**40, "tib": 2**40}
_SIZE = re.compile(r"^\s*(?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>[A-Za-z]*)\s*$")


def byte_size(text: str) -> int:
    """A number of bytes: ``100000``, ``1e5``, ``100KB`` (10^3), ``1.5MiB`` (2^20), ``2G`` (2^30).

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    int
        A positive whole number of bytes.

    Raises
    ------
    argparse.ArgumentTypeError
        Not a size, or not a positive whole number of bytes.
    """
    m = _SIZE.match(text)
    unit = m["unit"].lower() if m else ""
    if m is None or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write e.g. 100000, 1e5, 100KB or 1.5MiB "
                                         "(KB/MB/GB: powers of 1000; KiB/MiB/GiB, K/M/G: powers of 1024)")
    value = float(m["number"]) * _UNITS[unit]
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of bytes")
    return int(value)
