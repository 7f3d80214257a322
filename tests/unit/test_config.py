"""Campaign configuration (tzer.config) and registries: durations, validation, one-line ConfigErrors."""

import dataclasses
import json
import sys

import pytest

from tzer.config import FuzzConfig, parse_duration, parse_size
from tzer.errors import ConfigError, UserError
from tzer.execute.sandbox import Limits
from tzer.execute.targets import TARGETS
from tzer.generate import GENERATORS
from tzer.records import PassConfig
from tzer.registry import Registry


@pytest.mark.parametrize(
    "text,seconds",
    [("300", 300.0), ("90s", 90.0), ("5m", 300.0), ("1.5h", 5400.0), ("0.5", 0.5), (" 2m ", 120.0), ("1h", 3600.0)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "-5", "0", "0s", "0.0h", "1e3", "5ms", "m", "5 m s", "5M", "1,5h"])
def test_parse_duration_rejects_bad_text_with_one_line(text):
    with pytest.raises(ConfigError) as info:
        parse_duration(text)
    assert "\n" not in str(info.value)
    assert repr(text) in str(info.value)


def test_config_error_is_a_user_error():
    assert issubclass(ConfigError, UserError)


def test_default_config_is_valid_and_covers_every_generator():
    config = FuzzConfig(seed=0)
    assert config.mode == "joint" and config.n_max == 4 and config.target == "llvm"
    assert config.generator_names == tuple(GENERATORS.names())
    assert FuzzConfig(seed=0, generators=("conv",)).generator_names == ("conv",)


def test_valid_config_with_every_option(tmp_path):
    config = FuzzConfig(seed=2**63 - 1, store=str(tmp_path / "s.db"), time_budget=5.0, iterations=1, target="llvm",
                        mode="generate", generators=tuple(GENERATORS.names()), corpus=str(tmp_path))
    assert config.to_json()["seed"] == 2**63 - 1


@pytest.mark.parametrize(
    "changes,needle",
    [
        ({"mode": "annealing"}, "unknown mode 'annealing'"),
        ({"n_max": 0}, "--n-max"),
        ({"target": "vulkan"}, "unknown target 'vulkan'"),
        ({"generators": ("conv", "nope")}, "unknown generator 'nope'"),
        ({"iterations": 0}, "--iterations must be positive"),
        ({"iterations": -3}, "--iterations must be positive"),
        ({"seed": -1}, "--seed"),
        ({"seed": 2**63}, "--seed"),
    ],
    ids=["mode", "n-max", "target", "generator", "iterations-0", "iterations-negative", "seed-negative", "seed-too-big"],
)
def test_config_rejects_bad_values_with_one_line(changes, needle):
    with pytest.raises(ConfigError) as info:
        FuzzConfig(**{"seed": 0, **changes})
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_config_rejects_missing_corpus_directory(tmp_path):
    missing = tmp_path / "no-such-corpus"
    with pytest.raises(ConfigError, match="does not exist"):
        FuzzConfig(seed=0, corpus=str(missing))
    assert not missing.exists()


def test_config_rejects_a_corpus_that_is_a_file(tmp_path):
    path = tmp_path / "corpus.json"
    path.write_text("{}")
    with pytest.raises(ConfigError):
        FuzzConfig(seed=0, corpus=str(path))


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FuzzConfig(seed=0).seed = 1  # type: ignore[misc]


def test_registry_unknown_name_lists_known_names():
    registry = Registry("widget", {"b": "json:dumps", "a": "json:loads"})
    assert registry.names() == ["a", "b"] and "a" in registry and "c" not in registry
    with pytest.raises(ConfigError, match=r"unknown widget 'c'; known: a, b"):
        registry.get("c")


def test_registry_imports_lazily_and_caches():
    registry = Registry("widget", {"wave": "wave:open"})
    sys.modules.pop("wave", None)
    assert "wave" not in sys.modules
    opener = registry.get("wave")
    assert "wave" in sys.modules and registry.get("wave") is opener


def test_target_and_generator_names_do_not_import_tvm():
    # Validating a config only consults names; loading the llvm target class itself must stay TVM-free too.
    assert "llvm" in TARGETS and "conv" in GENERATORS
    assert TARGETS.get("llvm").name == "llvm"


@pytest.mark.parametrize(
    "text,size",
    [("4G", 4 << 30), ("512M", 512 << 20), ("1073741824", 1 << 30), ("1.5g", 3 << 29), ("512k", 512 << 10),
     ("1T", 1 << 40), ("4GiB", 4 << 30), ("4gb", 4 << 30), (" 2 G ", 2 << 30), ("100", 100)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "G", "0", "0G", "-1G", "4X", "1e9", "1,5G", "4GiBs", "4 GB B"])
def test_parse_size_rejects_bad_text_with_one_line(text):
    with pytest.raises(ConfigError) as info:
        parse_size(text)
    assert "\n" not in str(info.value)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("jobs", [1, 2, 256])
def test_jobs_within_range_are_accepted(jobs):
    assert FuzzConfig(seed=0, jobs=jobs).jobs == jobs


@pytest.mark.parametrize(
    "changes,needle",
    [
        ({"jobs": 0}, "--jobs must be between 1 and 256, got 0"),
        ({"jobs": 257}, "--jobs must be between 1 and 256, got 257"),
        ({"isolation": "docker"}, "unknown isolation 'docker'; available: fork, none"),
        ({"jobs": 2, "isolation": "none"}, "--jobs above 1 needs the fork server"),
        ({"extra_passes": ("fault.nope",)}, "unknown extra pass 'fault.nope'"),
        ({"extra_passes": ("fault.segfault", "tir.Simplify")}, "unknown extra pass 'tir.Simplify'"),
        ({"compile_seconds": 0.0}, "limits must be positive"),
        ({"run_seconds": -1.0}, "limits must be positive"),
        ({"memory_bytes": 0}, "limits must be positive"),
        ({"memory_bytes": -(1 << 30)}, "limits must be positive"),
    ],
    ids=["jobs-0", "jobs-257", "isolation", "jobs-without-fork", "extra-pass", "extra-pass-not-a-fault",
         "compile-seconds", "run-seconds", "memory-0", "memory-negative"],
)
def test_config_rejects_bad_worker_settings_with_one_line(changes, needle):
    with pytest.raises(ConfigError) as info:
        FuzzConfig(**{"seed": 0, **changes})
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_in_process_isolation_and_a_planted_fault_are_accepted():
    # Naming a planted fault only checks the registry: the fault (and TVM) is not imported (the conftest guard).
    config = FuzzConfig(seed=0, isolation="none", extra_passes=("fault.segfault",))
    assert (config.jobs, config.isolation, config.extra_passes) == (1, "none", ("fault.segfault",))


def test_pass_config_and_limits_come_from_the_config():
    config = FuzzConfig(seed=0, extra_passes=("fault.segfault", "fault.abort"), compile_seconds=30.0,
                        run_seconds=2.5, memory_bytes=1 << 30)
    assert config.pass_config == PassConfig(extra_passes=("fault.segfault", "fault.abort"))
    assert config.limits == Limits(compile_seconds=30.0, run_seconds=2.5, memory_bytes=1 << 30)
    assert FuzzConfig(seed=0).pass_config == PassConfig()
    assert FuzzConfig(seed=0).limits == Limits()


def stored(config: FuzzConfig) -> dict:
    """The config as the store hands it back: to_json(), then JSON text (tuples come back as lists)."""
    return json.loads(json.dumps(config.to_json()))


def test_resumed_keeps_what_the_campaign_draws_and_takes_budgets_from_this_invocation(tmp_path):
    old = FuzzConfig(seed=77, store=str(tmp_path / "a.db"), iterations=100, generators=("conv", "max_pool"),
                     extra_passes=("fault.segfault",), jobs=1, compile_seconds=60.0, mode="pass", n_max=7)
    new = FuzzConfig(seed=5, store=str(tmp_path / "b.db"), time_budget=30.0, iterations=7, jobs=4,
                     compile_seconds=20.0, run_seconds=3.0, memory_bytes=1 << 30)
    resumed = new.resumed(stored(old))
    assert (resumed.seed, resumed.target, resumed.mode, resumed.n_max) == (77, "llvm", "pass", 7)
    assert resumed.generators == ("conv", "max_pool") and isinstance(resumed.generators, tuple)
    assert resumed.extra_passes == ("fault.segfault",) and isinstance(resumed.extra_passes, tuple)
    assert (resumed.store, resumed.time_budget, resumed.iterations, resumed.jobs) == (new.store, 30.0, 7, 4)
    assert resumed.limits == new.limits
    assert resumed.resume is True and new.resume is False
    assert resumed == dataclasses.replace(new, seed=77, generators=("conv", "max_pool"), mode="pass", n_max=7,
                                          extra_passes=("fault.segfault",), resume=True)
    assert resumed.pass_config == old.pass_config


def test_resumed_with_every_generator_and_no_extra_pass():
    resumed = FuzzConfig(seed=1, iterations=3).resumed(stored(FuzzConfig(seed=2)))
    assert (resumed.seed, resumed.generators, resumed.extra_passes, resumed.resume) == (2, (), (), True)
    assert resumed.generator_names == tuple(GENERATORS.names())


def test_resumed_accepts_a_config_stored_before_extra_passes_existed():
    # FuzzConfig.to_json() as tzer wrote it into version-1 stores (before jobs, limits and extra passes).
    old = {"seed": 9, "store": "reports/tzer.db", "time_budget": None, "iterations": 10, "target": "llvm",
           "mode": "generate", "generators": ["conv"], "corpus": None, "checkpoint_seconds": 1.0}
    resumed = FuzzConfig(seed=0).resumed(old)
    assert (resumed.seed, resumed.generators, resumed.extra_passes) == (9, ("conv",), ())
