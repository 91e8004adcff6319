/* The linear-light codec: sRGB codes (8 or 16 bits) to float32 linear light
 * and back to the exact nearest code, compiled for the baseline instruction
 * set and again for AVX2 (same bits: no contraction, no libm).
 *
 * Decoding is a table lookup. Encoding 8 bits indexes a table by the high
 * 16 bits of the float's pattern: each such bin holds at most one code
 * threshold, and its entry, added to the whole pattern, carries into the
 * code exactly when the pattern lies above that threshold (negative floats
 * give 0; +inf and positive NaN 255). Encoding 16 bits rounds the sRGB
 * curve (double precision, a polynomial) to a code within one of the
 * nearest and corrects it with one compare against each of its two
 * thresholds. The tables come from Python (imgfilter.core.srgb), computed
 * once with numpy from the IEC formula, through codec_tables(). */
/* The curve's selects vectorize only if comparisons may not trap (values
 * are unchanged: this allows no reassociation or contraction). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"

#include "codec.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define CODEC_SLICE 512

float codec_dec8[256];
float codec_dec16[65536];
static uint32_t codec_enc8[65536];
static float codec_thr16[65537]; /* [0] NaN, [k] the threshold between k-1 and k, [65536] +inf */
int codec_ready = 0;

typedef struct {
    void (*decode_u8)(const uint8_t *, float *, idx_t);
    void (*decode_u16)(const uint16_t *, float *, idx_t);
    void (*encode_u8)(const float *, uint8_t *, idx_t, float, float);
    void (*encode_u16)(const float *, uint16_t *, idx_t, float, float);
    void (*encode_float_f32)(const float *, float *, idx_t, double);
    void (*encode_float_f64)(const double *, double *, idx_t, double);
} codec_fns;

#define ISA_IMPL "codec_impl.h"
#include "isa.h"

static const codec_fns *codec(void) {
#if defined(ENGINE_HAVE_AVX2)
    if (use_avx2) return &codec_table_avx2;
#endif
    return &codec_table_base;
}

void codec_encode_row(int wide, const float *src, void *dst, idx_t n, float div, float mul) {
    const codec_fns *f = codec();
    if (wide)
        f->encode_u16(src, (uint16_t *)dst, n, div, mul);
    else
        f->encode_u8(src, (uint8_t *)dst, n, div, mul);
}

/* Read a float32 array of exactly n items into out. */
static int read_f32(PyObject *o, float *out, idx_t n, const char *name) {
    Py_buffer v;
    if (get_array(o, &v, 0, name) < 0) return -1;
    if (element_type(&v) != T_F32 || v.len != n * 4) {
        PyErr_Format(PyExc_ValueError, "engine: %s must be %zd float32 values", name, (Py_ssize_t)n);
        PyBuffer_Release(&v);
        return -1;
    }
    memcpy(out, v.buf, (size_t)n * 4);
    PyBuffer_Release(&v);
    return 0;
}

/* The 8-bit encode table from the 255 increasing positive thresholds. */
static int build_enc8(const float *thr) {
    uint32_t pat[255];
    for (int k = 0; k < 255; k++) {
        memcpy(&pat[k], &thr[k], 4);
        if (!(thr[k] > 0) || (k && (pat[k] >> 16) <= (pat[k - 1] >> 16))) {
            PyErr_SetString(PyExc_ValueError, "engine: 8-bit thresholds must increase, one per 16-bit bin");
            return -1;
        }
    }
    int code = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        uint32_t start = b << 16, p = 0xFFFF;
        if (b >= 32768) { /* negative floats */
            codec_enc8[b] = (uint32_t)0 - start;
            continue;
        }
        while (code < 255 && pat[code] < start) code++;
        if (code < 255 && (pat[code] >> 16) == b) p = pat[code] & 0xFFFF;
        codec_enc8[b] = ((uint32_t)code << 16) + (0xFFFFu - p) - start;
    }
    return 0;
}

const char codec_tables_doc[] = (
             "codec_tables(decode8, thresholds8, decode16, thresholds16)\n\n"
             "Install the codec's tables (float32: 256 and 65536 decoded codes, 255 and 65535\n"
             "thresholds between neighbouring codes, on the 0..max scale).");

PyObject *py_codec_tables(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *d8, *t8, *d16, *t16;
    float thr8[255];
    if (!PyArg_ParseTuple(args, "OOOO", &d8, &t8, &d16, &t16)) return NULL;
    if (read_f32(d8, codec_dec8, 256, "decode8") < 0 || read_f32(t8, thr8, 255, "thresholds8") < 0 ||
        read_f32(d16, codec_dec16, 65536, "decode16") < 0 ||
        read_f32(t16, codec_thr16 + 1, 65535, "thresholds16") < 0 || build_enc8(thr8) < 0)
        return NULL;
    codec_thr16[0] = NAN;
    codec_thr16[65536] = INFINITY;
    codec_ready = 1;
    Py_RETURN_NONE;
}

/* src and dst: the same number of items (the one bounds check). */
static int codec_pair(PyObject *src_o, PyObject *dst_o, Py_buffer *src, Py_buffer *dst, idx_t *n) {
    if (!codec_ready) {
        PyErr_SetString(PyExc_RuntimeError, "engine: codec_tables() has not been called");
        return -1;
    }
    if (get_array(src_o, src, 0, "src") < 0) return -1;
    if (get_array(dst_o, dst, 1, "dst") < 0) {
        PyBuffer_Release(src);
        return -1;
    }
    *n = src->len / src->itemsize;
    if (dst->len / dst->itemsize != *n) {
        PyErr_SetString(PyExc_ValueError, "engine: src and dst must have the same number of items");
        PyBuffer_Release(src);
        PyBuffer_Release(dst);
        return -1;
    }
    return 0;
}

const char decode_doc[] = ( "decode(src, dst)\n\nuint8/uint16 sRGB codes -> float32 linear light (0..max scale).");

PyObject *py_decode(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *so, *dobj;
    Py_buffer s, d;
    idx_t n;
    if (!PyArg_ParseTuple(args, "OO", &so, &dobj) || codec_pair(so, dobj, &s, &d, &n) < 0) return NULL;
    int st = element_type(&s), dt = element_type(&d);
    PyObject *res = NULL;
    if ((st != T_U8 && st != T_U16) || dt != T_F32) {
        PyErr_SetString(PyExc_TypeError, "engine: decode takes uint8/uint16 into float32");
    } else {
        const codec_fns *f = codec();
        Py_BEGIN_ALLOW_THREADS if (st == T_U8) f->decode_u8(s.buf, d.buf, n);
        else f->decode_u16(s.buf, d.buf, n);
        Py_END_ALLOW_THREADS res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&s);
    PyBuffer_Release(&d);
    return res;
}

const char encode_doc[] = (
             "encode(src, dst, divisor=1.0, scale=1.0)\n\n"
             "float32 linear light -> the nearest uint8/uint16 sRGB code of src / divisor * scale\n"
             "(float32 steps). 8-bit: NaN with the sign bit set gives 0, else 255; 16-bit: NaN gives 0.");

PyObject *py_encode(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *so, *dobj;
    double div = 1.0, mul = 1.0;
    Py_buffer s, d;
    idx_t n;
    if (!PyArg_ParseTuple(args, "OO|dd", &so, &dobj, &div, &mul) || codec_pair(so, dobj, &s, &d, &n) < 0)
        return NULL;
    int st = element_type(&s), dt = element_type(&d);
    PyObject *res = NULL;
    if (st != T_F32 || (dt != T_U8 && dt != T_U16)) {
        PyErr_SetString(PyExc_TypeError, "engine: encode takes float32 into uint8/uint16");
    } else {
        const codec_fns *f = codec();
        float fd = (float)div, fm = (float)mul;
        Py_BEGIN_ALLOW_THREADS if (dt == T_U8) f->encode_u8(s.buf, d.buf, n, fd, fm);
        else f->encode_u16(s.buf, d.buf, n, fd, fm);
        Py_END_ALLOW_THREADS res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&s);
    PyBuffer_Release(&d);
    return res;
}

const char encode_float_doc[] = (
             "encode_float(src, dst, top)\n\n"
             "Linear light on the 0..top scale -> sRGB-encoded values on it (float32 rounding;\n"
             "float32 or float64 arrays of one type, may be the same array).");

PyObject *py_encode_float(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *so, *dobj;
    double top;
    Py_buffer s, d;
    idx_t n;
    if (!PyArg_ParseTuple(args, "OOd", &so, &dobj, &top) || codec_pair(so, dobj, &s, &d, &n) < 0) return NULL;
    int st = element_type(&s), dt = element_type(&d);
    PyObject *res = NULL;
    if (st != dt || (st != T_F32 && st != T_F64)) {
        PyErr_SetString(PyExc_TypeError, "engine: encode_float takes float32 or float64, both alike");
    } else {
        const codec_fns *f = codec();
        Py_BEGIN_ALLOW_THREADS if (st == T_F32) f->encode_float_f32(s.buf, d.buf, n, top);
        else f->encode_float_f64(s.buf, d.buf, n, top);
        Py_END_ALLOW_THREADS res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&s);
    PyBuffer_Release(&d);
    return res;
}

