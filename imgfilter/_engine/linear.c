/* Linear kernels (tap correlation, the separable pass), compiled for the baseline instruction set and, on
 * x86-64 with GCC or Clang, again for AVX2 (chosen at run time by the
 * module's CPU check). Floating-point contraction is off in the build
 * (-ffp-contract=off), so both variants give the same bits. */
#include "isa.h"

/* Without FP traps to preserve, GCC if-converts the stores' NaN test and
 * clips (measured: the u8 store ran scalar and took 43% of a 5x5 box).
 * Values are unchanged: this allows no reassociation or contraction. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define ISA_IMPL "linear_impl.h"
#include "isa.h"
