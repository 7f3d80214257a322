"""Finding signatures (tzer.judge.signature): what varies between occurrences is stripped, the failed check kept."""

import pytest

from tzer.judge.signature import (
    error_signature, key_line, mismatch_signature, names_in_script, normalize_message,
)
from tzer.records import Stage, Symptom

TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/tvm/driver.py", line {line}, in compile
    return _ffi_api.Build(mod, target)
  File "tvm/_ffi/_cython/packed_func.pxi", line 332, in tvm._ffi._cy3.core.PackedFuncBase.__call__
tvm.error.InternalError: Traceback (most recent call last):
  {frame}: tvm::tir::Simplify(tvm::tir::PrimFunc) at 0x{addr}
  File "/src/tvm/src/arith/analyzer.cc", line {line}
InternalError: Check failed: (extent == {m}) is false: buffer '{buffer}' of shape [{n}, {m}] expected {m}
Also see the debug log for details.
"""


def tvm_error(n: int, m: int, buffer: str, addr: str, line: int, frame: int) -> str:
    return TRACEBACK.format(n=n, m=m, buffer=buffer, addr=addr, line=line, frame=frame)


@pytest.mark.parametrize(
    "first,second",
    [
        ("extent 16 != 32 at offset 7", "extent 3 != 1024 at offset 0"),
        ("value -1.5e-3 is out of range [0, 2.5]", "value +42 is out of range [1, 3]"),
        ("object at 0x7ffd5e3a91c0 freed", "object at 0x55aa01 freed"),
        ("buffer 'A_shared_1' not found", "buffer 'T_add' not found"),
        ('variable "i0.outer" is unbound', 'variable "ax3" is unbound'),
        ("cannot bind `p0` here", "cannot bind `placeholder_red` here"),
        ("loop   over  7 \t items", "loop over 9 items"),
    ],
)
def test_messages_differing_only_in_numbers_addresses_and_quoted_names_normalize_equally(first, second):
    assert normalize_message(first) == normalize_message(second)


def test_full_tvm_errors_of_one_bug_get_one_detail():
    one = tvm_error(n=4, m=16, buffer="A", addr="7ffd5e3a91c0", line=120, frame=0)
    two = tvm_error(n=12, m=3, buffer="T_pool_max_1", addr="55aa0123", line=987, frame=13)
    assert normalize_message(one) == normalize_message(two)
    assert normalize_message(one) == (
        "InternalError: Check failed: (extent == N) is false: buffer '_' of shape [N, N] expected N")


@pytest.mark.parametrize(
    "first,second",
    [
        ("Check failed: lhs.dtype() == rhs.dtype()", "Check failed: lhs.shape() == rhs.shape()"),
        ("buffer 'A' not found", "variable 'A' not found"),
        ("division by zero", "index out of bounds"),
    ],
)
def test_different_bugs_keep_different_details(first, second):
    assert normalize_message(first) != normalize_message(second)


def test_check_failed_line_is_chosen_over_other_lines():
    message = "ValueError: something went wrong\nFile x.py, line 3\nCheck failed: a == b: mismatch\nmore text"
    assert key_line(message) == "Check failed: a == b: mismatch"
    assert normalize_message(message) == "Check failed: a == b: mismatch"


def test_check_failed_line_is_chosen_from_a_tvm_traceback():
    message = tvm_error(n=1, m=2, buffer="B", addr="ff", line=5, frame=0)
    assert key_line(message).startswith("InternalError: Check failed: (extent == 2)")


def test_without_check_failed_the_first_line_that_is_not_a_traceback_frame_is_chosen():
    message = "Traceback (most recent call last):\nFile \"a.py\", line 1\n#0 0x1234 in foo\nat bar.cc:12\nTypeError: bad arg"
    assert key_line(message) == "TypeError: bad arg"


def test_empty_message_gives_empty_detail():
    assert key_line("") == "" and normalize_message("\n  \n") == ""


def test_detail_is_bounded():
    assert len(normalize_message("Check failed: " + "x" * 1000)) == 200


def test_error_signature_keeps_symptom_stage_pass_and_error_type():
    signature = error_signature(Symptom.INTERNAL_ERROR, Stage.LOWER, "InternalError", "Check failed: n == 3",
                                "tir.Simplify")
    assert signature.symptom is Symptom.INTERNAL_ERROR and signature.stage is Stage.LOWER
    assert signature.guilty_pass == "tir.Simplify"
    assert signature.detail == "InternalError: Check failed: n == N"


def test_error_signatures_of_one_bug_have_equal_keys():
    one = error_signature(Symptom.EXCEPTION, Stage.CODEGEN, "TVMError", "bad extent 16 at 0xdeadbeef", "")
    two = error_signature(Symptom.EXCEPTION, Stage.CODEGEN, "TVMError", "bad extent 31 at 0xcafe", "")
    other_type = error_signature(Symptom.EXCEPTION, Stage.CODEGEN, "ValueError", "bad extent 31 at 0xcafe", "")
    assert one.key == two.key
    assert one.key != other_type.key


def test_mismatch_signature_names_family_and_dtype():
    signature = mismatch_signature("pooling", "float16")
    assert (signature.symptom, signature.stage, signature.detail) == (Symptom.MISMATCH, Stage.COMPARE, "pooling:float16")
    assert mismatch_signature("pooling", "float16").key != mismatch_signature("pooling", "float32").key


def test_unquoted_identifiers_differing_in_a_numeric_suffix_normalize_equally():
    # TVM numbers fresh names (T_add_12, T_add_22): one bug must keep one signature, and dtypes stay readable.
    assert normalize_message("Check failed: T_add_12 is undefined") == normalize_message(
        "Check failed: T_add_22 is undefined")
    assert "float32" in normalize_message("Check failed: expected float32, got 3")


def test_quoted_names_are_stripped_after_an_apostrophe():
    # The apostrophe in "can't" must not open a quote, or the real name 'foo' would survive.
    assert normalize_message("Check failed: can't find 'foo'") == normalize_message("Check failed: can't find 'bar'")

LLVM_VERIFY = ("LLVM module verification failed with the following errors: \n"
               "Instruction does not dominate all uses!\n"
               "  %314 = shufflevector <4 x float> %298, <4 x float> %311, <2 x i32> <i32 2, i32 6>, !dbg !37\n")


def test_announced_details_join_the_key_line():
    assert normalize_message(LLVM_VERIFY) == (
        "LLVM module verification failed with the following errors: Instruction does not dominate all uses!")


def test_llvm_value_numbers_do_not_split_the_signature():
    assert normalize_message(LLVM_VERIFY) == normalize_message(LLVM_VERIFY.replace("%314", "%90"))


def test_check_failed_line_is_not_joined_with_the_pass_trailer():
    message = "Check failed: (!op->init.has_value()) is false: \n\nError in pass: _pipeline\n"
    assert normalize_message(message) == "Check failed: (!op->init.has_value()) is false:"


# A program's own names (buffers, parameters, blocks) as TVM prints them, unquoted, in its messages.

MAX_POOL_SCRIPT = '''# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((1, 4, 10), "float32"), T_add: T.Buffer((1, 4, 10), "float32")):
        T.func_attr({"tirx.noalias": True})
        pad_temp = T.sblock_alloc_buffer((1, 4, 12))
        pool_max = T.sblock_alloc_buffer((1, 4, 10))
        for ax0, ax1, ax2 in T.grid(1, 4, 12):
            with T.sblock("pad_temp"):
                v_ax0, v_ax1, v_ax2 = T.axis.remap("SSS", [ax0, ax1, ax2])
                T.reads(x[v_ax0, v_ax1, v_ax2 - 1])
                T.writes(pad_temp[v_ax0, v_ax1, v_ax2])
                pad_temp[v_ax0, v_ax1, v_ax2] = T.if_then_else(
                    1 <= v_ax2 and v_ax2 < 11, x[v_ax0, v_ax1, v_ax2 - 1], T.float32(-3.4028234663852886e+38))
        for ax0, ax1, ax2, rv0 in T.grid(1, 4, 10, 3):
            with T.sblock("pool_max"):
                v_ax0, v_ax1, v_ax2, v_rv0 = T.axis.remap("SSSR", [ax0, ax1, ax2, rv0])
                with T.init():
                    pool_max[v_ax0, v_ax1, v_ax2] = T.float32(-3.4028234663852886e+38)
                pool_max[v_ax0, v_ax1, v_ax2] = T.max(pool_max[v_ax0, v_ax1, v_ax2],
                                                      pad_temp[v_ax0, v_ax1, v_ax2 + v_rv0])
        for ax0, ax1, ax2 in T.grid(1, 4, 10):
            with T.sblock("T_add"):
                v_ax0, v_ax1, v_ax2 = T.axis.remap("SSS", [ax0, ax1, ax2])
                T_add[v_ax0, v_ax1, v_ax2] = pool_max[v_ax0, v_ax1, v_ax2] + T.float32(1.0)
'''

GELU_SCRIPT = '''# from tvm.script import tirx as T

@T.prim_func(s_tir=True)
def main(inp: T.Buffer((2, 8), "float16"), gelu_out: T.Buffer((2, 8), "float16")):
    gelu = T.sblock_alloc_buffer((2, 8), "float16")
    for i0, i1 in T.grid(2, 8):
        with T.sblock("gelu"):
            v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
            gelu[v_i0, v_i1] = inp[v_i0, v_i1] * T.float16(0.5)
    for i0, i1 in T.grid(2, 8):
        with T.sblock("gelu_out"):
            v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
            gelu_out[v_i0, v_i1] = gelu[v_i0, v_i1]
'''


def test_names_in_script_finds_parameters_allocated_buffers_and_blocks():
    assert names_in_script(MAX_POOL_SCRIPT) == {"x", "T_add", "pad_temp", "pool_max"}
    assert names_in_script(GELU_SCRIPT) == {"inp", "gelu_out", "gelu"}
    assert names_in_script("") == frozenset()


def test_names_in_script_ignores_loop_and_block_variables():
    names = names_in_script(MAX_POOL_SCRIPT)
    assert not names & {"ax0", "v_ax0", "rv0", "v_rv0", "main", "Module", "T", "float32"}


def test_messages_naming_each_programs_own_buffer_normalize_equally():
    one = normalize_message("Buffer pool_max is used before its definition", names_in_script(MAX_POOL_SCRIPT))
    two = normalize_message("Buffer gelu is used before its definition", names_in_script(GELU_SCRIPT))
    assert one == two == "Buffer _ is used before its definition"
    # Without the program's names they stay apart: the names are what joins them.
    assert normalize_message("Buffer pool_max is used before its definition") != normalize_message(
        "Buffer gelu is used before its definition")


def test_program_names_are_replaced_as_whole_words_only():
    names = names_in_script(MAX_POOL_SCRIPT)
    assert normalize_message("Buffer pool_max_extra is used before its definition", names) == (
        "Buffer pool_max_extra is used before its definition")
    assert normalize_message("Buffer my_pool_max is undefined", names) == "Buffer my_pool_max is undefined"
    assert normalize_message("Buffer xs is undefined", names) == "Buffer xs is undefined"
    # A name next to punctuation is still a whole word.
    assert normalize_message("Check failed: pool_max.shape[2] == x.shape[2]", names) == (
        "Check failed: _.shape[N] == _.shape[N]")


def test_a_longer_name_wins_over_its_prefix():
    # gelu and gelu_out are both names here: gelu_out must become one '_', not '__out'.
    names = names_in_script(GELU_SCRIPT)
    assert normalize_message("Buffer gelu_out is read before gelu is written", names) == (
        "Buffer _ is read before _ is written")


def test_error_signature_uses_the_programs_names():
    one = error_signature(Symptom.INTERNAL_ERROR, Stage.LOWER, "InternalError",
                          "Check failed: Buffer pool_max is used before its definition", "tir.Simplify",
                          names_in_script(MAX_POOL_SCRIPT))
    two = error_signature(Symptom.INTERNAL_ERROR, Stage.LOWER, "InternalError",
                          "Check failed: Buffer gelu is used before its definition", "tir.Simplify",
                          names_in_script(GELU_SCRIPT))
    assert one.key == two.key
