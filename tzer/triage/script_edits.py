"""Edits of TVMScript text that make a program smaller: the reducer's moves (tzer.triage.reduce).

TVMScript is Python syntax, so an edit works on Python's `ast` and prints the result with `ast.unparse`; TVM's parser
then says whether the result is a program at all (the reducer checks every candidate). Each edit kind numbers its
candidates in one fixed order over the tree, so `candidate(source, i)` is deterministic: the i-th way to shrink it.

- `bypass_buffer`: cut an intermediate buffer out of the dataflow in one move: its producing loop nests and its
  allocation go, and its consumers read instead what its producer read (of the same shape and dtype: the operator
  is skipped), else an input of that shape and dtype (data still varies), else the constant 1. Dropping a producer
  alone leaves its consumers reading unwritten memory (an invalid candidate), so this is how a long chain of
  operators shrinks to the few the bug needs.
- `unwrap_unit_loop`: replace a loop nest whose extents are all 1 by its body, its loop variables (and the block
  iterators bound to them alone) by 0: a block needs no loop to run once.
- `drop_statement`: remove one statement (a whole loop nest with its blocks, a buffer allocation, a store,
  a block attribute), outermost first. A body left empty gets `T.evaluate(0)`.
- `simplify_expression`: replace a stored value's sub-expression by one of its operands, or a buffer read by the
  constant 1 of the buffer's dtype (after which the producer of that buffer can go).
- `shrink_loop`: make one loop extent 1, else half.
- `shrink_number`: replace every occurrence of one integer literal (a shape, an extent, an index offset) by 1, else by
  its half: shapes and the loops over them shrink together.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator

Edit = Callable[[str, int], "str | None"]
END = object()  # candidate(source, i) for an i past the last candidate

# Calls whose statements are structure, not computation: dropping them never makes a smaller valid program.
_KEPT_CALLS = ("T.reads", "T.writes", "T.func_attr", "T.axis.remap", "T.axis.spatial", "T.axis.reduce")
_LOOP_KINDS = ("T.grid", "T.serial", "T.parallel", "T.vectorized", "T.unroll", "range")


def _call_name(node: ast.AST) -> str:
    return ast.unparse(node.func) if isinstance(node, ast.Call) else ""


def _statement_lists(tree: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list of main's body and below, outermost first (breadth first)."""
    queue: list[ast.AST] = [tree]
    while queue:
        node = queue.pop(0)
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                if not isinstance(node, (ast.Module, ast.ClassDef)):
                    yield statements
                queue.extend(statements)


def _droppable(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Expr, ast.Assign)):
        return _call_name(statement.value) not in _KEPT_CALLS
    return isinstance(statement, (ast.For, ast.With, ast.If, ast.AugAssign))


def _drop_sites(tree: ast.AST) -> list[tuple[list[ast.stmt], int]]:
    return [(body, index) for body in _statement_lists(tree) for index, statement in enumerate(body)
            if _droppable(statement)]


def drop_statement(source: str, number: int):
    tree = ast.parse(source)
    sites = _drop_sites(tree)
    if number >= len(sites):
        return END
    body, index = sites[number]
    del body[index]
    _fill_if_empty(body)
    return ast.unparse(tree)


def _fill_if_empty(body: list[ast.stmt]) -> None:
    """A body cannot be empty: an emptied one holds `T.evaluate(0)`."""
    if not body:
        body.append(ast.parse("T.evaluate(0)").body[0])


def _buffer_dtypes(tree: ast.AST) -> dict[str, str]:
    """Buffer name -> dtype, from main's parameters (`x: T.Buffer(shape, "float32")`) and its allocations
    (`y = T.sblock_alloc_buffer(shape[, dtype])`, float32 when not given)."""
    dtypes: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and isinstance(node.annotation, ast.Call) and \
                _call_name(node.annotation) == "T.Buffer":
            dtypes[node.arg] = _dtype_argument(node.annotation)
        elif isinstance(node, ast.Assign) and _call_name(node.value).endswith("alloc_buffer") and \
                isinstance(node.targets[0], ast.Name):
            dtypes[node.targets[0].id] = _dtype_argument(node.value)
    return dtypes


def _dtype_argument(call: ast.Call) -> str:
    if len(call.args) > 1 and isinstance(call.args[1], ast.Constant):
        return str(call.args[1].value)
    for keyword in call.keywords:
        if keyword.arg == "dtype" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return "float32"


def _one(dtype: str) -> str:
    """The constant 1 of `dtype` in TVMScript."""
    return f"T.{dtype}(1.0)" if dtype.startswith(("float", "bfloat")) else f"T.{dtype}(1)"


def _replacements(node: ast.AST, dtypes: dict[str, str]) -> list[ast.AST]:
    """Smaller expressions that may stand for `node`."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call) and _call_name(node).startswith("T.") and \
            not _call_name(node).startswith(("T.float", "T.int", "T.uint", "T.bfloat", "T.bool")):
        return [arg for arg in node.args if not isinstance(arg, ast.Constant)]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in dtypes:
        return [ast.parse(_one(dtypes[node.value.id]), mode="eval").body]
    return []


def _value_children(parent: ast.AST) -> Iterator[tuple[ast.AST, str, int | None, ast.AST]]:
    """(parent, field, index, node) for every expression under `parent`, not descending into buffer indices."""
    for field, child in ast.iter_fields(parent):
        if isinstance(parent, ast.Subscript) and field == "slice":
            continue
        children = child if isinstance(child, list) else [child]
        for index, node in enumerate(children):
            if isinstance(node, ast.expr):
                yield parent, field, index if isinstance(child, list) else None, node
                yield from _value_children(node)


def _expression_sites(tree: ast.AST) -> list[tuple[ast.AST, str, int | None, ast.AST]]:
    """(parent, field, index, replacement) for every sub-expression of a stored value and each of its
    replacements; the parent of a whole stored value is its store."""
    dtypes = _buffer_dtypes(tree)
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            for parent, field, index, expression in _value_children(node):
                if field == "targets":
                    continue
                sites.extend((parent, field, index, r) for r in _replacements(expression, dtypes))
    return sites


def simplify_expression(source: str, number: int):
    tree = ast.parse(source)
    sites = _expression_sites(tree)
    if number >= len(sites):
        return END
    parent, field, index, replacement = sites[number]
    if index is None:
        setattr(parent, field, copy.deepcopy(replacement))
    else:
        getattr(parent, field)[index] = copy.deepcopy(replacement)
    return ast.unparse(tree)


def _int_literal(node: ast.AST) -> bool:
    """An integer literal above 1 (not a bool, not inside a string): something a shrink can make smaller."""
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value > 1


def _shrunk(values: list[int], number: int) -> tuple[int, int] | None:
    """Candidate `number` of shrinking one of `values`: (its index, its new value); each value is tried at 1, then
    at its half. None past the last candidate."""
    if number >= 2 * len(values):
        return None
    index = number // 2
    return index, 1 if number % 2 == 0 else values[index] // 2


def _loop_extents(tree: ast.AST) -> list[ast.Constant]:
    """The literal extents of every loop (`for i in T.serial(8)`, each of `T.grid(2, 8)`), in order."""
    extents = []
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and _call_name(node.iter) in _LOOP_KINDS:
            extents.extend(arg for arg in node.iter.args if _int_literal(arg))
    return extents


def shrink_loop(source: str, number: int):
    tree = ast.parse(source)
    extents = _loop_extents(tree)
    chosen = _shrunk([extent.value for extent in extents], number)
    if chosen is None:
        return END
    index, new = chosen
    extents[index].value = new
    return ast.unparse(tree)


def shrink_number(source: str, number: int):
    tree = ast.parse(source)
    literals = [node for node in ast.walk(tree) if _int_literal(node)]
    values = sorted({node.value for node in literals}, reverse=True)  # distinct, largest first
    chosen = _shrunk(values, number)
    if chosen is None:
        return END
    index, new = chosen
    for node in literals:
        if node.value == values[index]:
            node.value = new
    return ast.unparse(tree)


def _shapes(tree: ast.AST) -> tuple[dict[str, str], list[str], str]:
    """(buffer name -> its shape as written, for main's parameters and its allocations; the allocated (intermediate)
    buffers in order; the output, main's last parameter)."""
    shapes: dict[str, str] = {}
    intermediates: list[str] = []
    output = ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            for arg in node.args.args:
                if isinstance(arg.annotation, ast.Call) and arg.annotation.args:
                    shapes[arg.arg] = ast.unparse(arg.annotation.args[0])
                    output = arg.arg
        elif isinstance(node, ast.Assign) and _call_name(node.value).endswith("alloc_buffer") and \
                isinstance(node.targets[0], ast.Name) and node.value.args:
            shapes[node.targets[0].id] = ast.unparse(node.value.args[0])
            intermediates.append(node.targets[0].id)
    return shapes, intermediates, output


def _bypass_sites(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(intermediate buffer, what its consumers read instead: a buffer of its shape and dtype that its producer
    reads (the operator is skipped, the dataflow around it stays), else an input of its shape and dtype, else None
    for the constant 1), in allocation order."""
    shapes, intermediates, output = _shapes(tree)
    dtypes = _buffer_dtypes(tree)
    inputs = [name for name in shapes if name not in intermediates and name != output]
    sites = []
    for buffer in intermediates:
        sources = [name for name in dict.fromkeys([*_read_by_producer(tree, buffer), *inputs])
                   if name not in (buffer, output) and shapes.get(name) == shapes[buffer] and
                   dtypes.get(name) == dtypes[buffer]]
        sites.extend((buffer, substitute) for substitute in (*sources, None))
    return sites


def _read_by_producer(tree: ast.AST, buffer: str) -> list[str]:
    """The buffers the statements writing `buffer` read, in order of appearance."""
    return [node.value.id for statement in ast.walk(tree) if isinstance(statement, ast.For) and
            _writes(statement, buffer) for node in ast.walk(statement)
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)]


def _writes(statement: ast.stmt, buffer: str) -> bool:
    return any(isinstance(node, ast.Assign) and _mentions(node.targets[0], buffer) for node in ast.walk(statement))


def _mentions(node: ast.AST, buffer: str) -> bool:
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == buffer


class _Bypass(ast.NodeTransformer):
    """Reads of `buffer` become reads of `substitute`, or the expression `constant` (and leave the T.reads of
    their block)."""

    def __init__(self, buffer: str, substitute: str | None, constant: str):
        self.buffer = buffer
        self.substitute = substitute
        self.constant = constant

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if self.substitute is None and _call_name(node) == "T.reads":
            node.args = [arg for arg in node.args if not _mentions(arg, self.buffer)]
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if not _mentions(node, self.buffer):
            return self.generic_visit(node)
        if self.substitute is not None:
            node.value = ast.Name(self.substitute, ast.Load())
            return node
        return ast.parse(self.constant, mode="eval").body


def bypass_buffer(source: str, number: int):
    tree = ast.parse(source)
    sites = _bypass_sites(tree)
    if number >= len(sites):
        return END
    buffer, substitute = sites[number]
    constant = _one(_buffer_dtypes(tree)[buffer])
    for body in list(_statement_lists(tree)):
        body[:] = [statement for statement in body if not _writes(statement, buffer) and not (
            isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name) and
            statement.targets[0].id == buffer)]
        _fill_if_empty(body)
    tree = _Bypass(buffer, substitute, constant).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def _unit_loops(tree: ast.AST) -> list[tuple[list[ast.stmt], int]]:
    """(statement list, index) of every loop whose extents are all the literal 1, outermost first."""
    return [(body, index) for body in _statement_lists(tree) for index, statement in enumerate(body)
            if isinstance(statement, ast.For) and _call_name(statement.iter) in _LOOP_KINDS and
            statement.iter.args and all(isinstance(arg, ast.Constant) and arg.value == 1
                                        for arg in statement.iter.args)]


class _Zero(ast.NodeTransformer):
    def __init__(self, names: set[str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Constant(0) if node.id in self.names and isinstance(node.ctx, ast.Load) else node


def _bound_alone(statement: ast.stmt, names: set[str]) -> list[str]:
    """The block iterators `statement` binds when it is `v... = T.axis.remap(kinds, [loop vars...])` over `names`
    only; else none."""
    if not (isinstance(statement, ast.Assign) and _call_name(statement.value) == "T.axis.remap" and
            len(statement.value.args) == 2 and isinstance(statement.value.args[1], ast.List)):
        return []
    bound = statement.value.args[1].elts
    if not bound or not all(isinstance(b, ast.Name) and b.id in names for b in bound):
        return []
    target = statement.targets[0]
    targets = target.elts if isinstance(target, ast.Tuple) else [target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def unwrap_unit_loop(source: str, number: int):
    tree = ast.parse(source)
    sites = _unit_loops(tree)
    if number >= len(sites):
        return END
    body, index = sites[number]
    loop = body[index]
    target = loop.target
    names = {t.id for t in (target.elts if isinstance(target, ast.Tuple) else [target]) if isinstance(t, ast.Name)}
    for statement in loop.body:
        if isinstance(statement, ast.With) and _call_name(statement.items[0].context_expr) == "T.sblock":
            kept = []
            for inner in statement.body:
                bound = _bound_alone(inner, names)
                names.update(bound)
                if not bound:
                    kept.append(inner)
            statement.body = kept
            _fill_if_empty(statement.body)
    unwrapped = [_Zero(names).visit(statement) for statement in loop.body]
    body[index:index + 1] = unwrapped
    return ast.unparse(ast.fix_missing_locations(tree))


EDITS: dict[str, Edit] = {
    "bypass_buffer": bypass_buffer,
    "unwrap_unit_loop": unwrap_unit_loop,
    "drop_statement": drop_statement,
    "simplify_expression": simplify_expression,
    "shrink_loop": shrink_loop,
    "shrink_number": shrink_number,
}
