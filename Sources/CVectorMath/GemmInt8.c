// Matrix products of int8 operands with int32 accumulation (see CortadoGemmInt8.h).
//
// Blocking as the 16-bit GEMM: columns BLOCK_N at a time (W packed once per column block), rows
// BLOCK_M at a time (A packed once per row block), and tiles of TILE_M × 32 of C. Each tile sums
// one scale block of k in int32 registers, then the output stage converts it to float32 and adds it,
// scaled, into a float32 tile; the last block adds the bias and stores C.
#include "CortadoGemmInt8.h"
#include "Transpose16.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define TILE_M 12
#define TILE_N 32
#define BLOCK_M 96
#define BLOCK_N 256

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }
static size_t blocks_of(const cortado_qgemm *g) { return g->block >= g->k ? 1 : (g->k + g->block - 1) / g->block; }
static size_t block_width(const cortado_qgemm *g) { return g->block >= g->k ? g->k : g->block; }

// --- path selection -------------------------------------------------------------------------------

static int cpu_has(int feature) {
#if defined(__x86_64__)
    static int known = -1;  // bit 0: avx512bw, bit 1: avx512_vnni, bit 2: avx2 and fma
    int value = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
    if (value < 0) {
        __builtin_cpu_init();
        int bw = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
        int vnni = bw && __builtin_cpu_supports("avx512vnni");
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        value = bw | vnni << 1 | avx2 << 2;
        __atomic_store_n(&known, value, __ATOMIC_RELEASE);
    }
    return (value >> feature) & 1;
#else
    (void)feature;
    return 0;
#endif
}

int cortado_qgemm_path_available(cortado_qgemm_path path) {
    switch (path) {
    case CORTADO_QGEMM_VNNI: return cpu_has(1);
    case CORTADO_QGEMM_MADDWD: return cpu_has(0);
    case CORTADO_QGEMM_AVX2: return cpu_has(2);
    case CORTADO_QGEMM_AUTO:
    case CORTADO_QGEMM_PLAIN: return 1;
    }
    return 0;
}

static int chosen_path = CORTADO_QGEMM_AUTO;

cortado_qgemm_path cortado_qgemm_current_path(void) {
    cortado_qgemm_path path = (cortado_qgemm_path)__atomic_load_n(&chosen_path, __ATOMIC_ACQUIRE);
    if (path != CORTADO_QGEMM_AUTO && cortado_qgemm_path_available(path)) return path;
    if (cpu_has(1)) return CORTADO_QGEMM_VNNI;
    if (cpu_has(0)) return CORTADO_QGEMM_MADDWD;
    if (cpu_has(2)) return CORTADO_QGEMM_AVX2;
    return CORTADO_QGEMM_PLAIN;
}

void cortado_qgemm_set_path(cortado_qgemm_path path) {
    __atomic_store_n(&chosen_path, (int)path, __ATOMIC_RELEASE);
}

// --- packing ----------------------------------------------------------------------------------------

// Scratch layout of the tiled paths, for a column block of `bn` and a row block of `bm`:
//   W panels     [bn / 32][k4 / 4][32][4] uint8 W + 128 (VNNI) or [bn / 32][k4 / 2][32][2] int16 (MADDWD, AVX2)
//   W scales     [bn / 32][blocks][32] float
//   row offsets  [m][blocks] int32 (VNNI: −128 · Σ A over the block)
//   A panels     VNNI: the rows [bm][k4] padded with zeros, when k is not a multiple of 4 (else A is
//                read in place); MADDWD, AVX2: [bm / 12][k4 / 2][12] uint32, 2 int16 of a row per word
//   int tile     [12][32] int32, float tile [12][32] float (MADDWD, AVX2)
typedef struct {
    size_t m, k4, bn, bm, blocks;
    size_t panel_bytes;  // one W panel
    size_t words;        // packed words of one A row
} layout;

static layout layout_of(const cortado_qgemm *g, int vnni) {
    layout l;
    l.m = g->m;
    l.k4 = round_up(g->k, 4);
    l.bn = g->n < BLOCK_N ? round_up(g->n, TILE_N) : BLOCK_N;
    l.bm = g->m < BLOCK_M ? round_up(g->m, TILE_M) : BLOCK_M;
    l.blocks = blocks_of(g);
    l.panel_bytes = vnni ? l.k4 * TILE_N : l.k4 * TILE_N * 2;
    l.words = vnni ? l.k4 / 4 : l.k4 / 2;
    return l;
}

static size_t layout_bytes(const layout *l) {
    size_t panels = l->bn / TILE_N;
    return panels * l->panel_bytes + panels * l->blocks * TILE_N * 4 + l->m * l->blocks * 4 + l->bm * l->words * 4
        + 2 * TILE_M * TILE_N * 4 + 6 * 64;
}

static void *align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

#if defined(__x86_64__)
// The first k rounded down to 64 bytes of 32 rows of W (`stride` apart) as words[p / 4][32] of 4
// unsigned bytes (W + 128): 16 × 16 blocks of words transposed in registers. Returns the bytes done.
__attribute__((target("avx512f")))
static size_t transpose_w_avx512(const int8_t *w, ptrdiff_t stride, size_t k, uint32_t *words) {
    size_t blocks = k / 64;
    __m512i flip = _mm512_set1_epi32((int)0x80808080u);
    for (size_t block = 0; block < blocks; ++block) {
        for (size_t half = 0; half < 2; ++half) {
            __m512i r[16];
            for (int i = 0; i < 16; ++i) {
                r[i] = _mm512_loadu_si512((const void *)(w + (ptrdiff_t)(half * 16 + (size_t)i) * stride + block * 64));
            }
            cortado_transpose16_epi32(r);
            for (int i = 0; i < 16; ++i) {
                _mm512_storeu_si512((void *)(words + (block * 16 + (size_t)i) * TILE_N + half * 16), _mm512_xor_si512(r[i], flip));
            }
        }
    }
    return blocks * 64;
}
#endif

// One 32-column panel of W (columns j0 ..< j0 + columns) and its scales: unsigned bytes W + 128 in
// groups of 4 for VNNI ([k4 / 4][32][4]), int16 pairs for MADDWD ([k4 / 2][32][2]); zero past k and
// past the last column (for VNNI: the byte 128, whose products the row offsets cancel).
static void pack_w_panel(const cortado_qgemm *g, const layout *l, int vnni, size_t j0, size_t columns,
                         void *panel, float *scales) {
    size_t k = g->k, done = 0;
#if defined(__x86_64__)
    if (vnni && columns == TILE_N) done = transpose_w_avx512(g->w + (ptrdiff_t)j0 * g->w_row, g->w_row, k, (uint32_t *)panel);
#endif
    for (size_t c = 0; c < TILE_N; ++c) {
        const int8_t *w = c < columns ? g->w + (ptrdiff_t)(j0 + c) * g->w_row : NULL;
        for (size_t b = 0; b < l->blocks; ++b) scales[b * TILE_N + c] = w ? g->w_scales[(j0 + c) * l->blocks + b] : 0;
        if (vnni) {
            uint8_t *out = (uint8_t *)panel + 4 * c;
            for (size_t p = columns == TILE_N ? done : 0; p < l->k4; p += 4) {
                uint8_t *o = out + p * TILE_N;
                for (size_t q = 0; q < 4; ++q) o[q] = (uint8_t)((w && p + q < k ? w[p + q] : 0) + 128);
            }
        } else {
            int16_t *out = (int16_t *)panel + 2 * c;
            for (size_t p = 0; p < l->k4; p += 2) {
                int16_t *o = out + p * TILE_N;
                o[0] = w && p < k ? w[p] : 0;
                o[1] = w && p + 1 < k ? w[p + 1] : 0;
            }
        }
    }
}

// Rows i0 ..< i0 + rows of A (at most 12) as int16 pairs, a panel [k4 / 2][12] (missing rows zero;
// zero past k), for MADDWD.
static void pack_a_pairs(const cortado_qgemm *g, const layout *l, size_t i0, size_t rows, uint32_t *panel) {
    for (size_t r = 0; r < TILE_M; ++r) {
        const int8_t *a = r < rows ? g->a + (ptrdiff_t)(i0 + r) * g->a_row : NULL;
        for (size_t p = 0; p < l->words; ++p) {
            uint16_t low = a && 2 * p < g->k ? (uint16_t)(int16_t)a[2 * p] : 0;
            uint16_t high = a && 2 * p + 1 < g->k ? (uint16_t)(int16_t)a[2 * p + 1] : 0;
            panel[p * TILE_M + r] = (uint32_t)low | (uint32_t)high << 16;
        }
    }
}

// --- tiles ------------------------------------------------------------------------------------------

#if defined(__x86_64__)
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define BW_TARGET __attribute__((target("avx512f,avx512bw")))

// VNNI: a tile of VNNI_M rows × 32 columns of C over all of k, its float32 sums in registers. Each
// block of k sums in int32 registers `vpdpbusd(W + 128 as u8, 4 bytes of A as s8)`, starting from
// the row's offset −128 · Σ A (so the sums are Σ W · A, exactly, in modular int32 arithmetic); the
// block's sums are then scaled by a_scale[row] · w_scale[column] into the float sums. 12 int32 and
// 12 float32 accumulators, two W vectors and a broadcast: rows past the tile's repeat its first row.
#define VNNI_M 6

static inline int32_t load_word(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

VNNI_TARGET static void vnni_tile(const cortado_qgemm *g, const int8_t *a, ptrdiff_t a_row, const uint8_t *w,
                                  const float *w_scales, const int32_t *row_offsets, size_t i0, size_t j0,
                                  size_t rows, size_t columns, size_t k4) {
    size_t blocks = blocks_of(g), width = block_width(g);
    const int8_t *r0 = a, *r1 = rows > 1 ? a + a_row : a, *r2 = rows > 2 ? a + 2 * a_row : a;
    const int8_t *r3 = rows > 3 ? a + 3 * a_row : a, *r4 = rows > 4 ? a + 4 * a_row : a, *r5 = rows > 5 ? a + 5 * a_row : a;
    size_t o1 = rows > 1 ? 1 : 0, o2 = rows > 2 ? 2 : 0, o3 = rows > 3 ? 3 : 0, o4 = rows > 4 ? 4 : 0, o5 = rows > 5 ? 5 : 0;
    __m512 f00 = _mm512_setzero_ps(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00;
    __m512 f30 = f00, f31 = f00, f40 = f00, f41 = f00, f50 = f00, f51 = f00;
    for (size_t b = 0; b < blocks; ++b) {
        const int32_t *off = row_offsets + b;
        __m512i s00 = _mm512_set1_epi32(off[0]), s01 = s00;
        __m512i s10 = _mm512_set1_epi32(off[o1 * blocks]), s11 = s10;
        __m512i s20 = _mm512_set1_epi32(off[o2 * blocks]), s21 = s20;
        __m512i s30 = _mm512_set1_epi32(off[o3 * blocks]), s31 = s30;
        __m512i s40 = _mm512_set1_epi32(off[o4 * blocks]), s41 = s40;
        __m512i s50 = _mm512_set1_epi32(off[o5 * blocks]), s51 = s50;
        size_t p0 = b * width, p1 = b + 1 == blocks ? k4 : p0 + width;
        for (size_t p = p0; p < p1; p += 4) {
            __m512i w0 = _mm512_loadu_si512(w + p * TILE_N), w1 = _mm512_loadu_si512(w + p * TILE_N + 64);
            __m512i x;
            x = _mm512_set1_epi32(load_word(r0 + p)); s00 = _mm512_dpbusd_epi32(s00, w0, x); s01 = _mm512_dpbusd_epi32(s01, w1, x);
            x = _mm512_set1_epi32(load_word(r1 + p)); s10 = _mm512_dpbusd_epi32(s10, w0, x); s11 = _mm512_dpbusd_epi32(s11, w1, x);
            x = _mm512_set1_epi32(load_word(r2 + p)); s20 = _mm512_dpbusd_epi32(s20, w0, x); s21 = _mm512_dpbusd_epi32(s21, w1, x);
            x = _mm512_set1_epi32(load_word(r3 + p)); s30 = _mm512_dpbusd_epi32(s30, w0, x); s31 = _mm512_dpbusd_epi32(s31, w1, x);
            x = _mm512_set1_epi32(load_word(r4 + p)); s40 = _mm512_dpbusd_epi32(s40, w0, x); s41 = _mm512_dpbusd_epi32(s41, w1, x);
            x = _mm512_set1_epi32(load_word(r5 + p)); s50 = _mm512_dpbusd_epi32(s50, w0, x); s51 = _mm512_dpbusd_epi32(s51, w1, x);
        }
        __m512 ws0 = _mm512_loadu_ps(w_scales + b * TILE_N), ws1 = _mm512_loadu_ps(w_scales + b * TILE_N + 16);
        const float *as = g->a_scales + i0 * blocks + b;
#define VNNI_SCALE(r, o)                                                                          \
        {                                                                                         \
            __m512 x = _mm512_set1_ps(as[(o) * blocks]);                                          \
            f##r##0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s##r##0), _mm512_mul_ps(x, ws0), f##r##0); \
            f##r##1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s##r##1), _mm512_mul_ps(x, ws1), f##r##1); \
        }
        VNNI_SCALE(0, 0) VNNI_SCALE(1, o1) VNNI_SCALE(2, o2) VNNI_SCALE(3, o3) VNNI_SCALE(4, o4) VNNI_SCALE(5, o5)
#undef VNNI_SCALE
    }
    __mmask16 m0 = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    __mmask16 m1 = columns >= 32 ? 0xFFFF : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    if (g->bias) {
        b0 = _mm512_maskz_loadu_ps(m0, g->bias + j0);
        b1 = _mm512_maskz_loadu_ps(m1, g->bias + j0 + 16);
    }
    float *c = g->c + (ptrdiff_t)i0 * g->c_row + j0;
#define VNNI_STORE(r)                                                                             \
    if (r < rows) {                                                                               \
        _mm512_mask_storeu_ps(c + (r) * g->c_row, m0, _mm512_add_ps(f##r##0, b0));                \
        _mm512_mask_storeu_ps(c + (r) * g->c_row + 16, m1, _mm512_add_ps(f##r##1, b1));           \
    }
    VNNI_STORE(0) VNNI_STORE(1) VNNI_STORE(2) VNNI_STORE(3) VNNI_STORE(4) VNNI_STORE(5)
#undef VNNI_STORE
}

// VNNI with one scale per row (the per-output-channel scheme, blocks = 1): no block's sums need
// scaling before the end, so all 24 accumulators hold int32 sums, 12 rows × 32 columns, and each W
// vector loaded feeds 12 `vpdpbusd` instead of 6. Rows past the tile's repeat its first row.
#define VNNI_WIDE_M 12

VNNI_TARGET static void vnni_tile_wide(const cortado_qgemm *g, const int8_t *a, ptrdiff_t a_row, const uint8_t *w,
                                       const float *w_scales, const int32_t *row_offsets, size_t i0, size_t j0,
                                       size_t rows, size_t columns, size_t k4) {
#define WIDE_ROW(r)                                                                               \
    const int8_t *a##r = (r) < rows ? a + (r) * a_row : a;                                        \
    __m512i s##r##0 = _mm512_set1_epi32(row_offsets[(r) < rows ? (r) : 0]), s##r##1 = s##r##0;
    WIDE_ROW(0) WIDE_ROW(1) WIDE_ROW(2) WIDE_ROW(3) WIDE_ROW(4) WIDE_ROW(5)
    WIDE_ROW(6) WIDE_ROW(7) WIDE_ROW(8) WIDE_ROW(9) WIDE_ROW(10) WIDE_ROW(11)
#undef WIDE_ROW
    for (size_t p = 0; p < k4; p += 4) {
        __m512i w0 = _mm512_loadu_si512(w + p * TILE_N), w1 = _mm512_loadu_si512(w + p * TILE_N + 64);
        __m512i x;
#define WIDE_DOT(r)                                                                               \
        x = _mm512_set1_epi32(load_word(a##r + p));                                               \
        s##r##0 = _mm512_dpbusd_epi32(s##r##0, w0, x);                                            \
        s##r##1 = _mm512_dpbusd_epi32(s##r##1, w1, x);
        WIDE_DOT(0) WIDE_DOT(1) WIDE_DOT(2) WIDE_DOT(3) WIDE_DOT(4) WIDE_DOT(5)
        WIDE_DOT(6) WIDE_DOT(7) WIDE_DOT(8) WIDE_DOT(9) WIDE_DOT(10) WIDE_DOT(11)
#undef WIDE_DOT
    }
    __mmask16 m0 = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    __mmask16 m1 = columns >= 32 ? 0xFFFF : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    __m512 ws0 = _mm512_loadu_ps(w_scales), ws1 = _mm512_loadu_ps(w_scales + 16);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    if (g->bias) {
        b0 = _mm512_maskz_loadu_ps(m0, g->bias + j0);
        b1 = _mm512_maskz_loadu_ps(m1, g->bias + j0 + 16);
    }
    const float *as = g->a_scales + i0;
    float *c = g->c + (ptrdiff_t)i0 * g->c_row + j0;
#define WIDE_STORE(r)                                                                             \
    if ((r) < rows) {                                                                             \
        __m512 x = _mm512_set1_ps(as[r]);                                                         \
        _mm512_mask_storeu_ps(c + (r) * g->c_row, m0,                                             \
                              _mm512_fmadd_ps(_mm512_cvtepi32_ps(s##r##0), _mm512_mul_ps(x, ws0), b0)); \
        _mm512_mask_storeu_ps(c + (r) * g->c_row + 16, m1,                                        \
                              _mm512_fmadd_ps(_mm512_cvtepi32_ps(s##r##1), _mm512_mul_ps(x, ws1), b1)); \
    }
    WIDE_STORE(0) WIDE_STORE(1) WIDE_STORE(2) WIDE_STORE(3) WIDE_STORE(4) WIDE_STORE(5)
    WIDE_STORE(6) WIDE_STORE(7) WIDE_STORE(8) WIDE_STORE(9) WIDE_STORE(10) WIDE_STORE(11)
#undef WIDE_STORE
}

// −128 · Σ A over each block of k, for rows i0 ..< i0 + rows: [rows][blocks]. Sums of 4 bytes by
// `vpdpbusd` against ones, 64 bytes at a time (masked at a block's end).
VNNI_TARGET static void row_offsets_of(const cortado_qgemm *g, size_t i0, size_t rows, int32_t *out) {
    size_t blocks = blocks_of(g), width = block_width(g);
    __m512i ones = _mm512_set1_epi8(1);
    for (size_t r = 0; r < rows; ++r) {
        const int8_t *a = g->a + (ptrdiff_t)(i0 + r) * g->a_row;
        for (size_t b = 0; b < blocks; ++b) {
            size_t end = (b + 1) * width < g->k ? (b + 1) * width : g->k;
            __m512i sums = _mm512_setzero_si512();
            for (size_t p = b * width; p < end; p += 64) {
                size_t count = end - p < 64 ? end - p : 64;
                __mmask64 mask = count == 64 ? ~(__mmask64)0 : (((__mmask64)1 << count) - 1);
                sums = _mm512_dpbusd_epi32(sums, ones, _mm512_maskz_loadu_epi8(mask, a + p));
            }
            out[r * blocks + b] = -128 * _mm512_reduce_add_epi32(sums);
        }
    }
}

static void vnni_columns(const cortado_qgemm *g, size_t n0, size_t n1, void *scratch) {
    layout l = layout_of(g, 1);
    size_t panels = l.bn / TILE_N;
    char *base = (char *)align64(scratch);
    uint8_t *packed_w = (uint8_t *)base;
    float *w_scales = (float *)align64(packed_w + panels * l.panel_bytes);
    int32_t *offsets = (int32_t *)align64(w_scales + panels * l.blocks * TILE_N);
    int8_t *padded = (int8_t *)align64(offsets + l.m * l.blocks);
    int in_place = g->k % 4 == 0;
    row_offsets_of(g, 0, g->m, offsets);
    for (size_t jc = n0; jc < n1; jc += l.bn) {
        size_t nc = n1 - jc < l.bn ? n1 - jc : l.bn;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
            pack_w_panel(g, &l, 1, jc + jp, columns, packed_w + panel * l.panel_bytes, w_scales + panel * l.blocks * TILE_N);
        }
        for (size_t ic = 0; ic < g->m; ic += l.bm) {
            size_t mc = g->m - ic < l.bm ? g->m - ic : l.bm;
            const int8_t *a = g->a + (ptrdiff_t)ic * g->a_row;
            ptrdiff_t a_row = g->a_row;
            if (!in_place) {
                for (size_t r = 0; r < mc; ++r) {
                    memcpy(padded + r * l.k4, a + (ptrdiff_t)r * g->a_row, g->k);
                    memset(padded + r * l.k4 + g->k, 0, l.k4 - g->k);
                }
                a = padded;
                a_row = (ptrdiff_t)l.k4;
            }
            for (size_t jp = 0; jp < nc; jp += TILE_N) {
                size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
                size_t tile_m = l.blocks == 1 ? VNNI_WIDE_M : VNNI_M;
                for (size_t ip = 0; ip < mc; ip += tile_m) {
                    size_t rows = mc - ip < tile_m ? mc - ip : tile_m;
                    (l.blocks == 1 ? vnni_tile_wide : vnni_tile)(
                        g, a + (ptrdiff_t)ip * a_row, a_row, packed_w + panel * l.panel_bytes,
                        w_scales + panel * l.blocks * TILE_N, offsets + (ic + ip) * l.blocks, ic + ip, jc + jp, rows, columns,
                        l.k4);
                }
            }
        }
    }
}

// MADDWD: both operands widened to int16, pairs [pairs][32][2] of W against a broadcast pair of each
// of 12 A rows, a 12 × 32 int32 tile per block of k in 24 zmm accumulators.
#define BW_ROW(r)                                                                                 \
    __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = _mm512_setzero_si512();
#define BW_DOT(r)                                                                                 \
    {                                                                                             \
        __m512i x = _mm512_set1_epi32((int)ap[r]);                                                \
        c##r##0 = _mm512_add_epi32(c##r##0, _mm512_madd_epi16(x, w0));                            \
        c##r##1 = _mm512_add_epi32(c##r##1, _mm512_madd_epi16(x, w1));                            \
    }
#define TILE_STORE(r)                                                                             \
    _mm512_storeu_si512(out + (r) * TILE_N, c##r##0);                                             \
    _mm512_storeu_si512(out + (r) * TILE_N + 16, c##r##1);

BW_TARGET static void maddwd_tile(const uint32_t *a, const int16_t *w, size_t pairs, int32_t *out) {
    BW_ROW(0) BW_ROW(1) BW_ROW(2) BW_ROW(3) BW_ROW(4) BW_ROW(5)
    BW_ROW(6) BW_ROW(7) BW_ROW(8) BW_ROW(9) BW_ROW(10) BW_ROW(11)
    for (size_t p = 0; p < pairs; ++p) {
        __m512i w0 = _mm512_loadu_si512(w + p * 2 * TILE_N), w1 = _mm512_loadu_si512(w + p * 2 * TILE_N + 32);
        const uint32_t *ap = a + p * TILE_M;
        BW_DOT(0) BW_DOT(1) BW_DOT(2) BW_DOT(3) BW_DOT(4) BW_DOT(5)
        BW_DOT(6) BW_DOT(7) BW_DOT(8) BW_DOT(9) BW_DOT(10) BW_DOT(11)
    }
    TILE_STORE(0) TILE_STORE(1) TILE_STORE(2) TILE_STORE(3) TILE_STORE(4) TILE_STORE(5)
    TILE_STORE(6) TILE_STORE(7) TILE_STORE(8) TILE_STORE(9) TILE_STORE(10) TILE_STORE(11)
}

#undef BW_ROW
#undef BW_DOT
#undef TILE_STORE

// The MADDWD output stage, 16 columns at a time: tile += sums · (a_scale[row] · w_scale) for `rows`
// rows (the first block sets it); the last block adds the bias and stores C.
BW_TARGET static void output_stage_avx512(const cortado_qgemm *g, const int32_t *sums, const float *w_scales,
                                          size_t block, int first, int last, size_t i0, size_t j0, size_t rows,
                                          size_t columns, float *tile) {
    size_t blocks = blocks_of(g);
    __m512 ws0 = _mm512_loadu_ps(w_scales), ws1 = _mm512_loadu_ps(w_scales + 16);
    __mmask16 m0 = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    __mmask16 m1 = columns >= 32 ? 0xFFFF : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    if (last && g->bias) {
        b0 = _mm512_maskz_loadu_ps(m0, g->bias + j0);
        b1 = _mm512_maskz_loadu_ps(m1, g->bias + j0 + 16);
    }
    for (size_t r = 0; r < rows; ++r) {
        __m512 a_scale = _mm512_set1_ps(g->a_scales[(i0 + r) * blocks + block]);
        const int32_t *s = sums + r * TILE_N;
        float *t = tile + r * TILE_N;
        __m512 v0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(s)), _mm512_mul_ps(a_scale, ws0));
        __m512 v1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(s + 16)), _mm512_mul_ps(a_scale, ws1));
        if (!first) {
            v0 = _mm512_add_ps(_mm512_loadu_ps(t), v0);
            v1 = _mm512_add_ps(_mm512_loadu_ps(t + 16), v1);
        }
        if (!last) {
            _mm512_storeu_ps(t, v0);
            _mm512_storeu_ps(t + 16, v1);
            continue;
        }
        float *out = g->c + (ptrdiff_t)(i0 + r) * g->c_row + j0;
        if (g->bias) {
            v0 = _mm512_add_ps(v0, b0);
            v1 = _mm512_add_ps(v1, b1);
        }
        _mm512_mask_storeu_ps(out, m0, v0);
        _mm512_mask_storeu_ps(out + 16, m1, v1);
    }
}


// AVX2 (processors without AVX-512): MADDWD's int16 pairs and panels with 256-bit registers. Sixteen
// ymm registers hold a 6 × 16 int32 tile (12 accumulators), two W vectors and a broadcast, so the
// 12 × 32 tile of the panels is computed in up to four passes over k (rows past `rows` skipped).
#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX2_ROW(r) __m256i c##r##0 = _mm256_setzero_si256(), c##r##1 = _mm256_setzero_si256();
#define AVX2_DOT(r)                                                                               \
    {                                                                                             \
        __m256i x = _mm256_set1_epi32((int)ap[r]);                                                \
        c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(x, w0));                            \
        c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(x, w1));                            \
    }
#define AVX2_STORE(r)                                                                             \
    _mm256_storeu_si256((__m256i *)(o + (r) * TILE_N), c##r##0);                                  \
    _mm256_storeu_si256((__m256i *)(o + (r) * TILE_N + 8), c##r##1);

AVX2_TARGET static void maddwd_tile_avx2(const uint32_t *a, const int16_t *w, size_t pairs, size_t rows, int32_t *out) {
    for (size_t half = 0; half < (rows > 6 ? 2 : 1); ++half) {
        for (size_t ch = 0; ch < TILE_N; ch += 16) {
            AVX2_ROW(0) AVX2_ROW(1) AVX2_ROW(2) AVX2_ROW(3) AVX2_ROW(4) AVX2_ROW(5)
            for (size_t p = 0; p < pairs; ++p) {
                const int16_t *wp = w + (p * TILE_N + ch) * 2;
                __m256i w0 = _mm256_loadu_si256((const __m256i *)wp), w1 = _mm256_loadu_si256((const __m256i *)(wp + 16));
                const uint32_t *ap = a + p * TILE_M + half * 6;
                AVX2_DOT(0) AVX2_DOT(1) AVX2_DOT(2) AVX2_DOT(3) AVX2_DOT(4) AVX2_DOT(5)
            }
            int32_t *o = out + half * 6 * TILE_N + ch;
            AVX2_STORE(0) AVX2_STORE(1) AVX2_STORE(2) AVX2_STORE(3) AVX2_STORE(4) AVX2_STORE(5)
        }
    }
}

#undef AVX2_ROW
#undef AVX2_DOT
#undef AVX2_STORE

// The AVX2 output stage, as MADDWD's: tile += sums · (a_scale[row] · w_scale) (the first block sets
// it); the last block adds the bias and stores the first `columns` columns of C.
AVX2_TARGET static void output_stage_avx2(const cortado_qgemm *g, const int32_t *sums, const float *w_scales,
                                          size_t block, int first, int last, size_t i0, size_t j0, size_t rows,
                                          size_t columns, float *tile) {
    size_t blocks = blocks_of(g);
    for (size_t r = 0; r < rows; ++r) {
        __m256 a_scale = _mm256_set1_ps(g->a_scales[(i0 + r) * blocks + block]);
        const int32_t *s = sums + r * TILE_N;
        float *t = tile + r * TILE_N;
        for (size_t c = 0; c < TILE_N; c += 8) {
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(s + c))),
                                     _mm256_mul_ps(a_scale, _mm256_loadu_ps(w_scales + c)));
            if (!first) v = _mm256_add_ps(_mm256_loadu_ps(t + c), v);
            _mm256_storeu_ps(t + c, v);
        }
        if (!last) continue;
        float *out = g->c + (ptrdiff_t)(i0 + r) * g->c_row + j0;
        for (size_t c = 0; c < columns; ++c) out[c] = g->bias ? t[c] + g->bias[j0 + c] : t[c];
    }
}

// The int16-pair paths (MADDWD with `wide`, else AVX2): both pack W and A alike and differ only in
// their tile and output stage.
static void pairs_columns(const cortado_qgemm *g, size_t n0, size_t n1, void *scratch, int wide) {
    layout l = layout_of(g, 0);
    size_t panels = l.bn / TILE_N, width = block_width(g);
    char *base = (char *)align64(scratch);
    char *packed_w = base;
    float *w_scales = (float *)align64(packed_w + panels * l.panel_bytes);
    uint32_t *a_panels = (uint32_t *)align64(w_scales + panels * l.blocks * TILE_N);
    int32_t *sums = (int32_t *)align64(a_panels + l.bm * l.words);
    float *tile = (float *)(sums + TILE_M * TILE_N);
    for (size_t jc = n0; jc < n1; jc += l.bn) {
        size_t nc = n1 - jc < l.bn ? n1 - jc : l.bn;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
            pack_w_panel(g, &l, 0, jc + jp, columns, packed_w + panel * l.panel_bytes, w_scales + panel * l.blocks * TILE_N);
        }
        for (size_t ic = 0; ic < g->m; ic += l.bm) {
            size_t mc = g->m - ic < l.bm ? g->m - ic : l.bm;
            for (size_t ip = 0; ip < mc; ip += TILE_M) {
                pack_a_pairs(g, &l, ic + ip, mc - ip < TILE_M ? mc - ip : TILE_M, a_panels + ip * l.words);
            }
            for (size_t jp = 0; jp < nc; jp += TILE_N) {
                size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
                const int16_t *w = (const int16_t *)(packed_w + panel * l.panel_bytes);
                for (size_t ip = 0; ip < mc; ip += TILE_M) {
                    size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                    for (size_t b = 0; b < l.blocks; ++b) {
                        size_t p0 = b * width, end = b + 1 == l.blocks ? l.k4 : p0 + width;
                        const uint32_t *a = a_panels + ip * l.words + p0 / 2 * TILE_M;
                        const float *scales = w_scales + (panel * l.blocks + b) * TILE_N;
                        if (wide) {
                            maddwd_tile(a, w + p0 * TILE_N, (end - p0) / 2, sums);
                            output_stage_avx512(g, sums, scales, b, b == 0, b + 1 == l.blocks, ic + ip, jc + jp, rows,
                                                columns, tile);
                        } else {
                            maddwd_tile_avx2(a, w + p0 * TILE_N, (end - p0) / 2, rows, sums);
                            output_stage_avx2(g, sums, scales, b, b == 0, b + 1 == l.blocks, ic + ip, jc + jp, rows,
                                              columns, tile);
                        }
                    }
                }
            }
        }
    }
}
#endif

// --- the plain path ---------------------------------------------------------------------------------

static void plain_columns(const cortado_qgemm *g, size_t n0, size_t n1) {
    size_t blocks = blocks_of(g), width = block_width(g);
    for (size_t i = 0; i < g->m; ++i) {
        const int8_t *a = g->a + (ptrdiff_t)i * g->a_row;
        float *c = g->c + (ptrdiff_t)i * g->c_row;
        for (size_t j = n0; j < n1; ++j) {
            const int8_t *w = g->w + (ptrdiff_t)j * g->w_row;
            float total = 0;
            for (size_t b = 0; b < blocks; ++b) {
                size_t end = (b + 1) * width < g->k ? (b + 1) * width : g->k;
                int32_t sum = 0;
                for (size_t p = b * width; p < end; ++p) sum += (int32_t)a[p] * (int32_t)w[p];
                float value = (float)sum * (g->a_scales[i * blocks + b] * g->w_scales[j * blocks + b]);
                total = b == 0 ? value : total + value;
            }
            c[j] = g->bias ? total + g->bias[j] : total;
        }
    }
}

// --- entry points -----------------------------------------------------------------------------------

size_t cortado_qgemm_scratch_bytes(const cortado_qgemm *g) {
    switch (cortado_qgemm_current_path()) {
    case CORTADO_QGEMM_VNNI: { layout l = layout_of(g, 1); return layout_bytes(&l); }
    case CORTADO_QGEMM_MADDWD:
    case CORTADO_QGEMM_AVX2: { layout l = layout_of(g, 0); return layout_bytes(&l); }
    default: return 64;
    }
}

void cortado_qgemm_columns(const cortado_qgemm *g, size_t n0, size_t n1, void *scratch) {
    if (g->m == 0 || n1 <= n0) return;
    if (g->k == 0) {
        for (size_t i = 0; i < g->m; ++i) {
            float *c = g->c + (ptrdiff_t)i * g->c_row;
            for (size_t j = n0; j < n1; ++j) c[j] = g->bias ? g->bias[j] : 0;
        }
        return;
    }
    switch (cortado_qgemm_current_path()) {
#if defined(__x86_64__)
    case CORTADO_QGEMM_VNNI: vnni_columns(g, n0, n1, scratch); return;
    case CORTADO_QGEMM_MADDWD: pairs_columns(g, n0, n1, scratch, 1); return;
    case CORTADO_QGEMM_AVX2: pairs_columns(g, n0, n1, scratch, 0); return;
#endif
    default: plain_columns(g, n0, n1); return;
    }
}

// --- activation quantisation -------------------------------------------------------------------------
//
// Each block's scale is its largest |x| / 127 (dynamic) or the given static one; a block holding a
// NaN gets a NaN scale either way. A scale that is not positive and finite gives zeros.

static void quantize_block_plain(const float *x, size_t count, const float *fixed, const float *mul, int8_t *q,
                                 float *scale) {
    float largest = 0;
    int nan_seen = 0;
    for (size_t p = 0; p < count; ++p) {
        float v = fabsf(mul ? x[p] * mul[p] : x[p]);
        nan_seen |= v != v;
        largest = v > largest ? v : largest;
    }
    float s = nan_seen ? NAN : fixed ? *fixed : largest / 127.0f;
    *scale = s;
    if (!(s > 0) || !isfinite(s)) {
        memset(q, 0, count);
        return;
    }
    float inverse = 1.0f / s;
    for (size_t p = 0; p < count; ++p) {
        float v = nearbyintf((mul ? x[p] * mul[p] : x[p]) * inverse);
        v = v > 127 ? 127 : (v < -127 ? -127 : v);
        q[p] = (int8_t)v;
    }
}

#if defined(__x86_64__)
BW_TARGET static void quantize_block_avx512(const float *x, size_t count, const float *fixed, const float *mul,
                                            int8_t *q, float *scale) {
    __m512 largest = _mm512_setzero_ps();
    __mmask16 nan_seen = 0;
    size_t p = 0;
    for (; p < count; p += 16) {
        __mmask16 lanes = count - p >= 16 ? 0xFFFF : (__mmask16)((1u << (count - p)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(lanes, x + p);
        if (mul) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(lanes, mul + p));
        largest = _mm512_max_ps(largest, _mm512_abs_ps(v));
        nan_seen |= _mm512_mask_cmp_ps_mask(lanes, v, v, _CMP_UNORD_Q);
    }
    float s = nan_seen ? NAN : fixed ? *fixed : _mm512_reduce_max_ps(largest) / 127.0f;
    *scale = s;
    if (!(s > 0) || !isfinite(s)) {
        memset(q, 0, count);
        return;
    }
    __m512 inverse = _mm512_set1_ps(1.0f / s);
    __m512 low = _mm512_set1_ps(-127), high = _mm512_set1_ps(127);
    for (p = 0; p < count; p += 16) {
        __mmask16 lanes = count - p >= 16 ? 0xFFFF : (__mmask16)((1u << (count - p)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(lanes, x + p);
        if (mul) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(lanes, mul + p));
        v = _mm512_mul_ps(v, inverse);
        v = _mm512_min_ps(_mm512_max_ps(v, low), high);
        __m512i n = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm512_mask_cvtepi32_storeu_epi8(q + p, lanes, n);
    }
}

// AVX2: 8 values at a time, the tail as quantize_block_plain does it (same results).
AVX2_TARGET static void quantize_block_avx2(const float *x, size_t count, const float *fixed, const float *mul,
                                          int8_t *q, float *scale) {
    __m256 largest = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
    __m256 nan_seen = _mm256_setzero_ps();
    size_t p = 0, whole = count / 8 * 8;
    for (; p < whole; p += 8) {
        __m256 v = _mm256_loadu_ps(x + p);
        if (mul) v = _mm256_mul_ps(v, _mm256_loadu_ps(mul + p));
        largest = _mm256_max_ps(largest, _mm256_andnot_ps(sign, v));
        nan_seen = _mm256_or_ps(nan_seen, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, largest);
    float top = 0;
    for (int i = 0; i < 8; ++i) top = lanes[i] > top ? lanes[i] : top;
    int nan_found = _mm256_movemask_ps(nan_seen) != 0;
    for (; p < count; ++p) {
        float v = fabsf(mul ? x[p] * mul[p] : x[p]);
        nan_found |= v != v;
        top = v > top ? v : top;
    }
    float s = nan_found ? NAN : fixed ? *fixed : top / 127.0f;
    *scale = s;
    if (!(s > 0) || !isfinite(s)) {
        memset(q, 0, count);
        return;
    }
    float inverse_value = 1.0f / s;
    __m256 inverse = _mm256_set1_ps(inverse_value);
    __m256 low = _mm256_set1_ps(-127), high = _mm256_set1_ps(127);
    for (p = 0; p < whole; p += 8) {
        __m256 v = _mm256_loadu_ps(x + p);
        if (mul) v = _mm256_mul_ps(v, _mm256_loadu_ps(mul + p));
        v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v, inverse), low), high);
        __m256i n = _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m128i n16 = _mm_packs_epi32(_mm256_castsi256_si128(n), _mm256_extracti128_si256(n, 1));
        _mm_storel_epi64((__m128i *)(q + p), _mm_packs_epi16(n16, n16));
    }
    for (; p < count; ++p) {
        float v = nearbyintf((mul ? x[p] * mul[p] : x[p]) * inverse_value);
        v = v > 127 ? 127 : (v < -127 ? -127 : v);
        q[p] = (int8_t)v;
    }
}
#endif

// Rows [r0, r1) block by block; `fixed` ([blocks] static scales) or NULL for dynamic ones; `mul`
// ([k] column multipliers) or NULL for none.
static void quantize_rows(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                          const float *fixed, const float *mul, int8_t *q, float *scales) {
    size_t width = block >= k || block == 0 ? k : block;
    size_t blocks = k == 0 ? 1 : (k + width - 1) / width;
#if defined(__x86_64__)
    cortado_qgemm_path path = cortado_qgemm_current_path();
    int wide = path == CORTADO_QGEMM_VNNI || path == CORTADO_QGEMM_MADDWD, avx2 = path == CORTADO_QGEMM_AVX2;
#endif
    for (size_t r = r0; r < r1; ++r) {
        for (size_t b = 0; b < blocks; ++b) {
            size_t p0 = b * width, count = p0 + width < k ? width : k - p0;
            const float *xs = x + (ptrdiff_t)r * x_row + p0, *fs = fixed ? fixed + b : NULL, *ms = mul ? mul + p0 : NULL;
            int8_t *qs = q + r * k + p0;
            float *s = scales + r * blocks + b;
#if defined(__x86_64__)
            if (wide) { quantize_block_avx512(xs, count, fs, ms, qs, s); continue; }
            if (avx2) { quantize_block_avx2(xs, count, fs, ms, qs, s); continue; }
#endif
            quantize_block_plain(xs, count, fs, ms, qs, s);
        }
    }
}

void cortado_quantize_rows(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                           int8_t *q, float *scales) {
    quantize_rows(x, x_row, r0, r1, k, block, NULL, NULL, q, scales);
}

void cortado_quantize_rows_scaled(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                                  const float *fixed, const float *mul, int8_t *q, float *scales) {
    quantize_rows(x, x_row, r0, r1, k, block, fixed, mul, q, scales);
}
