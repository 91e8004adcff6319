/* Body of the linear kernels, included once per instruction set (linear.c
 * defines SUFFIX and TARGET): tap correlation over any geometry, and the
 * separable 2-D pass with its running sums and its rounding store. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Float sources: VEC outputs at a time keep their sums in registers over
 * all taps. Integer sources: a slice of outputs at a time, each tap one
 * multiply-add over a contiguous run while the slice is in L1 (the
 * compiler vectorizes the conversion well only in that shape: measured,
 * the register form runs 4-7x slower there). */
#define VEC 16
#define SLICE 512
#define IS_FLOAT(T) ((T)0.5 != (T)0)
#define IS_FLOAT_T(T) ((T)0.5 != (T)0)


#include "f64_blocks.h"

/* d[i] = sum_t w[t] * s[off[t] + i], i < n, summed in tap order in DT. */
#define DEFINE_RUN(SN, ST, DN, DT)                                                          \
    TARGET static void NAME(run_##SN##_##DN)(const ST *s, DT *restrict d, idx_t n,           \
                                              const idx_t *off, const DT *w, idx_t ntaps) {   \
        if (IS_FLOAT(ST)) {                                                                  \
            idx_t i = 0;                                                                     \
            if (IS_F64(ST) && IS_F64(DT))                                                    \
                i = F64_OFFS16((const double *)(const void *)s, (double *)(void *)d, n, off,  \
                               (const double *)(const void *)w, ntaps);                      \
            for (; i + VEC <= n; i += VEC) {                                                 \
                DT acc[VEC];                                                                 \
                const ST *p = s + i + off[0];                                                \
                for (int j = 0; j < VEC; j++) acc[j] = w[0] * (DT)p[j];                      \
                for (idx_t t = 1; t < ntaps; t++) {                                          \
                    const ST *q = s + i + off[t];                                            \
                    DT wk = w[t];                                                            \
                    for (int j = 0; j < VEC; j++) acc[j] += wk * (DT)q[j];                   \
                }                                                                            \
                for (int j = 0; j < VEC; j++) d[i + j] = acc[j];                             \
            }                                                                                \
            for (; i < n; i++) {                                                             \
                DT acc = w[0] * (DT)s[i + off[0]];                                           \
                for (idx_t t = 1; t < ntaps; t++) acc += w[t] * (DT)s[i + off[t]];           \
                d[i] = acc;                                                                  \
            }                                                                                \
            return;                                                                          \
        }                                                                                    \
        for (idx_t i0 = 0; i0 < n; i0 += SLICE) {                                            \
            idx_t m = n - i0 < SLICE ? n - i0 : SLICE;                                       \
            DT *restrict dd = d + i0;                                                        \
            const ST *restrict p = s + i0 + off[0];                                          \
            DT w0 = w[0];                                                                    \
            for (idx_t i = 0; i < m; i++) dd[i] = w0 * (DT)p[i];                             \
            for (idx_t t = 1; t < ntaps; t++) {                                              \
                const ST *restrict q = s + i0 + off[t];                                      \
                DT wk = w[t];                                                                \
                for (idx_t i = 0; i < m; i++) dd[i] += wk * (DT)q[i];                        \
            }                                                                                \
        }                                                                                    \
    }

/* d[i] = sum_t w[t] * rows[t][i]: the vertical taps over rows already in DT. */
#define DEFINE_PRUN(DN, DT)                                                                 \
    TARGET static void NAME(prun_##DN)(const DT *const *rows, DT *restrict d, idx_t n,       \
                                        const DT *w, idx_t ntaps) {                           \
        idx_t i = 0;                                                                         \
        if (IS_F64(DT))                                                                      \
            i = F64_ROWS16((const double *const *)(const void *)rows, (double *)(void *)d, n, \
                           (const double *)(const void *)w, ntaps);                          \
        for (; i + VEC <= n; i += VEC) {                                                     \
            DT acc[VEC];                                                                     \
            for (int j = 0; j < VEC; j++) acc[j] = w[0] * rows[0][i + j];                    \
            for (idx_t t = 1; t < ntaps; t++) {                                              \
                const DT *q = rows[t] + i;                                                   \
                DT wk = w[t];                                                                \
                for (int j = 0; j < VEC; j++) acc[j] += wk * q[j];                           \
            }                                                                                \
            for (int j = 0; j < VEC; j++) d[i + j] = acc[j];                                 \
        }                                                                                    \
        for (; i < n; i++) {                                                                 \
            DT acc = w[0] * rows[0][i];                                                      \
            for (idx_t t = 1; t < ntaps; t++) acc += w[t] * rows[t][i];                      \
            d[i] = acc;                                                                      \
        }                                                                                    \
    }

/* The same over `inner` pixels of `chan` values spaced `step` apart. */
#define DEFINE_STRIDED(SN, ST, DN, DT)                                                      \
    TARGET static void NAME(strided_##SN##_##DN)(const ST *s, DT *restrict d, idx_t inner,   \
                                                  idx_t chan, idx_t step, idx_t dstep,         \
                                                  const idx_t *off, const DT *w, idx_t ntaps) { \
        for (idx_t x = 0; x < inner; x++) {                                                  \
            const ST *p = s + x * step;                                                      \
            DT *q = d + x * dstep;                                                           \
            for (idx_t c = 0; c < chan; c++) {                                               \
                DT acc = w[0] * (DT)p[off[0] + c];                                           \
                for (idx_t t = 1; t < ntaps; t++) acc += w[t] * (DT)p[off[t] + c];           \
                q[c] = acc;                                                                  \
            }                                                                                \
        }                                                                                    \
    }

#define DEFINE_TAPS(SN, ST, DN, DT)                                                         \
    DEFINE_RUN(SN, ST, DN, DT)                                                              \
    DEFINE_STRIDED(SN, ST, DN, DT)                                                          \
    TARGET static void NAME(taps_##SN##_##DN)(const void *src_, void *dst_, const geom_t *g, \
                                               const idx_t *off, const void *w_, idx_t ntaps) { \
        const ST *src = (const ST *)src_;                                                    \
        DT *dst = (DT *)dst_;                                                                \
        const DT *w = (const DT *)w_;                                                        \
        idx_t count[ENGINE_MAX_OUTER] = {0};                                                 \
        idx_t sb = 0, db = 0;                                                                \
        for (;;) {                                                                           \
            if (g->s_step == g->chan && g->d_step == g->chan)                                \
                NAME(run_##SN##_##DN)(src + sb, dst + db, g->inner * g->chan, off, w, ntaps); \
            else                                                                             \
                NAME(strided_##SN##_##DN)(src + sb, dst + db, g->inner, g->chan, g->s_step,  \
                                          g->d_step, off, w, ntaps);                         \
            int a = g->n_outer - 1;                                                          \
            for (; a >= 0; a--) {                                                            \
                sb += g->s_outer[a];                                                         \
                db += g->d_outer[a];                                                         \
                if (++count[a] < g->outer[a]) break;                                         \
                sb -= g->s_outer[a] * count[a];                                              \
                db -= g->d_outer[a] * count[a];                                              \
                count[a] = 0;                                                                \
            }                                                                                \
            if (a < 0) return;                                                               \
        }                                                                                    \
    }

#define FOR_DST(SN, ST)                                                                     \
    DEFINE_TAPS(SN, ST, u8, uint8_t)                                                        \
    DEFINE_TAPS(SN, ST, i8, int8_t)                                                         \
    DEFINE_TAPS(SN, ST, u16, uint16_t)                                                      \
    DEFINE_TAPS(SN, ST, i16, int16_t)                                                       \
    DEFINE_TAPS(SN, ST, u32, uint32_t)                                                      \
    DEFINE_TAPS(SN, ST, i32, int32_t)                                                       \
    DEFINE_TAPS(SN, ST, u64, uint64_t)                                                      \
    DEFINE_TAPS(SN, ST, i64, int64_t)                                                       \
    DEFINE_TAPS(SN, ST, f32, float)                                                         \
    DEFINE_TAPS(SN, ST, f64, double)

FOR_DST(u8, uint8_t)
FOR_DST(i8, int8_t)
FOR_DST(u16, uint16_t)
FOR_DST(i16, int16_t)
FOR_DST(u32, uint32_t)
FOR_DST(i32, int32_t)
FOR_DST(u64, uint64_t)
FOR_DST(i64, int64_t)
FOR_DST(f32, float)
FOR_DST(f64, double)

#define ROW(S)                                                                                   \
    {NAME(taps_##S##_u8),  NAME(taps_##S##_i8),  NAME(taps_##S##_u16), NAME(taps_##S##_i16),      \
     NAME(taps_##S##_u32), NAME(taps_##S##_i32), NAME(taps_##S##_u64), NAME(taps_##S##_i64),      \
     NAME(taps_##S##_f32), NAME(taps_##S##_f64)}
taps_fn NAME(taps_table)[T_COUNT][T_COUNT] = {ROW(u8),  ROW(i8),  ROW(u16), ROW(i16), ROW(u32),
                                              ROW(i32), ROW(u64), ROW(i64), ROW(f32), ROW(f64)};
#undef ROW

/* ---- The separable 2-D pass ------------------------------------------------------------
 * Per output row: the vertical taps (or running sum) into a row buffer of
 * the accumulator type, the horizontal taps (or running sum) into a second
 * one, then the store, which divides, rounds half to even and clips for an
 * integer result. Accumulators: u16, u32, u64 (exact integer sums: unsigned
 * wrap-around cancels in running differences) or f32, f64 (running sums
 * kept in double). */

/* Vertical running sum state update, then the row of sums in the accumulator. */
#define DEFINE_VRUN(SN, ST, AN, AT, KT)                                                     \
    TARGET static void NAME(vrun_##SN##_##AN)(const ST *s, idx_t R, idx_t k, int first,      \
                                               KT *restrict state, AT *restrict out, idx_t n, \
                                               AT w0) {                                       \
        if (first) {                                                                         \
            for (idx_t i = 0; i < n; i++) state[i] = (KT)s[i];                               \
            for (idx_t t = 1; t < k; t++)                                                    \
                for (idx_t i = 0; i < n; i++) state[i] += (KT)s[t * R + i];                  \
        } else {                                                                             \
            const ST *add = s + (k - 1) * R, *sub = s - R;                                   \
            for (idx_t i = 0; i < n; i++) {                                                  \
                state[i] += (KT)add[i];                                                      \
                state[i] -= (KT)sub[i];                                                      \
            }                                                                                \
        }                                                                                    \
        for (idx_t i = 0; i < n; i++) out[i] = (AT)state[i];                                 \
        if (w0 != (AT)1)                                                                     \
            for (idx_t i = 0; i < n; i++) out[i] *= w0;                                      \
    }

/* Horizontal running sum: prefix sums per channel (in KT), then differences.
 * Up to four channels the running sums stay in registers: read back from
 * cs, each addition waited on a store (grey float32 4K box 31, one thread:
 * the prefix took 88% of the kernel). The same additions in the same order. */
#define HRUN_PREFIX(KT, C)                                                                  \
    do {                                                                                     \
        KT r[C];                                                                             \
        for (int c = 0; c < C; c++) r[c] = cs[c];                                            \
        idx_t i = C;                                                                         \
        for (; i + C <= n; i += C)                                                           \
            for (int c = 0; c < C; c++) cs[i + c] = r[c] = r[c] + (KT)s[i + c];              \
        for (int c = 0; i < n; i++, c++) cs[i] = r[c] + (KT)s[i];                            \
    } while (0)
#define DEFINE_HRUN(AN, AT, KT)                                                             \
    TARGET static void NAME(hrun_##AN)(const AT *s, idx_t cols, idx_t chan, idx_t k,         \
                                        KT *restrict cs, AT *restrict out, AT w0) {           \
        idx_t n = (cols + k - 1) * chan;                                                     \
        for (idx_t c = 0; c < chan; c++) cs[c] = (KT)s[c];                                   \
        if (chan == 1) HRUN_PREFIX(KT, 1);                                                   \
        else if (chan == 2) HRUN_PREFIX(KT, 2);                                              \
        else if (chan == 3) HRUN_PREFIX(KT, 3);                                              \
        else if (chan == 4) HRUN_PREFIX(KT, 4);                                              \
        else                                                                                 \
            for (idx_t i = chan; i < n; i++) cs[i] = cs[i - chan] + (KT)s[i];                \
        for (idx_t c = 0; c < chan; c++) out[c] = (AT)cs[(k - 1) * chan + c];                \
        idx_t m = cols * chan;                                                               \
        const KT *hi = cs + (k - 1) * chan, *lo = cs - chan;                                 \
        for (idx_t i = chan; i < m; i++) out[i] = (AT)(hi[i] - lo[i]);                       \
        if (w0 != (AT)1)                                                                     \
            for (idx_t i = 0; i < m; i++) out[i] *= w0;                                      \
    }

/* Rounds half to even: exact for |v| below 2^mantissa, where it matters. */
#define ROUND_EVEN(WT, BIG, v)                                                              \
    ((v) >= (WT)0 ? ((v) < (WT)BIG ? ((v) + (WT)BIG) - (WT)BIG : (v))                       \
                  : ((v) > -(WT)BIG ? ((v) - (WT)BIG) + (WT)BIG : (v)))

#if defined(ISA_AVX2)
/* The unsigned 8- and 16-bit stores of float32 sums, in AVX2: the same
 * division, max/min (maxps gives its second operand, 0, where v is NaN, as
 * v > 0 ? v : 0 does), then the conversion, which rounds half to even as the
 * magic-number addition does. GCC if-converted the scalar loop's clips into
 * integer blends: 4K RGB uint8 Gaussian, one thread, the store took 10% of
 * the run. Returns how many values it stored (whole blocks). */
TARGET static idx_t NAME(store_small_f32)(const float *a, void *d, idx_t n, float q, int div, float hi,
                                          int wide) {
    const __m256 z = _mm256_setzero_ps(), top = _mm256_set1_ps(hi), qq = _mm256_set1_ps(q);
    idx_t i = 0;
    if (!wide) {
        const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for (; i + 32 <= n; i += 32) {
            __m256i r[4];
            for (int k = 0; k < 4; k++) {
                __m256 v = _mm256_loadu_ps(a + i + 8 * k);
                if (div) v = _mm256_div_ps(v, qq);
                r[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, z), top));
            }
            __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(r[0], r[1]), _mm256_packus_epi32(r[2], r[3]));
            _mm256_storeu_si256((__m256i *)(void *)((uint8_t *)d + i), _mm256_permutevar8x32_epi32(b, order));
        }
    } else {
        for (; i + 16 <= n; i += 16) {
            __m256i r[2];
            for (int k = 0; k < 2; k++) {
                __m256 v = _mm256_loadu_ps(a + i + 8 * k);
                if (div) v = _mm256_div_ps(v, qq);
                r[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, z), top));
            }
            _mm256_storeu_si256((__m256i *)(void *)((uint16_t *)d + i),
                                _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8));
        }
    }
    return i;
}
#define STORE_SMALL_HEAD(AT, WT, DT, HI)                                                    \
    if (sizeof(AT) == 4 && IS_FLOAT_T(AT) && sizeof(WT) == 4 && sizeof(DT) <= 2)             \
        i0 = NAME(store_small_f32)((const float *)(const void *)a, d, n, (float)q, div, (float)(HI), \
                                   sizeof(DT) == 2);
#else
#define STORE_SMALL_HEAD(AT, WT, DT, HI)
#endif

/* Store: out = acc / divide in WT, then (integers) rounded half to even and
 * clipped, NaN -> 0. Results of at most 16 bits clip first and round with
 * one add and subtract of 1.5 * 2^mantissa (exact below 2^(mantissa-1)),
 * branch-free so that the loop vectorizes. */
#define DEFINE_STORE(AN, AT, DN, DT, IS_INT, LO, HI, WN, WT, BIG)                           \
    TARGET static void NAME(store_##AN##_##DN##_##WN)(const void *a_, void *d_, idx_t n,     \
                                                       double divide) {                       \
        const AT *a = (const AT *)a_;                                                        \
        DT *restrict d = (DT *)d_;                                                           \
        WT q = (WT)divide;                                                                   \
        int small = IS_INT && (double)(HI) <= 65535.0 && (double)(LO) >= -32768.0;           \
        if (small) {                                                                         \
            const WT magic = (WT)1.5 * (WT)BIG;                                              \
            const int div = divide != 1.0;                                                   \
            /* Unsigned sums over a positive divisor are neither NaN nor negative:     \
             * without those tests the loop runs 2.5x faster (measured). */              \
            if (!IS_FLOAT_T(AT) && (AT)-1 > (AT)0 && divide > 0.0 && (LO) == 0) {         \
                for (idx_t i = 0; i < n; i++) {                                              \
                    WT v = div ? (WT)a[i] / q : (WT)a[i];                                   \
                    v = v < (WT)(HI) ? v : (WT)(HI);                                         \
                    d[i] = (DT)(int32_t)((v + magic) - magic);                               \
                }                                                                            \
                return;                                                                      \
            }                                                                                \
            if ((LO) == 0) {                                                                 \
                /* One test clips below and maps NaN to 0, as the general loop does. */    \
                idx_t i0 = 0;                                                                \
                STORE_SMALL_HEAD(AT, WT, DT, HI)                                             \
                for (idx_t i = i0; i < n; i++) {                                             \
                    WT v = div ? (WT)a[i] / q : (WT)a[i];                                   \
                    v = v > (WT)0 ? v : (WT)0;                                               \
                    v = v < (WT)(HI) ? v : (WT)(HI);                                         \
                    d[i] = (DT)(int32_t)((v + magic) - magic);                               \
                }                                                                            \
                return;                                                                      \
            }                                                                                \
            if (divide != 1.0) {                                                             \
                for (idx_t i = 0; i < n; i++) {                                              \
                    WT v = (WT)a[i] / q;                                                     \
                    v = v == v ? v : (WT)0;                                                  \
                    v = v < (WT)(LO) ? (WT)(LO) : v;                                         \
                    v = v > (WT)(HI) ? (WT)(HI) : v;                                         \
                    d[i] = (DT)(int32_t)((v + magic) - magic);                               \
                }                                                                            \
            } else {                                                                         \
                for (idx_t i = 0; i < n; i++) {                                              \
                    WT v = (WT)a[i];                                                         \
                    v = v == v ? v : (WT)0;                                                  \
                    v = v < (WT)(LO) ? (WT)(LO) : v;                                         \
                    v = v > (WT)(HI) ? (WT)(HI) : v;                                         \
                    d[i] = (DT)(int32_t)((v + magic) - magic);                               \
                }                                                                            \
            }                                                                                \
            return;                                                                          \
        }                                                                                    \
        for (idx_t i = 0; i < n; i++) {                                                      \
            WT v = (WT)a[i];                                                                 \
            if (divide != 1.0) v = v / q;                                                    \
            if (IS_INT) {                                                                    \
                v = ROUND_EVEN(WT, BIG, v);                                                  \
                d[i] = v != v ? (DT)0 : v <= (WT)(LO) ? (DT)(LO) : v >= (WT)(HI) ? (DT)(HI) : (DT)v; \
            } else {                                                                         \
                d[i] = (DT)v;                                                                \
            }                                                                                \
        }                                                                                    \
    }

#define STORES_W(AN, AT, WN, WT, BIG)                                                       \
    DEFINE_STORE(AN, AT, u8, uint8_t, 1, 0, UINT8_MAX, WN, WT, BIG)                         \
    DEFINE_STORE(AN, AT, i8, int8_t, 1, INT8_MIN, INT8_MAX, WN, WT, BIG)                    \
    DEFINE_STORE(AN, AT, u16, uint16_t, 1, 0, UINT16_MAX, WN, WT, BIG)                      \
    DEFINE_STORE(AN, AT, i16, int16_t, 1, INT16_MIN, INT16_MAX, WN, WT, BIG)                \
    DEFINE_STORE(AN, AT, u32, uint32_t, 1, 0, UINT32_MAX, WN, WT, BIG)                      \
    DEFINE_STORE(AN, AT, i32, int32_t, 1, INT32_MIN, INT32_MAX, WN, WT, BIG)                \
    DEFINE_STORE(AN, AT, u64, uint64_t, 1, 0, UINT64_MAX, WN, WT, BIG)                      \
    DEFINE_STORE(AN, AT, i64, int64_t, 1, INT64_MIN, INT64_MAX, WN, WT, BIG)                \
    DEFINE_STORE(AN, AT, f32, float, 0, 0, 0, WN, WT, BIG)                                  \
    DEFINE_STORE(AN, AT, f64, double, 0, 0, 0, WN, WT, BIG)

#define STORES(AN, AT)                                                                      \
    STORES_W(AN, AT, f32, float, 8388608.0f)                                                \
    STORES_W(AN, AT, f64, double, 4503599627370496.0)

/* Everything the separable pass needs for one accumulator type. */
#define DEFINE_SEP(AN, AT, KT)                                                              \
    DEFINE_HRUN(AN, AT, KT)                                                                 \
    STORES(AN, AT)                                                                          \
    DEFINE_VRUN(u8, uint8_t, AN, AT, KT)                                                    \
    DEFINE_VRUN(u16, uint16_t, AN, AT, KT)                                                  \
    DEFINE_VRUN(i16, int16_t, AN, AT, KT)                                                   \
    DEFINE_VRUN(i8, int8_t, AN, AT, KT)                                                     \
    DEFINE_VRUN(u32, uint32_t, AN, AT, KT)                                                  \
    DEFINE_VRUN(i32, int32_t, AN, AT, KT)                                                   \
    DEFINE_VRUN(u64, uint64_t, AN, AT, KT)                                                  \
    DEFINE_VRUN(i64, int64_t, AN, AT, KT)                                                   \
    DEFINE_VRUN(f32, float, AN, AT, KT)                                                     \
    DEFINE_VRUN(f64, double, AN, AT, KT)

DEFINE_PRUN(u16, uint16_t)
DEFINE_PRUN(u32, uint32_t)
DEFINE_PRUN(u64, uint64_t)
DEFINE_PRUN(f32, float)
DEFINE_PRUN(f64, double)

DEFINE_SEP(u16, uint16_t, uint16_t)
DEFINE_SEP(u32, uint32_t, uint32_t)
DEFINE_SEP(u64, uint64_t, uint64_t)
DEFINE_SEP(f32, float, double)
DEFINE_SEP(f64, double, double)

/* One driver per (source, accumulator): the store is picked by pointer.
 * Sources of another type than the accumulator are converted a row at a
 * time into a ring of the rows the vertical window spans, so each row is
 * converted once, not once per tap. */
#define DEFINE_DRIVER(SN, ST, AN, AT, KT)                                                    \
    TARGET static void NAME(sep_##SN##_##AN)(const void *src_, void *dst_, const sep_t *p,   \
                                              const sep_buffers *b, store_any st) {           \
        const ST *src = (const ST *)src_;                                                    \
        char *dst = (char *)dst_;                                                            \
        const AT *wv = (const AT *)p->wv, *wh = (const AT *)p->wh;                           \
        AT *row = (AT *)b->row;      /* vertical result: the whole block row */             \
        AT *orow = (AT *)b->store;   /* horizontal result, before the store */              \
        AT *ring = (AT *)b->ring;                                                            \
        const AT **ptrs = (const AT **)b->ptrs;                                              \
        idx_t R = p->src_row, m = p->cols * p->chan, next = 0;                               \
        idx_t span = p->voff[p->vtaps - 1] / R + 1;                                          \
        int same = sizeof(ST) == sizeof(AT) && IS_FLOAT_T(ST) == IS_FLOAT_T(AT);             \
        for (idx_t y = 0; y < p->rows; y++) {                                                \
            idx_t base = y * p->vstride;                                                     \
            const ST *s = src + base * R;                                                    \
            if (p->vrun) {                                                                   \
                NAME(vrun_##SN##_##AN)(s, R, p->vtaps, y == 0, (KT *)b->run, row, R, wv[0]); \
            } else if (same) {                                                               \
                for (idx_t t = 0; t < p->vtaps; t++) ptrs[t] = (const AT *)(const void *)(s + p->voff[t]); \
                NAME(prun_##AN)(ptrs, row, R, wv, p->vtaps);                                 \
            } else {                                                                         \
                for (; next < base + span; next++) {                                         \
                    const ST *from = src + next * R;                                         \
                    AT *to = ring + (next % b->ring_rows) * R;                               \
                    for (idx_t i = 0; i < R; i++) to[i] = (AT)from[i];                       \
                }                                                                            \
                for (idx_t t = 0; t < p->vtaps; t++)                                         \
                    ptrs[t] = ring + ((base + p->voff[t] / R) % b->ring_rows) * R;           \
                NAME(prun_##AN)(ptrs, row, R, wv, p->vtaps);                                 \
            }                                                                                \
            AT *h = st ? orow : (AT *)(dst + y * p->dst_row_bytes);                          \
            if (p->hrun)                                                                     \
                NAME(hrun_##AN)(row, p->cols, p->chan, p->htaps, (KT *)b->run + (p->vrun ? R : 0), h, \
                                wh[0]);                                                      \
            else if (p->hstride == 1)                                                        \
                NAME(run_##AN##_##AN)(row, h, m, p->hoff, wh, p->htaps);                     \
            else                                                                             \
                NAME(strided_##AN##_##AN)(row, h, p->cols, p->chan, p->hstride * p->chan,    \
                                          p->chan, p->hoff, wh, p->htaps);                   \
            if (st) st(orow, dst + y * p->dst_row_bytes, m, p->divide);                      \
        }                                                                                    \
    }

#define DRIVERS(SN, ST)                                                                     \
    DEFINE_DRIVER(SN, ST, u16, uint16_t, uint16_t)                                          \
    DEFINE_DRIVER(SN, ST, u32, uint32_t, uint32_t)                                          \
    DEFINE_DRIVER(SN, ST, u64, uint64_t, uint64_t)                                          \
    DEFINE_DRIVER(SN, ST, f32, float, double)                                               \
    DEFINE_DRIVER(SN, ST, f64, double, double)

DRIVERS(u8, uint8_t)
DRIVERS(i8, int8_t)
DRIVERS(u16, uint16_t)
DRIVERS(i16, int16_t)
DRIVERS(u32, uint32_t)
DRIVERS(i32, int32_t)
DRIVERS(u64, uint64_t)
DRIVERS(i64, int64_t)
DRIVERS(f32, float)
DRIVERS(f64, double)

/* Accumulator index: 0 u16, 1 u32, 2 u64, 3 f32, 4 f64 (engine.h's SEP_ACC_*). */
#define DROW(S) {NAME(sep_##S##_u16), NAME(sep_##S##_u32), NAME(sep_##S##_u64), NAME(sep_##S##_f32), NAME(sep_##S##_f64)}
sep_fn NAME(sep_table)[T_COUNT][SEP_ACC_COUNT] = {DROW(u8),  DROW(i8),  DROW(u16), DROW(i16), DROW(u32),
                                                  DROW(i32), DROW(u64), DROW(i64), DROW(f32), DROW(f64)};
#undef DROW

#define SROW_W(A, WN)                                                                             \
    {NAME(store_##A##_u8_##WN),  NAME(store_##A##_i8_##WN),                 \
     NAME(store_##A##_u16_##WN), NAME(store_##A##_i16_##WN),                \
     NAME(store_##A##_u32_##WN), NAME(store_##A##_i32_##WN),                \
     NAME(store_##A##_u64_##WN), NAME(store_##A##_i64_##WN),                \
     NAME(store_##A##_f32_##WN), NAME(store_##A##_f64_##WN)}
#define SROW(A) {SROW_W(A, f32), SROW_W(A, f64)}
/* store_table[accumulator][work is f64][destination type] */
store_any NAME(store_table)[SEP_ACC_COUNT][2][T_COUNT] = {SROW(u16), SROW(u32), SROW(u64), SROW(f32), SROW(f64)};
#undef SROW
#undef SROW_W

#undef DRIVERS
#undef DEFINE_DRIVER
#undef DEFINE_SEP
#undef STORES
#undef STORES_W
#undef DEFINE_STORE
#undef STORE_SMALL_HEAD
#undef ROUND_EVEN
#undef DEFINE_HRUN
#undef HRUN_PREFIX
#undef DEFINE_VRUN
#undef FOR_DST
#undef DEFINE_TAPS
#undef DEFINE_STRIDED
#undef DEFINE_RUN
#undef SLICE
#undef VEC
#undef F64_ROWS16
#undef F64_OFFS16
#undef IS_F64
#undef IS_FLOAT
#undef IS_FLOAT_T
#undef DEFINE_PRUN
#undef NAME
#undef CAT
#undef CAT2
