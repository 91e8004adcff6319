/* The weighted normalization's division (normalize.c), listed in module.c's table. */
#ifndef IMGFILTER_NORMALIZE_H
#define IMGFILTER_NORMALIZE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

PyObject *py_divide_sums(PyObject *self, PyObject *args);
extern const char divide_sums_doc[];

/* c ? a : b as a bit blend, which gcc vectorizes (a float ?: stays a branch
 * under -ftrapping-math). */
static inline float sel32(int c, float a, float b) {
    uint32_t ua, ub, m = -(uint32_t)c;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = (ua & m) | (ub & ~m);
    float r;
    memcpy(&r, &ua, 4);
    return r;
}

static inline double sel64(int c, double a, double b) {
    uint64_t ua, ub, m = -(uint64_t)c;
    memcpy(&ua, &a, 8);
    memcpy(&ub, &b, 8);
    ua = (ua & m) | (ub & ~m);
    double r;
    memcpy(&r, &ua, 8);
    return r;
}

/* The one division of a value sum X by its weight sum D (type NT; FULL, TINY,
 * TOTAL, ONE and NANV of NT, see divide_sums): a weight sum equal to FULL keeps
 * X undivided (x / 1 and x * 1 are x, bit for bit: a whole window keeps its
 * plain sum), one at most TINY in magnitude gives NaN, the rest is scaled by
 * TOTAL. Shared by divide_sums and the fused NaN kernels (linear_idx.c), so
 * both give the same bits. */
#define NORMALIZE_DIVIDE(NT, X, D, FULL, TINY, TOTAL, ONE, NANV, FABS, SEL) \
    do {                                                                   \
        NT d_ = (D);                                                       \
        int keep_ = d_ == (FULL);                                          \
        NT q_ = (X) / SEL(keep_, (ONE), d_);                               \
        q_ = SEL(FABS(d_) <= (TINY), (NANV), q_);                          \
        (X) = q_ * SEL(keep_, (ONE), (TOTAL));                             \
    } while (0)

/* The division's geometry and options (divide_sums' arguments). */
typedef struct {
    idx_t pixels, cn, cd;
    int has_full, has_tiny, scale;
    double full, tiny, total;
} divide_args;

/* num /= den over a->pixels pixels; buf holds DIVIDE_BLOCK pixels of num's type.
 * Indexed (num, den): 0 float32/float32, 1 float64/float64, 2 float64/float32. */
typedef void (*divide_fn)(void *num, const void *den, const divide_args *a, void *buf);
#define DIVIDE_BLOCK 512
extern const divide_fn divide_table_base[3];
#if defined(ENGINE_HAVE_AVX2)
extern const divide_fn divide_table_avx2[3];
#endif

#define NORMALIZE_METHOD_ROWS {"divide_sums", py_divide_sums, METH_VARARGS, divide_sums_doc},
#endif
