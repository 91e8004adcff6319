/* The fused box kernel's entry point (box.c). */
#ifndef IMGFILTER_BOX_H
#define IMGFILTER_BOX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define BOX_DOC                                                                                    \
    "box(src, dst, cols, chan, rowidx, colidx, lpad, acc, signed_to, work_f64, divide, cval)\n\n" \
    "Exact box sums of integer images, fused: per output row the vertical running column sums\n"  \
    "(the entering row added, the leaving row subtracted), the horizontal sums along the row and\n" \
    "the store, in one pass. src: H x cols pixels of chan values (any integer type); output row\n"  \
    "i sums source rows rowidx[i .. i + kv - 1] (kv = len(rowidx) - rows + 1; -1: a row of cval)\n" \
    "over the extended columns colidx[j .. j + kh - 1] (-1: cval; colidx[lpad + c] == c inside).\n" \
    "Sums run in the unsigned accumulator acc ('u16', 'u32', 'u64'; modular, exact when the true\n" \
    "sum fits). signed_to ('', 'f32', 'f64'): a signed source's sums are converted to that float\n" \
    "accumulator first. dst of another type than the accumulator, or divide != 1, stores\n"       \
    "sum / divide as sep2d does (same store, float64 work if work_f64)."

PyObject *py_box(PyObject *self, PyObject *args);

#define BOX_METHOD_ROWS {"box", py_box, METH_VARARGS, BOX_DOC},

#endif
