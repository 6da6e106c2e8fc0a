#include <cblas.h>
/* OpenBLAS's threading control (declared in cblas.h of OpenBLAS builds). */
void openblas_set_num_threads(int num_threads);
/* LAPACK's QR factorisation from OpenBLAS (Fortran calling convention; Debian ships no lapack.h
   with libopenblas-dev, so the two routines Recur uses are declared here). */
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
             const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau,
             float *work, const int *lwork, int *info);
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
