#ifndef RECUR_CUDA_H
#define RECUR_CUDA_H
/* Run-time discovery of NVIDIA's libraries for a CUDA backend: the driver (libcuda.so.1), cuBLAS and
 * cuDNN 9 are opened with dlopen, so Recur builds and starts on machines without them and no NVIDIA
 * header or library is needed at build time (../shared/GPU.md §1–2). Nothing here computes yet: the
 * probe says whether a CUDA device could be used, or why not, in one line. */
#include <stddef.h>

typedef struct {
    int driver_version;      /* cuDriverGetVersion, e.g. 13000 */
    int device_count;        /* cuDeviceGetCount */
    size_t cudnn_version;    /* cudnnGetVersion, e.g. 91400 */
} recur_cuda_info;

/* Loads the driver, cuBLAS (libcublasLt first) and cuDNN 9 (its sub-libraries first, by full path),
 * initialises the driver and counts devices. Looks in `folder` first when it is not NULL (Recur passes
 * `$RECUR_CUDA_LIB_PATH`), then on the dynamic loader's default path. Returns 0 and fills `info` when a
 * device is usable; otherwise returns nonzero and writes a one-line reason (no newline) into `reason`.
 * A library that is missing, not a library or too old is a reason, never a crash. Libraries it opens
 * stay loaded (a backend uses them next). */
int recur_cuda_probe(const char *folder, recur_cuda_info *info, char *reason, size_t reason_size);

#endif
