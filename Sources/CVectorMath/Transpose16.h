#ifndef CORTADO_TRANSPOSE16_H
#define CORTADO_TRANSPOSE16_H
// A 16 × 16 block of 32-bit words transposed in AVX-512 registers, shared by the GEMMs' packing of
// weight panels (Gemm16.c: pairs of 16-bit values; GemmInt8.c: groups of 4 bytes).
#if defined(__x86_64__)
#include <immintrin.h>

/// Transposes r[16] (row i = 16 words) in place: afterwards r[j] holds word j of every input row.
/// Pairs of rows, then quads, then 128-bit lanes.
__attribute__((target("avx512f"), always_inline)) static inline void cortado_transpose16_epi32(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 8] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xDD);
        t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 4], 0x88);
        r[i + 4] = _mm512_shuffle_i32x4(t[i + 8], t[i + 12], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 4], 0xDD);
        r[i + 12] = _mm512_shuffle_i32x4(t[i + 8], t[i + 12], 0xDD);
    }
}
#endif
#endif
