/* Finds NVIDIA's driver, cuBLAS and cuDNN 9 at run time (see RecurCUDA.h). The declarations below are
 * our own, written from NVIDIA's documented C API (GPU.md §4): NVIDIA's headers are not available at
 * build time and cannot be vendored. */
#define _GNU_SOURCE
#include "RecurCUDA.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef int (*cu_init_fn)(unsigned flags);
typedef int (*cu_int_out_fn)(int *value);
typedef int (*cu_error_string_fn)(int error, const char **text);
typedef size_t (*cudnn_version_fn)(void);

enum { CUDA_SUCCESS = 0, CUDA_ERROR_NO_DEVICE = 100 };

/* The libraries a successful probe opened, for `recur_cuda_bind` (RecurCUDAAPI.c). */
void *recur_cuda_driver_library, *recur_cuda_cublas_library, *recur_cuda_cudnn_library;

/* snprintf into reason, with any newline of a dlerror() text turned into a space. */
#define SAY(...) do { snprintf(reason, reason_size, __VA_ARGS__); one_line(reason); } while (0)

static void one_line(char *text) {
    for (; *text; text++) if (*text == '\n' || *text == '\r') *text = ' ';
}

/* dlopen `name` from `folder` when given and the file is there, else by name on the default path.
   On failure copies dlerror() into `error`. */
static void *open_library(const char *folder, const char *name, char *error, size_t error_size) {
    if (folder && *folder) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", folder, name) < (int)sizeof path) {
            void *handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
            if (handle) return handle;
            /* A file that exists but does not load is the answer; a missing one falls through. */
            const char *why = dlerror();
            if (why && !strstr(why, "No such file")) { snprintf(error, error_size, "%s", why); return NULL; }
        }
    }
    void *handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) { const char *why = dlerror(); snprintf(error, error_size, "%s", why ? why : "not found"); }
    return handle;
}

static const char *driver_error_name(void *driver, int code) {
    cu_error_string_fn name = (cu_error_string_fn)dlsym(driver, "cuGetErrorString");
    const char *text = NULL;
    if (name && name(code, &text) == CUDA_SUCCESS && text) return text;
    return "unknown error";
}

/* cuBLAS 13 (CUDA 13) or 12: libcublasLt before libcublas, which needs it. */
static int load_cublas(const char *folder, char *reason, size_t reason_size) {
    static const char *const versions[] = {"13", "12"};
    char error[512] = "";
    for (int v = 0; v < 2; v++) {
        char lt[64], blas[64];
        snprintf(lt, sizeof lt, "libcublasLt.so.%s", versions[v]);
        snprintf(blas, sizeof blas, "libcublas.so.%s", versions[v]);
        if (!open_library(folder, lt, error, sizeof error)) continue;
        recur_cuda_cublas_library = open_library(folder, blas, error, sizeof error);
        if (recur_cuda_cublas_library) return 0;
    }
    SAY("cuBLAS 13 or 12 not found (%s)", error);
    return 1;
}

/* cuDNN 9's libcudnn.so.9 only dispatches: unless its sub-libraries load first (by full path, from the
   folder libcudnn_graph.so.9 is in), even cudnnGetVersion aborts the process (GPU.md §2). */
static int load_cudnn(const char *folder, size_t *version, char *reason, size_t reason_size) {
    char error[512] = "";
    void *graph = open_library(folder, "libcudnn_graph.so.9", error, sizeof error);
    if (!graph) { SAY("cuDNN 9 not found (%s)", error); return 1; }
    char origin[PATH_MAX] = "";
    if (dlinfo(graph, RTLD_DI_ORIGIN, origin) != 0 || !*origin) { SAY("cuDNN 9: cannot tell the folder of libcudnn_graph.so.9"); return 1; }
    /* cuDNN opens these by soname with a search path that misses CUDA 13's layout: load them first. */
    open_library(folder, "libnvrtc.so.13", error, sizeof error);
    static const char *const required[] = {"libcudnn_ops.so.9", "libcudnn_adv.so.9"};
    static const char *const optional[] = {"libcudnn_heuristic.so.9", "libcudnn_engines_runtime_compiled.so.9",
                                           "libcudnn_engines_precompiled.so.9", "libcudnn_cnn.so.9"};
    for (int i = 0; i < 2; i++) {
        if (!open_library(origin, required[i], error, sizeof error)) { SAY("cuDNN 9 is incomplete (%s)", error); return 1; }
    }
    for (int i = 0; i < 4; i++) open_library(origin, optional[i], error, sizeof error);
    void *cudnn = open_library(origin, "libcudnn.so.9", error, sizeof error);
    if (!cudnn) { SAY("cuDNN 9 does not load (%s)", error); return 1; }
    cudnn_version_fn get_version = (cudnn_version_fn)dlsym(cudnn, "cudnnGetVersion");
    if (!get_version) { SAY("cuDNN 9: libcudnn.so.9 has no cudnnGetVersion"); return 1; }
    *version = get_version();
    recur_cuda_cudnn_library = cudnn;
    if (*version < 90000 || *version >= 100000) { SAY("cuDNN %zu found; Recur needs cuDNN 9", *version); return 1; }
    return 0;
}

int recur_cuda_probe(const char *folder, recur_cuda_info *info, char *reason, size_t reason_size) {
    memset(info, 0, sizeof *info);
    if (reason_size > 0) reason[0] = '\0';
    char error[512] = "";
    void *driver = open_library(folder, "libcuda.so.1", error, sizeof error);
    if (!driver) { SAY("no NVIDIA driver (%s)", error); return 1; }
    /* The driver's versioned names (GPU.md §2.3) matter for memory calls; these three have none. */
    cu_init_fn init = (cu_init_fn)dlsym(driver, "cuInit");
    cu_int_out_fn driver_version = (cu_int_out_fn)dlsym(driver, "cuDriverGetVersion");
    cu_int_out_fn device_count = (cu_int_out_fn)dlsym(driver, "cuDeviceGetCount");
    if (!init || !driver_version || !device_count) { SAY("libcuda.so.1 lacks cuInit, cuDriverGetVersion or cuDeviceGetCount"); return 1; }
    int status = init(0);
    if (status == CUDA_ERROR_NO_DEVICE) { SAY("no CUDA device (cuInit: %s)", driver_error_name(driver, status)); return 1; }
    if (status != CUDA_SUCCESS) { SAY("the NVIDIA driver does not start (cuInit error %d: %s)", status, driver_error_name(driver, status)); return 1; }
    if (driver_version(&info->driver_version) != CUDA_SUCCESS || device_count(&info->device_count) != CUDA_SUCCESS) {
        SAY("the NVIDIA driver does not answer (cuDriverGetVersion / cuDeviceGetCount)"); return 1;
    }
    if (info->device_count < 1) { SAY("no CUDA device (the driver counts none)"); return 1; }
    if (load_cublas(folder, reason, reason_size) != 0) return 1;
    if (load_cudnn(folder, &info->cudnn_version, reason, reason_size) != 0) return 1;
    recur_cuda_driver_library = driver;
    return 0;
}
