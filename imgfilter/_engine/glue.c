/* Python glue shared by every kernel family: buffers, tuples, geometry and
 * the one bounds check. Each family's file parses its own arguments with
 * these and releases the GIL around its kernel. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"

int use_avx2 = 0;

int cpu_has_avx2(void) {
#if defined(ENGINE_HAVE_AVX2)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* numpy's buffer format character and item size -> engine type, or -1. */
int element_type(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    const uint16_t probe = 1;
    const int little = *(const uint8_t *)&probe == 1;
    /* An explicit byte order is fine when it is this machine's. */
    if (*f == '=' || *f == '@' || (*f == '<' && little) || ((*f == '>' || *f == '!') && !little)) f++;
    if (*f == '<' || *f == '>' || *f == '!' || f[0] == '\0' || f[1] != '\0') return -1;
    char c = *f;
    int is_unsigned = strchr("BHILQ", c) != NULL;
    int is_signed = strchr("bhilq", c) != NULL;
    int is_float = c == 'f' || c == 'd';
    switch (v->itemsize) {
    case 1: return is_unsigned ? T_U8 : is_signed ? T_I8 : -1;
    case 2: return is_unsigned ? T_U16 : is_signed ? T_I16 : -1;
    case 4: return is_unsigned ? T_U32 : is_signed ? T_I32 : is_float ? T_F32 : -1;
    case 8: return is_unsigned ? T_U64 : is_signed ? T_I64 : is_float ? T_F64 : -1;
    default: return -1;
    }
}

int get_array(PyObject *obj, Py_buffer *v, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, v, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "engine: %s must be a C-contiguous%s array", name,
                     writable ? " writable" : "");
        return -1;
    }
    if (element_type(v) < 0) {
        PyErr_Format(PyExc_TypeError, "engine: %s has an unsupported element type '%s'", name,
                     v->format ? v->format : "?");
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

int get_src_dst(PyObject *src_o, PyObject *dst_o, Py_buffer *src, Py_buffer *dst) {
    if (get_array(src_o, src, 0, "src") < 0) return -1;
    if (get_array(dst_o, dst, 1, "dst") < 0) {
        PyBuffer_Release(src);
        return -1;
    }
    return 0;
}

/* A tuple of ints into out[0..n-1]; returns n or -1. */
Py_ssize_t int_tuple(PyObject *t, idx_t *out, Py_ssize_t cap, const char *name) {
    if (!PyTuple_Check(t)) {
        PyErr_Format(PyExc_TypeError, "engine: %s must be a tuple", name);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    if (n > cap) {
        PyErr_Format(PyExc_ValueError, "engine: %s has more than %zd items", name, cap);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        /* __index__, so numpy integer scalars count as ints (floats do not). */
        out[i] = PyNumber_AsSsize_t(PyTuple_GET_ITEM(t, i), PyExc_OverflowError);
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    return n;
}

int add_span(idx_t count, idx_t step, idx_t *lo, idx_t *hi) {
    idx_t span;
    if (count < 1) return 0;
    if (__builtin_mul_overflow(count - 1, step, &span)) return -1;
    if (span >= 0 ? __builtin_add_overflow(*hi, span, hi) : __builtin_add_overflow(*lo, span, lo))
        return -1;
    return 0;
}

/* The one bounds check: every element the geometry (plus the extra offsets)
 * can touch lies in [0, len) of src, and of dst with no extra offsets. */
int engine_check_bounds(const geom_t *g, const idx_t *off, idx_t noff, idx_t src_len,
                               idx_t dst_len) {
    idx_t lo = 0, hi = 0, olo = 0, ohi = 0;
    for (idx_t t = 0; t < noff; t++) {
        if (t == 0 || off[t] < olo) olo = off[t];
        if (t == 0 || off[t] > ohi) ohi = off[t];
    }
    for (int a = 0; a < g->n_outer; a++)
        if (add_span(g->outer[a], g->s_outer[a], &lo, &hi) < 0) goto overflow;
    if (add_span(g->inner, g->s_step, &lo, &hi) < 0 || add_span(g->chan, 1, &lo, &hi) < 0)
        goto overflow;
    if (__builtin_add_overflow(lo, olo, &lo) || __builtin_add_overflow(hi, ohi, &hi)) goto overflow;
    if (lo < 0 || hi >= src_len) {
        PyErr_SetString(PyExc_IndexError, "engine: source window outside its buffer");
        return -1;
    }
    lo = hi = 0;
    for (int a = 0; a < g->n_outer; a++)
        if (add_span(g->outer[a], g->d_outer[a], &lo, &hi) < 0) goto overflow;
    if (add_span(g->inner, g->d_step, &lo, &hi) < 0 || add_span(g->chan, 1, &lo, &hi) < 0)
        goto overflow;
    if (lo < 0 || hi >= dst_len) {
        PyErr_SetString(PyExc_IndexError, "engine: destination outside its buffer");
        return -1;
    }
    return 0;
overflow:
    PyErr_SetString(PyExc_OverflowError, "engine: geometry overflows");
    return -1;
}

int engine_check_range(const idx_t *idx, idx_t n, idx_t lo, idx_t hi, const char *name) {
    for (idx_t i = 0; i < n; i++)
        if (idx[i] < lo || idx[i] >= hi) {
            PyErr_Format(PyExc_IndexError, "engine: %s[%zd] = %zd outside [%zd, %zd)", name, i, idx[i], lo, hi);
            return -1;
        }
    return 0;
}

int engine_check_index(const idx_t *idx, idx_t n, idx_t len, const char *name) {
    return engine_check_range(idx, n, -1, len, name);
}

Py_ssize_t index_table_len(PyObject *o) {
    return PyTuple_Check(o) ? PyTuple_GET_SIZE(o) : PyObject_Length(o);
}

idx_t *index_table(PyObject *o, idx_t n, idx_t lo, idx_t hi, const char *name) {
    idx_t *out = malloc(sizeof(idx_t) * (size_t)(n > 0 ? n : 1));
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    if (PyTuple_Check(o)) {
        if (PyTuple_GET_SIZE(o) != n || (n > 0 && int_tuple(o, out, n, name) < 0)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "engine: %s must hold %zd ints", name, (Py_ssize_t)n);
            goto fail;
        }
    } else {
        Py_buffer b;
        if (get_array(o, &b, 0, name) < 0) goto fail;
        int t = element_type(&b);
        int ok = (t == T_I64 || t == T_I32) && (size_t)b.itemsize == sizeof(idx_t) && b.len / b.itemsize == n;
        if (ok) memcpy(out, b.buf, sizeof(idx_t) * (size_t)n);
        PyBuffer_Release(&b);
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "engine: %s must hold %zd intp values", name, (Py_ssize_t)n);
            goto fail;
        }
    }
    if (engine_check_range(out, n, lo, hi, name) < 0) goto fail;
    return out;
fail:
    free(out);
    return NULL;
}

/* Parses (outer, s_outer, d_outer, inner, chan, s_step, d_step) into g. */
int parse_geom(PyObject *outer, PyObject *s_outer, PyObject *d_outer, Py_ssize_t inner,
                      Py_ssize_t chan, Py_ssize_t s_step, Py_ssize_t d_step, geom_t *g) {
    memset(g, 0, sizeof(*g));
    Py_ssize_t n = int_tuple(outer, g->outer, ENGINE_MAX_OUTER, "outer");
    if (n < 0) return -1;
    if (int_tuple(s_outer, g->s_outer, ENGINE_MAX_OUTER, "s_outer") != n ||
        int_tuple(d_outer, g->d_outer, ENGINE_MAX_OUTER, "d_outer") != n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "engine: outer strides mismatch");
        return -1;
    }
    g->n_outer = (int)n;
    g->inner = inner;
    g->chan = chan;
    g->s_step = s_step;
    g->d_step = d_step;
    return 0;
}

int geom_empty(const geom_t *g) {
    if (g->inner < 1 || g->chan < 1) return 1;
    for (int a = 0; a < g->n_outer; a++)
        if (g->outer[a] < 1) return 1;
    return 0;
}

