// float32 ↔ float16 / bfloat16 conversions, one set of loops per instruction-set level, the widest
// supported one chosen on first use. See CortadoHalf.h for the rounding rules all levels share.
#include "CortadoHalf.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// --- portable scalar rules (the reference every level matches) ------------------------------------

static inline uint32_t float_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

static inline float bits_float(uint32_t x) {
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static inline uint16_t half_from_float(float f) {
    uint32_t x = float_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t abs = x & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // quiet NaN
    if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // ≥ 65520 rounds to ∞
    if (abs >= 0x38800000u) {                                  // a normal half (≥ 2⁻¹⁴)
        uint32_t rounded = abs + 0x0FFFu + ((abs >> 13) & 1u);
        return (uint16_t)(sign | ((rounded - 0x38000000u) >> 13));
    }
    // A subnormal half: round(value · 2²⁴) to nearest even.
    uint32_t exponent = abs >> 23;
    if (exponent < 102) return (uint16_t)sign;  // below 2⁻²⁵: zero
    uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126 - exponent;  // 14…24
    uint32_t quotient = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (quotient & 1u))) quotient += 1;
    return (uint16_t)(sign | quotient);
}

static inline float float_from_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu;
    uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0x1F) return bits_float(sign | 0x7F800000u | (mantissa ? 0x400000u | (mantissa << 13) : 0));
    if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Branch-free, so the compiler vectorises the loops below for each target.
static inline uint16_t bfloat16_from_bits(uint32_t x) {
    uint32_t abs = x & 0x7FFFFFFFu;
    uint32_t rounded = (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16;
    uint32_t nan = (x >> 16) | 0x40u;
    uint32_t zero = (x >> 16) & 0x8000u;
    uint32_t r = abs > 0x7F800000u ? nan : rounded;
    r = abs < 0x00800000u ? zero : r;
    return (uint16_t)r;
}

// --- one set of plain loops per target (the compiler vectorises the bfloat16 ones) ----------------

#define PLAIN_LOOPS(TARGET, PREFIX)                                                                 \
    TARGET static void PREFIX##_f32_to_f16(const float *x, uint16_t *y, size_t n) {                  \
        for (size_t i = 0; i < n; ++i) y[i] = half_from_float(x[i]);                                 \
    }                                                                                               \
    TARGET static void PREFIX##_f16_to_f32(const uint16_t *x, float *y, size_t n) {                  \
        for (size_t i = 0; i < n; ++i) y[i] = float_from_half(x[i]);                                 \
    }                                                                                               \
    TARGET static void PREFIX##_f32_to_bf16(const float *x, uint16_t *y, size_t n) {                 \
        const uint32_t *bits = (const uint32_t *)(const void *)x;                                    \
        for (size_t i = 0; i < n; ++i) y[i] = bfloat16_from_bits(bits[i]);                           \
    }                                                                                               \
    TARGET static void PREFIX##_bf16_to_f32(const uint16_t *x, float *y, size_t n) {                 \
        uint32_t *bits = (uint32_t *)(void *)y;                                                      \
        for (size_t i = 0; i < n; ++i) bits[i] = (uint32_t)x[i] << 16;                               \
    }

PLAIN_LOOPS(, baseline)
static const cortado_half_kernels baseline_kernels = {
    baseline_f32_to_f16, baseline_f16_to_f32, baseline_f32_to_bf16, baseline_bf16_to_f32};

#if defined(__x86_64__)
#define AVX2_TARGET __attribute__((target("avx2,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

PLAIN_LOOPS(AVX2_TARGET, avx2)
PLAIN_LOOPS(AVX512_TARGET, avx512)

AVX2_TARGET static void avx2_f16c_f32_to_f16(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(void *)(y + i), h);
    }
    for (; i < n; ++i) y[i] = half_from_float(x[i]);
}

AVX2_TARGET static void avx2_f16c_f16_to_f32(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i))));
    }
    for (; i < n; ++i) y[i] = float_from_half(x[i]);
}

AVX512_TARGET static void avx512_f16_f32_to_f16(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(void *)(y + i), h);
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1u);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mask, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(y + i, mask, h);
    }
}

AVX512_TARGET static void avx512_f16_f16_to_f32(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(x + i))));
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, x + i)));
    }
}

BF16_TARGET static void avx512bf16_f32_to_bf16(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        _mm256_storeu_si256((__m256i *)(void *)(y + i), (__m256i)h);
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1u);
        __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, x + i));
        _mm256_mask_storeu_epi16(y + i, mask, (__m256i)h);
    }
}

static const cortado_half_kernels avx2_kernels = {
    avx2_f16c_f32_to_f16, avx2_f16c_f16_to_f32, avx2_f32_to_bf16, avx2_bf16_to_f32};
static const cortado_half_kernels avx512_kernels = {
    avx512_f16_f32_to_f16, avx512_f16_f16_to_f32, avx512_f32_to_bf16, avx512_bf16_to_f32};
static const cortado_half_kernels avx512bf16_kernels = {
    avx512_f16_f32_to_f16, avx512_f16_f16_to_f32, avx512bf16_f32_to_bf16, avx512_bf16_to_f32};
#endif

cortado_half_level cortado_half_supported_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        return __builtin_cpu_supports("avx512bf16") ? CORTADO_HALF_AVX512_BF16 : CORTADO_HALF_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) return CORTADO_HALF_AVX2_F16C;
#endif
    return CORTADO_HALF_BASELINE;
}

const cortado_half_kernels *cortado_half_kernels_for(cortado_half_level level) {
    if (level > cortado_half_supported_level()) return NULL;
#if defined(__x86_64__)
    switch (level) {
    case CORTADO_HALF_AVX512_BF16: return &avx512bf16_kernels;
    case CORTADO_HALF_AVX512: return &avx512_kernels;
    case CORTADO_HALF_AVX2_F16C: return &avx2_kernels;
    default: break;
    }
#endif
    return &baseline_kernels;
}

static const cortado_half_kernels *chosen_half = NULL;

static const cortado_half_kernels *active_half(void) {
    const cortado_half_kernels *kernels = __atomic_load_n(&chosen_half, __ATOMIC_ACQUIRE);
    if (kernels == NULL) {
        kernels = cortado_half_kernels_for(cortado_half_supported_level());
        __atomic_store_n(&chosen_half, kernels, __ATOMIC_RELEASE);
    }
    return kernels;
}

void cortado_f32_to_f16(const float *x, uint16_t *y, size_t n) { active_half()->f32_to_f16(x, y, n); }
void cortado_f16_to_f32(const uint16_t *x, float *y, size_t n) { active_half()->f16_to_f32(x, y, n); }
void cortado_f32_to_bf16(const float *x, uint16_t *y, size_t n) { active_half()->f32_to_bf16(x, y, n); }
void cortado_bf16_to_f32(const uint16_t *x, float *y, size_t n) { active_half()->bf16_to_f32(x, y, n); }
