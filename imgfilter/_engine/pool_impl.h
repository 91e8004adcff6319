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

/* Fused averages: the same folds in the same order as DEFINE_POOL's sums,
 * visited in chunks of a row so the buffers stay in L1, and the division by
 * the window's count done at the store (the same correctly rounded IEEE
 * division numpy did after the sums, so the means are bit for bit the same).
 * MEAN: divide by the image pixels of the (clipped) window, cy[y] * cx[x].
 * NANMEAN: NaN values weigh 0; the sums of values and of weights are folded
 * together and divided (0/0: NaN where nothing is valid). */
#define POOL_CHUNK 1536

/* h[j] = acc[j] + acc[j + C] + ... (kx terms, left to right) over n items. */
#define COLSUM(AT, h, acc, n)                                                                      \
    if (kx == 1) {                                                                                 \
        for (idx_t j = 0; j < (n); j++) (h)[j] = (acc)[j];                                         \
    } else {                                                                                       \
        for (idx_t j = 0; j < (n); j++) (h)[j] = (acc)[j] + (acc)[j + C];                          \
        for (idx_t t = 2; t < kx; t++) {                                                           \
            const AT *q = (acc) + t * C;                                                           \
            for (idx_t j = 0; j < (n); j++) (h)[j] = (h)[j] + q[j];                                \
        }                                                                                          \
    }

/* out[x * C + c] = h[x * sx * C + c] for m pixels: every sx-th pixel kept.
 * Three channels copy four items at a time (the fourth is overwritten by the
 * next pixel; the last pixel copies its three). */
#define COMPACT(AT, out, h, m)                                                                     \
    if (C == 3) {                                                                                  \
        for (idx_t x = 0; x + 1 < (m); x++) memcpy((out) + 3 * x, (h) + 3 * sx * x, 4 * sizeof(AT)); \
        if ((m) > 0) {                                                                             \
            for (int c = 0; c < 3; c++) (out)[3 * ((m) - 1) + c] = (h)[3 * sx * ((m) - 1) + c];    \
        }                                                                                          \
    } else if (C == 1) {                                                                           \
        for (idx_t x = 0; x < (m); x++) (out)[x] = (h)[sx * x];                                    \
    } else if (C == 4) {                                                                           \
        for (idx_t x = 0; x < (m); x++) memcpy((out) + 4 * x, (h) + 4 * sx * x, 4 * sizeof(AT));   \
    } else {                                                                                       \
        for (idx_t x = 0; x < (m); x++)                                                            \
            for (idx_t c = 0; c < C; c++) (out)[x * C + c] = (h)[x * sx * C + c];                  \
    }

#define MEAN_SETUP(STYPE, ATYPE)                                                                   \
    const STYPE *src = (const STYPE *)src_;                                                        \
    ATYPE *dst = (ATYPE *)dst_;                                                                    \
    const idx_t span = g->span, rows = g->rows, cols = g->cols, row = g->row;                      \
    const idx_t ky = g->ky, kx = g->kx, sy = g->sy, sx = g->sx, C = g->chan;                       \
    idx_t px = (POOL_CHUNK / C - kx) / sx + 1;                                                     \
    px = px < 1 ? 1 : px;                                                                          \
    ATYPE *acc = (ATYPE *)buf_, *wac = acc + span, *hv = wac + span, *hw = hv + span, *dw = hw + span; \
    (void)wac;                                                                                     \
    (void)hw;                                                                                      \
    (void)dw;

#define DEFINE_MEAN(FN, STYPE, ATYPE, LOAD)                                                       \
    TARGET static void NAME(FN)(const void *src_, void *dst_, const pool_geom *g, void *buf_) {   \
        MEAN_SETUP(STYPE, ATYPE)                                                                   \
        ATYPE *div = dw;                                                                           \
        const int64_t *cy = g->cy, *cxs = g->cx;                                                   \
        int uniform = 1;                                                                           \
        for (idx_t x = 1; x < cols; x++) uniform &= cxs[x] == cxs[0];                              \
        for (idx_t y = 0; y < rows; y++) {                                                         \
            const STYPE *s = src + y * sy * row;                                                   \
            ATYPE *d = dst + y * cols * C;                                                         \
            const int64_t count = cy[y] * cxs[0];                                                  \
            const ATYPE dv = (ATYPE)count;                                                         \
            /* x / 2^k and x * 2^-k are the same real number, rounded once: the same bits. */      \
            const int halving = count > 0 && (count & (count - 1)) == 0;                           \
            const ATYPE rv = (ATYPE)1 / dv;                                                        \
            if (!uniform)                                                                          \
                for (idx_t x = 0; x < cols; x++) div[x] = (ATYPE)(cy[y] * cxs[x]);                 \
            for (idx_t x0 = 0; x0 < cols; x0 += px) {                                              \
                const idx_t m = x0 + px < cols ? px : cols - x0;                                   \
                const idx_t n = ((m - 1) * sx + kx) * C, hn = ((m - 1) * sx + 1) * C;              \
                const STYPE *s0 = s + x0 * sx * C;                                                 \
                ATYPE *d0 = d + x0 * C;                                                            \
                for (idx_t j = 0; j < n; j++) acc[j] = (ATYPE)LOAD(s0, j);                         \
                for (idx_t i = 1; i < ky; i++) {                                                   \
                    const STYPE *r = s0 + i * row;                                                 \
                    for (idx_t j = 0; j < n; j++) acc[j] = acc[j] + (ATYPE)LOAD(r, j);             \
                }                                                                                  \
                if (sx == 1) {                                                                     \
                    COLSUM(ATYPE, d0, acc, hn)                                                     \
                } else {                                                                           \
                    COLSUM(ATYPE, hv, acc, hn)                                                     \
                    COMPACT(ATYPE, d0, hv, m)                                                      \
                }                                                                                  \
                if (uniform && halving) {                                                          \
                    for (idx_t e = 0; e < m * C; e++) d0[e] = d0[e] * rv;                          \
                } else if (uniform) {                                                              \
                    for (idx_t e = 0; e < m * C; e++) d0[e] = d0[e] / dv;                          \
                } else {                                                                           \
                    for (idx_t x = 0; x < m; x++)                                                  \
                        for (idx_t c = 0; c < C; c++) d0[x * C + c] = d0[x * C + c] / div[x0 + x]; \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_NANMEAN(FN, ATYPE)                                                                  \
    TARGET static void NAME(FN)(const void *src_, void *dst_, const pool_geom *g, void *buf_) {   \
        MEAN_SETUP(ATYPE, ATYPE)                                                                   \
        for (idx_t y = 0; y < rows; y++) {                                                         \
            const ATYPE *s = src + y * sy * row;                                                   \
            ATYPE *d = dst + y * cols * C;                                                         \
            for (idx_t x0 = 0; x0 < cols; x0 += px) {                                              \
                const idx_t m = x0 + px < cols ? px : cols - x0;                                   \
                const idx_t n = ((m - 1) * sx + kx) * C, hn = ((m - 1) * sx + 1) * C;              \
                const ATYPE *s0 = s + x0 * sx * C;                                                 \
                ATYPE *d0 = d + x0 * C;                                                            \
                for (idx_t j = 0; j < n; j++) {                                                    \
                    ATYPE v = s0[j];                                                               \
                    acc[j] = v == v ? v : (ATYPE)0;                                                \
                    wac[j] = v == v ? (ATYPE)1 : (ATYPE)0;                                         \
                }                                                                                  \
                for (idx_t i = 1; i < ky; i++) {                                                   \
                    const ATYPE *r = s0 + i * row;                                                 \
                    /* Two loops of two arrays each: the compiler vectorizes them. */              \
                    for (idx_t j = 0; j < n; j++) {                                                \
                        ATYPE v = r[j];                                                            \
                        v = v == v ? v : (ATYPE)0;                                                 \
                        acc[j] = acc[j] + v;                                                       \
                    }                                                                              \
                    for (idx_t j = 0; j < n; j++) {                                                \
                        ATYPE v = r[j];                                                            \
                        ATYPE w = v == v ? (ATYPE)1 : (ATYPE)0;                                    \
                        wac[j] = wac[j] + w;                                                       \
                    }                                                                              \
                }                                                                                  \
                COLSUM(ATYPE, hv, acc, hn)                                                         \
                COLSUM(ATYPE, hw, wac, hn)                                                         \
                if (sx == 1) {                                                                     \
                    for (idx_t e = 0; e < m * C; e++) d0[e] = hv[e] / hw[e];                       \
                } else {                                                                           \
                    COMPACT(ATYPE, d0, hv, m)                                                      \
                    COMPACT(ATYPE, dw, hw, m)                                                      \
                    for (idx_t e = 0; e < m * C; e++) d0[e] = d0[e] / dw[e];                       \
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
DEFINE_MEAN(pool_mean_f32, float, float, LOAD_PLAIN)
DEFINE_MEAN(pool_mean_f64, double, double, LOAD_PLAIN)
DEFINE_MEAN(pool_mean_dec8, uint8_t, float, LOAD_DEC8)
DEFINE_MEAN(pool_mean_dec16, uint16_t, float, LOAD_DEC16)
DEFINE_MEAN(pool_mean_u8f, uint8_t, float, LOAD_PLAIN)
DEFINE_MEAN(pool_mean_u16f, uint16_t, float, LOAD_PLAIN)
DEFINE_NANMEAN(pool_nanmean_f32, float)
DEFINE_NANMEAN(pool_nanmean_f64, double)

#define MM(TN) {NAME(pool_max_##TN), NAME(pool_min_##TN)}
static const pool_fn NAME(pool_maxmin)[T_COUNT][2] = {MM(u8), MM(i8), MM(u16), MM(i16), MM(u32),
                                                     MM(i32), MM(u64), MM(i64), MM(f32), MM(f64)};
static const pool_fn NAME(pool_fmaxmin)[2][2] = {{NAME(pool_fmax_f32), NAME(pool_fmin_f32)},
                                                 {NAME(pool_fmax_f64), NAME(pool_fmin_f64)}};
static const pool_fn NAME(pool_sums)[6] = {NAME(pool_sum_f32), NAME(pool_sum_f64), NAME(pool_sum_dec8),
                                           NAME(pool_sum_dec16), NAME(pool_sum_u8f), NAME(pool_sum_u16f)};
static const pool_fn NAME(pool_means)[6] = {NAME(pool_mean_f32),   NAME(pool_mean_f64), NAME(pool_mean_dec8),
                                            NAME(pool_mean_dec16), NAME(pool_mean_u8f), NAME(pool_mean_u16f)};
static const pool_fn NAME(pool_nanmeans)[2] = {NAME(pool_nanmean_f32), NAME(pool_nanmean_f64)};
#undef MM
#undef DEFINE_MAXMIN
#undef DEFINE_POOL
#undef DEFINE_MEAN
#undef DEFINE_NANMEAN
#undef COLSUM
#undef COMPACT
#undef MEAN_SETUP
#undef POOL_CHUNK
#undef NAME
#undef CAT
#undef CAT2
