// Compiles VectorMathKernels.h once per instruction set and dispatches to the widest one the
// processor supports.
#include "CVectorMath.h"

#include <string.h>

// The helpers pass 16-float vectors by value; they are always inlined, so the ABI clang warns
// about (a vector argument without AVX-512) is never used.
#pragma clang diagnostic ignored "-Wpsabi"

#define CV_LANES 16
typedef float vf __attribute__((ext_vector_type(CV_LANES)));
typedef unsigned vu __attribute__((ext_vector_type(CV_LANES)));
typedef int vi __attribute__((ext_vector_type(CV_LANES)));
typedef unsigned long long vu64 __attribute__((ext_vector_type(CV_LANES)));
typedef unsigned short vh __attribute__((ext_vector_type(CV_LANES)));  // 16-bit float patterns

// Rows of a GEMM tile: 2 × CV_GEMM_ROWS accumulators must fit the registers (32 zmm with
// AVX-512). A kernel file that defines CV_GEMM_PACKED uses that function instead (AVX2, whose 16
// ymm registers hold only 8 vectors of 16 floats).
#define CV_TARGET
#define CV_NAME(f) baseline_##f
#define CV_GEMM_ROWS 4
#include "VectorMathKernels.h"
#undef CV_TARGET
#undef CV_NAME

#if defined(__x86_64__)
#include "GemmPackedAVX2.h"
#define CV_TARGET __attribute__((target("avx2,fma")))
#define CV_NAME(f) avx2_##f
#define CV_GEMM_PACKED cortado_vm_avx2_gemm_packed  // GemmPackedAVX2.c: a tile that fits 16 ymm registers
#include "VectorMathKernels.h"
#undef CV_TARGET
#undef CV_NAME

#include <immintrin.h>
#define CV_TARGET __attribute__((target("avx512f")))
#define CV_NAME(f) avx512_##f
#define CV_MASKED_TAILS
#undef CV_GEMM_ROWS
#define CV_GEMM_ROWS 8
#include "VectorMathKernels.h"
#undef CV_TARGET
#undef CV_NAME
#undef CV_MASKED_TAILS
#endif

cortado_vm_level cortado_vm_supported_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return CORTADO_VM_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CORTADO_VM_AVX2_FMA;
#endif
    return CORTADO_VM_BASELINE;
}

const cortado_vm_kernels *cortado_vm_kernels_for(cortado_vm_level level) {
    if (level > cortado_vm_supported_level()) return NULL;
#if defined(__x86_64__)
    if (level == CORTADO_VM_AVX512) return &avx512_kernels;
    if (level == CORTADO_VM_AVX2_FMA) return &avx2_kernels;
#endif
    return &baseline_kernels;
}

/// The supported level's loops, chosen on first use (every thread that races on it stores the
/// same pointer).
static const cortado_vm_kernels *chosen = NULL;

static const cortado_vm_kernels *active(void) {
    const cortado_vm_kernels *kernels = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (kernels == NULL) {
        kernels = cortado_vm_kernels_for(cortado_vm_supported_level());
        __atomic_store_n(&chosen, kernels, __ATOMIC_RELEASE);
    }
    return kernels;
}

void cortado_vm_exp(const float *x, float *y, size_t count, float shift) { active()->exp(x, y, count, shift); }

void cortado_vm_sigmoid(const float *x, float *y, size_t count) { active()->sigmoid(x, y, count); }

void cortado_vm_tanh(const float *x, float *y, size_t count) { active()->tanh(x, y, count); }

void cortado_vm_gelu(const float *x, float *y, size_t count) { active()->gelu(x, y, count); }

void cortado_vm_gelu_backward(const float *grad, const float *x, float *y, size_t count) {
    active()->gelu_backward(grad, x, y, count);
}

void cortado_vm_lstm_forward(const cortado_vm_lstm_forward_step *step, size_t first_row, size_t rows) {
    active()->lstm_forward(step, first_row, rows);
}

void cortado_vm_lstm_backward(const cortado_vm_lstm_backward_step *step, size_t first_row, size_t rows) {
    active()->lstm_backward(step, first_row, rows);
}

void cortado_vm_gru_forward(const cortado_vm_gru_forward_step *step, size_t first_row, size_t rows) {
    active()->gru_forward(step, first_row, rows);
}

void cortado_vm_max_pool_2x2(const float *x, float *y, int32_t *indices, size_t planes, size_t height, size_t width,
                             size_t out_height, size_t out_width) {
    active()->max_pool_2x2(x, y, indices, planes, height, width, out_height, out_width);
}

void cortado_vm_philox(float *out, size_t count, uint64_t seed, uint64_t counter, int bernoulli, float a, float b) {
    active()->philox(out, count, seed, counter, bernoulli, a, b);
}

void cortado_vm_max_pool_2x2_backward(const float *dy, const int32_t *indices, float *dx, size_t planes, size_t height,
                                      size_t width, size_t out_height, size_t out_width) {
    active()->max_pool_2x2_backward(dy, indices, dx, planes, height, width, out_height, out_width);
}

void cortado_vm_max_pool_2x2_16(const uint16_t *x, uint16_t *y, int32_t *indices, int bfloat16, size_t planes,
                                size_t height, size_t width, size_t out_height, size_t out_width) {
    active()->max_pool_2x2_16(x, y, indices, bfloat16, planes, height, width, out_height, out_width);
}

void cortado_vm_max_pool_2x2_backward_16(const uint16_t *dy, const int32_t *indices, uint16_t *dx, int bfloat16,
                                         size_t planes, size_t height, size_t width, size_t out_height,
                                         size_t out_width) {
    active()->max_pool_2x2_backward_16(dy, indices, dx, bfloat16, planes, height, width, out_height, out_width);
}

size_t cortado_vm_packed_count(size_t k, size_t n) { return (n + 31) / 32 * 32 * k; }

void cortado_vm_pack_panels(const float *b, size_t row_stride, size_t column_stride, size_t k, size_t n,
                            float *packed) {
    for (size_t j = 0; j < n; j += 32) {
        float *panel = packed + j * k;
        size_t columns = n - j < 32 ? n - j : 32;
        for (size_t i = 0; i < k; ++i) {
            const float *row = b + i * row_stride + j * column_stride;
            float *out = panel + 32 * i;
            for (size_t c = 0; c < columns; ++c) out[c] = row[c * column_stride];
            for (size_t c = columns; c < 32; ++c) out[c] = 0;
        }
    }
}

void cortado_vm_gemm_packed(const float *a, size_t lda, size_t rows, const float *packed, size_t k, size_t n, float *c,
                            size_t ldc, int accumulate) {
    active()->gemm_packed(a, lda, rows, packed, k, n, c, ldc, accumulate);
}

void cortado_vm_adam(float *parameter, const float *gradient, float *m, float *v, size_t count,
                     const cortado_vm_adam_step *step) {
    active()->adam(parameter, gradient, m, v, count, step);
}
