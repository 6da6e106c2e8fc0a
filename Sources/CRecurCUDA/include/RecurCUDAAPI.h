#ifndef RECUR_CUDA_API_H
#define RECUR_CUDA_API_H
/* The NVIDIA driver, cuBLAS and cuDNN 9 functions Recur's CUDA backend calls, bound at run time from the
 * libraries `recur_cuda_probe` opened (../shared/GPU.md §1–4). The declarations are our own, written from
 * NVIDIA's documented C API: handles are opaque pointers, enums and results `int`, device pointers
 * `unsigned long long` (CUdeviceptr). Each function is called through `recur_<name>`, which returns the
 * library's status (or, for a function that was not bound, -1). */
#include <stddef.h>

typedef unsigned long long recur_devptr;
typedef struct recur_cu_ctx_st *recur_cu_context;
typedef struct recur_cu_stream_st *recur_cu_stream;
typedef struct recur_cu_event_st *recur_cu_event;
typedef struct recur_cu_module_st *recur_cu_module;
typedef struct recur_cu_func_st *recur_cu_function;
typedef struct recur_cublas_st *recur_cublas_handle;
typedef struct recur_cudnn_st *recur_cudnn_handle;
typedef struct recur_cudnn_tensor_st *recur_cudnn_tensor_desc;
typedef struct recur_cudnn_dropout_st *recur_cudnn_dropout_desc;
typedef struct recur_cudnn_rnn_st *recur_cudnn_rnn_desc;
typedef struct recur_cudnn_rnn_data_st *recur_cudnn_rnn_data_desc;

/* X(library, name, parameters, arguments): every function bound, in its library. */
#define RECUR_CUDA_FUNCTIONS(X) \
    X(driver, cuDeviceGet, (int *device, int ordinal), (device, ordinal)) \
    X(driver, cuDeviceGetAttribute, (int *value, int attribute, int device), (value, attribute, device)) \
    X(driver, cuDevicePrimaryCtxRetain, (recur_cu_context *context, int device), (context, device)) \
    X(driver, cuCtxSetCurrent, (recur_cu_context context), (context)) \
    X(driver, cuMemGetInfo_v2, (size_t *free, size_t *total), (free, total)) \
    X(driver, cuMemAlloc_v2, (recur_devptr *pointer, size_t bytes), (pointer, bytes)) \
    X(driver, cuMemFree_v2, (recur_devptr pointer), (pointer)) \
    X(driver, cuMemcpyHtoDAsync_v2, (recur_devptr dst, const void *src, size_t bytes, recur_cu_stream stream), (dst, src, bytes, stream)) \
    X(driver, cuMemcpyDtoHAsync_v2, (void *dst, recur_devptr src, size_t bytes, recur_cu_stream stream), (dst, src, bytes, stream)) \
    X(driver, cuMemcpyDtoDAsync_v2, (recur_devptr dst, recur_devptr src, size_t bytes, recur_cu_stream stream), (dst, src, bytes, stream)) \
    X(driver, cuMemsetD32Async, (recur_devptr dst, unsigned value, size_t count, recur_cu_stream stream), (dst, value, count, stream)) \
    X(driver, cuStreamCreate, (recur_cu_stream *stream, unsigned flags), (stream, flags)) \
    X(driver, cuStreamSynchronize, (recur_cu_stream stream), (stream)) \
    X(driver, cuEventCreate, (recur_cu_event *event, unsigned flags), (event, flags)) \
    X(driver, cuEventRecord, (recur_cu_event event, recur_cu_stream stream), (event, stream)) \
    X(driver, cuEventSynchronize, (recur_cu_event event), (event)) \
    X(driver, cuEventElapsedTime, (float *ms, recur_cu_event start, recur_cu_event end), (ms, start, end)) \
    X(driver, cuModuleLoadDataEx, (recur_cu_module *module, const void *image, unsigned count, int *options, void **values), (module, image, count, options, values)) \
    X(driver, cuModuleGetFunction, (recur_cu_function *function, recur_cu_module module, const char *name), (function, module, name)) \
    X(driver, cuLaunchKernel, (recur_cu_function f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
                               unsigned shared, recur_cu_stream stream, void **parameters, void **extra), \
      (f, gx, gy, gz, bx, by, bz, shared, stream, parameters, extra)) \
    X(cublas, cublasCreate_v2, (recur_cublas_handle *handle), (handle)) \
    X(cublas, cublasSetStream_v2, (recur_cublas_handle handle, recur_cu_stream stream), (handle, stream)) \
    X(cublas, cublasSetMathMode, (recur_cublas_handle handle, int mode), (handle, mode)) \
    X(cublas, cublasSgemmStridedBatched, (recur_cublas_handle h, int opA, int opB, int m, int n, int k, const float *alpha, \
                                          const float *A, int lda, long long strideA, const float *B, int ldb, long long strideB, \
                                          const float *beta, float *C, int ldc, long long strideC, int batch), \
      (h, opA, opB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch)) \
    X(cudnn, cudnnCreate, (recur_cudnn_handle *handle), (handle)) \
    X(cudnn, cudnnSetStream, (recur_cudnn_handle handle, recur_cu_stream stream), (handle, stream)) \
    X(cudnn, cudnnGetLastErrorString, (char *message, size_t max), (message, max)) \
    X(cudnn, cudnnCreateTensorDescriptor, (recur_cudnn_tensor_desc *d), (d)) \
    X(cudnn, cudnnDestroyTensorDescriptor, (recur_cudnn_tensor_desc d), (d)) \
    X(cudnn, cudnnSetTensorNdDescriptor, (recur_cudnn_tensor_desc d, int type, int rank, const int *dims, const int *strides), (d, type, rank, dims, strides)) \
    X(cudnn, cudnnGetTensorNdDescriptor, (recur_cudnn_tensor_desc d, int max, int *type, int *rank, int *dims, int *strides), (d, max, type, rank, dims, strides)) \
    X(cudnn, cudnnCreateDropoutDescriptor, (recur_cudnn_dropout_desc *d), (d)) \
    X(cudnn, cudnnSetDropoutDescriptor, (recur_cudnn_dropout_desc d, recur_cudnn_handle h, float dropout, void *states, size_t bytes, \
                                         unsigned long long seed), (d, h, dropout, states, bytes, seed)) \
    X(cudnn, cudnnCreateRNNDescriptor, (recur_cudnn_rnn_desc *d), (d)) \
    X(cudnn, cudnnDestroyRNNDescriptor, (recur_cudnn_rnn_desc d), (d)) \
    X(cudnn, cudnnSetRNNDescriptor_v8, (recur_cudnn_rnn_desc d, int algo, int cell, int bias, int direction, int input, int dataType, \
                                        int mathPrecision, int mathType, int inputSize, int hiddenSize, int projSize, int layers, \
                                        recur_cudnn_dropout_desc dropout, unsigned flags), \
      (d, algo, cell, bias, direction, input, dataType, mathPrecision, mathType, inputSize, hiddenSize, projSize, layers, dropout, flags)) \
    X(cudnn, cudnnGetRNNWeightSpaceSize, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, size_t *bytes), (h, d, bytes)) \
    X(cudnn, cudnnGetRNNWeightParams, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, int layer, size_t bytes, const void *weights, int id, \
                                       recur_cudnn_tensor_desc mDesc, void **m, recur_cudnn_tensor_desc bDesc, void **b), \
      (h, d, layer, bytes, weights, id, mDesc, m, bDesc, b)) \
    X(cudnn, cudnnCreateRNNDataDescriptor, (recur_cudnn_rnn_data_desc *d), (d)) \
    X(cudnn, cudnnDestroyRNNDataDescriptor, (recur_cudnn_rnn_data_desc d), (d)) \
    X(cudnn, cudnnSetRNNDataDescriptor, (recur_cudnn_rnn_data_desc d, int type, int layout, int maxLength, int batch, int vector, \
                                         const int *lengths, void *fill), (d, type, layout, maxLength, batch, vector, lengths, fill)) \
    X(cudnn, cudnnGetRNNTempSpaceSizes, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, int mode, recur_cudnn_rnn_data_desc x, \
                                         size_t *workspace, size_t *reserve), (h, d, mode, x, workspace, reserve)) \
    X(cudnn, cudnnRNNForward, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, int mode, const int *devLengths, \
                               recur_cudnn_rnn_data_desc xD, const void *x, recur_cudnn_rnn_data_desc yD, void *y, \
                               recur_cudnn_tensor_desc hD, const void *hx, void *hy, recur_cudnn_tensor_desc cD, const void *cx, void *cy, \
                               size_t wBytes, const void *w, size_t wsBytes, void *ws, size_t resBytes, void *res), \
      (h, d, mode, devLengths, xD, x, yD, y, hD, hx, hy, cD, cx, cy, wBytes, w, wsBytes, ws, resBytes, res)) \
    X(cudnn, cudnnRNNBackwardData_v8, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, const int *devLengths, \
                                       recur_cudnn_rnn_data_desc yD, const void *y, const void *dy, recur_cudnn_rnn_data_desc xD, void *dx, \
                                       recur_cudnn_tensor_desc hD, const void *hx, const void *dhy, void *dhx, \
                                       recur_cudnn_tensor_desc cD, const void *cx, const void *dcy, void *dcx, \
                                       size_t wBytes, const void *w, size_t wsBytes, void *ws, size_t resBytes, void *res), \
      (h, d, devLengths, yD, y, dy, xD, dx, hD, hx, dhy, dhx, cD, cx, dcy, dcx, wBytes, w, wsBytes, ws, resBytes, res)) \
    X(cudnn, cudnnRNNBackwardWeights_v8, (recur_cudnn_handle h, recur_cudnn_rnn_desc d, int addGrad, const int *devLengths, \
                                          recur_cudnn_rnn_data_desc xD, const void *x, recur_cudnn_tensor_desc hD, const void *hx, \
                                          recur_cudnn_rnn_data_desc yD, const void *y, size_t wBytes, void *dw, \
                                          size_t wsBytes, void *ws, size_t resBytes, void *res), \
      (h, d, addGrad, devLengths, xD, x, hD, hx, yD, y, wBytes, dw, wsBytes, ws, resBytes, res))

#define RECUR_CUDA_DECLARE(library, name, parameters, arguments) int recur_##name parameters;
RECUR_CUDA_FUNCTIONS(RECUR_CUDA_DECLARE)
#undef RECUR_CUDA_DECLARE

/* Binds every function above from the libraries the probe loaded (call it after a successful
 * `recur_cuda_probe`). Returns 0, or nonzero with the first missing symbol named in `reason`. */
int recur_cuda_bind(char *reason, size_t reason_size);

/* Launches `f` over `blocks` × `threads` on `stream` with its arguments (pointers to each value). */
int recur_cuda_launch(recur_cu_function f, unsigned blocks, unsigned threads, recur_cu_stream stream, void **arguments);

#endif
