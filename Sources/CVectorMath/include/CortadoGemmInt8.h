#ifndef CORTADO_GEMM_INT8_H
#define CORTADO_GEMM_INT8_H
// Matrix products of int8 operands with int32 accumulation, for quantised inference:
//
//     C[i][j] = Σ_b (Σ_{p in block b} A[i][p] · W[j][p]) · a_scale[i][b] · w_scale[j][b] + bias[j]
//
// A (activations, [m][k]) and W (weights, [n][k]: one output channel per row, as a Linear layer's
// weight) are symmetric int8; the scales are float32, one per row and block of `block` values of k
// (block = k: one per row, the per-output-channel scheme; block = 32: ggml's Q8_0). C is float32.
//
// Four paths, chosen by CPUID on first use (or by `cortado_qgemm_set_path`):
// - AVX-512 VNNI: `vpdpbusd` (u8 × s8 → s32). W is made unsigned by adding 128 while it is packed,
//   and 128 · Σ A[i][p] is subtracted per row and block. One scale per row (per output channel):
//   12 × 32 tiles of C in 24 int32 accumulators; Q8_0 blocks: 6 × 32 tiles, their float32 sums beside.
// - AVX-512 BW without VNNI: both operands widened to int16 and multiplied by `vpmaddwd` (s16 × s16
//   pairs → s32), which cannot saturate, unlike `vpmaddubsw` (u8 × s8 pairs summed into s16).
// - AVX2 without AVX-512: the same `vpmaddwd` products in 256-bit registers.
// - plain C, for any other processor.
// Every path computes the same integers exactly (|A|, |W| ≤ 127 and k < 2^17 keep the sums inside
// int32), so the paths differ only in the order of float32 operations of the output stage.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One product. Strides are in elements; rows of A, W and C are contiguous.
typedef struct {
    const int8_t *a;
    ptrdiff_t a_row;
    /// [m][blocks] with blocks = ⌈k / block⌉.
    const float *a_scales;
    const int8_t *w;
    ptrdiff_t w_row;
    /// [n][blocks].
    const float *w_scales;
    /// [n], or NULL for none.
    const float *bias;
    float *c;
    ptrdiff_t c_row;
    size_t m, n, k;
    /// Values of k per scale: k (one scale per row) or a multiple of 4.
    size_t block;
} cortado_qgemm;

/// The ways a product can run.
typedef enum {
    /// The fastest this processor has (the default).
    CORTADO_QGEMM_AUTO = 0,
    /// AVX-512 VNNI `vpdpbusd`.
    CORTADO_QGEMM_VNNI = 1,
    /// AVX-512 BW `vpmaddwd` on operands widened to int16.
    CORTADO_QGEMM_MADDWD = 2,
    /// Portable C.
    CORTADO_QGEMM_PLAIN = 3,
    /// AVX2 `vpmaddwd` on operands widened to int16 (processors without AVX-512).
    CORTADO_QGEMM_AVX2 = 4,
} cortado_qgemm_path;

/// Whether this processor runs `path` (AUTO and PLAIN always).
int cortado_qgemm_path_available(cortado_qgemm_path path);

/// The path products run on now (never AUTO).
cortado_qgemm_path cortado_qgemm_current_path(void);

/// Chooses the path (tests and benchmarks compare them); an unavailable one falls back to AUTO. The
/// row quantisers follow it too (AVX-512 for VNNI and MADDWD, AVX2, or plain C).
void cortado_qgemm_set_path(cortado_qgemm_path path);

/// Bytes of scratch memory `cortado_qgemm_columns` needs (64-byte aligned by the caller).
size_t cortado_qgemm_scratch_bytes(const cortado_qgemm *g);

/// Computes columns [n0, n1) of C (callers split n between threads, each with its own scratch).
void cortado_qgemm_columns(const cortado_qgemm *g, size_t n0, size_t n1, void *scratch);

/// Symmetric int8 quantisation of rows [r0, r1) of x ([rows][k], row stride x_row): per row and
/// block of `block` values, scale = max |x| / 127 and q = round(x / scale) (to nearest even),
/// clamped to [−127, 127]; an all-zero block has scale 0 and zeros. q is [rows][k] (row stride
/// k), scales [rows][⌈k / block⌉]. Non-finite values give a non-finite scale.
void cortado_quantize_rows(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                           int8_t *q, float *scales);

/// The same, with two options (each NULL for none):
/// - `fixed` ([blocks] static scales, from calibration): block b of every row uses fixed[b], values
///   past ±127 · fixed[b] saturate, and scales[row][b] = fixed[b], or NaN when the block holds a NaN
///   (so the product is NaN there, as with dynamic scales). A fixed scale that is not positive and
///   finite gives zeros.
/// - `mul` ([k] column multipliers, SmoothQuant's smoothing): x[row][p] · mul[p] is quantised in place
///   of x[row][p].
void cortado_quantize_rows_scaled(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                                  const float *fixed, const float *mul, int8_t *q, float *scales);

#ifdef __cplusplus
}
#endif

#endif
