/* Body of the bilateral kernels, included once per instruction set
 * (bilateral.c defines SUFFIX and TARGET). See bilateral.c for the contract.
 *
 * The band's block is first copied into one plane per channel in the work
 * type W (float or double), so every loop below runs along a row of
 * contiguous values: for a run of BIL_RUN outputs, each window offset adds
 * its weighted values to sums kept in L1, the range weight gathered from
 * the table (integer images) or computed by exp_* (floats). In the AVX2
 * pass, table-weighted runs without alpha or missing pixels go 16 outputs
 * at a time with the taps innermost instead (lut_block_f32): the sums then
 * never leave registers, as in OpenCV 5.1's 8-bit kernel. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* exp(x) for x <= 0 (NaN gives NaN) in float, within a few ulp of the libm
 * one: exp(-i/32) from the table (tab = bil_exp_table, whose last entry, 0,
 * stands for everything below -87.5) times a cubic for the remaining
 * exp(-g), 0 <= g < 1/32 (truncation error under 4e-8). Plain arithmetic,
 * integer selects and one gather: a float select beside the gather makes
 * GCC give up vectorizing, so clipping and NaN work on the bits. Both
 * instruction sets give the same bits (no contraction). */
TARGET static inline __attribute__((always_inline)) float NAME(exp_f)(const float *tab, float x) {
    float u = x * -(float)BIL_EXP_STEPS, last = (float)BIL_EXP_LAST;
    /* u clipped to [0, last]: without the sign bit, NaN and inf lie above every finite float. */
    int32_t ub, lb, xb, pb;
    memcpy(&ub, &u, sizeof ub);
    memcpy(&lb, &last, sizeof lb);
    ub &= 0x7fffffff;
    ub = ub < lb ? ub : lb;
    memcpy(&u, &ub, sizeof u);
    int32_t i = (int32_t)u;
    float g = (u - (float)i) * (1.0f / (float)BIL_EXP_STEPS);
    float p = g * (-1.0f / 6.0f) + 0.5f;
    p = p * g - 1.0f;
    p = p * g + 1.0f;
    /* A NaN x makes p a NaN (all ones where NaN has them): the product is NaN. */
    memcpy(&xb, &x, sizeof xb);
    memcpy(&pb, &p, sizeof pb);
    pb |= ((int32_t)0x7f800000 - (xb & 0x7fffffff)) >> 31 & 0x7fc00000;
    memcpy(&p, &pb, sizeof p);
    return tab[i] * p;
}

/* exp(x) for x <= 0 (a NaN stays NaN) in double, within a few ulp: Cody-Waite
 * reduction x = n ln2 + r, a polynomial in r, 2^n from bits. */
TARGET static inline __attribute__((always_inline)) double NAME(exp_d)(const float *tab, double x) {
    (void)tab;
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double xc = x >= -708.0 ? x : -708.0;
    double t = xc * 1.4426950408889634074 + magic;
    double n = t - magic;
    double r = xc - n * 6.93147180369123816490e-01; /* ln2 high part (exact product) */
    r = r - n * 1.90821492927058770002e-10;      /* ln2 low part */
    /* Taylor series to r^12: |r| <= 0.35 leaves an error under 2e-16. */
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t tb, mb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    int64_t bits = (tb - mb + 1023) * ((int64_t)1 << 52); /* 2^n, n in [-1022, 0] */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    p = p * scale;
    p = x >= -708.0 ? p : 0.0;
    return x == x ? p : x;
}

#if defined(BIL_X86) && defined(ISA_AVX2)
/* The table-weighted sums (no alpha, no missing pixels) of 16 outputs at a
 * time, the taps innermost so the sums stay in registers: the scalar
 * loops' operations in the same order per output, so the same bits.
 * Writes num and den for outputs [0, returned count); the caller's loops
 * take the rest. */
TARGET static inline __attribute__((always_inline)) idx_t NAME(lut_block_f32)(
    const bil_t *b, const float *P, const float *sw, idx_t base, idx_t n, float (*num)[BIL_RUN],
    float *den, const idx_t C) {
    const idx_t np = b->npix;
    const float *lut = b->lut;
    const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    idx_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256 cv[4][2], acc[4][2], dn[2];
        const float *cp = P + base + b->centre + j;
        for (idx_t c = 0; c < C; c++)
            for (int k = 0; k < 2; k++) {
                cv[c][k] = _mm256_loadu_ps(cp + c * np + 8 * k);
                acc[c][k] = _mm256_setzero_ps();
            }
        dn[0] = dn[1] = _mm256_setzero_ps();
        for (idx_t t = 0; t < b->ntaps; t++) {
            const float *q = P + base + b->off[t] + j;
            const __m256 swt = _mm256_set1_ps(sw[t]);
            for (int k = 0; k < 2; k++) {
                __m256 qv[4];
                qv[0] = _mm256_loadu_ps(q + 8 * k);
                __m256 d = _mm256_and_ps(_mm256_sub_ps(qv[0], cv[0][k]), absm);
                for (idx_t c = 1; c < C; c++) {
                    qv[c] = _mm256_loadu_ps(q + c * np + 8 * k);
                    d = _mm256_add_ps(d, _mm256_and_ps(_mm256_sub_ps(qv[c], cv[c][k]), absm));
                }
                __m256 wgt = _mm256_mul_ps(_mm256_i32gather_ps(lut, _mm256_cvttps_epi32(d), 4), swt);
                dn[k] = _mm256_add_ps(dn[k], wgt);
                for (idx_t c = 0; c < C; c++) acc[c][k] = _mm256_add_ps(acc[c][k], _mm256_mul_ps(qv[c], wgt));
            }
        }
        for (int k = 0; k < 2; k++) {
            _mm256_storeu_ps(den + j + 8 * k, dn[k]);
            for (idx_t c = 0; c < C; c++) _mm256_storeu_ps(num[c] + j + 8 * k, acc[c][k]);
        }
    }
    return j;
}

/* Shared range weights, for table-weighted runs of 8-bit sources (no alpha,
 * no missing pixels, <= 4 channels, taps within the window): tap t's weight
 * at output q, lut[d] * sw[t] with d = sum_c |I(q + rel_t) - I(q)|, is tap
 * u's at output q + rel_t when rel_u = -rel_t and sw[u] has sw[t]'s bits (a
 * symmetric window: every weight but the centre's read once for two taps).
 * Row by row, each computed tap's weights for the outputs (and for the
 * columns its mirror taps need) go to a ring of rows, and the sums read them
 * in the taps' order: the same products added in the same order, so the
 * same bits. The distances are the same integers in int16 (16 a register);
 * the weights come from one table per distinct spatial weight, lut[d] *
 * sw[u] as the float product the loops make (pre), or the plain table times
 * sw[u] when those tables would be large. */
typedef struct {
    idx_t nu, bw, r, C, np, rw, jx; /* jx: the run's first column in the tile */
    const int16_t *ip;    /* the block as int16 planes (np values each) */
    int pre;
    /* Computed tap u: offset, rows kept, columns beyond a tile's (xa <= 0 <= xb). */
    idx_t *u_rel, *u_dy, *u_xa, *u_xb, *u_depth;
    float *u_sw;
    const float **u_tab;  /* its table: lut[d] * sw[u] (pre) or lut */
    float **u_ring;       /* u_depth[u] rows of rw weights: the tile's column x0 + X at X + r */
    idx_t *t_u, *t_dy, *t_dx; /* tap t reads u's weights at output (y + t_dy, x + t_dx) */
    const float **wp;     /* this row: wp[t][j] = tap t's weight at output column x0 + j */
    float *gw;            /* the distinct spatial weights */
    idx_t ng;
    size_t ntab, nring, bytes; /* table and ring floats; bytes of pair_init's memory */
} bil_pair_t;

TARGET static inline __attribute__((always_inline)) void NAME(pair_fill_c)(
    const bil_pair_t *pp, idx_t u, idx_t Y, idx_t x0, idx_t x1, idx_t centre, const idx_t C, const int PRE) {
    const idx_t np = pp->np, bw = pp->bw, rel = pp->u_rel[u], D = pp->u_depth[u];
    const int16_t *I = pp->ip;
    const float *tab = pp->u_tab[u];
    const float swu = pp->u_sw[u];
    float *dst = pp->u_ring[u] + ((Y % D) + D) % D * pp->rw + pp->r; /* column x0 */
    const int16_t *a = I + Y * bw + centre; /* output (Y, 0)'s centre */
    idx_t X = x0 + pp->u_xa[u];
    const idx_t xb = x1 + pp->u_xb[u];
    if (rel == 0) {
        /* The centre: distance 0 everywhere. */
        float wv = tab[0];
        if (!PRE) wv = wv * swu;
        for (; X < xb; X++) dst[X - x0] = wv;
        return;
    }
    /* 16 columns at a time, the last 16 ending at xb (some computed twice). */
    const idx_t last = xb - 16;
    for (const int vec = last >= X; vec && X < xb; X += 16) {
        if (X > last) X = last;
        const int16_t *p = a + X;
        __m256i d = _mm256_abs_epi16(_mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(p + rel)),
                                                      _mm256_loadu_si256((const __m256i *)p)));
        for (idx_t c = 1; c < C; c++)
            d = _mm256_add_epi16(
                d, _mm256_abs_epi16(_mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(p + c * np + rel)),
                                                     _mm256_loadu_si256((const __m256i *)(p + c * np)))));
        __m256 w0 = _mm256_i32gather_ps(tab, _mm256_cvtepu16_epi32(_mm256_castsi256_si128(d)), 4);
        __m256 w1 = _mm256_i32gather_ps(tab, _mm256_cvtepu16_epi32(_mm256_extracti128_si256(d, 1)), 4);
        if (!PRE) {
            w0 = _mm256_mul_ps(w0, _mm256_set1_ps(swu));
            w1 = _mm256_mul_ps(w1, _mm256_set1_ps(swu));
        }
        _mm256_storeu_ps(dst + (X - x0), w0);
        _mm256_storeu_ps(dst + (X - x0) + 8, w1);
    }
    for (; X < xb; X++) {
        int32_t d = 0;
        for (idx_t c = 0; c < C; c++) d += abs((int32_t)a[c * np + X + rel] - (int32_t)a[c * np + X]);
        float wv = tab[d];
        if (!PRE) wv = wv * swu;
        dst[X - x0] = wv;
    }
}

TARGET static void NAME(pair_fill)(const bil_pair_t *pp, idx_t u, idx_t Y, idx_t x0, idx_t x1, idx_t centre) {
#define BIL_FILL(C_)                                                     \
    case C_:                                                             \
        if (pp->pre)                                                     \
            NAME(pair_fill_c)(pp, u, Y, x0, x1, centre, C_, 1);          \
        else                                                             \
            NAME(pair_fill_c)(pp, u, Y, x0, x1, centre, C_, 0);          \
        break;
    switch (pp->C) {
        BIL_FILL(1)
        BIL_FILL(2)
        BIL_FILL(3)
        BIL_FILL(4)
    default: break;
    }
#undef BIL_FILL
}

/* Before the sums of output row y, columns [x0, x1) (a tile, its rows in
 * order): the computed taps' weights of that row (at y 0, first those of
 * the rows above that the mirror taps need), and wp. */
TARGET static void NAME(pair_row)(const bil_t *b, idx_t y, idx_t x0, idx_t x1) {
    bil_pair_t *pp = b->pair;
    if (y == 0)
        for (idx_t Y = -pp->r; Y < 0; Y++)
            for (idx_t u = 0; u < pp->nu; u++)
                if (pp->u_depth[u] > 1 && Y >= -pp->u_dy[u]) NAME(pair_fill)(pp, u, Y, x0, x1, b->centre);
    for (idx_t u = 0; u < pp->nu; u++) NAME(pair_fill)(pp, u, y, x0, x1, b->centre);
    for (idx_t t = 0; t < b->ntaps; t++) {
        const idx_t u = pp->t_u[t], D = pp->u_depth[u], Y = y + pp->t_dy[t];
        pp->wp[t] = pp->u_ring[u] + ((Y % D) + D) % D * pp->rw + pp->r + pp->t_dx[t];
    }
}

/* lut_block_f32 with the weights read from the row's rings (b->pair). */
TARGET static inline __attribute__((always_inline)) idx_t NAME(pair_block)(
    const bil_t *b, const float *P, idx_t base, idx_t n, float (*num)[BIL_RUN], float *den, const idx_t C) {
    const bil_pair_t *pp = b->pair;
    const idx_t np = b->npix;
    const float *const *wp = pp->wp;
    idx_t j = 0;
    const idx_t *off = b->off, nt = b->ntaps, jx = pp->jx;
    for (; j + 16 <= n; j += 16) {
        __m256 acc[4][2], dn[2];
        const float *pc[4];
        for (idx_t c = 0; c < C; c++) {
            acc[c][0] = acc[c][1] = _mm256_setzero_ps();
            pc[c] = P + c * np + base + j;
        }
        dn[0] = dn[1] = _mm256_setzero_ps();
        for (idx_t t = 0; t < nt; t++) {
            const idx_t o = off[t];
            const float *wt = wp[t] + jx + j;
            for (int k = 0; k < 2; k++) {
                const __m256 wgt = _mm256_loadu_ps(wt + 8 * k);
                dn[k] = _mm256_add_ps(dn[k], wgt);
                for (idx_t c = 0; c < C; c++)
                    acc[c][k] = _mm256_add_ps(acc[c][k], _mm256_mul_ps(_mm256_loadu_ps(pc[c] + o + 8 * k), wgt));
            }
        }
        for (int k = 0; k < 2; k++) {
            _mm256_storeu_ps(den + j + 8 * k, dn[k]);
            for (idx_t c = 0; c < C; c++) _mm256_storeu_ps(num[c] + j + 8 * k, acc[c][k]);
        }
    }
    return j;
}

/* The shared weights' plan for a band, or NULL where they do not apply or
 * memory is short (the band then runs as before); pair_init gives it
 * pp->bytes of memory (allocated with the band's planes, so a band reuses
 * the pages of the one before). */
TARGET static bil_pair_t *NAME(pair_new)(const bil_t *b) {
    const idx_t C = b->chan, nt = b->ntaps, r = b->r, bw = b->bw, np = b->npix;
    if (!b->lut || b->alpha || C > 4 || (b->src_type != T_U8 && b->src_type != T_I8) || b->w < 16)
        return NULL;
    for (idx_t t = 0; t < nt; t++)
        if (b->ti[t] < 0 || b->ti[t] > 2 * r || b->tj[t] < 0 || b->tj[t] > 2 * r) return NULL;
    const idx_t L = 255 * C + 1;
    size_t head = sizeof(bil_pair_t) + sizeof(idx_t) * (size_t)nt * 10 + sizeof(float) * (size_t)nt * 3 +
                  sizeof(void *) * (size_t)nt * 3;
    bil_pair_t *pp = calloc(1, head);
    if (!pp) return NULL;
    idx_t *ia = (idx_t *)(pp + 1);
    pp->u_rel = ia;
    pp->u_dy = ia + nt;
    pp->u_xa = ia + 2 * nt;
    pp->u_xb = ia + 3 * nt;
    pp->u_depth = ia + 4 * nt;
    pp->t_u = ia + 5 * nt;
    pp->t_dy = ia + 6 * nt;
    pp->t_dx = ia + 7 * nt;
    idx_t *u_dx = ia + 8 * nt, *grp = ia + 9 * nt;
    /* Pointers next (8-byte aligned as the idx_t before them), floats last. */
    pp->u_tab = (const float **)(ia + 10 * nt);
    pp->u_ring = (float **)(pp->u_tab + nt);
    pp->wp = (const float **)(pp->u_ring + nt);
    pp->u_sw = (float *)(pp->wp + nt);
    float *gw = pp->u_sw + nt, *sw = gw + nt;
    pp->gw = gw;
    for (idx_t t = 0; t < nt; t++) sw[t] = (float)b->sw[t]; /* the work type's, as run_f32's */
    pp->bw = bw;
    pp->rw = BIL_TILE + 2 * r;
    pp->r = r;
    pp->C = C;
    pp->np = np;
    /* The distinct spatial weights, by their bits. */
    idx_t ng = 0;
    for (idx_t t = 0; t < nt; t++) {
        idx_t g = 0;
        while (g < ng && memcmp(&gw[g], &sw[t], sizeof(float)) != 0) g++;
        if (g == ng) gw[ng++] = sw[t];
        grp[t] = g;
    }
    /* Computed taps: first those pointing down (or right in the centre row),
     * then the others read their mirror's (a row above) or compute their own. */
    idx_t nu = 0;
    for (int pass = 0; pass < 2; pass++)
        for (idx_t t = 0; t < nt; t++) {
            const idx_t dy = b->ti[t] - r, dx = b->tj[t] - r;
            const int down = dy > 0 || (dy == 0 && dx >= 0);
            if (down != (pass == 0)) continue;
            idx_t u = 0;
            pp->t_dy[t] = pp->t_dx[t] = 0;
            if (!down) {
                for (u = 0; u < nu; u++)
                    if (pp->u_dy[u] == -dy && u_dx[u] == -dx && memcmp(&pp->u_sw[u], &sw[t], sizeof(float)) == 0)
                        break;
                if (u < nu) {
                    pp->t_dy[t] = dy;
                    pp->t_dx[t] = dx;
                    pp->u_depth[u] = 1 - dy; /* rows y - dy_u .. y */
                    pp->u_xa[u] = dx < 0 ? dx : 0;
                    pp->u_xb[u] = dx > 0 ? dx : 0;
                    pp->t_u[t] = u;
                    continue;
                }
            }
            for (u = 0; u < nu; u++)
                if (pp->u_dy[u] == dy && u_dx[u] == dx && memcmp(&pp->u_sw[u], &sw[t], sizeof(float)) == 0) break;
            if (u == nu) {
                pp->u_dy[u] = dy;
                u_dx[u] = dx;
                pp->u_rel[u] = dy * bw + dx;
                pp->u_sw[u] = sw[t];
                pp->u_depth[u] = 1;
                pp->u_xa[u] = 0;
                pp->u_xb[u] = 0;
                pp->u_tab[u] = (const float *)(intptr_t)grp[t]; /* its group, for now */
                nu++;
            }
            pp->t_u[t] = u;
        }
    pp->nu = nu;
    pp->pre = (size_t)ng * (size_t)L * sizeof(float) <= BIL_PRE_BYTES;
    size_t rows = 0;
    for (idx_t u = 0; u < nu; u++) rows += (size_t)pp->u_depth[u];
    if (rows * (size_t)pp->rw * sizeof(float) > BIL_RING_BYTES) {
        free(pp);
        return NULL;
    }
    pp->ng = ng;
    pp->ntab = pp->pre ? (size_t)ng * (size_t)L : 0;
    pp->nring = rows * (size_t)pp->rw;
    pp->bytes = sizeof(float) * (pp->ntab + pp->nring) + sizeof(int16_t) * (size_t)np * (size_t)C;
    return pp;
}

/* The plan's tables, rings and int16 planes in mem (pp->bytes, float-aligned). */
TARGET static void NAME(pair_init)(bil_pair_t *pp, const bil_t *b, void *mem) {
    const idx_t C = b->chan, np = b->npix, L = 255 * C + 1, ng = pp->ng, nu = pp->nu;
    const float *gw = pp->gw;
    float *tabs = mem, *ring = tabs + pp->ntab;
    int16_t *ip = (int16_t *)(ring + pp->nring);
    for (idx_t g = 0; g < (pp->pre ? ng : 0); g++)
        for (idx_t d = 0; d < L; d++) tabs[g * L + d] = b->lut[d] * gw[g];
    for (idx_t u = 0; u < nu; u++) {
        const idx_t g = (idx_t)(intptr_t)pp->u_tab[u];
        pp->u_tab[u] = pp->pre ? tabs + g * L : b->lut;
        pp->u_ring[u] = ring;
        ring += pp->u_depth[u] * pp->rw;
    }
    if (b->src_type == T_U8 && C == 3) {
        /* RGB: one pass, constant stride (vectorizes). */
        const uint8_t *s = b->src;
        for (idx_t p = 0; p < np; p++) {
            ip[p] = s[p * 3];
            ip[np + p] = s[p * 3 + 1];
            ip[2 * np + p] = s[p * 3 + 2];
        }
    } else if (b->src_type == T_U8) {
        const uint8_t *s = b->src;
        for (idx_t c = 0; c < C; c++)
            for (idx_t p = 0; p < np; p++) ip[c * np + p] = s[p * C + c];
    } else {
        const int8_t *s = b->src;
        for (idx_t c = 0; c < C; c++)
            for (idx_t p = 0; p < np; p++) ip[c * np + p] = s[p * C + c];
    }
    pp->ip = ip;
}
#define BIL_LUT_BLOCK 1
#endif

#define W float
#define WN f32
#define WF32 1
#define EXPF NAME(exp_f)
#define ABS fabsf
#define MAGIC 12582912.0f
#include "bilateral_work.h"
#undef W
#undef WN
#undef WF32
#undef EXPF
#undef ABS
#undef MAGIC

#define W double
#define WF32 0
#define WN f64
#define EXPF NAME(exp_d)
#define ABS fabs
#define MAGIC 6755399441055744.0
#include "bilateral_work.h"
#undef W
#undef WN
#undef EXPF
#undef ABS
#undef MAGIC
#undef WF32
#undef BIL_LUT_BLOCK

TARGET static int NAME(bilateral_run)(const bil_t *b) {
    return b->wide ? NAME(run_f64)(b) : NAME(run_f32)(b);
}

#undef NAME
#undef CAT
#undef CAT2
