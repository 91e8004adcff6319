/* float64 taps in blocks of 16 outputs, for linear_impl.h and
 * linear_idx_impl.h: included once per instruction set by each (no include
 * guard; they undefine its macros after use). Needs NAME, TARGET, IS_FLOAT,
 * idx_t and, for AVX2, <immintrin.h>. */

/* 16 outputs in four AVX2 registers: GCC's own code for the
 * VEC loops of doubles loaded them one at a time and kept the sums on the
 * stack (1080p uint8 unsharp, one thread: 118.9 -> 44.9 ms). The
 * same products added in the same order as those loops, so the same bits.
 * F64_ROWS16: d[i] = sum_t w[t] * rows[t][i]; F64_OFFS16: ... s[off[t] + i];
 * both return how many outputs they did (a multiple of 16; 0 in the
 * baseline build, whose loops below do everything). */
#if defined(ISA_AVX2)
/* The block loop over taps whose t-th source row starts at ROW(t). */
#define F64_BLOCK_LOOP(ROW)                                                                    \
    idx_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) {                                                             \
        const __m256d w0 = _mm256_set1_pd(w[0]);                                               \
        const double *q = ROW(0) + i;                                                          \
        __m256d a0 = _mm256_mul_pd(w0, _mm256_loadu_pd(q));                                    \
        __m256d a1 = _mm256_mul_pd(w0, _mm256_loadu_pd(q + 4));                                \
        __m256d a2 = _mm256_mul_pd(w0, _mm256_loadu_pd(q + 8));                                \
        __m256d a3 = _mm256_mul_pd(w0, _mm256_loadu_pd(q + 12));                               \
        for (idx_t t = 1; t < ntaps; t++) {                                                    \
            const __m256d wk = _mm256_set1_pd(w[t]);                                           \
            const double *r = ROW(t) + i;                                                      \
            a0 = _mm256_add_pd(a0, _mm256_mul_pd(wk, _mm256_loadu_pd(r)));                     \
            a1 = _mm256_add_pd(a1, _mm256_mul_pd(wk, _mm256_loadu_pd(r + 4)));                 \
            a2 = _mm256_add_pd(a2, _mm256_mul_pd(wk, _mm256_loadu_pd(r + 8)));                 \
            a3 = _mm256_add_pd(a3, _mm256_mul_pd(wk, _mm256_loadu_pd(r + 12)));                \
        }                                                                                      \
        _mm256_storeu_pd(d + i, a0);                                                           \
        _mm256_storeu_pd(d + i + 4, a1);                                                       \
        _mm256_storeu_pd(d + i + 8, a2);                                                       \
        _mm256_storeu_pd(d + i + 12, a3);                                                      \
    }                                                                                          \
    return i;
#define F64_ROW_OF_ROWS(t) rows[t]
#define F64_ROW_OF_OFFS(t) (s + off[t])
TARGET static __attribute__((unused)) idx_t NAME(f64_rows16)(const double *const *rows, double *restrict d, idx_t n,
                                                             const double *w, idx_t ntaps) {
    F64_BLOCK_LOOP(F64_ROW_OF_ROWS)
}
TARGET static __attribute__((unused)) idx_t NAME(f64_offs16)(const double *s, double *restrict d, idx_t n,
                                                             const idx_t *off, const double *w, idx_t ntaps) {
    F64_BLOCK_LOOP(F64_ROW_OF_OFFS)
}
#undef F64_BLOCK_LOOP
#undef F64_ROW_OF_ROWS
#undef F64_ROW_OF_OFFS
#define F64_ROWS16(rows, d, n, w, ntaps) NAME(f64_rows16)(rows, d, n, w, ntaps)
#define F64_OFFS16(s, d, n, off, w, ntaps) NAME(f64_offs16)(s, d, n, off, w, ntaps)
#else
#define F64_ROWS16(rows, d, n, w, ntaps) ((void)(rows), (void)(d), (void)(w), (idx_t)0)
#define F64_OFFS16(s, d, n, off, w, ntaps) ((void)(s), (void)(d), (void)(off), (void)(w), (idx_t)0)
#endif
#define IS_F64(T) (sizeof(T) == 8 && IS_FLOAT(T))
