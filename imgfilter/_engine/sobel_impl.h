/* Body of the fused Sobel kernel, included once per instruction set (sobel.c
 * defines SUFFIX and TARGET). Per output row: the three source rows, each
 * converted once into a ring of border-extended rows of the work type;
 * s = (r0 + 2 r1) + r2 and d = r2 - r0 per column; then x = s[+2] - s,
 * y = (d + 2 d[+1]) + d[+2] and the magnitude. These are the separable
 * passes' operations in their order up to exact sign and power-of-two
 * scalings (their factors are -[1 2 1], [1 0 -1] and 2 [-1 0 1], [.5 1 .5]),
 * so the bits equal theirs. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
/* Items of a row per chunk (the buffers s, d, gx, gy hold a whole row). */
#ifndef SOBEL_CHUNK
#define SOBEL_CHUNK 1024
#endif
#define NAME(n) CAT(n, SUFFIX)

/* The row stage over the column sums s and differences d. Its own function
 * so that its pointers can be restrict: inline, GCC could not rule out that
 * the outputs overlap s and d and ran it scalar (half the kernel's time). */
#define DEFINE_SOBEL_XY(WN, WT)                                                               \
    TARGET static void NAME(sobel_xy_##WN)(const WT *restrict s, const WT *restrict d,        \
                                           WT *restrict xo, WT *restrict yo, idx_t row,       \
                                           idx_t C) {                                         \
        const WT *s2 = s + 2 * C, *d1 = d + C, *d2 = d + 2 * C;                               \
        for (idx_t j = 0; j < row; j++) {                                                     \
            xo[j] = s2[j] - s[j];                                                             \
            yo[j] = (d[j] + (WT)2 * d1[j]) + d2[j];                                           \
        }                                                                                     \
    }
DEFINE_SOBEL_XY(f32, float)
DEFINE_SOBEL_XY(f64, double)
#undef DEFINE_SOBEL_XY

#define DEFINE_SOBEL(SN, ST, WN, WT)                                                   \
    TARGET static void NAME(sobel_##SN##_##WN)(const sobel_t *p) {                            \
        const ST *src = (const ST *)p->src;                                                   \
        idx_t C = p->chan, W = p->cols, row = W * C, ext = (W + 2) * C;                       \
        WT *ring = (WT *)p->ring, *s = (WT *)p->s, *d = (WT *)p->d;                           \
        WT *gx = (WT *)p->gx, *gy = (WT *)p->gy;                                              \
        WT cval = (WT)p->cval;                                                                \
        for (idx_t y = 0; y < p->rows; y++) {                                                 \
            const WT *r[3];                                                                   \
            for (int k = 0; k < 3; k++) {                                                     \
                idx_t i = y + k;                                                              \
                WT *to = ring + (i % 3) * ext;                                                \
                r[k] = to;                                                                    \
                if (k < 2 && y > 0) continue; /* converted for the previous row */           \
                idx_t sr = p->rowidx[i];                                                      \
                if (sr < 0) {                                                                 \
                    for (idx_t j = 0; j < ext; j++) to[j] = cval;                             \
                    continue;                                                                 \
                }                                                                             \
                const ST *from = src + sr * row;                                              \
                for (idx_t j = 0; j < row; j++) to[C + j] = (WT)from[j];                      \
                for (idx_t c = 0; c < C; c++) {                                               \
                    to[c] = p->left < 0 ? cval : (WT)from[p->left * C + c];                   \
                    to[(W + 1) * C + c] = p->right < 0 ? cval : (WT)from[p->right * C + c];   \
                }                                                                             \
            }                                                                                 \
            /* A chunk of the row at a time, so that s, d, gx and gy stay in L1. */           \
            for (idx_t j0 = 0; j0 < row; j0 += SOBEL_CHUNK) {                                 \
                const idx_t n = row - j0 < SOBEL_CHUNK ? row - j0 : SOBEL_CHUNK;              \
                const WT *r0 = r[0] + j0, *r1 = r[1] + j0, *r2 = r[2] + j0;                   \
                for (idx_t j = 0; j < n + 2 * C; j++) {                                       \
                    s[j] = (r0[j] + (WT)2 * r1[j]) + r2[j];                                   \
                    d[j] = r2[j] - r0[j];                                                     \
                }                                                                             \
                WT *xo = p->x ? (WT *)p->x + y * row + j0 : gx;                               \
                WT *yo = p->y ? (WT *)p->y + y * row + j0 : gy;                               \
                NAME(sobel_xy_##WN)(s, d, xo, yo, n, C);                                      \
                if (p->mag) NAME(mag_##WN)(xo, yo, (WT *)p->mag + y * row + j0, n);          \
            }                                                                                 \
        }                                                                                     \
    }

#define SOBEL_W(SN, ST)                                                                      \
    DEFINE_SOBEL(SN, ST, f32, float)                                                         \
    DEFINE_SOBEL(SN, ST, f64, double)

SOBEL_W(u8, uint8_t)
SOBEL_W(i8, int8_t)
SOBEL_W(u16, uint16_t)
SOBEL_W(i16, int16_t)
SOBEL_W(u32, uint32_t)
SOBEL_W(i32, int32_t)
SOBEL_W(u64, uint64_t)
SOBEL_W(i64, int64_t)
SOBEL_W(f32, float)
SOBEL_W(f64, double)

#define SROW(S) {NAME(sobel_##S##_f32), NAME(sobel_##S##_f64)}
static sobel_fn NAME(sobel_table)[T_COUNT][2] = {SROW(u8),  SROW(i8),  SROW(u16), SROW(i16), SROW(u32),
                                                 SROW(i32), SROW(u64), SROW(i64), SROW(f32), SROW(f64)};
#undef SROW
#undef SOBEL_W
#undef DEFINE_SOBEL
#undef NAME
#undef CAT
#undef CAT2
