/* Body of the rank and min/max kernels over flat footprints, included once
 * per instruction set (morph.c defines SUFFIX and TARGET). Every kernel
 * reads a border-extended block of (rows + fh - 1) x (cols + fw - 1) pixels
 * of `chan` values (row stride src_row elements) and writes rows x cols
 * pixels (row stride dst_row). They return 0, or -1 when scratch memory is
 * short. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* ------------------------------------------------------------------ ranks */

/* The rank wanted in this window, or -1 for the NaN key: `nn` of its n keys
 * are NaN. */
#define RANK_TARGET(m, nn)                                                       \
    do {                                                                         \
        m = rank;                                                                \
        if (nan_rule == 2) m = nn == n ? -1 : (idx_t)table[n - nn];              \
        else if (nan_rule == 1 && nn > 0) m = -1;                                \
    } while (0)

/* Walks the window once per output row: the footprint's runs enter on the
 * right and leave on the left (two keys per run per pixel), so the cost per
 * pixel grows with the footprint's height, never its area. The histogram
 * is emptied at the end of each row by taking the last window out. */
#define RANK_SCAN(KT, ADD, REMOVE, REPLACE, QUERY)                               \
    for (idx_t c = 0; c < ch; c++) {                                             \
        for (idx_t y = 0; y < g->rows; y++) {                                    \
            const KT *b = src + y * srow + c;                                    \
            idx_t nn = 0;                                                        \
            for (idx_t t = 0; t < g->nruns; t++) {                               \
                const KT *p = b + g->runs[t].row * srow + g->runs[t].col * ch;   \
                for (idx_t j = 0; j < g->runs[t].len; j++) ADD(p[j * ch]);        \
            }                                                                    \
            for (idx_t x = 0; x < g->cols; x++) {                                \
                if (x > 0)                                                       \
                    for (idx_t t = 0; t < g->nruns; t++) {                       \
                        const KT *p = b + g->runs[t].row * srow +                \
                                      (g->runs[t].col + x - 1) * ch;             \
                        REPLACE(p[0], p[g->runs[t].len * ch]);                   \
                    }                                                            \
                idx_t m;                                                         \
                RANK_TARGET(m, nn);                                              \
                KT out_;                                                         \
                if (m < 0) out_ = (KT)nan_key;                                   \
                else QUERY(m, out_);                                             \
                dst[y * drow + x * ch + c] = out_;                               \
            }                                                                    \
            for (idx_t t = 0; t < g->nruns; t++) {                               \
                const KT *p = b + g->runs[t].row * srow +                        \
                              (g->runs[t].col + g->cols - 1) * ch;               \
                for (idx_t j = 0; j < g->runs[t].len; j++) REMOVE(p[j * ch]);     \
            }                                                                    \
        }                                                                        \
    }

/* 8- and 16-bit keys: a fine histogram and a coarse one (2^SH keys a bin),
 * and the answer tracked from the previous pixel's: `below` counts the
 * window's keys under `key`, so a query walks only as far as the rank's
 * value moved, a coarse bin at a time where it can. */
#define DEFINE_RANK_HIST(TN, KT, BITS, SH)                                                    \
    TARGET static int NAME(rank_##TN)(const void *src_, void *dst_, const morph_geom *g,      \
                                      idx_t rank, const int64_t *table, idx_t nkeys,          \
                                      int64_t nan_key, int nan_rule) {                        \
        (void)nkeys;                                                                          \
        const KT *src = (const KT *)src_;                                                     \
        KT *dst = (KT *)dst_;                                                                 \
        const idx_t srow = g->src_row, drow = g->dst_row, ch = g->chan, n = g->n;             \
        const unsigned NB = 1u << BITS, shv = SH, CW = 1u << SH, CM = CW - 1;                         \
        uint32_t *hf = (uint32_t *)calloc(NB + (NB >> SH), sizeof(uint32_t));                 \
        if (!hf) return -1;                                                                   \
        uint32_t *hc = hf + NB;                                                               \
        unsigned key = 0;                                                                     \
        idx_t below = 0;                                                                      \
        (void)CM;                                                                             \
        _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wsign-compare\"")   \
        RANK_SCAN(KT, HIST_ADD, HIST_REMOVE, HIST_REPLACE, HIST_QUERY)                                      \
        _Pragma("GCC diagnostic pop")                                                         \
        free(hf);                                                                             \
        return 0;                                                                             \
    }

#define HIST_ADD(v_)                           \
    do {                                       \
        unsigned v = (v_);                     \
        hf[v]++;                               \
        hc[v >> shv]++;                         \
        below += v < key;                      \
        nn += (int64_t)v == nan_key;           \
    } while (0)
#define HIST_REMOVE(v_)                        \
    do {                                       \
        unsigned v = (v_);                     \
        hf[v]--;                               \
        hc[v >> shv]--;                         \
        below -= v < key;                      \
        nn -= (int64_t)v == nan_key;           \
    } while (0)
#define HIST_REPLACE(a, b) \
    do {                   \
        HIST_REMOVE(a);    \
        HIST_ADD(b);       \
    } while (0)
/* the key with below <= m < below + hf[key] */
#define HIST_QUERY(m, out)                                                     \
    do {                                                                       \
        while (below > m) {                                                    \
            if ((key & CM) == 0 && below - (idx_t)hc[(key >> shv) - 1] > m) {   \
                key -= CW;                                                     \
                below -= hc[key >> shv];                                        \
            } else {                                                           \
                key--;                                                         \
                below -= hf[key];                                              \
            }                                                                  \
        }                                                                      \
        while (below + (idx_t)hf[key] <= m) {                                  \
            if ((key & CM) == 0 && below + (idx_t)hc[key >> shv] <= m) {        \
                below += hc[key >> shv];                                        \
                key += CW;                                                     \
            } else {                                                           \
                below += hf[key];                                              \
                key++;                                                         \
            }                                                                  \
        }                                                                      \
        out = key;                                                             \
    } while (0)

/* Wider keys (the ranks of the image's distinct values): a Fenwick tree of
 * counts, O(log nkeys) per update and per query. */
#define FEN_ADD(v_)                                                    \
    do {                                                               \
        idx_t v = (idx_t)(v_);                                         \
        nn += (int64_t)v == nan_key;                                   \
        for (idx_t i = v + 1; i <= nkeys; i += i & -i) tree[i]++;      \
    } while (0)
#define FEN_REMOVE(v_)                                                 \
    do {                                                               \
        idx_t v = (idx_t)(v_);                                         \
        nn -= (int64_t)v == nan_key;                                   \
        for (idx_t i = v + 1; i <= nkeys; i += i & -i) tree[i]--;      \
    } while (0)
#define FEN_REPLACE(a, b) \
    do {                  \
        FEN_REMOVE(a);    \
        FEN_ADD(b);       \
    } while (0)
#define FEN_QUERY(m, out)                                              \
    do {                                                               \
        idx_t pos = 0, rem = m;                                        \
        for (idx_t step = top; step; step >>= 1) {                     \
            idx_t nx = pos + step;                                     \
            if (nx <= nkeys && (idx_t)tree[nx] <= rem) {               \
                pos = nx;                                              \
                rem -= tree[nx];                                       \
            }                                                          \
        }                                                              \
        out = (uint32_t)pos;                                           \
    } while (0)

TARGET static int NAME(rank_fenwick)(const void *src_, void *dst_, const morph_geom *g, idx_t rank,
                                     const int64_t *table, idx_t nkeys, int64_t nan_key, int nan_rule) {
    const uint32_t *src = (const uint32_t *)src_;
    uint32_t *dst = (uint32_t *)dst_;
    const idx_t srow = g->src_row, drow = g->dst_row, ch = g->chan, n = g->n;
    uint32_t *tree = (uint32_t *)calloc((size_t)nkeys + 1, sizeof(uint32_t));
    if (!tree) return -1;
    idx_t top = 1;
    while (top * 2 <= nkeys) top *= 2;
    RANK_SCAN(uint32_t, FEN_ADD, FEN_REMOVE, FEN_REPLACE, FEN_QUERY)
    free(tree);
    return 0;
}

/* Wide keys in small windows: the window's keys kept sorted, so that a
 * query is one load. Branch-free, as whole-window vector passes: a key's
 * place is the count of keys below it, and a run's key that leaves and the
 * one that enters rewrite the window into a second buffer in one pass (the
 * keys between their places shift by one); binary searches and memmove
 * missed a branch at every step (random keys: 250 ns a pixel at 5x5). Row
 * ends just forget the window (REMOVE is only called there). */
#define SRT_ADD(v_)                                                       \
    do {                                                                  \
        uint32_t v = (v_);                                                \
        idx_t at = 0;                                                     \
        for (idx_t i = 0; i < cnt; i++) at += w[i] < v;                   \
        memmove(w + at + 1, w + at, sizeof *w * (size_t)(cnt - at));      \
        w[at] = v;                                                        \
        cnt++;                                                            \
        nn += (int64_t)v == nan_key;                                      \
    } while (0)
#define SRT_REMOVE(v_)                           \
    do {                                         \
        cnt--;                                   \
        nn -= (int64_t)(v_) == nan_key;          \
    } while (0)
/* a leaves, b enters; places [lo, hi] change: b at `ins`, the others from
 * their neighbour on the side a left */
#define SRT_REPLACE(a_, b_)                                                            \
    do {                                                                               \
        uint32_t a = (a_), b = (b_);                                                   \
        if (a != b) {                                                                  \
            uint32_t ca = 0, cb = 0, lo, hi, ins;                                      \
            for (idx_t i = 0; i < np8; i++) ca += w[i] < a, cb += w[i] < b;            \
            int right = b > a;                                                         \
            if (right) lo = ca, hi = cb - 1, ins = cb - 1;                             \
            else lo = cb, hi = ca, ins = cb;                                           \
            const uint32_t *restrict nb = right ? w + 1 : w - 1;                       \
            for (uint32_t i = 0; i < (uint32_t)np8; i++) {                             \
                uint32_t keep = w[i], moved = i == ins ? b : nb[i];                    \
                w2[i] = i >= lo && i <= hi ? moved : keep;                             \
            }                                                                          \
            uint32_t *t_ = w;                                                          \
            w = w2, w2 = t_;                                                           \
            nn += ((int64_t)b == nan_key) - ((int64_t)a == nan_key);                   \
        }                                                                              \
    } while (0)
#define SRT_QUERY(m, out) out = w[m]

TARGET static int NAME(rank_sorted)(const void *src_, void *dst_, const morph_geom *g, idx_t rank,
                                    const int64_t *table, idx_t nkeys, int64_t nan_key, int nan_rule) {
    (void)nkeys;
    const uint32_t *src = (const uint32_t *)src_;
    uint32_t *dst = (uint32_t *)dst_;
    const idx_t srow = g->src_row, drow = g->dst_row, ch = g->chan, n = g->n;
    /* Two windows of n keys padded to whole vectors by keys above every key
     * (never below one, never moved), each with a key's margin on both sides
     * (the neighbour loads at the ends, never kept). */
    const idx_t np8 = (n + 7) / 8 * 8;
    uint32_t *buf = (uint32_t *)malloc(2 * ((size_t)np8 + 2) * sizeof(uint32_t));
    if (!buf) return -1;
    for (idx_t i = 0; i < 2 * (np8 + 2); i++) buf[i] = UINT32_MAX;
    uint32_t *w = buf + 1, *w2 = buf + np8 + 3;
    idx_t cnt = 0;
    RANK_SCAN(uint32_t, SRT_ADD, SRT_REMOVE, SRT_REPLACE, SRT_QUERY)
    free(buf);
    return 0;
}

DEFINE_RANK_HIST(u8, uint8_t, 8, 4)
DEFINE_RANK_HIST(u16, uint16_t, 16, 8)

morph_rank_fn NAME(morph_rank_table)[4] = {NAME(rank_u8), NAME(rank_u16), NAME(rank_fenwick), NAME(rank_sorted)};

#undef RANK_TARGET
#undef RANK_SCAN
#undef DEFINE_RANK_HIST
#undef HIST_ADD
#undef HIST_REMOVE
#undef HIST_QUERY
#undef FEN_ADD
#undef FEN_REMOVE
#undef FEN_QUERY
#undef FEN_REPLACE
#undef HIST_REPLACE
#undef SRT_ADD
#undef SRT_REMOVE
#undef SRT_REPLACE
#undef SRT_QUERY

/* ------------------------------------------------------------------ min / max */

/* Vertical windows up to this many rows are folded directly; taller ones
 * by van Herk / Gil-Werman (three operations a value whatever the height). */
#define DIRECT_ROWS 4

/* out[e] = OP of in[e + j ch], j < L, for the (P - L + 1) ch outputs of a
 * row of P pixels: by doubling spans (log2 L vectorized passes), exact as
 * min and max are. t0 and t1 hold P ch values each. */
#define DEFINE_LINE(TN, ON, T, OP)                                                             \
    TARGET static void NAME(line_##TN##_##ON)(const T *restrict in, T *restrict out, idx_t P,  \
                                              idx_t ch, idx_t L, T *restrict t0,               \
                                              T *restrict t1) {                                \
        const idx_t nout = (P - L + 1) * ch;                                                   \
        if (L == 1) {                                                                          \
            memcpy(out, in, sizeof(T) * (size_t)nout);                                         \
            return;                                                                            \
        }                                                                                      \
        if (L == 3) { /* one pass of three reads, not two passes (3x3: the common case) */     \
            for (idx_t e = 0; e < nout; e++) {                                                 \
                T a = in[e], b = in[e + ch], c = in[e + 2 * ch];                               \
                T ab = OP(a, b);                                                               \
                out[e] = OP(ab, c);                                                            \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        const T *cur = in;                                                                     \
        idx_t span = 1;                                                                        \
        while (span * 2 < L) {                                                                 \
            T *nxt = cur == t0 ? t1 : t0;                                                      \
            const idx_t ne = (P - 2 * span + 1) * ch, d = span * ch;                           \
            for (idx_t e = 0; e < ne; e++) {                                                   \
                T a = cur[e], b = cur[e + d];                                                  \
                nxt[e] = OP(a, b);                                                             \
            }                                                                                  \
            cur = nxt;                                                                         \
            span *= 2;                                                                         \
        }                                                                                      \
        const idx_t d = (L - span) * ch;                                                       \
        for (idx_t e = 0; e < nout; e++) {                                                     \
            T a = cur[e], b = cur[e + d];                                                      \
            out[e] = OP(a, b);                                                                 \
        }                                                                                      \
    }

/* A footprint as runs: one row of 1-D results per distinct run length (the
 * block itself for length 1), then each output row is the OP of the rows
 * its runs point at; a rectangle taller than DIRECT_ROWS instead takes one
 * vertical van Herk pass over its rows' 1-D results. */
#define DEFINE_MINMAX(TN, ON, T, OP)                                                             \
    DEFINE_LINE(TN, ON, T, OP)                                                                   \
    TARGET static int NAME(minmax_##TN##_##ON)(const void *src_, void *dst_,                     \
                                               const morph_geom *g) {                            \
        const T *src = (const T *)src_;                                                          \
        T *dst = (T *)dst_;                                                                      \
        const idx_t srow = g->src_row, drow = g->dst_row, ch = g->chan;                          \
        const idx_t B = g->rows + g->fh - 1, P = g->cols + g->fw - 1, W = g->cols * ch;          \
        int status = -1;                                                                         \
        /* distinct lengths, and per run the slot of its length */                               \
        idx_t *lens = (idx_t *)malloc(sizeof(idx_t) * 2 * (size_t)g->nruns);                     \
        const T **rowsp = NULL;                                                                  \
        T *store = NULL, *t0 = NULL, *t1 = NULL, *vg = NULL, *vh = NULL;                         \
        if (!lens) return -1;                                                                    \
        idx_t *slot = lens + g->nruns, nl = 0, stored = 0;                                       \
        for (idx_t t = 0; t < g->nruns; t++) {                                                   \
            idx_t s = 0;                                                                         \
            while (s < nl && lens[s] != g->runs[t].len) s++;                                     \
            if (s == nl) lens[nl++] = g->runs[t].len;                                            \
            slot[t] = s;                                                                         \
        }                                                                                        \
        idx_t *sidx = (idx_t *)malloc(sizeof(idx_t) * (size_t)g->nruns);                        \
        if (!sidx) goto done;                                                                    \
        for (idx_t s = 0; s < nl; s++) sidx[s] = lens[s] > 1 ? stored++ : -1;                    \
        int rect = nl == 1 && g->nruns == g->fh;                                                 \
        /* a rectangle: one run a row, all of one length and from one column */                  \
        for (idx_t t = 0; rect && t < g->nruns; t++)                                             \
            rect = g->runs[t].row == t && g->runs[t].col == g->runs[0].col;                      \
        const int tall = rect && g->fh > DIRECT_ROWS;                                            \
        /* tall rectangles keep every row's 1-D result; others a ring of fh rows */              \
        const idx_t keep = tall ? B : g->fh;                                                     \
        store = (T *)engine_scratch(sizeof(T) *                                                  \
                                    (size_t)((stored ? stored : 1) * keep * P * ch));            \
        t0 = (T *)malloc(sizeof(T) * (size_t)(P * ch));                                          \
        t1 = (T *)malloc(sizeof(T) * (size_t)(P * ch));                                          \
        if (tall) rowsp = (const T **)malloc(sizeof(T *) * (size_t)B);                           \
        if (!store || !t0 || !t1 || (tall && !rowsp)) goto done_s;                               \
        if (tall) {                                                                              \
            for (idx_t r = 0; r < B; r++) {                                                      \
                if (lens[0] == 1) {                                                              \
                    rowsp[r] = src + r * srow;                                                   \
                    continue;                                                                    \
                }                                                                                \
                T *o = store + r * P * ch;                                                       \
                NAME(line_##TN##_##ON)(src + r * srow, o, P, ch, lens[0], t0, t1);               \
                rowsp[r] = o;                                                                    \
            }                                                                                    \
                                                      \
            /* van Herk over rows: blocks of fh rows, prefix (vg) and suffix (vh) folds */       \
            const idx_t L = g->fh, off = g->runs[0].col * ch;                                    \
            vg = (T *)engine_scratch(sizeof(T) * (size_t)(B * W));                               \
            vh = (T *)engine_scratch(sizeof(T) * (size_t)(B * W));                               \
            if (!vg || !vh) goto done_s;                                                         \
            for (idx_t r0 = 0; r0 < B; r0 += L) {                                                \
                idx_t r1 = r0 + L < B ? r0 + L : B;                                              \
                memcpy(vg + r0 * W, rowsp[r0] + off, sizeof(T) * (size_t)W);                     \
                for (idx_t r = r0 + 1; r < r1; r++) {                                            \
                    const T *a = vg + (r - 1) * W, *in = rowsp[r] + off;                         \
                    T *o = vg + r * W;                                                           \
                    for (idx_t e = 0; e < W; e++) {                                              \
                        T p = a[e], q = in[e];                                                   \
                        o[e] = OP(p, q);                                                         \
                    }                                                                            \
                }                                                                                \
                memcpy(vh + (r1 - 1) * W, rowsp[r1 - 1] + off, sizeof(T) * (size_t)W);           \
                for (idx_t r = r1 - 2; r >= r0; r--) {                                           \
                    const T *a = vh + (r + 1) * W, *in = rowsp[r] + off;                         \
                    T *o = vh + r * W;                                                           \
                    for (idx_t e = 0; e < W; e++) {                                              \
                        T p = a[e], q = in[e];                                                   \
                        o[e] = OP(p, q);                                                         \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
            for (idx_t y = 0; y < g->rows; y++) {                                                \
                const T *a = vh + y * W, *b = vg + (y + L - 1) * W;                              \
                T *o = dst + y * drow;                                                           \
                for (idx_t e = 0; e < W; e++) {                                                  \
                    T p = a[e], q = b[e];                                                        \
                    o[e] = OP(p, q);                                                             \
                }                                                                                \
            }                                                                                    \
        } else {                                                                                 \
            idx_t computed = 0; /* block rows with their 1-D results in the ring */              \
            for (idx_t y = 0; y < g->rows; y++) {                                                \
                for (; computed < y + g->fh; computed++)                                         \
                    for (idx_t s = 0; s < nl; s++)                                               \
                        if (sidx[s] >= 0)                                                        \
                            NAME(line_##TN##_##ON)(                                              \
                                src + computed * srow,                                           \
                                store + (sidx[s] * keep + computed % keep) * P * ch, P, ch,      \
                                lens[s], t0, t1);                                                \
                T *restrict o = dst + y * drow;                                                  \
                /* the runs' rows: the first three folded in one pass, then two a pass */        \
                const T *in[3];                                                                  \
                idx_t t = 0;                                                                     \
                while (t < g->nruns) {                                                           \
                    idx_t m = 0, first = t == 0;                                                 \
                    for (; m < (first ? 3 : 2) && t < g->nruns; m++, t++) {                      \
                        const idx_t r = y + g->runs[t].row, k = sidx[slot[t]];                   \
                        in[m] = (k < 0 ? src + r * srow : store + (k * keep + r % keep) * P * ch) + \
                                g->runs[t].col * ch;                                             \
                    }                                                                            \
                    const T *restrict a = in[0], *restrict b = in[m > 1 ? 1 : 0];                \
                    const T *restrict c = in[m > 2 ? 2 : m - 1];                                 \
                    if (first && m == 1) {                                                       \
                        memcpy(o, a, sizeof(T) * (size_t)W);                                     \
                    } else if (first) {                                                          \
                        for (idx_t e = 0; e < W; e++) {                                          \
                            T p = a[e], q = b[e], u = c[e];                                      \
                            T pq = OP(p, q);                                                     \
                            o[e] = OP(pq, u);                                                    \
                        }                                                                        \
                    } else {                                                                     \
                        for (idx_t e = 0; e < W; e++) {                                          \
                            T p = a[e], q = b[e], u = o[e];                                      \
                            T pq = OP(p, q);                                                     \
                            o[e] = OP(u, pq);                                                    \
                        }                                                                        \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        status = 0;                                                                              \
    done_s:                                                                                      \
        free(sidx);                                                                              \
    done:                                                                                        \
        free(lens);                                                                              \
        free(rowsp);                                                                             \
        engine_scratch_free(store);                                                              \
        free(t0);                                                                                \
        free(t1);                                                                                \
        engine_scratch_free(vg);                                                                 \
        engine_scratch_free(vh);                                                                 \
        return status;                                                                           \
    }

#define OP_MIN(a, b) ((b) < (a) ? (b) : (a))
#define OP_MAX(a, b) ((a) < (b) ? (b) : (a))
/* A NaN operand wins (propagate) or loses (ignore); of -0.0 and 0.0 the
 * minimum is -0.0 and the maximum 0.0 (tie_lo, tie_hi: morph.c). */
#define OP_MIN_NAN(TN, a, b) tie_lo_##TN(((b) < (a) || (b) != (b)) ? (b) : (a), a, b)
#define OP_MAX_NAN(TN, a, b) tie_hi_##TN(((a) < (b) || (b) != (b)) ? (b) : (a), a, b)
#define OP_FMIN(TN, a, b) tie_lo_##TN(((b) < (a) || (a) != (a)) ? (b) : (a), a, b)
#define OP_FMAX(TN, a, b) tie_hi_##TN(((a) < (b) || (a) != (a)) ? (b) : (a), a, b)
#define OP_MIN_f32(a, b) OP_MIN_NAN(f32, a, b)
#define OP_MAX_f32(a, b) OP_MAX_NAN(f32, a, b)
#define OP_FMIN_f32(a, b) OP_FMIN(f32, a, b)
#define OP_FMAX_f32(a, b) OP_FMAX(f32, a, b)
#define OP_MIN_f64(a, b) OP_MIN_NAN(f64, a, b)
#define OP_MAX_f64(a, b) OP_MAX_NAN(f64, a, b)
#define OP_FMIN_f64(a, b) OP_FMIN(f64, a, b)
#define OP_FMAX_f64(a, b) OP_FMAX(f64, a, b)

#define DEFINE_INT(TN, T)              \
    DEFINE_MINMAX(TN, min, T, OP_MIN)  \
    DEFINE_MINMAX(TN, max, T, OP_MAX)
#define DEFINE_FLOAT(TN, T)                    \
    DEFINE_MINMAX(TN, min, T, OP_MIN_##TN)     \
    DEFINE_MINMAX(TN, max, T, OP_MAX_##TN)     \
    DEFINE_MINMAX(TN, fmin, T, OP_FMIN_##TN)   \
    DEFINE_MINMAX(TN, fmax, T, OP_FMAX_##TN)

DEFINE_INT(u8, uint8_t)
DEFINE_INT(i8, int8_t)
DEFINE_INT(u16, uint16_t)
DEFINE_INT(i16, int16_t)
DEFINE_INT(u32, uint32_t)
DEFINE_INT(i32, int32_t)
DEFINE_INT(u64, uint64_t)
DEFINE_INT(i64, int64_t)
DEFINE_FLOAT(f32, float)
DEFINE_FLOAT(f64, double)

#define IROW(TN) {NAME(minmax_##TN##_min), NAME(minmax_##TN##_max), NAME(minmax_##TN##_min), NAME(minmax_##TN##_max)}
#define FROW(TN) {NAME(minmax_##TN##_min), NAME(minmax_##TN##_max), NAME(minmax_##TN##_fmin), NAME(minmax_##TN##_fmax)}
/* [type][op + 2 nan_ignore] */
morph_minmax_fn NAME(morph_minmax_table)[T_COUNT][4] = {IROW(u8), IROW(i8), IROW(u16), IROW(i16), IROW(u32),
                                                        IROW(i32), IROW(u64), IROW(i64), FROW(f32), FROW(f64)};

#undef IROW
#undef FROW
#undef DEFINE_INT
#undef DEFINE_FLOAT
#undef DEFINE_MINMAX
#undef DEFINE_LINE
#undef OP_MIN
#undef OP_MAX
#undef OP_MIN_NAN
#undef OP_MAX_NAN
#undef OP_FMIN
#undef OP_FMAX
#undef OP_MIN_f32
#undef OP_MAX_f32
#undef OP_FMIN_f32
#undef OP_FMAX_f32
#undef OP_MIN_f64
#undef OP_MAX_f64
#undef OP_FMIN_f64
#undef OP_FMAX_f64
#undef DIRECT_ROWS
#undef NAME
#undef CAT
#undef CAT2
