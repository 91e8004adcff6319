/* Median kernels (rank.c): what module.c lists. */
#ifndef IMGFILTER_RANK_H
#define IMGFILTER_RANK_H

#include "glue.h"

PyObject *py_median(PyObject *self, PyObject *args);
extern const char median_doc[];

typedef int (*rank_net_fn)(const void *src, void *dst, const geom_t *g);
typedef int (*rank_k_fn)(const void *src, void *dst, const geom_t *g, idx_t k);
typedef int (*rank_direct3_fn)(const void *src, void *dst, const geom_t *g, const idx_t *rowidx, idx_t left,
                               idx_t right);
typedef int (*rank_holes_fn)(const void *src, void *dst, const geom_t *g, idx_t k, int ignore);

/* The 8-bit rank of fh x fw windows (Perreault & Hebert): the median's
 * histogram kernel, and the rank filters' full rectangles (morph.c). */
typedef int (*rank_rect8_fn)(const void *src, void *dst, idx_t srow, idx_t drow, idx_t ch, idx_t rows, idx_t cols,
                             idx_t fh, idx_t fw, idx_t rank);
int rank_rect8_u8_base(const void *src, void *dst, idx_t srow, idx_t drow, idx_t ch, idx_t rows, idx_t cols,
                       idx_t fh, idx_t fw, idx_t rank);
#if defined(ENGINE_HAVE_AVX2)
int rank_rect8_u8_avx2(const void *src, void *dst, idx_t srow, idx_t drow, idx_t ch, idx_t rows, idx_t cols,
                       idx_t fh, idx_t fw, idx_t rank);
#endif

extern rank_net_fn rank_net_table_base[4][T_COUNT];
extern rank_k_fn rank_select_table_base[T_COUNT], rank_hist_table_base[T_COUNT];
extern rank_holes_fn rank_holes_table_base[T_COUNT];
extern rank_net_fn rank_netn_table_base[3][T_COUNT];
extern rank_direct3_fn rank_direct3_table_base[T_COUNT];
#if defined(ENGINE_HAVE_AVX2)
extern rank_net_fn rank_net_table_avx2[4][T_COUNT];
extern rank_k_fn rank_select_table_avx2[T_COUNT], rank_hist_table_avx2[T_COUNT];
extern rank_holes_fn rank_holes_table_avx2[T_COUNT];
extern rank_net_fn rank_netn_table_avx2[3][T_COUNT];
extern rank_direct3_fn rank_direct3_table_avx2[T_COUNT];
#endif

#endif
