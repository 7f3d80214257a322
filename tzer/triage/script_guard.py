"""The guard on program text read back from a store, a corpus or a directory: TVMScript, checked as data before TVM
parses it.

TVMScript parsing evaluates Python: a body line `T.float32(__import__("os").system(...))` runs the command when
`tvm.script.from_source` reads it. Dunder names are not the only way in: a plain name calls a builtin (`open`,
`eval`, `exec`), and attribute chains without a dunder reach other modules (`I.entry.inspect.os.system` is
`os.system`). So the syntax tree may hold only what printed TVMScript needs: the statements and operators of its
grammar, literals, names, calls of `range` and of `T.`/`I.` attributes that are not modules (the parser's
namespaces), and no other attribute than a buffer's own fields. Anything else is refused with one line saying what.
"""

from __future__ import annotations

import ast
import types

from tzer.errors import UserError

ALLOWED_NODES = (  # TVMScript's grammar: statements, expressions, literals; no import, lambda, comprehension, f-string
    ast.Module, ast.ClassDef, ast.FunctionDef, ast.arguments, ast.arg, ast.Expr, ast.Assign, ast.AnnAssign,
    ast.AugAssign, ast.For, ast.While, ast.If, ast.With, ast.withitem, ast.Assert, ast.Return, ast.Pass, ast.Break,
    ast.Continue, ast.Call, ast.keyword, ast.Attribute, ast.Name, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple,
    ast.List, ast.Dict, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Load, ast.Store,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)
NAMESPACES = ("T", "I")  # the parser's: tvm.script.tirx and tvm.script.ir
CALLABLE_NAMES = ("range",)
BUFFER_FIELDS = ("data", "shape", "dtype", "strides", "elem_offset")


class UnsafeProgram(UserError):
    """A stored program's text holds Python that TVMScript does not need; it was not parsed."""


def require_tvmscript(text: str) -> None:
    """Raise UnsafeProgram unless `text` holds only what printed TVMScript needs (see the module docstring)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise UnsafeProgram(f"a stored program is not TVMScript (line {exc.lineno}: {exc.msg}); not parsed") from None
    for node in ast.walk(tree):
        problem = _problem(node)
        if problem is not None:
            line = getattr(node, "lineno", "?")
            raise UnsafeProgram(f"a stored program holds {problem} (line {line}), which TVMScript does not need; "
                                "not parsed: TVM's parser would run it as Python")


def _problem(node: ast.AST) -> str | None:
    if not isinstance(node, ALLOWED_NODES):
        return f"Python's {type(node).__name__}"
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        return f"the name {node.id}"
    if isinstance(node, ast.Call):
        return _call_problem(node.func)
    if isinstance(node, ast.Attribute):
        return _attribute_problem(node)
    return None


def _call_problem(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return None if func.id in CALLABLE_NAMES else f"a call of {func.id}"
    if isinstance(func, ast.Attribute) and _chain(func)[0] in NAMESPACES:
        return None  # its attributes are checked as attributes
    return "a call of something other than range, T.* or I.*"


def _attribute_problem(node: ast.Attribute) -> str | None:
    chain = _chain(node)
    if any(part.startswith("_") for part in chain):
        return f"the attribute {'.'.join(chain)}"
    if chain[0] in NAMESPACES:
        return _namespace_problem(chain)
    if len(chain) == 2 and chain[1] in BUFFER_FIELDS:
        return None
    return f"the attribute {'.'.join(chain)}"


def _namespace_problem(chain: list[str]) -> str | None:
    """A `T.`/`I.` chain must name something of the parser's namespace, never a module it happens to import."""
    from tvm.script import ir, tirx

    target: object = {"T": tirx, "I": ir}[chain[0]]
    for depth, part in enumerate(chain[1:], start=2):
        target = getattr(target, part, None)
        if target is None or isinstance(target, types.ModuleType):
            return f"the attribute {'.'.join(chain[:depth])}"
    return None


def _chain(node: ast.AST) -> list[str]:
    """`a.b.c` as ["a", "b", "c"]; a chain that does not start at a name starts with "" (e.g. `f().x`)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "")
    return parts[::-1]
