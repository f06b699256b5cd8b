"""Install the zstandard release whose bundled libzstd equals the system one.

fastzip's native zstd kernel links the system libzstd; python-zstandard
bundles its own copy.  zstd's output differs between library versions, so
the tests that compare the two byte for byte need the same version on both
sides.  CI pins the matching release; elsewhere those tests skip.
"""
import re
import subprocess
import sys

# libzstd version -> python-zstandard release that bundles it
BUNDLED = {(1, 5, 2): "0.19.0", (1, 5, 4): "0.20.0", (1, 5, 5): "0.22.0",
           (1, 5, 6): "0.23.0", (1, 5, 7): "0.25.0"}


def system_libzstd(header: str = "/usr/include/zstd.h") -> tuple:
    """The system libzstd's version, read from its header (what the native build links)."""
    try:
        text = open(header, encoding="utf-8").read()
    except OSError:
        return ()
    parts = [re.search(rf"#define ZSTD_VERSION_{part}\s+(\d+)", text) for part in ("MAJOR", "MINOR", "RELEASE")]
    return tuple(int(m.group(1)) for m in parts) if all(parts) else ()


system = system_libzstd()
if not system:
    print("match_zstandard: no system zstd header; nothing to match")
    sys.exit(0)
try:
    import zstandard

    bundled = tuple(zstandard.ZSTD_VERSION)
except ImportError:
    bundled = ()
if bundled == system:
    print(f"match_zstandard: zstandard already bundles libzstd {system}")
    sys.exit(0)
release = BUNDLED.get(system)
if release is None:
    print(f"match_zstandard: no known zstandard release bundles libzstd {system}; "
          "the byte-for-byte zstd tests will skip")
    sys.exit(0)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", f"zstandard=={release}"])
print(f"match_zstandard: installed zstandard {release} (libzstd {system})")
