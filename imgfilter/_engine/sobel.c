/* The fused Sobel kernel (x, y and magnitude in one pass, the border read
 * through row and column indices, not a padded copy), compiled for the
 * baseline instruction set and again for AVX2, with its Python entry. */
#if defined(__GNUC__) && !defined(__clang__)
/* Selects may be if-converted, so the loops vectorize; no result changes. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "sobel.h"

typedef struct {
    const void *src;
    void *x, *y, *mag;      /* rows x cols x chan outputs of the work type, or NULL */
    idx_t rows, cols, chan;
    const idx_t *rowidx;    /* rows + 2 source rows (-1: cval) */
    idx_t left, right;      /* source columns beyond each side (-1: cval) */
    double cval;
    void *ring, *s, *d, *gx, *gy; /* scratch rows */
} sobel_t;

typedef void (*sobel_fn)(const sobel_t *p);

/* m = sqrt(x*x + y*y). GCC keeps sqrt scalar where it may set errno (a
 * pragma cannot lift that), so the x86 variants spell the vector square
 * root out; it is IEEE's correctly rounded one, the same bits. */
#define MAG_SCALAR(T, SQRT)                                                    \
    for (; i < n; i++) m[i] = SQRT(x[i] * x[i] + y[i] * y[i]);
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
static void mag_f32_base(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(y + i);
        _mm_storeu_ps(m + i, _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(a, a), _mm_mul_ps(b, b))));
    }
    MAG_SCALAR(float, __builtin_sqrtf)
}
static void mag_f64_base(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    for (; i + 2 <= n; i += 2) {
        __m128d a = _mm_loadu_pd(x + i), b = _mm_loadu_pd(y + i);
        _mm_storeu_pd(m + i, _mm_sqrt_pd(_mm_add_pd(_mm_mul_pd(a, a), _mm_mul_pd(b, b))));
    }
    MAG_SCALAR(double, __builtin_sqrt)
}
#else
static void mag_f32_base(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    MAG_SCALAR(float, __builtin_sqrtf)
}
static void mag_f64_base(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    MAG_SCALAR(double, __builtin_sqrt)
}
#endif
#if defined(ENGINE_HAVE_AVX2)
__attribute__((target("avx2"))) static void mag_f32_avx2(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(m + i, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b))));
    }
    MAG_SCALAR(float, __builtin_sqrtf)
}
__attribute__((target("avx2"))) static void mag_f64_avx2(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d a = _mm256_loadu_pd(x + i), b = _mm256_loadu_pd(y + i);
        _mm256_storeu_pd(m + i, _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b))));
    }
    MAG_SCALAR(double, __builtin_sqrt)
}
#endif

#define ISA_IMPL "sobel_impl.h"
#include "isa.h"

static int optional_out(PyObject *o, Py_buffer *v, int *have, const char *name) {
    *have = 0;
    if (o == Py_None) return 0;
    if (get_array(o, v, 1, name) < 0) return -1;
    *have = 1;
    return 0;
}

PyObject *py_sobel(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *x_o, *y_o, *m_o, *ri_o;
    Py_ssize_t cols, chan, left, right;
    double cval;
    if (!PyArg_ParseTuple(args, "OOOOnnOnnd", &src_o, &x_o, &y_o, &m_o, &cols, &chan, &ri_o, &left,
                          &right, &cval))
        return NULL;
    if (!PyTuple_Check(ri_o) || PyTuple_GET_SIZE(ri_o) < 2 || cols < 1 || chan < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: sobel needs cols, chan >= 1 and a tuple of >= 2 row indices");
        return NULL;
    }
    Py_buffer src, out[3];
    int have[3] = {0, 0, 0};
    PyObject *outs[3] = {x_o, y_o, m_o};
    const char *names[3] = {"x", "y", "mag"};
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    PyObject *result = NULL;
    idx_t *rowidx = NULL;
    void *scratch = NULL;
    int wt = -1;
    for (int k = 0; k < 3; k++) {
        if (optional_out(outs[k], &out[k], &have[k], names[k]) < 0) goto done;
        if (have[k]) {
            int t = element_type(&out[k]);
            if ((t != T_F32 && t != T_F64) || (wt >= 0 && t != wt)) {
                PyErr_SetString(PyExc_TypeError, "engine: sobel outputs must all be float32 or all float64");
                goto done;
            }
            wt = t;
        }
    }
    if (wt < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: sobel needs at least one output");
        goto done;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(ri_o);
    rowidx = malloc(sizeof(idx_t) * (size_t)n);
    if (!rowidx) {
        PyErr_NoMemory();
        goto done;
    }
    if (int_tuple(ri_o, rowidx, n, "rowidx") < 0) goto done;
    idx_t row = (idx_t)cols * chan, src_rows = (src.len / src.itemsize) / row;
    idx_t rows = n - 2, side[2] = {left, right};
    /* Every row and column the kernel reads lies in the source (-1 = cval). */
    if (engine_check_index(rowidx, n, src_rows, "rowidx") < 0 || engine_check_index(side, 2, cols, "column") < 0)
        goto done;
    for (int k = 0; k < 3; k++) {
        if (!have[k]) continue;
        geom_t g;
        memset(&g, 0, sizeof g);
        g.inner = rows * cols, g.chan = chan, g.s_step = chan, g.d_step = chan;
        if (engine_check_bounds(&g, NULL, 0, src_rows * row, out[k].len / out[k].itemsize) < 0) goto done;
    }
    size_t ws = wt == T_F64 ? sizeof(double) : sizeof(float);
    idx_t ext = (idx_t)(cols + 2) * chan;
    scratch = malloc(ws * (size_t)(3 * ext + 2 * ext + 2 * row));
    if (!scratch) {
        PyErr_NoMemory();
        goto done;
    }
    char *b = (char *)scratch;
    sobel_t p = {src.buf, have[0] ? out[0].buf : NULL, have[1] ? out[1].buf : NULL,
                 have[2] ? out[2].buf : NULL, rows, cols, chan, rowidx, left, right, cval,
                 b, b + ws * 3 * ext, b + ws * 4 * ext, b + ws * 5 * ext, b + ws * (5 * ext + row)};
    int st = element_type(&src), w64 = wt == T_F64;
    sobel_fn fn = sobel_table_base[st][w64];
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) fn = sobel_table_avx2[st][w64];
#endif
    if (rows > 0) {
        Py_BEGIN_ALLOW_THREADS fn(&p);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    for (int k = 0; k < 3; k++)
        if (have[k]) PyBuffer_Release(&out[k]);
    free(rowidx);
    free(scratch);
    PyBuffer_Release(&src);
    return result;
}
