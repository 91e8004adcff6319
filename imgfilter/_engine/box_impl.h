/* Body of the fused box kernel, included once per instruction set (isa.h
 * defines SUFFIX and TARGET for box.c). One band of output rows: the
 * extended row of column sums is primed from the band's first kv source
 * rows, then per output row updated by the entering and leaving rows, its
 * margins filled through the column table, summed along the row and
 * stored. Sums are unsigned and modular (KT): every partial sum may wrap,
 * the window's true sum fits (the caller sizes KT), so the result is
 * exact. */

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
 * PRIME sums the first window, each STEP adds the entering column sum and
 * subtracts the leaving one, the window at x stored at h[AT]. */
#define BOX_HRUN_PRIME(KT, CC)                                                                   \
    KT a[CC];                                                                                    \
    for (int c = 0; c < (CC); c++) {                                                             \
        a[c] = ext[c];                                                                           \
        for (idx_t t = 1; t < kh; t++) a[c] = (KT)(a[c] + ext[t * (CC) + c]);                    \
    }                                                                                            \
    const KT *enter = ext + (kh - 1) * (CC);
#define BOX_HRUN_STEP(KT, CC, X, AT)                                                             \
    for (int c = 0; c < (CC); c++) {                                                             \
        a[c] = (KT)(a[c] + (KT)(enter[(X) * (CC) + c] - ext[((X) - 1) * (CC) + c]));             \
        h[(AT) + c] = a[c];                                                                      \
    }
#define BOX_HRUN(KT, CC)                                                                         \
    {                                                                                            \
        BOX_HRUN_PRIME(KT, CC)                                                                   \
        for (int c = 0; c < (CC); c++) h[c] = a[c];                                              \
        for (idx_t x = 1; x < cols; x++) BOX_HRUN_STEP(KT, CC, x, x * (CC))                      \
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

/* hsum's running sums (CC channels) in chunks of BOX_CHUNK pixels, each
 * chunk stored by the box's own store while it is in L1 (h holds one
 * chunk): a whole row of sums went out to L2 and back. */
#define BOX_CHUNK 128
#define BOX_HRUN_STORE(KT, CC)                                                                   \
    {                                                                                            \
        BOX_HRUN_PRIME(KT, CC)                                                                   \
        for (idx_t x0 = 0; x0 < cols; x0 += BOX_CHUNK) {                                         \
            idx_t x1 = cols - x0 < BOX_CHUNK ? cols : x0 + BOX_CHUNK;                            \
            idx_t x = x0;                                                                        \
            if (x == 0)                                                                          \
                for (int c = 0; c < (CC); c++) h[c] = a[c];                                      \
            for (x += x == 0; x < x1; x++) BOX_HRUN_STEP(KT, CC, x, (x - x0) * (CC))             \
            fst(h, d + x0 * (CC) * dsize, (x1 - x0) * (CC), divide, recip, clip);                \
        }                                                                                        \
    }

#define DEFINE_HRUN_STORE(KN, KT)                                                                \
    TARGET static int NAME(hrun_store_##KN)(const KT *restrict ext, KT *restrict h, char *d, idx_t dsize, \
                                            idx_t cols, idx_t C, idx_t kh, box_store_fn fst,     \
                                            double divide, int recip, int clip) {                \
        switch (C) {                                                                             \
        case 1: BOX_HRUN_STORE(KT, 1) return 1;                                                  \
        case 2: BOX_HRUN_STORE(KT, 2) return 1;                                                  \
        case 3: BOX_HRUN_STORE(KT, 3) return 1;                                                  \
        case 4: BOX_HRUN_STORE(KT, 4) return 1;                                                  \
        default: return 0;                                                                       \
        }                                                                                        \
    }

/* The separable pass's unsigned store (linear_impl.h: divide, clip to HI,
 * round half to even with one add of 1.5 * 2^mantissa, whose bits then hold
 * the integer in their low bits), for 8- and 16-bit results. box.c proves
 * the shortcuts it allows: `recip` multiplies by the correctly rounded
 * 1 / divide (an odd count, sums below 2^(mantissa - 2)), `clip` is off
 * where no mean can exceed HI; the integers are the same. */
#define FSTORE_LOOP(KT, DT, HI, WT, UT, OP, RT)                                                  \
    for (idx_t i = 0; i < n; i++) {                                                              \
        WT v = (WT)(RT)h[i] OP r;                                                                \
        if (clip) v = v < (WT)(HI) ? v : (WT)(HI);                                               \
        WT w = v + magic;                                                                        \
        UT u;                                                                                    \
        memcpy(&u, &w, sizeof u);                                                                \
        d[i] = (DT)u;                                                                            \
    }

/* RT: the type the sums convert through. Multiplying implies sums below
 * 2^22 (float32) or 2^51 (float64), so a signed one holds them exactly, and
 * AVX2 converts signed 32-bit integers in one instruction where unsigned
 * ones take five (measured: a third of the 31x31 box's store). */
#define DEFINE_FSTORE(KN, KT, RT, DN, DT, HI, WN, WT, UT, BIG)                                   \
    TARGET static void NAME(fstore_##KN##_##DN##_##WN)(const void *h_, void *d_, idx_t n,        \
                                                        double divide, int recip, int clip) {    \
        const KT *h = (const KT *)h_;                                                            \
        DT *restrict d = (DT *)d_;                                                               \
        const WT magic = (WT)1.5 * (WT)BIG;                                                      \
        if (recip) {                                                                             \
            const WT r = (WT)1 / (WT)divide;                                                     \
            if (clip) FSTORE_LOOP(KT, DT, HI, WT, UT, *, RT) else FSTORE_LOOP(KT, DT, HI, WT, UT, *, RT) \
        } else {                                                                                 \
            const WT r = (WT)divide;                                                             \
            if (clip) FSTORE_LOOP(KT, DT, HI, WT, UT, /, KT) else FSTORE_LOOP(KT, DT, HI, WT, UT, /, KT) \
        }                                                                                        \
    }

/* The direct horizontal sums (K taps, K a constant) and that store in one
 * loop, for the common case (multiplying, no clip): the sums stay in
 * registers. */
#define HSTORE_K(KT, DT, WT, UT, K, RT)                                                          \
    for (idx_t i = 0; i < n; i++) {                                                              \
        KT a = ext[i];                                                                           \
        for (int t = 1; t < (K); t++) a = (KT)(a + ext[i + t * C]);                              \
        WT w = (WT)(RT)a * r + magic;                                                            \
        UT u;                                                                                    \
        memcpy(&u, &w, sizeof u);                                                                \
        d[i] = (DT)u;                                                                            \
    }

#define DEFINE_HSTORE(KN, KT, RT, DN, DT, WN, WT, UT, BIG)                                       \
    TARGET static int NAME(hstore_##KN##_##DN##_##WN)(const KT *restrict ext, void *d_, idx_t n,  \
                                                       idx_t C, idx_t kh, double divide) {       \
        DT *restrict d = (DT *)d_;                                                               \
        const WT magic = (WT)1.5 * (WT)BIG, r = (WT)1 / (WT)divide;                              \
        switch (kh) {                                                                            \
        case 1: HSTORE_K(KT, DT, WT, UT, 1, RT) return 1;                                            \
        case 2: HSTORE_K(KT, DT, WT, UT, 2, RT) return 1;                                            \
        case 3: HSTORE_K(KT, DT, WT, UT, 3, RT) return 1;                                            \
        case 4: HSTORE_K(KT, DT, WT, UT, 4, RT) return 1;                                            \
        case 5: HSTORE_K(KT, DT, WT, UT, 5, RT) return 1;                                            \
        case 6: HSTORE_K(KT, DT, WT, UT, 6, RT) return 1;                                            \
        case 7: HSTORE_K(KT, DT, WT, UT, 7, RT) return 1;                                            \
        case 8: HSTORE_K(KT, DT, WT, UT, 8, RT) return 1;                                            \
        case 9: HSTORE_K(KT, DT, WT, UT, 9, RT) return 1;                                            \
        case 10: HSTORE_K(KT, DT, WT, UT, 10, RT) return 1;                                          \
        case 11: HSTORE_K(KT, DT, WT, UT, 11, RT) return 1;                                          \
        case 12: HSTORE_K(KT, DT, WT, UT, 12, RT) return 1;                                          \
        default: return 0;                                                                       \
        }                                                                                        \
    }

/* 8-bit means of 16-bit sums in integers: with an odd count q no mean is a
 * tie, so the rounded mean is floor((2a + q) / 2q), here a multiply-high by
 * m and a shift that box.c checked against the division for every 2a + q
 * the sums can reach (the integers the float store gives, see there). */
#if defined(BOX_X86) && defined(ISA_AVX2)
/* The multiply-high spelled out: GCC widens it to 32 bits otherwise (measured). */
#define HSTORE_INT_VEC(K)                                                                        \
    {                                                                                            \
        const __m256i vq = _mm256_set1_epi16((short)q), vm = _mm256_set1_epi16((short)m);        \
        const __m128i vs = _mm_cvtsi32_si128(sh);                                                \
        for (; i + 32 <= n; i += 32) {                                                           \
            __m256i a0 = _mm256_loadu_si256((const __m256i *)(ext + i));                         \
            __m256i a1 = _mm256_loadu_si256((const __m256i *)(ext + i + 16));                    \
            for (int t = 1; t < (K); t++) {                                                      \
                a0 = _mm256_add_epi16(a0, _mm256_loadu_si256((const __m256i *)(ext + i + t * C)));      \
                a1 = _mm256_add_epi16(a1, _mm256_loadu_si256((const __m256i *)(ext + i + 16 + t * C))); \
            }                                                                                    \
            a0 = _mm256_srl_epi16(_mm256_mulhi_epu16(_mm256_add_epi16(_mm256_add_epi16(a0, a0), vq), vm), vs); \
            a1 = _mm256_srl_epi16(_mm256_mulhi_epu16(_mm256_add_epi16(_mm256_add_epi16(a1, a1), vq), vm), vs); \
            _mm256_storeu_si256((__m256i *)(d + i), _mm256_permute4x64_epi64(_mm256_packus_epi16(a0, a1), 0xd8)); \
        }                                                                                        \
    }
#elif defined(BOX_X86)
#define HSTORE_INT_VEC(K)                                                                        \
    {                                                                                            \
        const __m128i vq = _mm_set1_epi16((short)q), vm = _mm_set1_epi16((short)m);              \
        const __m128i vs = _mm_cvtsi32_si128(sh);                                                \
        for (; i + 16 <= n; i += 16) {                                                           \
            __m128i a0 = _mm_loadu_si128((const __m128i *)(ext + i));                            \
            __m128i a1 = _mm_loadu_si128((const __m128i *)(ext + i + 8));                        \
            for (int t = 1; t < (K); t++) {                                                      \
                a0 = _mm_add_epi16(a0, _mm_loadu_si128((const __m128i *)(ext + i + t * C)));     \
                a1 = _mm_add_epi16(a1, _mm_loadu_si128((const __m128i *)(ext + i + 8 + t * C))); \
            }                                                                                    \
            a0 = _mm_srl_epi16(_mm_mulhi_epu16(_mm_add_epi16(_mm_add_epi16(a0, a0), vq), vm), vs); \
            a1 = _mm_srl_epi16(_mm_mulhi_epu16(_mm_add_epi16(_mm_add_epi16(a1, a1), vq), vm), vs); \
            _mm_storeu_si128((__m128i *)(d + i), _mm_packus_epi16(a0, a1));                      \
        }                                                                                        \
    }
#else
#define HSTORE_INT_VEC(K)
#endif

#define HSTORE_INT_K(K)                                                                          \
    {                                                                                            \
        idx_t i = 0;                                                                             \
        HSTORE_INT_VEC(K)                                                                        \
        for (; i < n; i++) {                                                                     \
            uint16_t a = ext[i];                                                                 \
            for (int t = 1; t < (K); t++) a = (uint16_t)(a + ext[i + t * C]);                    \
            uint16_t x = (uint16_t)(2 * a + q);                                                  \
            d[i] = (uint8_t)((uint16_t)(((uint32_t)x * m) >> 16) >> sh);                         \
        }                                                                                        \
    }

TARGET static int NAME(hstore_int_u16_u8)(const uint16_t *restrict ext, uint8_t *restrict d, idx_t n, idx_t C,
                                          idx_t kh, uint16_t q, uint16_t m, int sh) {
    switch (kh) {
    case 1: HSTORE_INT_K(1) return 1;
    case 2: HSTORE_INT_K(2) return 1;
    case 3: HSTORE_INT_K(3) return 1;
    case 4: HSTORE_INT_K(4) return 1;
    case 5: HSTORE_INT_K(5) return 1;
    case 6: HSTORE_INT_K(6) return 1;
    case 7: HSTORE_INT_K(7) return 1;
    case 8: HSTORE_INT_K(8) return 1;
    case 9: HSTORE_INT_K(9) return 1;
    case 10: HSTORE_INT_K(10) return 1;
    case 11: HSTORE_INT_K(11) return 1;
    case 12: HSTORE_INT_K(12) return 1;
    default: return 0;
    }
}
#undef HSTORE_INT_VEC
#undef HSTORE_INT_K

#define FSTORES(KN, KT, RT)                                                                      \
    DEFINE_HSUM(KN, KT)                                                                          \
    DEFINE_HRUN_STORE(KN, KT)                                                                    \
    DEFINE_FSTORE(KN, KT, RT, u8, uint8_t, UINT8_MAX, f32, float, uint32_t, 8388608.0f)          \
    DEFINE_FSTORE(KN, KT, RT, u8, uint8_t, UINT8_MAX, f64, double, uint64_t, 4503599627370496.0) \
    DEFINE_FSTORE(KN, KT, RT, u16, uint16_t, UINT16_MAX, f32, float, uint32_t, 8388608.0f)       \
    DEFINE_FSTORE(KN, KT, RT, u16, uint16_t, UINT16_MAX, f64, double, uint64_t, 4503599627370496.0) \
    DEFINE_HSTORE(KN, KT, RT, u8, uint8_t, f32, float, uint32_t, 8388608.0f)                         \
    DEFINE_HSTORE(KN, KT, RT, u8, uint8_t, f64, double, uint64_t, 4503599627370496.0)                \
    DEFINE_HSTORE(KN, KT, RT, u16, uint16_t, f32, float, uint32_t, 8388608.0f)                       \
    DEFINE_HSTORE(KN, KT, RT, u16, uint16_t, f64, double, uint64_t, 4503599627370496.0)

FSTORES(u16, uint16_t, uint16_t)
FSTORES(u32, uint32_t, int32_t)
FSTORES(u64, uint64_t, int64_t)

#define HROW(K) {{NAME(hstore_##K##_u8_f32), NAME(hstore_##K##_u8_f64)}, {NAME(hstore_##K##_u16_f32), NAME(hstore_##K##_u16_f64)}}
typedef int (*NAME(hstore_u16_fn))(const uint16_t *, void *, idx_t, idx_t, idx_t, double);
typedef int (*NAME(hstore_u32_fn))(const uint32_t *, void *, idx_t, idx_t, idx_t, double);
typedef int (*NAME(hstore_u64_fn))(const uint64_t *, void *, idx_t, idx_t, idx_t, double);
static NAME(hstore_u16_fn) NAME(hstore_table_u16)[2][2] = HROW(u16);
static NAME(hstore_u32_fn) NAME(hstore_table_u32)[2][2] = HROW(u32);
static NAME(hstore_u64_fn) NAME(hstore_table_u64)[2][2] = HROW(u64);
#undef HROW

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
            /* No software prefetch of the next rows: the hardware's stream      \
             * prefetch does it, and the explicit loops cost (measured on the   \
             * Intel Xeon, one thread: box 5 5.0 -> 3.3 ms, box 31 11.9 ->      \
             * 10.5 without them). */                                           \
            char *drow = p->dst + y * p->dst_row_bytes;                                          \
            if (p->imul && NAME(hstore_int_u16_u8)((const uint16_t *)(const void *)ext, (uint8_t *)drow, n, C, kh, \
                                                   (uint16_t)p->divide, p->imul, p->ishift))     \
                continue;                                                                        \
            if (p->fst && p->recip && !p->clip &&                                                \
                NAME(hstore_table_##KN)[p->fst_dt][p->fst_f64](ext, drow, n, C, kh, p->divide))  \
                continue;                                                                        \
            if (p->fst && kh > BOX_DIRECT_MAX &&                                                 \
                NAME(hrun_store_##KN)(ext, (KT *)p->hrow, drow, p->fst_dt ? 2 : 1, p->cols, C, kh, p->fst, \
                                      p->divide, p->recip, p->clip))                             \
                continue;                                                                        \
            KT *h = direct_out ? (KT *)(void *)drow : (KT *)p->hrow;                             \
            NAME(hsum_##KN)(ext, h, p->cols, C, kh);                                             \
            if (p->conv == 1) {                                                                  \
                float *f = p->st ? (float *)p->frow : (float *)(void *)drow;                     \
                for (idx_t i = 0; i < n; i++) f[i] = (float)(SKT)h[i];                           \
            } else if (p->conv == 2) {                                                           \
                double *f = p->st ? (double *)p->frow : (double *)(void *)drow;                  \
                for (idx_t i = 0; i < n; i++) f[i] = (double)(SKT)h[i];                          \
            }                                                                                    \
            if (p->fst) p->fst(h, drow, n, p->divide, p->recip, p->clip);                                 \
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
#undef FSTORE_LOOP
#undef DEFINE_HSTORE
#undef HSTORE_K
#undef DEFINE_HSUM
#undef DEFINE_HRUN_STORE
#undef BOX_HRUN_STORE
#undef BOX_CHUNK
#undef BOX_HRUN
#undef BOX_HRUN_PRIME
#undef BOX_HRUN_STEP
#undef BOX_HSUM
#undef BOX_DIRECT_MAX
#undef NAME
#undef CAT
#undef CAT2
