/* Body of the pooling kernels, included once per instruction set (pool.c
 * defines SUFFIX and TARGET). One output row at a time: the window's rows
 * are folded into a row buffer (contiguous, vectorized), then the window's
 * columns (vectorized along the row), then every sx-th pixel is kept.
 * Folds run in the window's order, as numpy's fold of views did. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

#define OP_MAX(a, b) ((a) > (b) || (a) != (a) ? (a) : (b))
#define OP_MIN(a, b) ((a) < (b) || (a) != (a) ? (a) : (b))
#define OP_FMAX(a, b) ((a) > (b) || (b) != (b) ? (a) : (b))
#define OP_FMIN(a, b) ((a) < (b) || (b) != (b) ? (a) : (b))
#define OP_SUM(a, b) ((a) + (b))
#define LOAD_PLAIN(p, i) ((p)[i])
#define LOAD_DEC8(p, i) (codec_dec8[(p)[i]])
#define LOAD_DEC16(p, i) (codec_dec16[(p)[i]])

#define DEFINE_POOL(FN, STYPE, ATYPE, OP, LOAD)                                                   \
    TARGET static void NAME(FN)(const void *src_, void *dst_, const pool_geom *g, void *buf_) {   \
        const STYPE *src = (const STYPE *)src_;                                                    \
        ATYPE *dst = (ATYPE *)dst_;                                                                \
        ATYPE *acc = (ATYPE *)buf_;                                                                \
        /* Locals: stores through uint8_t pointers could alias *g. */                             \
        const idx_t span = g->span, rows = g->rows, cols = g->cols, row = g->row;                  \
        const idx_t ky = g->ky, kx = g->kx, sy = g->sy, sx = g->sx;                                \
        ATYPE *hor = acc + span;                                                                   \
        const idx_t C = g->chan, W = cols * C;                                                     \
        const idx_t hn = ((cols - 1) * sx + 1) * C;                                                \
        for (idx_t y = 0; y < rows; y++) {                                                      \
            const STYPE *s = src + y * sy * row;                                             \
            for (idx_t j = 0; j < span; j++) acc[j] = (ATYPE)LOAD(s, j);                        \
            for (idx_t i = 1; i < ky; i++) {                                                    \
                const STYPE *r = s + i * row;                                                   \
                for (idx_t j = 0; j < span; j++) {                                              \
                    ATYPE v = (ATYPE)LOAD(r, j);                                                   \
                    acc[j] = OP(acc[j], v);                                                        \
                }                                                                                  \
            }                                                                                      \
            ATYPE *d = dst + y * W;                                                                \
            ATYPE *h = sx == 1 ? d : hor;                                                       \
            if (kx == 1) {                                                                      \
                for (idx_t j = 0; j < hn; j++) h[j] = acc[j];                                      \
            } else {                                                                               \
                for (idx_t j = 0; j < hn; j++) h[j] = OP(acc[j], acc[j + C]);                      \
                for (idx_t t = 2; t < kx; t++) {                                                \
                    const ATYPE *q = acc + t * C;                                                  \
                    for (idx_t j = 0; j < hn; j++) h[j] = OP(h[j], q[j]);                          \
                }                                                                                  \
            }                                                                                      \
            if (sx != 1) {                                                                      \
                idx_t step = sx * C;                                                            \
                if (C == 1) {                                                                      \
                    for (idx_t x = 0; x < cols; x++) d[x] = hor[x * step];                      \
                } else if (C == 3) {                                                               \
                    for (idx_t x = 0; x < cols; x++) {                                          \
                        d[3 * x] = hor[x * step];                                                  \
                        d[3 * x + 1] = hor[x * step + 1];                                          \
                        d[3 * x + 2] = hor[x * step + 2];                                          \
                    }                                                                              \
                } else if (C == 4) {                                                               \
                    for (idx_t x = 0; x < cols; x++)                                            \
                        for (int c = 0; c < 4; c++) d[4 * x + c] = hor[x * step + c];              \
                } else {                                                                           \
                    for (idx_t x = 0; x < cols; x++)                                            \
                        for (idx_t c = 0; c < C; c++) d[x * C + c] = hor[x * step + c];            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_MAXMIN(TN, T)                                  \
    DEFINE_POOL(pool_max_##TN, T, T, OP_MAX, LOAD_PLAIN)      \
    DEFINE_POOL(pool_min_##TN, T, T, OP_MIN, LOAD_PLAIN)
DEFINE_MAXMIN(u8, uint8_t)
DEFINE_MAXMIN(i8, int8_t)
DEFINE_MAXMIN(u16, uint16_t)
DEFINE_MAXMIN(i16, int16_t)
DEFINE_MAXMIN(u32, uint32_t)
DEFINE_MAXMIN(i32, int32_t)
DEFINE_MAXMIN(u64, uint64_t)
DEFINE_MAXMIN(i64, int64_t)
DEFINE_MAXMIN(f32, float)
DEFINE_MAXMIN(f64, double)
DEFINE_POOL(pool_fmax_f32, float, float, OP_FMAX, LOAD_PLAIN)
DEFINE_POOL(pool_fmin_f32, float, float, OP_FMIN, LOAD_PLAIN)
DEFINE_POOL(pool_fmax_f64, double, double, OP_FMAX, LOAD_PLAIN)
DEFINE_POOL(pool_fmin_f64, double, double, OP_FMIN, LOAD_PLAIN)
DEFINE_POOL(pool_sum_f32, float, float, OP_SUM, LOAD_PLAIN)
DEFINE_POOL(pool_sum_f64, double, double, OP_SUM, LOAD_PLAIN)
DEFINE_POOL(pool_sum_dec8, uint8_t, float, OP_SUM, LOAD_DEC8)
DEFINE_POOL(pool_sum_dec16, uint16_t, float, OP_SUM, LOAD_DEC16)
DEFINE_POOL(pool_sum_u8f, uint8_t, float, OP_SUM, LOAD_PLAIN)
DEFINE_POOL(pool_sum_u16f, uint16_t, float, OP_SUM, LOAD_PLAIN)

#define MM(TN) {NAME(pool_max_##TN), NAME(pool_min_##TN)}
static const pool_fn NAME(pool_maxmin)[T_COUNT][2] = {MM(u8), MM(i8), MM(u16), MM(i16), MM(u32),
                                                     MM(i32), MM(u64), MM(i64), MM(f32), MM(f64)};
static const pool_fn NAME(pool_fmaxmin)[2][2] = {{NAME(pool_fmax_f32), NAME(pool_fmin_f32)},
                                                 {NAME(pool_fmax_f64), NAME(pool_fmin_f64)}};
static const pool_fn NAME(pool_sums)[6] = {NAME(pool_sum_f32), NAME(pool_sum_f64), NAME(pool_sum_dec8),
                                           NAME(pool_sum_dec16), NAME(pool_sum_u8f), NAME(pool_sum_u16f)};
#undef MM
#undef DEFINE_MAXMIN
#undef DEFINE_POOL
#undef NAME
#undef CAT
#undef CAT2
