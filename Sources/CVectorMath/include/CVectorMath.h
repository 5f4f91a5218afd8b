#ifndef CORTADO_CVECTORMATH_H
#define CORTADO_CVECTORMATH_H
// Vectorised float loops for the CPU backend: exp, sigmoid, tanh and GELU (with its gradient), the
// LSTM and GRU step cells, 2×2 max pooling, Philox random numbers, the Adam step and the small
// GEMM of recurrent steps. Each loop is compiled three times, for AVX-512, for AVX2 with FMA and
// for the baseline instruction set, and the widest one the processor supports is chosen on first
// use. Swift cannot compile one function for several instruction sets, which is why these live in C.

#include <stddef.h>
#include <stdint.h>

#include "CortadoHalf.h"
#include "CortadoGemm16.h"
#include "CortadoGemmInt8.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction sets the loops are compiled for, narrowest first.
typedef enum {
    CORTADO_VM_BASELINE = 0,
    CORTADO_VM_AVX2_FMA = 1,
    CORTADO_VM_AVX512 = 2,
} cortado_vm_level;

/// The widest level this processor runs (`CORTADO_VM_BASELINE` off x86-64).
cortado_vm_level cortado_vm_supported_level(void);

/// The constants of one Adam (AdamW) step; see `cortado_vm_adam`.
typedef struct {
    float beta1, beta2, epsilon;
    /// lr / (1 − beta1ᵗ).
    float step_size;
    /// √(1 − beta2ᵗ).
    float bias_correction2;
    /// Adam's L2 term, added to the gradient.
    float l2;
    /// AdamW's decoupled decay: lr · weight decay.
    float decay;
} cortado_vm_adam_step;

/// One LSTM step's cell for a range of batch rows (the step formulas of Kernels/recurrent.cl). Per
/// row b, with z = projected[b][step] + recurrent[b] split into the i, f, g, o quarters:
/// i, f, o = σ(z), g = tanh(z), c = f·c_prev + i·g, h = o·tanh(c); a row whose mask entry is 0
/// keeps its previous states. Saves (i, f, g, o) in gates[b] and writes h to outputs[b][step].
typedef struct {
    const float *projected;   ///< [batch, steps, 4·hidden]: x·W_ihᵀ + both biases
    const float *recurrent;   ///< [batch, 4·hidden]: h_prev·W_hhᵀ
    const float *h_prev, *c_prev;  ///< [batch, hidden]
    const float *mask;        ///< [batch, steps], or NULL for no padding
    float *gates;             ///< [batch, 4·hidden]
    float *h_next, *c_next;   ///< [batch, hidden]
    float *outputs;           ///< [batch, steps, hidden]
    size_t step, steps, hidden;
} cortado_vm_lstm_forward_step;

/// The LSTM step's backward for a range of batch rows: from the saved gates, the output gradient of
/// this step plus the carried state gradients, the gate gradients (written to d_gates_by_step[step][b]
/// and d_projected[b][step]) and the state gradients carried to the previous step.
typedef struct {
    const float *gates;       ///< [batch, 4·hidden], as the forward saved them
    const float *c_prev;      ///< [batch, hidden]
    const float *d_outputs;   ///< [batch, steps, hidden]
    const float *dh_carry, *dc_carry;  ///< [batch, hidden]
    const float *mask;        ///< [batch, steps], or NULL
    float *d_gates_by_step;   ///< [steps, batch, 4·hidden]
    float *d_projected;       ///< [batch, steps, 4·hidden]
    float *dh_prev, *dc_prev; ///< [batch, hidden]
    size_t step, steps, batch, hidden;
} cortado_vm_lstm_backward_step;

/// One GRU step's cell for a range of batch rows (PyTorch's formulation): with the r, z, n thirds,
/// r = σ(x_r + h_r + b_r), z = σ(x_z + h_z + b_z), n = tanh(x_n + r·(h_n + b_n)),
/// h = (1 − z)·n + z·h_prev (h_prev where the mask is 0). Saves (r, z, n, h_n + b_n) in saved[b].
typedef struct {
    const float *projected;   ///< [batch, steps, 3·hidden]: x·W_ihᵀ + b_ih
    const float *recurrent;   ///< [batch, 3·hidden]: h_prev·W_hhᵀ
    const float *bias_hh;     ///< [3·hidden]
    const float *h_prev;      ///< [batch, hidden]
    const float *mask;        ///< [batch, steps], or NULL
    float *saved;             ///< [batch, 4·hidden]
    float *h_next;            ///< [batch, hidden]
    float *outputs;           ///< [batch, steps, hidden]
    size_t step, steps, hidden;
} cortado_vm_gru_forward_step;

/// One compiled version of every loop (see the functions below for what each computes).
typedef struct {
    void (*exp)(const float *x, float *y, size_t count, float shift);
    void (*sigmoid)(const float *x, float *y, size_t count);
    void (*tanh)(const float *x, float *y, size_t count);
    void (*gelu)(const float *x, float *y, size_t count);
    void (*gelu_backward)(const float *grad, const float *x, float *y, size_t count);
    void (*lstm_forward)(const cortado_vm_lstm_forward_step *step, size_t first_row, size_t rows);
    void (*lstm_backward)(const cortado_vm_lstm_backward_step *step, size_t first_row, size_t rows);
    void (*gru_forward)(const cortado_vm_gru_forward_step *step, size_t first_row, size_t rows);
    void (*max_pool_2x2)(const float *x, float *y, int32_t *indices, size_t planes, size_t height, size_t width,
                         size_t out_height, size_t out_width);
    void (*philox)(float *out, size_t count, uint64_t seed, uint64_t counter, int bernoulli, float a, float b);
    void (*adam)(float *parameter, const float *gradient, float *m, float *v, size_t count,
                 const cortado_vm_adam_step *step);
    void (*gemm_packed)(const float *a, size_t lda, size_t rows, const float *packed, size_t k, size_t n, float *c,
                        size_t ldc, int accumulate);
    void (*max_pool_2x2_backward)(const float *dy, const int32_t *indices, float *dx, size_t planes, size_t height,
                                  size_t width, size_t out_height, size_t out_width);
    void (*max_pool_2x2_16)(const uint16_t *x, uint16_t *y, int32_t *indices, int bfloat16, size_t planes,
                            size_t height, size_t width, size_t out_height, size_t out_width);
    void (*max_pool_2x2_backward_16)(const uint16_t *dy, const int32_t *indices, uint16_t *dx, int bfloat16,
                                     size_t planes, size_t height, size_t width, size_t out_height, size_t out_width);
} cortado_vm_kernels;

/// The version compiled for `level`, or NULL when this processor cannot run it. The functions
/// below use the supported level's; tests use this to check every version against one reference.
const cortado_vm_kernels *cortado_vm_kernels_for(cortado_vm_level level);

/// y[i] = exp(x[i] − shift). Relative error ≤ 3e-7 against the exact function; below −87.3 the
/// result flushes to 0, above 88.7 it is +∞; NaN stays NaN. `x` and `y` may be the same array.
void cortado_vm_exp(const float *x, float *y, size_t count, float shift);

/// y[i] = 1 / (1 + exp(−x[i])).
void cortado_vm_sigmoid(const float *x, float *y, size_t count);

/// y[i] = tanh(x[i]).
void cortado_vm_tanh(const float *x, float *y, size_t count);

/// y[i] = x[i] · Φ(x[i]) = x/2 · (1 + erf(x/√2)), the exact GELU of BERT.
void cortado_vm_gelu(const float *x, float *y, size_t count);

/// y[i] = grad[i] · GELU′(x[i]), where GELU′(x) = Φ(x) + x · φ(x).
void cortado_vm_gelu_backward(const float *grad, const float *x, float *y, size_t count);

/// `cortado_vm_lstm_forward_step`'s cell for rows first_row ..< first_row + rows.
void cortado_vm_lstm_forward(const cortado_vm_lstm_forward_step *step, size_t first_row, size_t rows);

/// `cortado_vm_lstm_backward_step`'s gradients for rows first_row ..< first_row + rows.
void cortado_vm_lstm_backward(const cortado_vm_lstm_backward_step *step, size_t first_row, size_t rows);

/// `cortado_vm_gru_forward_step`'s cell for rows first_row ..< first_row + rows.
void cortado_vm_gru_forward(const cortado_vm_gru_forward_step *step, size_t first_row, size_t rows);

/// Max pooling with a 2×2 window, stride 2 and no padding over `planes` row-major planes of
/// `height` × `width`: y[p][oy][ox] is the largest of the window at (2·oy, 2·ox), and indices[p][oy][ox]
/// its position in the plane (the first maximum in row-major order; a NaN wins, the first one).
/// `out_height` ≤ height / 2 and `out_width` ≤ width / 2. Branch-free: the scalar loop it replaced
/// ran twice as long on a convolution's mixed-sign output as on a ReLU's, from mispredictions.
void cortado_vm_max_pool_2x2(const float *x, float *y, int32_t *indices, size_t planes, size_t height, size_t width,
                             size_t out_height, size_t out_width);

/// The gradient of `cortado_vm_max_pool_2x2`: dx[p][indices[p][o]] = dy[p][o] for every output o
/// of plane p, and 0 everywhere else (rows and columns no window covers included). Writes every
/// element of dx once, without clearing it first.
void cortado_vm_max_pool_2x2_backward(const float *dy, const int32_t *indices, float *dx, size_t planes, size_t height,
                                      size_t width, size_t out_height, size_t out_width);

/// `cortado_vm_max_pool_2x2` over 16-bit planes (bfloat16 when `bfloat16` is non-zero, else
/// float16), compared as floats without a float32 copy: the same maxima, indices and NaN rule, and
/// the same bits as widening the planes, pooling them and rounding the result back (a NaN becomes
/// the type's quiet NaN, a bfloat16 subnormal a signed zero, as the conversions do).
void cortado_vm_max_pool_2x2_16(const uint16_t *x, uint16_t *y, int32_t *indices, int bfloat16, size_t planes,
                                size_t height, size_t width, size_t out_height, size_t out_width);

/// `cortado_vm_max_pool_2x2_backward` over 16-bit gradients: each routed value has the bits that
/// widening it and rounding it back gives (NaNs quieted, bfloat16 subnormals flushed), every other
/// element +0.
void cortado_vm_max_pool_2x2_backward_16(const uint16_t *dy, const int32_t *indices, uint16_t *dx, int bfloat16,
                                         size_t planes, size_t height, size_t width, size_t out_height,
                                         size_t out_width);

/// Philox-4x32-10 floats, the stream of Kernels/random.cl: out[4·i + j] comes from word j of the
/// block for counter + i under key `seed`, u = (word >> 8) · 2⁻²⁴. With `bernoulli` 0 each float
/// is a + (b − a)·u (uniform on [a, b)); otherwise it is b when u < a, else 0 (a mask of keep
/// probability a and value b). A partial last block uses its first words.
void cortado_vm_philox(float *out, size_t count, uint64_t seed, uint64_t counter, int bernoulli, float a, float b);

/// One Adam step in place: with w = parameter · (1 − decay) and g = gradient + l2 · w,
/// m = beta1·m + (1 − beta1)·g, v = beta2·v + (1 − beta2)·g², parameter = w − step_size · m /
/// (√v / bias_correction2 + epsilon).
void cortado_vm_adam(float *parameter, const float *gradient, float *m, float *v, size_t count,
                     const cortado_vm_adam_step *step);

/// Floats that `cortado_vm_pack_panels` writes for a k × n matrix: n rounded up to 32, times k.
size_t cortado_vm_packed_count(size_t k, size_t n);

/// Packs the k × n matrix B, whose element (i, j) is b[i · row_stride + j · column_stride], into
/// panels of 32 columns for `cortado_vm_gemm_packed`: panel p holds columns 32·p ..< 32·p + 32,
/// row by row, zero-padded past column n.
void cortado_vm_pack_panels(const float *b, size_t row_stride, size_t column_stride, size_t k, size_t n,
                            float *packed);

/// C = A · B, or C += A · B when `accumulate` is non-zero, for the rows × k matrix A (row-major,
/// row stride `lda`), B packed by `cortado_vm_pack_panels`, and C rows × n (row stride `ldc`). For
/// the small products of a recurrent layer's steps, where packing B once for the whole sequence
/// saves what a general GEMM spends repacking it at every call. Each element's sum runs over i in
/// order, so a row's result does not depend on which other rows are computed with it.
void cortado_vm_gemm_packed(const float *a, size_t lda, size_t rows, const float *packed, size_t k, size_t n, float *c,
                            size_t ldc, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
