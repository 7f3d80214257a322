"""Compilation targets, registered by name. A target knows its TVM target and the device its code runs on.

A campaign names one target or several, comma-separated (`llvm`, `cuda`, `llvm,cuda`), each with its option where
it takes one (`cuda:sm_80`: the CUDA architecture; default sm_90): each test case is then
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

    @classmethod
    def from_option(cls, option: str) -> "Target":
        """The target a spec element "name:option" names; ConfigError for an option it does not take."""
        from tzer.errors import ConfigError

        if option:
            raise ConfigError(f"target {cls.name!r} takes no option (got {option!r})")
        return cls()

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

    @classmethod
    def from_option(cls, option: str) -> "Target":
        """`cuda` (sm_90) or `cuda:ARCH` (`cuda:sm_80`)."""
        import re

        from tzer.errors import ConfigError

        if option and not re.fullmatch(r"sm_\d+[a-z]?", option):
            raise ConfigError(f"bad CUDA architecture {option!r}: use sm_NN (cuda:sm_80)")
        return cls(option) if option else cls()

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


def parse_targets(spec: str) -> tuple[Target, ...]:
    """The targets a campaign's target spec names: comma-separated `name` or `name:option` ("llvm,cuda:sm_80");
    ConfigError for an unknown or repeated one."""
    from tzer.errors import ConfigError

    targets = []
    for element in spec.split(","):
        name, _, option = element.strip().partition(":")
        if name not in TARGETS:
            raise ConfigError(f"unknown target {name!r}; available: {', '.join(TARGETS.names())}, or several "
                              f"comma-separated (llvm,cuda)")
        targets.append(TARGETS.get(name).from_option(option))
    names = [target.name for target in targets]
    if len(set(names)) != len(names):
        raise ConfigError(f"target {spec!r} names a target twice")
    return tuple(targets)


def target_names(spec: str) -> tuple[str, ...]:
    """The names of the targets a spec names ("llvm,cuda:sm_80" -> ("llvm", "cuda"))."""
    return tuple(target.name for target in parse_targets(spec))


def uses_gpu(spec: str) -> bool:
    """Whether a target spec names a GPU target (so GPU schedule mutators apply to its test cases)."""
    return any(target.gpu for target in parse_targets(spec))
