"""The guard on stored TVMScript (tzer/triage/script_guard.py): printed TVMScript passes, Python payloads do not,
and tzer's parser of stored programs never lets TVM evaluate one."""

import pathlib
import re

import pytest

from test_wrap_mutators import ELEMENTWISE  # a hand-written S-TIR module, the wrappers' test input

from tzer.triage.script_guard import UnsafeProgram, require_tvmscript

REPRODUCERS = pathlib.Path(__file__).resolve().parents[3] / "reproducers"


PAYLOADS = {
    "dunder import": 'B[vi] = T.float32(__import__("os").system("touch {marker}"))',
    "builtin call": 'B[vi] = T.float32(len(open("{marker}", "w").name))',
    "eval": 'B[vi] = T.float32(eval("1"))',
    "module through I": 'B[vi] = T.float32(I.entry.inspect.os.system("touch {marker}"))',
    "attribute of a call": 'B[vi] = T.float32(T.Buffer((1,), "float32").__class__)',
    "private attribute": "B[vi] = T.float32(T._ffi_api)",
    "lambda": "B[vi] = T.float32((lambda: 1)())",
    "import": "import os",
    "f-string": 'B[vi] = T.float32(len(f"{{1}}"))',
    "comprehension": "B[vi] = T.float32(len([x for x in range(2)]))",
}


def _scripts() -> list[str]:
    texts = []
    for path in sorted(REPRODUCERS.glob("*.py")):
        texts += [t for t in re.findall(r"SCRIPT = r'''(.*?)'''", path.read_text(), re.S)
                  if not t.lstrip().startswith("{")]
    return texts


def test_the_reproducers_tvmscript_passes():
    scripts = _scripts()
    assert len(scripts) >= 10
    for script in scripts:
        require_tvmscript(script)
    require_tvmscript(ELEMENTWISE)


def test_tvmscript_printed_from_generated_programs_passes():
    import random

    from tzer.generate import draw_test_case
    from tzer.runner import build

    rng = random.Random(4)
    for generator in ("conv", "max_pool", "gem", "ponet", "metaformer", "spp"):
        require_tvmscript(build(draw_test_case(rng, generator, "llvm")).mod.script())


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_a_payload_is_refused_and_never_reaches_tvms_parser(payload, tmp_path):
    from tzer.triage.check import parse

    marker = tmp_path / "ran"
    line = PAYLOADS[payload].format(marker=marker)
    script = ELEMENTWISE.replace("B[vi] = A[vi] * T.float32(2.0) + T.float32(1.0)", line)
    assert line in script
    with pytest.raises(UnsafeProgram) as refused:
        parse(script)
    assert "\n" not in str(refused.value)
    assert not marker.exists()
