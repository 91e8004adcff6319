/* Linear kernels (tap correlation, the separable pass), compiled for the baseline instruction set and, on
 * x86-64 with GCC or Clang, again for AVX2 (chosen at run time by the
 * module's CPU check). Floating-point contraction is off in the build
 * (-ffp-contract=off), so both variants give the same bits. */
#include "engine.h"

#define SUFFIX _base
#define TARGET
#include "linear_impl.h"
#undef SUFFIX
#undef TARGET

#if defined(ENGINE_HAVE_AVX2)
#define SUFFIX _avx2
#define TARGET __attribute__((target("avx2")))
#include "linear_impl.h"
#undef SUFFIX
#undef TARGET
#endif
