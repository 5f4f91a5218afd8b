#ifndef CORTADO_GEMM16_H
#define CORTADO_GEMM16_H
// Matrix products of 16-bit float operands with float32 accumulation, for the CPU backend's
// mixed precision: C = alpha · A · B + beta · C, where A and B are bfloat16, float16 or float32
// (any strides) and C is float32, bfloat16 or float16 (row-major).
//
// bfloat16 × bfloat16 on a processor with AVX-512 BF16 runs `vdpbf16ps` on packed panels (pairs of
// k interleaved, 12 × 32 tiles of C in 24 zmm accumulators) when a one-time timing on this processor
// finds it faster than float32 FMAs. Every other case widens its panels to float32 and runs
// CVectorMath's packed float32 tiles. Both sum each entry of C in the same order
// whatever the split of columns between threads, so a result does not depend on scheduling.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Element types, numbered as Cortado's DType for the float types.
typedef enum {
    CORTADO_GEMM16_F32 = 0,
    CORTADO_GEMM16_F16 = 1,
    CORTADO_GEMM16_BF16 = 2,
} cortado_gemm16_type;

/// One product. Strides are in elements; C's columns are contiguous.
typedef struct {
    cortado_gemm16_type ab_type;
    const void *a;
    ptrdiff_t a_row, a_col;
    const void *b;
    ptrdiff_t b_row, b_col;
    cortado_gemm16_type c_type;
    void *c;
    ptrdiff_t c_row;
    size_t m, n, k;
    float alpha, beta;
} cortado_gemm16;

/// Bytes of scratch memory a `cortado_gemm16_columns` call over at most `columns_per_call` columns
/// needs (64-byte aligned by the caller).
size_t cortado_gemm16_scratch_bytes(const cortado_gemm16 *g, size_t columns_per_call);

/// Computes columns [n0, n1) of C (callers split n between threads, each with its own scratch).
void cortado_gemm16_columns(const cortado_gemm16 *g, size_t n0, size_t n1, void *scratch);

/// How bfloat16 products run.
typedef enum {
    /// `vdpbf16ps` where the processor has it and a one-time timing finds it faster (the default).
    CORTADO_GEMM16_AUTO = 0,
    /// Always widen to float32 tiles.
    CORTADO_GEMM16_WIDEN = 1,
    /// `vdpbf16ps` whenever the processor has it (for tests and benchmarks).
    CORTADO_GEMM16_BF16_DOT = 2,
} cortado_gemm16_path;

/// Whether this processor has AVX-512 BF16.
int cortado_gemm16_bf16_dot_available(void);

/// Whether bfloat16 products run on `vdpbf16ps` now (see `cortado_gemm16_set_path`).
int cortado_gemm16_uses_bf16_dot(void);

/// Chooses how bfloat16 products run (tests and benchmarks compare the paths).
void cortado_gemm16_set_path(cortado_gemm16_path path);

#ifdef __cplusplus
}
#endif

#endif
