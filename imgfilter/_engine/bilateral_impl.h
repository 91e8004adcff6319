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

/* exp(x) for x <= 0 (a NaN stays NaN), within a few ulp of the libm one:
 * Cody-Waite reduction x = n ln2 + r, a polynomial in r, 2^n from bits.
 * Plain arithmetic and selects only, so the loop around it vectorizes and
 * both instruction sets give the same bits (no contraction). */
TARGET static inline __attribute__((always_inline)) float NAME(exp_f)(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float xc = x >= -87.0f ? x : -87.0f; /* NaN and far-negative x: a finite stand-in */
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    int32_t tb, mb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    int32_t bits = (tb - mb + 127) * (int32_t)(1 << 23); /* 2^n, n in [-126, 0] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    p = p * scale;
    p = x >= -87.0f ? p : 0.0f; /* exp below -87 is under 1.7e-38: counts as 0 */
    return x == x ? p : x;
}

TARGET static inline __attribute__((always_inline)) double NAME(exp_d)(double x) {
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
