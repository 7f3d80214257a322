"""A finding's program outside any generator: TVMScript, the schedule steps still to apply, the passes and the
recipe of its inputs. What the reducer shrinks, what `tzer regress` checks and what reproducers embed.

A `ScriptCase` carries the signature it was made to show; checking it (tzer.triage.check) tells whether it still
does. Its `main` takes the inputs, then the output, as generated programs do. A `Reduction` is the smallest such
case the reducer found, with what it cost; the store keeps it with the finding.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tzer.records import MutationStep, PassConfig, Signature, content_hash


def is_tvm_json(program: str) -> bool:
    """Whether a program text is TVM's JSON (tzer.triage.check.module_text) rather than TVMScript."""
    return program.lstrip().startswith("{")


@dataclasses.dataclass(frozen=True)
class ScriptCase:
    script: str  # TVMScript (or TVM's JSON: tzer.triage.check.module_text) of the module before `steps`
    passes: PassConfig  # with an explicit pipeline
    input_domains: tuple[str, ...]  # how each input of main is drawn (tzer.generate.graph.DOMAINS)
    input_seed: int
    target: str
    signature: Signature  # what it shows
    steps: tuple[MutationStep, ...] = ()  # schedule steps (with traces) applied to the parsed module, in order
    family: str = ""  # mismatches: the op family and dtype their signature names
    dtype: str = ""
    rtol: float = 0.0  # mismatches: the tolerance between the fuzzed and the minimal lowering
    atol: float = 0.0

    @property
    def generator(self) -> str:  # the fork server's worker table shows it
        return f"script:{self.family}" if self.family else "script"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "script": self.script,
            "passes": self.passes.to_json(),
            "input_domains": list(self.input_domains),
            "input_seed": self.input_seed,
            "target": self.target,
            "signature": self.signature.to_json(),
        }
        if self.steps:
            data["steps"] = [step.to_json() for step in self.steps]
        if self.family:
            data.update(family=self.family, dtype=self.dtype, rtol=self.rtol, atol=self.atol)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ScriptCase":
        return cls(
            script=str(data["script"]),
            passes=PassConfig.from_json(data["passes"]),
            input_domains=tuple(str(d) for d in data["input_domains"]),
            input_seed=int(data["input_seed"]),
            target=str(data["target"]),
            signature=Signature.from_json(data["signature"]),
            steps=tuple(MutationStep.from_json(step) for step in data.get("steps", ())),
            family=str(data.get("family", "")),
            dtype=str(data.get("dtype", "")),
            rtol=float(data.get("rtol", 0.0)),
            atol=float(data.get("atol", 0.0)),
        )

    @property
    def key(self) -> str:
        return content_hash(self.to_json())

    @property
    def is_tvmscript(self) -> bool:
        return not is_tvm_json(self.script)

    @property
    def lines(self) -> int:
        """Lines of TVMScript (not counting blank and comment lines), the measure of a reduction."""
        return sum(1 for line in self.script.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@dataclasses.dataclass(frozen=True)
class Reduction:
    """A reduced case and how it was reached."""

    case: ScriptCase
    original_lines: int
    checks: int  # candidates checked
    seconds: float
    complete: bool  # no edit applies any more (False: the time limit stopped it)
    lines: int = 0  # of the reduced case, measured like original_lines (as TVM prints it, also for a JSON case)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case.to_json(), "original_lines": self.original_lines, "checks": self.checks,
                "seconds": round(self.seconds, 3), "complete": self.complete, "lines": self.lines}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reduction":
        case = ScriptCase.from_json(data["case"])
        return cls(case, int(data["original_lines"]), int(data["checks"]), float(data["seconds"]),
                   bool(data["complete"]), int(data.get("lines", case.lines)))
