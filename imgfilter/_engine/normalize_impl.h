/* Body of the weighted normalization's division, included once per
 * instruction set (normalize.c defines SUFFIX and TARGET). Blocks of
 * pixels: the weight sums are widened to the value type and spread over
 * the channels into a row buffer, then one contiguous loop divides, so the
 * division runs on full vectors (a per-pixel broadcast of one weight over
 * three channels does not vectorize). The loop's selects are bit blends
 * (SEL32/SEL64): gcc keeps a float ?: as a branch under -ftrapping-math. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

#define DEFINE_DIVIDE(FN, NT, DT, FABS, SEL)                                                        \
    TARGET static void NAME(FN)(void *num_, const void *den_, const divide_args *a, void *buf_) {   \
        NT *num = (NT *)num_, *restrict buf = (NT *)buf_;                                             \
        const DT *den = (const DT *)den_;                                                            \
        const idx_t cn = a->cn, cd = a->cd;                                                          \
        /* DT -> NT widens exactly, so comparisons in NT are those in DT. Sentinels stand for   \
         * an option that is off: no weight sum equals NaN, none has |d| <= -1. */               \
        const NT full = a->has_full ? (NT)(DT)a->full : (NT)NAN;                                     \
        const NT tiny = a->has_tiny ? (NT)(DT)a->tiny : (NT)-1;                                      \
        const NT total = (NT)a->total, one = (NT)1, nan = (NT)NAN;                                   \
        for (idx_t p0 = 0; p0 < a->pixels; p0 += DIVIDE_BLOCK) {                                   \
            idx_t np = a->pixels - p0 < DIVIDE_BLOCK ? a->pixels - p0 : DIVIDE_BLOCK;              \
            idx_t m = np * cn;                                                                       \
            NT *restrict x = num + p0 * cn;                                                          \
            const DT *restrict w = den + p0 * cd;                                                    \
            if (cd == cn) {                                                                          \
                for (idx_t i = 0; i < m; i++) buf[i] = (NT)w[i];                                    \
            } else if (cn == 3) { /* RGB: the common spread, unrolled */                           \
                for (idx_t p = 0; p < np; p++) {                                                     \
                    NT v = (NT)w[p];                                                                 \
                    buf[3 * p] = v;                                                                  \
                    buf[3 * p + 1] = v;                                                              \
                    buf[3 * p + 2] = v;                                                              \
                }                                                                                    \
            } else {                                                                                 \
                for (idx_t p = 0; p < np; p++)                                                       \
                    for (idx_t c = 0; c < cn; c++) buf[p * cn + c] = (NT)w[p];                       \
            }                                                                                        \
            for (idx_t i = 0; i < m; i++) {                                                          \
                NORMALIZE_DIVIDE(NT, x[i], buf[i], full, tiny, total, one, nan, FABS, SEL);           \
            }                                                                                        \
        }                                                                                            \
    }

DEFINE_DIVIDE(divide_f32_f32, float, float, fabsf, sel32)
DEFINE_DIVIDE(divide_f64_f64, double, double, fabs, sel64)
DEFINE_DIVIDE(divide_f64_f32, double, float, fabs, sel64)

const divide_fn NAME(divide_table)[3] = {NAME(divide_f32_f32), NAME(divide_f64_f64), NAME(divide_f64_f32)};

#undef DEFINE_DIVIDE
#undef NAME
#undef CAT
#undef CAT2
