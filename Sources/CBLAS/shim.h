#include <cblas.h>
/* OpenBLAS's threading control (declared in cblas.h of OpenBLAS builds). */
void openblas_set_num_threads(int num_threads);
