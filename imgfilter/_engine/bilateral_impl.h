/* Body of the bilateral kernels, included once per instruction set
 * (bilateral.c defines SUFFIX and TARGET). See bilateral.c for the contract.
 *
 * The band's block is first copied into one plane per channel in the work
 * type W (float or double), so every loop below runs along a row of
 * contiguous values: for a run of BIL_RUN outputs, each window offset adds
 * its weighted values to sums kept in L1, the range weight gathered from
 * the table (integer images) or computed by exp_* (floats). In the AVX2
 * pass, table-weighted runs without alpha or missing pixels go 16 outputs
 * at a time with the taps innermost instead (lut_block_f32): the sums then
 * never leave registers, as in OpenCV 5.1's 8-bit kernel. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* exp(x) for x <= 0 (NaN gives NaN) in float, within a few ulp of the libm
 * one: exp(-i/32) from the table (tab = bil_exp_table, whose last entry, 0,
 * stands for everything below -87.5) times a cubic for the remaining
 * exp(-g), 0 <= g < 1/32 (truncation error under 4e-8). Plain arithmetic,
 * integer selects and one gather: a float select beside the gather makes
 * GCC give up vectorizing, so clipping and NaN work on the bits. Both
 * instruction sets give the same bits (no contraction). */
TARGET static inline __attribute__((always_inline)) float NAME(exp_f)(const float *tab, float x) {
    float u = x * -(float)BIL_EXP_STEPS, last = (float)BIL_EXP_LAST;
    /* u clipped to [0, last]: without the sign bit, NaN and inf lie above every finite float. */
    int32_t ub, lb, xb, pb;
    memcpy(&ub, &u, sizeof ub);
    memcpy(&lb, &last, sizeof lb);
    ub &= 0x7fffffff;
    ub = ub < lb ? ub : lb;
    memcpy(&u, &ub, sizeof u);
    int32_t i = (int32_t)u;
    float g = (u - (float)i) * (1.0f / (float)BIL_EXP_STEPS);
    float p = g * (-1.0f / 6.0f) + 0.5f;
    p = p * g - 1.0f;
    p = p * g + 1.0f;
    /* A NaN x makes p a NaN (all ones where NaN has them): the product is NaN. */
    memcpy(&xb, &x, sizeof xb);
    memcpy(&pb, &p, sizeof pb);
    pb |= ((int32_t)0x7f800000 - (xb & 0x7fffffff)) >> 31 & 0x7fc00000;
    memcpy(&p, &pb, sizeof p);
    return tab[i] * p;
}

/* exp(x) for x <= 0 (a NaN stays NaN) in double, within a few ulp: Cody-Waite
 * reduction x = n ln2 + r, a polynomial in r, 2^n from bits. */
TARGET static inline __attribute__((always_inline)) double NAME(exp_d)(const float *tab, double x) {
    (void)tab;
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double xc = x >= -708.0 ? x : -708.0;
    double t = xc * 1.4426950408889634074 + magic;
    double n = t - magic;
    double r = xc - n * 6.93147180369123816490e-01; /* ln2 high part (exact product) */
    r = r - n * 1.90821492927058770002e-10;      /* ln2 low part */
    /* Taylor series to r^12: |r| <= 0.35 leaves an error under 2e-16. */
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t tb, mb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    int64_t bits = (tb - mb + 1023) * ((int64_t)1 << 52); /* 2^n, n in [-1022, 0] */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    p = p * scale;
    p = x >= -708.0 ? p : 0.0;
    return x == x ? p : x;
}

#if defined(BIL_X86) && defined(ISA_AVX2)
/* The table-weighted sums (no alpha, no missing pixels) of 16 outputs at a
 * time, the taps innermost so the sums stay in registers: the scalar
 * loops' operations in the same order per output, so the same bits.
 * Writes num and den for outputs [0, returned count); the caller's loops
 * take the rest. */
TARGET static inline __attribute__((always_inline)) idx_t NAME(lut_block_f32)(
    const bil_t *b, const float *P, const float *sw, idx_t base, idx_t n, float (*num)[BIL_RUN],
    float *den, const idx_t C) {
    const idx_t np = b->npix;
    const float *lut = b->lut;
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    idx_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256 cv[4][2], acc[4][2], dn[2];
        const float *cp = P + base + b->centre + j;
        for (idx_t c = 0; c < C; c++)
            for (int k = 0; k < 2; k++) {
                cv[c][k] = _mm256_loadu_ps(cp + c * np + 8 * k);
                acc[c][k] = _mm256_setzero_ps();
            }
        dn[0] = dn[1] = _mm256_setzero_ps();
        for (idx_t t = 0; t < b->ntaps; t++) {
            const float *q = P + base + b->off[t] + j;
            const __m256 swt = _mm256_set1_ps(sw[t]);
            for (int k = 0; k < 2; k++) {
                __m256 qv[4];
                qv[0] = _mm256_loadu_ps(q + 8 * k);
                __m256 d = _mm256_and_ps(_mm256_sub_ps(qv[0], cv[0][k]), absm);
                for (idx_t c = 1; c < C; c++) {
                    qv[c] = _mm256_loadu_ps(q + c * np + 8 * k);
                    d = _mm256_add_ps(d, _mm256_and_ps(_mm256_sub_ps(qv[c], cv[c][k]), absm));
                }
                __m256 wgt = _mm256_mul_ps(_mm256_i32gather_ps(lut, _mm256_cvttps_epi32(d), 4), swt);
                dn[k] = _mm256_add_ps(dn[k], wgt);
                for (idx_t c = 0; c < C; c++) acc[c][k] = _mm256_add_ps(acc[c][k], _mm256_mul_ps(qv[c], wgt));
            }
        }
        for (int k = 0; k < 2; k++) {
            _mm256_storeu_ps(den + j + 8 * k, dn[k]);
            for (idx_t c = 0; c < C; c++) _mm256_storeu_ps(num[c] + j + 8 * k, acc[c][k]);
        }
    }
    return j;
}
#define BIL_LUT_BLOCK 1
#endif

#define W float
#define WN f32
#define WF32 1
#define EXPF NAME(exp_f)
#define ABS fabsf
#define MAGIC 12582912.0f
#include "bilateral_work.h"
#undef W
#undef WN
#undef WF32
#undef EXPF
#undef ABS
#undef MAGIC

#define W double
#define WF32 0
#define WN f64
#define EXPF NAME(exp_d)
#define ABS fabs
#define MAGIC 6755399441055744.0
#include "bilateral_work.h"
#undef W
#undef WN
#undef EXPF
#undef ABS
#undef MAGIC
#undef WF32
#undef BIL_LUT_BLOCK

TARGET static int NAME(bilateral_run)(const bil_t *b) {
    return b->wide ? NAME(run_f64)(b) : NAME(run_f32)(b);
}

#undef NAME
#undef CAT
#undef CAT2
