// Matrix products of 16-bit float operands (see CortadoGemm16.h).
//
// Blocking: the columns of a call are taken NC at a time (B block, packed once), the rows MC at a
// time (A block, packed once per B block), and every tile of TILE_M × 32 of C runs over the whole
// of k, so each entry of C is summed in one register in k order and written once.
#include "CortadoGemm16.h"
#include "Transpose16.h"
#include "CVectorMath.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define TILE_M 12
#define TILE_N 32
#define BLOCK_M 96  // A block rows: 8 tiles
#define BLOCK_N 512 // B block columns: 16 panels


// The block sizes of a product: no larger than it needs, so a skinny product's scratch stays small.
// `span` is the number of columns one call covers (a core's share of a split product).
static void block_sizes(const cortado_gemm16 *g, size_t span, size_t *rows, size_t *columns) {
    *columns = span < BLOCK_N ? (span + TILE_N - 1) / TILE_N * TILE_N : BLOCK_N;
    *rows = g->m < BLOCK_M ? (g->m + TILE_M - 1) / TILE_M * TILE_M : BLOCK_M;
}

// --- element access ---------------------------------------------------------------------------------

static inline float widen_one(cortado_gemm16_type type, const void *base, ptrdiff_t index) {
    if (type == CORTADO_GEMM16_F32) return ((const float *)base)[index];
    uint16_t bits = ((const uint16_t *)base)[index];
    float value;
    if (type == CORTADO_GEMM16_BF16) {
        uint32_t wide = (uint32_t)bits << 16;
        memcpy(&value, &wide, 4);
    } else {
        cortado_f16_to_f32(&bits, &value, 1);
    }
    return value;
}

static inline uint16_t raw_bits(const void *base, ptrdiff_t index) { return ((const uint16_t *)base)[index]; }

// `count` elements from `start`, `step` apart, as floats: contiguous runs through the bulk conversions.
static void widen_run(cortado_gemm16_type type, const void *base, ptrdiff_t start, ptrdiff_t step, size_t count, float *out) {
    if (step == 1) {
        if (type == CORTADO_GEMM16_F32) {
            memcpy(out, (const float *)base + start, count * 4);
        } else if (type == CORTADO_GEMM16_BF16) {
            cortado_bf16_to_f32((const uint16_t *)base + start, out, count);
        } else {
            cortado_f16_to_f32((const uint16_t *)base + start, out, count);
        }
        return;
    }
    if (type == CORTADO_GEMM16_F32) {
        const float *f = (const float *)base + start;
        for (size_t i = 0; i < count; ++i) out[i] = f[(ptrdiff_t)i * step];
        return;
    }
    // 16-bit elements: gather the bits, then convert them in bulk.
    const uint16_t *h = (const uint16_t *)base + start;
    uint16_t bits[256];
    for (size_t done = 0; done < count; done += 256) {
        size_t run = count - done < 256 ? count - done : 256;
        for (size_t i = 0; i < run; ++i) bits[i] = h[(ptrdiff_t)(done + i) * step];
        if (type == CORTADO_GEMM16_BF16) cortado_bf16_to_f32(bits, out + done, run); else cortado_f16_to_f32(bits, out + done, run);
    }
}

// Panel [k][32] of B's columns j0 ..< j0 + columns (zero-padded to 32): rows of B contiguous
// (b_col 1) copy runs; columns of B contiguous (b_row 1, a transposed weight) are read down each
// column 16 values at a time and transposed through a small block.
static void pack_b_panel(const cortado_gemm16 *g, size_t j0, size_t columns, float *panel) {
    size_t k = g->k;
    if (g->b_row != 1 || columns == 0) {
        for (size_t p = 0; p < k; ++p) {
            float *out = panel + TILE_N * p;
            widen_run(g->ab_type, g->b, (ptrdiff_t)p * g->b_row + (ptrdiff_t)j0 * g->b_col, g->b_col, columns, out);
            for (size_t c = columns; c < TILE_N; ++c) out[c] = 0;
        }
        return;
    }
    float block[TILE_N][16];
    for (size_t p0 = 0; p0 < k; p0 += 16) {
        size_t run = k - p0 < 16 ? k - p0 : 16;
        for (size_t c = 0; c < columns; ++c) {
            widen_run(g->ab_type, g->b, (ptrdiff_t)p0 + (ptrdiff_t)(j0 + c) * g->b_col, 1, run, block[c]);
        }
        for (size_t p = 0; p < run; ++p) {
            float *out = panel + TILE_N * (p0 + p);
            for (size_t c = 0; c < columns; ++c) out[c] = block[c][p];
            for (size_t c = columns; c < TILE_N; ++c) out[c] = 0;
        }
    }
}

// --- the output stage: C = alpha · tile + beta · C, in C's type ------------------------------------

#if defined(__x86_64__)
// One row of the output stage in registers: alpha · t + beta · C converted to C's 16-bit type and
// stored under a mask, with no float32 row buffer or copy. The same bits as the bulk conversions
// (CortadoHalf.h: every level gives the same bits). bfloat16 needs AVX-512 BF16, float16 AVX-512.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void store_row16_avx512(cortado_gemm16_type type, const float *t, uint16_t *c, size_t n, float alpha, float beta) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (size_t j = 0; j < n; j += 16) {
        __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1u);
        __m512 v = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(mask, t + j));
        if (beta != 0) {
            __m256i old = _mm256_maskz_loadu_epi16(mask, c + j);
            __m512 wide = type == CORTADO_GEMM16_BF16
                ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(old), 16))
                : _mm512_cvtph_ps(old);
            v = _mm512_add_ps(v, _mm512_mul_ps(vb, wide));
        }
        __m256i bits = type == CORTADO_GEMM16_BF16
            ? (__m256i)_mm512_cvtneps_pbh(v)
            : _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(c + j, mask, bits);
    }
}

// Whether this processor runs `store_row16_avx512` for C of `type`.
static int has_store_row16(cortado_gemm16_type type) {
    static int level = -1;
    int value = __atomic_load_n(&level, __ATOMIC_ACQUIRE);
    if (value < 0) {
        value = (int)cortado_half_supported_level();
        __atomic_store_n(&level, value, __ATOMIC_RELEASE);
    }
    return value >= (type == CORTADO_GEMM16_BF16 ? CORTADO_HALF_AVX512_BF16 : CORTADO_HALF_AVX512);
}
#endif

static void store_tile(const cortado_gemm16 *g, const float *tile, size_t tile_stride, size_t i0, size_t j0,
                       size_t rows, size_t columns) {
#if defined(__x86_64__)
    if (g->c_type != CORTADO_GEMM16_F32 && has_store_row16(g->c_type)) {
        for (size_t r = 0; r < rows; ++r) {
            uint16_t *c = (uint16_t *)g->c + (ptrdiff_t)(i0 + r) * g->c_row + j0;
            store_row16_avx512(g->c_type, tile + r * tile_stride, c, columns, g->alpha, g->beta);
        }
        return;
    }
#endif
    float row[BLOCK_N];
    for (size_t r = 0; r < rows; ++r) {
        const float *t = tile + r * tile_stride;
        char *c_row = (char *)g->c + (ptrdiff_t)(i0 + r) * g->c_row * (g->c_type == CORTADO_GEMM16_F32 ? 4 : 2);
        if (g->c_type == CORTADO_GEMM16_F32) {
            float *c = (float *)c_row + j0;
            if (g->beta == 0) {
                for (size_t j = 0; j < columns; ++j) c[j] = g->alpha * t[j];
            } else {
                for (size_t j = 0; j < columns; ++j) c[j] = g->alpha * t[j] + g->beta * c[j];
            }
            continue;
        }
        uint16_t *c = (uint16_t *)c_row + j0;
        const float *result = t;  // alpha = 1, beta = 0 (a plain product): the tile's row as it is
        if (g->beta != 0) {
            if (g->c_type == CORTADO_GEMM16_BF16) cortado_bf16_to_f32(c, row, columns); else cortado_f16_to_f32(c, row, columns);
            for (size_t j = 0; j < columns; ++j) row[j] = g->alpha * t[j] + g->beta * row[j];
            result = row;
        } else if (g->alpha != 1) {
            for (size_t j = 0; j < columns; ++j) row[j] = g->alpha * t[j];
            result = row;
        }
        if (g->c_type == CORTADO_GEMM16_BF16) cortado_f32_to_bf16(result, c, columns); else cortado_f32_to_f16(result, c, columns);
    }
}

// --- the widening path: float32 panels and float32 tiles -------------------------------------------------

#if defined(__x86_64__)
#define F32_TARGET __attribute__((target("avx512f")))

// C tile (TILE_M × 32, stride TILE_N) = rows of A (row-major, stride lda; `rows` of them, the
// last repeated past the end and not stored) · b panel [k][32]: 24 zmm accumulators, two B vectors
// and TILE_M broadcasts per k, so the loop is bound by its FMAs, not its loads.
#define F32_ROW(r)                                                                                \
    const float *a##r = a + ((r) < rows ? (r) : rows - 1) * lda;                                  \
    __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
#define F32_FMA(r)                                                                                \
    {                                                                                             \
        __m512 x = _mm512_set1_ps(a##r[p]);                                                       \
        c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0);                                                \
        c##r##1 = _mm512_fmadd_ps(x, b1, c##r##1);                                                \
    }
#define F32_STORE(r)                                                                              \
    _mm512_storeu_ps(out + (r) * TILE_N, c##r##0);                                                \
    _mm512_storeu_ps(out + (r) * TILE_N + 16, c##r##1);

F32_TARGET static void f32_tile(const float *a, size_t lda, size_t rows, const float *b, size_t k, float *out) {
    F32_ROW(0) F32_ROW(1) F32_ROW(2) F32_ROW(3) F32_ROW(4) F32_ROW(5)
    F32_ROW(6) F32_ROW(7) F32_ROW(8) F32_ROW(9) F32_ROW(10) F32_ROW(11)
    for (size_t p = 0; p < k; ++p) {
        __m512 b0 = _mm512_loadu_ps(b + p * TILE_N), b1 = _mm512_loadu_ps(b + p * TILE_N + 16);
        F32_FMA(0) F32_FMA(1) F32_FMA(2) F32_FMA(3) F32_FMA(4) F32_FMA(5)
        F32_FMA(6) F32_FMA(7) F32_FMA(8) F32_FMA(9) F32_FMA(10) F32_FMA(11)
    }
    F32_STORE(0) F32_STORE(1) F32_STORE(2) F32_STORE(3) F32_STORE(4) F32_STORE(5)
    F32_STORE(6) F32_STORE(7) F32_STORE(8) F32_STORE(9) F32_STORE(10) F32_STORE(11)
}

#undef F32_ROW
#undef F32_FMA
#undef F32_STORE

static int has_avx512f(void) {
    static int known = -1;
    int value = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx512f") ? 1 : 0;
        __atomic_store_n(&known, value, __ATOMIC_RELEASE);
    }
    return value;
}

// The AVX-512 widening path: A widened into row-major blocks, B into [k][32] panels, 12 × 32 tiles.
static void f32_packed_columns(const cortado_gemm16 *g, size_t n0, size_t n1, void *scratch) {
    size_t k = g->k, block_m, block_n;
    block_sizes(g, n1 - n0, &block_m, &block_n);
    float *packed_b = (float *)scratch;               // [block_n / 32][k][32]
    float *a_rows = packed_b + block_n * k;           // [block_m][k]
    float *tile = a_rows + block_m * k;               // [12][32]
    for (size_t jc = n0; jc < n1; jc += block_n) {
        size_t nc = n1 - jc < block_n ? n1 - jc : block_n;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
            pack_b_panel(g, jc + jp, columns, packed_b + jp * k);
        }
        for (size_t ic = 0; ic < g->m; ic += block_m) {
            size_t mc = g->m - ic < block_m ? g->m - ic : block_m;
            for (size_t r = 0; r < mc; ++r) {
                widen_run(g->ab_type, g->a, (ptrdiff_t)(ic + r) * g->a_row, g->a_col, k, a_rows + r * k);
            }
            for (size_t jp = 0; jp < nc; jp += TILE_N) {
                size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
                for (size_t ip = 0; ip < mc; ip += TILE_M) {
                    size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                    f32_tile(a_rows + ip * k, k, rows, packed_b + jp * k, k, tile);
                    store_tile(g, tile, TILE_N, ic + ip, jc + jp, rows, columns);
                }
            }
        }
    }
}
#endif

static void widening_columns(const cortado_gemm16 *g, size_t n0, size_t n1, void *scratch) {
#if defined(__x86_64__)
    if (has_avx512f()) {
        f32_packed_columns(g, n0, n1, scratch);
        return;
    }
#endif
    size_t k = g->k, block_m, block_n;
    block_sizes(g, n1 - n0, &block_m, &block_n);
    float *packed = (float *)scratch;                    // [block_n / 32][k][32]
    float *a_rows = packed + block_n * k;                // [block_m][k]
    float *tile = a_rows + block_m * k;                  // [block_m][block_n]
    for (size_t jc = n0; jc < n1; jc += block_n) {
        size_t nc = n1 - jc < block_n ? n1 - jc : block_n;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
            pack_b_panel(g, jc + jp, columns, packed + jp * k);
        }
        for (size_t ic = 0; ic < g->m; ic += block_m) {
            size_t mc = g->m - ic < block_m ? g->m - ic : block_m;
            for (size_t r = 0; r < mc; ++r) {
                float *out = a_rows + r * k;
                widen_run(g->ab_type, g->a, (ptrdiff_t)(ic + r) * g->a_row, g->a_col, k, out);
            }
            cortado_vm_gemm_packed(a_rows, k, mc, packed, k, nc, tile, block_n, 0);
            store_tile(g, tile, block_n, ic, jc, mc, nc);
        }
    }
}

// --- the vdpbf16ps path --------------------------------------------------------------------------------

#if defined(__x86_64__)
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// C tile (TILE_M × 32, stride TILE_N) = Σ over pairs: a panel [pairs][TILE_M] of (k, k+1) pairs of a
// row, b panel [pairs][32][2].
#define BF16_ROW(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
#define BF16_DOT(r)                                                                               \
    {                                                                                             \
        __m512bh x = (__m512bh)_mm512_set1_epi32((int)ap[r]);                                     \
        c##r##0 = _mm512_dpbf16_ps(c##r##0, x, b0);                                               \
        c##r##1 = _mm512_dpbf16_ps(c##r##1, x, b1);                                               \
    }
#define BF16_STORE(r)                                                                             \
    _mm512_storeu_ps(out + (r) * TILE_N, c##r##0);                                                \
    _mm512_storeu_ps(out + (r) * TILE_N + 16, c##r##1);

BF16_TARGET static void bf16_tile(const uint32_t *a, const uint16_t *b, size_t pairs, float *out) {
    BF16_ROW(0) BF16_ROW(1) BF16_ROW(2) BF16_ROW(3) BF16_ROW(4) BF16_ROW(5)
    BF16_ROW(6) BF16_ROW(7) BF16_ROW(8) BF16_ROW(9) BF16_ROW(10) BF16_ROW(11)
    for (size_t p = 0; p < pairs; ++p) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + p * 2 * TILE_N);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + p * 2 * TILE_N + TILE_N);
        const uint32_t *ap = a + p * TILE_M;
        BF16_DOT(0) BF16_DOT(1) BF16_DOT(2) BF16_DOT(3) BF16_DOT(4) BF16_DOT(5)
        BF16_DOT(6) BF16_DOT(7) BF16_DOT(8) BF16_DOT(9) BF16_DOT(10) BF16_DOT(11)
    }
    BF16_STORE(0) BF16_STORE(1) BF16_STORE(2) BF16_STORE(3) BF16_STORE(4) BF16_STORE(5)
    BF16_STORE(6) BF16_STORE(7) BF16_STORE(8) BF16_STORE(9) BF16_STORE(10) BF16_STORE(11)
}

// The same tile reading A's rows in place (each (k, k+1) pair one 32-bit word; k even): `rows`
// rows `a_row` elements apart, the last repeated past the end (computed, not stored).
#define BF16_ROW_IN_PLACE(r)                                                                      \
    const uint32_t *a##r = (const uint32_t *)(const void *)(a + ((r) < rows ? (r) : rows - 1) * a_row); \
    BF16_ROW(r)
#define BF16_DOT_IN_PLACE(r)                                                                      \
    {                                                                                             \
        __m512bh x = (__m512bh)_mm512_set1_epi32((int)a##r[p]);                                   \
        c##r##0 = _mm512_dpbf16_ps(c##r##0, x, b0);                                               \
        c##r##1 = _mm512_dpbf16_ps(c##r##1, x, b1);                                               \
    }

BF16_TARGET static void bf16_tile_in_place(const uint16_t *a, ptrdiff_t a_row, size_t rows, const uint16_t *b,
                                           size_t pairs, float *out) {
    BF16_ROW_IN_PLACE(0) BF16_ROW_IN_PLACE(1) BF16_ROW_IN_PLACE(2) BF16_ROW_IN_PLACE(3)
    BF16_ROW_IN_PLACE(4) BF16_ROW_IN_PLACE(5) BF16_ROW_IN_PLACE(6) BF16_ROW_IN_PLACE(7)
    BF16_ROW_IN_PLACE(8) BF16_ROW_IN_PLACE(9) BF16_ROW_IN_PLACE(10) BF16_ROW_IN_PLACE(11)
    for (size_t p = 0; p < pairs; ++p) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + p * 2 * TILE_N);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + p * 2 * TILE_N + TILE_N);
        BF16_DOT_IN_PLACE(0) BF16_DOT_IN_PLACE(1) BF16_DOT_IN_PLACE(2) BF16_DOT_IN_PLACE(3)
        BF16_DOT_IN_PLACE(4) BF16_DOT_IN_PLACE(5) BF16_DOT_IN_PLACE(6) BF16_DOT_IN_PLACE(7)
        BF16_DOT_IN_PLACE(8) BF16_DOT_IN_PLACE(9) BF16_DOT_IN_PLACE(10) BF16_DOT_IN_PLACE(11)
    }
    BF16_STORE(0) BF16_STORE(1) BF16_STORE(2) BF16_STORE(3) BF16_STORE(4) BF16_STORE(5)
    BF16_STORE(6) BF16_STORE(7) BF16_STORE(8) BF16_STORE(9) BF16_STORE(10) BF16_STORE(11)
}

#undef BF16_ROW_IN_PLACE
#undef BF16_DOT_IN_PLACE
#undef BF16_ROW
#undef BF16_DOT
#undef BF16_STORE

#if defined(__x86_64__)
// words[p][c] = the 32-bit word (column c's values 2p and 2p + 1) for 32 columns `stride` 16-bit
// elements apart, p below `full_pairs` rounded down to a multiple of 16: 16 × 16 blocks of words
// transposed in registers. Returns the pairs done.
__attribute__((target("avx512f")))
static size_t transpose_words_avx512(const uint16_t *b, ptrdiff_t stride, size_t full_pairs, uint32_t *words) {
    size_t blocks = full_pairs / 16;
    for (size_t block = 0; block < blocks; ++block) {
        for (size_t half = 0; half < 2; ++half) {
            __m512i r[16];
            for (int i = 0; i < 16; ++i) {
                r[i] = _mm512_loadu_si512((const void *)(b + (ptrdiff_t)(half * 16 + (size_t)i) * stride + block * 32));
            }
            cortado_transpose16_epi32(r);
            for (int i = 0; i < 16; ++i) {
                _mm512_storeu_si512((void *)(words + (block * 16 + (size_t)i) * TILE_N + half * 16), r[i]);
            }
        }
    }
    return blocks * 16;
}
#endif

// Panel [pairs][32][2] of B's columns j0 ..< j0 + columns (zero-padded to 32) when B's rows or its
// columns are contiguous: rows are interleaved two at a time; a contiguous column holds each (k,
// k+1) pair as one 32-bit word. An odd k's last pair has a zero second half.
static void pack_bf16_b_panel(const cortado_gemm16 *g, size_t j0, size_t columns, uint16_t *panel) {
    size_t k = g->k, pairs = (k + 1) / 2;
    const uint16_t *b = (const uint16_t *)g->b;
    if (g->b_row == 1) {
        uint32_t *words = (uint32_t *)(void *)panel;
        size_t done = 0;  // pairs transposed 16 × 16 words at a time
#if defined(__x86_64__)
        if (columns == TILE_N && has_avx512f()) done = transpose_words_avx512(b + (ptrdiff_t)j0 * g->b_col, g->b_col, k / 2, words);
#endif
        for (size_t c = 0; c < columns; ++c) {
            const uint16_t *column = b + (ptrdiff_t)(j0 + c) * g->b_col;
            size_t p = done;
            for (; 2 * p + 1 < k; ++p) memcpy(words + p * TILE_N + c, column + 2 * p, 4);
            if (p < pairs) words[p * TILE_N + c] = column[2 * p];
        }
    } else {
        for (size_t p = 0; p < pairs; ++p) {
            uint16_t *out = panel + p * 2 * TILE_N;
            const uint16_t *row0 = b + (ptrdiff_t)(2 * p) * g->b_row + (ptrdiff_t)j0;
            if (2 * p + 1 < k) {
                const uint16_t *row1 = row0 + g->b_row;
                for (size_t c = 0; c < columns; ++c) {
                    out[2 * c] = row0[c];
                    out[2 * c + 1] = row1[c];
                }
            } else {
                for (size_t c = 0; c < columns; ++c) {
                    out[2 * c] = row0[c];
                    out[2 * c + 1] = 0;
                }
            }
        }
    }
    if (columns < TILE_N) {
        for (size_t p = 0; p < pairs; ++p) memset(panel + p * 2 * TILE_N + 2 * columns, 0, (TILE_N - columns) * 4);
    }
}

// Whether the bf16 path reads A's rows in place: contiguous along k, and k even (whole pairs).
static int a_in_place(const cortado_gemm16 *g) { return g->a_col == 1 && g->k % 2 == 0; }

static void bf16_columns(const cortado_gemm16 *g, size_t n0, size_t n1, void *scratch) {
    size_t k = g->k, pairs = (k + 1) / 2, block_m, block_n;
    block_sizes(g, n1 - n0, &block_m, &block_n);
    uint16_t *packed_b = (uint16_t *)scratch;                          // [block_n / 32][pairs][32][2]
    // A's rows contiguous along an even k are read in place: no packing, no scratch for them.
    int in_place = a_in_place(g);
    uint32_t *packed_a = (uint32_t *)(packed_b + block_n * 2 * pairs); // [block_m / 12][pairs][12]
    float *tile = (float *)(packed_a + (in_place ? 0 : block_m * pairs)); // [12][32]
    const void *a = g->a, *b = g->b;
    for (size_t jc = n0; jc < n1; jc += block_n) {
        size_t nc = n1 - jc < block_n ? n1 - jc : block_n;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            uint16_t *panel = packed_b + jp * 2 * pairs;
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
            if (g->b_row == 1 || g->b_col == 1) {
                pack_bf16_b_panel(g, jc + jp, columns, panel);
                continue;
            }
            for (size_t p = 0; p < pairs; ++p) {
                uint16_t *out = panel + p * 2 * TILE_N;
                ptrdiff_t row0 = (ptrdiff_t)(2 * p) * g->b_row, row1 = row0 + g->b_row;
                int second = 2 * p + 1 < k;
                for (size_t c = 0; c < columns; ++c) {
                    ptrdiff_t col = (ptrdiff_t)(jc + jp + c) * g->b_col;
                    out[2 * c] = raw_bits(b, row0 + col);
                    out[2 * c + 1] = second ? raw_bits(b, row1 + col) : 0;
                }
                memset(out + 2 * columns, 0, (TILE_N - columns) * 4);
            }
        }
        for (size_t ic = 0; ic < g->m; ic += block_m) {
            size_t mc = g->m - ic < block_m ? g->m - ic : block_m;
            if (in_place) {
                for (size_t jp = 0; jp < nc; jp += TILE_N) {
                    size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
                    for (size_t ip = 0; ip < mc; ip += TILE_M) {
                        size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                        const uint16_t *a_rows = (const uint16_t *)a + (ptrdiff_t)(ic + ip) * g->a_row;
                        bf16_tile_in_place(a_rows, g->a_row, rows, packed_b + jp * 2 * pairs, pairs, tile);
                        store_tile(g, tile, TILE_N, ic + ip, jc + jp, rows, columns);
                    }
                }
                continue;
            }
            for (size_t ip = 0; ip < mc; ip += TILE_M) {
                uint32_t *panel = packed_a + ip * pairs;
                size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                for (size_t r = 0; r < TILE_M; ++r) {
                    if (r >= rows) {
                        for (size_t p = 0; p < pairs; ++p) panel[p * TILE_M + r] = 0;
                        continue;
                    }
                    ptrdiff_t base = (ptrdiff_t)(ic + ip + r) * g->a_row;
                    if (g->a_col == 1) {
                        // A row contiguous along k: each (k, k+1) pair is one 32-bit word of it.
                        const uint16_t *row = (const uint16_t *)a + base;
                        size_t p = 0;
                        for (; 2 * p + 1 < k; ++p) memcpy(panel + p * TILE_M + r, row + 2 * p, 4);
                        if (p < pairs) panel[p * TILE_M + r] = row[2 * p];
                        continue;
                    }
                    for (size_t p = 0; p < pairs; ++p) {
                        uint32_t lo = raw_bits(a, base + (ptrdiff_t)(2 * p) * g->a_col);
                        uint32_t hi = 2 * p + 1 < k ? raw_bits(a, base + (ptrdiff_t)(2 * p + 1) * g->a_col) : 0;
                        panel[p * TILE_M + r] = lo | hi << 16;
                    }
                }
            }
            for (size_t jp = 0; jp < nc; jp += TILE_N) {
                size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N;
                for (size_t ip = 0; ip < mc; ip += TILE_M) {
                    size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                    bf16_tile(packed_a + ip * pairs, packed_b + jp * 2 * pairs, pairs, tile);
                    store_tile(g, tile, TILE_N, ic + ip, jc + jp, rows, columns);
                }
            }
        }
    }
}
#endif

// --- dispatch --------------------------------------------------------------------------------------------

static int chosen_path = CORTADO_GEMM16_AUTO;

#include <time.h>

static double seconds_now(void) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// Whether vdpbf16ps tiles beat widened float32 tiles on this processor, timed once on in-cache
// panels: it halves the FMA rate on some processors that have it (a Sapphire Rapids-class Xeon runs
// it at half the rate of float32 FMAs), and a float32 tile then wins even counting the widening.
static int bf16_dot_is_faster(void) {
#if defined(__x86_64__)
    enum { PAIRS = 64, ROUNDS = 200 };
    static uint32_t a[PAIRS * TILE_M];
    static uint16_t b[PAIRS * 2 * TILE_N];
    static float af[TILE_M * 2 * PAIRS], bf[2 * PAIRS * TILE_N], out[TILE_M * TILE_N];
    for (size_t i = 0; i < sizeof a / sizeof a[0]; ++i) a[i] = 0x3F803F80u;
    for (size_t i = 0; i < sizeof b / sizeof b[0]; ++i) b[i] = 0x3F80u;
    for (size_t i = 0; i < sizeof af / sizeof af[0]; ++i) af[i] = 1;
    for (size_t i = 0; i < sizeof bf / sizeof bf[0]; ++i) bf[i] = 1;
    double best_dot = 1e9, best_float = 1e9;
    for (int trial = 0; trial < 3; ++trial) {
        double t = seconds_now();
        for (int r = 0; r < ROUNDS; ++r) bf16_tile(a, b, PAIRS, out);
        t = seconds_now() - t;
        best_dot = t < best_dot ? t : best_dot;
        t = seconds_now();
        for (int r = 0; r < ROUNDS; ++r) f32_tile(af, 2 * PAIRS, TILE_M, bf, 2 * PAIRS, out);
        t = seconds_now() - t;
        best_float = t < best_float ? t : best_float;
    }
    return best_dot < best_float;
#else
    return 0;
#endif
}

int cortado_gemm16_bf16_dot_available(void) {
#if defined(__x86_64__)
    return cortado_half_supported_level() >= CORTADO_HALF_AVX512_BF16;
#else
    return 0;
#endif
}

int cortado_gemm16_uses_bf16_dot(void) {
    switch ((cortado_gemm16_path)__atomic_load_n(&chosen_path, __ATOMIC_ACQUIRE)) {
    case CORTADO_GEMM16_WIDEN: return 0;
    case CORTADO_GEMM16_BF16_DOT: return cortado_gemm16_bf16_dot_available();
    case CORTADO_GEMM16_AUTO: break;
    }
    static int decided = -1;
    int value = __atomic_load_n(&decided, __ATOMIC_ACQUIRE);
    if (value < 0) {
        value = cortado_gemm16_bf16_dot_available() && bf16_dot_is_faster();
        __atomic_store_n(&decided, value, __ATOMIC_RELEASE);
    }
    return value;
}

void cortado_gemm16_set_path(cortado_gemm16_path path) { __atomic_store_n(&chosen_path, (int)path, __ATOMIC_RELEASE); }

static int uses_bf16_dot(const cortado_gemm16 *g) {
    return g->ab_type == CORTADO_GEMM16_BF16 && cortado_gemm16_uses_bf16_dot();
}

size_t cortado_gemm16_scratch_bytes(const cortado_gemm16 *g, size_t columns_per_call) {
    // Blocks no larger than a call needs (a skinny product's scratch stays small).
    size_t k = g->k, rows, columns;
    block_sizes(g, columns_per_call < g->n ? columns_per_call : g->n, &rows, &columns);
    if (uses_bf16_dot(g)) {
        size_t pairs = (k + 1) / 2;
        return columns * 2 * pairs * 2 + (a_in_place(g) ? 0 : rows * pairs * 4) + TILE_M * TILE_N * 4 + 64;
    }
    return (columns * k + rows * k + rows * columns) * 4 + 64;
}

void cortado_gemm16_columns(const cortado_gemm16 *g, size_t n0, size_t n1, void *scratch) {
    if (g->m == 0 || n1 <= n0) return;
    if (g->k == 0) {
        float zeros[BLOCK_N] = {0};
        for (size_t j = n0; j < n1; j += BLOCK_N) {
            size_t columns = n1 - j < BLOCK_N ? n1 - j : BLOCK_N;
            for (size_t i = 0; i < g->m; ++i) store_tile(g, zeros, 0, i, j, 1, columns);
        }
        return;
    }
#if defined(__x86_64__)
    if (uses_bf16_dot(g)) {
        bf16_columns(g, n0, n1, scratch);
        return;
    }
#endif
    widening_columns(g, n0, n1, scratch);
}
