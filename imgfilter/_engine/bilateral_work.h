/* The bilateral kernels for one work type, included by bilateral_impl.h
 * with W (float or double), WN (its name), EXPF, ABS and MAGIC defined. */

#define FN(n) CAT(CAT(n, _), CAT(WN, SUFFIX))

#define STORE_INT(W, MAGIC, TT, CT, LO, HI)                                                      \
    case TT: {                                                                                  \
        CT *d = (CT *)dst + pos + c;                                                            \
        for (idx_t j = 0; j < n; j++) {                                                         \
            W v = r[j] > (W)(LO) ? r[j] : (W)(LO);                                              \
            v = v < (W)(HI) ? v : (W)(HI);                                                      \
            v = (v + (W)(MAGIC)) - (W)(MAGIC);                                                  \
            d[j * C] = (CT)v;                                                                   \
        }                                                                                       \
    } break;

#define ROWS_CALL(C_, A_, M_, L_) \
    FN(rows)(b, P, ok, sw, num, cen, res, C_, (C_) - (A_), A_, M_, L_)

#define ROWS_ML(C_, A_)                            \
    do {                                               \
        if (masked && lut)                             \
            ROWS_CALL(C_, A_, 1, 1);               \
        else if (masked)                               \
            ROWS_CALL(C_, A_, 1, 0);               \
        else if (lut)                                  \
            ROWS_CALL(C_, A_, 0, 1);               \
        else                                           \
            ROWS_CALL(C_, A_, 0, 0);               \
    } while (0)

#define PLANES(W, TT, ST)                                                                        \
    case TT: {                                                                                  \
        const ST *s = (const ST *)b->src;                                                       \
        if (C == 3) {                                                                           \
            /* RGB: one pass, constant stride (vectorizes). */                                  \
            for (idx_t p = 0; p < npix; p++) {                                                  \
                P[p] = (W)s[p * 3];                                                             \
                P[npix + p] = (W)s[p * 3 + 1];                                                  \
                P[2 * npix + p] = (W)s[p * 3 + 2];                                              \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
        for (idx_t c = 0; c < C; c++) {                                                         \
            W *pc = P + c * npix;                                                               \
            for (idx_t p = 0; p < npix; p++) pc[p] = (W)s[p * C + c];                           \
        }                                                                                       \
    } break;

/* One run of n <= BIL_RUN outputs starting at block pixel `base` (the
 * window's top-left corner): res[c][j] = the filtered value of channel c.
 * C, NCOL, ALPHA, MASKED and LUT are constants at every call (always
 * inlined), so each combination compiles to its own straight loops; `num`
 * and `cen` are the caller's (local arrays when C <= 4). */
TARGET static inline __attribute__((always_inline)) void FN(core)(
    const bil_t *b, const W *P, const W *ok, const W *sw, W coeff, W amax, idx_t base,
    idx_t n, W (*num)[BIL_RUN], W (*cen)[BIL_RUN], W (*res)[BIL_RUN], const idx_t C,
    const idx_t NCOL, const int ALPHA, const int MASKED, const int LUT) {
    const idx_t np = b->npix;
    const float *lut = b->lut, *etab = b->exptab;
    W den[BIL_RUN], cok[BIL_RUN];
    const idx_t cpix = base + b->centre;
    for (idx_t c = 0; c < C; c++)
        for (idx_t j = 0; j < n; j++) cen[c][j] = P[c * np + cpix + j];
    if (MASKED)
        for (idx_t j = 0; j < n; j++) cok[j] = ok[cpix + j];
    idx_t j0 = 0;
#if defined(BIL_LUT_BLOCK) && WF32
    if (LUT && !MASKED && !ALPHA && C <= 4) {
        if (b->pair)
            j0 = NAME(pair_block)(b, (const float *)P, base, n, (float (*)[BIL_RUN])num, (float *)den, C);
        else
            j0 = NAME(lut_block_f32)(b, (const float *)P, (const float *)sw, base, n,
                                     (float (*)[BIL_RUN])num, (float *)den, C);
    }
#endif
    for (idx_t j = j0; j < n; j++) den[j] = 0;
    for (idx_t c = 0; c < C; c++)
        for (idx_t j = j0; j < n; j++) num[c][j] = 0;
    for (idx_t t = 0; t < b->ntaps; t++) {
        const idx_t o = base + b->off[t];
        const W swt = sw[t];
        const W *q = P + o;
        const W *k = ok + (MASKED ? o : 0);
        for (idx_t j = j0; j < n; j++) {
            W d = ABS(q[j] - cen[0][j]);
            for (idx_t c = 1; c < NCOL; c++) d += ABS(q[c * np + j] - cen[c][j]);
            W rw;
            if (LUT)
                rw = (W)lut[(int32_t)d];
            else
                rw = EXPF(etab, d * d * coeff);
            if (MASKED) {
                /* A missing centre (cok 0) takes 1: arithmetic, exact for
                 * cok 0 or 1, as a select beside the gather stops GCC's vectorizer. */
                rw = rw * cok[j] + ((W)1 - cok[j]);
                rw = rw * k[j];
            }
            W wgt = rw * swt;
            den[j] += wgt;
            if (ALPHA) {
                W wa = wgt * q[(C - 1) * np + j];
                wa = wa / amax;
                num[C - 1][j] += wa;
                for (idx_t c = 0; c < C - 1; c++) num[c][j] += q[c * np + j] * wa;
            } else {
                for (idx_t c = 0; c < C; c++) num[c][j] += q[c * np + j] * wgt;
            }
        }
    }
    if (ALPHA) {
        for (idx_t j = 0; j < n; j++) {
            W aden = num[C - 1][j];
            for (idx_t c = 0; c < C - 1; c++) res[c][j] = aden > 0 ? num[c][j] / aden : 0;
            res[C - 1][j] = aden / den[j] * amax;
        }
    } else {
        for (idx_t c = 0; c < C; c++)
            for (idx_t j = 0; j < n; j++) res[c][j] = num[c][j] / den[j];
    }
}

/* Results of a run into dst (element index pos of its first value): float
 * types take the value, integers their nearest integer (ties to even, as
 * np.rint) clipped to the type's range. */
TARGET static void FN(store)(void *dst, int dt, idx_t pos, idx_t n, idx_t C,
                                    W (*res)[BIL_RUN]) {
    if (C == 3 && dt == T_U8) {
        /* RGB 8-bit: pixel by pixel, so the three channels store as one (vectorizes). */
        uint8_t *d = (uint8_t *)dst + pos;
        for (idx_t j = 0; j < n; j++)
            for (idx_t c = 0; c < 3; c++) {
                W v = res[c][j] > (W)0 ? res[c][j] : (W)0;
                v = v < (W)255 ? v : (W)255;
                v = (v + (W)(MAGIC)) - (W)(MAGIC);
                d[j * 3 + c] = (uint8_t)v;
            }
        return;
    }
    for (idx_t c = 0; c < C; c++) {
        const W *r = res[c];
        switch (dt) {
        case T_F32: {
            float *d = (float *)dst + pos + c;
            for (idx_t j = 0; j < n; j++) d[j * C] = (float)r[j];
        } break;
        case T_F64: {
            double *d = (double *)dst + pos + c;
            for (idx_t j = 0; j < n; j++) d[j * C] = (double)r[j];
        } break;
        STORE_INT(W, MAGIC, T_U8, uint8_t, 0, 255)
        STORE_INT(W, MAGIC, T_I8, int8_t, -128, 127)
        STORE_INT(W, MAGIC, T_U16, uint16_t, 0, 65535)
        STORE_INT(W, MAGIC, T_I16, int16_t, -32768, 32767)
        STORE_INT(W, MAGIC, T_U32, uint32_t, 0, 4294967295.0)
        STORE_INT(W, MAGIC, T_I32, int32_t, -2147483648.0, 2147483647.0)
        default: break;
        }
    }
}

/* All rows of the band for one combination of the constants. */
TARGET static inline __attribute__((always_inline)) void FN(rows)(
    const bil_t *b, const W *P, const W *ok, const W *sw, W (*num)[BIL_RUN],
    W (*cen)[BIL_RUN], W (*res)[BIL_RUN], const idx_t C, const idx_t NCOL, const int ALPHA,
    const int MASKED, const int LUT) {
    const W coeff = (W)b->coeff, amax = (W)b->amax;
#if defined(BIL_LUT_BLOCK) && WF32
    if (LUT && !MASKED && !ALPHA && C <= 4 && b->pair) {
        /* Shared weights: tiles of columns, each all rows down (its rings stay in cache). */
        for (idx_t x = 0; x < b->w; x += BIL_TILE) {
            idx_t n = b->w - x < BIL_TILE ? b->w - x : BIL_TILE;
            for (idx_t y = 0; y < b->h; y++) {
                NAME(pair_row)(b, y, x, x + n);
                for (idx_t j = 0; j < n; j += BIL_RUN) {
                    idx_t m = n - j < BIL_RUN ? n - j : BIL_RUN;
                    ((bil_pair_t *)b->pair)->jx = j;
                    FN(core)(b, P, ok, sw, coeff, amax, y * b->bw + x + j, m, num, cen, res, C,
                                    NCOL, ALPHA, MASKED, LUT);
                    FN(store)(b->dst, b->dst_type, (y * b->w + x + j) * C, m, C, res);
                }
            }
        }
        return;
    }
#endif
    for (idx_t y = 0; y < b->h; y++) {
        for (idx_t x = 0; x < b->w; x += BIL_RUN) {
            idx_t n = b->w - x < BIL_RUN ? b->w - x : BIL_RUN;
            FN(core)(b, P, ok, sw, coeff, amax, y * b->bw + x, n, num, cen, res, C,
                            NCOL, ALPHA, MASKED, LUT);
            FN(store)(b->dst, b->dst_type, (y * b->w + x) * C, n, C, res);
        }
    }
}

/* The band: planes in W (missing pixels zeroed, their weight plane 0), then
 * every row. Returns -1 when memory runs out (nothing written). */
TARGET static int FN(run)(const bil_t *b) {
    const idx_t C = b->chan, npix = b->npix;
    int masked = b->nan_missing || b->mask != NULL;
    const int lut = b->lut != NULL;
    size_t n_planes = (size_t)C + (masked ? 1 : 0);
    size_t pair_bytes = 0;
#if defined(BIL_LUT_BLOCK) && WF32
    /* 8-bit sources: each range weight shared by a tap and its mirror. */
    bil_t bp;
    bil_pair_t *pair = lut && !masked ? NAME(pair_new)(b) : NULL;
    if (pair) pair_bytes = pair->bytes + 64;
#endif
    W *P = malloc(sizeof(W) * ((size_t)npix * n_planes + (size_t)b->ntaps) + pair_bytes);
    if (!P) {
#if defined(BIL_LUT_BLOCK) && WF32
        free(pair);
#endif
        return -1;
    }
    W *ok = P + (size_t)npix * (size_t)C;
    W *sw = ok + (masked ? npix : 0);
    for (idx_t t = 0; t < b->ntaps; t++) sw[t] = (W)b->sw[t];
    switch (b->src_type) {
        PLANES(W, T_U8, uint8_t)
        PLANES(W, T_I8, int8_t)
        PLANES(W, T_U16, uint16_t)
        PLANES(W, T_I16, int16_t)
        PLANES(W, T_U32, uint32_t)
        PLANES(W, T_I32, int32_t)
        PLANES(W, T_U64, uint64_t)
        PLANES(W, T_I64, int64_t)
        PLANES(W, T_F32, float)
        PLANES(W, T_F64, double)
    default: break;
    }
    if (masked) {
        /* A pixel is missing where the mask says so or (nan_missing) a colour
         * channel is NaN; with none in the block the plain loops give the same bits. */
        int any = 0;
        for (idx_t p = 0; p < npix; p++) {
            int bad = b->mask != NULL && !b->mask[p];
            if (b->nan_missing)
                for (idx_t c = 0; c < b->ncol; c++) bad |= P[c * npix + p] != P[c * npix + p];
            ok[p] = bad ? (W)0 : (W)1;
            if (bad)
                for (idx_t c = 0; c < C; c++) P[c * npix + p] = 0;
            any |= bad;
        }
        masked = any;
    }
#if defined(BIL_LUT_BLOCK) && WF32
    if (pair) {
        /* After the planes and weights, 64-byte aligned. */
        uintptr_t at = (uintptr_t)(sw + b->ntaps);
        NAME(pair_init)(pair, b, (void *)(at + (-at & 63)));
        bp = *b;
        bp.pair = pair;
        b = &bp;
    }
#endif
    if (C <= 4) {
        W num[4][BIL_RUN], cen[4][BIL_RUN], res[4][BIL_RUN];
        if (C == 1)
            ROWS_ML(1, 0);
        else if (C == 2 && b->alpha)
            ROWS_ML(2, 1);
        else if (C == 2)
            ROWS_ML(2, 0);
        else if (C == 3 && b->alpha)
            ROWS_ML(3, 1);
        else if (C == 3)
            ROWS_ML(3, 0);
        else if (b->alpha)
            ROWS_ML(4, 1);
        else
            ROWS_ML(4, 0);
    } else {
        /* Many channels: the same loops with the channel count a variable. */
        W(*num)[BIL_RUN] = malloc(sizeof(W) * BIL_RUN * 3 * (size_t)C);
        if (!num) {
            free(P);
            return -1;
        }
        W(*cen)[BIL_RUN] = num + C;
        W(*res)[BIL_RUN] = num + 2 * C;
        const idx_t ncol = b->ncol;
        const int alpha = b->alpha;
        if (masked && lut)
            FN(rows)(b, P, ok, sw, num, cen, res, C, ncol, alpha, 1, 1);
        else if (masked)
            FN(rows)(b, P, ok, sw, num, cen, res, C, ncol, alpha, 1, 0);
        else if (lut)
            FN(rows)(b, P, ok, sw, num, cen, res, C, ncol, alpha, 0, 1);
        else
            FN(rows)(b, P, ok, sw, num, cen, res, C, ncol, alpha, 0, 0);
        free(num);
    }
#if defined(BIL_LUT_BLOCK) && WF32
    free(pair);
#endif
    free(P);
    return 0;
}

#undef PLANES
#undef ROWS_ML
#undef ROWS_CALL
#undef STORE_INT
#undef FN
