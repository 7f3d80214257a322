"""Compilation targets, registered by name. A target knows its TVM target and the device its code runs on.

To add one (CUDA comes this way): subclass `Target`, implement `tvm_target` and `device`, and add it to `TARGETS`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tzer.registry import Registry


class Target:
    name: ClassVar[str]

    def tvm_target(self) -> Any:
        raise NotImplementedError

    def device(self) -> Any:
        raise NotImplementedError


class LLVM(Target):
    name = "llvm"

    def tvm_target(self) -> Any:
        import tvm

        return tvm.target.Target({"kind": "llvm"})

    def device(self) -> Any:
        import tvm

        return tvm.cpu(0)


TARGETS: Registry[type[Target]] = Registry("target", {"llvm": "tzer.execute.targets:LLVM"})
