"""Whose code each function of the compiler library is: TVM's own, or the third-party code linked into it.

`libtvm_compiler.so` links LLVM and Z3 statically: of its 206 k functions most are theirs, and a new vector width
or shape covers new LLVM instruction-selection blocks whatever TVM did with it. Tzer measured TVM's code only, and
so does tzer's feedback (`coverage_tvm`). The wheel is stripped, so the split is inferred, from three facts:

1. **Anchors**: functions whose owner the binary states. Exported function symbols (`.dynsym`: the wheel exports
   `tvm::` functions only); virtual functions: each vtable in `.data.rel.ro` points at its class's typeinfo,
   whose mangled name gives the namespace (`tvm::` is TVM's; `llvm::`, Z3's namespaces and the global namespace
   are not; `std::` and anonymous namespaces say nothing); and code that loads the address of a source file's path
   (`__FILE__` in TVM's ICHECK and LOG, and in Z3's asserts). The file anchors matter: TVM's LLVM code generator is
   built without RTTI (as LLVM is), so it has no typeinfo of its own, and it is linked last of TVM's objects, right
   before LLVM's.
2. **Cold fragments**: GCC moves a function's unlikely paths into a fragment (`foo.cold`, an FDE of its own far
   away in `.text.unlikely`) that only `foo` jumps to, so a fragment takes its parent's owner: anchors spread along
   the direct jumps that leave a function (the block finder reports them).
3. **Object order**: the linker lays out object files in order within each output region (unlikely, startup,
   main), TVM's before LLVM's before Z3's, so ownership is a few long runs in address order. A two-state
   segmentation of the anchors (Viterbi, `SWITCH_COST` per change of owner) finds the runs; a stray anchor (an LLVM
   template that TVM's codegen instantiated, a Z3 class TVM's prover wraps) does not split a run, and counts as
   TVM's: TVM's own code is the code of TVM's object files, the templates they instantiate included. A function
   without an anchor takes the owner of the nearest anchor.

Validated by tests/integration/test_native_coverage.py: the blocks first covered while TIR passes run lie almost
all in TVM's code, and those first covered by LLVM's code generation almost all outside it.
"""

from __future__ import annotations

import collections
import re

import numpy as np

SWITCH_COST = 12.0  # anchors a run must outvote to start: a run of fewer disagreeing anchors is noise
_RELATIVE, _ABSOLUTE = 8, 1  # R_X86_64_RELATIVE, R_X86_64_64
_TYPEINFO_VTABLE = "_ZTVN10__cxxabiv1"  # the vtables of __class_type_info and its kin: every typeinfo's first word
_NO_VOTE = ("std", "_GLOBAL__N_1", "")
_SOURCE_PATH = re.compile(rb"\0(/[\x21-\x7e]+\.(?:cc|cpp|cxx|c|h|hpp|inc|def))\0")


def owned_functions(image, starts: np.ndarray, jumps: np.ndarray) -> np.ndarray:
    """Per function (`starts`, sorted): True where it is TVM's own code. `jumps`: (function index, target address)
    rows, the direct jumps that leave their function."""
    votes = np.zeros(len(starts), dtype=np.int64)  # > 0: TVM's, < 0: another library's, 0: unknown
    for address, tvm in anchors(image):
        index = np.searchsorted(starts, address, side="right") - 1
        if index >= 0:
            votes[index] += 1 if tvm else -1
    labels = spread_along_jumps(np.sign(votes), starts, jumps)
    return owner_runs(starts, labels)


def spread_along_jumps(labels: np.ndarray, starts: np.ndarray, jumps: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Unlabelled functions (0) that labelled ones jump into take the majority label of those jumps; `rounds`
    times, so a fragment's fragment is reached too."""
    labels = labels.copy()
    if not len(jumps):
        return labels
    sources = jumps[:, 0].astype(np.int64)
    targets = np.searchsorted(starts, jumps[:, 1], side="right") - 1
    keep = (targets >= 0) & (targets != sources)
    sources, targets = sources[keep], targets[keep]
    for _ in range(rounds):
        open_target = labels[targets] == 0
        votes = np.zeros(len(labels), dtype=np.int64)
        np.add.at(votes, targets[open_target], labels[sources[open_target]])
        learnt = (labels == 0) & (votes != 0)
        if not learnt.any():
            break
        labels[learnt] = np.sign(votes[learnt])
    return labels


def owner_runs(starts: np.ndarray, labels: np.ndarray, switch_cost: float = SWITCH_COST) -> np.ndarray:
    """The owner of every function from the labels of some (+1 TVM's, -1 not, 0 unknown): the cheapest sequence
    of runs over the labelled functions in address order (one per label that disagrees with its run,
    `switch_cost` per change of run), then each unlabelled function takes the run of its nearest labelled one."""
    labelled = np.flatnonzero(labels)
    if not len(labelled):
        return np.zeros(len(starts), dtype=bool)
    tvm = labels[labelled] > 0
    states = _viterbi(tvm, switch_cost)
    addresses = starts[labelled].astype(np.int64)
    everything = starts.astype(np.int64)
    after = np.clip(np.searchsorted(addresses, everything), 0, len(addresses) - 1)
    before = np.clip(after - 1, 0, len(addresses) - 1)
    nearest = np.where(np.abs(everything - addresses[before]) < np.abs(addresses[after] - everything),
                       before, after)
    return states[nearest]


def _viterbi(observed: np.ndarray, switch_cost: float) -> np.ndarray:
    """Two-state segmentation: the state sequence minimising disagreements plus `switch_cost` per switch."""
    cost = np.zeros(2)
    came_from = np.zeros((len(observed), 2), dtype=np.int8)
    for i, seen in enumerate(observed.astype(np.int64)):
        stay, switch = cost, cost[::-1] + switch_cost
        came_from[i] = np.where(stay <= switch, [0, 1], [1, 0])
        cost = np.minimum(stay, switch) + (np.arange(2) != seen)
    states = np.empty(len(observed), dtype=bool)
    state = int(np.argmin(cost))
    for i in range(len(observed) - 1, -1, -1):
        states[i] = bool(state)
        state = int(came_from[i, state])
    return states


# Anchors: what the binary says about some functions' owners


def anchors(image) -> list[tuple[int, bool]]:
    """(code address, is TVM's) for the exported functions, the virtual functions of classes whose namespace is
    known, and the code that names a source file (`__FILE__` in TVM's checks and Z3's)."""
    relocations = _relocations(image)
    found = [(address, _namespace_of_symbol(name) == "tvm")
             for address, name in _exported_functions(image) if _namespace_of_symbol(name) not in _NO_VOTE]
    text = image.sections[".text"]
    for address, class_name in _virtual_functions(image, relocations):
        namespace = _namespace(class_name)
        if namespace not in _NO_VOTE and text.address <= address < text.address + text.size:
            found.append((address, namespace == "tvm"))
    found.extend(_source_file_references(image))
    return found


def _source_file_references(image) -> list[tuple[int, bool]]:
    """(instruction address, names one of TVM's files) for every `lea reg, [rip + disp32]` that loads the address
    of a source file's path: TVM's ICHECK and LOG record `__FILE__`, and so do Z3's asserts. TVM's files are those
    under TVM's source root (where `src/tirx/` is) outside its 3rdparty/, and the headers of `include/tvm/` (TVM's and
    tvm-ffi's, wherever they are installed)."""
    rodata, text = image.sections[".rodata"], image.sections[".text"]
    data = image.data
    paths = {rodata.address + m.start(1) - rodata.offset: m.group(1).decode("latin-1")
             for m in _SOURCE_PATH.finditer(data, rodata.offset, rodata.offset + rodata.size)}
    roots = collections.Counter(path[:path.index("/src/tirx/") + 1] for path in paths.values() if "/src/tirx/" in path)
    if not roots:
        return []
    root = roots.most_common(1)[0][0]

    def tvm_file(path: str) -> bool:
        return "/include/tvm/" in path or (path.startswith(root) and not path.startswith(root + "3rdparty/"))

    code = np.frombuffer(data, dtype=np.uint8, count=text.size, offset=text.offset)
    lea = np.flatnonzero(((code[:-7] == 0x48) | (code[:-7] == 0x4C)) & (code[1:-6] == 0x8D)
                         & ((code[2:-5] & 0xC7) == 0x05))  # REX.W lea r64, [rip + disp32]
    displacement = code[lea[:, None] + 3 + np.arange(4)].copy().view("<i4").ravel().astype(np.int64)
    targets = text.address + lea + 7 + displacement
    named = np.isin(targets, np.fromiter(paths, dtype=np.int64, count=len(paths)))
    return [(int(text.address + at), tvm_file(paths[int(target)])) for at, target in zip(lea[named], targets[named])]


def _dynamic_symbols(image) -> tuple[np.ndarray, list[str]]:
    symbols = image.sections[".dynsym"]
    names = image.sections[".dynstr"]
    table = np.frombuffer(image.data, count=symbols.size // 24, offset=symbols.offset, dtype=np.dtype(
        [("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"), ("value", "<u8"), ("size", "<u8")]))
    data = image.data

    def name(offset: int) -> str:
        start = names.offset + offset
        return data[start:data.find(b"\0", start)].decode("latin-1")

    return table, [name(int(offset)) for offset in table["name"]]


def _exported_functions(image) -> list[tuple[int, str]]:
    table, names = _dynamic_symbols(image)
    functions = ((table["info"] & 0xF) == 2) & (table["shndx"] != 0)
    return [(int(table["value"][i]), names[i]) for i in np.flatnonzero(functions)]


def _relocations(image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dynamic relocations as (offsets, values, symbol names or ''), sorted by offset; a value is the pointer
    the loader writes (0 where it depends on another library)."""
    section = image.sections[".rela.dyn"]
    rows = np.frombuffer(image.data, count=section.size // 24, offset=section.offset,
                         dtype=np.dtype([("offset", "<u8"), ("info", "<u8"), ("addend", "<i8")]))
    kinds = rows["info"] & 0xFFFFFFFF
    symbol_index = (rows["info"] >> np.uint64(32)).astype(np.int64)
    table, names = _dynamic_symbols(image)
    values = np.where(kinds == _RELATIVE, rows["addend"], 0).astype(np.int64)
    absolute = kinds == _ABSOLUTE
    defined = table["shndx"][symbol_index[absolute]] != 0
    values[absolute] = np.where(defined, table["value"][symbol_index[absolute]].astype(np.int64)
                                + rows["addend"][absolute], 0)
    symbol_names = np.array([names[i] if kinds[k] == _ABSOLUTE else "" for k, i in enumerate(symbol_index)],
                            dtype=object)
    order = np.argsort(rows["offset"], kind="stable")
    return rows["offset"][order].astype(np.int64), values[order], symbol_names[order]


def _virtual_functions(image, relocations) -> list[tuple[int, str]]:
    """(function address, mangled class name) for every function pointer in a vtable of a class whose typeinfo
    this library holds."""
    offsets, values, symbols = relocations
    data, rodata, text = image.data, image.sections[".rodata"], image.sections[".text"]

    def value_at(offset: int) -> int | None:
        i = int(np.searchsorted(offsets, offset))
        return int(values[i]) if i < len(offsets) and offsets[i] == offset else None

    typeinfo_names: dict[int, str] = {}
    for i in np.flatnonzero([name.startswith(_TYPEINFO_VTABLE) for name in symbols]):
        name_address = value_at(int(offsets[i]) + 8)
        if name_address is not None and rodata.address <= name_address < rodata.address + rodata.size:
            start = name_address - rodata.address + rodata.offset
            typeinfo_names[int(offsets[i])] = data[start:data.find(b"\0", start, start + 4096)].decode("latin-1")
    in_text = (values >= text.address) & (values < text.address + text.size)
    found = []
    for i in np.flatnonzero(np.isin(values, np.fromiter(typeinfo_names, dtype=np.int64))):
        class_name = typeinfo_names[int(values[i])]
        j = i + 1  # the vtable's function pointers follow its typeinfo pointer, one word each
        while j < len(offsets) and offsets[j] == offsets[j - 1] + 8 and in_text[j]:
            found.append((int(values[j]), class_name))
            j += 1
    return found


def _namespace(mangled_type: str) -> str:
    """The outermost namespace of a mangled type name (`N3tvm4tirx...E` -> tvm): 'std' for std's, '<global>' for a
    class of the global namespace, '' where it cannot tell."""
    name = mangled_type
    if name.startswith("Z"):  # a class local to a function: the function's namespace
        return _namespace_of_symbol("_" + name)
    if name.startswith("N"):
        name = name[1:].lstrip("KVr")
    elif name[:1].isdigit():
        return "<global>"
    if name.startswith("St"):
        return "std"
    digits = len(name) - len(name.lstrip("0123456789"))
    if digits == 0:
        return ""
    return name[digits:digits + int(name[:digits])]


def _namespace_of_symbol(symbol: str) -> str:
    """The outermost namespace of a mangled function name (`_ZN3tvm...`, `_ZNK3tvm...`); '' for a function in the
    global namespace or a name this does not parse."""
    if not symbol.startswith("_Z"):
        return ""
    name = symbol[2:]
    if name.startswith("St"):
        return "std"
    if not name.startswith("N"):
        return ""
    return _namespace(name)
