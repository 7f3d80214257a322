"""Native coverage of TVM's stock compiler library: its instrumentation points and the breakpoint runtime.

`libtvm_compiler.so` from the PyPI wheel is stripped, so its function list comes from `.eh_frame` (every function
has an FDE: measured, they cover 99% of `.text` with no overlaps; the rest is padding). The basic-block leaders of
every function come from a linear sweep with capstone (`blocks.c`): about 7.2 M blocks in 206 k functions, found
once per build of the library (build-id) and cached under the user's cache directory. The runtime (`covrt.c`)
writes int3 over each point and records its first hit in a map shared with forked children (the design and its
measurements: ../shared/notes/native_coverage.md).

`NativeCoverageUnavailable` says why native coverage cannot work here (not Linux x86-64, no built runtime, a
library layout this reader does not expect); callers then run without coverage, they do not crash.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import dataclasses
import importlib.util
import mmap
import os
import platform
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator

import numpy as np

from tzer.errors import UserError

LIBRARY = "libtvm_compiler.so"
TABLE_FORMAT = 2  # bump when the cached table's layout, the leader rules or the owner rules change
_CHUNK_FUNCTIONS = 4096  # functions per call of the block finder (the progress bar's step)
_FDE_ENCODING = 0x1B  # DW_EH_PE_pcrel | DW_EH_PE_sdata4: what GCC and clang emit for x86-64
_TABLE_ENCODING = 0x3B  # DW_EH_PE_datarel | DW_EH_PE_sdata4: .eh_frame_hdr's sorted search table


class NativeCoverageUnavailable(UserError):
    """Native coverage cannot work on this machine or with this library; the message says why."""


@dataclasses.dataclass(frozen=True)
class Section:
    address: int
    offset: int
    size: int


@dataclasses.dataclass(frozen=True)
class ElfImage:
    """The parts of an ELF shared library that coverage needs, read from its file."""

    path: str
    build_id: str
    sections: dict[str, Section]
    data: bytes

    def section_bytes(self, name: str) -> memoryview:
        section = self.sections[name]
        return memoryview(self.data)[section.offset:section.offset + section.size]


def read_elf(path: str) -> ElfImage:
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ)
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise NativeCoverageUnavailable(f"{path} is not a 64-bit little-endian ELF file")
    (machine,) = struct.unpack_from("<H", data, 18)
    if machine != 62:
        raise NativeCoverageUnavailable(f"{path} is not x86-64 code")
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]

    def name_of(offset: int) -> str:
        end = data.find(b"\0", names_offset + offset)
        return data[names_offset + offset:end].decode()

    sections = {name_of(h[0]): Section(h[3], h[4], h[5]) for h in headers}
    for needed in (".text", ".eh_frame_hdr", ".eh_frame", ".note.gnu.build-id"):
        if needed not in sections:
            raise NativeCoverageUnavailable(f"{path} has no {needed} section")
    note = sections[".note.gnu.build-id"]
    namesz, descsz, _ = struct.unpack_from("<III", data, note.offset)
    start = note.offset + 12 + (namesz + 3) // 4 * 4
    return ElfImage(path, data[start:start + descsz].hex(), sections, data)


def function_table(image: ElfImage) -> tuple[np.ndarray, np.ndarray]:
    """Start addresses and sizes of the functions in `.text`, sorted, from the FDEs that .eh_frame_hdr indexes."""
    hdr = image.sections[".eh_frame_hdr"]
    version, frame_encoding, count_encoding, table_encoding = image.data[hdr.offset:hdr.offset + 4]
    if version != 1 or count_encoding != 0x03 or table_encoding != _TABLE_ENCODING:
        raise NativeCoverageUnavailable(f"{image.path}: unexpected .eh_frame_hdr encoding")
    (count,) = struct.unpack_from("<I", image.data, hdr.offset + 8)
    table = np.frombuffer(image.data, dtype="<i4", count=2 * count, offset=hdr.offset + 12).reshape(count, 2)
    starts = hdr.address + table[:, 0].astype(np.int64)
    fde_addresses = hdr.address + table[:, 1].astype(np.int64)
    frame = image.sections[".eh_frame"]
    if fde_addresses.min() < frame.address or fde_addresses.max() + 16 > frame.address + frame.size:
        raise NativeCoverageUnavailable(f"{image.path}: .eh_frame_hdr points outside .eh_frame")
    fde_offsets = fde_addresses - frame.address + frame.offset
    words = np.frombuffer(image.data, dtype=np.uint8)

    def int32_at(offsets: np.ndarray) -> np.ndarray:
        return words[offsets[:, None] + np.arange(4)].copy().view("<i4").ravel().astype(np.int64)

    if (int32_at(fde_offsets) == -1).any():
        raise NativeCoverageUnavailable(f"{image.path}: 64-bit FDEs are not supported")
    cie_offsets = fde_offsets + 4 - int32_at(fde_offsets + 4)
    for cie in np.unique(cie_offsets):
        if _cie_fde_encoding(image.data, int(cie)) != _FDE_ENCODING:
            raise NativeCoverageUnavailable(f"{image.path}: an FDE pointer encoding this reader does not handle")
    pc_begin = fde_addresses + 8 + int32_at(fde_offsets + 8)  # pc-relative to the field itself
    sizes = int32_at(fde_offsets + 12)
    if (pc_begin != starts).any():
        raise NativeCoverageUnavailable(f"{image.path}: .eh_frame_hdr and .eh_frame disagree on function starts")
    text = image.sections[".text"]
    inside = (sizes > 0) & (starts >= text.address) & (starts + sizes <= text.address + text.size)
    order = np.argsort(starts[inside], kind="stable")
    starts, sizes = starts[inside][order], sizes[inside][order]
    if (starts[1:] < starts[:-1] + sizes[:-1]).any():
        raise NativeCoverageUnavailable(f"{image.path}: function ranges overlap")
    return starts.astype(np.uint64), sizes.astype(np.uint64)


def _cie_fde_encoding(data: bytes, offset: int) -> int | None:
    """The pointer encoding a CIE's 'R' augmentation gives its FDEs; None if it has none."""
    position = offset + 8  # length, CIE id
    version = data[position]
    position += 1
    end = data.find(b"\0", position)
    augmentation = data[position:end].decode()
    position = end + 1
    position = _skip_leb128(data, position)  # code alignment
    position = _skip_leb128(data, position)  # data alignment
    position = position + 1 if version == 1 else _skip_leb128(data, position)  # return address register
    if not augmentation.startswith("z"):
        return None
    position = _skip_leb128(data, position)  # augmentation data length
    for letter in augmentation[1:]:
        if letter == "R":
            return data[position]
        if letter == "L":
            position += 1
        elif letter == "P":
            encoding = data[position]
            position += 1 + {0x00: 8, 0x03: 4, 0x0B: 4, 0x04: 8, 0x0C: 8}.get(encoding & 0x0F, 4)
    return None


def _skip_leb128(data: bytes, position: int) -> int:
    while data[position] & 0x80:
        position += 1
    return position + 1


# The block table


@dataclasses.dataclass(frozen=True)
class BlockTable:
    """A library's instrumentation points: sorted block leader addresses (link-time virtual addresses), the
    function each belongs to, and whose code each function is (tzer.observe.native.owners)."""

    build_id: str
    function_starts: np.ndarray  # uint64, sorted
    function_sizes: np.ndarray  # uint64
    blocks: np.ndarray  # uint64, sorted; every function entry is one of them
    function_owned: np.ndarray  # bool, per function: TVM's own code (not bundled LLVM, Z3, ...)

    @property
    def block_functions(self) -> np.ndarray:
        """The function index of each block."""
        return np.searchsorted(self.function_starts, self.blocks, side="right") - 1

    @property
    def block_owned(self) -> np.ndarray:
        """Per block: whether it is TVM's own code."""
        return self.function_owned[self.block_functions]

    @property
    def entry_blocks(self) -> np.ndarray:
        """Indices (into `blocks`) of the function entries."""
        return np.searchsorted(self.blocks, self.function_starts)


def cache_dir() -> str:
    base = os.environ.get("TZER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tzer")
    return os.path.join(base, "native")


def block_table(path: str, progress: bool = True) -> BlockTable:
    """The block table of the library at `path`: from the cache if this build of it was swept before, else swept
    now (tens of seconds for libtvm_compiler.so, with a progress bar on stderr) and cached."""
    image = read_elf(path)
    cached = os.path.join(cache_dir(), f"blocks-v{TABLE_FORMAT}-{image.build_id}.npz")
    if os.path.exists(cached):
        try:
            with np.load(cached, allow_pickle=False) as saved:
                return BlockTable(image.build_id, saved["function_starts"], saved["function_sizes"],
                                  saved["blocks"], saved["function_owned"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry: sweep again and replace it
    table = sweep(image, progress)
    try:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(cached), suffix=".npz")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, function_starts=table.function_starts, function_sizes=table.function_sizes,
                     blocks=table.blocks, function_owned=table.function_owned)
        os.replace(temporary, cached)  # atomic: a concurrent reader sees the old state or the whole new table
    except OSError as exc:  # a read-only home: the next process sweeps again, nothing else is lost
        print(f"tzer: cannot cache the block table in {os.path.dirname(cached)} ({exc.strerror})", file=sys.stderr)
    return table


def sweep(image: ElfImage, progress: bool = True) -> BlockTable:
    from tzer.observe.native.owners import owned_functions

    starts, sizes = function_table(image)
    finder = _blocks_library()
    text = image.sections[".text"]
    code = np.frombuffer(image.data, dtype=np.uint8, count=text.size, offset=text.offset)
    chunks = [(i, min(i + _CHUNK_FUNCTIONS, len(starts))) for i in range(0, len(starts), _CHUNK_FUNCTIONS)]

    def leaders(chunk: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The chunk's block leaders, and its jumps out of their function as (function index, target) rows."""
        lo, hi = chunk
        chunk_starts, chunk_sizes = np.ascontiguousarray(starts[lo:hi]), np.ascontiguousarray(sizes[lo:hi])
        capacity = int(chunk_sizes.sum())  # at most one leader per byte, one jump per two bytes
        out = np.empty(capacity, dtype=np.uint64)
        jumps = np.empty((capacity // 2 + 1, 2), dtype=np.uint64)
        undecodable, n_jumps = ctypes.c_long(0), ctypes.c_long(0)
        written = finder.tzb_leaders(code.ctypes.data, text.address, text.size, chunk_starts.ctypes.data,
                                     chunk_sizes.ctypes.data, hi - lo, out.ctypes.data, capacity,
                                     ctypes.byref(undecodable), jumps.ctypes.data, len(jumps), ctypes.byref(n_jumps))
        if written < 0:
            raise NativeCoverageUnavailable(f"the block finder failed on {image.path} (status {written})")
        jumps = jumps[:n_jumps.value].copy()
        jumps[:, 0] += np.uint64(lo)
        return out[:written], jumps

    with progress_bar(progress, f"finding the basic blocks of {os.path.basename(image.path)} "
                                 f"(once per build)", len(chunks)) as advance:
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts, jump_parts = [], []
            for part, jumps in pool.map(leaders, chunks):
                parts.append(part)
                jump_parts.append(jumps)
                advance()
    blocks = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    jumps = np.concatenate(jump_parts) if jump_parts else np.empty((0, 2), dtype=np.uint64)
    return BlockTable(image.build_id, starts, sizes, blocks, owned_functions(image, starts, jumps))


@contextlib.contextmanager
def progress_bar(shown: bool, description: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient progress bar on stderr (nothing when not `shown`); yields the function that advances it."""
    if not shown:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = progress.add_task(description, total=total)
    with progress:
        yield lambda: progress.advance(task)


# The compiled runtime


def check_platform() -> None:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise NativeCoverageUnavailable(f"it needs Linux on x86-64, this is {sys.platform} on {platform.machine()}")


def _extension_path(name: str) -> str:
    spec = importlib.util.find_spec(f"tzer.observe.native.{name}")
    if spec is None or not spec.origin:
        raise NativeCoverageUnavailable(f"the native runtime ({name}) was not built: reinstall tzer with gcc present")
    return spec.origin


_loaded: dict[str, ctypes.CDLL] = {}


def _blocks_library() -> ctypes.CDLL:
    if "blocks" not in _loaded:
        check_platform()
        try:
            import capstone
        except ImportError as exc:
            raise NativeCoverageUnavailable("the capstone package is not installed") from exc
        capstone_library = os.path.join(os.path.dirname(capstone.__file__), "lib", "libcapstone.so")
        ctypes.CDLL(capstone_library, mode=ctypes.RTLD_GLOBAL)  # resolves the finder's cs_* symbols
        finder = ctypes.CDLL(_extension_path("_blocks"))
        finder.tzb_leaders.restype = ctypes.c_long
        finder.tzb_leaders.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_long,
                                       ctypes.POINTER(ctypes.c_long), ctypes.c_void_p, ctypes.c_long,
                                       ctypes.POINTER(ctypes.c_long)]
        _loaded["blocks"] = finder
    return _loaded["blocks"]


def runtime_library() -> ctypes.CDLL:
    """The breakpoint runtime; one per process (its state is global, and survives fork)."""
    if "covrt" not in _loaded:
        check_platform()
        runtime = ctypes.CDLL(_extension_path("_covrt"))
        signatures = {
            "cov_setup": (ctypes.c_int, [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_long]),
            "cov_patch": (ctypes.c_int, []),
            "cov_handler_installed": (ctypes.c_int, []),
            "cov_sync": (ctypes.c_long, []),
            "cov_mark": (ctypes.c_long, [ctypes.c_void_p, ctypes.c_long]),
            "cov_reset": (None, []),
            "cov_total": (ctypes.c_long, []),
            "cov_won": (ctypes.c_long, []),
            "cov_set_owned": (ctypes.c_int, [ctypes.c_void_p]),
            "cov_total_owned": (ctypes.c_long, []),
            "cov_won_owned": (ctypes.c_long, []),
            "cov_read_log": (ctypes.c_long, [ctypes.c_void_p, ctypes.c_long, ctypes.c_long]),
            "cov_trace_count": (ctypes.c_long, []),
            "cov_read_trace": (ctypes.c_long, [ctypes.c_void_p, ctypes.c_long]),
            "cov_trace_reset": (None, []),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(runtime, name)
            function.restype, function.argtypes = restype, argtypes
        _loaded["covrt"] = runtime
    return _loaded["covrt"]


def loaded_library(name: str = LIBRARY) -> tuple[str, int]:
    """The path and load base of the library `name` as mapped in this process (TVM must be imported)."""
    path, lowest = None, None
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and os.path.basename(fields[5]) == name:
                start = int(fields[0].split("-")[0], 16)
                if int(fields[2], 16) == 0 and (lowest is None or start < lowest):
                    path, lowest = fields[5], start
    if path is None or lowest is None:
        raise NativeCoverageUnavailable(f"{name} is not loaded in this process")
    return path, lowest
