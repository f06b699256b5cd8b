"""What fastzip's benchmarks record, and how the report shows it.

Every benchmark (the plugin's and the repository's ``bench/``) puts its
figures in pytest-benchmark's ``benchmark.extra_info`` under the keys
below; ``--benchmark-json`` writes them out and ``fastzip bench-report``
reads them back.  The keys are declared here once, next to the code that
writes them, so the report knows nothing about any particular benchmark.

No pytest import here: the report command uses this module on installs
without pytest.
"""
from __future__ import annotations

from typing import Any

Benchmark = Any
"""pytest-benchmark's ``benchmark`` fixture (``BenchmarkFixture``): an optional dependency whose
methods are not annotated, so it is typed by this name only."""

#: ``kind`` values the report draws plots for
THROUGHPUT = "throughput"      # mode: "one-shot" or "incremental"; mb_per_s, candidates_per_s
QUALITY = "quality"            # judge_ratio, random_judge_ratio, vs_random; the time is the selection's
SELECT = "select"              # selection time against pool_size (scaling)
FLAT_COST = "flat_cost"        # candidates_per_s against stream_bytes

#: extra_info key -> column header, in display order; other keys follow, sorted
COLUMNS: tuple[tuple[str, str], ...] = (
    ("label", "codec"), ("codec", "codec"), ("level", "level"), ("mode", "mode"), ("way", "way"),
    ("corpus", "corpus"), ("pool", "pool"), ("pool_size", "pool size"), ("budget", "budget"),
    ("threads", "threads"), ("stream_bytes", "stream"), ("bytes", "input"),
    ("candidates", "candidates"), ("mb_per_s", "MB/s"), ("candidates_per_s", "candidates/s"),
    ("ratio", "ratio"), ("judge_ratio", "judge ratio"), ("random_judge_ratio", "random ratio"),
    ("vs_random", "vs random"), ("evaluations", "evaluations"), ("selected", "selected"),
    ("unique", "unique"),
)
#: keys that never get a column (they drive the report or repeat another column)
HIDDEN = frozenset({"kind", "custom", "registered", "k1", "k2", "k3", "mean_candidate_bytes"})

#: the key pytest-benchmark's JSON gets at its top level for fastzip's session facts
JSON_KEY = "fastzip"


def record(benchmark: Benchmark, **values: Any) -> None:
    """Put figures in ``benchmark.extra_info``, where ``--benchmark-json`` writes them.

    Parameters
    ----------
    benchmark : pytest_benchmark.fixture.BenchmarkFixture
        The test's ``benchmark`` fixture.
    **values
        The figures, under the keys of :data:`COLUMNS` (or others, shown
        after them); JSON types only: numbers, strings, bools, None.

    Raises
    ------
    TypeError
        A value of another type.
    """
    for key, value in values.items():
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise TypeError(f"extra_info[{key!r}] must be a number, string, bool or None, "
                            f"got {type(value).__name__}")
    benchmark.extra_info.update(values)
