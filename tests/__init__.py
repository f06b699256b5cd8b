"""fastzip's tests, in folders that mirror the package.

* ``core``: the kernels and streams (``IncrementalCompressor``, ``compressed_sizes``,
  the lz77 cost codec), the public API's checks, reading and writing data safely,
  fuzzed inputs;
* ``selection``: ``select`` (compat and default mode), ``scale``, ``shards``, ``ray``
  and the selection report;
* ``law``: ``fastzip.law`` and ``fastzip law``;
* ``scoring``: ``fastzip.scoring``, one file per scorer;
* ``cli``: what users run from outside Python: the ``fastzip`` command, the
  documentation's examples, the integrations and drop-in examples, the benchmark
  plugin and ``fastzip bench-report``.

Fixtures are in ``conftest.py`` files; plain helpers in ``tests/helpers.py``
(and ``tests/scoring/helpers.py``), imported as ``from tests.helpers import ...``.
"""
