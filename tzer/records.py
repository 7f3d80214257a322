"""The records that flow between pipeline stages: test cases, executions and findings.

Everything here is plain data (frozen dataclasses of JSON-able values and ordered enums), so a record can be
stored as a SQL row, sent over a pipe, and replayed bit for bit. No TVM or PyTorch object ever lives in a record.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, so equal data hashes equally across runs and machines."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


class Stage(enum.IntEnum):
    """Where in the pipeline something happened, in pipeline order."""

    BUILD = 1  # program construction (TE graph -> PrimFunc) and, later, mutation
    LOWER = 2  # TIR passes
    CODEGEN = 3  # target code generation after the passes
    LOAD = 4  # loading the compiled module / looking up its entry (LLVM JIT)
    RUN = 5  # calling the compiled function
    COMPARE = 6  # the oracle's verdict on the numbers


class Symptom(enum.IntEnum):
    """How a TVM bug shows itself (NNSmith's BugReport symptom), ordered from worst to mildest."""

    CRASH = 1  # killed by a signal
    INTERNAL_ERROR = 2  # tvm.error.InternalError: a check failure on a program TVM accepted
    EXCEPTION = 3  # any other exception raised by TVM on a valid program
    TIMEOUT = 4
    OUT_OF_MEMORY = 5
    MISMATCH = 6  # wrong numbers
    OUT_OF_BOUNDS = 7  # a semantics-preserving transformation made the program access memory out of bounds
    REJECTED_CODE = 8  # TVM generated code that the target's own compiler rejects (nvcc on TVM's CUDA C)
    LAUNCH_LIMIT = 9  # TVM built a kernel whose launch exceeds the target's limits (threads per block)


class Verdict(enum.IntEnum):
    """What one execution amounts to."""

    PASS = 1  # compiled, ran, and the oracle agreed
    INVALID = 2  # TVM rejected an ill-formed program (mutants only): counted, dropped
    FINDING = 3  # a TVM bug


class Invalidity(enum.IntEnum):
    """Why a test case was invalid: a mutant or pass sequence TVM is entitled to reject, never a finding."""

    NO_SITE = 1  # the mutator found nothing to mutate
    ILL_FORMED = 2  # TVM's verifier rejects the mutant
    OUT_OF_BOUNDS = 3  # an access of the mutant is not proven in bounds: its output would be garbage
    REFERENCE_FAILED = 4  # the minimal lowering of the mutant fails: TVM rejects the program itself
    MISUSED_PIPELINE = 5  # TVM rejects a pass sequence that runs passes where they are not supported
    UNINITIALIZED_READ = 6  # the mutant's output depends on memory it never wrote (tzer.judge.initialization)
    NO_GPU_SCHEDULE = 7  # tzer's baseline GPU schedule cannot bind the loops a mutator left (tzer.judge.cuda)
    UNSUPPORTED_ON_TARGET = 8  # the mutant uses what the target refuses by design (global memory in a CUDA kernel)


@dataclasses.dataclass(frozen=True)
class MutationStep:
    """One mutation of a test case's program: the registered mutator and the seed of its `random.Random`.

    If the mutator finds no site with `Random(seed)`, the step tries `seed + 1`, ... up to `SEED_TRIES` seeds, so a
    step replays exactly. `trace` is the schedule trace (JSON) of a schedule mutator: replay applies it as is."""

    mutator: str
    seed: int
    trace: str = ""

    SEED_TRIES = 8

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mutator": self.mutator, "seed": self.seed}
        if self.trace:
            data["trace"] = self.trace
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MutationStep":
        return cls(str(data["mutator"]), int(data["seed"]), str(data.get("trace", "")))


@dataclasses.dataclass(frozen=True)
class PassConfig:
    """How a program is lowered: the PassContext's settings. Empty means TVM's default pipeline."""

    opt_level: int = 3
    disabled_passes: tuple[str, ...] = ()
    config: tuple[tuple[str, Any], ...] = ()  # PassContext config items, sorted by key
    extra_passes: tuple[str, ...] = ()  # registered passes run before the pipeline (tzer.execute.passes)
    pipeline: tuple[str, ...] | None = None  # explicit TIR pipeline (tzer.execute.pipeline names); None: TVM's

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", tuple(sorted(self.config)))

    def to_json(self) -> dict[str, Any]:
        data = {
            "opt_level": self.opt_level,
            "disabled_passes": list(self.disabled_passes),
            "config": {k: v for k, v in self.config},
        }
        if self.extra_passes:  # omitted when empty, so records without them keep their content hash
            data["extra_passes"] = list(self.extra_passes)
        if self.pipeline is not None:  # likewise
            data["pipeline"] = list(self.pipeline)
        return data

    @property
    def keeps_pipeline_order(self) -> bool:
        """Whether every pass stays where TVM's default pipeline puts it. Disabling a pass the pipeline needs is
        misuse: TVM is expected to reject it (an exception), not to crash or hang on it; so is an explicit
        pipeline whose stages go backwards. Extra passes (planted faults) and config values change no order."""
        from tzer.execute.pipeline import keeps_stage_order

        return not self.disabled_passes and (self.pipeline is None or keeps_stage_order(self.pipeline))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PassConfig":
        return cls(
            opt_level=int(data["opt_level"]),
            disabled_passes=tuple(data["disabled_passes"]),
            config=tuple(sorted(data["config"].items())),
            extra_passes=tuple(data.get("extra_passes", ())),
            pipeline=tuple(data["pipeline"]) if "pipeline" in data else None,
        )


@dataclasses.dataclass(frozen=True)
class TestCase:
    """Everything needed to rebuild a program and its inputs bit for bit.

    ``params`` is what the generator drew from ``Random(program_seed)``; replay rebuilds from ``params`` (and can
    check that the seed still draws them). ``input_seed`` seeds numpy's generator for the input tensors.
    """

    __test__ = False  # not a pytest class, despite the name

    generator: str
    params: dict[str, Any]
    program_seed: int
    input_seed: int
    target: str
    passes: PassConfig = PassConfig()
    mutations: tuple[MutationStep, ...] = ()  # applied in order to the generated program

    def to_json(self) -> dict[str, Any]:
        data = {
            "generator": self.generator,
            "params": self.params,
            "program_seed": self.program_seed,
            "input_seed": self.input_seed,
            "target": self.target,
            "passes": self.passes.to_json(),
        }
        if self.mutations:  # omitted when empty, so unmutated records keep their content hash
            data["mutations"] = [step.to_json() for step in self.mutations]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TestCase":
        return cls(
            generator=str(data["generator"]),
            params=dict(data["params"]),
            program_seed=int(data["program_seed"]),
            input_seed=int(data["input_seed"]),
            target=str(data["target"]),
            passes=PassConfig.from_json(data["passes"]),
            mutations=tuple(MutationStep.from_json(step) for step in data.get("mutations", ())),
        )

    @property
    def key(self) -> str:
        """Content hash: the corpus names test cases by it."""
        return content_hash(self.to_json())


@dataclasses.dataclass(frozen=True)
class Signature:
    """A finding's identity: what makes two failures the same bug. Never a hash of a whole log."""

    symptom: Symptom
    stage: Stage
    guilty_pass: str = ""  # the pass running when it failed, where known
    detail: str = ""  # normalized check message, exception type, or op family + dtype for mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "symptom": self.symptom.name.lower(),
            "stage": self.stage.name.lower(),
            "guilty_pass": self.guilty_pass,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Signature":
        return cls(
            symptom=Symptom[data["symptom"].upper()],
            stage=Stage[data["stage"].upper()],
            guilty_pass=data["guilty_pass"],
            detail=data["detail"],
        )

    @property
    def key(self) -> str:
        return canonical_json(self.to_json())


@dataclasses.dataclass(frozen=True)
class Execution:
    """The outcome of executing one test case: a verdict, and for findings, what went wrong where."""

    verdict: Verdict
    signature: Signature | None = None
    error: str = ""  # exception text or mismatch description
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    program_script: str = ""  # TVMScript of the program as compiled
    program_json: str = ""  # tvm.ir.save_json of the same module
    tvm_version: str = ""
    compile_seconds: float = 0.0
    run_seconds: float = 0.0
    invalidity: Invalidity | None = None  # why, for INVALID verdicts
    features: tuple[str, ...] = ()  # what the feedback provider observed (tzer.observe), for the scheduler
    applied: tuple[MutationStep, ...] = ()  # the test case's mutation steps as applied (seed that worked, trace)
    new_coverage: int = 0  # native coverage points this case was the first of the campaign to cover
    new_coverage_tvm: int = 0  # of those, points in TVM's own code (not the LLVM or Z3 linked in): the feedback
    pass_coverage: tuple[tuple[str, int], ...] = ()  # TVM-own new points of each pass of the fuzzed compile, in order
    blame: tuple[str, ...] = ()  # a mismatch's guilty passes (bisection), or the mutation step that broke it
    nvcc_accepted: bool | None = None  # a CUDA build's source through nvcc; None: no CUDA source was checked
    gpu_ran: bool = False  # the CUDA build ran on a GPU (tzer.execute.gpu_worker)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["verdict"] = self.verdict.name.lower()
        data["signature"] = self.signature.to_json() if self.signature else None
        data["invalidity"] = self.invalidity.name.lower() if self.invalidity else None
        data["features"] = list(self.features)
        data["applied"] = [step.to_json() for step in self.applied]
        data["pass_coverage"] = [list(item) for item in self.pass_coverage]
        data["blame"] = list(self.blame)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Execution":
        fields = dict(data)
        fields["verdict"] = Verdict[fields["verdict"].upper()]
        fields["signature"] = Signature.from_json(fields["signature"]) if fields["signature"] else None
        invalidity = fields.get("invalidity")
        fields["invalidity"] = Invalidity[invalidity.upper()] if invalidity else None
        fields["features"] = tuple(fields.get("features", ()))
        fields["applied"] = tuple(MutationStep.from_json(step) for step in fields.get("applied", ()))
        fields["pass_coverage"] = tuple((name, int(new)) for name, new in fields.get("pass_coverage", ()))
        fields["blame"] = tuple(fields.get("blame", ()))
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class Finding:
    """A TVM bug as stored: one test case that shows it, and how it showed."""

    test_case: TestCase
    execution: Execution

    @property
    def signature(self) -> Signature:
        assert self.execution.signature is not None, "a finding always has a signature"
        return self.execution.signature


@dataclasses.dataclass(frozen=True)
class MutatorStats:
    """One mutator's record in a campaign (Hypothesis's per-ShrinkPass counts): the scheduler's choice reads it."""

    tries: int = 0  # test cases it made
    no_site: int = 0  # it found nothing to mutate
    invalid: int = 0  # mutants TVM rejected (ill-formed, out of bounds, minimal build failed, misused pipeline)
    valid: int = 0  # mutants TVM accepted (passed or found a bug)
    findings: int = 0
    new: int = 0  # valid mutants that brought new feedback: they joined the seed pool

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> "MutatorStats":
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class CampaignStats:
    """Running totals of one campaign; the live view, the timeline and `tzer stats` read them."""

    elapsed: float = 0.0
    executions: int = 0
    invalid: int = 0  # mutants TVM rejected (none in generate mode)
    findings: int = 0  # finding occurrences, new or already known
    new_findings: int = 0  # distinct signatures first seen in this campaign
    coverage: int | None = None  # distinct feedback features seen (tzer.observe)
    mutators: tuple[tuple[str, MutatorStats], ...] = ()  # by mutator name, sorted
    native_coverage: int | None = None  # native coverage points covered (tzer.observe.coverage); None: no provider
    coverage_tvm: int | None = None  # of those, points in TVM's own code
    pass_firings: tuple[tuple[str, int, int], ...] = ()  # (pass, test cases it changed the IR in, ran in), sorted
    nvcc_checked: int = 0  # CUDA sources compiled by the nvcc oracle
    nvcc_accepted: int = 0  # of those, the ones nvcc compiled
    gpu_runs: int = 0  # CUDA builds run on a GPU

    @property
    def valid(self) -> int:
        return self.executions - self.invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "elapsed": round(self.elapsed, 3),
            "executions": self.executions,
            "valid": self.valid,
            "invalid": self.invalid,
            "findings": self.findings,
            "new_findings": self.new_findings,
            "coverage": self.coverage,
            "mutators": {name: stats.to_json() for name, stats in self.mutators},
            "native_coverage": self.native_coverage,
            "coverage_tvm": self.coverage_tvm,
            "pass_firings": {name: {"fired": fired, "ran": ran} for name, fired, ran in self.pass_firings},
            "nvcc_checked": self.nvcc_checked,
            "nvcc_accepted": self.nvcc_accepted,
            "gpu_runs": self.gpu_runs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CampaignStats":
        mutators = tuple(sorted((name, MutatorStats.from_json(value))
                                for name, value in data.get("mutators", {}).items()))
        firings = tuple(sorted((name, int(value["fired"]), int(value["ran"]))
                               for name, value in data.get("pass_firings", {}).items()))
        return cls(data["elapsed"], data["executions"], data["invalid"], data["findings"], data["new_findings"],
                   data["coverage"], mutators, data.get("native_coverage"), data.get("coverage_tvm"), firings,
                   data.get("nvcc_checked", 0), data.get("nvcc_accepted", 0), data.get("gpu_runs", 0))
