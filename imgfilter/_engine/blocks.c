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
 * Under AddressSanitizer (and where there is no mmap) a block is a plain
 * exact-size malloc, never pooled, so every overrun stays visible. */
#define _DEFAULT_SOURCE
#include "blocks.h"

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

/* The pool, oldest first. Only touched with the GIL held (block() and a
 * Block's dealloc), so it needs no lock of its own. */
typedef struct {
    void *mem;
    size_t cap;
    double when; /* seconds (monotonic) when it was freed */
} Pooled;

static Pooled pool[POOL_MAX];
static int pooled = 0;
static double pool_decay = 10.0;
static size_t pool_limit = 0;

static size_t pool_held(void) {
    size_t held = 0;
    for (int i = 0; i < pooled; i++) held += pool[i].cap;
    return held;
}

static void pool_drop(int i) {
    unmap(pool[i].mem, pool[i].cap);
    memmove(pool + i, pool + i + 1, (size_t)(pooled - i - 1) * sizeof(Pooled));
    pooled--;
}

static size_t blocks_release_all(void) {
    size_t total = pool_held();
    while (pooled) pool_drop(pooled - 1);
    return total;
}

#if blocks_recycle_build
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Blocks freed more than pool_decay seconds ago go back to the system. */
static void pool_expire(double t) {
    while (pooled && t - pool[0].when > pool_decay) pool_drop(0);
}

/* At most min(1 GiB, an eighth of the physical memory) waits in the pool. */
static size_t limit(void) {
    if (!pool_limit) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        size_t phys = pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
        pool_limit = phys && phys / 8 < POOL_BYTES_MAX ? phys / 8 : POOL_BYTES_MAX;
    }
    return pool_limit;
}

/* The pooled block that fits need best (at most twice its size), taken out of the pool; NULL if none. */
static void *pool_take(size_t need, size_t *cap) {
    int best = -1;
    for (int i = 0; i < pooled; i++)
        if (pool[i].cap >= need && pool[i].cap / 2 <= need && (best < 0 || pool[i].cap < pool[best].cap)) best = i;
    if (best < 0) return NULL;
    void *mem = pool[best].mem;
    *cap = pool[best].cap;
    memmove(pool + best, pool + best + 1, (size_t)(pooled - best - 1) * sizeof(Pooled));
    pooled--;
    return mem;
}

/* A freed block joins the pool as its newest, the oldest making room. */
static void pool_put(void *mem, size_t cap) {
    double t = now();
    pool_expire(t);
    if (cap > limit() || madvise(mem, cap, MADV_FREE) != 0) {
        unmap(mem, cap);
        return;
    }
    while (pooled && (pooled == POOL_MAX || pool_held() + cap > limit())) pool_drop(0);
    pool[pooled].mem = mem;
    pool[pooled].cap = cap;
    pool[pooled].when = t;
    pooled++;
}
#endif

static void block_dealloc(Block *b) {
    PyTraceMalloc_Untrack(BLOCKS_DOMAIN, (uintptr_t)b->mem);
#if blocks_recycle_build
    pool_put(b->mem, b->cap);
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

int blocks_ready(void) { return PyType_Ready(&BlockType); }

const char block_doc[] = (
    "block(nbytes) -> a writable buffer of nbytes (contents undefined), recycled from the\n"
    "pool when a freed block of nbytes to 2 * nbytes is there, else newly mapped (the pool\n"
    "emptied and the mapping tried again if the first try fails).");

#if BLOCKS_MMAP
/* A new mapping of need bytes (whole pages), or NULL. A failed try empties
 * the pool, whose pages may be what the system lacks, and tries once more. */
static void *map_new(size_t need) {
    for (int attempt = 0; attempt < 2; attempt++) {
        void *mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem != MAP_FAILED) {
#if defined(MADV_HUGEPAGE)
            if (need >= HUGE_PAGE) madvise(mem, need, MADV_HUGEPAGE);
#endif
            return mem;
        }
        if (!pooled) break;
        blocks_release_all();
    }
    return NULL;
}
#endif

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
    size_t page = need >= HUGE_PAGE ? HUGE_PAGE : 4096;
    if (need > SIZE_MAX - page) return PyErr_NoMemory();
    cap = need = (need + page - 1) / page * page;
#if blocks_recycle_build
    pool_expire(now());
    mem = pool_take(need, &cap);
#endif
    if (!mem) mem = map_new(need);
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

const char blocks_release_doc[] = "blocks_release() -> bytes unmapped: empty the pool of freed blocks.";

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
    return Py_BuildValue("(inn)", pooled, (Py_ssize_t)pool_held(), (Py_ssize_t)limit());
#else
    (void)decay;
    (void)pool_decay;
    (void)pool_limit;
    return Py_BuildValue("(inn)", 0, (Py_ssize_t)0, (Py_ssize_t)0);
#endif
}
