/* Body of the linear-light codec kernels, included once per instruction set
 * (codec.c defines SUFFIX and TARGET and the tables). Every loop is
 * branch-free so the compiler can vectorize it; the 8-bit encode's table
 * lookups are gathered by hand on AVX2. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Decoding: table lookups, four per step, all loaded before any is stored
 * (the stores cannot alias the table then), and never vectorized: gathers
 * measured slower than scalar loads (4K RGB, in cache: 0.18 ns a value
 * unrolled, 0.21 the plain loop, 0.21 its AVX2 gather). */
#define CODEC_DECODE_BODY(table)                                                        \
    idx_t i = 0;                                                                        \
    for (; i + 4 <= n; i += 4) {                                                        \
        float a0 = table[src[i]], a1 = table[src[i + 1]], a2 = table[src[i + 2]];       \
        float a3 = table[src[i + 3]];                                                   \
        dst[i] = a0;                                                                    \
        dst[i + 1] = a1;                                                                \
        dst[i + 2] = a2;                                                                \
        dst[i + 3] = a3;                                                                \
    }                                                                                   \
    for (; i < n; i++) dst[i] = table[src[i]];

TARGET static void NAME(decode_u8)(const uint8_t *src, float *dst, idx_t n) { CODEC_DECODE_BODY(codec_dec8) }

TARGET static void NAME(decode_u16)(const uint16_t *src, float *dst, idx_t n) { CODEC_DECODE_BODY(codec_dec16) }

#undef CODEC_DECODE_BODY

/* y = x / div * mul in float32 (each step skipped when 1): the codes of
 * dividing first, as the contract says; a power of two scales exactly.
 * Without either, the floats are read in place (no copy: 0.38 against
 * 0.48 ns a value in cache). */
#if defined(ISA_AVX2)
/* The table's code for 8 floats' bits at a time, by one gather: the scalar
 * loop's integer steps, so the same codes. GCC leaves that loop scalar (the
 * 256 KiB table); gathered, 4K RGB box 5x5 linear=True runs 37.0 -> 30.9 ms
 * on one thread (Intel Xeon; decoding gathers gain nothing, see above). */
TARGET static inline idx_t NAME(encode8_vec)(const float *src, uint8_t *dst, idx_t n) {
    idx_t i = 0;
    const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (; i + 8 <= n; i += 8) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));
        __m256i t = _mm256_i32gather_epi32((const int *)(const void *)codec_enc8, _mm256_srli_epi32(b, 16), 4);
        __m256i c = _mm256_srli_epi32(_mm256_add_epi32(t, b), 16);
        __m256i p = _mm256_shuffle_epi8(c, shuf);
        uint32_t lo = (uint32_t)_mm256_extract_epi32(p, 0), hi = (uint32_t)_mm256_extract_epi32(p, 4);
        memcpy(dst + i, &lo, 4);
        memcpy(dst + i + 4, &hi, 4);
    }
    return i;
}
#endif

TARGET static void NAME(encode_u8)(const float *src, uint8_t *dst, idx_t n, float div, float mul) {
    if (div == 1.0f && mul == 1.0f) {
        idx_t i0 = 0;
#if defined(ISA_AVX2)
        i0 = NAME(encode8_vec)(src, dst, n);
#endif
        for (idx_t i = i0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &src[i], 4);
            dst[i] = (uint8_t)((codec_enc8[b >> 16] + b) >> 16);
        }
        return;
    }
    for (idx_t i0 = 0; i0 < n; i0 += CODEC_SLICE) {
        idx_t m = n - i0 < CODEC_SLICE ? n - i0 : CODEC_SLICE;
        float y[CODEC_SLICE];
        const float *x = src + i0;
        if (div != 1.0f) {
            for (idx_t i = 0; i < m; i++) y[i] = x[i] / div;
            if (mul != 1.0f)
                for (idx_t i = 0; i < m; i++) y[i] = y[i] * mul;
        } else {
            for (idx_t i = 0; i < m; i++) y[i] = x[i] * mul;
        }
        idx_t j0 = 0;
#if defined(ISA_AVX2)
        j0 = NAME(encode8_vec)(y, dst + i0, m);
#endif
        for (idx_t i = j0; i < m; i++) {
            uint32_t b;
            memcpy(&b, &y[i], 4);
            dst[i0 + i] = (uint8_t)((codec_enc8[b >> 16] + b) >> 16);
        }
    }
}

/* sRGB curve of v = x / top on the 0..top scale, in double: the linear
 * segment at the dark end, top at and above white, NaN kept. Computed a
 * slice at a time, one step of the curve over the whole slice per loop:
 * each element sees the same operations in the same order (the same bits
 * as one element at a time), but the steps' long chains of dependent
 * multiply-adds overlap across the slice instead of waiting on each other
 * (measured 3.4x faster than the loop over elements, AVX2). */
#define CURVE_SLICE 64
TARGET static void NAME(curve_slice)(const double *x, double *y, idx_t m, double inv_top, double top) {
    double v[CURVE_SLICE], mm[CURVE_SLICE], ed[CURVE_SLICE], s[CURVE_SLICE], s2[CURVE_SLICE];
    double q[CURVE_SLICE], f[CURVE_SLICE];
    uint64_t tb[CURVE_SLICE];
    for (idx_t i = 0; i < m; i++) {
        double vi = x[i] * inv_top;
        double c = vi > 0.0031308 ? (vi < 1.0 ? vi : 1.0) : 0.0031308;
        uint64_t bits;
        memcpy(&bits, &c, 8);
        uint64_t eb = bits >> 52;
        uint64_t mb = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
        double mi, edi;
        memcpy(&mi, &mb, 8);
        uint64_t eu = eb | 0x4330000000000000ull;
        memcpy(&edi, &eu, 8);
        edi -= 4503599627370496.0 + 1023.0;
        int big = mi > 1.4142135623730951;
        mm[i] = big ? mi * 0.5 : mi;
        ed[i] = big ? edi + 1.0 : edi;
        v[i] = vi;
    }
    for (idx_t i = 0; i < m; i++) s[i] = (mm[i] - 1.0) / (mm[i] + 1.0);
    for (idx_t i = 0; i < m; i++) {
        s2[i] = s[i] * s[i];
        q[i] = 1.0 / 15.0;
    }
#define CURVE_STEP(acc, by, k) \
    for (idx_t i = 0; i < m; i++) acc[i] = acc[i] * by[i] + (k);
    CURVE_STEP(q, s2, 1.0 / 13.0)
    CURVE_STEP(q, s2, 1.0 / 11.0)
    CURVE_STEP(q, s2, 1.0 / 9.0)
    CURVE_STEP(q, s2, 1.0 / 7.0)
    CURVE_STEP(q, s2, 1.0 / 5.0)
    CURVE_STEP(q, s2, 1.0 / 3.0)
    CURVE_STEP(q, s2, 1.0)
    for (idx_t i = 0; i < m; i++) {
        double ln = 2.0 * s[i] * q[i];
        double p = (ed[i] + ln * 1.4426950408889634) / 2.4; /* log2(v) / 2.4, in [-3.5, 0] */
        double t = p + 6755399441055744.0;
        memcpy(&tb[i], &t, 8);
        double r = t - 6755399441055744.0;
        f[i] = (p - r) * 0.6931471805599453; /* |f| <= ln2 / 2 */
        q[i] = 1.0 / 479001600.0;
    }
    CURVE_STEP(q, f, 1.0 / 39916800.0)
    CURVE_STEP(q, f, 1.0 / 3628800.0)
    CURVE_STEP(q, f, 1.0 / 362880.0)
    CURVE_STEP(q, f, 1.0 / 40320.0)
    CURVE_STEP(q, f, 1.0 / 5040.0)
    CURVE_STEP(q, f, 1.0 / 720.0)
    CURVE_STEP(q, f, 1.0 / 120.0)
    CURVE_STEP(q, f, 1.0 / 24.0)
    CURVE_STEP(q, f, 1.0 / 6.0)
    CURVE_STEP(q, f, 0.5)
    CURVE_STEP(q, f, 1.0)
    CURVE_STEP(q, f, 1.0)
#undef CURVE_STEP
    for (idx_t i = 0; i < m; i++) {
        uint64_t rb;
        memcpy(&rb, &q[i], 8);
        rb += (tb[i] - 0x4338000000000000ull) << 52;
        memcpy(&q[i], &rb, 8);
    }
    for (idx_t i = 0; i < m; i++) {
        double yi = (1.055 * q[i] - 0.055) * top;
        double vi = v[i], lo = x[i] * 12.92;
        yi = vi <= 0.0031308 ? lo : yi;
        yi = vi >= 1.0 ? top : yi;
        y[i] = vi != vi ? vi : yi;
    }
}

/* The same curve in float32 on the 0..65535 scale: a few ulps off, which
 * leaves the rounded code within one of the nearest (the thresholds then
 * decide). */
TARGET static inline float NAME(curve16)(float x) {
    float v = x / 65535.0f;
    float c = v > 0.0031308f ? (v < 1.0f ? v : 1.0f) : 0.0031308f;
    uint32_t bits;
    memcpy(&bits, &c, 4);
    uint32_t eb = bits >> 23;
    uint32_t mb = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m, ed;
    memcpy(&m, &mb, 4);
    uint32_t eu = eb | 0x4B000000u;
    memcpy(&ed, &eu, 4);
    ed -= 8388608.0f + 127.0f;
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    ed = big ? ed + 1.0f : ed;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float ln = 1.0f / 9.0f;
    ln = ln * s2 + 1.0f / 7.0f;
    ln = ln * s2 + 1.0f / 5.0f;
    ln = ln * s2 + 1.0f / 3.0f;
    ln = ln * s2 + 1.0f;
    ln = 2.0f * s * ln;
    float p = (ed + ln * 1.44269504f) * (1.0f / 2.4f);
    float t = p + 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, 4);
    float r = t - 12582912.0f;
    float f = (p - r) * 0.693147181f;
    float e = 1.0f / 5040.0f;
    e = e * f + 1.0f / 720.0f;
    e = e * f + 1.0f / 120.0f;
    e = e * f + 1.0f / 24.0f;
    e = e * f + 1.0f / 6.0f;
    e = e * f + 0.5f;
    e = e * f + 1.0f;
    e = e * f + 1.0f;
    uint32_t rb;
    memcpy(&rb, &e, 4);
    rb += (tb - 0x4B400000u) << 23;
    float pw;
    memcpy(&pw, &rb, 4);
    float y = (1.055f * 65535.0f) * pw - 0.055f * 65535.0f;
    y = v <= 0.0031308f ? x * 12.92f : y;
    y = v >= 1.0f ? 65535.0f : y;
    y = v != v ? 0.0f : y;
    y = y > 0.0f ? y : 0.0f; /* NaN and the dark end's negatives: 0 */
    return y < 65535.0f ? y : 65535.0f;
}

TARGET static void NAME(encode_u16)(const float *src, uint16_t *dst, idx_t n, float div, float mul) {
    for (idx_t i0 = 0; i0 < n; i0 += CODEC_SLICE) {
        idx_t m = n - i0 < CODEC_SLICE ? n - i0 : CODEC_SLICE;
        float y[CODEC_SLICE];
        int32_t c[CODEC_SLICE];
        const float *x = src + i0;
        if (div != 1.0f)
            for (idx_t i = 0; i < m; i++) y[i] = x[i] / div;
        else
            for (idx_t i = 0; i < m; i++) y[i] = x[i];
        if (mul != 1.0f)
            for (idx_t i = 0; i < m; i++) y[i] = y[i] * mul;
        /* The curve's code, within one of the nearest; NaN and negatives to 0. */
        for (idx_t i = 0; i < m; i++) {
            c[i] = (int32_t)(NAME(curve16)(y[i]) + 0.5f);
        }
        /* One compare with each of its two thresholds makes it exact. */
        for (idx_t i = 0; i < m; i++) {
            int32_t k = c[i];
            k -= y[i] <= codec_thr16[k];
            k += y[i] > codec_thr16[k + 1];
            dst[i0 + i] = (uint16_t)k;
        }
    }
}

TARGET static void NAME(encode_float_f32)(const float *src, float *dst, idx_t n, double top) {
    const double inv = 1.0 / top;
    double x[CURVE_SLICE], y[CURVE_SLICE];
    for (idx_t i0 = 0; i0 < n; i0 += CURVE_SLICE) {
        idx_t m = n - i0 < CURVE_SLICE ? n - i0 : CURVE_SLICE;
        for (idx_t i = 0; i < m; i++) x[i] = (double)src[i0 + i];
        NAME(curve_slice)(x, y, m, inv, top);
        for (idx_t i = 0; i < m; i++) dst[i0 + i] = (float)y[i];
    }
}

TARGET static void NAME(encode_float_f64)(const double *src, double *dst, idx_t n, double top) {
    const double inv = 1.0 / top;
    double x[CURVE_SLICE], y[CURVE_SLICE];
    for (idx_t i0 = 0; i0 < n; i0 += CURVE_SLICE) {
        idx_t m = n - i0 < CURVE_SLICE ? n - i0 : CURVE_SLICE;
        for (idx_t i = 0; i < m; i++) x[i] = (double)(float)src[i0 + i];
        NAME(curve_slice)(x, y, m, inv, top);
        for (idx_t i = 0; i < m; i++) dst[i0 + i] = (double)(float)y[i];
    }
}

static const codec_fns NAME(codec_table) = {
    NAME(decode_u8), NAME(decode_u16), NAME(encode_u8), NAME(encode_u16), NAME(encode_float_f32),
    NAME(encode_float_f64),
};

#undef CURVE_SLICE
#undef NAME
#undef CAT
#undef CAT2
