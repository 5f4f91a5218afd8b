// cortado_vm_gemm_packed for AVX2 + FMA, in tiles of 6 rows × 16 columns (half of a 32-column
// panel): 12 ymm accumulators, two for the panel's row and one for A's broadcast fill the 16
// registers. The 4 × 32 tile that VectorMathKernels.h writes for every instruction set needs 16
// accumulators alone with 8-float registers, so with AVX2 it spilled them to the stack on every
// step of the k loop.
//
// The sums are the generic tile's: each element's over i in order with fused multiply-adds, then
// C's old value added once; rows past the tile's end repeat its last row (computed, not stored).
// So every row's result is the same bit for bit whichever tile or kernel computes it.

#if defined(__x86_64__)
#include "GemmPackedAVX2.h"

#include <immintrin.h>

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline)) AVX2_TARGET
#define TILE_ROWS 6

/// Lanes 0 ..< n (n < 8) set.
AVX2_INLINE __m256i lane_mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Stores the first n (≤ 8) lanes of v at out, plus what out held when accumulating.
AVX2_INLINE void store_lanes(float *out, __m256 v, size_t n, int accumulate) {
    if (n >= 8) {
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(out));
        _mm256_storeu_ps(out, v);
    } else if (n > 0) {
        __m256i mask = lane_mask(n);
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(out, mask));
        _mm256_maskstore_ps(out, mask, v);
    }
}

#define ROW(r)                                                                                    \
    const float *a##r = a + ((r) < rows ? (r) : rows - 1) * lda;                                  \
    __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
#define FMA(r)                                                                                    \
    {                                                                                             \
        __m256 x = _mm256_broadcast_ss(a##r + i);                                                 \
        c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);                                                \
        c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);                                                \
    }
#define STORE(r)                                                                                  \
    if ((r) < rows) {                                                                             \
        store_lanes(c + (r) * ldc, c##r##0, columns < 8 ? columns : 8, accumulate);               \
        store_lanes(c + (r) * ldc + 8, c##r##1, columns > 8 ? columns - 8 : 0, accumulate);       \
    }

/// c[r][j] (+)= Σᵢ a[r][i] · panel[32·i + j] for r < rows ≤ 6 and j < columns ≤ 16.
AVX2_TARGET static void tile(const float *a, size_t lda, size_t rows, const float *panel, size_t k, float *c,
                             size_t ldc, size_t columns, int accumulate) {
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
    for (size_t i = 0; i < k; ++i) {
        __m256 b0 = _mm256_loadu_ps(panel + 32 * i), b1 = _mm256_loadu_ps(panel + 32 * i + 8);
        FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5)
    }
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}

#undef ROW
#undef FMA
#undef STORE

AVX2_TARGET void cortado_vm_avx2_gemm_packed(const float *a, size_t lda, size_t rows, const float *packed, size_t k,
                                             size_t n, float *c, size_t ldc, int accumulate) {
    for (size_t j = 0; j < n; j += 32) {
        const float *panel = packed + j * k;
        for (size_t half = j; half < n && half < j + 32; half += 16) {
            size_t columns = n - half < 16 ? n - half : 16;
            for (size_t r = 0; r < rows; r += TILE_ROWS) {
                size_t tile_rows = rows - r < TILE_ROWS ? rows - r : TILE_ROWS;
                tile(a + r * lda, lda, tile_rows, panel + (half - j), k, c + r * ldc + half, ldc, columns, accumulate);
            }
        }
    }
}
#endif
