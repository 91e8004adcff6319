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

/* The codec's decoding of n codes through its table: gathered 8 at a time
 * on AVX2 (GCC built each vector from single loads: 4K RGB Gaussian
 * linear=True, one thread, the fetch took 13% of the run). */
#define DEFINE_DECODE_RUN(SN, ST, WIDEN)                                                      \
    TARGET static void NAME(decode_run_##SN)(const float *lut, const ST *restrict f,            \
                                              float *restrict q, idx_t n) {                     \
        idx_t i = 0;                                                                           \
        DECODE_GATHER(WIDEN)                                                                   \
        for (; i < n; i++) q[i] = lut[f[i]];                                                   \
    }
#if defined(ISA_AVX2)
#define DECODE_GATHER(WIDEN)                                                                  \
    for (; i + 8 <= n; i += 8)                                                                 \
        _mm256_storeu_ps(q + i, _mm256_i32gather_ps(lut, WIDEN(f + i), 4));
#else
#define DECODE_GATHER(WIDEN)
#endif
#define WIDEN_U8(q) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(q)))
#define WIDEN_U16(q) _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(q)))
DEFINE_DECODE_RUN(u8, uint8_t, WIDEN_U8)
DEFINE_DECODE_RUN(u16, uint16_t, WIDEN_U16)

/* Block row j, block columns [b0, b1), into `to` (converted to RT by
 * CONV: a cast, or the decoding table p->lut of the sRGB codec; RUN: a run
 * of image values so converted). */
#define FETCH_CAST(RT, x) ((RT)(x))
#define FETCH_LUT(RT, x) (p->lut[x])
#define RUN_CAST(SN, RT, f, q, n)                                                             \
    for (idx_t i = 0; i < (n); i++) (q)[i] = (RT)(f)[i];
#define RUN_LUT(SN, RT, f, q, n) NAME(decode_run_##SN)(p->lut, f, q, n);
/* The NaN fetch's source bytes of block row j's image columns within [b0,
 * b1) toward the caches, PF_AHEAD rows before they are read: its loop does
 * little but stream, and a tile's row segment spans a few 4 KiB pages at
 * each of which the hardware's prefetcher starts again (with NF_GROUPS, 4K
 * float32 RGB nan="ignore" Gaussian, one thread: 101 -> 95 ms, median of 10
 * alternating runs). Not for the plain passes: their taps read the rows
 * in place, and prefetching them cost (float32 box 5: 31 -> 35 ms). */
#define PF_AHEAD 4
/* A macro, not a function: GCC takes a function of prefetches alone for one
 * without effects, and drops its calls. */
#define PREFETCH_ROW(J, B0, B1, ES)                                                            \
    do {                                                                                       \
        idx_t pj_ = (J), plo_ = (B0) > p->ja ? (B0) : p->ja, phi_ = (B1) < p->jb ? (B1) : p->jb; \
        if (pj_ < (p->rows - 1) * p->vstride + p->vspan && p->rowidx[pj_] >= 0 && phi_ > plo_) { \
            const char *pf_ = (const char *)p->src +                                            \
                              (size_t)((p->rowidx[pj_] * p->src_cols + plo_ + p->c_start) * p->chan) * (ES); \
            size_t pn_ = (size_t)((phi_ - plo_) * p->chan) * (ES);                             \
            for (size_t pb_ = 0; pb_ < pn_; pb_ += 64) __builtin_prefetch(pf_ + pb_);          \
        }                                                                                      \
    } while (0)

#define DEFINE_FETCH(SN, ST, RN, RT) DEFINE_FETCH_AS(fetch_##SN##_##RN, SN, ST, RT, FETCH_CAST, RUN_CAST)
#define DEFINE_FETCH_AS(FN, SN, ST, RT, CONV, RUN)                                            \
    TARGET static void NAME(FN)(const lidx_t *p, idx_t j, idx_t b0, idx_t b1, RT cv,            \
                                RT *restrict to) {                                             \
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
            for (idx_t k = 0; k < C; k++) q[k] = c < 0 ? cv : CONV(RT, from[c * C + k]);       \
        }                                                                                      \
        idx_t lo = b0 > p->ja ? b0 : p->ja, hi = b1 < p->jb ? b1 : p->jb;                      \
        if (hi > lo) {                                                                         \
            const ST *f = from + (lo + p->c_start) * C;                                        \
            RT *q = to + (lo - b0) * C;                                                        \
            RUN(SN, RT, f, q, (hi - lo) * C)                                                   \
        }                                                                                      \
        for (idx_t x = b0 > p->jb ? b0 : p->jb; x < b1; x++) {                                 \
            idx_t c = p->right[x - p->jb];                                                     \
            RT *q = to + (x - b0) * C;                                                         \
            for (idx_t k = 0; k < C; k++) q[k] = c < 0 ? cv : CONV(RT, from[c * C + k]);       \
        }                                                                                      \
    }

/* A weight times a value, as the taps take it; ONE_W for kernels whose
 * weights are all 1 (the box's), where the product is the value itself,
 * bit for bit: the u ("unit") variants add the same values in the same
 * order without the multiplications. */
#define BY_W(w, q) ((w) * (q))
#define ONE_W(w, q) ((void)(w), (q))

/* d[i] = sum_t MUL(w[t], P[t][i]) in DT, in tap order, from i on: VEC
 * outputs in registers over all taps, then one register's width, then the
 * rest (P, d, n, w, ntaps and i are the caller's). */
#define PK_LOOPS(ST, DT, MUL)                                                                  \
    for (; i + VEC(DT) <= n; i += VEC(DT)) {                                                   \
        DT acc[VEC(DT)];                                                                       \
        const ST *q0 = P[0] + i;                                                               \
        UNROLL for (int j = 0; j < VEC(DT); j++) acc[j] = MUL(w[0], (DT)q0[j]);                \
        for (idx_t t = 1; t < ntaps; t++) {                                                    \
            const ST *q = P[t] + i;                                                            \
            DT wk = w[t];                                                                      \
            UNROLL for (int j = 0; j < VEC(DT); j++) acc[j] += MUL(wk, (DT)q[j]);              \
        }                                                                                      \
        UNROLL for (int j = 0; j < VEC(DT); j++) d[i + j] = acc[j];                            \
    }                                                                                          \
    /* One register's width at a time, so that the scalar tail stays short. */                 \
    for (; i + VEC(DT) / 8 <= n; i += VEC(DT) / 8) {                                           \
        DT acc[VEC(DT) / 8];                                                                   \
        const ST *q0 = P[0] + i;                                                               \
        UNROLL for (int j = 0; j < VEC(DT) / 8; j++) acc[j] = MUL(w[0], (DT)q0[j]);            \
        for (idx_t t = 1; t < ntaps; t++) {                                                    \
            const ST *q = P[t] + i;                                                            \
            DT wk = w[t];                                                                      \
            UNROLL for (int j = 0; j < VEC(DT) / 8; j++) acc[j] += MUL(wk, (DT)q[j]);          \
        }                                                                                      \
        UNROLL for (int j = 0; j < VEC(DT) / 8; j++) d[i + j] = acc[j];                        \
    }                                                                                          \
    for (; i < n; i++) {                                                                       \
        DT acc = MUL(w[0], (DT)P[0][i]);                                                       \
        for (idx_t t = 1; t < ntaps; t++) acc += MUL(w[t], (DT)P[t][i]);                       \
        d[i] = acc;                                                                            \
    }

/* pk of float sources into their own type for weights all 1. */
#define DEFINE_PKU(AN, AT)                                                                     \
    TARGET static void NAME(pku_##AN)(const AT *const *P, AT *restrict d, idx_t n, const AT *w, \
                                       idx_t ntaps) {                                          \
        idx_t i = 0;                                                                           \
        PK_LOOPS(AT, AT, ONE_W)                                                                \
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
            PK_LOOPS(ST, DT, BY_W)                                                             \
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
 * block column b0 (RT: the ring's type): in place or fetched; EXTRA adds
 * that many rows after the last tap's (pairs, quads: the next output rows'
 * last taps). */
#define ROW_POINTERS(FETCH, ST, RT, EXTRA)                                                    \
    if (direct) {                                                                              \
        for (idx_t t = 0; t < p->nv + (EXTRA); t++) {                                          \
            idx_t sr = p->rowidx[base + (t < p->nv ? p->vrows[t] : p->vspan + t - p->nv)];     \
            P[t] = sr < 0 ? cvrow                                                              \
                          : (const RT *)(const void *)((const ST *)p->src + sr * p->src_cols * C + \
                                                       (b0 + p->c_start) * C);                 \
        }                                                                                      \
    } else {                                                                                   \
        for (; next < base + p->vspan + (EXTRA); next++)                                       \
            NAME(FETCH)(p, next, b0, b1, cv, ring + (next % p->ring_rows) * tw);               \
        for (idx_t t = 0; t < p->nv + (EXTRA); t++)                                            \
            P[t] = ring + ((base + (t < p->nv ? p->vrows[t] : p->vspan + t - p->nv)) % p->ring_rows) * tw; \
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
        ROW_POINTERS(fetch_##SN##_##SN, ST, ST, 0)                                             \
        for (idx_t t = 0; t < p->nv; t++) P[t] += p->hcols[t] * C;                             \
        DT *out = (DT *)p->dst + (y * p->cols + o0) * C;                                       \
        if (p->hstride == 1)                                                                   \
            NAME(pk_##SN##_##DN)(P, out, (o1 - o0) * C, w, p->nv);                             \
        else                                                                                   \
            NAME(pks_##SN##_##DN)(P, out, o1 - o0, C, p->hstride * C, w, p->nv);               \
        TILE_LOOP_END                                                                          \
    }

/* Two rows of the vertical taps at once: d0 from rows P[0..ntaps) and d1
 * from P[1..ntaps], each row loaded once for both (the ring is in L2 and
 * the loads of its rows bounded the pass). For float accumulators, half
 * the VEC outputs of each row in registers; the additions of every output
 * are pk's, in its order. Others: pk twice. */
#define DEFINE_PK2_AS(AN, AT, NM, MUL, PK1)                                                    \
    TARGET static void NAME(NM)(const AT *const *P, AT *restrict d0, AT *restrict d1,          \
                                       idx_t n, const AT *w, idx_t ntaps) {                    \
        idx_t i = 0;                                                                           \
        if (IS_FLOAT(AT) && sizeof(AT) == 4) {                                                 \
            enum { H = VEC(AT) / 2 };                                                          \
            for (; i + H <= n; i += H) {                                                       \
                AT a0[H], a1[H];                                                               \
                const AT *q = P[0] + i;                                                        \
                AT wa = w[0];                                                                  \
                UNROLL for (int j = 0; j < H; j++) a0[j] = MUL(wa, q[j]);                      \
                q = P[1] + i;                                                                  \
                AT wb = w[1];                                                                  \
                UNROLL for (int j = 0; j < H; j++) {                                           \
                    a1[j] = MUL(wa, q[j]);                                                     \
                    a0[j] += MUL(wb, q[j]);                                                    \
                }                                                                              \
                for (idx_t t = 2; t < ntaps; t++) {                                            \
                    q = P[t] + i;                                                              \
                    AT w0 = w[t], w1 = w[t - 1];                                               \
                    UNROLL for (int j = 0; j < H; j++) {                                       \
                        a0[j] += MUL(w0, q[j]);                                                \
                        a1[j] += MUL(w1, q[j]);                                                \
                    }                                                                          \
                }                                                                              \
                q = P[ntaps] + i;                                                              \
                AT wl = w[ntaps - 1];                                                          \
                UNROLL for (int j = 0; j < H; j++) a1[j] += MUL(wl, q[j]);                     \
                UNROLL for (int j = 0; j < H; j++) d0[i + j] = a0[j];                          \
                UNROLL for (int j = 0; j < H; j++) d1[i + j] = a1[j];                          \
            }                                                                                  \
            for (; i < n; i++) {                                                               \
                AT s0 = MUL(w[0], P[0][i]), s1 = MUL(w[0], P[1][i]);                           \
                for (idx_t t = 1; t < ntaps; t++) {                                            \
                    s0 += MUL(w[t], P[t][i]);                                                  \
                    s1 += MUL(w[t], P[t + 1][i]);                                              \
                }                                                                              \
                d0[i] = s0, d1[i] = s1;                                                        \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        NAME(PK1)(P, d0, n, w, ntaps);                                                         \
        NAME(PK1)(P + 1, d1, n, w, ntaps);                                                     \
    }
#define DEFINE_PK2(AN, AT) DEFINE_PK2_AS(AN, AT, pk2_##AN, BY_W, pk_##AN##_##AN)

/* Four rows of the vertical taps at once (float32): d[r] from rows
 * P[r..r + ntaps), each ring row loaded once for all four (half pk2's L2
 * traffic), a quarter of the VEC outputs of each row in registers; every
 * output's additions are pk's, in its order. ntaps >= 4. */
#define PK4_ACC(MUL, R, T) UNROLL for (int j = 0; j < H; j++) a##R[j] += MUL(w[T], q[j]);
#define DEFINE_PK4_AS(NM, AT, MUL)                                                             \
    TARGET static void NAME(NM)(const AT *const *P, AT *restrict d0, AT *restrict d1,          \
                                       AT *restrict d2, AT *restrict d3, idx_t n, const AT *w, \
                                       idx_t ntaps) {                                          \
        idx_t i = 0;                                                                           \
        enum { H = VEC(AT) / 4 };                                                              \
        for (; i + H <= n; i += H) {                                                           \
            AT a0[H], a1[H], a2[H], a3[H];                                                     \
            const AT *q = P[0] + i;                                                            \
            UNROLL for (int j = 0; j < H; j++) a0[j] = MUL(w[0], q[j]);                        \
            q = P[1] + i;                                                                      \
            UNROLL for (int j = 0; j < H; j++) a1[j] = MUL(w[0], q[j]);                        \
            PK4_ACC(MUL, 0, 1)                                                                 \
            q = P[2] + i;                                                                      \
            UNROLL for (int j = 0; j < H; j++) a2[j] = MUL(w[0], q[j]);                        \
            PK4_ACC(MUL, 1, 1) PK4_ACC(MUL, 0, 2)                                              \
            q = P[3] + i;                                                                      \
            UNROLL for (int j = 0; j < H; j++) a3[j] = MUL(w[0], q[j]);                        \
            PK4_ACC(MUL, 2, 1) PK4_ACC(MUL, 1, 2) PK4_ACC(MUL, 0, 3)                           \
            for (idx_t t = 4; t < ntaps; t++) {                                                \
                q = P[t] + i;                                                                  \
                AT w0 = w[t], w1 = w[t - 1], w2 = w[t - 2], w3 = w[t - 3];                     \
                UNROLL for (int j = 0; j < H; j++) {                                           \
                    a0[j] += MUL(w0, q[j]);                                                    \
                    a1[j] += MUL(w1, q[j]);                                                    \
                    a2[j] += MUL(w2, q[j]);                                                    \
                    a3[j] += MUL(w3, q[j]);                                                    \
                }                                                                              \
            }                                                                                  \
            q = P[ntaps] + i;                                                                  \
            PK4_ACC(MUL, 3, ntaps - 3) PK4_ACC(MUL, 2, ntaps - 2) PK4_ACC(MUL, 1, ntaps - 1)   \
            q = P[ntaps + 1] + i;                                                              \
            PK4_ACC(MUL, 3, ntaps - 2) PK4_ACC(MUL, 2, ntaps - 1)                              \
            q = P[ntaps + 2] + i;                                                              \
            PK4_ACC(MUL, 3, ntaps - 1)                                                         \
            UNROLL for (int j = 0; j < H; j++) d0[i + j] = a0[j];                              \
            UNROLL for (int j = 0; j < H; j++) d1[i + j] = a1[j];                              \
            UNROLL for (int j = 0; j < H; j++) d2[i + j] = a2[j];                              \
            UNROLL for (int j = 0; j < H; j++) d3[i + j] = a3[j];                              \
        }                                                                                      \
        for (; i < n; i++) {                                                                   \
            AT s0 = MUL(w[0], P[0][i]), s1 = MUL(w[0], P[1][i]);                               \
            AT s2 = MUL(w[0], P[2][i]), s3 = MUL(w[0], P[3][i]);                               \
            for (idx_t t = 1; t < ntaps; t++) {                                                \
                s0 += MUL(w[t], P[t][i]);                                                      \
                s1 += MUL(w[t], P[t + 1][i]);                                                  \
                s2 += MUL(w[t], P[t + 2][i]);                                                  \
                s3 += MUL(w[t], P[t + 3][i]);                                                  \
            }                                                                                  \
            d0[i] = s0, d1[i] = s1, d2[i] = s2, d3[i] = s3;                                    \
        }                                                                                      \
    }
DEFINE_PK4_AS(pk4_f32, float, BY_W)
DEFINE_PK4_AS(pk4u_f32, float, ONE_W)
#undef PK4_ACC

/* The separable pass: the ring holds rows converted to the accumulator (in
 * place where the source is of the accumulator's type), the vertical taps
 * fill a row of the tile's block columns (two rows with p->pairs), the
 * horizontal taps run over it, then the store (or the result is the output
 * itself). */
#define S2_HORIZONTAL(AN, AT, VR, YY)                                                         \
    {                                                                                          \
        for (idx_t t = 0; t < p->nh; t++) P[t] = (VR) + p->hcols[t] * C;                       \
        idx_t m = (o1 - o0) * C;                                                               \
        char *drow = dst + (YY) * p->dst_row_bytes + o0 * C * p->dsize;                        \
        AT *h = st || p->enc ? orow : (AT *)(void *)drow;                                      \
        if (p->hstride == 1)                                                                   \
            NAME(pk_##AN##_##AN)(P, h, m, wh, p->nh);                                          \
        else                                                                                   \
            NAME(pks_##AN##_##AN)(P, h, o1 - o0, C, p->hstride * C, wh, p->nh);                \
        if (p->enc)                                                                            \
            codec_encode_row(p->enc == 2, (const float *)(const void *)orow, drow, m, p->enc_div, \
                             p->enc_mul);                                                      \
        else if (st)                                                                           \
            st(orow, drow, m, p->divide);                                                      \
    }
#define DEFINE_S2(SN, ST, AN, AT)                                                             \
    DEFINE_S2_AS(s2_##SN##_##AN, ST, AN, AT, fetch_##SN##_##AN, p->cval_ok ? (AT)(ST)p->cval : (AT)0)
/* FETCH: the fetch of block rows into the ring (FETCH_AS's name); CV: the
 * border constant in the ring's type. */
#define DEFINE_S2_AS(FN, ST, AN, AT, FETCH, CV)                                               \
    TARGET static void NAME(FN)(const lidx_t *p, store_any st) {                               \
        AT *ring = (AT *)p->ring, *vrow = (AT *)p->vrow, *vrow2 = (AT *)p->vrow2;              \
        AT *orow = (AT *)p->orow;                                                              \
        const AT **P = (const AT **)p->ptrs;                                                   \
        const AT *wv = (const AT *)p->wv, *wh = (const AT *)p->wh;                             \
        AT cv = CV;                                                                            \
        char *dst = (char *)p->dst;                                                            \
        CVROW(AT)                                                                              \
        TILE_LOOP_BEGIN(sizeof(ST) == sizeof(AT) && IS_FLOAT(ST) == IS_FLOAT(AT) &&            \
                        ((ST)-1 > (ST)0) == ((AT)-1 > (AT)0))                                  \
        if (IS_FLOAT(AT) && sizeof(AT) == 4 && p->quads && y + 3 < p->rows) {                  \
            ROW_POINTERS(FETCH, ST, AT, 3)                                                     \
            AT *vrow3 = (AT *)p->vrow3, *vrow4 = (AT *)p->vrow4;                               \
            NAME(pk4_f32)((const float *const *)(const void *)P, (float *)(void *)vrow, (float *)(void *)vrow2, \
                          (float *)(void *)vrow3, (float *)(void *)vrow4, tw, (const float *)(const void *)wv, \
                          p->nv);                                                              \
            S2_HORIZONTAL(AN, AT, vrow, y)                                                     \
            S2_HORIZONTAL(AN, AT, vrow2, y + 1)                                                \
            S2_HORIZONTAL(AN, AT, vrow3, y + 2)                                                \
            S2_HORIZONTAL(AN, AT, vrow4, y + 3)                                                \
            y += 3;                                                                            \
            continue;                                                                          \
        }                                                                                      \
        if (p->pairs && y + 1 < p->rows) {                                                     \
            ROW_POINTERS(FETCH, ST, AT, 1)                                                     \
            NAME(pk2_##AN)(P, vrow, vrow2, tw, wv, p->nv);                                     \
            S2_HORIZONTAL(AN, AT, vrow, y)                                                     \
            S2_HORIZONTAL(AN, AT, vrow2, y + 1)                                                \
            y++;                                                                               \
            continue;                                                                          \
        }                                                                                      \
        ROW_POINTERS(FETCH, ST, AT, 0)                                                         \
        NAME(pk_##AN##_##AN)(P, vrow, tw, wv, p->nv);                                          \
        S2_HORIZONTAL(AN, AT, vrow, y)                                                         \
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
DEFINE_PK2(u16, uint16_t)
DEFINE_PK2(u32, uint32_t)
DEFINE_PK2(u64, uint64_t)
DEFINE_PK2(f32, float)
DEFINE_PK2(f64, double)
DEFINE_PKU(f32, float)
DEFINE_PKU(f64, double)
DEFINE_PK2_AS(f32, float, pk2u_f32, ONE_W, pku_f32)
DEFINE_PK2_AS(f64, double, pk2u_f64, ONE_W, pku_f64)

FOR_SRC(T2_TAPS)
FOR_SRC(S2_ACC)

/* The sRGB codec's separable pass: codes decoded by its table as the rows
 * are fetched, the sums encoded as they are stored (p->enc). */
DEFINE_FETCH_AS(dfetch_u8, u8, uint8_t, float, FETCH_LUT, RUN_LUT)
DEFINE_FETCH_AS(dfetch_u16, u16, uint16_t, float, FETCH_LUT, RUN_LUT)
DEFINE_S2_AS(s2d_u8, uint8_t, f32, float, dfetch_u8, (float)p->cval)
DEFINE_S2_AS(s2d_u16, uint16_t, f32, float, dfetch_u16, (float)p->cval)
static s2_fn NAME(s2d_table)[2] = {NAME(s2d_u8), NAME(s2d_u16)};

/* taps2d_nan: block row j, block columns [b0, b1), fetched as for the taps
 * with its NaNs zeroed into `to`, and its pixels' weights (1, 0 where NaN)
 * into `wt`; `fl` holds a flag per value. On the bits, branch-free (NaN: an
 * exponent of ones and a mantissa not 0), one or three channels in loops of
 * a known shape; other channel counts per pixel. 1 where a pixel is NaN in
 * some of its channels only. */
/* NF_GROUPS: the image columns [x0, x1) of a row of CC channels, eight
 * pixels at a time: NaNs zeroed into v and the weights written straight
 * (no flags to reread); a group with a NaN (8% of groups at 1% holes) has
 * its weights from its own values, pixel by pixel. Ends with x at the first
 * pixel not done. */
#define NF_GROUPS(UT, T, ABS, INF, CC)                                                         \
    for (; x + 8 <= x1; x += 8) {                                                              \
        const UT *restrict fs = f + (x - x0) * (CC);                                           \
        UT *restrict vs = u + x * (CC);                                                        \
        UT any = 0;                                                                            \
        for (idx_t i = 0; i < 8 * (CC); i++) {                                                 \
            UT bad = (UT)((fs[i] & ABS) > INF);                                                \
            vs[i] = fs[i] & (bad - (UT)1);                                                     \
            any |= bad;                                                                        \
        }                                                                                      \
        if (!any) {                                                                            \
            for (idx_t k = 0; k < 8; k++) wt[x + k] = (T)1;                                    \
            continue;                                                                          \
        }                                                                                      \
        for (idx_t k = 0; k < 8; k++) {                                                        \
            UT bad = 0;                                                                        \
            for (idx_t c = 0; c < (CC); c++) bad += (UT)((fs[k * (CC) + c] & ABS) > INF);      \
            wt[x + k] = bad ? (T)0 : (T)1;                                                     \
            partial |= (UT)(bad != 0) & (UT)(bad != (UT)(CC));                                 \
        }                                                                                      \
    }

/* taps2d_nan: block row j, block columns [b0, b1), fetched as for the taps
 * with its NaNs zeroed into `to`, and its pixels' weights (1, 0 where NaN)
 * into `wt`. On the bits, branch-free (NaN: an exponent of ones and a
 * mantissa not 0). The image columns of one or three channels go by
 * NF_GROUPS; the border's columns, the last few and other channel counts
 * through a flag per value (`fl`), then per pixel. 1 where a pixel is NaN
 * in some of its channels only. */
#define DEFINE_NFETCH(SN, T, UT, ABS, INF)                                                   \
    TARGET static int NAME(nfetch_##SN)(const lidx_t *p, idx_t j, idx_t b0, idx_t b1, T cv,     \
                                        T *restrict to, T *restrict wt, UT *restrict fl) {      \
        idx_t C = p->chan, n = b1 - b0, nc = n * C, sr = p->rowidx[j];                         \
        idx_t lo = b0 > p->ja ? b0 : p->ja, hi = b1 < p->jb ? b1 : p->jb;                      \
        UT *restrict u = (UT *)(void *)to;                                                     \
        UT partial = 0;                                                                        \
        /* Image columns zeroed on their way from the source (one pass, no copy to reread); \
         * the border's few through the tables, then zeroed in place. [x0, x) : pixels \
         * whose weights are written already. */                                              \
        idx_t i0 = 0, i1 = 0, x0 = 0, x = 0;                                                   \
        if (sr >= 0 && hi > lo) {                                                              \
            if (lo > b0) NAME(fetch_##SN##_##SN)(p, j, b0, lo, cv, to);                        \
            if (b1 > hi) NAME(fetch_##SN##_##SN)(p, j, hi, b1, cv, to + (hi - b0) * C);        \
            x0 = x = lo - b0;                                                                  \
            idx_t x1 = hi - b0;                                                                \
            const UT *restrict f =                                                             \
                (const UT *)(const void *)((const T *)p->src + (sr * p->src_cols + lo + p->c_start) * C); \
            PREFETCH_ROW(j + PF_AHEAD, b0, b1, sizeof(T));                                         \
            if (C == 3) NF_GROUPS(UT, T, ABS, INF, 3)                                          \
            else if (C == 1) NF_GROUPS(UT, T, ABS, INF, 1)                                     \
            i0 = x * C, i1 = x1 * C;                                                           \
            const UT *restrict g = f + (x - x0) * C;                                           \
            UT *restrict v = u + i0;                                                           \
            UT *restrict h = fl + i0;                                                          \
            for (idx_t i = 0; i < i1 - i0; i++) {                                              \
                UT bad = (UT)((g[i] & ABS) > INF);                                             \
                v[i] = g[i] & (bad - (UT)1);                                                   \
                h[i] = bad;                                                                    \
            }                                                                                  \
        } else {                                                                               \
            NAME(fetch_##SN##_##SN)(p, j, b0, b1, cv, to);                                     \
        }                                                                                      \
        for (int part = 0; part < 2; part++)                                                   \
            for (idx_t i = part ? i1 : 0; i < (part ? nc : x0 * C); i++) {                     \
                UT bad = (UT)((u[i] & ABS) > INF);                                             \
                u[i] &= bad - (UT)1;                                                           \
                fl[i] = bad;                                                                   \
            }                                                                                  \
        /* The flagged pixels: [0, x0) and [x, n). */                                         \
        for (int part = 0; part < 2; part++) {                                                 \
            idx_t e = part ? n : x0;                                                           \
            idx_t s0 = part ? x : 0;                                                           \
            if (C == 1) {                                                                      \
                for (idx_t q = s0; q < e; q++) wt[q] = fl[q] ? (T)0 : (T)1;                    \
            } else if (C == 3) {                                                               \
                for (idx_t q = s0; q < e; q++) {                                               \
                    UT k = fl[3 * q] + fl[3 * q + 1] + fl[3 * q + 2];                          \
                    wt[q] = k ? (T)0 : (T)1;                                                   \
                    partial |= (UT)(k != 0) & (UT)(k != 3);                                    \
                }                                                                              \
            } else {                                                                           \
                for (idx_t q = s0; q < e; q++) {                                               \
                    UT k = 0;                                                                  \
                    for (idx_t c = 0; c < C; c++) k += fl[q * C + c];                          \
                    wt[q] = k ? (T)0 : (T)1;                                                   \
                    partial |= (UT)(k != 0) & (UT)(k != (UT)C);                                \
                }                                                                              \
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
#define N2_FINISH(SN, T, VR, WVR, YY)                                                             \
    {                                                                                          \
        if (p->sep)                                                                            \
            for (idx_t t = 0; t < nh; t++) {                                                   \
                P[t] = (VR) + p->hcols[t] * C;                                                 \
                Q[t] = (WVR) + p->hcols[t];                                                    \
            }                                                                                  \
        T *out = (T *)p->dst + ((YY) * p->cols + o0) * C;                                      \
        if (p->hstride == 1) {                                                                 \
            hpk(P, out, m * C, wh, nh);                                                        \
            hpk(Q, den, m, wh, nh);                                                            \
        } else {                                                                               \
            NAME(pks_##SN##_##SN)(P, out, m, C, p->hstride * C, wh, nh);                       \
            NAME(pks_##SN##_##SN)(Q, den, m, 1, p->hstride, wh, nh);                           \
        }                                                                                      \
        a->div(out, den, &da, a->buf);                                                         \
    }
/* The vertical and horizontal passes n2 picks once per call (weights all 1 or not). */
#ifndef LIDX_PK_TYPES
#define LIDX_PK_TYPES
typedef void (*pk_f32_fn)(const float *const *, float *, idx_t, const float *, idx_t);
typedef void (*pk_f64_fn)(const double *const *, double *, idx_t, const double *, idx_t);
typedef void (*pk2_f32_fn)(const float *const *, float *, float *, idx_t, const float *, idx_t);
typedef void (*pk2_f64_fn)(const double *const *, double *, double *, idx_t, const double *, idx_t);
typedef void (*pk4_fn)(const float *const *, float *, float *, float *, float *, idx_t, const float *, idx_t);
#endif
#define DEFINE_NAN_PASS(SN, T, UT)                                                            \
    TARGET static int NAME(n2_##SN)(const lidx_t *p, const nan_div *a) {                        \
        UT *fl = (UT *)p->cvrow;                                                               \
        T *ring = (T *)p->ring, *wring = (T *)p->wring, *vrow = (T *)p->vrow;                  \
        T *wvrow = (T *)p->wvrow, *den = (T *)p->den;                                          \
        T *vrow2 = (T *)p->vrow2, *wvrow2 = (T *)p->wvrow2;                                    \
        const T **P = (const T **)p->ptrs, **Q = (const T **)p->wptrs;                         \
        const T *wv = (const T *)p->wv, *wh = p->sep ? (const T *)p->wh : wv;                  \
        const idx_t nh = p->sep ? p->nh : p->nv, R = p->ring_rows;                             \
        const T cv = (T)p->cval;                                                               \
        idx_t C = p->chan;                                                                     \
        divide_args da = a->args;                                                              \
        da.cn = C;                                                                             \
        /* weights all 1 (the box's): the sums without the products, the same bits */          \
        int vunit = 1, hunit = 1;                                                              \
        for (idx_t t = 0; t < p->nv; t++) vunit &= wv[t] == (T)1;                              \
        for (idx_t t = 0; t < nh; t++) hunit &= wh[t] == (T)1;                                 \
        pk_##SN##_fn vpk = vunit ? NAME(pku_##SN) : NAME(pk_##SN##_##SN);                      \
        pk_##SN##_fn hpk = hunit ? NAME(pku_##SN) : NAME(pk_##SN##_##SN);                      \
        pk2_##SN##_fn vpk2 = vunit ? NAME(pk2u_##SN) : NAME(pk2_##SN);                         \
        pk4_fn vpk4 = vunit ? NAME(pk4u_f32) : NAME(pk4_f32);                                  \
        for (idx_t o0 = 0; o0 < p->cols; o0 += p->tile) {                                      \
            idx_t o1 = o0 + p->tile < p->cols ? o0 + p->tile : p->cols;                        \
            idx_t b0 = o0 * p->hstride, b1 = (o1 - 1) * p->hstride + p->hspan;                 \
            idx_t ww = b1 - b0, tw = ww * C, next = 0, m = o1 - o0;                            \
            da.pixels = m;                                                                     \
            for (idx_t y = 0; y < p->rows; y++) {                                              \
                idx_t base = y * p->vstride;                                                   \
                /* quads, pairs (separable only): rows y to y + 3, or y and y + 1, from \
                 * one vertical pass. */                                                       \
                int four = sizeof(T) == 4 && p->quads && y + 3 < p->rows;                      \
                int two = !four && p->pairs && y + 1 < p->rows;                                \
                idx_t extra = four ? 3 : two;                                                  \
                if (next < base) next = base;                                                  \
                for (; next < base + p->vspan + extra; next++)                                 \
                    if (NAME(nfetch_##SN)(p, next, b0, b1, cv, ring + (next % R) * tw,         \
                                          wring + (next % R) * ww, fl))                        \
                        return 3;                                                              \
                for (idx_t t = 0; t < p->nv + extra; t++) {                                    \
                    idx_t r = (base + (t < p->nv ? p->vrows[t] : p->vspan + t - p->nv)) % R;   \
                    P[t] = ring + r * tw + (p->sep ? 0 : p->hcols[t] * C);                     \
                    Q[t] = wring + r * ww + (p->sep ? 0 : p->hcols[t]);                        \
                }                                                                              \
                if (four) {                                                                    \
                    float *v3 = (float *)p->vrow3, *v4 = (float *)p->vrow4;                    \
                    float *w3 = (float *)p->wvrow3, *w4 = (float *)p->wvrow4;                  \
                    vpk4((const float *const *)(const void *)P, (float *)(void *)vrow,         \
                         (float *)(void *)vrow2, v3, v4, tw, (const float *)(const void *)wv, p->nv); \
                    vpk4((const float *const *)(const void *)Q, (float *)(void *)wvrow,        \
                                  (float *)(void *)wvrow2, w3, w4, ww, (const float *)(const void *)wv, p->nv); \
                    N2_FINISH(SN, T, vrow, wvrow, y)                                           \
                    N2_FINISH(SN, T, vrow2, wvrow2, y + 1)                                     \
                    N2_FINISH(SN, T, (T *)(void *)v3, (T *)(void *)w3, y + 2)                   \
                    N2_FINISH(SN, T, (T *)(void *)v4, (T *)(void *)w4, y + 3)                   \
                    y += 3;                                                                    \
                    continue;                                                                  \
                }                                                                              \
                if (two) {                                                                     \
                    vpk2(P, vrow, vrow2, tw, wv, p->nv);                                       \
                    vpk2(Q, wvrow, wvrow2, ww, wv, p->nv);                                     \
                    N2_FINISH(SN, T, vrow, wvrow, y)                                           \
                    N2_FINISH(SN, T, vrow2, wvrow2, y + 1)                                     \
                    y++;                                                                       \
                    continue;                                                                  \
                }                                                                              \
                if (p->sep) {                                                                  \
                    vpk(P, vrow, tw, wv, p->nv);                                               \
                    vpk(Q, wvrow, ww, wv, p->nv);                                              \
                }                                                                              \
                N2_FINISH(SN, T, vrow, wvrow, y)                                                  \
            }                                                                                  \
        }                                                                                      \
        return 0;                                                                              \
    }

DEFINE_NFETCH(f32, float, uint32_t, 0x7fffffffu, 0x7f800000u)
DEFINE_NFETCH(f64, double, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull)
DEFINE_NAN_PASS(f32, float, uint32_t)
DEFINE_NAN_PASS(f64, double, uint64_t)
static n2_fn NAME(n2_table)[2] = {NAME(n2_f32), NAME(n2_f64)};

/* sep2d_nan_at: sep2d_nan's sums at single outputs (ys[k], xs[k]). Per
 * output, the vertical taps over just the block columns its horizontal
 * taps read (in place where those are consecutive image columns, else
 * through the column tables), then the horizontal taps; over the values
 * (NaN read as 0) and over their weights (1, 0 where NaN) with the products
 * and additions of n2's passes in their order and types, so the same bits.
 * A weight per value, not per pixel: a pixel NaN in some channels only
 * weighs as the band route weighs it. num and den: chan sums per output. */
/* Lanes [i, i + W) of the window's vertical sums over rows rp[t], a NaN read
 * as 0 of weight 0 (selects: the same bits as the passes' masks). */
#define AT_CHUNK(T, W)                                                                         \
    {                                                                                          \
        T a[W], wa[W];                                                                         \
        UNROLL for (int j = 0; j < (W); j++) {                                                 \
            T g = rp[0][i + j];                                                                \
            a[j] = wv[0] * (g == g ? g : (T)0), wa[j] = wv[0] * (g == g ? (T)1 : (T)0);        \
        }                                                                                      \
        for (idx_t t = 1; t < nv; t++) {                                                       \
            const T *restrict q = rp[t] + i;                                                   \
            const T w = wv[t];                                                                 \
            UNROLL for (int j = 0; j < (W); j++) {                                             \
                T g = q[j];                                                                    \
                a[j] += w * (g == g ? g : (T)0), wa[j] += w * (g == g ? (T)1 : (T)0);          \
            }                                                                                  \
        }                                                                                      \
        UNROLL for (int j = 0; j < (W); j++) acc[i + j] = a[j], wacc[i + j] = wa[j];           \
    }
/* AT_CHUNK over whole registers (GCC leaves the select in AT_CHUNK scalar):
 * four at a time, then one, then the last one again, overlapping (the same
 * sums); returns how many lanes are done (all, or 0 with fewer lanes than a
 * register, or on CPUs without these intrinsics). */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(ISA_AVX2)
#define AT_REG(P) AT_REG256_##P
#define AT_OP(op, P) _mm256_##op##_p##P
#define AT_ORD(g, P) _mm256_cmp_p##P(g, g, _CMP_ORD_Q)
#define AT_W(P) ((int)(32 / AT_SIZE_##P))
#else
#define AT_REG(P) AT_REG128_##P
#define AT_OP(op, P) _mm_##op##_p##P
#define AT_ORD(g, P) _mm_cmpord_p##P(g, g)
#define AT_W(P) ((int)(16 / AT_SIZE_##P))
#endif
#define AT_REG256_s __m256
#define AT_REG256_d __m256d
#define AT_REG128_s __m128
#define AT_REG128_d __m128d
#define AT_SIZE_s 4
#define AT_SIZE_d 8
#define AT_REGS(T, P, R)                                                                       \
    {                                                                                          \
        AT_REG(P) a[R], wa[R];                                                                 \
        const AT_REG(P) one = AT_OP(set1, P)((T)1);                                            \
        AT_REG(P) w = AT_OP(set1, P)(wv[0]);                                                   \
        UNROLL for (int r = 0; r < (R); r++) {                                                 \
            AT_REG(P) g = AT_OP(loadu, P)(rp[0] + i + r * AT_W(P)), m = AT_ORD(g, P);          \
            a[r] = AT_OP(mul, P)(w, AT_OP(and, P)(m, g));                                      \
            wa[r] = AT_OP(mul, P)(w, AT_OP(and, P)(m, one));                                   \
        }                                                                                      \
        for (idx_t t = 1; t < nv; t++) {                                                       \
            w = AT_OP(set1, P)(wv[t]);                                                         \
            const T *q = rp[t] + i;                                                            \
            UNROLL for (int r = 0; r < (R); r++) {                                             \
                AT_REG(P) g = AT_OP(loadu, P)(q + r * AT_W(P)), m = AT_ORD(g, P);              \
                a[r] = AT_OP(add, P)(a[r], AT_OP(mul, P)(w, AT_OP(and, P)(m, g)));             \
                wa[r] = AT_OP(add, P)(wa[r], AT_OP(mul, P)(w, AT_OP(and, P)(m, one)));         \
            }                                                                                  \
        }                                                                                      \
        UNROLL for (int r = 0; r < (R); r++) {                                                 \
            AT_OP(storeu, P)(acc + i + r * AT_W(P), a[r]);                                     \
            AT_OP(storeu, P)(wacc + i + r * AT_W(P), wa[r]);                                   \
        }                                                                                      \
    }
#define DEFINE_AT_COLS(SN, T, P)                                                               \
    TARGET static idx_t NAME(at_cols_##SN)(const T *const *rp, idx_t nv, const T *wv, idx_t L,  \
                                           T *restrict acc, T *restrict wacc) {                 \
        const idx_t V = AT_W(P);                                                               \
        idx_t i = 0;                                                                           \
        if (L < V) return 0;                                                                   \
        for (; i + 4 * V <= L; i += 4 * V) AT_REGS(T, P, 4)                                    \
        for (; i + V <= L; i += V) AT_REGS(T, P, 1)                                            \
        if (i < L) {                                                                           \
            i = L - V;                                                                         \
            AT_REGS(T, P, 1)                                                                   \
        }                                                                                      \
        return L;                                                                              \
    }
DEFINE_AT_COLS(f32, float, s)
DEFINE_AT_COLS(f64, double, d)
#undef AT_REG
#undef AT_OP
#undef AT_ORD
#undef AT_W
#undef AT_SIZE_s
#undef AT_SIZE_d
#undef AT_REG256_s
#undef AT_REG256_d
#undef AT_REG128_s
#undef AT_REG128_d
#undef AT_REGS
#undef DEFINE_AT_COLS
#define AT_COLS(SN, rp, nv, wv, L, acc, wacc) NAME(at_cols_##SN)(rp, nv, wv, L, acc, wacc)
#else
#define AT_COLS(SN, rp, nv, wv, L, acc, wacc) ((void)(rp), (idx_t)0)
#endif
#define DEFINE_NAN_AT(SN, T, UT, ABS, INF)                                                    \
    TARGET static void NAME(n2at_##SN)(const lidx_t *p, const idx_t *ys, const idx_t *xs, idx_t n, \
                                       const n2at_scratch *sc) {                                \
        T *restrict num = (T *)sc->num, *restrict den = (T *)sc->den;                          \
        UT *restrict zv = (UT *)sc->zv;                                                        \
        T *restrict wt = (T *)sc->wt, *restrict acc = (T *)sc->acc, *restrict wacc = (T *)sc->wacc; \
        T *restrict cvl = (T *)sc->cvl;                                                        \
        idx_t *restrict scol = sc->scol;                                                       \
        const T **rp = (const T **)sc->rp;                                                     \
        const idx_t C = p->chan, nv = p->nv, nh = p->nh, L = nh * C;                           \
        const T *wv = (const T *)p->wv, *wh = (const T *)p->wh;                                \
        const T cv = (T)p->cval;                                                               \
        UT cb;                                                                                 \
        memcpy(&cb, &cv, sizeof cb);                                                           \
        const UT cbad = (UT)((cb & ABS) > INF), cz = cb & (cbad - (UT)1);                      \
        const T cw = cbad ? (T)0 : (T)1;                                                       \
        for (idx_t i = 0; i < L; i++) cvl[i] = cv;                                             \
        for (idx_t k = 0; k < n; k++) {                                                        \
            idx_t y = ys[k], x = xs[k];                                                        \
            int contig = 1;                                                                    \
            for (idx_t j = 0; j < nh; j++) {                                                   \
                idx_t b = x * p->hstride + p->hcols[j];                                        \
                idx_t s = b < p->ja ? p->left[b] : b < p->jb ? p->c_start + b : p->right[b - p->jb]; \
                scol[j] = s;                                                                   \
                contig &= s >= 0 && s == scol[0] + j;                                          \
            }                                                                                  \
            if (contig) {                                                                      \
                /* The window's rows read in place (a row of cval where the row is outside), \
                 * registers of lanes over all taps: no sums stored between the rows. */     \
                for (idx_t t = 0; t < nv; t++) {                                               \
                    idx_t sr = p->rowidx[y * p->vstride + p->vrows[t]];                        \
                    rp[t] = sr < 0 ? cvl : (const T *)p->src + (sr * p->src_cols + scol[0]) * C; \
                }                                                                              \
                idx_t i = AT_COLS(SN, (const T *const *)rp, nv, wv, L, acc, wacc);            \
                for (; i < L; i++) AT_CHUNK(T, 1)                                              \
            }                                                                                  \
            for (idx_t t = 0; t < nv && !contig; t++) {                                        \
                idx_t sr = p->rowidx[y * p->vstride + p->vrows[t]];                            \
                const UT *row = (const UT *)p->src + (sr < 0 ? 0 : sr) * p->src_cols * C;      \
                const T w = wv[t];                                                             \
                {                                                                              \
                    for (idx_t j = 0; j < nh; j++)                                             \
                        for (idx_t c = 0; c < C; c++) {                                        \
                            if (sr < 0 || scol[j] < 0) {                                       \
                                zv[j * C + c] = cz, wt[j * C + c] = cw;                        \
                                continue;                                                      \
                            }                                                                  \
                            UT g = row[scol[j] * C + c], bad = (UT)((g & ABS) > INF);          \
                            zv[j * C + c] = g & (bad - (UT)1);                                 \
                            wt[j * C + c] = bad ? (T)0 : (T)1;                                 \
                        }                                                                      \
                }                                                                              \
                const T *restrict z = (const T *)(const void *)zv;                             \
                if (t == 0) {                                                                  \
                    for (idx_t i = 0; i < L; i++) acc[i] = w * z[i], wacc[i] = w * wt[i];      \
                } else {                                                                       \
                    for (idx_t i = 0; i < L; i++) acc[i] += w * z[i], wacc[i] += w * wt[i];    \
                }                                                                              \
            }                                                                                  \
            for (idx_t c = 0; c < C; c++) {                                                    \
                T a = wh[0] * acc[c], d = wh[0] * wacc[c];                                     \
                for (idx_t j = 1; j < nh; j++) a += wh[j] * acc[j * C + c], d += wh[j] * wacc[j * C + c]; \
                num[k * C + c] = a, den[k * C + c] = d;                                        \
            }                                                                                  \
        }                                                                                      \
    }
DEFINE_NAN_AT(f32, float, uint32_t, 0x7fffffffu, 0x7f800000u)
DEFINE_NAN_AT(f64, double, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull)
static n2at_fn NAME(n2at_table)[2] = {NAME(n2at_f32), NAME(n2at_f64)};

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
#undef DEFINE_S2_AS
#undef DEFINE_FETCH_AS
#undef FETCH_CAST
#undef FETCH_LUT
#undef RUN_CAST
#undef RUN_LUT
#undef DEFINE_DECODE_RUN
#undef DECODE_GATHER
#undef WIDEN_U8
#undef WIDEN_U16
#undef DEFINE_PK2
#undef DEFINE_PK2_AS
#undef DEFINE_PK4_AS
#undef DEFINE_PKU
#undef PK_LOOPS
#undef BY_W
#undef ONE_W
#undef S2_HORIZONTAL
#undef DEFINE_T2
#undef TILE_LOOP_BEGIN
#undef TILE_LOOP_END
#undef ROW_POINTERS
#undef CVROW
#undef DEFINE_PK
#undef DEFINE_FETCH
#undef DEFINE_NFETCH
#undef DEFINE_NAN_PASS
#undef N2_FINISH
#undef DEFINE_NAN_AT
#undef AT_CHUNK
#undef AT_COLS
#undef IS_FLOAT
#undef SLICE
#undef VEC
#undef UNROLL
#undef F64_ROWS16
#undef F64_OFFS16
#undef IS_F64
#undef NF_GROUPS
#undef PF_AHEAD
#undef PREFETCH_ROW
#undef NAME
#undef CAT
#undef CAT2
