/* Body of the tap-correlation kernels, included once per instruction set
 * (taps.c defines SUFFIX and TARGET). dst = sum over taps of w[t] * src at
 * offset off[t] from each output pixel's window origin. */

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(n, SUFFIX)

/* Outputs are filled a slice at a time, every tap added while the slice is
 * in L1: each tap is one multiply-add over a contiguous run that the
 * compiler vectorizes. */
#define VEC 16

#define DEFINE_TAPS(SNAME, STYPE, DNAME, DTYPE)                                              \
    TARGET static void NAME(taps_##SNAME##_##DNAME)(const void *src_, void *dst_,             \
                                                     const geom_t *g, const idx_t *off,       \
                                                     const void *w_, idx_t ntaps) {           \
        const STYPE *src = (const STYPE *)src_;                                                \
        DTYPE *dst = (DTYPE *)dst_;                                                            \
        const DTYPE *wv = (const DTYPE *)w_;                                                   \
        idx_t count[ENGINE_MAX_OUTER] = {0};                                                   \
        idx_t sb = 0, db = 0;                                                                  \
        for (;;) {                                                                             \
            if (g->s_step == g->chan && g->d_step == g->chan) {                                \
                idx_t L = g->inner * g->chan;                                                  \
                idx_t i = 0;                                                                   \
                /* VEC outputs at a time keep their sums in registers over all taps. */       \
                for (; i + VEC <= L; i += VEC) {                                               \
                    const STYPE *s = src + sb + i;                                             \
                    DTYPE acc[VEC];                                                            \
                    for (int j = 0; j < VEC; j++) acc[j] = wv[0] * (DTYPE)s[off[0] + j];       \
                    for (idx_t t = 1; t < ntaps; t++) {                                        \
                        const STYPE *q = s + off[t];                                           \
                        DTYPE wk = wv[t];                                                      \
                        for (int j = 0; j < VEC; j++) acc[j] += wk * (DTYPE)q[j];              \
                    }                                                                          \
                    for (int j = 0; j < VEC; j++) dst[db + i + j] = acc[j];                    \
                }                                                                              \
                for (; i < L; i++) {                                                           \
                    const STYPE *s = src + sb + i;                                             \
                    DTYPE acc = wv[0] * (DTYPE)s[off[0]];                                      \
                    for (idx_t t = 1; t < ntaps; t++) acc += wv[t] * (DTYPE)s[off[t]];         \
                    dst[db + i] = acc;                                                         \
                }                                                                              \
            } else {                                                                           \
                for (idx_t x = 0; x < g->inner; x++) {                                         \
                    const STYPE *s = src + sb + x * g->s_step;                                 \
                    DTYPE *d = dst + db + x * g->d_step;                                       \
                    for (idx_t c = 0; c < g->chan; c++) {                                      \
                        DTYPE acc = wv[0] * (DTYPE)s[off[0] + c];                              \
                        for (idx_t t = 1; t < ntaps; t++) acc += wv[t] * (DTYPE)s[off[t] + c]; \
                        d[c] = acc;                                                            \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
            int a = g->n_outer - 1;                                                            \
            for (; a >= 0; a--) {                                                              \
                sb += g->s_outer[a];                                                           \
                db += g->d_outer[a];                                                           \
                if (++count[a] < g->outer[a]) break;                                           \
                sb -= g->s_outer[a] * count[a];                                                \
                db -= g->d_outer[a] * count[a];                                                \
                count[a] = 0;                                                                  \
            }                                                                                  \
            if (a < 0) return;                                                                 \
        }                                                                                      \
    }

#define DEFINE_ALL(SNAME, STYPE)        \
    DEFINE_TAPS(SNAME, STYPE, u8, uint8_t) \
    DEFINE_TAPS(SNAME, STYPE, i8, int8_t) \
    DEFINE_TAPS(SNAME, STYPE, u16, uint16_t) \
    DEFINE_TAPS(SNAME, STYPE, i16, int16_t) \
    DEFINE_TAPS(SNAME, STYPE, u32, uint32_t) \
    DEFINE_TAPS(SNAME, STYPE, i32, int32_t) \
    DEFINE_TAPS(SNAME, STYPE, u64, uint64_t) \
    DEFINE_TAPS(SNAME, STYPE, i64, int64_t) \
    DEFINE_TAPS(SNAME, STYPE, f32, float) \
    DEFINE_TAPS(SNAME, STYPE, f64, double)

DEFINE_ALL(u8, uint8_t)
DEFINE_ALL(i8, int8_t)
DEFINE_ALL(u16, uint16_t)
DEFINE_ALL(i16, int16_t)
DEFINE_ALL(u32, uint32_t)
DEFINE_ALL(i32, int32_t)
DEFINE_ALL(u64, uint64_t)
DEFINE_ALL(i64, int64_t)
DEFINE_ALL(f32, float)
DEFINE_ALL(f64, double)

#define ROW(S) {NAME(taps_##S##_u8), NAME(taps_##S##_i8), NAME(taps_##S##_u16), NAME(taps_##S##_i16), NAME(taps_##S##_u32), NAME(taps_##S##_i32), NAME(taps_##S##_u64), NAME(taps_##S##_i64), NAME(taps_##S##_f32), NAME(taps_##S##_f64)}
taps_fn NAME(taps_table)[T_COUNT][T_COUNT] = {ROW(u8), ROW(i8), ROW(u16), ROW(i16), ROW(u32), ROW(i32), ROW(u64), ROW(i64), ROW(f32), ROW(f64)};

#undef ROW
#undef DEFINE_ALL
#undef DEFINE_TAPS
#undef VEC
#undef NAME
#undef CAT
#undef CAT2
