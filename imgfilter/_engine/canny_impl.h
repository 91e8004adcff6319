/* Body of Canny's gradient + non-maximum suppression, included once per
 * instruction set (canny.c defines SUFFIX and TARGET) and once per float
 * type T (F32 / F64 below).
 *
 * The arithmetic is scikit-image's (feature/_canny.py, _canny_cy.pyx) step
 * for step, so float images give its bits: scipy.ndimage.sobel's two 1-D
 * passes, each summed in double and stored as T (the second pass reads the
 * first's stored values; scipy's "reflect" border, which at one pixel is the
 * edge pixel repeated); the magnitude squared, added and rooted in T; the
 * bilinear interpolation between the two neighbours across the edge with
 * the weight in T and one product promoted to double, as the Cython source
 * writes it; the low threshold as a C float, the high one in double (the
 * caller rounds it to T where NumPy compares a T array with a Python float in T).
 *
 * Output per pixel of rows r0..r1-1: 0, 1 (a local maximum >= low, > 0:
 * weak) or 2 (also >= high: strong). A pixel needs its neighbours'
 * magnitudes, so a band computes the gradient of one row more on each side. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(CAT(n, TN), SUFFIX)

/* s(y, x): the source row y (clamped to the image) normalized by the
 * bleed-over of a constant border or mask, as skimage divides it. */
TARGET static inline void NAME(norm_row)(const void *src_, int u8, T *out, idx_t rows, idx_t cols, idx_t y,
                                         const T *vscale, const T *hscale, T eps) {
    if (y < 0) y = 0;
    if (y > rows - 1) y = rows - 1;
    if (u8) {
        /* a uint8 source: its T cast (exact), then the same division */
        const uint8_t *s = (const uint8_t *)src_ + y * cols;
        if (!vscale) {
            for (idx_t x = 0; x < cols; x++) out[x] = (T)s[x];
            return;
        }
        const T v = vscale[y];
        for (idx_t x = 0; x < cols; x++) out[x] = (T)s[x] / (T)(v * hscale[x] + eps);
        return;
    }
    const T *s = (const T *)src_ + y * cols;
    if (!vscale) {
        memcpy(out, s, sizeof(T) * (size_t)cols);
        return;
    }
    const T v = vscale[y];
    for (idx_t x = 0; x < cols; x++) out[x] = s[x] / (T)(v * hscale[x] + eps);
}

/* d = s[x + 1] - s[x - 1] (first pass of the x Sobel), columns clamped.
 * scipy takes the difference in double and stores it as T; in T itself it
 * is the same value (a difference of two floats rounded to double, then to
 * float, is the float difference: double rounding is innocuous for one
 * operation when 53 >= 2 * 24 + 2), at twice the lanes. */
TARGET static void NAME(xdiff)(const T *s, T *d, idx_t cols) {
    if (cols == 1) {
        d[0] = 0;
        return;
    }
    d[0] = s[1] - s[0];
    for (idx_t x = 1; x < cols - 1; x++) d[x] = s[x + 1] - s[x - 1];
    d[cols - 1] = s[cols - 1] - s[cols - 2];
}

/* Gradient row from the three normalized rows above, at and below it
 * (sa, sb, sc) and their x differences (da, db, dc). */
TARGET static void NAME(grad_row)(const T *sa, const T *sc, const T *da, const T *db, const T *dc,
                                  T *gi, T *gj, T *m, T *e, idx_t cols, int l2) {
    for (idx_t x = 0; x < cols; x++) e[x] = sc[x] - sa[x]; /* in T: as xdiff */
    for (idx_t x = 0; x < cols; x++) gj[x] = (T)((double)db[x] * 2.0 + ((double)da[x] + (double)dc[x]));
    if (cols == 1) {
        gi[0] = (T)((double)e[0] * 2.0 + ((double)e[0] + (double)e[0]));
    } else {
        /* columns beyond the image repeat the edge column */
        gi[0] = (T)((double)e[0] * 2.0 + ((double)e[0] + (double)e[1]));
        for (idx_t x = 1; x < cols - 1; x++)
            gi[x] = (T)((double)e[x] * 2.0 + ((double)e[x - 1] + (double)e[x + 1]));
        gi[cols - 1] = (T)((double)e[cols - 1] * 2.0 + ((double)e[cols - 2] + (double)e[cols - 1]));
    }
    if (l2) {
        NAME(mag)(gi, gj, m, cols);
    } else {
        for (idx_t x = 0; x < cols; x++) m[x] = FABS(gi[x]) + FABS(gj[x]);
    }
}

/* One row's classes (columns 1..cols-2; out is zeroed by the caller) from
 * the magnitudes of the rows above, at and below it and the gradient at it.
 * Written without branches so that it vectorizes: every pixel computes
 * both interpolations of its direction with selects, then one mask keeps
 * the local maxima >= low. The values are those of skimage's branchy
 * code: w = min / max of |gi|, |gj| is the quotient each branch takes
 * (where they tie both give 1, and the magnitude is 0 where both are 0,
 * which no threshold keeps), and the neighbours are picked per direction. */
TARGET static void NAME(nms_row)(const T *restrict mu, const T *restrict mc, const T *restrict md,
                                 const T *restrict ic, const T *restrict jc, uint8_t *restrict out,
                                 idx_t x0, idx_t cols, float lowf, double hi) {
    for (idx_t x = x0; x < cols - 1; x++) {
        const T mm = mc[x];
        const T iv = ic[x], jv = jc[x];
        const int is_down = iv <= 0, is_left = jv <= 0;
        /* up and right, or down and left */
        const int cond1 = is_down == is_left;
        const T ai = FABS(iv), aj = FABS(jv);
        const T lo_ = ai < aj ? ai : aj, hi_ = ai < aj ? aj : ai;
        const T w = lo_ / hi_;
        /* which of the two quotients: the column neighbours (horizontal)
         * where |gj| dominates; ties go to the column pair under cond1 */
        const int horiz = cond1 ? !(ai > aj) : ai < aj;
        T n11, n12, n21, n22;
        if (cond1) {
            n11 = horiz ? mc[x + 1] : md[x];
            n12 = md[x + 1];
            n21 = horiz ? mc[x - 1] : mu[x];
            n22 = mu[x - 1];
        } else {
            n11 = horiz ? mc[x + 1] : mu[x];
            n12 = mu[x + 1];
            n21 = horiz ? mc[x - 1] : md[x];
            n22 = md[x - 1];
        }
        const double wd = (double)w, mmd = (double)mm;
        const int keep = (mm >= lowf) & ((double)(n12 * w) + (double)n11 * (1.0 - wd) <= mmd) &
                         ((double)(n22 * w) + (double)n21 * (1.0 - wd) <= mmd) & (mm > 0);
        out[x] = (uint8_t)(keep ? (mmd >= hi ? 2 : 1) : 0);
    }
}

/* u8: src is uint8 (the T path on its cast). */
TARGET static inline int NAME(canny_nms_core)(const void *src, int u8, uint8_t *dst, idx_t rows, idx_t cols,
                                              idx_t r0, idx_t r1, double low, double high, int l2,
                                              const void *vscale_, const void *hscale_, double eps_,
                                              const uint8_t *emask, void *mag_) {
    const T *vscale = (const T *)vscale_, *hscale = (const T *)hscale_;
    const T eps = (T)eps_;
    T *magout = (T *)mag_;
    float lowf = (float)low;
    if (lowf == 0) lowf = (float)1e-14; /* so that m >= low is false where m == 0 */
    const double hi = high;
    /* 3 source rows, 3 x-difference rows, 3 rows each of gi, gj, m, and e. */
    T *buf = (T *)malloc(sizeof(T) * (size_t)cols * 16);
    if (!buf) return -1;
    T *s[3], *d[3], *gi[3], *gj[3], *m[3];
    for (int k = 0; k < 3; k++) {
        s[k] = buf + (0 + k) * cols;
        d[k] = buf + (3 + k) * cols;
        gi[k] = buf + (6 + k) * cols;
        gj[k] = buf + (9 + k) * cols;
        m[k] = buf + (12 + k) * cols;
    }
    T *e = buf + 15 * cols;
    /* Ring slots: row y lives in slot (y + 3) % 3 (y may be -1). */
#define SLOT(y) ((int)(((y) + 3) % 3))
    /* Source rows y0 - 1 .. and gradient rows from y0 = r0 - 1 on. */
    const idx_t g0 = r0 - 1;
    for (idx_t y = g0 - 1; y <= g0; y++) {
        NAME(norm_row)(src, u8, s[SLOT(y)], rows, cols, y, vscale, hscale, eps);
        NAME(xdiff)(s[SLOT(y)], d[SLOT(y)], cols);
    }
    for (idx_t g = g0; g <= r1; g++) {
        /* gradient row g needs source rows g - 1, g, g + 1 */
        NAME(norm_row)(src, u8, s[SLOT(g + 1)], rows, cols, g + 1, vscale, hscale, eps);
        NAME(xdiff)(s[SLOT(g + 1)], d[SLOT(g + 1)], cols);
        if (g >= 0 && g < rows) {
            /* rows beyond the image repeat the edge row (scipy's reflect at one pixel) */
            const int a = SLOT(g > 0 ? g - 1 : g), c = SLOT(g < rows - 1 ? g + 1 : g), b = SLOT(g);
            NAME(grad_row)(s[a], s[c], d[a], d[b], d[c], gi[b], gj[b], m[b], e, cols, l2);
            if (magout && g >= r0 && g < r1) memcpy(magout + g * cols, m[b], sizeof(T) * (size_t)cols);
        }
        const idx_t y = g - 1; /* the row whose neighbours are now all known */
        if (y < r0 || y >= r1) continue;
        uint8_t *out = dst + y * cols;
        const T *mu = m[SLOT(y - 1)], *mc = m[SLOT(y)], *md = m[SLOT(y + 1)];
        const T *ic = gi[SLOT(y)], *jc = gj[SLOT(y)];
        const uint8_t *em = emask ? emask + y * cols : NULL;
        memset(out, 0, (size_t)cols);
        /* Never on the outer ring (skimage's eroded mask is False there; its
         * neighbours would lie outside the image). */
        if (y == 0 || y == rows - 1) continue;
        const idx_t x0 = NAME(nms_vec)(mu, mc, md, ic, jc, out, cols, lowf, hi);
        NAME(nms_row)(mu, mc, md, ic, jc, out, x0, cols, lowf, hi);
        if (em)
            for (idx_t x = 1; x < cols - 1; x++) out[x] = em[x] ? out[x] : 0;
    }
#undef SLOT
    free(buf);
    return 0;
}

TARGET static int NAME(canny_nms)(const void *src, uint8_t *dst, idx_t rows, idx_t cols, idx_t r0, idx_t r1,
                                  double low, double high, int l2, const void *vscale, const void *hscale,
                                  double eps, const uint8_t *emask, void *mag) {
    return NAME(canny_nms_core)(src, 0, dst, rows, cols, r0, r1, low, high, l2, vscale, hscale, eps, emask, mag);
}

#if defined(CANNY_U8)
/* A uint8 source with the border normalization (sigma 0, "constant"): the
 * T path on its cast, the cast made row by row. */
TARGET static int NAME(canny_nms_u8norm)(const void *src, uint8_t *dst, idx_t rows, idx_t cols, idx_t r0,
                                         idx_t r1, double low, double high, int l2, const void *vscale,
                                         const void *hscale, double eps, const uint8_t *emask, void *mag) {
    return NAME(canny_nms_core)(src, 1, dst, rows, cols, r0, r1, low, high, l2, vscale, hscale, eps, emask, mag);
}

/* The uint8 source of sigma 0 without a border normalization: the Sobel
 * sums of 8-bit pixels are integers (|.| <= 1020), which the T path above
 * holds exactly in every step (each (T)(double ...) is exact), so summing
 * them as integers gives its gi, gj bits; the magnitude and the suppression
 * are the T path's operations. Columns and rows beyond the image repeat
 * the edge ones, as there. Besides gi, gj and m, a row gets the candidate
 * bits (m >= low, m > 0) of each suppression block of 8 (block k: columns
 * 1 + 8k .. 8 + 8k, the blocks nms_vec would take), which nms_cand follows. */
TARGET static void NAME(grad_row_u8)(const uint8_t *a, const uint8_t *b, const uint8_t *c, T *gi, T *gj,
                                     T *m, uint8_t *cand, idx_t cols, int l2, float lowf) {
    const idx_t x1 = NAME(grad_u8_vec)(a, b, c, gi, gj, m, cand, cols, l2, lowf);
    for (idx_t x = 0; x < cols; x = (x == 0 && x1 > 1) ? x1 : x + 1) {
        const idx_t xl = x > 0 ? x - 1 : 0, xr = x < cols - 1 ? x + 1 : cols - 1;
        const int ej = ((int)a[xr] + 2 * (int)b[xr] + (int)c[xr]) - ((int)a[xl] + 2 * (int)b[xl] + (int)c[xl]);
        const int ei = ((int)c[xl] + 2 * (int)c[x] + (int)c[xr]) - ((int)a[xl] + 2 * (int)a[x] + (int)a[xr]);
        gi[x] = (T)ei;
        gj[x] = (T)ej;
    }
    if (l2) {
        NAME(mag)(gi, gj, m, 1);
        NAME(mag)(gi + x1, gj + x1, m + x1, cols - x1);
    } else {
        m[0] = FABS(gi[0]) + FABS(gj[0]);
        for (idx_t x = x1; x < cols; x++) m[x] = FABS(gi[x]) + FABS(gj[x]);
    }
    const idx_t nb = cols >= 2 ? (cols - 2) / 8 : 0;
    for (idx_t k = (x1 - 1) / 8; k < nb; k++) {
        int bits = 0;
        for (int j = 0; j < 8; j++) {
            const T v = m[1 + 8 * k + j];
            bits |= ((v >= lowf) & (v > 0)) << j;
        }
        cand[k] = (uint8_t)bits;
    }
}

TARGET static int NAME(canny_nms_u8)(const void *src_, uint8_t *dst, idx_t rows, idx_t cols, idx_t r0,
                                     idx_t r1, double low, double high, int l2, const void *vscale_,
                                     const void *hscale_, double eps_, const uint8_t *emask, void *mag_) {
    (void)vscale_, (void)hscale_, (void)eps_;
    const uint8_t *src = (const uint8_t *)src_;
    T *magout = (T *)mag_;
    float lowf = (float)low;
    if (lowf == 0) lowf = (float)1e-14; /* as canny_nms */
    const double hi = high;
    /* 3 rows each of gi, gj, m and the candidate bits: row y in slot (y + 3) % 3 */
    const idx_t nc = cols / 8 + 1;
    T *buf = (T *)malloc(sizeof(T) * (size_t)cols * 9 + (size_t)nc * 3);
    if (!buf) return -1;
    T *gi[3], *gj[3], *m[3];
    uint8_t *cb[3];
    for (int k = 0; k < 3; k++) {
        gi[k] = buf + (0 + k) * cols;
        gj[k] = buf + (3 + k) * cols;
        m[k] = buf + (6 + k) * cols;
        cb[k] = (uint8_t *)(buf + 9 * cols) + k * nc;
    }
#define SLOT(y) ((int)(((y) + 3) % 3))
    for (idx_t g = r0 - 1; g <= r1; g++) {
        if (g >= 0 && g < rows) {
            const uint8_t *a = src + (g > 0 ? g - 1 : g) * cols, *c = src + (g < rows - 1 ? g + 1 : g) * cols;
            const int b = SLOT(g);
            NAME(grad_row_u8)(a, src + g * cols, c, gi[b], gj[b], m[b], cb[b], cols, l2, lowf);
            if (magout && g >= r0 && g < r1) memcpy(magout + g * cols, m[b], sizeof(T) * (size_t)cols);
        }
        const idx_t y = g - 1;
        if (y < r0 || y >= r1) continue;
        uint8_t *out = dst + y * cols;
        memset(out, 0, (size_t)cols);
        if (y == 0 || y == rows - 1) continue;
        const T *mu = m[SLOT(y - 1)], *mc = m[SLOT(y)], *md = m[SLOT(y + 1)];
        const T *ic = gi[SLOT(y)], *jc = gj[SLOT(y)];
        const idx_t x0 = NAME(nms_cand)(mu, mc, md, ic, jc, out, cb[SLOT(y)], cols, hi);
        NAME(nms_row)(mu, mc, md, ic, jc, out, x0, cols, lowf, hi);
        if (emask)
            for (idx_t x = 1; x < cols - 1; x++) out[x] = emask[y * cols + x] ? out[x] : 0;
    }
#undef SLOT
    free(buf);
    return 0;
}
#endif

#undef NAME
#undef CAT
#undef CAT2
