/* Body of the index-table linear kernels, included once per instruction
 * set (isa.h defines SUFFIX and TARGET for linear_idx.c). Per tile of
 * output columns and per output row: the block rows the taps span are
 * fetched once each into a small ring (source rows through the row table,
 * halo columns through the column tables, converted as they are loaded),
 * then the taps run over the ring while it is in cache. Per output element
 * the operations, their order and their types are those of linear_impl.h's
 * kernels over the copied block, so the bits are the same. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Outputs held in registers: eight vector registers of DT (four of 8-byte
 * types: with eight, GCC spills them), so that independent chains of
 * additions hide the adder's latency (with two, as VEC 16 gives for float32
 * on AVX2, the loop waits on them). */
#define VEC(DT) ((int)((sizeof(DT) == 8 ? 4 : 8) * ISA_VEC_BYTES / sizeof(DT)))
/* Unrolled in full, the VEC loops keep their sums in registers (rolled,
 * GCC keeps the array on the stack). */
#if defined(__GNUC__)
#define UNROLL _Pragma("GCC unroll 64")
#else
#define UNROLL
#endif
#define SLICE 512
#define IS_FLOAT(T) ((T)0.5 != (T)0)

#include "f64_blocks.h"

/* Block row j, block columns [b0, b1), into `to` (converted to RT). */
#define DEFINE_FETCH(SN, ST, RN, RT)                                                          \
    TARGET static void NAME(fetch_##SN##_##RN)(const lidx_t *p, idx_t j, idx_t b0, idx_t b1,    \
                                                RT cv, RT *restrict to) {                       \
        idx_t C = p->chan, sr = p->rowidx[j];                                                  \
        if (sr < 0) {                                                                          \
            for (idx_t i = 0; i < (b1 - b0) * C; i++) to[i] = cv;                              \
            return;                                                                            \
        }                                                                                      \
        const ST *from = (const ST *)p->src + sr * p->src_cols * C;                            \
        idx_t a = b1 < p->ja ? b1 : p->ja;                                                     \
        for (idx_t x = b0; x < a; x++) {                                                       \
            idx_t c = p->left[x];                                                              \
            RT *q = to + (x - b0) * C;                                                         \
            for (idx_t k = 0; k < C; k++) q[k] = c < 0 ? cv : (RT)from[c * C + k];             \
        }                                                                                      \
        idx_t lo = b0 > p->ja ? b0 : p->ja, hi = b1 < p->jb ? b1 : p->jb;                      \
        if (hi > lo) {                                                                         \
            const ST *f = from + (lo + p->c_start) * C;                                        \
            RT *q = to + (lo - b0) * C;                                                        \
            for (idx_t i = 0; i < (hi - lo) * C; i++) q[i] = (RT)f[i];                         \
        }                                                                                      \
        for (idx_t x = b0 > p->jb ? b0 : p->jb; x < b1; x++) {                                 \
            idx_t c = p->right[x - p->jb];                                                     \
            RT *q = to + (x - b0) * C;                                                         \
            for (idx_t k = 0; k < C; k++) q[k] = c < 0 ? cv : (RT)from[c * C + k];             \
        }                                                                                      \
    }

/* d[i] = sum_t w[t] * P[t][i] in DT, in tap order: VEC outputs in registers
 * over all taps for float or same-type sources, else a slice per tap (the
 * shapes linear_impl.h's run and prun take, for the same reasons). */
#define DEFINE_PK(SN, ST, DN, DT)                                                             \
    TARGET static void NAME(pk_##SN##_##DN)(const ST *const *P, DT *restrict d, idx_t n,        \
                                             const DT *w, idx_t ntaps) {                        \
        if (IS_FLOAT(ST) || (sizeof(ST) == sizeof(DT) && !IS_FLOAT(DT))) {                     \
            idx_t i = 0;                                                                       \
            if (IS_F64(ST) && IS_F64(DT))                                                      \
                i = F64_ROWS16((const double *const *)(const void *)P, (double *)(void *)d, n,  \
                               (const double *)(const void *)w, ntaps);                        \
            for (; i + VEC(DT) <= n; i += VEC(DT)) {                                           \
                DT acc[VEC(DT)];                                                               \
                const ST *q0 = P[0] + i;                                                       \
                UNROLL for (int j = 0; j < VEC(DT); j++) acc[j] = w[0] * (DT)q0[j];            \
                for (idx_t t = 1; t < ntaps; t++) {                                            \
                    const ST *q = P[t] + i;                                                    \
                    DT wk = w[t];                                                              \
                    UNROLL for (int j = 0; j < VEC(DT); j++) acc[j] += wk * (DT)q[j];          \
                }                                                                              \
                UNROLL for (int j = 0; j < VEC(DT); j++) d[i + j] = acc[j];                    \
            }                                                                                  \
            /* One register's width at a time, so that the scalar tail stays short. */        \
            for (; i + VEC(DT) / 8 <= n; i += VEC(DT) / 8) {                                   \
                DT acc[VEC(DT) / 8];                                                           \
                const ST *q0 = P[0] + i;                                                       \
                UNROLL for (int j = 0; j < VEC(DT) / 8; j++) acc[j] = w[0] * (DT)q0[j];        \
                for (idx_t t = 1; t < ntaps; t++) {                                            \
                    const ST *q = P[t] + i;                                                    \
                    DT wk = w[t];                                                              \
                    UNROLL for (int j = 0; j < VEC(DT) / 8; j++) acc[j] += wk * (DT)q[j];      \
                }                                                                              \
                UNROLL for (int j = 0; j < VEC(DT) / 8; j++) d[i + j] = acc[j];                \
            }                                                                                  \
            for (; i < n; i++) {                                                               \
                DT acc = w[0] * (DT)P[0][i];                                                   \
                for (idx_t t = 1; t < ntaps; t++) acc += w[t] * (DT)P[t][i];                   \
                d[i] = acc;                                                                    \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        for (idx_t i0 = 0; i0 < n; i0 += SLICE) {                                              \
            idx_t m = n - i0 < SLICE ? n - i0 : SLICE;                                         \
            DT *restrict dd = d + i0;                                                          \
            const ST *restrict q0 = P[0] + i0;                                                 \
            DT w0 = w[0];                                                                      \
            for (idx_t i = 0; i < m; i++) dd[i] = w0 * (DT)q0[i];                              \
            for (idx_t t = 1; t < ntaps; t++) {                                                \
                const ST *restrict q = P[t] + i0;                                              \
                DT wk = w[t];                                                                  \
                for (idx_t i = 0; i < m; i++) dd[i] += wk * (DT)q[i];                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    TARGET static void NAME(pks_##SN##_##DN)(const ST *const *P, DT *restrict d, idx_t inner,   \
                                              idx_t chan, idx_t step, const DT *w, idx_t ntaps) { \
        for (idx_t x = 0; x < inner; x++) {                                                    \
            for (idx_t c = 0; c < chan; c++) {                                                 \
                idx_t at = x * step + c;                                                       \
                DT acc = w[0] * (DT)P[0][at];                                                  \
                for (idx_t t = 1; t < ntaps; t++) acc += w[t] * (DT)P[t][at];                  \
                d[x * chan + c] = acc;                                                         \
            }                                                                                  \
        }                                                                                      \
    }

/* Tiles of output columns [o0, o1) (block columns [b0, b1)), in three
 * segments: outputs before the interior, the interior, the rest. Interior
 * tiles (`direct`, where the ring would be a plain copy) read the source
 * rows in place; the others fetch the block rows into the ring. */
#define TILE_LOOP_BEGIN(DIRECT_OK)                                                             \
    idx_t C = p->chan, seg[4] = {0, p->oi0, p->oi1, p->cols};                                  \
    for (int sg = 0; sg < 3; sg++)                                                             \
        for (idx_t o0 = seg[sg]; o0 < seg[sg + 1]; o0 += p->tile) {                            \
            idx_t o1 = o0 + p->tile < seg[sg + 1] ? o0 + p->tile : seg[sg + 1];                \
            idx_t b0 = o0 * p->hstride, b1 = (o1 - 1) * p->hstride + p->hspan;                 \
            idx_t tw = (b1 - b0) * C, next = 0;                                                \
            int direct = sg == 1 && (DIRECT_OK);                                               \
            for (idx_t y = 0; y < p->rows; y++) {                                              \
                idx_t base = y * p->vstride;                                                   \
                if (next < base) next = base;
#define TILE_LOOP_END                                                                          \
            }                                                                                  \
        }

/* The block rows under the vertical taps of output row y, as pointers to
 * block column b0 (RT: the ring's type): in place or fetched. */
#define ROW_POINTERS(SN, ST, RN, RT)                                                           \
    if (direct) {                                                                              \
        for (idx_t t = 0; t < p->nv; t++) {                                                    \
            idx_t sr = p->rowidx[base + p->vrows[t]];                                          \
            P[t] = sr < 0 ? cvrow                                                              \
                          : (const RT *)(const void *)((const ST *)p->src + sr * p->src_cols * C + \
                                                       (b0 + p->c_start) * C);                 \
        }                                                                                      \
    } else {                                                                                   \
        for (; next < base + p->vspan; next++)                                                 \
            NAME(fetch_##SN##_##RN)(p, next, b0, b1, cv, ring + (next % p->vspan) * tw);       \
        for (idx_t t = 0; t < p->nv; t++) P[t] = ring + ((base + p->vrows[t]) % p->vspan) * tw; \
    }

#define CVROW(RT)                                                                              \
    RT *cvrow = (RT *)p->cvrow;                                                                \
    for (idx_t i = 0; i < ((p->tile - 1) * p->hstride + p->hspan) * p->chan; i++) cvrow[i] = cv;

/* Tap correlation: the ring keeps the source type, the taps convert. */
#define DEFINE_T2(SN, ST, DN, DT)                                                             \
    TARGET static void NAME(t2_##SN##_##DN)(const lidx_t *p) {                                 \
        ST *ring = (ST *)p->ring;                                                              \
        const ST **P = (const ST **)p->ptrs;                                                   \
        const DT *w = (const DT *)p->wv;                                                       \
        ST cv = p->cval_ok ? (ST)p->cval : (ST)0;                                              \
        CVROW(ST)                                                                              \
        TILE_LOOP_BEGIN(1)                                                                     \
        ROW_POINTERS(SN, ST, SN, ST)                                                           \
        for (idx_t t = 0; t < p->nv; t++) P[t] += p->hcols[t] * C;                             \
        DT *out = (DT *)p->dst + (y * p->cols + o0) * C;                                       \
        if (p->hstride == 1)                                                                   \
            NAME(pk_##SN##_##DN)(P, out, (o1 - o0) * C, w, p->nv);                             \
        else                                                                                   \
            NAME(pks_##SN##_##DN)(P, out, o1 - o0, C, p->hstride * C, w, p->nv);               \
        TILE_LOOP_END                                                                          \
    }

/* The separable pass: the ring holds rows converted to the accumulator (in
 * place where the source is of the accumulator's type), the vertical taps
 * fill a row of the tile's block columns, the horizontal taps run over it,
 * then the store (or the result is the output itself). */
#define DEFINE_S2(SN, ST, AN, AT)                                                             \
    TARGET static void NAME(s2_##SN##_##AN)(const lidx_t *p, store_any st) {                   \
        AT *ring = (AT *)p->ring, *vrow = (AT *)p->vrow, *orow = (AT *)p->orow;                \
        const AT **P = (const AT **)p->ptrs;                                                   \
        const AT *wv = (const AT *)p->wv, *wh = (const AT *)p->wh;                             \
        AT cv = p->cval_ok ? (AT)(ST)p->cval : (AT)0;                                          \
        char *dst = (char *)p->dst;                                                            \
        CVROW(AT)                                                                              \
        TILE_LOOP_BEGIN(sizeof(ST) == sizeof(AT) && IS_FLOAT(ST) == IS_FLOAT(AT) &&            \
                        ((ST)-1 > (ST)0) == ((AT)-1 > (AT)0))                                  \
        ROW_POINTERS(SN, ST, AN, AT)                                                           \
        NAME(pk_##AN##_##AN)(P, vrow, tw, wv, p->nv);                                          \
        for (idx_t t = 0; t < p->nh; t++) P[t] = vrow + p->hcols[t] * C;                       \
        idx_t m = (o1 - o0) * C;                                                               \
        char *drow = dst + y * p->dst_row_bytes + o0 * C * p->dsize;                           \
        AT *h = st ? orow : (AT *)(void *)drow;                                                \
        if (p->hstride == 1)                                                                   \
            NAME(pk_##AN##_##AN)(P, h, m, wh, p->nh);                                          \
        else                                                                                   \
            NAME(pks_##AN##_##AN)(P, h, o1 - o0, C, p->hstride * C, wh, p->nh);                \
        if (st) st(orow, drow, m, p->divide);                                                  \
        TILE_LOOP_END                                                                          \
    }

#define FETCH_ACC(SN, ST)                                                                     \
    DEFINE_FETCH(SN, ST, u16, uint16_t)                                                       \
    DEFINE_FETCH(SN, ST, u32, uint32_t)                                                       \
    DEFINE_FETCH(SN, ST, u64, uint64_t)                                                       \
    DEFINE_FETCH(SN, ST, f32, float)                                                          \
    DEFINE_FETCH(SN, ST, f64, double)
#define S2_ACC(SN, ST)                                                                        \
    DEFINE_S2(SN, ST, u16, uint16_t)                                                          \
    DEFINE_S2(SN, ST, u32, uint32_t)                                                          \
    DEFINE_S2(SN, ST, u64, uint64_t)                                                          \
    DEFINE_S2(SN, ST, f32, float)                                                             \
    DEFINE_S2(SN, ST, f64, double)
#define PK_TAPS(SN, ST)                                                                       \
    DEFINE_PK(SN, ST, f32, float)                                                             \
    DEFINE_PK(SN, ST, f64, double)
#define T2_TAPS(SN, ST)                                                                       \
    DEFINE_T2(SN, ST, f32, float)                                                             \
    DEFINE_T2(SN, ST, f64, double)
#define FOR_SRC(M)                                                                            \
    M(u8, uint8_t)                                                                            \
    M(i8, int8_t)                                                                             \
    M(u16, uint16_t)                                                                          \
    M(i16, int16_t)                                                                           \
    M(u32, uint32_t)                                                                          \
    M(i32, int32_t)                                                                           \
    M(u64, uint64_t)                                                                          \
    M(i64, int64_t)                                                                           \
    M(f32, float)                                                                             \
    M(f64, double)

/* Fetches into each accumulator type, and into their own type for the taps'
 * ring (the accumulator types have theirs above). */
FOR_SRC(FETCH_ACC)
DEFINE_FETCH(u8, uint8_t, u8, uint8_t)
DEFINE_FETCH(i8, int8_t, i8, int8_t)
DEFINE_FETCH(i16, int16_t, i16, int16_t)
DEFINE_FETCH(i32, int32_t, i32, int32_t)
DEFINE_FETCH(i64, int64_t, i64, int64_t)

/* Taps into float32/float64, and the integer accumulators over themselves. */
FOR_SRC(PK_TAPS)
DEFINE_PK(u16, uint16_t, u16, uint16_t)
DEFINE_PK(u32, uint32_t, u32, uint32_t)
DEFINE_PK(u64, uint64_t, u64, uint64_t)

FOR_SRC(T2_TAPS)
FOR_SRC(S2_ACC)

/* taps2d_nan: block row j, block columns [b0, b1), fetched as for the taps
 * with its NaNs zeroed into `to`, and its pixels' weights (1, 0 where NaN)
 * into `wt`; `fl` holds a flag per value. On the bits, branch-free (NaN: an
 * exponent of ones and a mantissa not 0), one or three channels in loops of
 * a known shape; other channel counts per pixel. 1 where a pixel is NaN in
 * some of its channels only. */
#define DEFINE_NFETCH(SN, T, UT, ABS, INF)                                                   \
    TARGET static int NAME(nfetch_##SN)(const lidx_t *p, idx_t j, idx_t b0, idx_t b1, T cv,     \
                                        T *restrict to, T *restrict wt, UT *restrict fl) {      \
        idx_t C = p->chan, n = b1 - b0, nc = n * C, sr = p->rowidx[j];                         \
        idx_t lo = b0 > p->ja ? b0 : p->ja, hi = b1 < p->jb ? b1 : p->jb;                      \
        UT *restrict u = (UT *)(void *)to;                                                     \
        /* Image columns zeroed on their way from the source (one pass, no copy to reread); \
         * the border's few through the tables, then zeroed in place. */                    \
        idx_t i0 = 0, i1 = 0;                                                                  \
        if (sr >= 0 && hi > lo) {                                                              \
            if (lo > b0) NAME(fetch_##SN##_##SN)(p, j, b0, lo, cv, to);                        \
            if (b1 > hi) NAME(fetch_##SN##_##SN)(p, j, hi, b1, cv, to + (hi - b0) * C);        \
            i0 = (lo - b0) * C, i1 = (hi - b0) * C;                                            \
            const UT *restrict f =                                                             \
                (const UT *)(const void *)((const T *)p->src + (sr * p->src_cols + lo + p->c_start) * C); \
            UT *restrict v = u + i0;                                                           \
            UT *restrict g = fl + i0;                                                          \
            for (idx_t i = 0; i < i1 - i0; i++) {                                              \
                UT bad = (UT)((f[i] & ABS) > INF);                                             \
                v[i] = f[i] & (bad - (UT)1);                                                   \
                g[i] = bad;                                                                    \
            }                                                                                  \
        } else {                                                                               \
            NAME(fetch_##SN##_##SN)(p, j, b0, b1, cv, to);                                     \
        }                                                                                      \
        for (int part = 0; part < 2; part++)                                                   \
            for (idx_t i = part ? i1 : 0; i < (part ? nc : i0); i++) {                         \
                UT bad = (UT)((u[i] & ABS) > INF);                                             \
                u[i] &= bad - (UT)1;                                                           \
                fl[i] = bad;                                                                   \
            }                                                                                  \
        UT partial = 0;                                                                        \
        if (C == 1) {                                                                          \
            for (idx_t x = 0; x < n; x++) wt[x] = fl[x] ? (T)0 : (T)1;                         \
        } else if (C == 3) {                                                                   \
            for (idx_t x = 0; x < n; x++) {                                                    \
                UT k = fl[3 * x] + fl[3 * x + 1] + fl[3 * x + 2];                              \
                wt[x] = k ? (T)0 : (T)1;                                                       \
                partial |= (UT)(k != 0) & (UT)(k != 3);                                        \
            }                                                                                  \
        } else {                                                                               \
            for (idx_t x = 0; x < n; x++) {                                                    \
                UT k = 0;                                                                      \
                for (idx_t c = 0; c < C; c++) k += fl[x * C + c];                              \
                wt[x] = k ? (T)0 : (T)1;                                                       \
                partial |= (UT)(k != 0) & (UT)(k != (UT)C);                                    \
            }                                                                                  \
        }                                                                                      \
        return partial != 0;                                                                   \
    }

/* taps2d_nan and sep2d_nan: per tile and output row, the block rows fetched
 * once each into the value ring (NaN zeroed) and the weight ring, then the
 * taps over both, as taps2d and sep2d_idx run them over a zeroed block and
 * its weight plane: the taps (p->sep 0) straight into the output row and a
 * row of weight sums; or (p->sep 1) the vertical taps into a row of values
 * and a row of weights, the horizontal taps over those. Then divide_sums'
 * own division (normalize.c) of the row in place. 3 where a pixel is NaN in
 * some of its channels only (stopped there), else 0. */
#define DEFINE_NAN_PASS(SN, T, UT)                                                            \
    TARGET static int NAME(n2_##SN)(const lidx_t *p, const nan_div *a) {                        \
        UT *fl = (UT *)p->cvrow;                                                               \
        T *ring = (T *)p->ring, *wring = (T *)p->wring, *vrow = (T *)p->vrow;                  \
        T *wvrow = (T *)p->wvrow, *den = (T *)p->den;                                          \
        const T **P = (const T **)p->ptrs, **Q = (const T **)p->wptrs;                         \
        const T *wv = (const T *)p->wv, *wh = p->sep ? (const T *)p->wh : wv;                  \
        const idx_t nh = p->sep ? p->nh : p->nv;                                               \
        const T cv = (T)p->cval;                                                               \
        idx_t C = p->chan;                                                                     \
        divide_args da = a->args;                                                              \
        da.cn = C;                                                                             \
        for (idx_t o0 = 0; o0 < p->cols; o0 += p->tile) {                                      \
            idx_t o1 = o0 + p->tile < p->cols ? o0 + p->tile : p->cols;                        \
            idx_t b0 = o0 * p->hstride, b1 = (o1 - 1) * p->hstride + p->hspan;                 \
            idx_t ww = b1 - b0, tw = ww * C, next = 0, m = o1 - o0;                            \
            da.pixels = m;                                                                     \
            for (idx_t y = 0; y < p->rows; y++) {                                              \
                idx_t base = y * p->vstride;                                                   \
                if (next < base) next = base;                                                  \
                for (; next < base + p->vspan; next++)                                         \
                    if (NAME(nfetch_##SN)(p, next, b0, b1, cv, ring + (next % p->vspan) * tw,   \
                                          wring + (next % p->vspan) * ww, fl))                  \
                        return 3;                                                              \
                for (idx_t t = 0; t < p->nv; t++) {                                            \
                    idx_t r = (base + p->vrows[t]) % p->vspan;                                 \
                    P[t] = ring + r * tw + (p->sep ? 0 : p->hcols[t] * C);                     \
                    Q[t] = wring + r * ww + (p->sep ? 0 : p->hcols[t]);                        \
                }                                                                              \
                if (p->sep) {                                                                  \
                    NAME(pk_##SN##_##SN)(P, vrow, tw, wv, p->nv);                              \
                    NAME(pk_##SN##_##SN)(Q, wvrow, ww, wv, p->nv);                             \
                    for (idx_t t = 0; t < nh; t++) {                                           \
                        P[t] = vrow + p->hcols[t] * C;                                         \
                        Q[t] = wvrow + p->hcols[t];                                            \
                    }                                                                          \
                }                                                                              \
                T *out = (T *)p->dst + (y * p->cols + o0) * C;                                 \
                if (p->hstride == 1) {                                                         \
                    NAME(pk_##SN##_##SN)(P, out, m * C, wh, nh);                               \
                    NAME(pk_##SN##_##SN)(Q, den, m, wh, nh);                                   \
                } else {                                                                       \
                    NAME(pks_##SN##_##SN)(P, out, m, C, p->hstride * C, wh, nh);               \
                    NAME(pks_##SN##_##SN)(Q, den, m, 1, p->hstride, wh, nh);                   \
                }                                                                              \
                a->div(out, den, &da, a->buf);                                                 \
            }                                                                                  \
        }                                                                                      \
        return 0;                                                                              \
    }

DEFINE_NFETCH(f32, float, uint32_t, 0x7fffffffu, 0x7f800000u)
DEFINE_NFETCH(f64, double, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull)
DEFINE_NAN_PASS(f32, float, uint32_t)
DEFINE_NAN_PASS(f64, double, uint64_t)
static n2_fn NAME(n2_table)[2] = {NAME(n2_f32), NAME(n2_f64)};

#define T2ROW(S) {NAME(t2_##S##_f32), NAME(t2_##S##_f64)}
static t2_fn NAME(t2_table)[T_COUNT][2] = {T2ROW(u8),  T2ROW(i8),  T2ROW(u16), T2ROW(i16), T2ROW(u32),
                                           T2ROW(i32), T2ROW(u64), T2ROW(i64), T2ROW(f32), T2ROW(f64)};
#define S2ROW(S) {NAME(s2_##S##_u16), NAME(s2_##S##_u32), NAME(s2_##S##_u64), NAME(s2_##S##_f32), NAME(s2_##S##_f64)}
static s2_fn NAME(s2_table)[T_COUNT][SEP_ACC_COUNT] = {S2ROW(u8),  S2ROW(i8),  S2ROW(u16), S2ROW(i16),
                                                       S2ROW(u32), S2ROW(i32), S2ROW(u64), S2ROW(i64),
                                                       S2ROW(f32), S2ROW(f64)};
#undef T2ROW
#undef S2ROW
#undef FOR_SRC
#undef T2_TAPS
#undef PK_TAPS
#undef S2_ACC
#undef FETCH_ACC
#undef DEFINE_S2
#undef DEFINE_T2
#undef TILE_LOOP_BEGIN
#undef TILE_LOOP_END
#undef ROW_POINTERS
#undef CVROW
#undef DEFINE_PK
#undef DEFINE_FETCH
#undef DEFINE_NFETCH
#undef DEFINE_NAN_PASS
#undef IS_FLOAT
#undef SLICE
#undef VEC
#undef UNROLL
#undef F64_ROWS16
#undef F64_OFFS16
#undef IS_F64
#undef NAME
#undef CAT
#undef CAT2
