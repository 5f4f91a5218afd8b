// Matrix products of int8 operands with int32 accumulation (see CortadoGemmInt8.h).
//
// Blocking as the 16-bit GEMM: columns BLOCK_N at a time (W packed once per column block), rows
// BLOCK_M at a time (A packed once per row block), and tiles of TILE_M × 32 of C. Each tile sums
// one scale block of k in int32 registers, then the output stage converts it to float32 and adds it,
// scaled, into a float32 tile; the last block adds the bias and stores C.
#include "CortadoGemmInt8.h"

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
    static int known = -1;  // bit 0: avx512bw, bit 1: avx512_vnni
    int value = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
    if (value < 0) {
        __builtin_cpu_init();
        int bw = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
        int vnni = bw && __builtin_cpu_supports("avx512vnni");
        value = bw | vnni << 1;
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
    return CORTADO_QGEMM_PLAIN;
}

void cortado_qgemm_set_path(cortado_qgemm_path path) {
    __atomic_store_n(&chosen_path, (int)path, __ATOMIC_RELEASE);
}

// --- packing ----------------------------------------------------------------------------------------

// Scratch layout of the tiled paths, for a column block of `bn` and a row block of `bm`:
//   W panels   [bn / 32][k4 / 4][32][4] int8 (VNNI) or [bn / 32][k2 / 2][32][2] int16 (MADDWD)
//   W scales   [bn / 32][blocks][32] float
//   W offsets  [bn / 32][blocks][32] int32 (VNNI: 128 · Σ W over the block)
//   A panels   [bm / 12][words][12] uint32: 4 unsigned (+128) bytes of a row per word (VNNI) or 2 int16
//              (MADDWD), words = k4 / 4 or k4 / 2
//   int tile   [12][32] int32, float tile [12][32] float
typedef struct {
    size_t k4, bn, bm, blocks;
    size_t panel_bytes;  // one W panel
    size_t words;        // packed words of one A row
} layout;

static layout layout_of(const cortado_qgemm *g, int vnni) {
    layout l;
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
    return panels * l->panel_bytes + panels * l->blocks * TILE_N * 8 + l->bm * l->words * 4
        + 2 * TILE_M * TILE_N * 4 + 4 * 64;
}

static void *align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

// One 32-column panel of W (columns j0 ..< j0 + columns), its scales and (VNNI) its offsets.
static void pack_w_panel(const cortado_qgemm *g, const layout *l, int vnni, size_t j0, size_t columns,
                         void *panel, float *scales, int32_t *offsets) {
    size_t k = g->k, width = block_width(g);
    for (size_t c = 0; c < TILE_N; ++c) {
        const int8_t *w = c < columns ? g->w + (ptrdiff_t)(j0 + c) * g->w_row : NULL;
        for (size_t b = 0; b < l->blocks; ++b) {
            scales[b * TILE_N + c] = w ? g->w_scales[(j0 + c) * l->blocks + b] : 0;
            if (vnni) {
                int32_t sum = 0;
                size_t end = (b + 1) * width < k ? (b + 1) * width : k;
                if (w) for (size_t p = b * width; p < end; ++p) sum += w[p];
                offsets[b * TILE_N + c] = 128 * sum;
            }
        }
        if (vnni) {
            int8_t *out = (int8_t *)panel + 4 * c;
            for (size_t p = 0; p < l->k4; p += 4) {
                int8_t *o = out + p * TILE_N;
                for (size_t q = 0; q < 4; ++q) o[q] = w && p + q < k ? w[p + q] : 0;
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

// Rows i0 ..< i0 + rows of A (at most 12) as a panel [words][12] (missing rows zero): unsigned (+128)
// bytes for VNNI, int16 pairs for MADDWD; zero past k.
static void pack_a_panel(const cortado_qgemm *g, const layout *l, int vnni, size_t i0, size_t rows, uint32_t *panel) {
    for (size_t r = 0; r < TILE_M; ++r) {
        if (r >= rows) {
            for (size_t p = 0; p < l->words; ++p) panel[p * TILE_M + r] = 0;
            continue;
        }
        const int8_t *a = g->a + (ptrdiff_t)(i0 + r) * g->a_row;
        size_t per = vnni ? 4 : 2;
        for (size_t p = 0; p < l->words; ++p) {
            uint32_t word = 0;
            for (size_t q = 0; q < per; ++q) {
                size_t index = p * per + q;
                uint32_t value = index >= g->k ? 0 : vnni ? (uint8_t)(a[index] + 128) : (uint16_t)(int16_t)a[index];
                word |= value << (vnni ? 8 * q : 16 * q);
            }
            panel[p * TILE_M + r] = word;
        }
    }
}

// --- the output stage -----------------------------------------------------------------------------

// tile += (sums − offsets) · a_scale[row] · w_scale for `rows` rows; the last block stores C.
static void output_stage(const cortado_qgemm *g, const int32_t *sums, const int32_t *offsets, const float *w_scales,
                         size_t block, int first, int last, size_t i0, size_t j0, size_t rows, size_t columns,
                         float *tile) {
    size_t blocks = blocks_of(g);
    for (size_t r = 0; r < rows; ++r) {
        float a_scale = g->a_scales[(i0 + r) * blocks + block];
        const int32_t *s = sums + r * TILE_N;
        float *t = tile + r * TILE_N;
        for (size_t c = 0; c < TILE_N; ++c) {
            float value = (float)(s[c] - (offsets ? offsets[c] : 0)) * (a_scale * w_scales[c]);
            t[c] = first ? value : t[c] + value;
        }
        if (!last) continue;
        float *out = g->c + (ptrdiff_t)(i0 + r) * g->c_row + j0;
        if (g->bias) {
            for (size_t c = 0; c < columns; ++c) out[c] = t[c] + g->bias[j0 + c];
        } else {
            memcpy(out, t, columns * 4);
        }
    }
}

// --- tiles ------------------------------------------------------------------------------------------

#if defined(__x86_64__)
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define BW_TARGET __attribute__((target("avx512f,avx512bw")))

// sums (TILE_M × 32, int32) = packed A rows (a panel [groups][12] of 4-byte words) · W panel groups
// [groups][32][4]: 24 zmm accumulators, two W vectors and TILE_M broadcasts of 4 bytes per group.
#define VNNI_ROW(r)                                                                               \
    __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = _mm512_setzero_si512();
#define VNNI_DOT(r)                                                                               \
    {                                                                                             \
        __m512i x = _mm512_set1_epi32((int)ap[r]);                                                \
        c##r##0 = _mm512_dpbusd_epi32(c##r##0, x, w0);                                            \
        c##r##1 = _mm512_dpbusd_epi32(c##r##1, x, w1);                                            \
    }
#define TILE_STORE(r)                                                                             \
    _mm512_storeu_si512(out + (r) * TILE_N, c##r##0);                                             \
    _mm512_storeu_si512(out + (r) * TILE_N + 16, c##r##1);

VNNI_TARGET static void vnni_tile(const uint32_t *a, const int8_t *w, size_t groups, int32_t *out) {
    VNNI_ROW(0) VNNI_ROW(1) VNNI_ROW(2) VNNI_ROW(3) VNNI_ROW(4) VNNI_ROW(5)
    VNNI_ROW(6) VNNI_ROW(7) VNNI_ROW(8) VNNI_ROW(9) VNNI_ROW(10) VNNI_ROW(11)
    for (size_t p = 0; p < groups; ++p) {
        __m512i w0 = _mm512_loadu_si512(w + p * 4 * TILE_N), w1 = _mm512_loadu_si512(w + p * 4 * TILE_N + 64);
        const uint32_t *ap = a + p * TILE_M;
        VNNI_DOT(0) VNNI_DOT(1) VNNI_DOT(2) VNNI_DOT(3) VNNI_DOT(4) VNNI_DOT(5)
        VNNI_DOT(6) VNNI_DOT(7) VNNI_DOT(8) VNNI_DOT(9) VNNI_DOT(10) VNNI_DOT(11)
    }
    TILE_STORE(0) TILE_STORE(1) TILE_STORE(2) TILE_STORE(3) TILE_STORE(4) TILE_STORE(5)
    TILE_STORE(6) TILE_STORE(7) TILE_STORE(8) TILE_STORE(9) TILE_STORE(10) TILE_STORE(11)
}

// The same with int16 operands: pairs [pairs][32][2] of W against a broadcast pair of each A row.
#define BW_ROW(r)                                                                                 \
    __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = _mm512_setzero_si512();
#define BW_DOT(r)                                                                                 \
    {                                                                                             \
        __m512i x = _mm512_set1_epi32((int)ap[r]);                                                \
        c##r##0 = _mm512_add_epi32(c##r##0, _mm512_madd_epi16(x, w0));                            \
        c##r##1 = _mm512_add_epi32(c##r##1, _mm512_madd_epi16(x, w1));                            \
    }

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

#undef VNNI_ROW
#undef VNNI_DOT
#undef BW_ROW
#undef BW_DOT
#undef TILE_STORE

static void tiled_columns(const cortado_qgemm *g, size_t n0, size_t n1, void *scratch, int vnni) {
    layout l = layout_of(g, vnni);
    size_t panels = l.bn / TILE_N, width = block_width(g);
    char *base = (char *)align64(scratch);
    char *packed_w = base;
    float *w_scales = (float *)align64(packed_w + panels * l.panel_bytes);
    int32_t *offsets = (int32_t *)align64(w_scales + panels * l.blocks * TILE_N);
    uint32_t *a_panels = (uint32_t *)align64(offsets + panels * l.blocks * TILE_N);
    int32_t *sums = (int32_t *)align64(a_panels + l.bm * l.words);
    float *tile = (float *)(sums + TILE_M * TILE_N);
    for (size_t jc = n0; jc < n1; jc += l.bn) {
        size_t nc = n1 - jc < l.bn ? n1 - jc : l.bn;
        for (size_t jp = 0; jp < nc; jp += TILE_N) {
            size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
            pack_w_panel(g, &l, vnni, jc + jp, columns, packed_w + panel * l.panel_bytes,
                         w_scales + panel * l.blocks * TILE_N, offsets + panel * l.blocks * TILE_N);
        }
        for (size_t ic = 0; ic < g->m; ic += l.bm) {
            size_t mc = g->m - ic < l.bm ? g->m - ic : l.bm;
            for (size_t ip = 0; ip < mc; ip += TILE_M) {
                pack_a_panel(g, &l, vnni, ic + ip, mc - ip < TILE_M ? mc - ip : TILE_M, a_panels + ip * l.words);
            }
            for (size_t jp = 0; jp < nc; jp += TILE_N) {
                size_t columns = nc - jp < TILE_N ? nc - jp : TILE_N, panel = jp / TILE_N;
                const char *w = packed_w + panel * l.panel_bytes;
                for (size_t ip = 0; ip < mc; ip += TILE_M) {
                    size_t rows = mc - ip < TILE_M ? mc - ip : TILE_M;
                    for (size_t b = 0; b < l.blocks; ++b) {
                        size_t p0 = b * width, end = b + 1 == l.blocks ? l.k4 : p0 + width;
                        const uint32_t *a = a_panels + ip * l.words;
                        if (vnni) {
                            vnni_tile(a + p0 / 4 * TILE_M, (const int8_t *)w + p0 * TILE_N, (end - p0) / 4, sums);
                        } else {
                            maddwd_tile(a + p0 / 2 * TILE_M, (const int16_t *)w + p0 * TILE_N, (end - p0) / 2, sums);
                        }
                        output_stage(g, sums, vnni ? offsets + (panel * l.blocks + b) * TILE_N : NULL,
                                     w_scales + (panel * l.blocks + b) * TILE_N, b, b == 0, b + 1 == l.blocks,
                                     ic + ip, jc + jp, rows, columns, tile);
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
    case CORTADO_QGEMM_MADDWD: { layout l = layout_of(g, 0); return layout_bytes(&l); }
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
    case CORTADO_QGEMM_VNNI: tiled_columns(g, n0, n1, scratch, 1); return;
    case CORTADO_QGEMM_MADDWD: tiled_columns(g, n0, n1, scratch, 0); return;
#endif
    default: plain_columns(g, n0, n1); return;
    }
}

// --- activation quantisation -------------------------------------------------------------------------

static void quantize_block_plain(const float *x, size_t count, int8_t *q, float *scale) {
    float largest = 0;
    for (size_t p = 0; p < count; ++p) {
        float v = fabsf(x[p]);
        largest = v > largest || v != v ? v : largest;
    }
    float s = largest / 127.0f;
    *scale = s;
    if (!(s > 0) || !isfinite(s)) {
        memset(q, 0, count);
        return;
    }
    float inverse = 1.0f / s;
    for (size_t p = 0; p < count; ++p) {
        float v = nearbyintf(x[p] * inverse);
        v = v > 127 ? 127 : (v < -127 ? -127 : v);
        q[p] = (int8_t)v;
    }
}

#if defined(__x86_64__)
BW_TARGET static void quantize_block_avx512(const float *x, size_t count, int8_t *q, float *scale) {
    __m512 largest = _mm512_setzero_ps();
    __mmask16 nan_seen = 0;
    size_t p = 0;
    for (; p + 16 <= count; p += 16) {
        __m512 v = _mm512_loadu_ps(x + p);
        largest = _mm512_max_ps(largest, _mm512_abs_ps(v));
        nan_seen |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    float top = _mm512_reduce_max_ps(largest);
    if (nan_seen) top = NAN;
    for (; p < count; ++p) {
        float v = fabsf(x[p]);
        top = v > top || v != v ? v : top;
    }
    float s = top / 127.0f;
    *scale = s;
    if (!(s > 0) || !isfinite(s)) {
        memset(q, 0, count);
        return;
    }
    float inverse_scalar = 1.0f / s;
    __m512 inverse = _mm512_set1_ps(inverse_scalar);
    __m512 low = _mm512_set1_ps(-127), high = _mm512_set1_ps(127);
    for (p = 0; p + 16 <= count; p += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + p), inverse);
        v = _mm512_min_ps(_mm512_max_ps(v, low), high);
        __m512i n = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(q + p), _mm512_cvtepi32_epi8(n));
    }
    for (; p < count; ++p) {
        float v = nearbyintf(x[p] * inverse_scalar);
        v = v > 127 ? 127 : (v < -127 ? -127 : v);
        q[p] = (int8_t)v;
    }
}
#endif

void cortado_quantize_rows(const float *x, ptrdiff_t x_row, size_t r0, size_t r1, size_t k, size_t block,
                           int8_t *q, float *scales) {
    size_t width = block >= k || block == 0 ? k : block;
    size_t blocks = k == 0 ? 1 : (k + width - 1) / width;
#if defined(__x86_64__)
    int wide = cpu_has(0);
#endif
    for (size_t r = r0; r < r1; ++r) {
        for (size_t b = 0; b < blocks; ++b) {
            size_t p0 = b * width, count = p0 + width < k ? width : k - p0;
            const float *xs = x + (ptrdiff_t)r * x_row + p0;
            int8_t *qs = q + r * k + p0;
            float *s = scales + r * blocks + b;
#if defined(__x86_64__)
            if (wide) { quantize_block_avx512(xs, count, qs, s); continue; }
#endif
            quantize_block_plain(xs, count, qs, s);
        }
    }
}
