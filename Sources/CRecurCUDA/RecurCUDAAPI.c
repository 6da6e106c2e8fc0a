/* Binds RecurCUDAAPI.h's functions from the libraries `recur_cuda_probe` opened, and calls them through
 * one pointer each. Symbols are looked up in their own library's handle (cuDNN's in the dispatcher
 * libcudnn.so.9, not in a sub-library that happens to export the same name). */
#define _GNU_SOURCE
#include "RecurCUDAAPI.h"
#include <dlfcn.h>
#include <stdio.h>

extern void *recur_cuda_driver_library, *recur_cuda_cublas_library, *recur_cuda_cudnn_library;

#define RECUR_CUDA_POINTER(library, name, parameters, arguments) static int (*bound_##name) parameters;
RECUR_CUDA_FUNCTIONS(RECUR_CUDA_POINTER)
#undef RECUR_CUDA_POINTER

#define RECUR_CUDA_CALL(library, name, parameters, arguments) \
    int recur_##name parameters { return bound_##name ? bound_##name arguments : -1; }
RECUR_CUDA_FUNCTIONS(RECUR_CUDA_CALL)
#undef RECUR_CUDA_CALL

/* The handle of each library, by the name used in the X-macro list. */
#define LIBRARY_driver recur_cuda_driver_library
#define LIBRARY_cublas recur_cuda_cublas_library
#define LIBRARY_cudnn recur_cuda_cudnn_library

int recur_cuda_bind(char *reason, size_t reason_size) {
    if (!recur_cuda_driver_library || !recur_cuda_cublas_library || !recur_cuda_cudnn_library) {
        snprintf(reason, reason_size, "the CUDA libraries were not loaded (probe first)");
        return 1;
    }
#define RECUR_CUDA_BIND(library, name, parameters, arguments) \
    *(void **)&bound_##name = dlsym(LIBRARY_##library, #name); \
    if (!bound_##name) { snprintf(reason, reason_size, "%s lacks %s", #library, #name); return 1; }
    RECUR_CUDA_FUNCTIONS(RECUR_CUDA_BIND)
#undef RECUR_CUDA_BIND
    /* The versioned name where the driver has it (R535 has only the plain one; GPU.md §2.4). */
    void *elapsed = dlsym(recur_cuda_driver_library, "cuEventElapsedTime_v2");
    if (elapsed) *(void **)&bound_cuEventElapsedTime = elapsed;
    return 0;
}

int recur_cuda_launch(recur_cu_function f, unsigned blocks, unsigned threads, recur_cu_stream stream, void **arguments) {
    return recur_cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, 0, stream, arguments, NULL);
}
