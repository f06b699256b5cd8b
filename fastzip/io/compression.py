"""Compressed pools and outputs: gzip, zstd, bz2 and xz.

Curation pipelines (datatrove, Dolma, RedPajama) write ``.jsonl.gz`` and
``.jsonl.zst`` shards.  A file is compressed when its first bytes say so
(gzip, zstd, bzip2 and xz each start with their own magic number), so
standard input and misnamed files work too; a name ending in ``.gz``,
``.zst``, ``.bz2`` or ``.xz`` must hold data of that kind.  Data is
decompressed as it is read, a buffer at a time, never whole, where it is
streamed (the out-of-core path).  Outputs are compressed when their name
ends in one of these suffixes.  gzip, bz2 and xz come from the standard
library, zstd from ``zstandard`` (a core dependency).
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from collections.abc import Iterator
from typing import IO, Any

import zstandard

from ..errors import InputError

#: name suffix -> compression
SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}
#: compression -> the suffix an output takes
SUFFIX_OF = {"gzip": ".gz", "zstd": ".zst", "bz2": ".bz2", "xz": ".xz"}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"))
HEAD = 6                     # bytes enough to tell every compression apart
# what a decompressor raises on corrupt or truncated data
_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error, zstandard.ZstdError, lzma.LZMAError, ValueError)


def split_compression(name: str) -> tuple[str, str | None]:
    """A name without its compression suffix, and the compression that suffix says.

    Parameters
    ----------
    name : str
        A file name or path.

    Returns
    -------
    base : str
        ``name`` without ``.gz``, ``.zst``, ``.bz2`` or ``.xz`` (unchanged when it has none).
    compression : str or None
        ``gzip``, ``zstd``, ``bz2``, ``xz``, or None.
    """
    root, ext = os.path.splitext(str(name))
    compression = SUFFIXES.get(ext.lower())
    return (root, compression) if compression else (str(name), None)


def sniff(head: bytes) -> str | None:
    """The compression the first bytes of a file say, or None for uncompressed data.

    Parameters
    ----------
    head : bytes
        At least the first 6 bytes (fewer for a shorter file).

    Returns
    -------
    str or None
    """
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:3] == b"BZh" and head[3:4] in b"123456789" and len(head) >= 4:
        return "bz2"
    if head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return "zstd"            # a skippable frame first, as pzstd writes
    return None


def _check(found: str | None, named: str | None, name: str) -> None:
    """Refuse a file whose name says one compression and whose bytes another (or none)."""
    if named is not None and found != named:
        what = f"{found} data" if found else "not compressed"
        raise InputError(f"the name says {named} but the data is {what}", path=name)


def decompress_bytes(raw: bytes, name: str) -> bytes:
    """``raw`` decompressed when its first bytes (or ``name``) say it is compressed; else ``raw`` itself.

    Parameters
    ----------
    raw : bytes
        A whole file.
    name : str
        How errors name it; its suffix, when it says a compression, must match the data.

    Returns
    -------
    bytes

    Raises
    ------
    fastzip.errors.InputError
        Corrupt or truncated compressed data, or a name that disagrees with the data.
    """
    found = sniff(raw[:HEAD])
    _check(found, split_compression(name)[1], name)
    if found is None:
        return raw
    with open_decompressed(io.BytesIO(raw), name) as stream:
        return stream.read()


class _Reader(io.RawIOBase):
    """A readable raw stream over ``source``, the file as it is on disk."""

    source: IO[bytes]

    def readable(self) -> bool:
        return True

    def compressed_position(self) -> int:
        """How many bytes of ``source`` (compressed, where it is) were read so far (for progress)."""
        try:
            return int(self.source.tell())
        except (OSError, ValueError):
            return 0


class _Decompressing(_Reader):
    """A readable raw stream of decompressed bytes; decoder faults become one-line :class:`InputError`."""

    def __init__(self, inner: Any, compression: str, name: str, source: IO[bytes]):
        self.inner, self.compression, self.name, self.source = inner, compression, name, source

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.inner.read(len(buffer))
        except _ERRORS as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, EOFError):
                reason = "it ends before the end of the compressed stream (truncated)"
            raise InputError(f"corrupt {self.compression} data: {reason}", path=self.name) from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


class _ZstdFrames:
    """Every zstd frame of ``source`` (skippable frames give nothing), as ``zstd -d`` reads them.

    zstandard's ``stream_reader(read_across_frames=True)`` ends quietly when
    the data stops inside a frame (a truncated file), so each frame is decoded
    by its own ``decompressobj``, whose ``eof`` says the frame is complete:
    data that ends inside a frame raises :class:`EOFError`, as gzip, bz2 and
    xz do.  The compressed data is fed ``CHUNK`` bytes at a time, so memory
    stays bounded by what that much data decompresses to.
    """

    CHUNK = 1 << 14

    def __init__(self, source: IO[bytes]):
        self.source = source
        self.context = zstandard.ZstdDecompressor()
        self.frame: Any = None           # the decoder of the frame being read; None between frames
        self.unused = b""                # compressed bytes read past the end of the last frame
        self.pending = bytearray()       # decompressed bytes not yet returned

    def read(self, size: int) -> bytes:
        while len(self.pending) < size:
            data, self.unused = self.unused or self.source.read(self.CHUNK), b""
            if not data:
                if self.frame is not None:
                    raise EOFError("the data ends inside a zstd frame")
                break
            if self.frame is None:
                self.frame = self.context.decompressobj()
            self.pending += self.frame.decompress(data)
            if self.frame.eof:
                self.unused, self.frame = self.frame.unused_data, None
        out = bytes(self.pending[:size])
        del self.pending[:size]
        return out

    def close(self) -> None:
        """Nothing to release (``source`` stays open)."""


def _decoder(source: IO[bytes], compression: str) -> Any:
    if compression == "gzip":
        return gzip.GzipFile(fileobj=source, mode="rb")          # every member, as gzip -d does
    if compression == "zstd":
        return _ZstdFrames(source)                                # every frame, as zstd -d does
    if compression == "bz2":
        return bz2.BZ2File(source, "rb")                          # every stream, as bzip2 -d does
    return lzma.LZMAFile(source, "rb")


def open_decompressed(source: IO[bytes], name: str) -> io.BufferedReader:
    """A buffered reader of ``source``'s data, decompressed as it is read when its first bytes say so.

    Parameters
    ----------
    source : binary file object
        Read from its current position; it must be seekable or support
        ``peek`` (a buffered file, standard input's buffer), so that the
        magic number can be looked at without losing it.
    name : str
        How errors name the input; a compression suffix must match the data.

    Returns
    -------
    io.BufferedReader
        Iterating it gives the lines.  Closing it leaves ``source`` open.

    Raises
    ------
    fastzip.errors.InputError
        A name that disagrees with the data; corrupt data is reported as it is read.
    """
    head = _peek(source)
    found = sniff(head)
    _check(found, split_compression(name)[1], name)
    if found is None:
        return io.BufferedReader(_Plain(source))
    return io.BufferedReader(_Decompressing(_decoder(source, found), found, name, source), 1 << 16)


def _peek(source: IO[bytes]) -> bytes:
    peek = getattr(source, "peek", None)
    if peek is not None:
        head: bytes = peek(HEAD)[:HEAD]
        if len(head) >= HEAD or not source.seekable():
            return head
    position = source.tell()
    head = source.read(HEAD)
    source.seek(position)
    return head


class _Plain(_Reader):
    """An uncompressed source behind the same interface (closing leaves the source open)."""

    def __init__(self, source: IO[bytes]):
        self.source = source

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def compressed_position(stream: io.BufferedReader) -> int:
    """The position in the underlying (compressed) file of a stream from :func:`open_decompressed`.

    Parameters
    ----------
    stream : io.BufferedReader

    Returns
    -------
    int
    """
    raw = stream.raw
    return raw.compressed_position() if isinstance(raw, _Reader) else 0


def compress_bytes(payload: bytes, compression: str | None) -> bytes:
    """``payload`` compressed (deterministically: no time or name in the header), or unchanged for None.

    Parameters
    ----------
    payload : bytes
    compression : str or None
        ``gzip``, ``zstd``, ``bz2``, ``xz``, or None.

    Returns
    -------
    bytes
    """
    if compression is None:
        return payload
    if compression == "gzip":
        return gzip.compress(payload, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(payload)
    if compression == "bz2":
        return bz2.compress(payload)
    return lzma.compress(payload)


def iter_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Every line of a (possibly compressed) file with its offset in the decompressed data.

    Parameters
    ----------
    path : str

    Yields
    ------
    (int, bytes)
    """
    with open(path, "rb") as f, open_decompressed(f, path) as stream:
        offset = 0
        for line in stream:
            yield offset, line
            offset += len(line)


def is_decompressing(stream: io.BufferedReader) -> bool:
    """Whether a stream from :func:`open_decompressed` decompresses (its offsets are then not the file's).

    Parameters
    ----------
    stream : io.BufferedReader

    Returns
    -------
    bool
    """
    return isinstance(stream.raw, _Decompressing)
