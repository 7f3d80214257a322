"""Compilation targets, registered by name. A target knows its TVM target and the device its code runs on.

To add one: subclass `Target`, implement `tvm_target` and `device`, and add it to `TARGETS`.
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


class CUDA(Target):
    """NVIDIA GPUs, as a TVM target dict; the architecture is configurable (default sm_90, the H200 the device
    machine lends). Building needs no GPU (TVM writes CUDA C; tzer.judge.nvcc compiles it); running needs one."""

    name = "cuda"

    def __init__(self, arch: str = "sm_90"):
        self.arch = arch

    def tvm_target(self) -> Any:
        import tvm

        return tvm.target.Target({"kind": "cuda", "arch": self.arch})

    def device(self) -> Any:
        import tvm

        return tvm.cuda(0)


# CUDA joins TARGETS when the runner can judge a CUDA build (compile with the nvcc oracle without a GPU, run on
# one); until then `--target cuda` is refused as unknown rather than half-run.
TARGETS: Registry[type[Target]] = Registry("target", {"llvm": "tzer.execute.targets:LLVM"})
