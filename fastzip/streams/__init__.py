"""Compression streams: the codec table, native or PyPI-binding streams, and the public size kernels.

``protocol`` is the stream interface, ``codecs`` picks a native
(``_native``, ``_pairs``: the C kernels) or fallback (``fallback``) stream
per codec, ``threads`` resolves thread counts, ``compressor`` holds
:class:`IncrementalCompressor` and ``sizes`` the one-shot and pair sizes.
Nothing is imported here, so that the extension can load ``protocol``
without pulling in the rest.
"""
