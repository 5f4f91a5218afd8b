#ifndef CORTADO_COPENBLAS_SHIM_H
#define CORTADO_COPENBLAS_SHIM_H
// OpenBLAS's cblas.h also declares openblas_get_num_threads / openblas_set_num_threads.
#include <cblas.h>
#endif
