// Elementwise kernels: copies, unary and binary functions, on contiguous or strided operands.
// Each function is written once as an expression and instantiated for both layouts, so the CPU
// backend's definitions in CPUBackend+Elementwise.swift are the only other place they appear.

#define SQRT1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

inline float gelu_f(float x) { return 0.5f * x * (1.0f + erf(x * SQRT1_2)); }
inline float gelu_grad_f(float x) {
    return 0.5f * (1.0f + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * exp(-0.5f * x * x);
}
inline float sign_f(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f); }

// --- copies (bit copies of 4-byte elements, any element type) ---------------------------------------

__kernel void copy_strided(__global const uint* src, int src_offset, int8 src_strides,
                           __global uint* dst, int dst_offset, int8 dst_strides, int8 shape, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    dst[dst_offset + strided_offset(i, shape, dst_strides)] =
        src[src_offset + strided_offset(i, shape, src_strides)];
}

// --- unary functions ------------------------------------------------------------------------------

#define UNARY_KERNELS(NAME, EXPR)                                                                   \
__kernel void unary_##NAME##_contiguous(__global const float* xs, int x_offset,                     \
                                        __global float* out, int out_offset, int n, float s) {      \
    int i = get_global_id(0);                                                                       \
    if (i >= n) return;                                                                             \
    float x = xs[x_offset + i];                                                                     \
    out[out_offset + i] = (EXPR);                                                                   \
}                                                                                                   \
__kernel void unary_##NAME##_strided(__global const float* xs, int x_offset, int8 x_strides,        \
                                     __global float* out, int out_offset, int8 out_strides,         \
                                     int8 shape, int n, float s) {                                  \
    int i = get_global_id(0);                                                                       \
    if (i >= n) return;                                                                             \
    float x = xs[x_offset + strided_offset(i, shape, x_strides)];                                   \
    out[out_offset + strided_offset(i, shape, out_strides)] = (EXPR);                               \
}

UNARY_KERNELS(identity, x)
UNARY_KERNELS(neg, -x)
UNARY_KERNELS(exp, exp(x))
UNARY_KERNELS(log, log(x))
UNARY_KERNELS(sqrt, sqrt(x))
UNARY_KERNELS(abs, fabs(x))
UNARY_KERNELS(relu, x < 0.0f ? 0.0f : x)
UNARY_KERNELS(sigmoid, 1.0f / (1.0f + exp(-x)))
UNARY_KERNELS(tanh, tanh(x))
UNARY_KERNELS(gelu, gelu_f(x))
UNARY_KERNELS(sign, sign_f(x))
UNARY_KERNELS(square, x * x)
UNARY_KERNELS(reciprocal, 1.0f / x)
UNARY_KERNELS(add_scalar, x + s)
UNARY_KERNELS(mul_scalar, x * s)
UNARY_KERNELS(pow_scalar, pow(x, s))
UNARY_KERNELS(rsub_scalar, s - x)
UNARY_KERNELS(rdiv_scalar, s / x)
UNARY_KERNELS(max_scalar, x < s ? s : x)
UNARY_KERNELS(min_scalar, x > s ? s : x)

// --- binary functions -----------------------------------------------------------------------------

#define BINARY_KERNELS(NAME, EXPR)                                                                  \
__kernel void binary_##NAME##_contiguous(__global const float* as, int a_offset,                    \
                                         __global const float* bs, int b_offset,                    \
                                         __global float* out, int out_offset, int n) {              \
    int i = get_global_id(0);                                                                       \
    if (i >= n) return;                                                                             \
    float a = as[a_offset + i];                                                                     \
    float b = bs[b_offset + i];                                                                     \
    out[out_offset + i] = (EXPR);                                                                   \
}                                                                                                   \
__kernel void binary_##NAME##_strided(__global const float* as, int a_offset, int8 a_strides,       \
                                      __global const float* bs, int b_offset, int8 b_strides,       \
                                      __global float* out, int out_offset, int8 out_strides,        \
                                      int8 shape, int n) {                                          \
    int i = get_global_id(0);                                                                       \
    if (i >= n) return;                                                                             \
    float a = as[a_offset + strided_offset(i, shape, a_strides)];                                   \
    float b = bs[b_offset + strided_offset(i, shape, b_strides)];                                   \
    out[out_offset + strided_offset(i, shape, out_strides)] = (EXPR);                               \
}

BINARY_KERNELS(add, a + b)
BINARY_KERNELS(sub, a - b)
BINARY_KERNELS(mul, a * b)
BINARY_KERNELS(div, a / b)
BINARY_KERNELS(pow, pow(a, b))
BINARY_KERNELS(maximum, fmax(a, b))
BINARY_KERNELS(minimum, fmin(a, b))
BINARY_KERNELS(equal, a == b ? 1.0f : 0.0f)
BINARY_KERNELS(not_equal, a != b ? 1.0f : 0.0f)
BINARY_KERNELS(less, a < b ? 1.0f : 0.0f)
BINARY_KERNELS(less_equal, a <= b ? 1.0f : 0.0f)
BINARY_KERNELS(greater, a > b ? 1.0f : 0.0f)
BINARY_KERNELS(greater_equal, a >= b ? 1.0f : 0.0f)
BINARY_KERNELS(relu_backward, b > 0.0f ? a : 0.0f)
BINARY_KERNELS(sigmoid_backward, a * b * (1.0f - b))
BINARY_KERNELS(tanh_backward, a * (1.0f - b * b))
BINARY_KERNELS(gelu_backward, a * gelu_grad_f(b))
