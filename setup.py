"""Builds the native coverage runtime (tzer/observe/native) as part of `pip install`: everything else is in
pyproject.toml.

Two shared libraries, loaded with ctypes (they have no Python API): `_covrt`, the breakpoint handler, and `_blocks`,
the basic-block finder, which uses the capstone wheel's headers here and its libcapstone.so at run time. Native
coverage is Linux x86-64 only; elsewhere nothing is built and tzer runs with `--coverage none`.
"""

import os
import platform
import sys

from setuptools import Extension, setup

FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def native_extensions() -> list[Extension]:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return []
    import capstone  # a build requirement (pyproject.toml): it ships capstone's headers

    include = os.path.join(os.path.dirname(capstone.__file__), "include")
    return [
        Extension("tzer.observe.native._covrt", ["tzer/observe/native/covrt.c"], extra_compile_args=FLAGS),
        # cs_* stay undefined here: tzer loads the installed capstone's libcapstone.so globally first.
        Extension("tzer.observe.native._blocks", ["tzer/observe/native/blocks.c"], include_dirs=[include],
                  extra_compile_args=FLAGS),
    ]


setup(ext_modules=native_extensions())
