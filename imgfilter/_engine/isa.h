/* The compile-twice prologue of a kernel family: its body (a header
 * written against SUFFIX, the name tail, and TARGET, the function
 * attribute) compiled for the baseline instruction set and, where
 * engine.h says an AVX2 variant exists, again for AVX2. The module's CPU
 * check (use_avx2) picks one at run time; both give the same values
 * because contraction is off in the build (-ffp-contract=off).
 *
 * Included twice by design, so it has no include guard:
 *
 *     #include "isa.h"                   (top: the family's includes)
 *     ...types the body needs...
 *     #define ISA_IMPL "canny_impl.h"
 *     #include "isa.h"                   (the body, once per ISA)
 *
 * ISA_AVX2_TARGET (default "avx2") overrides the AVX2 target string, for
 * a family measured faster with other tuning. Both are undefined again
 * after use, so the body can be compiled for another element type (define
 * ISA_IMPL again).
 *
 * While the body is compiled, ISA_VEC_BYTES is the vector register's width
 * (16, 32 for AVX2), for bodies that size their unrolling by it, and
 * ISA_AVX2 is defined in the AVX2 pass only, for bodies with intrinsics of
 * each width. */

/* The includes every family uses; Python.h first (glue.h), as it asks. */
#include "glue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(ISA_IMPL)
#if !defined(ISA_AVX2_TARGET)
#define ISA_AVX2_TARGET "avx2"
#endif

#define SUFFIX _base
#define TARGET
#define ISA_VEC_BYTES 16
#include ISA_IMPL
#undef ISA_VEC_BYTES
#undef SUFFIX
#undef TARGET

#if defined(ENGINE_HAVE_AVX2)
#define SUFFIX _avx2
#define TARGET __attribute__((target(ISA_AVX2_TARGET)))
#define ISA_VEC_BYTES 32
#define ISA_AVX2 1
#include ISA_IMPL
#undef ISA_AVX2
#undef ISA_VEC_BYTES
#undef SUFFIX
#undef TARGET
#endif

#undef ISA_IMPL
#undef ISA_AVX2_TARGET
#endif
