"""What every sub-command shares: the parser class, exit codes and the codec options."""
from __future__ import annotations

import argparse
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


def add_codec_options(p: argparse.ArgumentParser, default_note: str) -> None:
    p.add_argument("--codec", help=f"zlib, zstd, lz4, lz77 (native-only LZ77 cost estimate) or a registered "
                                   f"codec ({default_note})")
    p.add_argument("--level", type=int, help="codec level (zlib 0-9, zstd 1-22, lz4 <=0 fast / 1-12 HC, lz77 1-2)")
    p.add_argument("--serializer", choices=SERIALIZERS,
                   help="how a record becomes bytes (docs/semantics.md §4)")
    p.add_argument("--text-field", metavar="FIELD",
                   help="use this string field of each record as its text (text serializer)")
