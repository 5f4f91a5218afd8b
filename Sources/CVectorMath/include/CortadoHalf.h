#ifndef CORTADO_HALF_H
#define CORTADO_HALF_H
// Bulk conversions between float32 and the 16-bit float types (IEEE half and bfloat16), with the
// processor's own instructions where it has them: AVX-512 `vcvtps2ph`/`vcvtph2ps`, AVX-512 BF16
// `vcvtneps2bf16`, F16C with AVX2, and portable C otherwise. Every level gives the same bits:
// - float32 → float16 rounds to nearest even; beyond the range gives ±∞; NaN stays NaN (quiet,
//   its top mantissa bits kept); subnormal halves are produced exactly.
// - float32 → bfloat16 is `vcvtneps2bf16`'s rule: round to nearest even, a zero or subnormal
//   input gives a zero of its sign, NaN keeps its top bits and becomes quiet.
// - widening is exact (subnormal halves and bfloat16 values included).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The conversion loops of one instruction-set level.
typedef struct {
    void (*f32_to_f16)(const float *x, uint16_t *y, size_t count);
    void (*f16_to_f32)(const uint16_t *x, float *y, size_t count);
    void (*f32_to_bf16)(const float *x, uint16_t *y, size_t count);
    void (*bf16_to_f32)(const uint16_t *x, float *y, size_t count);
} cortado_half_kernels;

/// The instruction-set levels of the conversions, narrowest first.
typedef enum {
    CORTADO_HALF_BASELINE = 0,
    CORTADO_HALF_AVX2_F16C = 1,
    CORTADO_HALF_AVX512 = 2,
    CORTADO_HALF_AVX512_BF16 = 3,
} cortado_half_level;

/// The widest level this processor runs.
cortado_half_level cortado_half_supported_level(void);

/// The loops of `level`, or NULL when the processor cannot run it (tests compare the levels).
const cortado_half_kernels *cortado_half_kernels_for(cortado_half_level level);

/// float32 → float16 bits, with the widest supported level.
void cortado_f32_to_f16(const float *x, uint16_t *y, size_t count);
/// float16 bits → float32.
void cortado_f16_to_f32(const uint16_t *x, float *y, size_t count);
/// float32 → bfloat16 bits.
void cortado_f32_to_bf16(const float *x, uint16_t *y, size_t count);
/// bfloat16 bits → float32.
void cortado_bf16_to_f32(const uint16_t *x, float *y, size_t count);

#ifdef __cplusplus
}
#endif

#endif
