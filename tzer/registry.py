"""Registries: named, lazily imported pluggable parts (generators, targets, oracles, store backends).

A registry maps a name to "module:attribute". Nothing is imported until a part is asked for by name, so
`tzer --help` never imports TVM. Adding a part is one line in the registry's table plus the part itself.
"""

from __future__ import annotations

import importlib
from typing import Generic, TypeVar

from tzer.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, entries: dict[str, str]):
        self.kind = kind
        self._paths = dict(entries)
        self._loaded: dict[str, T] = {}

    def names(self) -> list[str]:
        return sorted(self._paths)

    def __contains__(self, name: str) -> bool:
        return name in self._paths

    def get(self, name: str) -> T:
        if name not in self._paths:
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        if name not in self._loaded:
            module_name, _, attribute = self._paths[name].partition(":")
            self._loaded[name] = getattr(importlib.import_module(module_name), attribute)
        return self._loaded[name]
