/* Body of the median kernels, included once per instruction set (rank.c
 * defines SUFFIX and TARGET). Every kernel reads a border-extended block of
 * (rows + k - 1) x (cols + k - 1) pixels of `chan` values (row stride
 * g->s_outer[0]) and writes rows x cols pixels (row stride g->d_outer[0]).
 * They return 0, or -1 when scratch memory is short. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Output values per pass of the network kernels: the sorted columns of a
 * chunk stay in L1 between the column and the row stage. */
#define CHUNK_BYTES 2048

/* ------------------------------------------------------------------ networks */

/* One output row y of a network kernel, in chunks: NET<k>_COLS sorts the
 * columns into scratch, NET<k>_ROWS runs over them (NET: the macros' prefix;
 * lorow and lorow2, the rows of the ranks below the median where NET keeps
 * them, else NULL). */
#define NET_ROW(NET, K, T)                                                                \
    for (idx_t e0 = 0; e0 < nout; e0 += CHUNK) {                                          \
        const idx_t m = nout - e0 < CHUNK ? nout - e0 : CHUNK;                            \
        const idx_t m_in = m + (K - 1) * ch;                                              \
        const T *restrict s = src + y * srow + e0;                                        \
        T *restrict c = scratch;                                                          \
        for (idx_t e = 0; e < m_in; e++) {                                                \
            NET##_COLS(T)                                                                 \
        }                                                                                 \
        T *restrict d = dst + y * drow + e0;                                              \
        T *restrict lo = lorow ? lorow + e0 : NULL;                                       \
        T *restrict lo2 = lorow2 ? lorow2 + e0 : NULL;                                    \
        (void)lo;                                                                         \
        (void)lo2;                                                                        \
        for (idx_t e = 0; e < m; e++) {                                                   \
            NET##_ROWS(T)                                                                 \
        }                                                                                 \
    }

#define DEFINE_NET(K, TN, T)                                                              \
    TARGET static int NAME(net##K##_##TN)(const void *src_, void *dst_, const geom_t *g) { \
        const T *src = (const T *)src_;                                                   \
        T *dst = (T *)dst_;                                                               \
        const idx_t srow = g->s_outer[0], drow = g->d_outer[0], ch = g->chan;             \
        const idx_t CHUNK = CHUNK_BYTES / (idx_t)sizeof(T);                               \
        const idx_t nout = g->inner * ch, W = CHUNK + (K - 1) * ch;                       \
        T *scratch = (T *)malloc(sizeof(T) * (size_t)(NET##K##_SLOTS * W));               \
        T *const lorow = NULL, *const lorow2 = NULL;                                      \
        if (!scratch) return -1;                                                          \
        for (idx_t y = 0; y < g->outer[0]; y++) NET_ROW(NET##K, K, T)                     \
        free(scratch);                                                                    \
        return 0;                                                                         \
    }

/* ------------------------------------------------------------------ 3x3 direct */

/* 3x3 medians read straight from the image, without a border-extended copy:
 * the three source rows of each output row come from `rowidx` (-1: a row of
 * zeros, the constant border) and the columns beyond the edges from `left`
 * and `right` (the source columns of pixels -1 and cols, -1 likewise). The
 * window's median is med3(max of the column lows, median of the column
 * middles, min of the column highs), exact for any three sorted columns
 * (Paeth). Each column of three is sorted where it is used, three times,
 * from unaligned loads: that is cheaper than sorting it once into scratch
 * rows and reading them back (the stores and reloads cost more than the
 * ten extra min/max: two thirds of the time on a 4K RGB photo). Integer types only:
 * the NaN rules of floats stay with the networks and the holes pass. */
#define MED3(a, b, c) MAX(MIN(a, b), MIN(MAX(a, b), c))
#define D3_SORT3(T, o, L, M, H)                                                                 \
    do {                                                                                        \
        T v0_ = a[e + (o)], v1_ = b[e + (o)], v2_ = c[e + (o)];                                 \
        T l_ = MIN(v0_, v1_), h_ = MAX(v0_, v1_);                                               \
        L = MIN(l_, v2_);                                                                       \
        H = MAX(h_, v2_);                                                                       \
        M = MAX(l_, MIN(h_, v2_));                                                              \
    } while (0)

#define DEFINE_DIRECT3(TN, T)                                                                   \
    /* d[e] for e < m: the median of a, b, c at e, e + ch and e + 2 ch (a, b, c start at the    \
     * left neighbour of d's first pixel). */                                                   \
    TARGET static void NAME(d3run_##TN)(const T *restrict a, const T *restrict b,               \
                                        const T *restrict c, T *restrict d, idx_t m, idx_t ch) { \
        for (idx_t e = 0; e < m; e++) {                                                         \
            T l0, m0, h0, l1, m1, h1, l2, m2, h2;                                               \
            D3_SORT3(T, 0, l0, m0, h0);                                                         \
            D3_SORT3(T, ch, l1, m1, h1);                                                        \
            D3_SORT3(T, 2 * ch, l2, m2, h2);                                                    \
            T l = MAX(MAX(l0, l1), l2), h = MIN(MIN(h0, h1), h2), md = MED3(m0, m1, m2);        \
            d[e] = MED3(l, md, h);                                                              \
        }                                                                                       \
    }                                                                                           \
    TARGET static int NAME(direct3_##TN)(const void *src_, void *dst_, const geom_t *g,         \
                                         const idx_t *rowidx, idx_t left, idx_t right) {        \
        const T *src = (const T *)src_;                                                         \
        T *dst = (T *)dst_;                                                                     \
        const idx_t srow = g->s_outer[0], drow = g->d_outer[0], ch = g->chan, cols = g->inner;  \
        const idx_t n = cols * ch;                                                              \
        /* a zero row (the constant border's rows) and three rows of three pixels for the     \
         * edge pixels, whose neighbours beyond the edge come through left and right */         \
        T *scratch = (T *)calloc((size_t)(n + 9 * ch), sizeof(T));                              \
        if (!scratch) return -1;                                                                \
        const T *zero = scratch;                                                                \
        T *edge = scratch + n;                                                                  \
        for (idx_t y = 0; y < g->outer[0]; y++) {                                               \
            const T *p[3];                                                                      \
            for (int i = 0; i < 3; i++) p[i] = rowidx[y + i] < 0 ? zero : src + rowidx[y + i] * srow; \
            T *d = dst + y * drow;                                                              \
            if (cols > 2) NAME(d3run_##TN)(p[0], p[1], p[2], d + ch, n - 2 * ch, ch);           \
            for (idx_t x = 0; x < cols; x += cols - 1 > 0 ? cols - 1 : 1) {                     \
                for (int i = 0; i < 3; i++)                                                     \
                    for (idx_t dx = -1; dx <= 1; dx++) {                                        \
                        idx_t col = x + dx < 0 ? left : x + dx >= cols ? right : x + dx;        \
                        const T *from = col < 0 ? zero : p[i] + col * ch;                       \
                        memcpy(edge + (3 * i + dx + 1) * ch, from, sizeof(T) * (size_t)ch);     \
                    }                                                                           \
                NAME(d3run_##TN)(edge, edge + 3 * ch, edge + 6 * ch, d + x * ch, ch, ch);       \
            }                                                                                   \
        }                                                                                       \
        free(scratch);                                                                          \
        return 0;                                                                               \
    }

/* ------------------------------------------------------------------ selection */

/* Quickselect of rank `want` among n values (NaN ranks last, as numpy.partition). */
#define DEFINE_SELECT(TN, T, LESS)                                                         \
    static T NAME(kth_##TN)(T *v, idx_t n, idx_t want) {                                   \
        idx_t lo = 0, hi = n - 1;                                                          \
        while (hi > lo) {                                                                  \
            idx_t mid = lo + (hi - lo) / 2;                                                \
            T a = v[lo], b = v[mid], c = v[hi], p;                                         \
            /* median of three as the pivot */                                             \
            if (LESS(a, b)) p = LESS(b, c) ? b : (LESS(a, c) ? c : a);                     \
            else p = LESS(a, c) ? a : (LESS(b, c) ? c : b);                                \
            idx_t i = lo, j = hi;                                                          \
            while (i <= j) {                                                               \
                while (LESS(v[i], p)) i++;                                                 \
                while (LESS(p, v[j])) j--;                                                 \
                if (i <= j) {                                                              \
                    T t = v[i];                                                            \
                    v[i] = v[j];                                                           \
                    v[j] = t;                                                              \
                    i++;                                                                   \
                    j--;                                                                   \
                }                                                                          \
            }                                                                              \
            if (want <= j) hi = j;                                                         \
            else if (want >= i) lo = i;                                                    \
            else return v[want];                                                           \
        }                                                                                  \
        return v[want];                                                                    \
    }                                                                                      \
    TARGET static int NAME(select_##TN)(const void *src_, void *dst_, const geom_t *g,     \
                                        idx_t k) {                                         \
        const T *src = (const T *)src_;                                                    \
        T *dst = (T *)dst_;                                                                \
        const idx_t srow = g->s_outer[0], drow = g->d_outer[0], ch = g->chan;              \
        T *buf = (T *)malloc(sizeof(T) * (size_t)(k * k));                                 \
        if (!buf) return -1;                                                               \
        for (idx_t y = 0; y < g->outer[0]; y++)                                            \
            for (idx_t e = 0; e < g->inner * ch; e++) {                                    \
                const T *s = src + y * srow + e;                                           \
                idx_t n = 0;                                                               \
                for (idx_t i = 0; i < k; i++)                                              \
                    for (idx_t j = 0; j < k; j++) buf[n++] = s[i * srow + j * ch];         \
                dst[y * drow + e] = NAME(kth_##TN)(buf, n, n / 2);                         \
            }                                                                              \
        free(buf);                                                                         \
        return 0;                                                                          \
    }

/* ------------------------------------------------------------------ holes (float) */

/* Valid-only medians of HOLE_LANES consecutive outputs (3 x 3 or 5 x 5
 * windows), written where `flag` is set: each lane is one window (the
 * elements of a row are consecutive, so its K * K values come by plain
 * vector loads, no gather); missing values become +inf (they sort last; a
 * valid +inf ties them), a pruned network orders the lower KEEP ranks, and
 * the middle ranks of the lane's valid count are picked by a select chain.
 * The lane loop holds no control flow, so the compiler turns it into
 * vector min/max (one window per lane: the same comparisons, the same bits
 * as one window at a time). CT is the count's integer type, as wide as T. */
#define HOLE_LANES 8
/* The slot loops unrolled in full: otherwise the lane loop holds control
 * flow, and GCC leaves it scalar. */
#if defined(__GNUC__)
#define HOLE_UNROLL _Pragma("GCC unroll 32")
#else
#define HOLE_UNROLL
#endif
/* One window's lower KEEP ranks into low[r * LS] (LS apart) and its valid
 * count into *cnt: q its corner. */
#define HOLE_SORT(T, CT, K, KK, KEEP, SORT, q, low, LS, cnt)                                      \
    do {                                                                                          \
        T w[KK];                                                                                  \
        CT n_ = 0;                                                                                \
        HOLE_UNROLL for (int i = 0; i < K; i++)                                                   \
            HOLE_UNROLL for (int j = 0; j < K; j++) {                                             \
                T x = (q)[i * srow + j * ch];                                                     \
                n_ += x == x ? (CT)1 : (CT)0;                                                     \
                w[i * K + j] = x == x ? x : (T)INFINITY;                                          \
            }                                                                                     \
        SORT(T)                                                                                   \
        HOLE_UNROLL for (int r = 0; r < KEEP; r++)(low)[r * (LS)] = w[r];                         \
        *(cnt) = n_;                                                                              \
    } while (0)
/* a where the mask m is all ones, else b: bitwise, so that GCC keeps the
 * chains below branch-free and vectorizes them (it turns the correlated
 * conditions of a ?: chain into jumps). */
#define DEFINE_HOLE_BLEND(TN, T, UT)                                                              \
    TARGET static inline T NAME(blend_##TN)(T a, T b, UT m) {                                     \
        UT ua, ub;                                                                                \
        memcpy(&ua, &a, sizeof(ua));                                                              \
        memcpy(&ub, &b, sizeof(ub));                                                              \
        ua = (ua & m) | (ub & ~m);                                                                \
        memcpy(&a, &ua, sizeof(a));                                                               \
        return a;                                                                                 \
    }
/* The valid-only median from the lower ranks low[r * LS] and the count n:
 * ranks (n - 1) / 2 (0 when n = 0) and n / 2, their mean in double when n
 * is even, NaN when n = 0. */
#define HOLE_PICK(TN, T, CT, UT, KEEP, low, LS, n, out)                                           \
    do {                                                                                          \
        T a_ = (low)[0], b_ = (low)[0];                                                           \
        HOLE_UNROLL for (int r = 1; r < KEEP; r++) {                                              \
            T x_ = (low)[r * (LS)];                                                               \
            a_ = NAME(blend_##TN)(x_, a_, (UT) - (CT)((n) > (CT)(2 * r)));                        \
            b_ = NAME(blend_##TN)(x_, b_, (UT) - (CT)((n) > (CT)(2 * r - 1)));                    \
        }                                                                                         \
        T m_ = (T)(((double)a_ + (double)b_) / 2);                                                \
        T v_ = NAME(blend_##TN)(a_, m_, (UT) - (CT)((n)&1));                                      \
        out = NAME(blend_##TN)((T)NAN, v_, (UT) - (CT)((n) == 0));                                \
    } while (0)
/* hb<K>: HOLE_LANES consecutive outputs, written where flag is set (three
 * loops of no control flow: sort, pick, store); hw<K>: one output (rows
 * narrower than HOLE_LANES). */
#define DEFINE_HOLE_BATCH(TN, T, CT, UT, K, KK, KEEP, SORT)                                       \
    TARGET static void NAME(hb##K##_##TN)(const T *restrict s, idx_t srow, idx_t ch,              \
                                          const unsigned char *restrict flag, T *restrict d) {    \
        T low[KEEP][HOLE_LANES];                                                                  \
        CT cnt[HOLE_LANES], fm[HOLE_LANES];                                                       \
        for (int l = 0; l < HOLE_LANES; l++)                                                      \
            HOLE_SORT(T, CT, K, KK, KEEP, SORT, s + l, &low[0][l], HOLE_LANES, &cnt[l]);          \
        for (int l = 0; l < HOLE_LANES; l++) fm[l] = flag[l];                                     \
        for (int l = 0; l < HOLE_LANES; l++) {                                                    \
            T v, o = d[l];                                                                        \
            HOLE_PICK(TN, T, CT, UT, KEEP, &low[0][l], HOLE_LANES, cnt[l], v);                    \
            d[l] = NAME(blend_##TN)(v, o, (UT) - (CT)(fm[l] != 0));                               \
        }                                                                                         \
    }                                                                                             \
    TARGET static void NAME(hw##K##_##TN)(const T *restrict s, idx_t srow, idx_t ch, T *restrict d) { \
        T low[KEEP];                                                                              \
        CT n;                                                                                     \
        HOLE_SORT(T, CT, K, KK, KEEP, SORT, s, low, 1, &n);                                       \
        HOLE_PICK(TN, T, CT, UT, KEEP, low, 1, n, *d);                                            \
    }

/* After a network median, windows holding a NaN become NaN (as a NaN spreads
 * through min/max); with `ignore` they take instead the median of their valid
 * values (numpy.nanmedian: an even count averages the middle two, in double;
 * NaN when none is valid). Per output row, which windows hold a NaN is two
 * vectorized passes (NaN per column of k values, then per k columns; up to
 * k = 9 counts, not flags); only those windows are gathered. hole_row_<TN>
 * is one output row's step, over the state hole_init_<TN> makes; `lo` and
 * `lo2`, when given, are the row's ranks m - 1 and m - 2 of windows whose
 * missing values ranked last (netn, m the median rank, which dst's row
 * holds): windows with up to 2 holes (lo alone) or 4 take their median from
 * those, the others are gathered. */
#define DEFINE_HOLES(TN, T, CT, UT)                                                                \
    typedef struct {                                                                         \
        const T *src;                                                                        \
        T *dst;                                                                              \
        idx_t srow, drow, ch, k, nout, nin;                                                  \
        int ignore, batched;                                                                 \
        unsigned char *colnan, *ring, *flag;                                                 \
        T *buf;                                                                              \
    } NAME(hole_ctx_##TN);                                                                         \
    TARGET static int NAME(hole_init_##TN)(NAME(hole_ctx_##TN) *c, const void *src, void *dst,     \
                                           const geom_t *g, idx_t k, int ignore) {           \
        c->src = (const T *)src;                                                             \
        c->dst = (T *)dst;                                                                   \
        c->srow = g->s_outer[0], c->drow = g->d_outer[0], c->ch = g->chan, c->k = k;         \
        c->nout = g->inner * c->ch, c->nin = c->nout + (k - 1) * c->ch;                      \
        c->ignore = ignore;                                                                  \
        c->batched = ignore && (k == 3 || k == 5);                                           \
        /* ring: each source row's NaN bytes, made once and kept for the k output rows   \
         * that read it (not compared again for each of them) */                          \
        c->colnan = (unsigned char *)malloc((size_t)(c->nin * (k + 1) + c->nout));           \
        c->buf = (T *)malloc(sizeof(T) * (size_t)(k * k));                                   \
        if (!c->colnan || !c->buf) {                                                         \
            free(c->colnan);                                                                 \
            free(c->buf);                                                                    \
            return -1;                                                                       \
        }                                                                                    \
        c->ring = c->colnan + c->nin;                                                        \
        c->flag = c->ring + c->nin * k;                                                      \
        return 0;                                                                            \
    }                                                                                        \
    TARGET static void NAME(hole_row_##TN)(const NAME(hole_ctx_##TN) *c, idx_t y,                  \
                                           const T *restrict lo, const T *restrict lo2) {    \
        const idx_t srow = c->srow, ch = c->ch, k = c->k, nout = c->nout, nin = c->nin;      \
        const int ignore = c->ignore, batched = c->batched;                                  \
        unsigned char *restrict colnan = c->colnan, *restrict ring = c->ring;                \
        unsigned char *restrict flag = c->flag;                                              \
        T *buf = c->buf;                                                                     \
        const T *s = c->src + y * srow;                                                      \
        unsigned char any = 0;                                                               \
        for (idx_t i = y ? k - 1 : 0; i < k; i++) {                                          \
            const T *restrict q = s + i * srow;                                              \
            unsigned char *restrict r = ring + ((y + i) % k) * nin;                          \
            for (idx_t e = 0; e < nin; e++) r[e] = q[e] != q[e];                             \
        }                                                                                    \
        /* counts of NaN up to k = 9 (at most 81 a window), flags beyond */               \
        const int counts = k <= 9;                                                           \
        if (k == 5) {                                                                        \
            const unsigned char *restrict r = ring;                                          \
            for (idx_t e = 0; e < nin; e++)                                                  \
                colnan[e] = r[e] + r[nin + e] + r[2 * nin + e] + r[3 * nin + e] + r[4 * nin + e]; \
        } else {                                                                             \
            memcpy(colnan, ring, (size_t)nin);                                               \
            for (idx_t i = 1; i < k; i++) {                                                  \
                const unsigned char *restrict r = ring + i * nin;                            \
                if (counts)                                                                  \
                    for (idx_t e = 0; e < nin; e++) colnan[e] += r[e];                       \
                else                                                                         \
                    for (idx_t e = 0; e < nin; e++) colnan[e] |= r[e];                       \
            }                                                                                \
        }                                                                                    \
        for (idx_t e = 0; e < nin; e++) any |= colnan[e];                                    \
        if (!any) return;                                                                    \
        for (idx_t e = 0; e < nout; e++) flag[e] = colnan[e];                                \
        for (idx_t j = 1; j < k; j++) {                                                      \
            const unsigned char *restrict q = colnan + j * ch;                               \
            if (counts)                                                                      \
                for (idx_t e = 0; e < nout; e++) flag[e] += q[e];                            \
            else                                                                             \
                for (idx_t e = 0; e < nout; e++) flag[e] |= q[e];                            \
        }                                                                                    \
        T *d = c->dst + y * c->drow;                                                         \
        if (!ignore) {                                                                       \
            for (idx_t e = 0; e < nout; e++) d[e] = flag[e] ? (T)NAN : d[e];                 \
            return;                                                                          \
        }                                                                                    \
        if (lo2) {                                                                           \
            /* h holes: ranks m - ceil(h / 2) and m - floor(h / 2) of the window (m its  \
             * median rank), for h up to 4; more are left flagged */                      \
            for (idx_t e = 0; e < nout; e++) {                                               \
                CT h = (CT)flag[e];                                                          \
                T a = lo[e], b = lo2[e], v = d[e];                                           \
                T m1 = (T)(((double)a + (double)v) / 2), m3 = (T)(((double)b + (double)a) / 2); \
                v = NAME(blend_##TN)(m1, v, (UT) - (CT)(h == 1));                            \
                v = NAME(blend_##TN)(a, v, (UT) - (CT)(h == 2));                             \
                v = NAME(blend_##TN)(m3, v, (UT) - (CT)(h == 3));                            \
                d[e] = NAME(blend_##TN)(b, v, (UT) - (CT)(h == 4));                          \
                flag[e] = h > 4;                                                             \
            }                                                                                \
        } else if (lo) {                                                                     \
            /* one hole: the mean of ranks m - 1 and m; two: rank m - 1; more are left   \
             * flagged (bitwise blends: GCC left ?: chains scalar) */                     \
            for (idx_t e = 0; e < nout; e++) {                                               \
                CT h = (CT)flag[e];                                                          \
                T m = (T)(((double)lo[e] + (double)d[e]) / 2);                               \
                T v = NAME(blend_##TN)(m, lo[e], (UT) - (CT)(h == 1));                       \
                d[e] = NAME(blend_##TN)(v, d[e], (UT) - (CT)((h == 1) | (h == 2)));          \
                flag[e] = h > 2;                                                             \
            }                                                                                \
        }                                                                                    \
        if (batched && nout >= HOLE_LANES) {                                                 \
            /* blocks of HOLE_LANES outputs from each flagged one on (so few lanes           \
             * go unused); one ending at nout may overlap the one before: the                \
             * same values again */                                                          \
            for (idx_t e = 0; e < nout;) {                                                   \
                if (e + HOLE_LANES <= nout) {                                                \
                    uint64_t any8;                                                           \
                    memcpy(&any8, flag + e, sizeof(any8));                                   \
                    if (!any8) {                                                             \
                        e += HOLE_LANES;                                                     \
                        continue;                                                            \
                    }                                                                        \
                }                                                                            \
                while (e < nout && !flag[e]) e++;                                            \
                if (e == nout) break;                                                        \
                const idx_t at = e + HOLE_LANES <= nout ? e : nout - HOLE_LANES;             \
                if (k == 3) NAME(hb3_##TN)(s + at, srow, ch, flag + at, d + at);             \
                else NAME(hb5_##TN)(s + at, srow, ch, flag + at, d + at);                    \
                e = at + HOLE_LANES;                                                         \
            }                                                                                \
            return;                                                                          \
        }                                                                                    \
        for (idx_t e = 0; e < nout; e++) {                                                   \
            if (!flag[e]) continue;                                                          \
            if (batched) {                                                                   \
                if (k == 3) NAME(hw3_##TN)(s + e, srow, ch, d + e);                          \
                else NAME(hw5_##TN)(s + e, srow, ch, d + e);                                 \
                continue;                                                                    \
            }                                                                                \
            const T *w = s + e;                                                              \
            idx_t n = 0;                                                                     \
            for (idx_t i = 0; i < k; i++)                                                    \
                for (idx_t j = 0; j < k; j++) {                                              \
                    T v = w[i * srow + j * ch];                                              \
                    if (v == v) buf[n++] = v;                                                \
                }                                                                            \
            T a, b;                                                                          \
            if (n == 0) {                                                                    \
                d[e] = (T)NAN;                                                               \
                continue;                                                                    \
            } else if (n <= 16) {                                                            \
                /* insertion sort of a few values */                                         \
                for (idx_t t = 1; t < n; t++) {                                              \
                    T v = buf[t];                                                            \
                    idx_t u = t;                                                             \
                    for (; u > 0 && v < buf[u - 1]; u--) buf[u] = buf[u - 1];                \
                    buf[u] = v;                                                              \
                }                                                                            \
                a = buf[(n - 1) / 2];                                                        \
                b = buf[n / 2];                                                              \
            } else {                                                                         \
                a = NAME(kth_##TN)(buf, n, (n - 1) / 2);                                     \
                /* the upper middle: the least value ranked above the lower one */           \
                b = a;                                                                       \
                if (n % 2 == 0) {                                                            \
                    b = buf[n / 2];                                                          \
                    for (idx_t t = n / 2 + 1; t < n; t++)                                    \
                        if (buf[t] < b) b = buf[t];                                          \
                }                                                                            \
            }                                                                                \
            d[e] = n % 2 ? a : (T)(((double)a + (double)b) / 2);                             \
        }                                                                                    \
    }                                                                                        \
    TARGET static int NAME(holes_##TN)(const void *src, void *dst, const geom_t *g, idx_t k, \
                                       int ignore) {                                         \
        NAME(hole_ctx_##TN) c;                                                                     \
        if (NAME(hole_init_##TN)(&c, src, dst, g, k, ignore) < 0) return -1;                 \
        for (idx_t y = 0; y < g->outer[0]; y++) NAME(hole_row_##TN)(&c, y, NULL, NULL);            \
        free(c.colnan);                                                                      \
        free(c.buf);                                                                         \
        return 0;                                                                            \
    }

/* Medians of 5 x 5, 7 x 7 and 9 x 9 windows with nan="ignore" in one pass:
 * per output row, the network over the values with NaN ranked last
 * (NAN_LAST: a NaN compares as +inf; a valid +inf ties it, and equal values
 * give the same median) writes the median rank m and the ranks below it
 * (m - 1; m - 2 for k = 7, 9: lo, lo2), then the row's holes step picks from
 * them (up to 2 or 4 holes: at 1% holes 99.6% of the 5 x 5 windows holding
 * any, nearly all of the others) or gathers. A window without holes gets the
 * plain network's median, bit for bit (its rank m is made by the same
 * comparisons). */
#define NAN_LAST(T, x) ((x) < (T)INFINITY ? (x) : (T)INFINITY)
#define DEFINE_NETN(K, TN, T)                                                                \
    TARGET static int NAME(net##K##n_##TN)(const void *src_, void *dst_, const geom_t *g) {  \
        const T *src = (const T *)src_;                                                      \
        T *dst = (T *)dst_;                                                                  \
        const idx_t srow = g->s_outer[0], drow = g->d_outer[0], ch = g->chan;                \
        const idx_t CHUNK = CHUNK_BYTES / (idx_t)sizeof(T);                                  \
        const idx_t nout = g->inner * ch, W = CHUNK + (K - 1) * ch;                          \
        NAME(hole_ctx_##TN) hc;                                                              \
        if (NAME(hole_init_##TN)(&hc, src_, dst_, g, K, 1) < 0) return -1;                   \
        /* apart: GCC took the rows stage's loads and the lower ranks' stores into one \
         * allocation for possibly overlapping, and left the stage scalar */            \
        T *scratch = (T *)malloc(sizeof(T) * (size_t)(NET##K##N_SLOTS * W));                 \
        T *lorow = (T *)malloc(sizeof(T) * (size_t)(nout ? nout : 1));                       \
        T *lorow2 = K > 5 ? (T *)malloc(sizeof(T) * (size_t)(nout ? nout : 1)) : NULL;       \
        if (!scratch || !lorow || (K > 5 && !lorow2)) {                                      \
            free(scratch);                                                                   \
            free(lorow);                                                                     \
            free(lorow2);                                                                    \
            free(hc.colnan);                                                                 \
            free(hc.buf);                                                                    \
            return -1;                                                                       \
        }                                                                                    \
        for (idx_t y = 0; y < g->outer[0]; y++) {                                            \
            NET_ROW(NET##K##N, K, T)                                                         \
            NAME(hole_row_##TN)(&hc, y, lorow, lorow2);                                      \
        }                                                                                    \
        free(scratch);                                                                       \
        free(lorow);                                                                         \
        free(lorow2);                                                                        \
        free(hc.colnan);                                                                     \
        free(hc.buf);                                                                        \
        return 0;                                                                            \
    }

/* ------------------------------------------------------------------ histograms */

/* The first of 16 bins h at which the running count passes m (there is
 * one: the bins hold more than m - *below values), *below (the count under
 * bin 0) gaining the count under it. */
#define DEFINE_FIND16(CN, CT)                                                                \
    TARGET static inline int NAME(find16_##CN)(const CT *h, uint32_t *below, uint32_t m) {  \
        uint32_t b = *below;                                                                 \
        int j = 0;                                                                           \
        while (b + h[j] <= m) b += h[j++];                                                   \
        *below = b;                                                                          \
        return j;                                                                            \
    }
/* f += in - out and f += in over 16 bins (modular: the results are counts). */
#define DEFINE_MOVE16(CN, CT)                                                                \
    TARGET static inline void NAME(move16_##CN)(CT *restrict f, const uint16_t *in, const uint16_t *out) { \
        for (int j = 0; j < 16; j++) f[j] = (CT)(f[j] + (CT)(in[j] - out[j]));              \
    }                                                                                        \
    TARGET static inline void NAME(add16_##CN)(CT *restrict f, const uint16_t *in) {         \
        for (int j = 0; j < 16; j++) f[j] = (CT)(f[j] + in[j]);                              \
    }
DEFINE_FIND16(c32, uint32_t)
DEFINE_MOVE16(c32, uint32_t)
#if defined(RANK_X86) && defined(ISA_AVX2)
/* One register each (GCC had kept the 16 counts in 16 scalar registers). */
TARGET static inline void NAME(move16_c16)(uint16_t *restrict f, const uint16_t *in, const uint16_t *out) {
    __m256i d = _mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(const void *)in),
                                 _mm256_loadu_si256((const __m256i *)(const void *)out));
    _mm256_storeu_si256((__m256i *)(void *)f, _mm256_add_epi16(_mm256_loadu_si256((const __m256i *)(void *)f), d));
}
TARGET static inline void NAME(add16_c16)(uint16_t *restrict f, const uint16_t *in) {
    _mm256_storeu_si256((__m256i *)(void *)f, _mm256_add_epi16(_mm256_loadu_si256((const __m256i *)(void *)f),
                                                               _mm256_loadu_si256((const __m256i *)(const void *)in)));
}
/* 16-bit counts: the running counts of the 16 bins in one register (a
 * prefix sum by shifts), the first that reaches m - below + 1 found by an
 * unsigned compare instead of a loop whose exit the branch predictor missed
 * (the two searches were 40% of a 31x31 median). Counts are at most the
 * window's pixels, below 2^16, so no sum wraps, and m - below + 1 <= m + 1
 * <= that count. */
TARGET static inline int NAME(find16_c16)(const uint16_t *h, uint32_t *below, uint32_t m) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)h);
    x = _mm256_add_epi16(x, _mm256_slli_si256(x, 2));
    x = _mm256_add_epi16(x, _mm256_slli_si256(x, 4));
    x = _mm256_add_epi16(x, _mm256_slli_si256(x, 8));
    __m256i low = _mm256_shuffle_epi8(x, _mm256_set1_epi16(0x0F0E)); /* each half's total */
    x = _mm256_add_epi16(x, _mm256_permute2x128_si256(low, low, 0x08)); /* the low half's to the high */
    const __m256i lim = _mm256_set1_epi16((short)(uint16_t)(m - *below + 1));
    unsigned passed = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(_mm256_max_epu16(x, lim), x));
    int j = __builtin_ctz(passed) >> 1;
    uint16_t run[16];
    _mm256_storeu_si256((__m256i *)(void *)run, x);
    *below += j ? run[j - 1] : 0;
    return j;
}
#else
DEFINE_FIND16(c16, uint16_t)
DEFINE_MOVE16(c16, uint16_t)
#endif

/* 8-bit keys: Perreault & Hebert's constant-time rank of fh x fw windows
 * (the k x k median here, the rank filters' full rectangles in morph.c):
 * value m in sorted order (0 the least). One 256-bin (and a 16-bin coarse)
 * histogram per column of fh pixels, moved down a row per output row; the
 * window's coarse histogram moves by one column add and subtract per pixel,
 * and its 16 fine histograms only when the rank lands in them (each keeps
 * the column it was last brought to). KEY maps a value to 0..255 in order.
 * The window's counts are CT: 16-bit for windows of fewer than 2^16 pixels
 * (a bin's update is one vector operation), 32-bit beyond. */
#define DEFINE_HIST8_CT(TN, T, KEY, UNKEY, CN, CT)                                           \
    TARGET static int NAME(rect8_##TN##_##CN)(const T *src, T *dst, idx_t srow, idx_t drow, idx_t ch, \
                                              idx_t rows, idx_t cols, idx_t fh, idx_t fw, uint32_t m) { \
        const idx_t ncol = cols + fw - 1;                                                    \
        uint16_t *fine = (uint16_t *)malloc(sizeof(uint16_t) * 256 * (size_t)ncol);          \
        uint16_t *coarse = (uint16_t *)malloc(sizeof(uint16_t) * 16 * (size_t)ncol);         \
        if (!fine || !coarse) {                                                              \
            free(fine);                                                                      \
            free(coarse);                                                                    \
            return -1;                                                                       \
        }                                                                                    \
        for (idx_t c = 0; c < ch; c++) {                                                     \
            memset(fine, 0, sizeof(uint16_t) * 256 * (size_t)ncol);                          \
            memset(coarse, 0, sizeof(uint16_t) * 16 * (size_t)ncol);                         \
            for (idx_t i = 0; i < fh; i++)                                                   \
                for (idx_t x = 0; x < ncol; x++) {                                           \
                    unsigned v = KEY(src[i * srow + x * ch + c]);                            \
                    fine[x * 256 + v]++;                                                     \
                    coarse[x * 16 + (v >> 4)]++;                                             \
                }                                                                            \
            for (idx_t y = 0; y < rows; y++) {                                               \
                if (y > 0)                                                                   \
                    for (idx_t x = 0; x < ncol; x++) {                                       \
                        unsigned o = KEY(src[(y - 1) * srow + x * ch + c]);                  \
                        unsigned v = KEY(src[(y + fh - 1) * srow + x * ch + c]);             \
                        fine[x * 256 + o]--;                                                 \
                        coarse[x * 16 + (o >> 4)]--;                                         \
                        fine[x * 256 + v]++;                                                 \
                        coarse[x * 16 + (v >> 4)]++;                                         \
                    }                                                                        \
                CT hc[16] = {0}, hf[256];                                                    \
                idx_t last[16];                                                              \
                for (int b = 0; b < 16; b++) last[b] = -1;                                   \
                for (idx_t x = 0; x < fw; x++) NAME(add16_##CN)(hc, coarse + x * 16);        \
                for (idx_t x = 0; x < cols; x++) {                                           \
                    if (x > 0) {                                                             \
                        NAME(move16_##CN)(hc, coarse + (x + fw - 1) * 16, coarse + (x - 1) * 16); \
                    }                                                                        \
                    uint32_t below = 0;                                                      \
                    int b = NAME(find16_##CN)(hc, &below, m);                                \
                    CT *f = hf + b * 16;                                                     \
                    if (last[b] < 0 || x - last[b] > fw) {                                   \
                        for (int j = 0; j < 16; j++) f[j] = 0;                               \
                        for (idx_t p = x; p < x + fw; p++) NAME(add16_##CN)(f, fine + p * 256 + b * 16); \
                    } else {                                                                 \
                        for (idx_t p = last[b] + 1; p <= x; p++)                             \
                            NAME(move16_##CN)(f, fine + (p + fw - 1) * 256 + b * 16, fine + (p - 1) * 256 + b * 16); \
                    }                                                                        \
                    last[b] = x;                                                             \
                    int j = NAME(find16_##CN)(f, &below, m);                                 \
                    dst[y * drow + x * ch + c] = UNKEY((unsigned)(b * 16 + j));              \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        free(fine);                                                                          \
        free(coarse);                                                                        \
        return 0;                                                                            \
    }

#define DEFINE_HIST8(TN, T, KEY, UNKEY)                                                      \
    DEFINE_HIST8_CT(TN, T, KEY, UNKEY, c16, uint16_t)                                        \
    DEFINE_HIST8_CT(TN, T, KEY, UNKEY, c32, uint32_t)                                        \
    TARGET int NAME(rank_rect8_##TN)(const void *src, void *dst, idx_t srow, idx_t drow, idx_t ch, \
                                     idx_t rows, idx_t cols, idx_t fh, idx_t fw, idx_t rank) { \
        if (fh * fw < 65536)                                                                 \
            return NAME(rect8_##TN##_c16)((const T *)src, (T *)dst, srow, drow, ch, rows, cols, fh, fw, \
                                          (uint32_t)rank);                                   \
        return NAME(rect8_##TN##_c32)((const T *)src, (T *)dst, srow, drow, ch, rows, cols, fh, fw, \
                                      (uint32_t)rank);                                       \
    }                                                                                        \
    TARGET static int NAME(hist8_##TN)(const void *src, void *dst, const geom_t *g, idx_t k) { \
        return NAME(rank_rect8_##TN)(src, dst, g->s_outer[0], g->d_outer[0], g->chan, g->outer[0], g->inner, \
                                     k, k, (k * k - 1) / 2);                                 \
    }

/* 16-bit keys: one 65536-bin histogram of the window (with a 256-bin coarse
 * one) moved a column at a time in a serpentine scan (k values in, k out per
 * pixel: cost grows with k, not k * k), and the median tracked from the last
 * one: `below` counts the window's values under the current key, so a step
 * walks only as far as the median moved, a coarse bin at a time. */
#define DEFINE_HIST16(TN, T, KEY, UNKEY)                                                     \
    TARGET static int NAME(hist16_##TN)(const void *src_, void *dst_, const geom_t *g,       \
                                        idx_t k) {                                            \
        const T *src = (const T *)src_;                                                      \
        T *dst = (T *)dst_;                                                                  \
        const idx_t srow = g->s_outer[0], drow = g->d_outer[0], ch = g->chan;                \
        const idx_t rows = g->outer[0], cols = g->inner;                                     \
        const uint32_t m = (uint32_t)((k * k - 1) / 2);                                      \
        uint32_t *hf = (uint32_t *)malloc(sizeof(uint32_t) * (65536 + 256));                 \
        if (!hf) return -1;                                                                  \
        uint32_t *hc = hf + 65536;                                                           \
        for (idx_t c = 0; c < ch; c++) {                                                     \
            memset(hf, 0, sizeof(uint32_t) * (65536 + 256));                                 \
            unsigned key = 0;                                                                \
            uint32_t below = 0; /* values < key */                                           \
            const T *base = src + c;                                                         \
            /* add (+1) or remove (-1) pixel p (block offset), keeping `below` */            \
            for (idx_t i = 0; i < k; i++)                                                    \
                for (idx_t j = 0; j < k; j++) {                                              \
                    unsigned v = KEY(base[i * srow + j * ch]);                               \
                    hf[v]++;                                                                 \
                    hc[v >> 8]++;                                                            \
                    below += v < key;                                                        \
                }                                                                            \
            for (idx_t y = 0; y < rows; y++) {                                               \
                int right = (y % 2) == 0;                                                    \
                if (y > 0) {                                                                 \
                    /* down one row: the window at column x0 loses row y-1, gains y+k-1 */   \
                    idx_t x0 = right ? 0 : cols - 1;                                         \
                    for (idx_t j = 0; j < k; j++) {                                          \
                        unsigned o = KEY(base[(y - 1) * srow + (x0 + j) * ch]);              \
                        unsigned v = KEY(base[(y + k - 1) * srow + (x0 + j) * ch]);          \
                        hf[o]--, hc[o >> 8]--, below -= o < key;                             \
                        hf[v]++, hc[v >> 8]++, below += v < key;                             \
                    }                                                                        \
                }                                                                            \
                for (idx_t n = 0; n < cols; n++) {                                           \
                    idx_t x = right ? n : cols - 1 - n;                                      \
                    if (n > 0) {                                                             \
                        /* sideways: the column leaving and the one entering */              \
                        idx_t xo = right ? x - 1 : x + k, xv = right ? x + k - 1 : x;        \
                        for (idx_t i = 0; i < k; i++) {                                      \
                            unsigned o = KEY(base[(y + i) * srow + xo * ch]);                \
                            unsigned v = KEY(base[(y + i) * srow + xv * ch]);                \
                            hf[o]--, hc[o >> 8]--, below -= o < key;                         \
                            hf[v]++, hc[v >> 8]++, below += v < key;                         \
                        }                                                                    \
                    }                                                                        \
                    /* the median: the key with below <= m < below + hf[key] */             \
                    while (below > m) {                                                      \
                        if ((key & 255) == 0 && below - hc[(key >> 8) - 1] > m) {           \
                            key -= 256;                                                      \
                            below -= hc[key >> 8];                                           \
                        } else {                                                             \
                            key--;                                                           \
                            below -= hf[key];                                                \
                        }                                                                    \
                    }                                                                        \
                    while (below + hf[key] <= m) {                                           \
                        if ((key & 255) == 0 && below + hc[key >> 8] <= m) {                 \
                            below += hc[key >> 8];                                           \
                            key += 256;                                                      \
                        } else {                                                             \
                            below += hf[key];                                                \
                            key++;                                                           \
                        }                                                                    \
                    }                                                                        \
                    dst[y * drow + x * ch + c] = UNKEY(key);                                 \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        free(hf);                                                                            \
        return 0;                                                                            \
    }

#define LESS_INT(a, b) ((a) < (b))
#define LESS_FLOAT(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))

/* Rare types have networks for k = 3 and 5; larger windows select. */
#define DEFINE_RARE(TN, T, LESS) \
    DEFINE_NET(3, TN, T)         \
    DEFINE_NET(5, TN, T)         \
    DEFINE_SELECT(TN, T, LESS)
#define DEFINE_TYPE(TN, T, LESS) \
    DEFINE_RARE(TN, T, LESS)     \
    DEFINE_NET(7, TN, T)         \
    DEFINE_NET(9, TN, T)

DEFINE_TYPE(u8, uint8_t, LESS_INT)
DEFINE_RARE(i8, int8_t, LESS_INT)
DEFINE_TYPE(u16, uint16_t, LESS_INT)
DEFINE_TYPE(i16, int16_t, LESS_INT)
DEFINE_RARE(u32, uint32_t, LESS_INT)
DEFINE_RARE(i32, int32_t, LESS_INT)
DEFINE_RARE(u64, uint64_t, LESS_INT)
DEFINE_RARE(i64, int64_t, LESS_INT)
DEFINE_TYPE(f32, float, LESS_FLOAT)
DEFINE_TYPE(f64, double, LESS_FLOAT)
DEFINE_DIRECT3(u8, uint8_t)
DEFINE_DIRECT3(i8, int8_t)
DEFINE_DIRECT3(u16, uint16_t)
DEFINE_DIRECT3(i16, int16_t)
DEFINE_DIRECT3(u32, uint32_t)
DEFINE_DIRECT3(i32, int32_t)
DEFINE_DIRECT3(u64, uint64_t)
DEFINE_DIRECT3(i64, int64_t)
DEFINE_HOLE_BLEND(f32, float, uint32_t)
DEFINE_HOLE_BLEND(f64, double, uint64_t)
DEFINE_HOLE_BATCH(f32, float, int32_t, uint32_t, 3, 9, 5, SORT9_LOW5)
DEFINE_HOLE_BATCH(f64, double, int64_t, uint64_t, 3, 9, 5, SORT9_LOW5)
DEFINE_HOLE_BATCH(f32, float, int32_t, uint32_t, 5, 25, 13, SORT25_LOW13)
DEFINE_HOLE_BATCH(f64, double, int64_t, uint64_t, 5, 25, 13, SORT25_LOW13)
DEFINE_HOLES(f32, float, int32_t, uint32_t)
DEFINE_HOLES(f64, double, int64_t, uint64_t)
DEFINE_NETN(5, f32, float)
DEFINE_NETN(5, f64, double)
DEFINE_NETN(7, f32, float)
DEFINE_NETN(7, f64, double)
DEFINE_NETN(9, f32, float)
DEFINE_NETN(9, f64, double)

#define KEY_U8(v) ((unsigned)(v))
#define UNKEY_U8(v) ((uint8_t)(v))
#define KEY_I8(v) ((unsigned)(uint8_t)(v) ^ 0x80u)
#define UNKEY_I8(v) ((int8_t)(uint8_t)((v) ^ 0x80u))
#define KEY_U16(v) ((unsigned)(v))
#define UNKEY_U16(v) ((uint16_t)(v))
#define KEY_I16(v) ((unsigned)(uint16_t)(v) ^ 0x8000u)
#define UNKEY_I16(v) ((int16_t)(uint16_t)((v) ^ 0x8000u))
DEFINE_HIST8(u8, uint8_t, KEY_U8, UNKEY_U8)
DEFINE_HIST8(i8, int8_t, KEY_I8, UNKEY_I8)
DEFINE_HIST16(u16, uint16_t, KEY_U16, UNKEY_U16)
DEFINE_HIST16(i16, int16_t, KEY_I16, UNKEY_I16)

#define ROW(K) {NAME(net##K##_u8), NAME(net##K##_i8), NAME(net##K##_u16), NAME(net##K##_i16), NAME(net##K##_u32), NAME(net##K##_i32), NAME(net##K##_u64), NAME(net##K##_i64), NAME(net##K##_f32), NAME(net##K##_f64)}
#define ROW_COMMON(K) {NAME(net##K##_u8), NULL, NAME(net##K##_u16), NAME(net##K##_i16), NULL, NULL, NULL, NULL, NAME(net##K##_f32), NAME(net##K##_f64)}
rank_net_fn NAME(rank_net_table)[4][T_COUNT] = {ROW(3), ROW(5), ROW_COMMON(7), ROW_COMMON(9)};
rank_k_fn NAME(rank_select_table)[T_COUNT] = {NAME(select_u8), NAME(select_i8), NAME(select_u16), NAME(select_i16), NAME(select_u32), NAME(select_i32), NAME(select_u64), NAME(select_i64), NAME(select_f32), NAME(select_f64)};
rank_k_fn NAME(rank_hist_table)[T_COUNT] = {NAME(hist8_u8), NAME(hist8_i8), NAME(hist16_u16), NAME(hist16_i16), NULL, NULL, NULL, NULL, NULL, NULL};
rank_direct3_fn NAME(rank_direct3_table)[T_COUNT] = {NAME(direct3_u8), NAME(direct3_i8), NAME(direct3_u16), NAME(direct3_i16), NAME(direct3_u32), NAME(direct3_i32), NAME(direct3_u64), NAME(direct3_i64), NULL, NULL};
rank_holes_fn NAME(rank_holes_table)[T_COUNT] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NAME(holes_f32), NAME(holes_f64)};
#define NROW(K) {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NAME(net##K##n_f32), NAME(net##K##n_f64)}
/* [k = 5, 7, 9] */
rank_net_fn NAME(rank_netn_table)[3][T_COUNT] = {NROW(5), NROW(7), NROW(9)};
#undef NROW

#undef ROW
#undef ROW_COMMON
#undef DEFINE_RARE
#undef DEFINE_TYPE
#undef DEFINE_NET
#undef DEFINE_SELECT
#undef DEFINE_HOLES
#undef DEFINE_NETN
#undef NET_ROW
#undef NAN_LAST
#undef DEFINE_HOLE_BATCH
#undef HOLE_UNROLL
#undef HOLE_LANES
#undef HOLE_SORT
#undef HOLE_PICK
#undef DEFINE_HOLE_BLEND
#undef DEFINE_DIRECT3
#undef MED3
#undef D3_SORT3
#undef DEFINE_HIST8
#undef DEFINE_HIST8_CT
#undef DEFINE_FIND16
#undef DEFINE_MOVE16
#undef DEFINE_HIST16
#undef LESS_INT
#undef LESS_FLOAT
#undef KEY_U8
#undef UNKEY_U8
#undef KEY_I8
#undef UNKEY_I8
#undef KEY_U16
#undef UNKEY_U16
#undef KEY_I16
#undef UNKEY_I16
#undef CHUNK_BYTES
#undef NAME
#undef CAT
#undef CAT2
