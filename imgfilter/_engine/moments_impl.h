/* Body of the local statistics' finish (moments.c), included once per
 * instruction set: per value, the variance from its window's sums and count,
 * in the order and with the operations of the numpy transcription it
 * replaced (tests/test_moments.py keeps that one as its oracle), so the
 * same bits. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* sqrt of m doubles in place, in vector registers: GCC keeps sqrt() a scalar
 * call for errno (nothing here is negative but NaN, which sets none). */
TARGET static void NAME(root_block)(double *v, idx_t m) {
    idx_t i = 0;
#if defined(ISA_AVX2)
    for (; i + 4 <= m; i += 4) _mm256_storeu_pd(v + i, _mm256_sqrt_pd(_mm256_loadu_pd(v + i)));
#elif defined(__SSE2__)
    for (; i + 2 <= m; i += 2) _mm_storeu_pd(v + i, _mm_sqrt_pd(_mm_loadu_pd(v + i)));
#endif
    for (; i < m; i++) v[i] = sqrt(v[i]);
}

/* OT: the output's type; CT: the counts' (none: every count is `full`).
 * Value e's count is n[e / per] (per: 1, or the values of a pixel where one
 * count serves its channels), spread into a block of doubles first so that
 * the arithmetic runs as one flat loop (cb: a->block doubles, then the values). x - 0.0 is x, so ddof 0 divides by
 * the count itself, as the transcription did. */
#define DEFINE_FINISH(FN, OT, CT)                                                                 \
    TARGET static void NAME(FN)(const double *restrict s1, const double *restrict s2,              \
                                const CT *restrict n, idx_t per, double full, idx_t m,             \
                                const moments_args *a, double *restrict cb, OT *restrict out) {    \
        const double tiny = MOMENTS_TINY, dd = (double)a->ddof, nan = NAN;                        \
        const int few = a->few, root = a->root;                                                    \
        const idx_t bl = a->block;                                                                 \
        for (idx_t b0 = 0; b0 < m; b0 += bl) {                                                     \
            const idx_t k = m - b0 < bl ? m - b0 : bl;                                             \
            if (!n) {                                                                              \
                for (idx_t i = 0; i < k; i++) cb[i] = full;                                        \
            } else if (per == 1) {                                                                 \
                for (idx_t i = 0; i < k; i++) cb[i] = (double)n[b0 + i];                           \
            } else { /* blocks hold whole pixels (a->block, a multiple of per) */                  \
                const CT *np = n + b0 / per;                                                       \
                for (idx_t q = 0; q < k / per; q++)                                                \
                    for (idx_t c = 0; c < per; c++) cb[q * per + c] = (double)np[q];               \
            }                                                                                      \
            const double *restrict x1 = s1 + b0, *restrict x2 = s2 + b0;                           \
            OT *restrict o = out + b0;                                                             \
            for (idx_t i = 0; i < k; i++) {                                                        \
                const double c = cb[i];                                                            \
                const double mean_sq = x2[i] / c;                                                  \
                double v = x1[i] * x1[i] / c;                                                      \
                v = (x2[i] - v) / (c - dd);                                                        \
                v = v <= mean_sq * tiny ? 0.0 : v;                                                 \
                cb[i] = few && c <= dd ? nan : v;                                                  \
            }                                                                                      \
            if (root) NAME(root_block)(cb, k);                                                     \
            for (idx_t i = 0; i < k; i++) o[i] = (OT)cb[i];                                        \
        }                                                                                          \
    }
DEFINE_FINISH(fin_f32_none, float, double)
DEFINE_FINISH(fin_f32_f32, float, float)
DEFINE_FINISH(fin_f32_f64, float, double)
DEFINE_FINISH(fin_f64_none, double, double)
DEFINE_FINISH(fin_f64_f32, double, float)
DEFINE_FINISH(fin_f64_f64, double, double)
#undef DEFINE_FINISH

/* The kernels and their arguments' types: [output float64][counts: none, float32, float64]. */
static void NAME(finish)(const double *s1, const double *s2, const void *n, int out64, int nt, idx_t per,
                         double full, idx_t m, const moments_args *a, double *cb, void *out) {
    if (!out64) {
        if (nt == 0) NAME(fin_f32_none)(s1, s2, NULL, per, full, m, a, cb, (float *)out);
        else if (nt == 1) NAME(fin_f32_f32)(s1, s2, (const float *)n, per, full, m, a, cb, (float *)out);
        else NAME(fin_f32_f64)(s1, s2, (const double *)n, per, full, m, a, cb, (float *)out);
    } else {
        if (nt == 0) NAME(fin_f64_none)(s1, s2, NULL, per, full, m, a, cb, (double *)out);
        else if (nt == 1) NAME(fin_f64_f32)(s1, s2, (const float *)n, per, full, m, a, cb, (double *)out);
        else NAME(fin_f64_f64)(s1, s2, (const double *)n, per, full, m, a, cb, (double *)out);
    }
}
