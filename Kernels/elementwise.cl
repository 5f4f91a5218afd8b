// Elementwise kernels: unary and binary functions, on contiguous or strided operands, built per
// storage type (STORAGE, see storage.cl: operands are read with LOAD and written with STORE, the
// arithmetic is in float). Each function is written once as an expression and instantiated for both
// layouts, so the CPU backend's definitions in CPUBackend+Elementwise.swift are the only other place
// they appear. Copies and conversions are in copy.cl.

// Strided operands are described by `int8` vectors: components s0…s5 hold the extent (shape) or the
// element step (strides) of up to six dimensions, outermost first; s6 and s7 are unused. The host
// merges dimensions before launching, so most launches use only the last one or two.
//
// Strided kernels run on a 3-D range: id 1 walks the second-innermost dimension (s4), id 2 the
// remaining outer dimensions flattened (only those need integer division). How the innermost
// dimension (s5) is covered depends on the device type (build option STRIDED_ROWS):
//   0 (GPUs): id 0 walks it, one element per work-item, so neighbouring items touch neighbouring
//     addresses;
//   1 (CPU-type devices): id 0 has extent 1 and each work-item loops over a whole row, which the
//     compiler vectorises when the row is contiguous.

// The element offset of (x, y, z) in an operand with `strides`.
inline int strided_offset_at(int x, int y, int z, int8 shape, int8 strides) {
    int offset = x * strides.s5 + y * strides.s4;
    int c;
    c = z % shape.s3; z /= shape.s3; offset += c * strides.s3;
    c = z % shape.s2; z /= shape.s2; offset += c * strides.s2;
    c = z % shape.s1; z /= shape.s1; offset += c * strides.s1;
    return offset + z * strides.s0;
}

// True for the padding work-items of a strided launch.
inline bool strided_outside(int8 shape) {
    return get_global_id(0) >= (STRIDED_ROWS ? 1 : shape.s5) || get_global_id(1) >= shape.s4;
}

// The offset of this work-item's element (STRIDED_ROWS = 0) or row start (STRIDED_ROWS = 1).
inline int strided_offset(int8 shape, int8 strides) {
    return strided_offset_at(get_global_id(0), get_global_id(1), get_global_id(2), shape, strides);
}

// Contiguous kernels: each work-item takes PER_ITEM elements, one global size apart, so
// neighbouring items stay on neighbouring addresses; the host builds 16-bit types on GPUs with 4,
// which keeps more bytes in flight per work-item than one 2-byte element does.
#ifndef PER_ITEM
#define PER_ITEM 1
#endif

// Vector kernels (GPU builds, VECTOR_WIDTH > 1: 16 bytes of the storage type, 4 floats or 8 16-bit
// values): work-item i < n / W takes elements [i·W, i·W + W) with one aligned access per operand
// (the host launches them only when every operand's offset is a multiple of W), the items after
// them the n mod W tail elements one each. A warp then moves 16 bytes a lane per instruction, as
// PyTorch's vectorised elementwise loop does, instead of 2 or 4.
#ifndef VECTOR_WIDTH
#define VECTOR_WIDTH 1
#endif
#if VECTOR_WIDTH > 1
#define TO_LANES(v, lanes) CORTADO_XCAT(vstore, VECTOR_WIDTH)(v, 0, lanes)
#define FROM_LANES(lanes) CORTADO_XCAT(vload, VECTOR_WIDTH)(0, lanes)
// KERNEL is the whole name, pasted by the caller: passed on alone, a NAME such as exp or abs would be
// expanded first, and OpenCL implementations may define those as macros.
#define UNARY_VECTOR_KERNEL(KERNEL, EXPR)                                                           \
__kernel void KERNEL(__global const storage_t* xs, int x_offset,                                   \
                     __global storage_t* out, int out_offset, int n, float s) {                     \
    int i = get_global_id(0), vectors = n / VECTOR_WIDTH;                                           \
    if (i < vectors) {                                                                              \
        float xl[VECTOR_WIDTH], ol[VECTOR_WIDTH];                                                   \
        TO_LANES(LOADA(VECTOR_WIDTH, xs + x_offset + i * VECTOR_WIDTH), xl);                        \
        for (int k = 0; k < VECTOR_WIDTH; ++k) { float x = xl[k]; ol[k] = (EXPR); }                 \
        STOREA(VECTOR_WIDTH, FROM_LANES(ol), out + out_offset + i * VECTOR_WIDTH);                  \
    } else {                                                                                        \
        int j = vectors * VECTOR_WIDTH + (i - vectors);                                             \
        if (j < n) { float x = LOAD(xs, x_offset + j); STORE(out, out_offset + j, (EXPR)); }        \
    }                                                                                               \
}
#define BINARY_VECTOR_KERNEL(KERNEL, EXPR)                                                          \
__kernel void KERNEL(__global const storage_t* as, int a_offset,                                   \
                     __global const storage_t* bs, int b_offset,                                   \
                     __global storage_t* out, int out_offset, int n) {                              \
    int i = get_global_id(0), vectors = n / VECTOR_WIDTH;                                           \
    if (i < vectors) {                                                                              \
        float al[VECTOR_WIDTH], bl[VECTOR_WIDTH], ol[VECTOR_WIDTH];                                 \
        TO_LANES(LOADA(VECTOR_WIDTH, as + a_offset + i * VECTOR_WIDTH), al);                        \
        TO_LANES(LOADA(VECTOR_WIDTH, bs + b_offset + i * VECTOR_WIDTH), bl);                        \
        for (int k = 0; k < VECTOR_WIDTH; ++k) { float a = al[k]; float b = bl[k]; ol[k] = (EXPR); } \
        STOREA(VECTOR_WIDTH, FROM_LANES(ol), out + out_offset + i * VECTOR_WIDTH);                  \
    } else {                                                                                        \
        int j = vectors * VECTOR_WIDTH + (i - vectors);                                             \
        if (j < n) {                                                                                \
            float a = LOAD(as, a_offset + j); float b = LOAD(bs, b_offset + j);                     \
            STORE(out, out_offset + j, (EXPR));                                                     \
        }                                                                                           \
    }                                                                                               \
}
#else
#define UNARY_VECTOR_KERNEL(KERNEL, EXPR)
#define BINARY_VECTOR_KERNEL(KERNEL, EXPR)
#endif

#define SQRT1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

inline float gelu_f(float x) { return 0.5f * x * (1.0f + erf(x * SQRT1_2)); }
inline float gelu_grad_f(float x) {
    return 0.5f * (1.0f + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * exp(-0.5f * x * x);
}
inline float sign_f(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f); }

// --- the per-work-item body of strided kernels ---------------------------------------------------
// One element (GPUs), or a row with unit-stride and broadcast (stride-0) cases split out so the
// compiler vectorises them (CPU-type devices).

#if STRIDED_ROWS
#define STRIDED_LOOP_1(EXPR)                                                                        \
    int n = shape.s5, sx = x_strides.s5, so = out_strides.s5;                                      \
    if (sx == 1 && so == 1) {                                                                       \
        for (int i = 0; i < n; ++i) { float x = LOAD(xp, i); STORE(op, i, (EXPR)); }               \
    } else {                                                                                        \
        for (int i = 0; i < n; ++i) { float x = LOAD(xp, i * sx); STORE(op, i * so, (EXPR)); }     \
    }
#define STRIDED_LOOP_2(EXPR)                                                                        \
    int n = shape.s5, sa = a_strides.s5, sb = b_strides.s5, so = out_strides.s5;                   \
    if (sa == 1 && sb == 1 && so == 1) {                                                            \
        for (int i = 0; i < n; ++i) { float a = LOAD(ap, i); float b = LOAD(bp, i); STORE(op, i, (EXPR)); } \
    } else if (sa == 1 && sb == 0 && so == 1) {                                                     \
        float b = LOAD(bp, 0);                                                                      \
        for (int i = 0; i < n; ++i) { float a = LOAD(ap, i); STORE(op, i, (EXPR)); }               \
    } else if (sa == 0 && sb == 1 && so == 1) {                                                     \
        float a = LOAD(ap, 0);                                                                      \
        for (int i = 0; i < n; ++i) { float b = LOAD(bp, i); STORE(op, i, (EXPR)); }               \
    } else {                                                                                        \
        for (int i = 0; i < n; ++i) {                                                               \
            float a = LOAD(ap, i * sa); float b = LOAD(bp, i * sb); STORE(op, i * so, (EXPR));      \
        }                                                                                           \
    }
#else
#define STRIDED_LOOP_1(EXPR) { float x = LOAD(xp, 0); STORE(op, 0, (EXPR)); }
#define STRIDED_LOOP_2(EXPR) { float a = LOAD(ap, 0); float b = LOAD(bp, 0); STORE(op, 0, (EXPR)); }
#endif

// --- unary functions ------------------------------------------------------------------------------

#define UNARY_KERNELS(NAME, EXPR)                                                                   \
__kernel void unary_##NAME##_contiguous(__global const storage_t* xs, int x_offset,                 \
                                        __global storage_t* out, int out_offset, int n, float s) {  \
    long step = get_global_size(0), i = get_global_id(0);                                           \
    for (int k = 0; k < PER_ITEM && i < n; ++k, i += step) {                                        \
        float x = LOAD(xs, x_offset + i);                                                           \
        STORE(out, out_offset + i, (EXPR));                                                         \
    }                                                                                               \
}                                                                                                   \
__kernel void unary_##NAME##_strided(__global const storage_t* xs, int x_offset, int8 x_strides,    \
                                     __global storage_t* out, int out_offset, int8 out_strides,     \
                                     int8 shape, float s) {                                         \
    if (strided_outside(shape)) return;                                                             \
    __global const storage_t* xp = xs + x_offset + strided_offset(shape, x_strides);                \
    __global storage_t* op = out + out_offset + strided_offset(shape, out_strides);                 \
    STRIDED_LOOP_1(EXPR)                                                                            \
}                                                                                                   \
UNARY_VECTOR_KERNEL(unary_##NAME##_vector, EXPR)

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
UNARY_KERNELS(greater_equal_scalar, x >= s ? 1.0f : 0.0f)

// --- binary functions -----------------------------------------------------------------------------

#define BINARY_KERNELS(NAME, EXPR)                                                                  \
__kernel void binary_##NAME##_contiguous(__global const storage_t* as, int a_offset,                \
                                         __global const storage_t* bs, int b_offset,                \
                                         __global storage_t* out, int out_offset, int n) {          \
    long step = get_global_size(0), i = get_global_id(0);                                           \
    for (int k = 0; k < PER_ITEM && i < n; ++k, i += step) {                                        \
        float a = LOAD(as, a_offset + i);                                                           \
        float b = LOAD(bs, b_offset + i);                                                           \
        STORE(out, out_offset + i, (EXPR));                                                         \
    }                                                                                               \
}                                                                                                   \
__kernel void binary_##NAME##_strided(__global const storage_t* as, int a_offset, int8 a_strides,   \
                                      __global const storage_t* bs, int b_offset, int8 b_strides,   \
                                      __global storage_t* out, int out_offset, int8 out_strides,    \
                                      int8 shape) {                                                 \
    if (strided_outside(shape)) return;                                                             \
    __global const storage_t* ap = as + a_offset + strided_offset(shape, a_strides);                \
    __global const storage_t* bp = bs + b_offset + strided_offset(shape, b_strides);                \
    __global storage_t* op = out + out_offset + strided_offset(shape, out_strides);                 \
    STRIDED_LOOP_2(EXPR)                                                                            \
}                                                                                                   \
BINARY_VECTOR_KERNEL(binary_##NAME##_vector, EXPR)

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
