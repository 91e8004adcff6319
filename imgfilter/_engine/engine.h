/* Shared declarations of the compiled engine.
 *
 * Every kernel works on C-contiguous buffers described by one geometry
 * (geom_t): nested outer loops, then a run of `inner` output pixels of
 * `chan` contiguous values each. The module (module.c) builds the geometry
 * from Python arguments and checks, in one place (engine_check_bounds),
 * that every element a kernel can touch lies inside its buffer; kernels
 * trust it and do no checks of their own.
 */
#ifndef IMGFILTER_ENGINE_H
#define IMGFILTER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define ENGINE_MAX_OUTER 8

/* An AVX2 variant of the hot loops is compiled where GCC or Clang target
 * x86; the module's CPU check decides at run time whether it runs. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(ENGINE_NO_AVX2)
#define ENGINE_HAVE_AVX2 1
#endif

typedef ptrdiff_t idx_t;

/* A kernel's scratch of `bytes` (aligned as malloc's, contents undefined),
 * or NULL: large ones are recycled from call to call (blocks.c). Safe
 * without the GIL; give each back with engine_scratch_free (NULL: no-op). */
void *engine_scratch(size_t bytes);
void engine_scratch_free(void *p);

typedef struct {
    int n_outer;                   /* outer loop count, 0..ENGINE_MAX_OUTER */
    idx_t outer[ENGINE_MAX_OUTER]; /* iterations per outer loop */
    idx_t s_outer[ENGINE_MAX_OUTER]; /* source elements per outer step */
    idx_t d_outer[ENGINE_MAX_OUTER]; /* destination elements per outer step */
    idx_t inner;                   /* output pixels per innermost run */
    idx_t chan;                    /* contiguous values per pixel */
    idx_t s_step;                  /* source elements between output pixels */
    idx_t d_step;                  /* destination elements between output pixels */
} geom_t;

/* Element types, numbered as the module maps numpy's format characters. */
enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_U64, T_I64, T_F32, T_F64, T_COUNT };

typedef void (*taps_fn)(const void *src, void *dst, const geom_t *g, const idx_t *off,
                        const void *w, idx_t ntaps);
/* w holds ntaps weights of the destination's type. */

/* taps_table_ISA[src type][dst type] */
extern taps_fn taps_table_base[T_COUNT][T_COUNT];
#if defined(ENGINE_HAVE_AVX2)
extern taps_fn taps_table_avx2[T_COUNT][T_COUNT];
#endif


/* One band of a separable 2-D correlation (linear_impl.h). Offsets are in
 * elements: voff[t] = ky * dilation * src_row, hoff[t] = kx * dilation * chan. */
typedef struct {
    idx_t rows, cols, chan;  /* outputs: rows x cols pixels of chan values */
    idx_t src_row;           /* elements per source block row */
    idx_t vstride, hstride;
    idx_t vtaps, htaps;
    const idx_t *voff, *hoff;
    const void *wv, *wh;     /* weights of the accumulator's type */
    int vrun, hrun;          /* equal taps summed as running sums */
    double divide;           /* the store's divisor (1: none) */
    idx_t dst_row_bytes;
} sep_t;

enum { SEP_U16, SEP_U32, SEP_U64, SEP_F32, SEP_F64, SEP_ACC_COUNT };

typedef void (*store_any)(const void *acc, void *dst, idx_t n, double divide);
/* Scratch of one band: row buffers, running-sum state, the ring of
 * converted source rows (ring_rows rows) and one row pointer per tap. */
typedef struct {
    void *row, *store, *run, *ring;
    idx_t ring_rows;
    void *ptrs;
} sep_buffers;

typedef void (*sep_fn)(const void *src, void *dst, const sep_t *p, const sep_buffers *b, store_any store);

extern sep_fn sep_table_base[T_COUNT][SEP_ACC_COUNT];
extern store_any store_table_base[SEP_ACC_COUNT][2][T_COUNT];
#if defined(ENGINE_HAVE_AVX2)
extern sep_fn sep_table_avx2[T_COUNT][SEP_ACC_COUNT];
extern store_any store_table_avx2[SEP_ACC_COUNT][2][T_COUNT];
#endif

#endif
