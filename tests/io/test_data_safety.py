"""Never lose or damage a user's data: one test per fault found by adversarial use.

Each CLI test checks the exit status, that stderr is one ``fastzip: error:``
line, and that the input (and any old output) is byte-identical afterwards.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

import fastzip
from fastzip import io as fio
from fastzip.cli import main
from fastzip.errors import InputError, UsageError
from fastzip.io import write as fio_write
from tests.helpers import default_codec, default_codec_args

# default_codec_args(): none natively (the default codec, lz77); --codec zstd through the PyPI bindings
SMALL = ["--budget", "5", "--k1", "50", "--k2", "10", "--k3", "5", "--quiet", *default_codec_args()]


def run_main(capsys, *args: str) -> tuple[int, str]:
    """``fastzip ARGS``; a default-mode ``select`` gets :func:`default_codec_args` (see tests/helpers.py)."""
    argv = [str(a) for a in args]
    if argv[0] == "select" and "--codec" not in argv and "--compat" not in argv:
        argv += default_codec_args()
    rc = main(argv)
    return rc, capsys.readouterr().err


def assert_one_error_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastzip: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def snapshot(folder) -> dict:
    """Every file in ``folder`` and its bytes (to show nothing changed and nothing was left)."""
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))
            if (folder / name).is_file() and not (folder / name).is_symlink()}


@pytest.fixture
def pool(tmp_path, data_dir):
    path = tmp_path / "p.jsonl"
    path.write_bytes((data_dir / "faq_qa.jsonl").read_bytes())
    return path


# 1. -------------------------------------------------------------- output == input
@pytest.mark.parametrize("how", ["same", "alias", "hardlink", "symlink"])
def test_output_that_is_the_input_is_refused(tmp_path, capsys, pool, how):
    before = snapshot(tmp_path)
    if how == "same":
        out = pool
    elif how == "alias":
        out = tmp_path / ".." / tmp_path.name / "p.jsonl"
    elif how == "hardlink":
        out = tmp_path / "hard.jsonl"
        os.link(pool, out)
        before = snapshot(tmp_path)
    else:
        out = tmp_path / "link.jsonl"
        out.symlink_to(pool)
    rc, err = run_main(capsys, "select", pool, "-o", out, *SMALL)
    assert rc == 2
    assert_one_error_line(err, "is the input file")
    assert snapshot(tmp_path) == before


def test_indices_out_equal_to_the_input_or_the_output_is_refused(tmp_path, capsys, pool):
    before = snapshot(tmp_path)
    rc, err = run_main(capsys, "select", pool, "-o", tmp_path / "o.jsonl", "--indices-out", pool, *SMALL)
    assert rc == 2
    assert_one_error_line(err, "--indices-out: ", "is the input file")   # the option at fault, named
    rc, err = run_main(capsys, "select", pool, "-o", tmp_path / "o.json", "--indices-out",
                       tmp_path / "o.json", *SMALL)
    assert rc == 2
    assert_one_error_line(err, "--indices-out is also -o's file")
    rc, err = run_main(capsys, "select", pool, "-o", "-", "--indices-out", "-", *SMALL)
    assert rc == 2
    assert_one_error_line(err, "--indices-out and -o both go to standard output")
    assert snapshot(tmp_path) == before


# 2. -------------------------------------------------------------- special files
@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root (CI runs as root)")
def test_a_device_copy_is_never_replaced(tmp_path, capsys, pool):
    device = tmp_path / "null.jsonl"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    rc, err = run_main(capsys, "select", pool, "-o", device, *SMALL)
    assert rc == 2
    assert_one_error_line(err, "character device", "-o -")
    assert stat.S_ISCHR(os.stat(device).st_mode)


@pytest.mark.parametrize("kind", ["fifo", "directory", "socket"])
def test_fifos_folders_and_sockets_are_never_replaced(tmp_path, capsys, pool, kind):
    target = tmp_path / "out.jsonl"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    rc, err = run_main(capsys, "select", pool, "-o", target, *SMALL)
    assert rc == 2
    assert_one_error_line(err, {"fifo": "a FIFO", "directory": "a directory", "socket": "a socket"}[kind])
    test = {"fifo": stat.S_ISFIFO, "directory": stat.S_ISDIR, "socket": stat.S_ISSOCK}[kind]
    assert test(os.lstat(target).st_mode)


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path, capsys, pool):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    rc, _ = run_main(capsys, "select", pool, "-o", link, *SMALL)
    assert rc == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(target.read_bytes().splitlines()) == 5


def test_dash_reads_stdin_and_writes_stdout(pool):
    raw = pool.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "fastzip", "select", "-", "--format", "jsonl", "-o", "-",
                           *SMALL], input=raw, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    lines = raw.splitlines(keepends=True)
    assert len(proc.stdout.splitlines()) == 5 and all(line in lines for line in proc.stdout.splitlines(True))
    proc = subprocess.run([sys.executable, "-m", "fastzip", "select", "-", "-o", "-", *SMALL],
                          input=raw, capture_output=True, text=False)
    assert proc.returncode == 2 and b"--format" in proc.stderr and proc.stdout == b""


def test_a_name_that_says_no_format_needs_format(tmp_path, capsys, pool):
    odd = tmp_path / "pool.txt"
    odd.write_bytes(pool.read_bytes())
    rc, err = run_main(capsys, "select", odd, "-o", tmp_path / "o.jsonl", *SMALL)
    assert rc == 2
    assert_one_error_line(err, "pool.txt", "--format")
    assert run_main(capsys, "select", odd, "--format", "jsonl", "-o", tmp_path / "o.jsonl", *SMALL)[0] == 0


# 3. -------------------------------------------------------------- the input is read once
def test_output_comes_from_the_one_read_and_a_changed_input_fails(tmp_path, capsys, pool, monkeypatch):
    import fastzip.cli.select

    real_select = fastzip.select
    original = pool.read_bytes()

    def select_then_change_the_input(*args, **kwargs):
        result = real_select(*args, **kwargs)
        pool.write_bytes(b'{"text": "replaced"}\n' * 500)
        return result

    monkeypatch.setattr(fastzip.cli.select, "select", select_then_change_the_input)
    out = tmp_path / "o.jsonl"
    rc, err = run_main(capsys, "select", pool, "-o", out, *SMALL)
    assert rc == 2
    assert_one_error_line(err, "p.jsonl", "changed during the run")
    assert not out.exists()
    pool.write_bytes(original)


def test_a_fifo_input_is_read_once(tmp_path, capsys, pool):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    raw = pool.read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(raw))
    writer.start()
    out = tmp_path / "o.jsonl"
    rc, err = run_main(capsys, "select", fifo, "-o", out, *SMALL)
    writer.join(timeout=10)
    assert rc == 0, err
    lines = raw.splitlines(keepends=True)
    written = out.read_bytes().splitlines(keepends=True)
    assert len(written) == 5 and all(line in lines for line in written)


# 4. -------------------------------------------------------------- Parquet types
def _typed_table(pa, n: int):
    import datetime
    import decimal

    rows = range(n)
    return pa.table({
        "when": pa.array([datetime.datetime(2024, 1, 1 + i % 28, i % 24) for i in rows], pa.timestamp("us")),
        "day": pa.array([datetime.date(2023, 1 + i % 12, 1) for i in rows], pa.date32()),
        "blob": pa.array([f"payload {i} ".encode() * (i % 7 + 1) for i in rows], pa.binary()),
        "price": pa.array([decimal.Decimal(f"{i}.{i % 100:02d}") for i in rows], pa.decimal128(12, 2)),
        "tags": pa.array([[f"t{i % 5}", f"u{i % 3}"] for i in rows], pa.list_(pa.string())),
    })


def test_parquet_without_text_and_with_non_json_types_works_everywhere(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "typed.parquet"
    pq.write_table(_typed_table(pa, 60), src)
    before = src.read_bytes()
    out = tmp_path / "sel.parquet"
    assert run_main(capsys, "select", src, "-o", out, *SMALL)[0] == 0
    assert pq.read_table(out).schema == pq.read_table(src).schema and pq.read_table(out).num_rows == 5
    assert run_main(capsys, "select", src, "-o", tmp_path / "sel.jsonl", *SMALL)[0] == 0
    row = json.loads((tmp_path / "sel.jsonl").read_text().splitlines()[0])
    assert set(row) == {"when", "day", "blob", "price", "tags"} and row["when"].startswith("2024-01-")
    assert main(["ratio", str(src)]) == 0
    ratio = float(capsys.readouterr().out)
    assert ratio > 1
    assert main(["law", "ratio", str(src)]) == 0
    runs = tmp_path / "runs.csv"
    runs.write_text("name,ratio,loss\na,2.0,1.50\nb,2.5,1.41\nc,3.0,1.33\nd,3.5,1.22\ne,4.0,1.16\nf,4.5,1.04\n")
    assert main(["law", "check", str(runs), "--data", str(src), "--loss", "1.3"]) in (0, 1)   # ok or risk
    assert "error" not in capsys.readouterr().err
    assert src.read_bytes() == before


ARROW_TYPES = [
    "null", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "decimal32", "decimal64", "decimal128", "decimal256",
    "date32", "date64", "time32", "time64", "timestamp", "timestamp_tz", "duration", "month_day_nano_interval",
    "binary", "large_binary", "binary_view", "fixed_size_binary", "string", "large_string", "string_view",
    "list_", "large_list", "list_view", "large_list_view", "fixed_size_list", "struct", "map_", "dictionary",
    "run_end_encoded", "dense_union", "sparse_union", "uuid", "json_", "fixed_shape_tensor",
]


def _arrow_column(pa, name: str, n: int):
    """A column of ``n`` values of the pyarrow type ``name``."""
    import datetime
    import decimal
    import uuid

    i = list(range(n))
    simple = {
        "null": (pa.null(), [None] * n), "bool_": (pa.bool_(), [k % 2 == 0 for k in i]),
        "float16": (pa.float16(), [np.float16(k / 2) for k in i]), "float32": (pa.float32(), [k / 4 for k in i]),
        "float64": (pa.float64(), [k / 8 for k in i]),
        "date32": (pa.date32(), [datetime.date(2020, 1, 1 + k % 28) for k in i]),
        "date64": (pa.date64(), [datetime.date(2021, 2, 1 + k % 28) for k in i]),
        "time32": (pa.time32("ms"), [datetime.time(k % 24, k % 60) for k in i]),
        "time64": (pa.time64("ns"), [datetime.time(k % 24, 0, k % 60) for k in i]),
        "timestamp": (pa.timestamp("ns"), [datetime.datetime(2024, 5, 1 + k % 28) for k in i]),
        "timestamp_tz": (pa.timestamp("s", tz="UTC"),
                         [datetime.datetime(2024, 5, 1, k % 24, tzinfo=datetime.timezone.utc) for k in i]),
        "duration": (pa.duration("us"), [datetime.timedelta(seconds=k, microseconds=7) for k in i]),
        "month_day_nano_interval": (pa.month_day_nano_interval(), [(k, k + 1, k * 1000) for k in i]),
        "binary": (pa.binary(), [bytes([k % 256]) * (k + 1) for k in i]),
        "large_binary": (pa.large_binary(), [b"\x00\xff" * (k + 1) for k in i]),
        "fixed_size_binary": (pa.binary(4), [bytes([k % 256] * 4) for k in i]),
        "string": (pa.string(), [f"s{k}" for k in i]), "large_string": (pa.large_string(), [f"l{k}" for k in i]),
        "list_": (pa.list_(pa.int32()), [[k, k + 1] for k in i]),
        "large_list": (pa.large_list(pa.string()), [[f"x{k}"] for k in i]),
        "fixed_size_list": (pa.list_(pa.int16(), 2), [[k, -k] for k in i]),
        "struct": (pa.struct([("a", pa.int32()), ("b", pa.binary())]), [{"a": k, "b": b"z" * k} for k in i]),
        "map_": (pa.map_(pa.string(), pa.int64()), [[("k", k), ("j", -k)] for k in i]),
    }
    if name in simple:
        typ, values = simple[name]
        return pa.array(values, typ)
    if name.startswith(("int", "uint")):
        return pa.array(i, getattr(pa, name)())
    if name.startswith("decimal"):
        precision = {"decimal32": 9, "decimal64": 18}.get(name, 20)
        return pa.array([decimal.Decimal(f"{k}.25") for k in i], getattr(pa, name)(precision, 2))
    if name in ("binary_view", "string_view"):
        base = pa.array([f"v{k}" for k in i], pa.string())
        return base.cast(getattr(pa, name)()) if name == "string_view" else \
            pa.array([f"v{k}".encode() for k in i], pa.binary()).cast(pa.binary_view())
    if name in ("list_view", "large_list_view"):
        return pa.array([[k] for k in i], getattr(pa, name)(pa.int32()))
    if name == "dictionary":
        return pa.array([f"cat{k % 3}" for k in i]).dictionary_encode()
    if name == "run_end_encoded":
        return pa.compute.run_end_encode(pa.array([k // 3 for k in i], pa.int64()))
    if name in ("dense_union", "sparse_union"):
        ints, strs = pa.array(i, pa.int64()), pa.array([f"u{k}" for k in i])
        codes = pa.array([k % 2 for k in i], pa.int8())
        if name == "sparse_union":
            return pa.UnionArray.from_sparse(codes, [ints, strs])
        return pa.UnionArray.from_dense(codes, pa.array([k for k in i], pa.int32()), [ints, strs])
    if name == "uuid":
        return pa.array([uuid.UUID(int=k).bytes for k in i], pa.binary(16)).cast(pa.uuid())
    if name == "json_":
        return pa.array([json.dumps({"k": k}) for k in i], pa.string()).cast(pa.json_())
    if name == "fixed_shape_tensor":
        typ = pa.fixed_shape_tensor(pa.int32(), (2,))
        storage = pa.array([[k, k + 1] for k in i], pa.list_(pa.int32(), 2))
        return pa.ExtensionArray.from_storage(typ, storage)
    raise AssertionError(name)


@pytest.mark.parametrize("type_name", ARROW_TYPES)
def test_every_arrow_type_serializes_deterministically_or_is_refused_in_one_line(tmp_path, capsys, type_name):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    try:
        column = _arrow_column(pa, type_name, 12)
    except (AttributeError, NotImplementedError, pa.ArrowNotImplementedError) as exc:
        pytest.skip(f"this pyarrow cannot build {type_name}: {exc}")
    table = pa.table({"id": pa.array([f"row {k}" for k in range(12)]), "value": column})
    src = tmp_path / f"{type_name}.parquet"
    try:
        pq.write_table(table, src)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
        pytest.skip(f"Parquet cannot store {type_name}: {exc}")
    before = src.read_bytes()
    for fmt in ("jsonl", "parquet"):
        out = tmp_path / f"sel.{fmt}"
        rc, err = run_main(capsys, "select", src, "-o", out, "--budget", "3", "--k1", "12", "--k2", "6",
                           "--k3", "3", "--quiet")
        assert rc in (0, 2)
        if rc == 0:
            assert out.exists() and err == ""
        else:
            assert_one_error_line(err, src.name)
            assert not out.exists()
    assert src.read_bytes() == before
    dataset, first = fio.read_pool(src, "text")
    _, second = fio.read_pool(src, "text")
    assert first.data.tobytes() == second.data.tobytes()    # the same text form every time


# 5. -------------------------------------------------------------- write failures
def test_disk_full_is_one_line_and_keeps_the_old_output(tmp_path, capsys, pool, monkeypatch):
    out = tmp_path / "o.jsonl"
    out.write_bytes(b"old output\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fio_write.os, "fsync", no_space)
    before = snapshot(tmp_path)
    rc, err = run_main(capsys, "select", pool, "-o", out, *SMALL)
    assert rc == 2
    assert_one_error_line(err, "o.jsonl", "No space left on device")
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs /sys")
def test_an_unwritable_place_is_one_line(tmp_path, capsys, pool):
    rc, err = run_main(capsys, "select", pool, "-o", "/sys/fastzip-test.jsonl", *SMALL)
    assert rc == 2
    assert_one_error_line(err, "/sys/fastzip-test.jsonl")
    assert not os.path.exists("/sys/fastzip-test.jsonl")


# 6. -------------------------------------------------------------- pathological JSON
def test_deep_nesting_and_huge_integers_name_the_file_and_record(tmp_path, capsys):
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"text": "fine"}\n' + "[" * 200_000 + "]" * 200_000 + "\n")
    rc, err = run_main(capsys, "select", deep, "-o", tmp_path / "o.jsonl", "--budget", "1", "--quiet")
    assert rc == 2
    assert_one_error_line(err, "deep.jsonl", "record 1 (line 2)", "nested too deeply")
    big = tmp_path / "big.json"
    big.write_text('[{"text": "a"}, {"n": ' + "7" * 5000 + "}]")
    rc, err = run_main(capsys, "select", big, "-o", tmp_path / "o.json", "--budget", "1", "--quiet")
    assert rc == 2
    assert_one_error_line(err, "big.json", "malformed JSON")
    assert sorted(os.listdir(tmp_path)) == ["big.json", "deep.jsonl"]


BAD_LINES = {"deep": b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
             "long-integer": b'{"text": "a", "n": ' + b"7" * 5000 + b"}\n",
             "not-utf8": b'{"text": "caf\xe9"}\n', "malformed": b'{"text": "cut\n'}


@pytest.mark.parametrize("fault", sorted(BAD_LINES))
def test_a_bad_line_is_the_same_one_line_in_memory_and_out_of_core(tmp_path, capsys, data_dir, fault):
    """Review 6a: nesting too deep gave a RecursionError traceback out of core (in memory: one line)."""
    lines = (data_dir / "faq_qa.jsonl").read_bytes().splitlines(keepends=True)
    pool = tmp_path / "pool.jsonl"
    pool.write_bytes(b"".join([*lines[:20], BAD_LINES[fault], *lines[20:]]))
    before = snapshot(tmp_path)
    errors = []
    for mode in ("off", "on"):
        rc, err = run_main(capsys, "select", pool, "-o", tmp_path / "o.jsonl", *SMALL, "--out-of-core", mode)
        assert rc == 2, err
        assert_one_error_line(err, "pool.jsonl", "record 20 (line 21)")
        errors.append(err)
    assert errors[0] == errors[1]
    assert snapshot(tmp_path) == before


PARQUET_FAULTS = {"mixed-types": (1, '"x"'), "int-past-64-bits": (1, "18446744073709551616")}


@pytest.mark.parametrize("mode", ["off", "on"])
@pytest.mark.parametrize("fault", sorted(PARQUET_FAULTS))
def test_records_parquet_cannot_hold_are_one_line_on_both_paths(tmp_path, capsys, mode, fault):
    """Review 6b/6c: out of core, a field of two types was an ArrowTypeError traceback; an int past 64 bits
    an OverflowError on both paths."""
    pytest.importorskip("pyarrow")
    first, second = PARQUET_FAULTS[fault]
    pool = tmp_path / "schema.jsonl"
    pool.write_text(f'{{"text": "alpha beta gamma", "n": {first}}}\n{{"text": "delta epsilon zeta", "n": {second}}}\n')
    out = tmp_path / "sel.parquet"
    out.write_bytes(b"old output\n")
    before = snapshot(tmp_path)
    rc, err = run_main(capsys, "select", pool, "-o", out, "--budget", "2", "--k1", "2", "--k2", "2", "--k3", "2",
                       "--quiet", "--out-of-core", mode)
    assert rc == 2
    assert_one_error_line(err, f"{out}: cannot write the records as Parquet")
    assert snapshot(tmp_path) == before


def test_parquet_shards_whose_schemas_cannot_merge_are_one_line(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    root = tmp_path / "shards"
    root.mkdir()
    pq.write_table(pa.table({"text": ["alpha beta gamma", "delta epsilon"], "n": [1, 2]}), root / "a.parquet")
    pq.write_table(pa.table({"text": ["zeta eta theta", "iota kappa"], "n": ["x", "y"]}), root / "b.parquet")
    rc, err = run_main(capsys, "select", root, "-o", tmp_path / "sel.parquet", "--budget", "4", "--k1", "4",
                       "--k2", "4", "--k3", "4", "--quiet")
    assert rc == 2
    assert_one_error_line(err, "sel.parquet: cannot write the records as Parquet", "incompatible types")
    assert sorted(os.listdir(tmp_path)) == ["shards"]


# 7. -------------------------------------------------------------- data frames
def test_a_data_frame_selects_rows(faq_rows):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(faq_rows[:60])
    by_frame = fastzip.select(frame, 5, k1=60, k2=10, k3=5, codec=default_codec())
    by_rows = fastzip.select(faq_rows[:60], 5, k1=60, k2=10, k3=5, codec=default_codec())
    assert by_frame.indices.tolist() == by_rows.indices.tolist()


def test_a_pyarrow_table_selects_rows(faq_rows):
    pa = pytest.importorskip("pyarrow")
    table = pa.Table.from_pylist(faq_rows[:60])
    assert fastzip.select(table, 5, k1=60, k2=10, k3=5, codec=default_codec()).indices.tolist() == \
        fastzip.select(faq_rows[:60], 5, k1=60, k2=10, k3=5, codec=default_codec()).indices.tolist()


# 8. -------------------------------------------------------------- signals
@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_the_write_leaves_nothing(tmp_path, capsys, pool, monkeypatch, signum, status):
    real_fsync = fio_write.os.fsync

    def fsync_then_signal(fd):
        real_fsync(fd)
        os.kill(os.getpid(), signum)
        time.sleep(0.05)         # the handler runs here

    monkeypatch.setattr(fio_write.os, "fsync", fsync_then_signal)
    out = tmp_path / "o.jsonl"
    before = snapshot(tmp_path)
    handler = signal.getsignal(signum)   # SIG_DFL, or what an earlier test left (Ray's, after ray.init)
    rc, err = run_main(capsys, "select", pool, "-o", out, *SMALL)
    assert rc == status
    assert "nothing was written" in err and len(err.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before
    assert signal.getsignal(signum) is handler


def test_sigterm_during_a_long_run_exits_143(tmp_path, data_dir):
    pool = tmp_path / "big.jsonl"
    rows = (data_dir / "openai_evals_5k.jsonl").read_text().splitlines()
    pool.write_text("".join(line + "\n" for line in rows * 4))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "fastzip", "select", str(pool), "-o", str(out),
                             "--budget", "3000", "--codec", "zlib", "--keep-duplicates", "--quiet"],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    assert proc.poll() is None, "the run ended before the signal"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and sorted(os.listdir(tmp_path)) == ["big.jsonl"]


def test_a_killed_runs_temporaries_are_cleaned_by_the_next_run(tmp_path, capsys, pool):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".o.jsonl.fastzip-{dead.pid}-abc123.tmp"
    alive = tmp_path / f".o.jsonl.fastzip-{os.getpid()}-def456.tmp"
    foreign = [tmp_path / ".o.jsonl.other.tmp", tmp_path / f".x.jsonl.fastzip-{dead.pid}-abc123.tmp"]
    for path in (stale, alive, *foreign):
        path.write_text("partial")
    assert run_main(capsys, "select", pool, "-o", tmp_path / "o.jsonl", *SMALL)[0] == 0
    assert not stale.exists()
    assert alive.exists() and all(path.exists() for path in foreign)


# 9. -------------------------------------------------------------- threads
@pytest.mark.parametrize("codec", ["zlib", "zstd"])
def test_concurrent_extends_give_a_sequential_result(codec):
    piece = b"the same piece of real text, appended by every thread " * 3
    ic = fastzip.IncrementalCompressor(codec, separator=b"\n")
    barrier = threading.Barrier(8)

    def work():
        barrier.wait()
        for _ in range(25):
            ic.extend([piece])
            ic.marginal_sizes([piece], n_threads=1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stream = b"\n".join([piece] * 200)
    assert ic.raw_size == len(stream) and ic.pieces == 200
    sequential = fastzip.IncrementalCompressor(codec, separator=b"\n")
    for _ in range(200):
        sequential.extend([piece])
    assert ic.compressed_size == sequential.compressed_size
    if codec == "zlib":
        assert ic.compressed_size == len(zlib.compress(stream, 9))


# 10. -------------------------------------------------------------- smaller faults
def test_huge_thread_counts_are_clamped(tmp_path, capsys, pool):
    assert run_main(capsys, "select", pool, "-o", tmp_path / "o.jsonl", "--threads", "99999999999", *SMALL)[0] == 0
    ic = fastzip.IncrementalCompressor("zlib")
    assert ic.marginal_sizes([b"abc"], n_threads=2**40).tolist() == [len(zlib.compress(b"abc", 9))]


def test_extend_refuses_a_bare_string_and_float_offsets_and_indices():
    ic = fastzip.IncrementalCompressor("zlib")
    for bare in ("abc", b"abc"):
        with pytest.raises(InputError, match="wrap one piece in a list"):
            ic.extend(bare)
    assert ic.raw_size == 0
    buffer = np.frombuffer(b"abcdef", dtype=np.uint8)
    with pytest.raises(InputError, match="offsets must be integers"):
        ic.marginal_sizes((buffer, np.array([0.0, 3.0, 6.0])))
    with pytest.raises(InputError, match="index must be integers"):
        ic.marginal_sizes((buffer, np.array([0, 3, 6])), index=np.array([1.0]))


def test_a_lone_surrogate_stays_valid_utf8_in_json_output(tmp_path, capsys):
    src = tmp_path / "s.json"
    records = [{"text": f"sample {i} " * 20} for i in range(8)] + [{"text": "bad \\ud800 half"}]
    src.write_text(json.dumps(records).replace("\\\\ud800", "\\ud800"))
    out = tmp_path / "o.json"
    assert run_main(capsys, "select", src, "-o", out, "--budget", "9", "--k1", "9", "--k2", "9", "--k3", "9",
                    "--quiet")[0] == 0
    text = out.read_bytes().decode("utf-8")          # strict: raises on invalid UTF-8
    assert "\ud800" in "".join(r["text"] for r in json.loads(text))


def test_a_bom_never_lands_inside_the_output(tmp_path, capsys, pool):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + pool.read_bytes())
    out, idx = tmp_path / "o.jsonl", tmp_path / "i.json"
    assert run_main(capsys, "select", bom, "-o", out, "--indices-out", idx, "--budget", "481", "--k1", "481",
                    "--k2", "200", "--k3", "100", "--quiet")[0] == 0
    indices = json.loads(idx.read_text())
    assert indices[0] != 0 and 0 in indices                      # record 0 sits mid-output
    assert b"\xef\xbb\xbf" not in out.read_bytes()
    assert sorted(out.read_bytes().splitlines()) == sorted(pool.read_bytes().splitlines())


def test_the_output_format_follows_the_output_extension_and_round_trips(tmp_path, capsys, pool):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    k = ["--budget", "481", "--k1", "481", "--k2", "200", "--k3", "100", "--quiet", "--indices-out"]
    assert run_main(capsys, "select", pool, "-o", tmp_path / "s.parquet", *k, tmp_path / "i1.json")[0] == 0
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == 481
    assert run_main(capsys, "select", tmp_path / "s.parquet", "-o", tmp_path / "back.jsonl", *k,
                    tmp_path / "i2.json")[0] == 0
    originals = [json.loads(line) for line in pool.read_text().splitlines()]
    back = [json.loads(line) for line in (tmp_path / "back.jsonl").read_text().splitlines()]
    assert sorted(map(json.dumps, back)) == sorted(map(json.dumps, originals))


def test_argument_errors_are_not_blamed_on_the_input_and_are_one_line(tmp_path, capsys, pool):
    rc, err = run_main(capsys, "select", pool, "-o", tmp_path / "o.jsonl", "--budget", "0", "--quiet")
    assert rc == 2
    assert_one_error_line(err, "budget must be a positive integer")
    assert "p.jsonl" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["select", str(pool), "--budget", "x"])
    assert exit_info.value.code == 2
    assert_one_error_line(capsys.readouterr().err, "--budget")


def test_usage_errors_in_the_api_are_input_errors():
    with pytest.raises(UsageError):
        fastzip.select([{"text": "a"}, {"text": "b"}], 0, codec=default_codec())
    assert issubclass(UsageError, InputError) and issubclass(InputError, ValueError)


# 11. -------------------------------------------------------------- exact duplicates
def test_exact_copies_are_dropped_and_the_selection_is_distinct(tmp_path, capsys, faq_rows):
    distinct = faq_rows[:30]
    pool = [row for row in distinct for _ in range(4)]
    for codec in ("zstd", "zlib"):
        result = fastzip.select(pool, 30, k1=120, k2=60, k3=30, codec=codec)
        assert len(set(result.indices.tolist())) == 30
        assert {pool[i]["instruction"] for i in result.indices} == {r["instruction"] for r in distinct}
        assert result.duplicates_dropped == 90
        assert all(i % 4 == 0 for i in result.indices)        # the first copy stays
    kept = fastzip.select(pool, 30, k1=120, k2=60, k3=30, dedupe=False, codec=default_codec())
    assert kept.duplicates_dropped == 0
    src = tmp_path / "dups.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in pool))
    rc, err = run_main(capsys, "select", src, "-o", tmp_path / "o.jsonl", "--budget", "30")
    assert rc == 0 and "dropped 90 exact duplicate samples" in err
    rc, err = run_main(capsys, "select", src, "-o", tmp_path / "o.jsonl", "--budget", "31", "--quiet")
    assert rc == 2 and "after dropping 90 exact duplicates" in err


def test_compat_mode_never_drops_duplicates(faq_rows):
    pool = [row for row in faq_rows[:20] for _ in range(3)]
    result = fastzip.select(pool, 10, k1=60, k2=20, k3=10, compat="reference")
    assert result.duplicates_dropped == 0
