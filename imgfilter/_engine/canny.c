/* Canny edges: gradient + non-maximum suppression per band of rows, and
 * the hysteresis that links weak edge pixels to strong ones. The first is
 * compiled for the baseline instruction set and again for AVX2 (chosen at
 * run time); both give the same values (no fused multiply-adds,
 * -ffp-contract=off). The hysteresis is a flood fill with an explicit stack
 * (no recursion: its memory is at most one index per edge pixel). */
#if defined(__GNUC__) && !defined(__clang__)
/* Selects may be if-converted, so the suppression loop vectorizes; no
 * result changes. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "canny.h"

/* m = sqrt(gi*gi + gj*gj) in the float type, for the l2 magnitude. GCC
 * keeps sqrt scalar where it may set errno (an optimize pragma does not lift
 * that), so the x86 variants spell the vector square root out: IEEE's
 * correctly rounded one, the bits of the scalar call. The products and the
 * sum stay separate roundings (no FMA), as skimage computes them. */
#define CANNY_MAG_TAIL(SQRT)                                                  \
    for (; i < n; i++) {                                                      \
        a = x[i] * x[i];                                                      \
        a += y[i] * y[i];                                                     \
        m[i] = SQRT(a);                                                       \
    }
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
static void mag_f32_base(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    float a;
    for (; i + 4 <= n; i += 4) {
        __m128 p = _mm_loadu_ps(x + i), q = _mm_loadu_ps(y + i);
        _mm_storeu_ps(m + i, _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(p, p), _mm_mul_ps(q, q))));
    }
    CANNY_MAG_TAIL(__builtin_sqrtf)
}
static void mag_f64_base(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    double a;
    for (; i + 2 <= n; i += 2) {
        __m128d p = _mm_loadu_pd(x + i), q = _mm_loadu_pd(y + i);
        _mm_storeu_pd(m + i, _mm_sqrt_pd(_mm_add_pd(_mm_mul_pd(p, p), _mm_mul_pd(q, q))));
    }
    CANNY_MAG_TAIL(__builtin_sqrt)
}
#else
static void mag_f32_base(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    float a;
    CANNY_MAG_TAIL(__builtin_sqrtf)
}
static void mag_f64_base(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    double a;
    CANNY_MAG_TAIL(__builtin_sqrt)
}
#endif
#if defined(ENGINE_HAVE_AVX2)
__attribute__((target("avx2"))) static void mag_f32_avx2(const float *x, const float *y, float *m, idx_t n) {
    idx_t i = 0;
    float a;
    for (; i + 8 <= n; i += 8) {
        __m256 p = _mm256_loadu_ps(x + i), q = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(m + i, _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(p, p), _mm256_mul_ps(q, q))));
    }
    CANNY_MAG_TAIL(__builtin_sqrtf)
}
__attribute__((target("avx2"))) static void mag_f64_avx2(const double *x, const double *y, double *m, idx_t n) {
    idx_t i = 0;
    double a;
    for (; i + 4 <= n; i += 4) {
        __m256d p = _mm256_loadu_pd(x + i), q = _mm256_loadu_pd(y + i);
        _mm256_storeu_pd(m + i, _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(p, p), _mm256_mul_pd(q, q))));
    }
    CANNY_MAG_TAIL(__builtin_sqrt)
}
#endif
#undef CANNY_MAG_TAIL

/* The suppression row's vector body: columns 1..x0-1 of it, x0 returned,
 * the generic row (canny_impl.h) does the rest. GCC vectorizes the generic
 * row too, but with masked loads and spills at 32 pixels a step; spelled
 * out for 8 float32 pixels it is about twice as fast. The operations are
 * the generic row's, lane for lane (the same selects, the same float
 * quotient and product, the same double sums and compares). A block of 8
 * without a candidate (m >= low, m > 0) is skipped: its zeros (the caller's)
 * are what the compares give. */
#define CANNY_NMS_VEC_ARGS                                                                             \
    const void *mu, const void *mc, const void *md, const void *ic, const void *jc, uint8_t *out,      \
        idx_t cols, float lowf, double hi
#define CANNY_NMS_VEC_NONE(name)                                                                       \
    static idx_t name(CANNY_NMS_VEC_ARGS) {                                                            \
        (void)mu, (void)mc, (void)md, (void)ic, (void)jc, (void)out, (void)cols, (void)lowf, (void)hi; \
        return 1;                                                                                      \
    }
CANNY_NMS_VEC_NONE(nms_vec_f32_base)
CANNY_NMS_VEC_NONE(nms_vec_f64_base)
#if defined(ENGINE_HAVE_AVX2)
CANNY_NMS_VEC_NONE(nms_vec_f64_avx2)
/* (a <= b) on both halves of 8 floats widened to double, as 8 mask bits. */
__attribute__((target("avx2"))) static inline int le_pd8(__m256d a0, __m256d a1, __m256d b0, __m256d b1) {
    return _mm256_movemask_pd(_mm256_cmp_pd(a0, b0, _CMP_LE_OQ)) |
           (_mm256_movemask_pd(_mm256_cmp_pd(a1, b1, _CMP_LE_OQ)) << 4);
}
/* One block of 8 suppression pixels at x, mm = m[x..x+7], cand its
 * candidate bits (not 0). */
__attribute__((target("avx2"))) static inline void nms_block8(const float *u, const float *c, const float *d,
                                                             const float *gi, const float *gj, uint8_t *out,
                                                             idx_t x, __m256 mm, int cand, double hi) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256d one = _mm256_set1_pd(1.0), hid = _mm256_set1_pd(hi);
    const __m256 iv = _mm256_loadu_ps(gi + x), jv = _mm256_loadu_ps(gj + x);
    const __m256 down = _mm256_cmp_ps(iv, zero, _CMP_LE_OQ), left = _mm256_cmp_ps(jv, zero, _CMP_LE_OQ);
    /* down == left: all-ones where the masks agree */
    const __m256 cond1 = _mm256_xor_ps(_mm256_xor_ps(down, left), _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
    const __m256 ai = _mm256_and_ps(iv, absmask), aj = _mm256_and_ps(jv, absmask);
    const __m256 lt = _mm256_cmp_ps(ai, aj, _CMP_LT_OQ);
    const __m256 ngt = _mm256_cmp_ps(ai, aj, _CMP_NGT_UQ);
    const __m256 wlo = _mm256_blendv_ps(aj, ai, lt), whi = _mm256_blendv_ps(ai, aj, lt);
    const __m256 w = _mm256_div_ps(wlo, whi);
    const __m256 horiz = _mm256_blendv_ps(lt, ngt, cond1);
    const __m256 u0 = _mm256_loadu_ps(u + x), d0 = _mm256_loadu_ps(d + x);
    const __m256 n11 = _mm256_blendv_ps(_mm256_blendv_ps(u0, d0, cond1), _mm256_loadu_ps(c + x + 1), horiz);
    const __m256 n12 = _mm256_blendv_ps(_mm256_loadu_ps(u + x + 1), _mm256_loadu_ps(d + x + 1), cond1);
    const __m256 n21 = _mm256_blendv_ps(_mm256_blendv_ps(d0, u0, cond1), _mm256_loadu_ps(c + x - 1), horiz);
    const __m256 n22 = _mm256_blendv_ps(_mm256_loadu_ps(d + x - 1), _mm256_loadu_ps(u + x - 1), cond1);
    const __m256 p1 = _mm256_mul_ps(n12, w), p2 = _mm256_mul_ps(n22, w);
#define LO(v) _mm256_cvtps_pd(_mm256_castps256_ps128(v))
#define HI(v) _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))
    const __m256d om0 = _mm256_sub_pd(one, LO(w)), om1 = _mm256_sub_pd(one, HI(w));
    const __m256d m0 = LO(mm), m1 = HI(mm);
    const int k1 = le_pd8(_mm256_add_pd(LO(p1), _mm256_mul_pd(LO(n11), om0)),
                          _mm256_add_pd(HI(p1), _mm256_mul_pd(HI(n11), om1)), m0, m1);
    const int k2 = le_pd8(_mm256_add_pd(LO(p2), _mm256_mul_pd(LO(n21), om0)),
                          _mm256_add_pd(HI(p2), _mm256_mul_pd(HI(n21), om1)), m0, m1);
    const int strong = le_pd8(hid, hid, m0, m1);
#undef LO
#undef HI
    for (int keep = cand & k1 & k2; keep; keep &= keep - 1) {
        const int k = __builtin_ctz((unsigned)keep);
        out[x + k] = (uint8_t)(1 + ((strong >> k) & 1));
    }
}
__attribute__((target("avx2"))) static idx_t nms_vec_f32_avx2(CANNY_NMS_VEC_ARGS) {
    const float *u = (const float *)mu, *c = (const float *)mc, *d = (const float *)md;
    const float *gi = (const float *)ic, *gj = (const float *)jc;
    const __m256 zero = _mm256_setzero_ps(), lo = _mm256_set1_ps(lowf);
    idx_t x = 1;
    for (; x + 8 <= cols - 1; x += 8) {
        const __m256 mm = _mm256_loadu_ps(c + x);
        /* the candidates (m >= low, m > 0); none: the row's zeros stay */
        const int cand = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(mm, lo, _CMP_GE_OQ),
                                                          _mm256_cmp_ps(mm, zero, _CMP_GT_OQ)));
        if (cand) nms_block8(u, c, d, gi, gj, out, x, mm, cand, hi);
    }
    return x;
}
#endif
#undef CANNY_NMS_VEC_NONE
#undef CANNY_NMS_VEC_ARGS

/* The uint8 path's vector bodies (canny_impl.h's grad_row_u8 and
 * canny_nms_u8). grad_u8_vec: columns 1..x1-1 of gi, gj and m (x1
 * returned), and the candidate bits (m >= low, m > 0) of the suppression's
 * blocks of 8 they cover (block k: columns 1 + 8k .. 8 + 8k). The Sobel sums
 * of 16 pixels in int16 (|.| <= 1020, exact), converted to float (exact),
 * then mag's operations (or |x| + |y|) on them. nms_cand: the suppression
 * blocks 0..nb-1 of the row with a candidate bit, from those bits (a run of
 * 8 blocks without one is skipped at once); returns 1 + 8 nb, where the
 * generic row goes on. */
#define CANNY_U8_GRAD_ARGS                                                                         \
    const uint8_t *a, const uint8_t *b, const uint8_t *c, float *gi, float *gj, float *m, uint8_t *cand, \
        idx_t cols, int l2, float lowf
#define CANNY_U8_NMS_ARGS                                                                           \
    const float *u, const float *c, const float *d, const float *gi, const float *gj, uint8_t *out, \
        const uint8_t *cand, idx_t cols, double hi
static idx_t grad_u8_vec_f32_base(CANNY_U8_GRAD_ARGS) {
    (void)a, (void)b, (void)c, (void)gi, (void)gj, (void)m, (void)cand, (void)cols, (void)l2, (void)lowf;
    return 1;
}
static idx_t nms_cand_f32_base(CANNY_U8_NMS_ARGS) {
    (void)u, (void)c, (void)d, (void)gi, (void)gj, (void)out, (void)cand, (void)cols, (void)hi;
    return 1;
}
#if defined(ENGINE_HAVE_AVX2)
/* gi, gj, m of 8 pixels from their int16 Sobel sums; their candidate bits. */
__attribute__((target("avx2"))) static inline int grad8(__m128i vi, __m128i vj, float *gi, float *gj, float *m,
                                                       int l2, __m256 lo) {
    const __m256 p = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(vi)), q = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(vj));
    _mm256_storeu_ps(gi, p);
    _mm256_storeu_ps(gj, q);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 mv = l2 ? _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(p, p), _mm256_mul_ps(q, q)))
                         : _mm256_add_ps(_mm256_and_ps(p, absmask), _mm256_and_ps(q, absmask));
    _mm256_storeu_ps(m, mv);
    return _mm256_movemask_ps(
        _mm256_and_ps(_mm256_cmp_ps(mv, lo, _CMP_GE_OQ), _mm256_cmp_ps(mv, _mm256_setzero_ps(), _CMP_GT_OQ)));
}
__attribute__((target("avx2"))) static idx_t grad_u8_vec_f32_avx2(CANNY_U8_GRAD_ARGS) {
    const __m256 lo = _mm256_set1_ps(lowf);
    idx_t x = 1;
    /* reads columns x - 1 .. x + 16 */
    for (; x + 17 <= cols; x += 16) {
#define LD(p, o) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)((p) + x + (o))))
        const __m256i al = LD(a, -1), a0 = LD(a, 0), ar = LD(a, 1);
        const __m256i bl = LD(b, -1), br = LD(b, 1);
        const __m256i cl = LD(c, -1), c0 = LD(c, 0), cr = LD(c, 1);
#undef LD
        const __m256i vj = _mm256_sub_epi16(_mm256_add_epi16(_mm256_add_epi16(ar, cr), _mm256_add_epi16(br, br)),
                                            _mm256_add_epi16(_mm256_add_epi16(al, cl), _mm256_add_epi16(bl, bl)));
        const __m256i vi = _mm256_sub_epi16(_mm256_add_epi16(_mm256_add_epi16(cl, cr), _mm256_add_epi16(c0, c0)),
                                            _mm256_add_epi16(_mm256_add_epi16(al, ar), _mm256_add_epi16(a0, a0)));
        const idx_t k = (x - 1) / 8;
        cand[k] = (uint8_t)grad8(_mm256_castsi256_si128(vi), _mm256_castsi256_si128(vj), gi + x, gj + x, m + x,
                                 l2, lo);
        cand[k + 1] = (uint8_t)grad8(_mm256_extracti128_si256(vi, 1), _mm256_extracti128_si256(vj, 1), gi + x + 8,
                                     gj + x + 8, m + x + 8, l2, lo);
    }
    return x;
}
__attribute__((target("avx2"))) static idx_t nms_cand_f32_avx2(CANNY_U8_NMS_ARGS) {
    const idx_t nb = cols >= 2 ? (cols - 2) / 8 : 0;
    for (idx_t k = 0; k < nb; k++) {
        if (k + 8 <= nb) {
            uint64_t w;
            memcpy(&w, cand + k, 8);
            if (!w) {
                k += 7;
                continue;
            }
        }
        if (!cand[k]) continue;
        const idx_t x = 1 + 8 * k;
        nms_block8(u, c, d, gi, gj, out, x, _mm256_loadu_ps(c + x), cand[k], hi);
    }
    return 1 + 8 * nb;
}
#endif
#undef CANNY_U8_GRAD_ARGS
#undef CANNY_U8_NMS_ARGS

#define T float
#define TN _f32
#define FABS fabsf
#define CANNY_U8 1
#define ISA_IMPL "canny_impl.h"
#include "isa.h"
#undef CANNY_U8
#undef T
#undef TN
#undef FABS

#define T double
#define TN _f64
#define FABS fabs
#define ISA_IMPL "canny_impl.h"
#include "isa.h"
#undef T
#undef TN
#undef FABS

/* By source: float32, float64, uint8 without and with vscale, hscale (float32 arithmetic). */
canny_nms_fn canny_nms_table_base[4] = {canny_nms_f32_base, canny_nms_f64_base, canny_nms_u8_f32_base,
                                        canny_nms_u8norm_f32_base};
#if defined(ENGINE_HAVE_AVX2)
canny_nms_fn canny_nms_table_avx2[4] = {canny_nms_f32_avx2, canny_nms_f64_avx2, canny_nms_u8_f32_avx2,
                                        canny_nms_u8norm_f32_avx2};
#endif

const char canny_nms_doc[] =
    "canny_nms(src, dst, rows, cols, r0, r1, low, high, l2, vscale, hscale, eps, emask, mag)\n\n"
    "Rows r0..r1-1 of dst (uint8, rows x cols) from the smoothed image src (float32 or\n"
    "float64, rows x cols): 0, 1 (a gradient maximum across the edge >= low: weak) or 2\n"
    "(also >= high: strong), as scikit-image's Sobel, magnitude (l2: sqrt(x^2 + y^2), else\n"
    "|x| + |y|) and bilinear non-maximum suppression. vscale, hscale (src's type, rows and\n"
    "cols values, or None): src[y, x] is divided by vscale[y] * hscale[x] + eps first.\n"
    "emask (uint8 rows x cols, or None for all but the outer ring): where edges may be.\n"
    "mag (src's type, rows x cols, or None): receives the magnitude of rows r0..r1-1.";

const char canny_nms_u8_doc[] =
    "canny_nms_u8(src, dst, rows, cols, r0, r1, low, high, l2, vscale, hscale, eps, emask, mag)\n\n"
    "canny_nms of a uint8 src: the bits canny_nms gives its float32 cast (vscale, hscale,\n"
    "mag float32). Without vscale, hscale the Sobel sums are integers (exact).";

/* The buffer's element count, checked through the one bounds check as a
 * rows x cols geometry. */
static int check_plane(const Py_buffer *v, idx_t rows, idx_t cols) {
    geom_t g;
    memset(&g, 0, sizeof(g));
    g.n_outer = 1;
    g.outer[0] = rows;
    g.s_outer[0] = cols;
    g.d_outer[0] = cols;
    g.inner = cols;
    g.chan = 1;
    g.s_step = 1;
    g.d_step = 1;
    idx_t n = v->len / v->itemsize;
    return engine_check_bounds(&g, NULL, 0, n, n);
}

static int optional_array(PyObject *o, Py_buffer *v, int writable, const char *name, int *have) {
    *have = 0;
    if (o == Py_None) return 0;
    if (get_array(o, v, writable, name) < 0) return -1;
    *have = 1;
    return 0;
}

/* canny_nms and canny_nms_u8 (u8): one body. */
static PyObject *canny_nms_call(PyObject *args, int u8) {
    PyObject *src_o, *dst_o, *vs_o = Py_None, *hs_o = Py_None, *em_o, *mag_o;
    Py_ssize_t rows, cols, r0, r1;
    double low, high, eps = 0.0;
    int l2;
    if (!PyArg_ParseTuple(args, "OOnnnnddiOOdOO", &src_o, &dst_o, &rows, &cols, &r0, &r1, &low, &high, &l2,
                          &vs_o, &hs_o, &eps, &em_o, &mag_o))
        return NULL;
    if (rows < 1 || cols < 1 || r0 < 0 || r1 > rows || r0 > r1) {
        PyErr_SetString(PyExc_ValueError, "engine: canny_nms needs 0 <= r0 <= r1 <= rows and rows, cols >= 1");
        return NULL;
    }
    Py_buffer src, dst, vs, hs, em, mag;
    int hv = 0, hh = 0, he = 0, hm = 0, status = 0;
    PyObject *result = NULL;
    if (get_array(src_o, &src, 0, "src") < 0) return NULL;
    if (get_array(dst_o, &dst, 1, "dst") < 0) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (optional_array(vs_o, &vs, 0, "vscale", &hv) < 0 || optional_array(hs_o, &hs, 0, "hscale", &hh) < 0 ||
        optional_array(em_o, &em, 0, "emask", &he) < 0 || optional_array(mag_o, &mag, 1, "mag", &hm) < 0)
        goto done;
    const int ts = element_type(&src);
    /* the arithmetic's type: canny_nms_u8's uint8 source is worked in float32 */
    const int t = u8 ? (ts == T_U8 ? T_F32 : -1) : ts;
    if ((t != T_F32 && t != T_F64) || element_type(&dst) != T_U8 || (he && element_type(&em) != T_U8) ||
        (hv && element_type(&vs) != t) || (hh && element_type(&hs) != t) || (hm && element_type(&mag) != t) ||
        hv != hh) {
        PyErr_SetString(PyExc_TypeError,
                        u8 ? "engine: canny_nms_u8 takes a uint8 src, dst and emask, and vscale, hscale "
                             "(both or neither) and mag of float32"
                           : "engine: canny_nms takes a float32/float64 src, uint8 dst and emask, and vscale, "
                             "hscale (both or neither) and mag of src's type");
        goto done;
    }
    if (check_plane(&src, rows, cols) < 0 || check_plane(&dst, rows, cols) < 0 ||
        (he && check_plane(&em, rows, cols) < 0) || (hm && check_plane(&mag, rows, cols) < 0) ||
        (hv && check_plane(&vs, rows, 1) < 0) || (hh && check_plane(&hs, 1, cols) < 0))
        goto done;
    {
        const int k = u8 ? 2 + hv : t == T_F64;
        canny_nms_fn fn = canny_nms_table_base[k];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) fn = canny_nms_table_avx2[k];
#endif
        const void *vp = hv ? vs.buf : NULL, *hp = hh ? hs.buf : NULL;
        const uint8_t *ep = he ? (const uint8_t *)em.buf : NULL;
        void *mp = hm ? mag.buf : NULL;
        Py_BEGIN_ALLOW_THREADS status =
            fn(src.buf, (uint8_t *)dst.buf, rows, cols, r0, r1, low, high, l2, vp, hp, eps, ep, mp);
        Py_END_ALLOW_THREADS
    }
    if (status < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    if (hv) PyBuffer_Release(&vs);
    if (hh) PyBuffer_Release(&hs);
    if (he) PyBuffer_Release(&em);
    if (hm) PyBuffer_Release(&mag);
    return result;
}

PyObject *py_canny_nms(PyObject *self, PyObject *args) {
    (void)self;
    return canny_nms_call(args, 0);
}

PyObject *py_canny_nms_u8(PyObject *self, PyObject *args) {
    (void)self;
    return canny_nms_call(args, 1);
}

const char canny_hysteresis_doc[] =
    "canny_hysteresis(cls, rows, cols)\n\n"
    "In place on cls (uint8, rows x cols of 0 / 1 weak / 2 strong): 1 where a pixel is\n"
    "strong or 8-connected to a strong one through weak ones, else 0.";

/* Flood fill from every strong pixel over the weak ones. A pixel is marked
 * 3 (an edge, its neighbours seen or to be seen) when pushed, so each is
 * pushed at most once and a strong pixel reached by an earlier fill starts
 * none. The stack holds each pixel's index and column (no division to find
 * it again); a pixel off the image's outer ring takes its eight neighbours
 * without bounds checks. */
typedef struct {
    idx_t p, x;
} canny_px;

/* The first p' >= p with c[p'] == 2 (c's bytes are 0..3), or total. */
static idx_t next_strong(const uint8_t *c, idx_t p, idx_t total) {
#if defined(__x86_64__) && defined(__GNUC__)
    const __m128i two = _mm_set1_epi8(2);
    for (; p + 64 <= total; p += 64) {
        const __m128i *v = (const __m128i *)(const void *)(c + p);
        const __m128i e = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_loadu_si128(v), two), _mm_cmpeq_epi8(_mm_loadu_si128(v + 1), two)),
            _mm_or_si128(_mm_cmpeq_epi8(_mm_loadu_si128(v + 2), two), _mm_cmpeq_epi8(_mm_loadu_si128(v + 3), two)));
        if (_mm_movemask_epi8(e)) break;
    }
#endif
    /* 8 at a time: a byte is 2 where its bit 1 is set and its bit 0 clear */
    const uint64_t ones = UINT64_C(0x0101010101010101);
    for (; p + 8 <= total; p += 8) {
        uint64_t w;
        memcpy(&w, c + p, 8);
        if ((w >> 1) & ~w & ones) break;
    }
    for (; p < total; p++)
        if (c[p] == 2) break;
    return p;
}

static int hysteresis(uint8_t *c, idx_t rows, idx_t cols) {
    size_t cap = 4096, n = 0;
    canny_px *stack = (canny_px *)malloc(sizeof(canny_px) * cap);
    if (!stack) return -1;
    const idx_t total = rows * cols;
    const idx_t off[8] = {-cols - 1, -cols, -cols + 1, -1, 1, cols - 1, cols, cols + 1};
    const idx_t dxs[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
    for (idx_t p = 0; p < total; p++) {
        p = next_strong(c, p, total);
        if (p >= total) break;
        if (c[p] != 2) continue;
        c[p] = 3;
        stack[n].p = p;
        stack[n++].x = p % cols;
        while (n) {
            const canny_px q = stack[--n];
            /* room for the eight neighbours */
            if (n + 8 > cap) {
                canny_px *grown = (canny_px *)realloc(stack, sizeof(canny_px) * cap * 2);
                if (!grown) {
                    free(stack);
                    return -1;
                }
                stack = grown;
                cap *= 2;
            }
            if (q.p >= cols && q.p < total - cols && q.x > 0 && q.x < cols - 1) {
                for (int k = 0; k < 8; k++) {
                    const idx_t r = q.p + off[k];
                    if (c[r] != 1) continue;
                    c[r] = 3;
                    stack[n].p = r;
                    stack[n++].x = q.x + dxs[k];
                }
                continue;
            }
            const idx_t y = q.p / cols, x = q.x;
            for (idx_t dy = -1; dy <= 1; dy++) {
                const idx_t yy = y + dy;
                if (yy < 0 || yy >= rows) continue;
                for (idx_t dx = -1; dx <= 1; dx++) {
                    const idx_t xx = x + dx;
                    if (xx < 0 || xx >= cols) continue;
                    const idx_t r = yy * cols + xx;
                    if (c[r] != 1) continue;
                    c[r] = 3;
                    stack[n].p = r;
                    stack[n++].x = xx;
                }
            }
        }
    }
    free(stack);
    for (idx_t p = 0; p < total; p++) c[p] = (uint8_t)(c[p] >> 1); /* 3 -> 1; 0, 1 -> 0 (no 2 is left) */
    return 0;
}

PyObject *py_canny_hysteresis(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cls_o;
    Py_ssize_t rows, cols;
    if (!PyArg_ParseTuple(args, "Onn", &cls_o, &rows, &cols)) return NULL;
    if (rows < 1 || cols < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: canny_hysteresis needs rows, cols >= 1");
        return NULL;
    }
    Py_buffer cls;
    if (get_array(cls_o, &cls, 1, "cls") < 0) return NULL;
    PyObject *result = NULL;
    int status = 0;
    if (element_type(&cls) != T_U8) {
        PyErr_SetString(PyExc_TypeError, "engine: canny_hysteresis takes a uint8 array");
        goto done;
    }
    if (check_plane(&cls, rows, cols) < 0) goto done;
    Py_BEGIN_ALLOW_THREADS status = hysteresis((uint8_t *)cls.buf, rows, cols);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&cls);
    return result;
}
