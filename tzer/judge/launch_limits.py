"""The launch-limit oracle: a kernel TVM built must fit the target's limits; no GPU is needed to check it.

TVM 0.27 builds a kernel with more threads per block than the target allows without a word (binding 2048 threads
to threadIdx.x for sm_90, whose limit TVM's own target records as max_num_threads 1024), and nvcc accepts it; the
launch then fails on a GPU. TVM writes each kernel's threads per block as `__launch_bounds__(N)` in the CUDA C, so
the check reads them there.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_KERNEL = re.compile(r"__global__\s+void\s+__launch_bounds__\((\d+)\)\s+(\w+)\s*\(")


@dataclasses.dataclass(frozen=True)
class LaunchViolation:
    kernel: str
    threads_per_block: int
    limit: int

    def __str__(self) -> str:
        return (f"kernel {self.kernel} launches {self.threads_per_block} threads per block; the target allows "
                f"{self.limit}")


def threads_per_block(source: str) -> dict[str, int]:
    """Each kernel of TVM's CUDA C and its threads per block (from `__launch_bounds__`)."""
    return {name: int(threads) for threads, name in _KERNEL.findall(source)}


def launch_violations(source: str, target: Any) -> list[LaunchViolation]:
    """The kernels of `source` whose launch exceeds `target`'s limits (a tvm.target.Target of kind cuda)."""
    limit = int(target.attrs["max_num_threads"])
    return [LaunchViolation(kernel, threads, limit) for kernel, threads in threads_per_block(source).items()
            if threads > limit]
