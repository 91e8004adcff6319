/* Body of the fused small separable kernel, included once per instruction
 * set (isa.h defines SUFFIX and TARGET for sep_small.c). Per output row:
 * the columns whose taps reach beyond the image through the column table,
 * one element at a time; the rest in place, a vector of outputs at a time
 * (AVX2: intrinsics; baseline: the same loop the compiler vectorizes). Per
 * element the operations, their order and their types are those of the
 * separable pass (linear_impl.h) with an f32 accumulator and f32 work. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* The vertical taps at element `at` of the rows P (in tap order). */
#define DEFINE_VSUM(SN, ST)                                                                   \
    TARGET static inline float NAME(ss_vsum_##SN)(const ST *const *P, idx_t at, const float *w, \
                                                  int nv) {                                    \
        float a = w[0] * (float)P[0][at];                                                      \
        for (int t = 1; t < nv; t++) a += w[t] * (float)P[t][at];                              \
        return a;                                                                              \
    }

DEFINE_VSUM(u8, uint8_t)
DEFINE_VSUM(u16, uint16_t)
DEFINE_VSUM(f32, float)

/* The store of one sum: divided, then for integers clipped (NaN to 0) and
 * rounded half to even, as linear_impl.h's store does for LO == 0. */
#define DEFINE_FINISH(DN, DT, IS_INT, HI)                                                     \
    TARGET static inline DT NAME(ss_finish_##DN)(const ss_t *p, float v) {                   \
        if (p->div == 1) v = v * p->recip;                                                     \
        else if (p->div == 2) v = v / p->q;                                                    \
        if (!(IS_INT)) return (DT)v;                                                           \
        const float magic = 1.5f * 8388608.0f;                                                 \
        v = v > 0.0f ? v : 0.0f;                                                               \
        v = v < (float)(HI) ? v : (float)(HI);                                                 \
        return (DT)(int32_t)((v + magic) - magic);                                             \
    }

DEFINE_FINISH(u8, uint8_t, 1, 255)
DEFINE_FINISH(u16, uint16_t, 1, 65535)
DEFINE_FINISH(f32, float, 0, 0)

#if defined(ISA_AVX2) && defined(SS_X86)
TARGET static inline __m256 NAME(ss_load_u8)(const uint8_t *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)q)));
}
TARGET static inline __m256 NAME(ss_load_u16)(const uint16_t *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)q)));
}
TARGET static inline __m256 NAME(ss_load_f32)(const float *q) { return _mm256_loadu_ps(q); }

/* The scalar finish on 8 lanes: the same division; max/min map NaN to 0 as
 * the scalar selects do, and the conversion rounds half to even (the
 * default rounding mode, as the magic-number addition does). */
TARGET static inline __m256 NAME(ss_div8)(const ss_t *p, __m256 v) {
    if (p->div == 1) return _mm256_mul_ps(v, _mm256_set1_ps(p->recip));
    if (p->div == 2) return _mm256_div_ps(v, _mm256_set1_ps(p->q));
    return v;
}
TARGET static inline void NAME(ss_store_u8)(const ss_t *p, uint8_t *d, __m256 v) {
    v = NAME(ss_div8)(p, v);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    __m256i i = _mm256_cvtps_epi32(v);
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64((__m128i *)(void *)d, _mm_packus_epi16(w, w));
}
TARGET static inline void NAME(ss_store_u16)(const ss_t *p, uint16_t *d, __m256 v) {
    v = NAME(ss_div8)(p, v);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(65535.0f));
    __m256i i = _mm256_cvtps_epi32(v);
    _mm_storeu_si128((__m128i *)(void *)d,
                     _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1)));
}
TARGET static inline void NAME(ss_store_f32)(const ss_t *p, float *d, __m256 v) {
    _mm256_storeu_ps(d, NAME(ss_div8)(p, v));
}

/* 16-bit lanes of 16 unsigned 8-bit values at q. */
#define SS_W16(q) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(q)))

/* The sums / 2^s rounded half to even (q + 1 exactly where the remainder
 * passes half, or is half and q is odd) and clipped: the integers the float
 * store gives these exact sums. */
TARGET static inline __m256i NAME(ss_iround)(__m256i h, __m128i s, __m256i half1, __m256i one, __m256i top,
                                            int shift) {
    if (shift) {
        __m256i q = _mm256_srl_epi16(h, s);
        h = _mm256_srl_epi16(_mm256_add_epi16(h, _mm256_add_epi16(half1, _mm256_and_si256(q, one))), s);
    }
    return _mm256_min_epu16(h, top);
}

/* 16 outputs at element `at`: nv vertical taps (rows P0..P2) at each of nh
 * horizontal offsets ho (constants where inlined into DEFINE_IROW's loops). */
TARGET static inline __attribute__((always_inline)) __m256i NAME(ss_isum)(
    int nv, int nh, idx_t at, const uint8_t *P0, const uint8_t *P1, const uint8_t *P2, const idx_t *ho,
    const __m256i *wv, const __m256i *wh) {
    __m256i h = _mm256_setzero_si256();
    for (int k = 0; k < nh; k++) {
        idx_t o = at + ho[k];
        __m256i a = _mm256_mullo_epi16(SS_W16(P0 + o), wv[0]);
        if (nv > 1) a = _mm256_add_epi16(a, _mm256_mullo_epi16(SS_W16(P1 + o), wv[1]));
        if (nv > 2) a = _mm256_add_epi16(a, _mm256_mullo_epi16(SS_W16(P2 + o), wv[2]));
        a = _mm256_mullo_epi16(a, wh[k]);
        h = k ? _mm256_add_epi16(h, a) : a;
    }
    return h;
}
#define SS_ISUM(NV, NH, at) \
    NAME(ss_iround)(NAME(ss_isum)(NV, NH, at, P0, P1, P2, ho, wv, wh), s, half1, one, top, shift)

/* Interior elements [0, n) of a row in 16-bit lanes, NV x NH taps known to the
 * compiler (the loops unroll, the weights stay in registers); returns how
 * many were done. Integer sums are exact, so their order is free. */
#define DEFINE_IROW(NV, NH)                                                                   \
    TARGET static idx_t NAME(ss_irow_##NV##_##NH)(const ss_t *p, const uint8_t *const *P, idx_t base, \
                                                   uint8_t *restrict d, idx_t n) {             \
        __m256i wv[SS_MAX], wh[SS_MAX];                                                        \
        idx_t ho[SS_MAX];                                                                      \
        for (int t = 0; t < SS_MAX; t++) {                                                     \
            wv[t] = _mm256_set1_epi16((short)(t < p->nv ? p->iwv[t] : 0));                     \
            wh[t] = _mm256_set1_epi16((short)(t < p->nh ? p->iwh[t] : 0));                     \
            ho[t] = t < p->nh ? p->th[t] * p->chan : 0;                                        \
        }                                                                                      \
        /* The 3 x 3 form serves smaller counts: its spare taps read row 0 (weight 0). */    \
        const uint8_t *P0 = P[0], *P1 = P[p->nv > 1 ? 1 : 0], *P2 = P[p->nv > 2 ? 2 : 0];     \
        const int shift = p->ishift;                                                           \
        const __m128i s = _mm_cvtsi32_si128(shift);                                            \
        const __m256i half1 = _mm256_set1_epi16((short)(shift ? (1 << (shift - 1)) - 1 : 0));  \
        const __m256i one = _mm256_set1_epi16(1), top = _mm256_set1_epi16(255);                \
        idx_t i = 0;                                                                           \
        for (; i + 32 <= n; i += 32) {                                                         \
            __m256i a = SS_ISUM(NV, NH, base + i);                                             \
            __m256i b = SS_ISUM(NV, NH, base + i + 16);                                        \
            /* packus works within 128-bit lanes: put the quarters back in order. */          \
            __m256i r = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8);             \
            _mm256_storeu_si256((__m256i *)(void *)(d + i), r);                                \
        }                                                                                      \
        for (; i + 16 <= n; i += 16) {                                                         \
            __m256i a = SS_ISUM(NV, NH, base + i);                                             \
            __m128i r = _mm_packus_epi16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1)); \
            _mm_storeu_si128((__m128i *)(void *)(d + i), r);                                   \
        }                                                                                      \
        return i;                                                                              \
    }
DEFINE_IROW(1, 1)
DEFINE_IROW(1, 2)
DEFINE_IROW(2, 1)
DEFINE_IROW(2, 2)
DEFINE_IROW(3, 3)

TARGET static idx_t NAME(ss_irow)(const ss_t *p, const uint8_t *const *P, idx_t base, uint8_t *d, idx_t n) {
    if (p->nv == 2 && p->nh == 2) return NAME(ss_irow_2_2)(p, P, base, d, n);
    if (p->nv == 1 && p->nh == 2) return NAME(ss_irow_1_2)(p, P, base, d, n);
    if (p->nv == 2 && p->nh == 1) return NAME(ss_irow_2_1)(p, P, base, d, n);
    if (p->nv == 1 && p->nh == 1) return NAME(ss_irow_1_1)(p, P, base, d, n);
    /* Zero weights in the unused taps' lanes add nothing: 3 x 3 covers the rest. */
    return NAME(ss_irow_3_3)(p, P, base, d, n);
}
#undef DEFINE_IROW
#undef SS_ISUM
#undef SS_W16
#define SS_VEC 8
#endif

/* Interior elements [0, n) of a row, from element `base` of the source rows P. */
#define DEFINE_ROW(SN, ST, DN, DT)                                                            \
    TARGET static void NAME(ss_row_##SN##_##DN)(const ss_t *p, const ST *const *P, idx_t base,  \
                                                 DT *restrict d, idx_t n) {                     \
        idx_t i = 0, C = p->chan;                                                              \
        ROW_VECTOR(SN, DN)                                                                     \
        for (; i < n; i++) {                                                                   \
            idx_t o = base + i;                                                                \
            float h = p->wh[0] * NAME(ss_vsum_##SN)(P, o + p->th[0] * C, p->wv, p->nv);        \
            for (int k = 1; k < p->nh; k++)                                                    \
                h += p->wh[k] * NAME(ss_vsum_##SN)(P, o + p->th[k] * C, p->wv, p->nv);         \
            d[i] = NAME(ss_finish_##DN)(p, h);                                                 \
        }                                                                                      \
    }

#if defined(SS_VEC)
/* 8 outputs at element `at` in float32, in the scalar order: per horizontal
 * tap the vertical taps' sum, times its weight, added in tap order (the
 * first product is the sum itself: 0 + x would turn -0 into +0). */
#define DEFINE_FSUM(SN, ST)                                                                   \
    TARGET static inline __attribute__((always_inline)) __m256 NAME(ss_fsum_##SN)(            \
        int nv, int nh, idx_t at, const ST *const *P, const idx_t *ho, const __m256 *wv,       \
        const __m256 *wh) {                                                                    \
        __m256 h = _mm256_setzero_ps();                                                        \
        for (int k = 0; k < nh; k++) {                                                         \
            idx_t o = at + ho[k];                                                              \
            __m256 a = _mm256_mul_ps(wv[0], NAME(ss_load_##SN)(P[0] + o));                     \
            for (int t = 1; t < nv; t++) a = _mm256_add_ps(a, _mm256_mul_ps(wv[t], NAME(ss_load_##SN)(P[t] + o))); \
            a = _mm256_mul_ps(wh[k], a);                                                       \
            h = k ? _mm256_add_ps(h, a) : a;                                                   \
        }                                                                                      \
        return h;                                                                              \
    }
DEFINE_FSUM(u8, uint8_t)
DEFINE_FSUM(u16, uint16_t)
DEFINE_FSUM(f32, float)
#undef DEFINE_FSUM

/* A row loop's taps: the weights in 8 lanes each (spare taps weigh 0 and read
 * row 0), the horizontal taps' element offsets, the tap counts (NV, NH given:
 * known to the compiler) and a local copy of p (stores through d may not alias it). */
#define SS_LANES(ST, NV, NH)                                                                   \
        __m256 wv[SS_MAX], wh[SS_MAX];                                                         \
        idx_t ho[SS_MAX];                                                                      \
        const ST *Q[SS_MAX];                                                                   \
        for (int t = 0; t < SS_MAX; t++) {                                                     \
            wv[t] = _mm256_set1_ps(t < p->nv ? p->wv[t] : 0.0f);                               \
            wh[t] = _mm256_set1_ps(t < p->nh ? p->wh[t] : 0.0f);                               \
            ho[t] = t < p->nh ? p->th[t] * p->chan : 0;                                        \
            Q[t] = P[t < p->nv ? t : 0];                                                       \
        }                                                                                      \
        const int nv = (NV) ? (NV) : p->nv, nh = (NH) ? (NH) : p->nh;                          \
        ss_t q = *p;

/* Interior elements of a row, 8 at a time, nv x nh taps known to the compiler
 * where NV and NH are given (0: the loops read p's counts). */
#define DEFINE_FROW(SN, ST, DN, DT, NV, NH)                                                  \
    TARGET static idx_t NAME(ss_frow_##SN##_##DN##_##NV##_##NH)(const ss_t *p, const ST *const *P, \
                                                                idx_t base, DT *d, idx_t n) {  \
        SS_LANES(ST, NV, NH)                                                                   \
        idx_t i = 0;                                                                           \
        for (; i + SS_VEC <= n; i += SS_VEC)                                                   \
            NAME(ss_store_##DN)(&q, d + i, NAME(ss_fsum_##SN)(nv, nh, base + i, Q, ho, wv, wh)); \
        return i;                                                                              \
    }
#define DEFINE_FROWS(SN, ST, DN, DT)                                                         \
    DEFINE_FROW(SN, ST, DN, DT, 2, 2)                                                         \
    DEFINE_FROW(SN, ST, DN, DT, 0, 0)                                                         \
    TARGET static idx_t NAME(ss_frow_##SN##_##DN)(const ss_t *p, const ST *const *P, idx_t base, DT *d, \
                                                  idx_t n) {                                   \
        if (p->nv == 2 && p->nh == 2) return NAME(ss_frow_##SN##_##DN##_2_2)(p, P, base, d, n); \
        return NAME(ss_frow_##SN##_##DN##_0_0)(p, P, base, d, n);                              \
    }
DEFINE_FROWS(u8, uint8_t, u8, uint8_t)
DEFINE_FROWS(u8, uint8_t, u16, uint16_t)
DEFINE_FROWS(u8, uint8_t, f32, float)
DEFINE_FROWS(u16, uint16_t, u8, uint8_t)
DEFINE_FROWS(u16, uint16_t, u16, uint16_t)
DEFINE_FROWS(u16, uint16_t, f32, float)
DEFINE_FROWS(f32, float, u8, uint8_t)
DEFINE_FROWS(f32, float, u16, uint16_t)
DEFINE_FROWS(f32, float, f32, float)
#undef DEFINE_FROWS
#undef DEFINE_FROW

#define ROW_VECTOR(SN, DN)                                                                    \
    if (NAME(ss_ipath_ok_##SN##_##DN)(p)) i = NAME(ss_irow_any)(p, (const void *const *)P, base, d, n); \
    i += NAME(ss_frow_##SN##_##DN)(p, P, base + i, d + i, n - i);
/* The 16-bit lanes take uint8 to uint8 only (ss_t.ipath). */
#define DEFINE_IPATH(SN, DN, OK)                                                              \
    TARGET static inline int NAME(ss_ipath_ok_##SN##_##DN)(const ss_t *p) { return (OK) && p->ipath; }
DEFINE_IPATH(u8, u8, 1)
DEFINE_IPATH(u8, u16, 0)
DEFINE_IPATH(u8, f32, 0)
DEFINE_IPATH(u16, u8, 0)
DEFINE_IPATH(u16, u16, 0)
DEFINE_IPATH(u16, f32, 0)
DEFINE_IPATH(f32, u8, 0)
DEFINE_IPATH(f32, u16, 0)
DEFINE_IPATH(f32, f32, 0)
TARGET static inline idx_t NAME(ss_irow_any)(const ss_t *p, const void *const *P, idx_t base, void *d, idx_t n) {
    return NAME(ss_irow)(p, (const uint8_t *const *)P, base, (uint8_t *)d, n);
}
#else
#define ROW_VECTOR(SN, DN)
#endif

/* The whole band: per row the tap rows, the border columns through the
 * table (a constant column reads cval in every row), the interior in place. */
#define DEFINE_SS(SN, ST, DN, DT)                                                             \
    DEFINE_ROW(SN, ST, DN, DT)                                                                \
    TARGET static void NAME(ss_##SN##_##DN)(const ss_t *p) {                                  \
        idx_t C = p->chan, R = p->src_cols * C;                                                \
        const ST *src = (const ST *)p->src, *crow = (const ST *)p->crow;                       \
        for (idx_t y = 0; y < p->rows; y++) {                                                  \
            const ST *P[SS_MAX] = {crow, crow, crow};                                          \
            for (int t = 0; t < p->nv; t++) {                                                  \
                idx_t r = p->rowidx[y + p->tv[t]];                                             \
                P[t] = r < 0 ? crow : src + r * R;                                             \
            }                                                                                  \
            DT *d = (DT *)(void *)(p->dst + y * p->dst_row_bytes);                             \
            for (idx_t x = 0; x < p->cols; x++) {                                              \
                if (x == p->oi0 && p->oi1 > p->oi0) {                                          \
                    NAME(ss_row_##SN##_##DN)(p, (const ST *const *)P, (p->oi0 - p->lpad) * C,  \
                                             d + p->oi0 * C, (p->oi1 - p->oi0) * C);           \
                    x = p->oi1 - 1;                                                            \
                    continue;                                                                  \
                }                                                                              \
                for (idx_t c = 0; c < C; c++) {                                                \
                    float h = 0.0f;                                                            \
                    for (int k = 0; k < p->nh; k++) {                                          \
                        idx_t col = p->colidx[x + p->th[k]];                                   \
                        float a = p->wv[0] * (float)(col < 0 ? crow[0] : P[0][col * C + c]);   \
                        for (int t = 1; t < p->nv; t++)                                        \
                            a += p->wv[t] * (float)(col < 0 ? crow[0] : P[t][col * C + c]);    \
                        h = k ? h + p->wh[k] * a : p->wh[k] * a;                               \
                    }                                                                          \
                    d[x * C + c] = NAME(ss_finish_##DN)(p, h);                                 \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#define SS_DST(SN, ST)                                                                        \
    DEFINE_SS(SN, ST, u8, uint8_t)                                                            \
    DEFINE_SS(SN, ST, u16, uint16_t)                                                          \
    DEFINE_SS(SN, ST, f32, float)

SS_DST(u8, uint8_t)
SS_DST(u16, uint16_t)
SS_DST(f32, float)

/* sep_small_nan: float32 values whose NaNs are missing. Per element, in the
 * scalar order of sep2d_nan (linear_idx_impl.h) over a zeroed block and its
 * validity: per horizontal tap the vertical sums of the values (NaN read as
 * +0, as its bits zeroed are) and of the weights (0 where NaN, else 1), times
 * its weight, added in tap order; then the one division (NORMALIZE_DIVIDE).
 * Each value has its own validity, which is the pixel's wherever all its
 * channels agree, so a pixel NaN in some channels only needs no other route. */
#define SSN_Z(v) ((v) != (v) ? 0.0f : (v))
#define SSN_M(v) ((v) != (v) ? 0.0f : 1.0f)
#define SSN_ELEM(GET, OUT)                                                                     \
    {                                                                                          \
        float h = 0.0f, hw = 0.0f;                                                             \
        for (int k = 0; k < p->nh; k++) {                                                      \
            float v0 = GET(0, k);                                                              \
            float a = p->wv[0] * SSN_Z(v0), aw = p->wv[0] * SSN_M(v0);                         \
            for (int t = 1; t < p->nv; t++) {                                                  \
                float vt = GET(t, k);                                                          \
                a += p->wv[t] * SSN_Z(vt);                                                     \
                aw += p->wv[t] * SSN_M(vt);                                                    \
            }                                                                                  \
            h = k ? h + p->wh[k] * a : p->wh[k] * a;                                           \
            hw = k ? hw + p->wh[k] * aw : p->wh[k] * aw;                                       \
        }                                                                                      \
        const float one_ = 1.0f, nan_ = NAN;                                                   \
        NORMALIZE_DIVIDE(float, h, hw, p->full, p->tiny, p->total, one_, nan_, fabsf, sel32);  \
        (OUT) = h;                                                                             \
    }

#if defined(SS_VEC)
/* 8 interior elements at `at`: the scalar element's operations lane by lane
 * (unordered compare: NaN; and-not: its +0 and its weight 0; the division's
 * selects as blends). */
TARGET static inline __attribute__((always_inline)) __m256 NAME(ssn_sum8)(int nv, int nh, idx_t at,
                                                                         const float *const *P,
                                                                         const idx_t *ho, const __m256 *wv,
                                                                         const __m256 *wh, const ss_t *p) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 h = _mm256_setzero_ps(), hw = _mm256_setzero_ps();
    for (int k = 0; k < nh; k++) {
        idx_t o = at + ho[k];
        __m256 x = _mm256_loadu_ps(P[0] + o), bad = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
        __m256 a = _mm256_mul_ps(wv[0], _mm256_andnot_ps(bad, x));
        __m256 aw = _mm256_mul_ps(wv[0], _mm256_andnot_ps(bad, one));
        for (int t = 1; t < nv; t++) {
            x = _mm256_loadu_ps(P[t] + o), bad = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
            a = _mm256_add_ps(a, _mm256_mul_ps(wv[t], _mm256_andnot_ps(bad, x)));
            aw = _mm256_add_ps(aw, _mm256_mul_ps(wv[t], _mm256_andnot_ps(bad, one)));
        }
        a = _mm256_mul_ps(wh[k], a);
        aw = _mm256_mul_ps(wh[k], aw);
        h = k ? _mm256_add_ps(h, a) : a;
        hw = k ? _mm256_add_ps(hw, aw) : aw;
    }
    __m256 keep = _mm256_cmp_ps(hw, _mm256_set1_ps(p->full), _CMP_EQ_OQ);
    /* Eight whole windows (nine in ten at 1% holes under 2 x 2 taps): x / 1 * 1 is x. */
    if (p->full_kept && _mm256_movemask_ps(keep) == 0xFF) return h;
    __m256 q = _mm256_div_ps(h, _mm256_blendv_ps(hw, one, keep));
    __m256 mag = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), hw);
    __m256 empty = _mm256_cmp_ps(mag, _mm256_set1_ps(p->tiny), _CMP_LE_OQ);
    q = _mm256_blendv_ps(q, _mm256_set1_ps(NAN), empty);
    return _mm256_mul_ps(q, _mm256_blendv_ps(_mm256_set1_ps(p->total), one, keep));
}
#define DEFINE_NROW(NV, NH)                                                                    \
    TARGET static idx_t NAME(ssn_frow_##NV##_##NH)(const ss_t *p, const float *const *P, idx_t base, \
                                                    float *d, idx_t n) {                       \
        SS_LANES(float, NV, NH)                                                                \
        idx_t i = 0;                                                                           \
        for (; i + SS_VEC <= n; i += SS_VEC)                                                   \
            _mm256_storeu_ps(d + i, NAME(ssn_sum8)(nv, nh, base + i, Q, ho, wv, wh, &q));      \
        return i;                                                                              \
    }
DEFINE_NROW(2, 2)
DEFINE_NROW(1, 2)
DEFINE_NROW(2, 1)
DEFINE_NROW(0, 0)
#undef DEFINE_NROW
TARGET static idx_t NAME(ssn_frow)(const ss_t *p, const float *const *P, idx_t base, float *d, idx_t n) {
    if (p->nv == 2 && p->nh == 2) return NAME(ssn_frow_2_2)(p, P, base, d, n);
    if (p->nv == 1 && p->nh == 2) return NAME(ssn_frow_1_2)(p, P, base, d, n);
    if (p->nv == 2 && p->nh == 1) return NAME(ssn_frow_2_1)(p, P, base, d, n);
    return NAME(ssn_frow_0_0)(p, P, base, d, n);
}
#define SSN_VECTOR i = NAME(ssn_frow)(p, P, base, d, n);
#else
#define SSN_VECTOR
#endif

/* Interior elements [0, n) of a row, from element `base` of the source rows P. */
TARGET static void NAME(ssn_row)(const ss_t *p, const float *const *P, idx_t base, float *restrict d, idx_t n) {
    idx_t i = 0, C = p->chan;
    SSN_VECTOR
#define SSN_IN(t, k) P[t][o + p->th[k] * C]
    for (; i < n; i++) {
        idx_t o = base + i;
        SSN_ELEM(SSN_IN, d[i])
    }
#undef SSN_IN
}

/* The whole band, as ss_ (the border columns through the table, a constant
 * column reading cval in every row; the interior in place). */
TARGET static void NAME(ssn_f32)(const ss_t *p) {
    idx_t C = p->chan, R = p->src_cols * C;
    const float *src = (const float *)p->src, *crow = (const float *)p->crow;
    for (idx_t y = 0; y < p->rows; y++) {
        const float *P[SS_MAX] = {crow, crow, crow};
        for (int t = 0; t < p->nv; t++) {
            idx_t r = p->rowidx[y + p->tv[t]];
            P[t] = r < 0 ? crow : src + r * R;
        }
        float *d = (float *)(void *)(p->dst + y * p->dst_row_bytes);
        for (idx_t x = 0; x < p->cols; x++) {
            if (x == p->oi0 && p->oi1 > p->oi0) {
                NAME(ssn_row)(p, (const float *const *)P, (p->oi0 - p->lpad) * C, d + p->oi0 * C,
                              (p->oi1 - p->oi0) * C);
                x = p->oi1 - 1;
                continue;
            }
            for (idx_t c = 0; c < C; c++) {
#define SSN_BORDER(t, k) (p->colidx[x + p->th[k]] < 0 ? crow[0] : P[t][p->colidx[x + p->th[k]] * C + c])
                SSN_ELEM(SSN_BORDER, d[x * C + c])
#undef SSN_BORDER
            }
        }
    }
}
#undef SSN_VECTOR
#undef SS_LANES
#undef SSN_ELEM
#undef SSN_M
#undef SSN_Z

#define SS_ROW(S) {NAME(ss_##S##_u8), NAME(ss_##S##_u16), NAME(ss_##S##_f32)}
/* ss_table[source][destination], types 0 uint8, 1 uint16, 2 float32. */
static ss_fn NAME(ss_table)[SS_TYPES][SS_TYPES] = {SS_ROW(u8), SS_ROW(u16), SS_ROW(f32)};
#undef SS_ROW

#undef SS_DST
#undef DEFINE_SS
#undef ROW_VECTOR
#undef DEFINE_ROW
#undef DEFINE_IPATH
#undef SS_VEC
#undef DEFINE_FINISH
#undef DEFINE_VSUM
#undef NAME
#undef CAT
#undef CAT2
