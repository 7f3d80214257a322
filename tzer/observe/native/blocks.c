/* The basic-block finder: a linear sweep of each function of an x86-64 library with capstone.
 *
 * Python hands over the library's executable bytes and its function ranges (from .eh_frame; the library is
 * stripped), a chunk at a time, so it can show progress and run chunks on several threads (ctypes releases the
 * GIL). A block leader is
 *   - a function entry;
 *   - the target of a direct jump or conditional jump inside the same function, if the sweep decoded an
 *     instruction there (a target in the middle of an instruction is dropped: patching it would corrupt code);
 *   - the fall-through of a conditional jump;
 *   - the first instruction after an unconditional jump, a return, ud2 or hlt that is not padding (nop, int3):
 *     this catches most switch-case targets, which are reached only through jump tables.
 * Only bytes inside function ranges are decoded or reported, so data and padding in .text are never patched.
 *
 * The sweep also reports the direct jumps (not calls) that leave their function: a function reaches its cold
 * fragment (GCC's `foo.cold`, an FDE of its own, far away in .text.unlikely) only that way, so these edges tell
 * whose code a fragment is (tzer.observe.native.owners).
 */
#include <capstone/capstone.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t *items;
    long n, cap;
} vec_t;

static int vec_push(vec_t *v, uint64_t x) {
    if (v->n == v->cap) {
        long cap = v->cap ? 2 * v->cap : 1024;
        uint64_t *items = realloc(v->items, cap * sizeof(uint64_t));
        if (!items) return -1;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = x;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int is_padding(unsigned id) { return id == X86_INS_NOP || id == X86_INS_INT3; }

static int ends_flow(unsigned id) {
    return id == X86_INS_JMP || id == X86_INS_LJMP || id == X86_INS_UD2 || id == X86_INS_HLT;
}

/* Leaders of the functions [starts[i], starts[i] + sizes[i]), i < n_functions, all inside the image that starts at
 * address `image_address`, written to `out` as addresses: sorted within each function, functions in the order
 * given. Returns how many were written; -1 if `out` or `jumps` is too small (`capacity`, `jump_capacity`), -2 if
 * capstone fails, -3 if a function lies outside the image. `undecodable` receives the number of bytes the sweep had
 * to skip. The direct jumps that leave their function go to `jumps` as pairs (index of the function in this call,
 * target address); `n_jumps` receives how many pairs. */
long tzb_leaders(const uint8_t *image, uint64_t image_address, uint64_t image_size, const uint64_t *starts,
                 const uint64_t *sizes, long n_functions, uint64_t *out, long capacity, long *undecodable,
                 uint64_t *jumps, long jump_capacity, long *n_jumps) {
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return -2;
    cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *insn = cs_malloc(handle);
    vec_t leaders = {0}, targets = {0};
    uint8_t *starts_map = NULL; /* one byte per byte of the function: 1 where the sweep decoded an instruction */
    uint64_t starts_map_size = 0;
    long written = 0, skipped = 0, status = 0, jumped = 0;

    for (long f = 0; f < n_functions && status == 0; f++) {
        uint64_t start = starts[f], size = sizes[f];
        if (start < image_address || start + size > image_address + image_size) { status = -3; break; }
        if (size > starts_map_size) {
            uint8_t *grown = realloc(starts_map, size);
            if (!grown) { status = -2; break; }
            starts_map = grown;
            starts_map_size = size;
        }
        memset(starts_map, 0, size);
        leaders.n = targets.n = 0;
        vec_push(&leaders, start);

        const uint8_t *code = image + (start - image_address);
        size_t left = size;
        uint64_t address = start;
        int after_end = 0; /* the previous instruction ended straight-line flow */
        while (left > 0) {
            if (!cs_disasm_iter(handle, &code, &left, &address, insn)) {
                code++, left--, address++, skipped++;  /* resynchronise one byte on */
                after_end = 1;
                continue;
            }
            unsigned id = insn->id;
            starts_map[insn->address - start] = 1;
            if (after_end && !is_padding(id)) {
                vec_push(&leaders, insn->address);
                after_end = 0;
            }
            if (cs_insn_group(handle, insn, CS_GRP_JUMP)) {
                cs_x86 *x86 = &insn->detail->x86;
                if (x86->op_count == 1 && x86->operands[0].type == X86_OP_IMM) {
                    uint64_t target = (uint64_t)x86->operands[0].imm;
                    if (target >= start && target < start + size) vec_push(&targets, target);
                    else if (target >= image_address && target < image_address + image_size) {
                        if (jumped == jump_capacity) { status = -1; break; }
                        jumps[2 * jumped] = (uint64_t)f;
                        jumps[2 * jumped + 1] = target;
                        jumped++;
                    }
                }
                if (ends_flow(id)) after_end = 1;
                else if (address < start + size) vec_push(&leaders, address);  /* conditional: fall-through */
            } else if (cs_insn_group(handle, insn, CS_GRP_RET) || ends_flow(id)) {
                after_end = 1;
            }
        }
        for (long t = 0; t < targets.n; t++)
            if (starts_map[targets.items[t] - start]) vec_push(&leaders, targets.items[t]);
        qsort(leaders.items, leaders.n, sizeof(uint64_t), cmp_u64);
        for (long i = 0; i < leaders.n; i++) {
            if (i > 0 && leaders.items[i] == leaders.items[i - 1]) continue;
            if (written == capacity) { status = -1; break; }
            out[written++] = leaders.items[i];
        }
    }
    free(leaders.items);
    free(targets.items);
    free(starts_map);
    cs_free(insn, 1);
    cs_close(&handle);
    if (undecodable) *undecodable = skipped;
    if (n_jumps) *n_jumps = jumped;
    return status ? status : written;
}
