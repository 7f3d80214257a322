"""Compilation targets, registered by name. A target knows its TVM target and the device its code runs on.

A campaign names one target or several, comma-separated (`llvm`, `cuda`, `llvm,cuda`): each test case is then
compiled for each of them and judged on each (tzer.runner). `HOST` is the target tzer computes its own references
on (minimal lowerings, the out-of-bounds and uninitialized-read checks), whatever the campaign's targets.

To add one: subclass `Target`, implement `tvm_target` and `device`, and add it to `TARGETS`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tzer.registry import Registry


class Target:
    name: ClassVar[str]
    gpu: ClassVar[bool] = False  # its programs need a GPU schedule (tzer.execute.gpu_schedule) and run on a GPU

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
    gpu = True

    def __init__(self, arch: str = "sm_90"):
        self.arch = arch

    def tvm_target(self) -> Any:
        import tvm

        return tvm.target.Target({"kind": "cuda", "arch": self.arch})

    def device(self) -> Any:
        import tvm

        return tvm.cuda(0)


TARGETS: Registry[type[Target]] = Registry("target", {
    "llvm": "tzer.execute.targets:LLVM",
    "cuda": "tzer.execute.targets:CUDA",
})
HOST = "llvm"


def target_names(spec: str) -> tuple[str, ...]:
    """The targets a campaign's target spec names ("llvm,cuda" -> ("llvm", "cuda")); ConfigError for an unknown
    or repeated one."""
    from tzer.errors import ConfigError

    names = tuple(name.strip() for name in spec.split(","))
    for name in names:
        if name not in TARGETS:
            raise ConfigError(f"unknown target {name!r}; available: {', '.join(TARGETS.names())}, or several "
                              f"comma-separated (llvm,cuda)")
    if len(set(names)) != len(names):
        raise ConfigError(f"target {spec!r} names a target twice")
    return names


def uses_gpu(spec: str) -> bool:
    """Whether a target spec names a GPU target (so GPU schedule mutators apply to its test cases)."""
    return any(TARGETS.get(name).gpu for name in target_names(spec))
