/* Large result buffers whose pages are handed from one call to the next.
 *
 * A fresh mapping costs the kernel a page fault and a zeroed page for every
 * 4 KiB (or 2 MiB) it touches: writing a new 100 MB float32 4K RGB result
 * took twice as long as writing an old one (11.3 against 5.7 ms here), a
 * third of a whole 3x3 correlate. So a block freed by Python (its last
 * array gone) keeps its mapping in a small pool, marked MADV_FREE (the kernel
 * may take the pages back under memory pressure, without swapping), and the
 * next request of about its size gets it back, pages still mapped.
 *
 * The pool holds at most 32 blocks (fewer let a burst of small blocks push
 * out the one large block an interleaved loop came back for) and min(1 GiB, an eighth of the physical
 * memory), oldest out first, and a block freed more than 10 seconds ago is
 * unmapped at the next request or free. Live blocks are reported to
 * tracemalloc like numpy's buffers.
 *
 * The kernels' own large scratch (engine_scratch) is recycled the same way,
 * from a second pool.
 *
 * Under AddressSanitizer (and where there is no mmap) a block or a scratch
 * is a plain exact-size malloc, never pooled, so every overrun stays
 * visible. */
#define _DEFAULT_SOURCE
#include "blocks.h"

#include "engine.h"

#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define BLOCKS_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLOCKS_MMAP 0
#endif
#endif
#ifndef BLOCKS_MMAP
#if defined(__unix__) || defined(__APPLE__)
#define BLOCKS_MMAP 1
#else
#define BLOCKS_MMAP 0
#endif
#endif

#if BLOCKS_MMAP
#include <sys/mman.h>
#endif

#if BLOCKS_MMAP && defined(MADV_FREE)
#define blocks_recycle_build 1
#include <time.h>
#include <unistd.h>
#else
#define blocks_recycle_build 0
#endif
const int blocks_recycle = blocks_recycle_build;

#define BLOCKS_DOMAIN 0x696d67u /* tracemalloc domain ("img") */
#define POOL_MAX 32
#define POOL_BYTES_MAX ((size_t)1 << 30)
#define HUGE_PAGE ((size_t)2 << 20)
/* Kernel scratch: requests of SCRATCH_MIN bytes and more are pooled mappings,
 * at most SCRATCH_POOL of them and a quarter of the blocks' byte limit
 * (at most 256 MiB); each starts with a header of SCRATCH_HEAD bytes that
 * holds its mapping's size (0: a plain malloc). */
#define SCRATCH_MIN ((size_t)1 << 20)
#define SCRATCH_POOL 16
#define SCRATCH_BYTES_MAX ((size_t)256 << 20)
#define SCRATCH_HEAD ((size_t)64)

typedef struct {
    PyObject_HEAD
    void *mem;
    size_t cap; /* bytes mapped */
    Py_ssize_t len; /* bytes exported */
} Block;

static void unmap(void *mem, size_t cap) {
#if BLOCKS_MMAP
    munmap(mem, cap);
#else
    (void)cap;
    PyMem_RawFree(mem);
#endif
}

/* A pool of freed mappings, oldest first. The blocks' pool is only touched
 * with the GIL held (block() and a Block's dealloc); the scratch pool, used
 * by kernels that run without it, only under scratch_lock. */
typedef struct {
    void *mem;
    size_t cap;
    double when; /* seconds (monotonic) when it was freed */
} Pooled;

typedef struct {
    Pooled item[POOL_MAX];
    int n;    /* mappings held */
    int most; /* mappings it may hold */
    size_t (*bytes_max)(void);
} Pool;

static double pool_decay = 10.0;
static size_t pool_limit = 0;
#if blocks_recycle_build
/* A plain mutex, made anew in a forked child: a thread of the parent may
 * have held it at the fork, and would never give it back there. */
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static void scratch_lock_anew(void) { scratch_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER; }
#define SCRATCH_LOCK() pthread_mutex_lock(&scratch_lock)
#define SCRATCH_UNLOCK() pthread_mutex_unlock(&scratch_lock)
#else
#define SCRATCH_LOCK() ((void)0)
#define SCRATCH_UNLOCK() ((void)0)
#endif

static size_t blocks_limit(void);
static size_t scratch_limit(void);
static Pool blocks = {.n = 0, .most = POOL_MAX, .bytes_max = blocks_limit};
static Pool scratch = {.n = 0, .most = SCRATCH_POOL, .bytes_max = scratch_limit};

static size_t pool_held(const Pool *p) {
    size_t held = 0;
    for (int i = 0; i < p->n; i++) held += p->item[i].cap;
    return held;
}

static void pool_drop(Pool *p, int i) {
    unmap(p->item[i].mem, p->item[i].cap);
    memmove(p->item + i, p->item + i + 1, (size_t)(p->n - i - 1) * sizeof(Pooled));
    p->n--;
}

static size_t pool_empty(Pool *p) {
    size_t total = pool_held(p);
    while (p->n) pool_drop(p, p->n - 1);
    return total;
}

static size_t scratch_empty(void) {
    SCRATCH_LOCK();
    size_t total = pool_empty(&scratch);
    SCRATCH_UNLOCK();
    return total;
}

/* Both pools (the GIL held). */
static size_t blocks_release_all(void) { return pool_empty(&blocks) + scratch_empty(); }

/* At most min(1 GiB, an eighth of the physical memory) waits in the blocks' pool. */
static size_t blocks_limit(void) {
    if (!pool_limit) {
#if BLOCKS_MMAP
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        size_t phys = pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
        pool_limit = phys && phys / 8 < POOL_BYTES_MAX ? phys / 8 : POOL_BYTES_MAX;
#else
        pool_limit = POOL_BYTES_MAX;
#endif
    }
    return pool_limit;
}

static size_t scratch_limit(void) {
    size_t lim = blocks_limit() / 4;
    return lim < SCRATCH_BYTES_MAX ? lim : SCRATCH_BYTES_MAX;
}

#if blocks_recycle_build
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Mappings freed more than pool_decay seconds ago go back to the system. */
static void pool_expire(Pool *p, double t) {
    while (p->n && t - p->item[0].when > pool_decay) pool_drop(p, 0);
}

/* The pooled mapping that fits need best (at most twice its size), taken out of the pool; NULL if none. */
static void *pool_take(Pool *p, size_t need, size_t *cap) {
    pool_expire(p, now());
    int best = -1;
    for (int i = 0; i < p->n; i++) {
        size_t c = p->item[i].cap;
        if (c >= need && c / 2 <= need && (best < 0 || c < p->item[best].cap)) best = i;
    }
    if (best < 0) return NULL;
    void *mem = p->item[best].mem;
    *cap = p->item[best].cap;
    memmove(p->item + best, p->item + best + 1, (size_t)(p->n - best - 1) * sizeof(Pooled));
    p->n--;
    return mem;
}

/* A freed mapping joins the pool as its newest, the oldest making room. */
static void pool_put(Pool *p, void *mem, size_t cap) {
    double t = now();
    pool_expire(p, t);
    if (cap > p->bytes_max() || madvise(mem, cap, MADV_FREE) != 0) {
        unmap(mem, cap);
        return;
    }
    while (p->n && (p->n == p->most || pool_held(p) + cap > p->bytes_max())) pool_drop(p, 0);
    p->item[p->n].mem = mem;
    p->item[p->n].cap = cap;
    p->item[p->n].when = t;
    p->n++;
}
#endif

#if BLOCKS_MMAP
/* need rounded up to whole pages (2 MiB ones from 2 MiB on), or 0 if that overflows. */
static size_t whole_pages(size_t need) {
    size_t page = need >= HUGE_PAGE ? HUGE_PAGE : 4096;
    return need > SIZE_MAX - page ? 0 : (need + page - 1) / page * page;
}

/* A new mapping of need bytes (whole pages), or NULL. A failed try gives
 * back the pooled pages the caller may touch (give_back: the bytes it
 * unmapped), which may be what the system lacks, and tries once more. */
static void *map_new(size_t need, size_t (*give_back)(void)) {
    for (int attempt = 0; attempt < 2; attempt++) {
        void *mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem != MAP_FAILED) {
#if defined(MADV_HUGEPAGE)
            if (need >= HUGE_PAGE) madvise(mem, need, MADV_HUGEPAGE);
#endif
            return mem;
        }
        if (!attempt && !give_back()) break;
    }
    return NULL;
}
#endif

static void block_dealloc(Block *b) {
    PyTraceMalloc_Untrack(BLOCKS_DOMAIN, (uintptr_t)b->mem);
#if blocks_recycle_build
    pool_put(&blocks, b->mem, b->cap);
#else
    unmap(b->mem, b->cap);
#endif
    Py_TYPE(b)->tp_free((PyObject *)b);
}

static int block_getbuffer(Block *b, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)b, b->mem, b->len, 0, flags);
}

static PyBufferProcs block_as_buffer = {(getbufferproc)block_getbuffer, NULL};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "imgfilter._engine._kernels.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = (destructor)block_dealloc,
    .tp_as_buffer = &block_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A writable buffer of bytes whose pages go back to the engine's pool when it is freed.",
};

int blocks_ready(void) {
#if blocks_recycle_build
    static int once = 0;
    if (!once && pthread_atfork(NULL, NULL, scratch_lock_anew) != 0) {
        PyErr_SetString(PyExc_OSError, "engine: pthread_atfork failed");
        return -1;
    }
    once = 1;
#endif
    return PyType_Ready(&BlockType);
}

const char block_doc[] = (
    "block(nbytes) -> a writable buffer of nbytes (contents undefined), recycled from the\n"
    "pool when a freed block of nbytes to 2 * nbytes is there, else newly mapped (the pool\n"
    "emptied and the mapping tried again if the first try fails).");

PyObject *py_block(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: block size must be >= 0");
        return NULL;
    }
    size_t need = n ? (size_t)n : 1, cap = need;
    void *mem = NULL;
#if BLOCKS_MMAP
    cap = need = whole_pages(need);
    if (!need) return PyErr_NoMemory();
#if blocks_recycle_build
    mem = pool_take(&blocks, need, &cap);
#endif
    if (!mem) mem = map_new(need, blocks_release_all);
#else
    mem = PyMem_RawMalloc(need);
#endif
    if (!mem) return PyErr_NoMemory();
    Block *b = PyObject_New(Block, &BlockType);
    if (!b) {
        unmap(mem, cap);
        return NULL;
    }
    b->mem = mem;
    b->cap = cap;
    b->len = n;
    PyTraceMalloc_Track(BLOCKS_DOMAIN, (uintptr_t)mem, (size_t)n);
    return (PyObject *)b;
}

const char blocks_release_doc[] = "blocks_release() -> bytes unmapped: empty the pools of freed blocks and scratch.";

PyObject *py_blocks_release(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    return PyLong_FromSize_t(blocks_release_all());
}

const char blocks_pooled_doc[] = (
    "blocks_pooled(decay=None) -> (count, bytes, limit): the freed blocks held for reuse and\n"
    "the most bytes the pool holds ((0, 0, 0) in a sanitizer build or without mmap: blocks are\n"
    "then plain allocations). decay: set how many seconds a freed block waits (default 10).");

PyObject *py_blocks_pooled(PyObject *self, PyObject *args) {
    (void)self;
    double decay = -1.0;
    if (!PyArg_ParseTuple(args, "|d", &decay)) return NULL;
#if blocks_recycle_build
    if (decay >= 0) pool_decay = decay;
    return Py_BuildValue("(inn)", blocks.n, (Py_ssize_t)pool_held(&blocks), (Py_ssize_t)blocks_limit());
#else
    (void)decay;
    (void)pool_decay;
    return Py_BuildValue("(inn)", 0, (Py_ssize_t)0, (Py_ssize_t)0);
#endif
}

/* ------------------------------------------------------------------ kernel scratch */

/* A kernel's large scratch (a band's rows of 1-D results, say) is a pooled
 * mapping handed from one call to the next. malloc'd, it came back from the
 * system as new pages at each band wherever glibc mapped it afresh or had
 * trimmed the heap, which it does until some earlier free raises its
 * thresholds: a 15 x 15 maximum of a 4K RGB image took 28.6 ms in a fresh
 * process, 10.2 ms after such a free. */
void *engine_scratch(size_t bytes) {
#if blocks_recycle_build
    if (bytes > SIZE_MAX - SCRATCH_HEAD - HUGE_PAGE) return NULL;
    size_t need = bytes + SCRATCH_HEAD, cap = 0;
    unsigned char *mem = NULL;
    if (need < SCRATCH_MIN) {
        mem = malloc(need);
        if (mem) memcpy(mem, &cap, sizeof(cap));
        return mem ? mem + SCRATCH_HEAD : NULL;
    }
    need = whole_pages(need);
    SCRATCH_LOCK();
    mem = pool_take(&scratch, need, &cap);
    SCRATCH_UNLOCK();
    if (!mem) {
        mem = map_new(need, scratch_empty);
        cap = need;
    }
    if (!mem) return NULL;
    memcpy(mem, &cap, sizeof(cap));
    return mem + SCRATCH_HEAD;
#else
    return malloc(bytes ? bytes : 1);
#endif
}

void engine_scratch_free(void *p) {
    if (!p) return;
#if blocks_recycle_build
    unsigned char *mem = (unsigned char *)p - SCRATCH_HEAD;
    size_t cap;
    memcpy(&cap, mem, sizeof(cap));
    if (!cap) {
        free(mem);
        return;
    }
    SCRATCH_LOCK();
    pool_put(&scratch, mem, cap);
    SCRATCH_UNLOCK();
#else
    free(p);
#endif
}

const char scratch_pooled_doc[] = (
    "scratch_pooled() -> (count, bytes, limit): the kernels' freed scratch mappings held for\n"
    "reuse and the most bytes they may hold ((0, 0, 0) in a sanitizer build or without mmap).");

PyObject *py_scratch_pooled(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
#if blocks_recycle_build
    SCRATCH_LOCK();
    int count = scratch.n;
    size_t bytes = pool_held(&scratch);
    SCRATCH_UNLOCK();
    return Py_BuildValue("(inn)", count, (Py_ssize_t)bytes, (Py_ssize_t)scratch_limit());
#else
    return Py_BuildValue("(inn)", 0, (Py_ssize_t)0, (Py_ssize_t)0);
#endif
}
