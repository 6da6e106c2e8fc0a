/*
 * Picks OpenBLAS's kernels for CPUs that its version does not know.
 *
 * OpenBLAS built with DYNAMIC_ARCH (Debian's) chooses its GEMM kernels from the CPU model when it loads;
 * a model newer than the library (0.3.21 does not know Intel's Sapphire/Emerald Rapids, model 143/207)
 * falls back to the SSE3 "Prescott" kernels, which run Recur's GEMMs at a fraction of the machine's
 * speed. When OpenBLAS reports that fallback, the user has not chosen a core with OPENBLAS_CORETYPE and
 * the CPU has AVX-512 (or AVX2 and FMA), this selects OpenBLAS's own SkylakeX (or Haswell) kernels
 * through its dynamic-arch entry points. They are weak references, null with an OpenBLAS built
 * without DYNAMIC_ARCH, which is then left alone. It must run before any BLAS call.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "RecurKernels.h"

extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *recur_blas_select_core(void) {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit || getenv("OPENBLAS_CORETYPE")) return NULL;
    if (strcasecmp(openblas_get_corename(), "prescott") != 0) return NULL;
    __builtin_cpu_init();
    const char *core = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        core = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        core = "Haswell";
    if (!core) return NULL;
    setenv("OPENBLAS_CORETYPE", core, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return openblas_get_corename();
}
