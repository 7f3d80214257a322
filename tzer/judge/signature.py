"""Finding signatures: a structured identity (symptom, stage, guilty pass, normalized detail) for each failure.

Normalizing strips what varies between occurrences of one bug (numbers, addresses, variable and buffer names in
quotes, shapes) and keeps what names the bug: the check that failed, or the exception type and its message's
shape. Mismatches are identified by op family and dtype until pass bisection (triage) names a guilty pass.
"""

from __future__ import annotations

import re

from tzer.records import Signature, Stage, Symptom

_HEX = re.compile(r"0x[0-9a-fA-F]+")
_NAME_SUFFIX = re.compile(r"(?<=[A-Za-z])_\d+\b")  # T_add_12 -> T_add_N (TVM numbers its fresh names)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")  # not inside a name: float32 stays
_QUOTED = re.compile(r"(?<!\w)(['\"`])[^'\"`\n]{1,80}\1")  # the apostrophe in "can't" opens no quote
_SPACE = re.compile(r"\s+")
_MAX_DETAIL = 200


def key_line(message: str) -> str:
    """The line of a TVM error that says what failed: the 'Check failed' line if any, else the first non-empty
    line that is not a traceback frame. Such a line that ends in ':' announces its details, so the next joins it
    (e.g. "LLVM module verification failed with the following errors: Instruction does not dominate all uses!")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    candidates = [i for i, line in enumerate(lines) if "Check failed" in line]
    candidates += [i for i, line in enumerate(lines) if not line.startswith(("File ", "Traceback", "at ", "#"))]
    if not candidates:
        return lines[0] if lines else ""
    index = candidates[0]
    if lines[index].endswith(":") and "Check failed" not in lines[index] and index + 1 < len(lines):
        return f"{lines[index]} {lines[index + 1]}"
    return lines[index]


_SCRIPT_NAMES = re.compile(r'^[^#\n]*?(?:(\w+) = T\.sblock_alloc_buffer|(\w+): T\.Buffer|T\.sblock\("(\w+)"\))',
                           re.MULTILINE)


def names_in_script(script: str) -> frozenset[str]:
    """The program's own names (buffers, parameters, blocks) in its TVMScript: they vary from program to program, so
    a message that mentions them unquoted ("Buffer pool_max is used ...") must not split one bug's signature."""
    return frozenset(name for match in _SCRIPT_NAMES.findall(script) for name in match if name)


def normalize_message(message: str, names: frozenset[str] = frozenset()) -> str:
    line = key_line(message)
    if names:  # also TVM's renamed copies of a name: pool_max_1
        line = re.sub(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")(_\d+)?\b", "_",
                      line)
    line = _HEX.sub("ADDR", line)
    line = _QUOTED.sub(r"\1_\1", line)
    line = _NAME_SUFFIX.sub("_N", line)
    line = _NUMBER.sub("N", line)
    return _SPACE.sub(" ", line).strip()[:_MAX_DETAIL]


def error_signature(symptom: Symptom, stage: Stage, error_type: str, message: str, guilty_pass: str,
                    names: frozenset[str] = frozenset()) -> Signature:
    return Signature(symptom, stage, guilty_pass, f"{error_type}: {normalize_message(message, names)}")


def mismatch_signature(family: str, dtype: str, guilty_pass: str = "") -> Signature:
    return Signature(Symptom.MISMATCH, Stage.COMPARE, guilty_pass, f"{family}:{dtype}")
