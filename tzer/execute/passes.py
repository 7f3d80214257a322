"""Extra passes a test case may name: applied, in order, before TVM's pipeline and inside its PassContext (so the
pass tracker sees them). Registered by name; today only the planted faults of tzer.testing live here."""

from __future__ import annotations

from typing import Any, Callable

from tzer.registry import Registry

EXTRA_PASSES: Registry[Callable[[], Any]] = Registry("extra pass", {
    f"fault.{name}": f"tzer.testing.faults:{name}"
    for name in ("segfault", "abort", "hang", "allocate", "check_failure", "exception", "kernel_hang")
})
