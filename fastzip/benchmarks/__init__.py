"""Benchmark compressors on your own data: fastzip's pytest plugin and its benchmarks.

::

    pip install fastzip-select pytest-benchmark
    pytest --pyargs fastzip.benchmarks --fastzip-corpus mydata.jsonl --benchmark-only \\
        --benchmark-json results.json
    fastzip bench-report results.json -o report/

times every built-in codec at its benchmark levels (zlib 1/6/9, zstd
1/3/9/19, lz4 0 and HC 9), the stdlib bz2 and lzma registered as examples,
and every codec you registered with :func:`fastzip.register_codec` before
collection (in a ``conftest.py`` or a module loaded with ``-p``), on:

* one-shot compression of up to 1 MB of the corpus (``test_codecs.py``);
* incremental marginal sizes against a stream of the corpus
  (:meth:`fastzip.IncrementalCompressor.marginal_sizes`, ``test_codecs.py``);
* selection quality next to speed: a default-mode selection of 1/10 of a
  pool, judged by :func:`fastzip.selection.judge.judge_ratio` against random subsets
  of the same size (``test_quality.py``).

Without ``--fastzip-corpus`` the bundled sample pool is used, so
``pytest --pyargs fastzip.benchmarks --benchmark-disable`` is a quick
self-test.  Options and fixtures: :mod:`fastzip.benchmarks.plugin`.
"""
