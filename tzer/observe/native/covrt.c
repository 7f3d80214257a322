/* The coverage runtime: one-shot breakpoints on the basic blocks (or function entries) of one library.
 *
 * `cov_patch` writes int3 (0xCC) over the first byte of every instrumentation point. When one runs, the SIGTRAP
 * handler finds the point by binary search, puts the original byte back, rewinds RIP so the instruction runs as if
 * nothing happened, and records the hit. Each point traps at most once per process, so after its first hit it
 * costs nothing.
 *
 * What is recorded where:
 *   - the hit map and the hit log are MAP_SHARED: a fork-server child's hits reach the parent and its siblings, and
 *     the map is the union over all of them. The atomic exchange on the map decides which process was first;
 *   - `won` (how many points this process was first to hit) and the trace (every point this process trapped on
 *     since `cov_trace_reset`) are private: after fork(), each child counts its own.
 * Each point may be marked owned (`cov_set_owned`: TVM's own code, not the LLVM or Z3 linked into the library); the
 * owned points are counted apart too (`cov_total_owned`, `cov_won_owned`).
 * The parent calls `cov_sync` to put back the bytes its children hit, so children forked later do not trap on them.
 * The handler touches only memory and atomics: it is async-signal-safe. Racing threads may both trap on a point
 * before its byte is back; restoring is idempotent and the exchange counts the point once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

typedef struct {
    uint64_t count; /* entries appended to the log, over all processes */
    uint64_t owned; /* of those, owned points */
} log_header_t;

static uintptr_t g_base;     /* where the library is mapped */
static uint32_t *g_offset;   /* sorted offsets of the points from g_base (private copy) */
static long g_n;
static uint8_t *g_original;  /* the byte each int3 replaced */
static uint8_t *g_owned;     /* private: 1 for an owned point */
static uint8_t *g_hit;       /* shared: 1 once any process hit the point */
static log_header_t *g_log_header; /* shared */
static uint32_t *g_log;      /* shared: point indices in order of first hit, g_n entries at most */
static uint32_t *g_trace;    /* private: points this process trapped on since cov_trace_reset */
static volatile long g_trace_n;
static volatile long g_won;  /* private: points this process was first to hit */
static volatile long g_won_owned; /* private: of those, owned points */
static uint64_t g_synced;    /* log entries whose bytes this process has put back */
static struct sigaction g_previous;
static int g_patched;

static void *map_memory(size_t bytes, int shared) {
    void *memory = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
                        (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

static long find(uintptr_t address) {
    if (address < g_base || address - g_base > UINT32_MAX) return -1;
    uint32_t offset = (uint32_t)(address - g_base);
    long lo = 0, hi = g_n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (g_offset[mid] < offset) lo = mid + 1;
        else if (g_offset[mid] > offset) hi = mid - 1;
        else return mid;
    }
    return -1;
}

static void record(long i) {
    if (__atomic_exchange_n(&g_hit[i], 1, __ATOMIC_RELAXED) == 0) {
        uint64_t k = __atomic_fetch_add(&g_log_header->count, 1, __ATOMIC_RELAXED);
        if (k < (uint64_t)g_n) g_log[k] = (uint32_t)i;
        __atomic_fetch_add(&g_won, 1, __ATOMIC_RELAXED);
        if (g_owned[i]) {
            __atomic_fetch_add(&g_log_header->owned, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&g_won_owned, 1, __ATOMIC_RELAXED);
        }
    }
}

static void on_trap(int signal_number, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    uintptr_t address = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] - 1;
    long i = find(address);
    if (i < 0) { /* not one of ours: hand it to whoever had SIGTRAP before */
        sigaction(SIGTRAP, &g_previous, NULL);
        raise(SIGTRAP);
        return;
    }
    *(volatile uint8_t *)address = g_original[i];
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)address;
    long k = __atomic_fetch_add(&g_trace_n, 1, __ATOMIC_RELAXED);
    if (k < g_n) g_trace[k] = (uint32_t)i;
    record(i);
}

/* Take the points (sorted offsets from `base`, copied) and allocate the maps. 0, or -errno. */
int cov_setup(uintptr_t base, const uint32_t *offsets, long n) {
    if (g_offset) return -EBUSY;
    g_base = base;
    g_n = n;
    g_offset = map_memory(n * sizeof(uint32_t), 0);
    g_original = map_memory(n, 0);
    g_owned = map_memory(n, 0);
    g_hit = map_memory(n, 1);
    g_log_header = map_memory(sizeof(log_header_t) + n * sizeof(uint32_t), 1);
    g_trace = map_memory(n * sizeof(uint32_t), 0);
    if (!g_offset || !g_original || !g_owned || !g_hit || !g_log_header || !g_trace) return -ENOMEM;
    g_log = (uint32_t *)(g_log_header + 1);
    memcpy(g_offset, offsets, n * sizeof(uint32_t));
    return 0;
}

/* Mark which points are owned (one byte each, 0 or 1); before any is hit. 0, or -errno. */
int cov_set_owned(const uint8_t *owned) {
    if (!g_offset) return -EINVAL;
    for (long i = 0; i < g_n; i++) g_owned[i] = owned[i] != 0;
    return 0;
}

/* Install the handler, make the points' pages writable and write int3 over every point. 0, or -errno. */
int cov_patch(void) {
    if (!g_offset || g_patched) return -EINVAL;
    if (g_n == 0) return 0;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_trap;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTRAP, &action, &g_previous) != 0) return -errno;
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t first = (g_base + g_offset[0]) & ~(uintptr_t)(page - 1);
    uintptr_t last = g_base + g_offset[g_n - 1] + 1;
    if (mprotect((void *)first, last - first, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return -errno;
    for (long i = 0; i < g_n; i++) {
        uint8_t *point = (uint8_t *)(g_base + g_offset[i]);
        g_original[i] = *point;
        if (!g_hit[i]) *point = 0xCC;
    }
    g_patched = 1;
    return 0;
}

/* Whether the handler is still the one SIGTRAP goes to (the library might have replaced it). */
int cov_handler_installed(void) {
    struct sigaction current;
    if (sigaction(SIGTRAP, NULL, &current) != 0) return 0;
    return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_trap;
}

/* Put back the bytes of the points hit (by any process) since the last sync; returns how many. */
long cov_sync(void) {
    uint64_t count = __atomic_load_n(&g_log_header->count, __ATOMIC_ACQUIRE);
    if (count > (uint64_t)g_n) count = g_n;
    long restored = 0;
    for (; g_synced < count; g_synced++) {
        uint32_t i = g_log[g_synced];
        uint8_t *point = (uint8_t *)(g_base + g_offset[i]);
        if (*point == 0xCC && g_original[i] != 0xCC) {
            *point = g_original[i];
            restored++;
        }
    }
    return restored;
}

/* Mark points as covered (a resumed campaign's coverage) and put their bytes back; returns how many were new. */
long cov_mark(const uint32_t *indices, long m) {
    long before = g_won;
    for (long j = 0; j < m; j++) {
        uint32_t i = indices[j];
        if (i >= (uint64_t)g_n) continue;
        if (g_patched) *(volatile uint8_t *)(g_base + g_offset[i]) = g_original[i];
        record(i);
    }
    cov_sync();
    return g_won - before;
}

/* Forget all coverage and re-arm every point (no child may be running). */
void cov_reset(void) {
    for (long i = 0; i < g_n; i++) {
        if (g_patched) *(volatile uint8_t *)(g_base + g_offset[i]) = 0xCC;
        g_hit[i] = 0;
    }
    __atomic_store_n(&g_log_header->count, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&g_log_header->owned, 0, __ATOMIC_RELEASE);
    g_synced = 0;
    g_trace_n = 0;
    g_won = 0;
    g_won_owned = 0;
}

long cov_total(void) {
    uint64_t count = __atomic_load_n(&g_log_header->count, __ATOMIC_ACQUIRE);
    return count > (uint64_t)g_n ? g_n : (long)count;
}

long cov_won(void) { return __atomic_load_n(&g_won, __ATOMIC_RELAXED); }

long cov_total_owned(void) { return (long)__atomic_load_n(&g_log_header->owned, __ATOMIC_ACQUIRE); }

long cov_won_owned(void) { return __atomic_load_n(&g_won_owned, __ATOMIC_RELAXED); }

/* Copy log entries [from, from + capacity) to `out`; returns how many were copied. */
long cov_read_log(uint32_t *out, long from, long capacity) {
    long total = cov_total();
    long n = total - from < capacity ? total - from : capacity;
    if (n <= 0) return 0;
    memcpy(out, g_log + from, n * sizeof(uint32_t));
    return n;
}

long cov_trace_count(void) {
    long n = __atomic_load_n(&g_trace_n, __ATOMIC_RELAXED);
    return n > g_n ? g_n : n;
}

long cov_read_trace(uint32_t *out, long capacity) {
    long n = cov_trace_count();
    if (n > capacity) n = capacity;
    memcpy(out, g_trace, n * sizeof(uint32_t));
    return n;
}

void cov_trace_reset(void) { __atomic_store_n(&g_trace_n, 0, __ATOMIC_RELAXED); }
