"""Build of fastzip's native extension.

The C kernels in csrc/ link the system's zlib always, and libzstd / liblz4
when their headers are found (Debian: libzstd-dev, liblz4-dev).  A codec
whose headers are missing is left out of the extension; fastzip then uses
the `zstandard` / `lz4` PyPI bindings for it (see fastzip.codecs).

Environment switches:
  FASTZIP_SANITIZE=1     build with AddressSanitizer + UBSan (-O1 -g); run
                         with LD_PRELOAD=$(gcc -print-file-name=libasan.so)
  FASTZIP_NO_OPENMP=1    compile without OpenMP (batches run on fastzip's own pthread
                         pool either way; FASTZIP_OPENMP=1 at run time picks an
                         OpenMP team instead, kept for comparison)
  FASTZIP_NO_ZSTD=1 / FASTZIP_NO_LZ4=1   leave a native codec out
  FASTZIP_OPT_LEVEL=N   optimisation level of the C kernels (default 3)
  FASTZIP_REQUIRE_NATIVE=1   fail the build when a codec's headers are missing,
                         instead of building a package that falls back to the
                         (about 10x slower) PyPI bindings; CI sets it
  FASTZIP_WERROR=1       compiler warnings are errors (-Werror); one CI build
                         (.ci/werror) sets it
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup


def _compiles(source: str, extra_args=(), libraries=()) -> bool:
    """True when `source` compiles and links with the C compiler."""
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc.split()[0]):
        return False
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        cmd = cc.split() + [path, "-o", os.path.join(tmp, "probe"), *extra_args]
        cmd += ["-l" + lib for lib in libraries]
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


sources = ["fastzip/streams/_native.pyx", "csrc/fz_batch.c", "csrc/fz_stream.c", "csrc/fz_zlib.c", "csrc/fz_zcache.c",
           "csrc/fz_lz77.c"]
libraries = ["z"]
macros = []
# No -Wno-* here: csrc/ and the C that Cython 3 writes for the .pyx files compile
# without a warning under -Wall -Wextra (sign-compare, unused parameters and
# functions included), and FASTZIP_WERROR=1 keeps it that way.
compile_args = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra"]
link_args = ["-pthread"]

probe_zstd = "#include <zstd.h>\nint main(void){return ZSTD_versionNumber() < 10400;}\n"
probe_lz4 = "#include <lz4.h>\n#include <lz4hc.h>\nint main(void){return LZ4_versionNumber() < 10900;}\n"
probe_omp = "#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n"

have_zstd = not _flag("FASTZIP_NO_ZSTD") and _compiles(probe_zstd, libraries=["zstd"])
have_lz4 = not _flag("FASTZIP_NO_LZ4") and _compiles(probe_lz4, libraries=["lz4"])
have_omp = not _flag("FASTZIP_NO_OPENMP") and _compiles(probe_omp, extra_args=["-fopenmp"])

missing = [name for name, have, switch in (("zstd", have_zstd, "FASTZIP_NO_ZSTD"), ("lz4", have_lz4, "FASTZIP_NO_LZ4"))
           if not have and not _flag(switch)]
if missing:
    message = (f"the {' and '.join(missing)} headers or libraries were not found, so "
               f"{' and '.join(missing)} will run through the PyPI bindings, about 10x slower; "
               "install them first (Debian/Ubuntu: apt-get install libzstd-dev liblz4-dev)")
    if _flag("FASTZIP_REQUIRE_NATIVE"):
        sys.exit(f"fastzip build: FASTZIP_REQUIRE_NATIVE=1 and {message}")
    print(f"\n*** fastzip build WARNING: {message} ***\n", file=sys.stderr)

if have_zstd:
    sources.append("csrc/fz_zstd.c")
    libraries.append("zstd")
    macros.append(("FZ_HAVE_ZSTD", "1"))
if have_lz4:
    sources.append("csrc/fz_lz4.c")
    libraries.append("lz4")
    macros.append(("FZ_HAVE_LZ4", "1"))
if have_omp:
    compile_args.append("-fopenmp")
    link_args.append("-fopenmp")

if _flag("FASTZIP_WERROR"):
    compile_args.append("-Werror")

if _flag("FASTZIP_SANITIZE"):
    compile_args += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined"]
    link_args += ["-fsanitize=address,undefined"]
else:
    # FASTZIP_OPT_LEVEL: CI builds -O0 once, to check that lz77's sizes do not depend on the optimiser
    compile_args.append("-O" + os.environ.get("FASTZIP_OPT_LEVEL", "3"))

print(f"fastzip build: zstd={'native' if have_zstd else 'fallback'} "
      f"lz4={'native' if have_lz4 else 'fallback'} openmp={have_omp} "
      f"werror={_flag('FASTZIP_WERROR')}", file=sys.stderr)

# Every C source and header, whether or not this build compiles it: a change to
# any of them rebuilds both modules, and all of them go into the sdist (a codec
# left out here, for want of its headers, must still build from the sdist on a
# machine that has them).  Sorted, so that the sdist's file list is stable.
c_files = sorted(glob.glob("csrc/*.[ch]"))

extension = Extension(
    "fastzip.streams._native",
    sources=sources,
    include_dirs=["csrc"],
    libraries=libraries,
    define_macros=macros,
    depends=c_files,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

# One-shot and pair sizes (fastzip.sizes): a second module on the same flags.
probe_lz4frame = "#include <lz4frame.h>\nint main(void){return LZ4F_getVersion() < 100;}\n"
have_lz4frame = have_lz4 and _compiles(probe_lz4frame, libraries=["lz4"])
pairs_extension = Extension(
    "fastzip.streams._pairs",
    sources=["fastzip/streams/_pairs.pyx", "csrc/fz_batch.c", "csrc/fz_pairs.c", "csrc/fz_zcache.c"],
    include_dirs=["csrc"],
    libraries=libraries,
    define_macros=[m for m in macros if m[0] != "FZ_HAVE_LZ4" or have_lz4frame],
    depends=c_files,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

# autotestdict off: no module-level __test__ dict, which the stubs would have to declare
setup(ext_modules=cythonize([extension, pairs_extension],
                            compiler_directives={"language_level": "3", "autotestdict": False}))
