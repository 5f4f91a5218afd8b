#ifndef CORTADO_CVECTORMATH_H
#define CORTADO_CVECTORMATH_H
// Vectorised float loops for the CPU backend: exp, sigmoid, tanh and GELU (with its gradient),
// 2×2 max pooling and the Adam step. Each loop is compiled three times, for AVX-512, for AVX2 with
// FMA and for the baseline instruction set, and the widest one the processor supports is chosen on
// first use. Swift cannot compile one function for several instruction sets, which is why these
// live in C.

#include <stddef.h>
#include <stdint.h>

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

/// One compiled version of every loop (see the functions below for what each computes).
typedef struct {
    void (*exp)(const float *x, float *y, size_t count, float shift);
    void (*sigmoid)(const float *x, float *y, size_t count);
    void (*tanh)(const float *x, float *y, size_t count);
    void (*gelu)(const float *x, float *y, size_t count);
    void (*gelu_backward)(const float *grad, const float *x, float *y, size_t count);
    void (*max_pool_2x2)(const float *x, float *y, int32_t *indices, size_t planes, size_t height, size_t width,
                         size_t out_height, size_t out_width);
    void (*adam)(float *parameter, const float *gradient, float *m, float *v, size_t count,
                 const cortado_vm_adam_step *step);
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

/// Max pooling with a 2×2 window, stride 2 and no padding over `planes` row-major planes of
/// `height` × `width`: y[p][oy][ox] is the largest of the window at (2·oy, 2·ox), and indices[p][oy][ox]
/// its position in the plane (the first maximum in row-major order; a NaN wins, the first one).
/// `out_height` ≤ height / 2 and `out_width` ≤ width / 2. Branch-free: the scalar loop it replaced
/// ran twice as long on a convolution's mixed-sign output as on a ReLU's, from mispredictions.
void cortado_vm_max_pool_2x2(const float *x, float *y, int32_t *indices, size_t planes, size_t height, size_t width,
                             size_t out_height, size_t out_width);

/// One Adam step in place: with w = parameter · (1 − decay) and g = gradient + l2 · w,
/// m = beta1·m + (1 − beta1)·g, v = beta2·v + (1 − beta2)·g², parameter = w − step_size · m /
/// (√v / bias_correction2 + epsilon).
void cortado_vm_adam(float *parameter, const float *gradient, float *m, float *v, size_t count,
                     const cortado_vm_adam_step *step);

#ifdef __cplusplus
}
#endif

#endif
