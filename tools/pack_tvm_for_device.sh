#!/usr/bin/env bash
# Pack what bench/gpu_check.sh installs on the device machine, which reaches no package registry and takes at
# most 64 MiB with the working tree: the installed apache-tvm package (from this checkout's .venv), its
# libtvm_compiler.so compressed apart with xz's x86 filter (about 55 MiB of the 96 MiB wheel), and the cp312
# apache-tvm-ffi wheel the device's Python 3.12 needs. Writes .gpu_pack/ (ignored by git; name it in `carry`).
# Takes about 6 minutes (xz -9e on one 250 MB library).
set -euo pipefail
cd "$(dirname "$0")/.."
site=$(.venv/bin/python -c "import os, tvm; print(os.path.dirname(os.path.dirname(tvm.__file__)))")
ffi=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('apache-tvm-ffi'))")
rm -rf .gpu_pack && mkdir .gpu_pack
# The rest of the package: Python sources and the runtime libraries (cutlass headers and C++ sources left out).
tar -C "$site" --exclude='tvm/3rdparty' --exclude='tvm/src' --exclude='tvm/web' --exclude='tvm/include' \
    --exclude='__pycache__' --exclude='tvm/lib/libtvm_compiler.so' -cf - tvm | xz -9e -T2 > .gpu_pack/tvm-rest.tar.xz
xz -c --x86 --lzma2=preset=9e,dict=256MiB -T1 "$site/tvm/lib/libtvm_compiler.so" > .gpu_pack/libtvm_compiler.so.xz
.venv/bin/pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    -d .gpu_pack "apache-tvm-ffi==$ffi"
du -sh .gpu_pack/*
