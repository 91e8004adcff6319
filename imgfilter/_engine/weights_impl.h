/* Body of the nan="ignore" preparation (weights.c), included once per
 * instruction set. Blocks of about WEIGHTS_VALUES values, each in L1: a read
 * pass finds the NaNs (per value flags, per pixel counts), then the
 * weights are written and the NaNs zeroed, in loops without branches on
 * the data (bit blends, as in normalize_impl.h). */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* VT: value type (block), WT: weight type, UT: VT's unsigned twin (the zeroing blend).
 * The pixels [p_begin, p_end) of the block, in chunks of bp: *seen and *mixed carry
 * over from the pixels before. Returns 3 (with *stop) where chan is needed and absent. */
#define DEFINE_WEIGHTS(FN, VT, UT, WT)                                                            \
    TARGET static int NAME(FN##_range)(VT *block, WT *plane, WT *chan, idx_t p_begin, idx_t p_end,  \
                                       idx_t cn, idx_t bp, uint8_t *restrict flag,                 \
                                       uint32_t *restrict count, int *seen, int *mixed,           \
                                       idx_t *stop) {                                              \
        for (idx_t p0 = p_begin; p0 < p_end; p0 += bp) {                                           \
            idx_t np = p_end - p0 < bp ? p_end - p0 : bp;                                          \
            idx_t m = np * cn;                                                                     \
            UT *restrict u = (UT *)(block + p0 * cn);                                              \
            int any = 0;                                                                           \
            for (idx_t i = 0; i < m; i++) {                                                        \
                VT x;                                                                              \
                memcpy(&x, &u[i], sizeof x);                                                       \
                uint8_t f = x != x;                                                                \
                flag[i] = f;                                                                       \
                any |= f;                                                                          \
            }                                                                                      \
            WT *restrict pl = plane + p0;                                                          \
            if (!any) {                                                                            \
                for (idx_t p = 0; p < np; p++) pl[p] = (WT)1;                                      \
                if (*mixed)                                                                        \
                    for (idx_t i = 0; i < m; i++) chan[p0 * cn + i] = (WT)1;                       \
                continue;                                                                          \
            }                                                                                      \
            *seen = 1;                                                                             \
            int partial = 0;                                                                       \
            if (cn == 3) {                                                                         \
                for (idx_t p = 0; p < np; p++)                                                     \
                    count[p] = (uint32_t)flag[3 * p] + flag[3 * p + 1] + flag[3 * p + 2];           \
            } else {                                                                               \
                for (idx_t p = 0; p < np; p++) {                                                   \
                    uint32_t s = 0;                                                                \
                    for (idx_t c = 0; c < cn; c++) s += flag[p * cn + c];                          \
                    count[p] = s;                                                                  \
                }                                                                                  \
            }                                                                                      \
            for (idx_t p = 0; p < np; p++) {                                                       \
                pl[p] = count[p] == 0 ? (WT)1 : (WT)0;                                             \
                partial |= count[p] != 0 && count[p] != (uint32_t)cn;                               \
            }                                                                                      \
            if (partial && !*mixed) {                                                              \
                /* Without chan: stop before this chunk is zeroed, to be resumed with one. */      \
                if (!chan) {                                                                       \
                    *stop = p0;                                                                    \
                    return 3;                                                                      \
                }                                                                                  \
                /* The pixels so far agreed in every channel: their plane, spread. */            \
                *mixed = 1;                                                                        \
                for (idx_t p = 0; p < p0; p++)                                                     \
                    for (idx_t c = 0; c < cn; c++) chan[p * cn + c] = plane[p];                    \
            }                                                                                      \
            if (*mixed) {                                                                          \
                WT *restrict ch = chan + p0 * cn;                                                  \
                for (idx_t i = 0; i < m; i++) ch[i] = flag[i] ? (WT)0 : (WT)1;                     \
            }                                                                                      \
            for (idx_t i = 0; i < m; i++) u[i] &= (UT)flag[i] - (UT)1;                             \
        }                                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
    TARGET static int NAME(FN)(void *block_, void *plane_, void *chan_, idx_t pixels, idx_t cn,     \
                               idx_t start, idx_t bp, uint8_t *restrict flag,                      \
                               uint32_t *restrict count, idx_t *stop) {                           \
        VT *block = (VT *)block_;                                                                  \
        WT *plane = (WT *)plane_, *chan = (WT *)chan_;                                             \
        /* A resumed call: pixels before start are done, plane only (each agreed in every channel). */ \
        int seen = start > 0, mixed = start > 0;                                                   \
        for (idx_t p = 0; p < start; p++)                                                          \
            for (idx_t c = 0; c < cn; c++) chan[p * cn + c] = plane[p];                            \
        if (NAME(FN##_range)(block, plane, chan, start, pixels, cn, bp, flag, count, &seen, &mixed, stop)) \
            return 3;                                                                              \
        *stop = pixels;                                                                            \
        return !seen ? 0 : mixed ? 2 : 1;                                                          \
    }                                                                                              \
    /* The block fetched from the image through index tables (as linear_idx_impl.h's fetch),  \
     * each row then prepared while in cache. A pass needing chan without it returns 3: the   \
     * call is repeated with chan (the fetch starts again). */                                 \
    TARGET static int NAME(FN##_fetch)(const fetch_geom *g, void *block_, void *plane_, void *chan_, \
                                       idx_t bp, uint8_t *restrict flag, uint32_t *restrict count) { \
        const VT *src = (const VT *)g->src;                                                        \
        VT *block = (VT *)block_;                                                                  \
        WT *plane = (WT *)plane_, *chan = (WT *)chan_;                                             \
        const VT cv = (VT)g->cval;                                                                 \
        idx_t C = g->chan, cn = g->cn, rowv = g->ncols * C, rowp = rowv / cn;                     \
        int seen = 0, mixed = 0;                                                                   \
        idx_t stop = 0;                                                                            \
        for (idx_t j = 0; j < g->nrows; j++) {                                                     \
            VT *to = block + j * rowv;                                                             \
            idx_t sr = g->rows[j];                                                                 \
            if (sr < 0) {                                                                          \
                for (idx_t i = 0; i < rowv; i++) to[i] = cv;                                       \
            } else {                                                                               \
                const VT *from = src + sr * g->src_cols * C;                                       \
                for (idx_t x = 0; x < g->ja; x++) {                                                \
                    idx_t c = g->left[x];                                                          \
                    for (idx_t k = 0; k < C; k++) to[x * C + k] = c < 0 ? cv : from[c * C + k];    \
                }                                                                                  \
                if (g->jb > g->ja)                                                                 \
                    memcpy(to + g->ja * C, from + (g->ja + g->c_start) * C,                        \
                           (size_t)((g->jb - g->ja) * C) * sizeof(VT));                            \
                for (idx_t x = g->jb; x < g->ncols; x++) {                                         \
                    idx_t c = g->right[x - g->jb];                                                 \
                    for (idx_t k = 0; k < C; k++) to[x * C + k] = c < 0 ? cv : from[c * C + k];    \
                }                                                                                  \
            }                                                                                      \
            if (NAME(FN##_range)(block, plane, chan, j * rowp, (j + 1) * rowp, cn, bp, flag, count, \
                                 &seen, &mixed, &stop))                                            \
                return 3;                                                                          \
        }                                                                                          \
        return !seen ? 0 : mixed ? 2 : 1;                                                          \
    }

DEFINE_WEIGHTS(weights_f32_f32, float, uint32_t, float)
DEFINE_WEIGHTS(weights_f64_f64, double, uint64_t, double)
DEFINE_WEIGHTS(weights_f32_f64, float, uint32_t, double)
DEFINE_WEIGHTS(weights_f64_f32, double, uint64_t, float)

static const fetch_fn NAME(fetch_table)[4] = {NAME(weights_f32_f32_fetch), NAME(weights_f64_f64_fetch),
                                              NAME(weights_f32_f64_fetch), NAME(weights_f64_f32_fetch)};
static const weights_fn NAME(weights_table)[4] = {NAME(weights_f32_f32), NAME(weights_f64_f64),
                                                  NAME(weights_f32_f64), NAME(weights_f64_f32)};

/* valid[i] = !isnan(x[i]) when valid is given; returns whether any x is NaN
 * (without valid: stops at the first). */
#define DEFINE_VALID(FN, VT)                                                                      \
    TARGET static int NAME(FN)(const void *x_, uint8_t *valid, idx_t n) {                          \
        const VT *x = (const VT *)x_;                                                              \
        int any = 0;                                                                               \
        for (idx_t i0 = 0; i0 < n; i0 += WEIGHTS_VALUES) {                         \
            idx_t m = n - i0 < WEIGHTS_VALUES ? n - i0 : WEIGHTS_VALUES; \
            const VT *restrict xs = x + i0;                                                        \
            int a = 0;                                                                             \
            if (valid) {                                                                           \
                uint8_t *restrict v = valid + i0;                                                  \
                for (idx_t i = 0; i < m; i++) {                                                    \
                    uint8_t f = xs[i] != xs[i];                                                    \
                    v[i] = (uint8_t)(f ^ 1);                                                       \
                    a |= f;                                                                        \
                }                                                                                  \
            } else {                                                                               \
                for (idx_t i = 0; i < m; i++) a |= xs[i] != xs[i];                                 \
                if (a) return 1;                                                                   \
            }                                                                                      \
            any |= a;                                                                              \
        }                                                                                          \
        return any;                                                                                \
    }

DEFINE_VALID(valid_f32, float)
DEFINE_VALID(valid_f64, double)

static const valid_fn NAME(valid_table)[2] = {NAME(valid_f32), NAME(valid_f64)};

/* nan_mark: x's values NaN where `missing`, on the bits (a blend, branch-free);
 * 1 where some other value is NaN already. */
#define DEFINE_MARK(FN, UT, ABS, INF, QNAN)                                                       \
    TARGET static int NAME(FN)(void *x_, const uint8_t *missing, idx_t n) {                       \
        UT *x = (UT *)x_;                                                                          \
        UT any = 0;                                                                                \
        for (idx_t i0 = 0; i0 < n; i0 += WEIGHTS_VALUES) {                                         \
            idx_t m = n - i0 < WEIGHTS_VALUES ? n - i0 : WEIGHTS_VALUES;                           \
            UT *restrict xs = x + i0;                                                              \
            const uint8_t *restrict ms = missing + i0;                                             \
            UT a = 0;                                                                              \
            for (idx_t i = 0; i < m; i++) {                                                        \
                UT hole = (UT)0 - (UT)(ms[i] != 0);                                                \
                a |= (UT)((xs[i] & ABS) > INF) & ~hole;                                            \
                xs[i] = (xs[i] & ~hole) | ((UT)QNAN & hole);                                       \
            }                                                                                      \
            any |= a;                                                                              \
        }                                                                                          \
        return any != 0;                                                                           \
    }
DEFINE_MARK(mark_f32, uint32_t, 0x7fffffffu, 0x7f800000u, 0x7fc00000u)
DEFINE_MARK(mark_f64, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull, 0x7ff8000000000000ull)
#undef DEFINE_MARK

static const mark_fn NAME(mark_table)[2] = {NAME(mark_f32), NAME(mark_f64)};

/* Pixels [p0, p1) of cn values: copied into `copy` (unless NULL), and the
 * index of each pixel with a NaN value appended to `out` (capacity cap).
 * Returns how many, or -1 (stopped) when there are more than cap. A block's
 * copy and NaN test in one vector pass; only blocks with a NaN are looked
 * at per pixel. */
#define DEFINE_HOLES(FN, UT, ABS, INF)                                                            \
    TARGET static idx_t NAME(FN)(const void *x_, void *copy_, idx_t cn, idx_t p0, idx_t p1,        \
                                 idx_t *restrict out, idx_t cap) {                                 \
        const UT *x = (const UT *)x_;                                                              \
        UT *copy = (UT *)copy_;                                                                    \
        uint8_t fl[WEIGHTS_VALUES + 8];                                                            \
        idx_t bp = WEIGHTS_VALUES / cn > 0 ? WEIGHTS_VALUES / cn : 1, count = 0;                  \
        for (idx_t q0 = p0; q0 < p1; q0 += bp) {                                                   \
            idx_t q1 = p1 - q0 < bp ? p1 : q0 + bp, m = (q1 - q0) * cn;                            \
            const UT *restrict xs = x + q0 * cn;                                                   \
            UT a = 0; /* on the bits: NaN, an exponent of ones and a mantissa not 0 */          \
            if (m > WEIGHTS_VALUES) { /* a pixel of more values than a block: one at a time */   \
                if (copy) memcpy(copy + q0 * cn, xs, sizeof(UT) * (size_t)m);                      \
                for (idx_t i = 0; i < m; i++) a |= (UT)((xs[i] & ABS) > INF);                      \
                if (!a) continue;                                                                  \
                if (count == cap) return -1;                                                       \
                out[count++] = q0;                                                                 \
                continue;                                                                          \
            }                                                                                      \
            if (copy) {                                                                            \
                UT *restrict d = copy + q0 * cn;                                                   \
                for (idx_t i = 0; i < m; i++) {                                                    \
                    UT f = (UT)((xs[i] & ABS) > INF);                                              \
                    d[i] = xs[i];                                                                  \
                    fl[i] = (uint8_t)f;                                                            \
                    a |= f;                                                                        \
                }                                                                                  \
            } else {                                                                               \
                for (idx_t i = 0; i < m; i++) {                                                    \
                    UT f = (UT)((xs[i] & ABS) > INF);                                              \
                    fl[i] = (uint8_t)f;                                                            \
                    a |= f;                                                                        \
                }                                                                                  \
            }                                                                                      \
            if (!a) continue;                                                                      \
            /* The flags eight at a time: most words hold no NaN. */                              \
            memset(fl + m, 0, 8);                                                                  \
            for (idx_t i = 0; i < m; i += 8) {                                                     \
                uint64_t word;                                                                     \
                memcpy(&word, fl + i, 8);                                                          \
                if (!word) continue;                                                               \
                for (idx_t j = i; j < i + 8 && j < m; j++) {                                       \
                    if (!fl[j]) continue;                                                          \
                    idx_t q = q0 + j / cn;                                                         \
                    if (count > 0 && out[count - 1] == q) continue;                                \
                    if (count == cap) return -1;                                                   \
                    out[count++] = q;                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return count;                                                                              \
    }

DEFINE_HOLES(holes_f32, uint32_t, 0x7fffffffu, 0x7f800000u)
DEFINE_HOLES(holes_f64, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull)

static const holes_fn NAME(holes_table)[2] = {NAME(holes_f32), NAME(holes_f64)};

#undef DEFINE_WEIGHTS
#undef DEFINE_VALID
#undef DEFINE_HOLES
#undef NAME
#undef CAT
#undef CAT2
