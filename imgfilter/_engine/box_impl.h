/* Body of the fused box kernel, included once per instruction set (box.c
 * defines SUFFIX and TARGET). One band of output rows: the extended row of
 * column sums is primed from the band's first kv source rows, then per
 * output row updated by the entering and leaving rows, its margins filled
 * through the column table, summed along the row and stored. Sums are
 * unsigned and modular (KT): every partial sum may wrap, the window's true
 * sum fits (the caller sizes KT), so the result is exact. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Direct horizontal sums up to this many taps; longer windows take the
 * running sum, whose cost does not grow with the window. */
#define BOX_DIRECT_MAX 12

/* h[i] = sum of K taps C apart: K a constant, so the taps unroll and the
 * loop over i vectorizes with its sum in registers. */
#define BOX_HSUM(KT, K)                                                                          \
    for (idx_t i = 0; i < n; i++) {                                                              \
        KT a = ext[i];                                                                           \
        for (int t = 1; t < (K); t++) a = (KT)(a + ext[i + t * C]);                              \
        h[i] = a;                                                                                \
    }

/* Running sums along the row, CC (a constant) channels kept in registers:
 * each step adds the entering column sum and subtracts the leaving one. */
#define BOX_HRUN(KT, CC)                                                                         \
    {                                                                                            \
        KT a[CC];                                                                                \
        for (int c = 0; c < (CC); c++) {                                                         \
            a[c] = ext[c];                                                                       \
            for (idx_t t = 1; t < kh; t++) a[c] = (KT)(a[c] + ext[t * (CC) + c]);                \
            h[c] = a[c];                                                                         \
        }                                                                                        \
        const KT *enter = ext + (kh - 1) * (CC);                                                 \
        for (idx_t x = 1; x < cols; x++)                                                         \
            for (int c = 0; c < (CC); c++) {                                                     \
                a[c] = (KT)(a[c] + (KT)(enter[x * (CC) + c] - ext[(x - 1) * (CC) + c]));         \
                h[x * (CC) + c] = a[c];                                                          \
            }                                                                                    \
    }

#define DEFINE_HSUM(KN, KT)                                                                      \
    TARGET static void NAME(hsum_##KN)(const KT *restrict ext, KT *restrict h, idx_t cols, idx_t C, \
                                        idx_t kh) {                                              \
        idx_t n = cols * C;                                                                      \
        switch (kh <= BOX_DIRECT_MAX ? kh : 0) {                                                 \
        case 1: memcpy(h, ext, sizeof(KT) * (size_t)n); return;                                  \
        case 2: BOX_HSUM(KT, 2) return;                                                          \
        case 3: BOX_HSUM(KT, 3) return;                                                          \
        case 4: BOX_HSUM(KT, 4) return;                                                          \
        case 5: BOX_HSUM(KT, 5) return;                                                          \
        case 6: BOX_HSUM(KT, 6) return;                                                          \
        case 7: BOX_HSUM(KT, 7) return;                                                          \
        case 8: BOX_HSUM(KT, 8) return;                                                          \
        case 9: BOX_HSUM(KT, 9) return;                                                          \
        case 10: BOX_HSUM(KT, 10) return;                                                        \
        case 11: BOX_HSUM(KT, 11) return;                                                        \
        case 12: BOX_HSUM(KT, 12) return;                                                        \
        default: break;                                                                          \
        }                                                                                        \
        switch (C) {                                                                             \
        case 1: BOX_HRUN(KT, 1) return;                                                          \
        case 2: BOX_HRUN(KT, 2) return;                                                          \
        case 3: BOX_HRUN(KT, 3) return;                                                          \
        case 4: BOX_HRUN(KT, 4) return;                                                          \
        default: break;                                                                          \
        }                                                                                        \
        for (idx_t c = 0; c < C; c++) {                                                          \
            KT a = ext[c];                                                                       \
            for (idx_t t = 1; t < kh; t++) a = (KT)(a + ext[t * C + c]);                         \
            h[c] = a;                                                                            \
        }                                                                                        \
        const KT *enter = ext + (kh - 1) * C;                                                    \
        for (idx_t i = C; i < n; i++) h[i] = (KT)(h[i - C] + (KT)(enter[i] - ext[i - C]));       \
    }

/* The separable pass's unsigned store (linear_impl.h: divide, clip to HI,
 * round half to even with one add and subtract of 1.5 * 2^mantissa), for
 * 8- and 16-bit results; with `recip` the division is a multiplication by
 * the correctly rounded 1 / divide, which box.c allows only where it gives
 * the same integers (an odd count and sums below 2^(mantissa - 1), see there). */
#define DEFINE_FSTORE(KN, KT, DN, DT, HI, WN, WT, BIG)                                           \
    TARGET static void NAME(fstore_##KN##_##DN##_##WN)(const void *h_, void *d_, idx_t n,        \
                                                        double divide, int recip) {              \
        const KT *h = (const KT *)h_;                                                            \
        DT *restrict d = (DT *)d_;                                                               \
        const WT magic = (WT)1.5 * (WT)BIG;                                                      \
        if (recip) {                                                                             \
            const WT r = (WT)1 / (WT)divide;                                                     \
            for (idx_t i = 0; i < n; i++) {                                                      \
                WT v = (WT)h[i] * r;                                                             \
                v = v < (WT)(HI) ? v : (WT)(HI);                                                 \
                d[i] = (DT)(int32_t)((v + magic) - magic);                                       \
            }                                                                                    \
        } else {                                                                                 \
            const WT q = (WT)divide;                                                             \
            for (idx_t i = 0; i < n; i++) {                                                      \
                WT v = (WT)h[i] / q;                                                             \
                v = v < (WT)(HI) ? v : (WT)(HI);                                                 \
                d[i] = (DT)(int32_t)((v + magic) - magic);                                       \
            }                                                                                    \
        }                                                                                        \
    }

#define FSTORES(KN, KT)                                                                          \
    DEFINE_HSUM(KN, KT)                                                                          \
    DEFINE_FSTORE(KN, KT, u8, uint8_t, UINT8_MAX, f32, float, 8388608.0f)                        \
    DEFINE_FSTORE(KN, KT, u8, uint8_t, UINT8_MAX, f64, double, 4503599627370496.0)               \
    DEFINE_FSTORE(KN, KT, u16, uint16_t, UINT16_MAX, f32, float, 8388608.0f)                     \
    DEFINE_FSTORE(KN, KT, u16, uint16_t, UINT16_MAX, f64, double, 4503599627370496.0)

FSTORES(u16, uint16_t)
FSTORES(u32, uint32_t)
FSTORES(u64, uint64_t)

#define DEFINE_BOX(SN, ST, KN, KT, SKT)                                                          \
    TARGET static void NAME(box_##SN##_##KN)(const box_t *p) {                                   \
        const ST *src = (const ST *)p->src;                                                      \
        const ST *crow = (const ST *)p->crow;                                                    \
        const idx_t C = p->chan, n = p->cols * C, kv = p->kv, kh = p->kh;                        \
        const idx_t ext_px = p->cols + kh - 1, lpad = p->lpad;                                   \
        KT *restrict ext = (KT *)p->state;                                                       \
        KT *restrict col = ext + lpad * C;                                                       \
        const KT kc = (KT)p->kcval;                                                              \
        const int direct_out = !p->st && !p->fst && !p->conv;                                    \
        {                                                                                        \
            idx_t r = p->rowidx[0];                                                              \
            const ST *s = r < 0 ? crow : src + r * n;                                            \
            for (idx_t i = 0; i < n; i++) col[i] = (KT)s[i];                                     \
            for (idx_t t = 1; t < kv; t++) {                                                     \
                r = p->rowidx[t];                                                                \
                s = r < 0 ? crow : src + r * n;                                                  \
                for (idx_t i = 0; i < n; i++) col[i] = (KT)(col[i] + (KT)s[i]);                  \
            }                                                                                    \
        }                                                                                        \
        for (idx_t y = 0; y < p->rows; y++) {                                                    \
            if (y > 0) {                                                                         \
                idx_t ra = p->rowidx[y + kv - 1], rs = p->rowidx[y - 1];                         \
                const ST *add = ra < 0 ? crow : src + ra * n;                                    \
                const ST *sub = rs < 0 ? crow : src + rs * n;                                    \
                for (idx_t i = 0; i < n; i++) col[i] = (KT)(col[i] + (KT)((KT)add[i] - (KT)sub[i])); \
            }                                                                                    \
            for (idx_t q = 0; q < ext_px; q++) {                                                 \
                if (q == lpad) q = lpad + p->cols;                                               \
                if (q >= ext_px) break;                                                          \
                idx_t ci = p->colidx[q];                                                         \
                for (idx_t c = 0; c < C; c++) ext[q * C + c] = ci < 0 ? kc : col[ci * C + c];    \
            }                                                                                    \
            char *drow = p->dst + y * p->dst_row_bytes;                                          \
            KT *h = direct_out ? (KT *)(void *)drow : (KT *)p->hrow;                             \
            NAME(hsum_##KN)(ext, h, p->cols, C, kh);                                             \
            if (p->conv == 1) {                                                                  \
                float *f = p->st ? (float *)p->frow : (float *)(void *)drow;                     \
                for (idx_t i = 0; i < n; i++) f[i] = (float)(SKT)h[i];                           \
            } else if (p->conv == 2) {                                                           \
                double *f = p->st ? (double *)p->frow : (double *)(void *)drow;                  \
                for (idx_t i = 0; i < n; i++) f[i] = (double)(SKT)h[i];                          \
            }                                                                                    \
            if (p->fst) p->fst(h, drow, n, p->divide, p->recip);                                 \
            else if (p->st) p->st(p->conv ? p->frow : (const void *)h, drow, n, p->divide);      \
        }                                                                                        \
    }

#define BOX_K(SN, ST)                                                                            \
    DEFINE_BOX(SN, ST, u16, uint16_t, int16_t)                                                   \
    DEFINE_BOX(SN, ST, u32, uint32_t, int32_t)                                                   \
    DEFINE_BOX(SN, ST, u64, uint64_t, int64_t)

BOX_K(u8, uint8_t)
BOX_K(i8, int8_t)
BOX_K(u16, uint16_t)
BOX_K(i16, int16_t)
BOX_K(u32, uint32_t)
BOX_K(i32, int32_t)
BOX_K(u64, uint64_t)
BOX_K(i64, int64_t)

/* box_table[source type][accumulator: u16, u32, u64]; float sources have none. */
#define BROW(S) {NAME(box_##S##_u16), NAME(box_##S##_u32), NAME(box_##S##_u64)}
static box_fn NAME(box_table)[T_COUNT][3] = {BROW(u8),  BROW(i8),  BROW(u16), BROW(i16),
                                             BROW(u32), BROW(i32), BROW(u64), BROW(i64),
                                             {NULL, NULL, NULL}, {NULL, NULL, NULL}};
/* fstore_table[accumulator][result: u8, u16][work is f64] */
#define FROW(K) {{NAME(fstore_##K##_u8_f32), NAME(fstore_##K##_u8_f64)}, {NAME(fstore_##K##_u16_f32), NAME(fstore_##K##_u16_f64)}}
static box_store_fn NAME(fstore_table)[3][2][2] = {FROW(u16), FROW(u32), FROW(u64)};
#undef FROW
#undef BROW
#undef BOX_K
#undef DEFINE_BOX
#undef FSTORES
#undef DEFINE_FSTORE
#undef DEFINE_HSUM
#undef BOX_HRUN
#undef BOX_HSUM
#undef BOX_DIRECT_MAX
#undef NAME
#undef CAT
#undef CAT2
