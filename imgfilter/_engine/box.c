/* The fused box kernel (exact window sums of integer images: vertical
 * running column sums, horizontal sums and the store in one pass per output
 * row, the border read through row and column index tables instead of a
 * padded copy), compiled for the baseline instruction set and again for
 * AVX2, with its Python entry. The store is the separable pass's
 * (linear_impl.h), so the rounding, division and clipping are the same. */
#if defined(__GNUC__) && !defined(__clang__)
/* As in linear.c: selects may be if-converted, so the loops vectorize. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "box.h"

typedef struct {
    const void *src;
    char *dst;
    const void *crow;            /* one source row of cval (rows beyond a constant border) */
    idx_t rows, cols, chan, kv, kh, lpad;
    const idx_t *rowidx;         /* rows + kv - 1 source rows (-1: cval) */
    const idx_t *colidx;         /* cols + kh - 1 source columns (-1: cval) */
    void *state;                 /* (cols + kh - 1) x chan column sums of the accumulator */
    void *hrow;                  /* cols x chan window sums */
    void *frow;                  /* the same as float32 / float64 (signed sources) */
    int conv;                    /* 0: none, 1: to float32, 2: to float64 (signed sums) */
    uint64_t kcval;              /* kv * cval: the column sum beyond a constant border */
    store_any st;                /* the separable pass's store, or NULL */
    void (*fst)(const void *h, void *d, idx_t n, double divide, int recip, int clip); /* box_impl.h's */
    int recip;                   /* fst multiplies by 1 / divide (proved exact) */
    int clip;                    /* fst clips (off where no mean exceeds the result's top) */
    int fst_dt, fst_f64;         /* fst's result (0: u8, 1: u16) and work type (1: float64) */
    uint16_t imul;               /* 8-bit means of 16-bit sums by multiply-high (0: not) */
    int ishift;
    double divide;
    idx_t dst_row_bytes;
} box_t;

typedef void (*box_fn)(const box_t *p);
typedef void (*box_store_fn)(const void *h, void *d, idx_t n, double divide, int recip, int clip);

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BOX_X86 1
#endif

#define ISA_IMPL "box_impl.h"
#include "isa.h"

static const char *const BOX_ACC[3] = {"u16", "u32", "u64"};
static const int BOX_ACC_TYPE[3] = {T_U16, T_U32, T_U64};
static const size_t BOX_ACC_SIZE[3] = {2, 4, 8};

/* n copies of v (an integer within the type's range) as element type t. */
static void fill_row(void *row, int t, idx_t n, int64_t v) {
    for (idx_t i = 0; i < n; i++) switch (t) {
        case T_U8: ((uint8_t *)row)[i] = (uint8_t)v; break;
        case T_I8: ((int8_t *)row)[i] = (int8_t)v; break;
        case T_U16: ((uint16_t *)row)[i] = (uint16_t)v; break;
        case T_I16: ((int16_t *)row)[i] = (int16_t)v; break;
        case T_U32: ((uint32_t *)row)[i] = (uint32_t)v; break;
        case T_I32: ((int32_t *)row)[i] = (int32_t)v; break;
        case T_U64: ((uint64_t *)row)[i] = (uint64_t)v; break;
        default: ((int64_t *)row)[i] = v; break;
        }
}

PyObject *py_box(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *src_o, *dst_o, *ri_o, *ci_o;
    Py_ssize_t cols, chan, lpad;
    const char *acc_name, *to_name;
    int work_f64;
    double divide, cval;
    if (!PyArg_ParseTuple(args, "OOnnOOnsspdd", &src_o, &dst_o, &cols, &chan, &ri_o, &ci_o, &lpad, &acc_name,
                          &to_name, &work_f64, &divide, &cval))
        return NULL;
    int acc = -1, conv = -1;
    for (int a = 0; a < 3; a++)
        if (strcmp(acc_name, BOX_ACC[a]) == 0) acc = a;
    if (strcmp(to_name, "") == 0) conv = 0;
    if (strcmp(to_name, "f32") == 0) conv = 1;
    if (strcmp(to_name, "f64") == 0) conv = 2;
    if (acc < 0 || conv < 0 || cols < 1 || chan < 1 || !(cval > -9.2e18 && cval < 9.2e18) ||
        cval != (double)(int64_t)cval) {
        PyErr_SetString(PyExc_ValueError,
                         "engine: box needs acc u16/u32/u64, signed_to ''/f32/f64, cols, chan >= 1 and an integral cval");
        return NULL;
    }
    Py_buffer src, dst;
    if (get_src_dst(src_o, dst_o, &src, &dst) < 0) return NULL;
    PyObject *result = NULL;
    idx_t *rowidx = NULL, *colidx = NULL, nr = 0, nc = 0;
    void *state = NULL, *hrow = NULL, *frow = NULL, *crow = NULL;
    int st = element_type(&src), dt = element_type(&dst);
    int is_signed = st == T_I8 || st == T_I16 || st == T_I32 || st == T_I64;
    if (st == T_F32 || st == T_F64 || is_signed != (conv != 0)) {
        PyErr_SetString(PyExc_TypeError,
                        "engine: box sums integer sources; signed ones (only) need signed_to f32 or f64");
        goto done;
    }
    idx_t n = (idx_t)cols * chan, src_rows = (src.len / src.itemsize) / n;
    if ((nr = index_table_len(ri_o)) < 0 || (nc = index_table_len(ci_o)) < 0) goto done;
    if (nr < 1 || nc < 1) {
        PyErr_SetString(PyExc_ValueError, "engine: box needs non-empty rowidx and colidx");
        goto done;
    }
    /* Every row and column the kernel reads lies in the source (-1 = cval). */
    if (!(rowidx = index_table(ri_o, nr, -1, src_rows, "rowidx")) ||
        !(colidx = index_table(ci_o, nc, -1, cols, "colidx")))
        goto done;
    idx_t dst_len = dst.len / dst.itemsize, rows = dst_len / n;
    idx_t kv = nr - rows + 1, kh = nc - cols + 1;
    if (dst_len != rows * n || kv < 1 || kh < 1 || lpad < 0 || lpad + cols > nc) {
        PyErr_SetString(PyExc_ValueError, "engine: box index tables do not fit the destination");
        goto done;
    }
    /* The inside of the column table is the identity (the column sums are
     * kept in place there). */
    for (idx_t c = 0; c < cols; c++)
        if (colidx[lpad + c] != c) {
            PyErr_SetString(PyExc_ValueError, "engine: box column table is not the identity inside the image");
            goto done;
        }
    if (rows > 0) {
        int at = conv == 1 ? T_F32 : conv == 2 ? T_F64 : BOX_ACC_TYPE[acc];
        int sep_acc = conv == 1 ? SEP_F32 : conv == 2 ? SEP_F64 : acc; /* SEP_U16.. match 0..2 */
        int store = dt != at || divide != 1.0;
        size_t ks = BOX_ACC_SIZE[acc];
        state = malloc(ks * (size_t)((nc) * chan));
        hrow = malloc(ks * (size_t)n);
        frow = conv ? malloc(8 * (size_t)n) : NULL;
        crow = malloc((size_t)src.itemsize * (size_t)n);
        if (!state || !hrow || !crow || (conv && !frow)) {
            PyErr_NoMemory();
            goto done;
        }
        fill_row(crow, st, n, (int64_t)cval);
        box_t p = {src.buf, dst.buf, crow, rows, cols, chan, kv, kh, lpad, rowidx, colidx, state, hrow, frow, conv,
                   (uint64_t)(int64_t)cval * (uint64_t)kv, NULL, NULL, 0, 1, dt == T_U16, work_f64 != 0, 0, 0, divide, (idx_t)(n * dst.itemsize)};
        /* 8- and 16-bit results of unsigned sums: the kernel's own copy of the
         * store. Where the count q is odd no mean a / q lies half-way between
         * two integers: it is at least 1 / (2q) from every such point, while
         * a * fl(1/q) is within (a / q) 2^-(m-1) of a / q (m: the work type's
         * mantissa bits, two roundings); below a = 2^(m-2) that is less than
         * 1 / (2q), so multiplying rounds to the integers dividing does. */
        int own = store && !conv && divide > 0.0 && (dt == T_U8 || dt == T_U16);
        double top = (double)kv * (double)kh * (st == T_U8 ? 255.0 : st == T_U16 ? 65535.0 : st == T_U32 ? 4294967295.0 : 18446744073709551615.0);
        int odd = divide == 1.0 || (divide == (double)(int64_t)divide && ((int64_t)divide & 1) && divide < 9.0e15);
        p.recip = odd && top < (work_f64 ? 2251799813685248.0 /* 2^51 */ : 4194304.0 /* 2^22 */);
        /* Sums of kv * kh values up to the source's top, over at least that
         * count: no mean exceeds the source's top, so none a result's at
         * least as high (and rounding is monotonic: none rounds past it). */
        double src_top = top / ((double)kv * (double)kh), dst_top = dt == T_U8 ? 255.0 : 65535.0;
        p.clip = !(divide >= (double)kv * (double)kh && src_top <= dst_top);
        /* 16-bit sums to 8-bit means, an odd count q: floor((2a + q) / 2q) by a
         * multiply-high and a shift, checked here for every 2a + q the sums
         * reach (below 2^16); with no ties and sums below 2^22 the float
         * store rounds to these integers too (above). */
        if (own && p.recip && !p.clip && acc == 0 && dt == T_U8 && divide > 1.0 && 2.0 * top + divide < 65536.0) {
            uint32_t q = (uint32_t)divide, d2 = 2 * q, xmax = (uint32_t)(2.0 * top) + q;
            for (int sh = 15; sh >= 0 && !p.imul; sh--) {
                uint32_t m = (uint32_t)((((uint64_t)1 << (16 + sh)) + d2 - 1) / d2);
                if (m >= 65536) continue;
                uint32_t x = 0;
                while (x <= xmax && ((x * m) >> 16 >> sh) == x / d2) x++;
                if (x > xmax) p.imul = (uint16_t)m, p.ishift = sh;
            }
        }
        box_fn fn = box_table_base[st][acc];
        if (own) p.fst = fstore_table_base[acc][dt == T_U16][work_f64 ? 1 : 0];
        else if (store) p.st = store_table_base[sep_acc][work_f64 ? 1 : 0][dt];
#if defined(ENGINE_HAVE_AVX2)
        if (use_avx2) {
            fn = box_table_avx2[st][acc];
            if (own) p.fst = fstore_table_avx2[acc][dt == T_U16][work_f64 ? 1 : 0];
            else if (store) p.st = store_table_avx2[sep_acc][work_f64 ? 1 : 0][dt];
        }
#endif
        Py_BEGIN_ALLOW_THREADS fn(&p);
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(rowidx);
    free(colidx);
    free(state);
    free(hrow);
    free(frow);
    free(crow);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return result;
}
