/* The PNG decoder's row step: undo the five row filters (None, Sub, Up,
 * Average, Paeth; PNG specification section 9) of inflated rows, writing
 * the image's rows in place. The inflate is zlib's (imgfilter/io/png.py);
 * this is the part Pillow runs byte by byte into its 4-byte pixels. The
 * left neighbours of a row stay in registers (one chain per byte of the
 * pixel), so a row costs no store-to-load round trips. */
#include "glue.h"
#include "png.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned char u8;

static inline int paeth(int a, int b, int c) {
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/* One row of n bytes, pixels of BPP bytes; prev is NULL on the first row
 * (the row above the image is zeros). Returns 0, or -1 for an unknown filter. */
#define DEFINE_ROW(BPP)                                                                        \
    static int row_##BPP(int f, const u8 *src, u8 *cur, const u8 *prev, idx_t n) {             \
        idx_t i;                                                                               \
        int a[BPP], c[BPP], k;                                                                 \
        switch (f) {                                                                           \
        case 0:                                                                                \
            memcpy(cur, src, (size_t)n);                                                       \
            return 0;                                                                          \
        case 1:                                                                                \
            for (k = 0; k < BPP; k++) a[k] = 0;                                                \
            for (i = 0; i + BPP <= n; i += BPP)                                                \
                for (k = 0; k < BPP; k++) cur[i + k] = (u8)(a[k] = (u8)(src[i + k] + a[k]));   \
            return 0;                                                                          \
        case 2:                                                                                \
            if (!prev) {                                                                       \
                memcpy(cur, src, (size_t)n);                                                   \
                return 0;                                                                      \
            }                                                                                  \
            for (i = 0; i < n; i++) cur[i] = (u8)(src[i] + prev[i]);                           \
            return 0;                                                                          \
        case 3:                                                                                \
            for (k = 0; k < BPP; k++) a[k] = 0;                                                \
            for (i = 0; i + BPP <= n; i += BPP)                                                \
                for (k = 0; k < BPP; k++) {                                                    \
                    int b = prev ? prev[i + k] : 0;                                            \
                    cur[i + k] = (u8)(a[k] = (u8)(src[i + k] + ((a[k] + b) >> 1)));            \
                }                                                                              \
            return 0;                                                                          \
        case 4:                                                                                \
            for (k = 0; k < BPP; k++) a[k] = c[k] = 0;                                         \
            if (!prev) {                                                                       \
                /* Paeth with nothing above picks the left neighbour: Sub. */                 \
                for (i = 0; i + BPP <= n; i += BPP)                                            \
                    for (k = 0; k < BPP; k++) cur[i + k] = (u8)(a[k] = (u8)(src[i + k] + a[k])); \
                return 0;                                                                      \
            }                                                                                  \
            if (PAETH_VECTOR(BPP)) {                                                           \
                PAETH_VECTOR_ROW(src, cur, prev, n, BPP);                                      \
                return 0;                                                                      \
            }                                                                                  \
            for (i = 0; i + BPP <= n; i += BPP)                                                \
                for (k = 0; k < BPP; k++) {                                                    \
                    int b = prev[i + k];                                                       \
                    cur[i + k] = (u8)(a[k] = (u8)(src[i + k] + paeth(a[k], b, c[k])));        \
                    c[k] = b;                                                                  \
                }                                                                              \
            return 0;                                                                          \
        default:                                                                               \
            return -1;                                                                         \
        }                                                                                      \
    }


#if defined(__SSE2__)
#include <emmintrin.h>

/* Paeth rows of 1-4 byte pixels, one pixel a step in 16-bit lanes (as
 * libpng's SSE2 filters): the chain from a pixel to its right neighbour is
 * a handful of vector operations, with no branch to mispredict. */
/* A pixel into 16-bit lanes and back. `wide` (the pixel is not the row's
 * last) lets a 3-byte pixel move as 4 bytes: the extra byte read is the next
 * pixel's, the extra byte written is rewritten by the next step. Byte
 * assembly in registers otherwise: a partial copy through the stack would
 * stall every step on store forwarding. */
static inline __attribute__((always_inline)) __m128i load_px(const u8 *p, int bpp, int wide) {
    uint32_t v;
    if (bpp == 4 || (bpp == 3 && wide)) {
        memcpy(&v, p, 4);
    } else if (bpp == 3) {
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    } else if (bpp == 2) {
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    } else {
        v = p[0];
    }
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)v), _mm_setzero_si128());
}

static inline __attribute__((always_inline)) void store_px(u8 *p, __m128i v, int bpp, int wide) {
    uint32_t r = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(v, v));
    if (bpp == 4 || (bpp == 3 && wide)) {
        memcpy(p, &r, 4);
        return;
    }
    for (int k = 0; k < bpp; k++) p[k] = (u8)(r >> (8 * k));
}

static inline __m128i abs16(__m128i x) { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }

static inline __m128i pick(__m128i m, __m128i yes, __m128i no) {
    return _mm_or_si128(_mm_and_si128(m, yes), _mm_andnot_si128(m, no));
}

static inline __attribute__((always_inline)) void paeth_sse2(const u8 *src, u8 *cur, const u8 *prev, idx_t n, int bpp) {
    const __m128i mask = _mm_set1_epi16(0xff);
    __m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
    for (idx_t i = 0; i + bpp <= n; i += bpp) {
        const int wide = i + 4 <= n;
        __m128i b = load_px(prev + i, bpp, wide), x = load_px(src + i, bpp, wide);
        __m128i pa = _mm_sub_epi16(b, c), pb = _mm_sub_epi16(a, c);
        __m128i pc = abs16(_mm_add_epi16(pa, pb));
        pa = abs16(pa);
        pb = abs16(pb);
        __m128i least = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
        __m128i near = pick(_mm_cmpeq_epi16(pa, least), a, pick(_mm_cmpeq_epi16(pb, least), b, c));
        a = _mm_and_si128(_mm_add_epi16(near, x), mask);
        store_px(cur + i, a, bpp, wide);
        c = b;
    }
}
#define PAETH_VECTOR(BPP) ((BPP) <= 4)
#define PAETH_VECTOR_ROW(src, cur, prev, n, BPP) paeth_sse2(src, cur, prev, n, (BPP) <= 4 ? (BPP) : 4)
#else
#define PAETH_VECTOR(BPP) 0
#define PAETH_VECTOR_ROW(src, cur, prev, n, BPP) ((void)0)
#endif

DEFINE_ROW(1)
DEFINE_ROW(2)
DEFINE_ROW(3)
DEFINE_ROW(4)
DEFINE_ROW(6)
DEFINE_ROW(8)

typedef int (*row_fn)(int f, const u8 *src, u8 *cur, const u8 *prev, idx_t n);

const char png_unfilter_doc[] =
    "png_unfilter(raw, out, row0, nrows, row_bytes, bpp) -> -1, or the first bad row\n\n"
    "Undo the PNG row filters of nrows inflated rows (each a filter-type byte then row_bytes\n"
    "bytes) into rows row0 .. row0 + nrows - 1 of out (uint8, row_bytes per row; row0 - 1\n"
    "is the row above). bpp: bytes per pixel (1, 2, 3, 4, 6 or 8). Returns -1 when every row\n"
    "was undone, else the index (from row0) of the first row whose filter type is not 0-4.";

PyObject *py_png_unfilter(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *ro, *oo;
    Py_ssize_t row0, nrows, rb, bpp;
    if (!PyArg_ParseTuple(args, "OOnnnn", &ro, &oo, &row0, &nrows, &rb, &bpp)) return NULL;
    row_fn fn = bpp == 1 ? row_1 : bpp == 2 ? row_2 : bpp == 3 ? row_3 : bpp == 4 ? row_4 : bpp == 6 ? row_6 : bpp == 8 ? row_8 : NULL;
    if (!fn || rb < 1 || rb % bpp != 0 || row0 < 0 || nrows < 0) {
        PyErr_SetString(PyExc_ValueError, "engine: png_unfilter needs bpp of 1-4, 6 or 8 dividing row_bytes >= 1");
        return NULL;
    }
    Py_buffer raw, out;
    if (PyObject_GetBuffer(ro, &raw, PyBUF_SIMPLE) < 0) return NULL;
    if (get_array(oo, &out, 1, "out") < 0) {
        PyBuffer_Release(&raw);
        return NULL;
    }
    PyObject *res = NULL;
    /* The one bounds check: the raw rows are there, and so are the rows written and the one above. */
    if (element_type(&out) != T_U8 || nrows > PY_SSIZE_T_MAX / (rb + 1) || raw.len < nrows * (rb + 1) ||
        row0 > out.len / rb || nrows > out.len / rb - row0) {
        PyErr_SetString(PyExc_IndexError, "engine: png_unfilter buffers do not hold the rows");
        goto done;
    }
    idx_t bad = -1;
    const u8 *src = (const u8 *)raw.buf;
    u8 *dst = (u8 *)out.buf + row0 * rb;
    Py_BEGIN_ALLOW_THREADS for (idx_t r = 0; r < nrows; r++) {
        const u8 *s = src + r * (rb + 1);
        u8 *cur = dst + r * rb;
        if (fn(s[0], s + 1, cur, row0 + r > 0 ? cur - rb : NULL, rb) < 0) {
            bad = r;
            break;
        }
    }
    Py_END_ALLOW_THREADS res = PyLong_FromSsize_t(bad);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&out);
    return res;
}
