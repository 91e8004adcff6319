/* Body of the bilateral kernels, included once per instruction set
 * (bilateral.c defines SUFFIX and TARGET). See bilateral.c for the contract.
 *
 * The band's block is first copied into one plane per channel in the work
 * type W (float or double), so every loop below runs along a row of
 * contiguous values: for a run of BIL_RUN outputs, each window offset adds
 * its weighted values to sums kept in L1, the range weight gathered from
 * the table (integer images) or computed by exp_* (floats). */

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

#define W float
#define WN f32
#define EXPF NAME(exp_f)
#define ABS fabsf
#define MAGIC 12582912.0f
#include "bilateral_work.h"
#undef W
#undef WN
#undef EXPF
#undef ABS
#undef MAGIC

#define W double
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

TARGET static int NAME(bilateral_run)(const bil_t *b) {
    return b->wide ? NAME(run_f64)(b) : NAME(run_f32)(b);
}

#undef NAME
#undef CAT
#undef CAT2
