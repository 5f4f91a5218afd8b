// The AVX2 + FMA version of cortado_vm_gemm_packed, chosen by VectorMath.c's dispatch table.
#ifndef CORTADO_GEMM_PACKED_AVX2_H
#define CORTADO_GEMM_PACKED_AVX2_H

#include <stddef.h>

/// cortado_vm_gemm_packed in tiles of 6 rows × 16 columns (AVX2 + FMA only).
void cortado_vm_avx2_gemm_packed(const float *a, size_t lda, size_t rows, const float *packed, size_t k, size_t n,
                                 float *c, size_t ldc, int accumulate);

#endif
