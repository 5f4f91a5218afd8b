// SGEMM: C[b] = alpha · A[b] · B[b] + beta · C[b], row-major C, any strides for A and B.
//
// Both operands are first packed into panels, so the compute kernels read contiguous, zero-padded
// memory and check bounds only when they store C:
//   A (m × k) → panels of TILE_M rows, each [kp][TILE_M] (k-major);
//   B (k × n) → packed as Bᵀ: panels of TILE_N columns, each [kp][TILE_N];
//   kp = k (register-blocked) or k rounded up to TILE_K (local-tiled); padding is zero.
//
// gemm_register_blocked (CPU-type devices, e.g. PoCL): one work-item keeps a TILE_M × TILE_N block
//   of C in VECTOR_WIDTH-wide registers (12 × 32 in float16: 24 zmm accumulators on AVX-512) and
//   streams its two panels. Tiles are walked in groups of GROUP_M row-tiles per column panel, so a
//   B panel and GROUP_M A panels stay in cache; PoCL's pthread device runs consecutive work-group
//   ids on the same thread, so the linear id is the execution order. Launch with local size 1×1×1.
// gemm_local_tiled (GPUs): a work-group of THREADS_N × THREADS_M items stages TILE_K-deep slices of
//   one A and one B panel in local memory; each item accumulates (TILE_M / THREADS_M) ×
//   (TILE_N / THREADS_N) entries, strided so that neighbouring items touch neighbouring addresses.
//
// A's panels are float (the register-blocked kernel broadcasts each of its values, which a 16-bit
// panel would have to widen one at a time); B's panels keep the operands' storage type, a bit copy
// (gemm_pack_*_native), which halves them for 16-bit operands: B is the large operand of a
// convolution (its im2col columns), and its float panels set the 16-bit cnn's peak memory on PoCL.
// The compute kernels widen B a vector at a time (LOADV).
//
// Built with -DTILE_M -DTILE_N -DTILE_K -DTHREADS_M -DTHREADS_N -DVECTOR_WIDTH -DGROUP_M, and per
// element type of A and B (STORAGE: read with LOAD / LOADV) and of C (OUT_STORAGE: read with
// LOAD_OUT, written with STORE_OUT). Accumulation is in float.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define PRAGMA_(x) _Pragma(#x)
#define PRAGMA(x) PRAGMA_(x)

#if VECTOR_WIDTH == 1
#define VEC float
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#else
#define VEC CAT(float, VECTOR_WIDTH)
#define VLOAD(i, p) CAT(vload, VECTOR_WIDTH)(i, p)
#define VSTORE(v, i, p) CAT(vstore, VECTOR_WIDTH)(v, i, p)
#endif

// VECTOR_WIDTH consecutive elements of C (OUT_STORAGE) as a VEC, and back.
#define LOADV_OUT_N(N, p) LOADV_OUT(N, p)
#define STOREV_OUT_N(N, v, p) STOREV_OUT(N, v, p)
#if VECTOR_WIDTH == 1
#define VLOAD_C(p) LOAD_OUT(p, 0)
#define VSTORE_C(v, p) STORE_OUT(p, 0, v)
#define VLOAD_B(p) LOAD(p, 0)
#else
#define VLOAD_C(p) LOADV_OUT_N(VECTOR_WIDTH, p)
#define VSTORE_C(v, p) STOREV_OUT_N(VECTOR_WIDTH, v, p)
#define LOADV_N(N, p) LOADV(N, p)
#define VLOAD_B(p) LOADV_N(VECTOR_WIDTH, p)
#endif

// Columns of X one work-item of gemm_pack_blocks copies.
#define PACK_COLUMNS 16

// Sixteen consecutive elements of the storage type as a float16 vector.
#if STORAGE == 0
#define LOAD16(p) vload16(0, p)
#elif STORAGE == 1
#define LOAD16(p) vload_half16(0, p)
#else
#define LOAD16(p) as_float16(convert_uint16(vload16(0, p)) << 16)
#endif

// Packs the rows × cols matrix X (element (r, c) at src[offset + b·batch_stride + r·row_stride +
// c·col_stride]) into panels of `panel` rows, [kp][panel] each, zero-padded: one work-item per
// block of PACK_COLUMNS columns of one panel (a contiguous block of dst). Work-items walk the
// blocks in the order that keeps their reads adjacent in src: panels fastest when the panel's rows
// are contiguous there (row_stride 1), column blocks fastest otherwise.
// Launch: global (column blocks, panels, batches), local 1×1×1.
// Defined twice below: float panels (gemm_pack_blocks) and storage-type panels, copied as bits
// (gemm_pack_blocks_native). SRC_T / DST_T: the element types; V16_T, LOAD_V16 and STORE_V16: 16
// consecutive elements; LOAD_1: one element as DST_T; ZERO: DST_T's zero (all bits clear in each).
#define DEFINE_PACK_BLOCKS(NAME, SRC_T, DST_T, V16_T, LOAD_V16, STORE_V16, LOAD_1, ZERO)                          \
    __kernel void NAME(__global const SRC_T* restrict src, int src_offset, int row_stride, int col_stride,       \
                       long batch_stride, int rows, int cols, int panel, int kp, __global DST_T* restrict dst) { \
        int b = get_global_id(2);                                                                                \
        int panels = (rows + panel - 1) / panel;                                                                 \
        int blocks = (kp + PACK_COLUMNS - 1) / PACK_COLUMNS;                                                     \
        int linear = get_global_id(0) + get_global_id(1) * get_global_size(0);                                   \
        if (linear >= blocks * panels) return;                                                                   \
        int p, c0;                                                                                               \
        if (row_stride == 1) { p = linear % panels; c0 = (linear / panels) * PACK_COLUMNS; }                     \
        else { c0 = (linear % blocks) * PACK_COLUMNS; p = linear / blocks; }                                     \
        __global const SRC_T* s = src + src_offset + b * batch_stride + (long)c0 * col_stride                    \
                                + (long)p * panel * row_stride;                                                  \
        __global DST_T* d = dst + ((long)b * panels + p) * (long)panel * kp + (long)c0 * panel;                 \
        int valid_rows = min(rows - p * panel, panel);                                                           \
        int valid_cols = clamp(cols - c0, 0, PACK_COLUMNS);                                                      \
        int width = min(kp - c0, PACK_COLUMNS);                                                                  \
        if (row_stride == 1) {                                                                                   \
            /* Each packed column is a contiguous run of src. */                                                 \
            for (int j = 0; j < valid_cols; ++j) {                                                               \
                __global const SRC_T* sj = s + (long)j * col_stride;                                             \
                __global DST_T* dj = d + (long)j * panel;                                                        \
                int r = 0;                                                                                       \
                for (; r + 16 <= valid_rows; r += 16) STORE_V16(LOAD_V16(sj + r), dj + r);                       \
                for (; r < valid_rows; ++r) dj[r] = LOAD_1(sj, r);                                               \
                for (; r < panel; ++r) dj[r] = ZERO;                                                             \
            }                                                                                                    \
        } else if (col_stride == 1 && valid_cols == PACK_COLUMNS) {                                              \
            /* Each row of the block is a contiguous run of src: one vector load, scattered into dst. */         \
            for (int r = 0; r < panel; ++r) {                                                                    \
                V16_T v = r < valid_rows ? LOAD_V16(s + (long)r * row_stride) : (V16_T)(ZERO);                   \
                __global DST_T* dr = d + r;                                                                      \
                PRAGMA(unroll)                                                                                   \
                for (int j = 0; j < PACK_COLUMNS; ++j) dr[j * panel] = v[j];                                     \
            }                                                                                                    \
        } else {                                                                                                 \
            for (int j = 0; j < valid_cols; ++j)                                                                 \
                for (int r = 0; r < panel; ++r)                                                                  \
                    d[(long)j * panel + r] = r < valid_rows ? LOAD_1(s, (long)r * row_stride + (long)j * col_stride) \
                                                            : ZERO;                                              \
        }                                                                                                        \
        for (int j = valid_cols; j < width; ++j)                                                                 \
            for (int r = 0; r < panel; ++r) d[(long)j * panel + r] = ZERO;                                       \
    }

// The same packing with one work-item per element of dst (coalesced writes on GPUs).
#define DEFINE_PACK_ELEMENTS(NAME, SRC_T, DST_T, LOAD_1, ZERO)                                                   \
    __kernel void NAME(__global const SRC_T* src, int src_offset, int row_stride, int col_stride,                \
                       long batch_stride, int rows, int cols, int panel, int kp, __global DST_T* dst, long total) { \
        long gid = get_global_id(0);                                                                             \
        if (gid >= total) return;                                                                                \
        int panels = (rows + panel - 1) / panel;                                                                 \
        int r_in_panel = (int)(gid % panel);                                                                     \
        long rest = gid / panel;                                                                                 \
        int c = (int)(rest % kp);                                                                                \
        rest /= kp;                                                                                              \
        int p = (int)(rest % panels);                                                                            \
        long b = rest / panels;                                                                                  \
        int r = p * panel + r_in_panel;                                                                          \
        DST_T v = ZERO;                                                                                          \
        if (r < rows && c < cols) v = LOAD_1(src, src_offset + b * batch_stride + (long)r * row_stride + (long)c * col_stride); \
        dst[gid] = v;                                                                                            \
    }

// The storage type's bits, for the bit-copying (native) packing.
#define bits_t CORTADO_XCAT(BITS_T_, STORAGE)
#define bits16_t CAT(bits_t, 16)
#define BITS_LOAD16(p) vload16(0, p)
#define STORE16(v, p) vstore16(v, 0, p)
#define BITS_LOAD(p, i) ((p)[i])

DEFINE_PACK_BLOCKS(gemm_pack_blocks, storage_t, float, float16, LOAD16, STORE16, LOAD, 0.0f)
DEFINE_PACK_BLOCKS(gemm_pack_blocks_native, bits_t, bits_t, bits16_t, BITS_LOAD16, STORE16, BITS_LOAD, 0)
DEFINE_PACK_ELEMENTS(gemm_pack_elements, storage_t, float, LOAD, 0.0f)
DEFINE_PACK_ELEMENTS(gemm_pack_elements_native, bits_t, bits_t, BITS_LOAD, 0)

#define NV (TILE_N / VECTOR_WIDTH)

// Only the kernel of the chosen algorithm is compiled: the other, built with this table's tile
// sizes, could be huge (a 64 × 64 register tile makes NVIDIA's compiler run for minutes).
#if !LOCAL_TILED
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_register_blocked(__global const float* restrict ap, long ap_batch,
                           __global const storage_t* restrict bp, long bp_batch,
                           __global out_storage_t* restrict c, int c_offset, int ldc, long c_batch,
                           int m, int n, int kp, float alpha, float beta) {
    int b = get_global_id(2);
    int row_tiles = (m + TILE_M - 1) / TILE_M;
    int col_tiles = (n + TILE_N - 1) / TILE_N;
    int linear = get_global_id(0) + get_global_id(1) * get_global_size(0);
    if (linear >= row_tiles * col_tiles) return;
    // Grouped walk: GROUP_M row-tiles share a column panel before moving to the next panel.
    int group = linear / (GROUP_M * col_tiles);
    int within = linear - group * GROUP_M * col_tiles;
    int group_size = min(GROUP_M, row_tiles - group * GROUP_M);
    int tn = within / group_size;
    int tm = group * GROUP_M + (within - tn * group_size);

    __global const float* a = ap + b * ap_batch + (long)tm * kp * TILE_M;
    __global const storage_t* b_panel = bp + b * bp_batch + (long)tn * kp * TILE_N;

    VEC acc[TILE_M][NV];
    PRAGMA(unroll)
    for (int i = 0; i < TILE_M; ++i)
        PRAGMA(unroll)
        for (int j = 0; j < NV; ++j) acc[i][j] = (VEC)(0.0f);

    for (int k = 0; k < kp; ++k) {
        VEC bv[NV];
        PRAGMA(unroll)
        for (int j = 0; j < NV; ++j) bv[j] = VLOAD_B(b_panel + ((long)k * NV + j) * VECTOR_WIDTH);
        PRAGMA(unroll)
        for (int i = 0; i < TILE_M; ++i) {
            VEC av = (VEC)(a[(long)k * TILE_M + i]);
            PRAGMA(unroll)
            for (int j = 0; j < NV; ++j) acc[i][j] = fma(av, bv[j], acc[i][j]);
        }
    }

    __global out_storage_t* ct = c + c_offset + b * c_batch + (long)tm * TILE_M * ldc + (long)tn * TILE_N;
    int rows_left = m - tm * TILE_M;
    int cols_left = n - tn * TILE_N;
    // Whole tiles store vectors, 16-bit C converted a vector at a time (with the element loop below,
    // the bf16 cnn's GEMMs took 1.2-1.9x the float32 device time on PoCL).
    if (rows_left >= TILE_M && cols_left >= TILE_N) {
        PRAGMA(unroll)
        for (int i = 0; i < TILE_M; ++i)
            PRAGMA(unroll)
            for (int j = 0; j < NV; ++j) {
                __global out_storage_t* q = ct + (long)i * ldc + j * VECTOR_WIDTH;
                VEC value = alpha * acc[i][j];
                if (beta != 0.0f) value += beta * VLOAD_C(q);  // beta = 0 never reads C (it may hold NaN)
                VSTORE_C(value, q);
            }
    } else {
        // Edge tile. The row loop stays unrolled so acc is indexed by constants (kept in registers).
        float row[TILE_N];
        int width = min(cols_left, TILE_N);
        PRAGMA(unroll)
        for (int i = 0; i < TILE_M; ++i) {
            if (i < rows_left) {
                PRAGMA(unroll)
                for (int j = 0; j < NV; ++j) VSTORE(acc[i][j], 0, row + j * VECTOR_WIDTH);
                __global out_storage_t* q = ct + (long)i * ldc;
                for (int j = 0; j < width; ++j)
                    STORE_OUT(q, j, beta != 0.0f ? alpha * row[j] + beta * LOAD_OUT(q, j) : alpha * row[j]);
            }
        }
    }
}
#endif  // !LOCAL_TILED

#if LOCAL_TILED
#define WPT_M (TILE_M / THREADS_M)
#define WPT_N (TILE_N / THREADS_N)
#define THREADS (THREADS_M * THREADS_N)

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1)))
void gemm_local_tiled(__global const float* ap, long ap_batch,
                      __global const storage_t* bp, long bp_batch,
                      __global out_storage_t* c, int c_offset, int ldc, long c_batch,
                      int m, int n, int kp, float alpha, float beta) {
    __local float a_tile[TILE_K * TILE_M];
    __local float b_tile[TILE_K * TILE_N];
    int tx = get_local_id(0);
    int ty = get_local_id(1);
    int jb = get_group_id(0);
    int ib = get_group_id(1);
    int b = get_group_id(2);
    int tid = ty * THREADS_N + tx;
    __global const float* a = ap + b * ap_batch + (long)ib * kp * TILE_M;
    __global const storage_t* bb = bp + b * bp_batch + (long)jb * kp * TILE_N;

    float acc[WPT_M][WPT_N];
    PRAGMA(unroll)
    for (int i = 0; i < WPT_M; ++i)
        PRAGMA(unroll)
        for (int j = 0; j < WPT_N; ++j) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < kp; k0 += TILE_K) {
        // Each slice is contiguous in the packed panels: coalesced loads.
        for (int i = tid; i < TILE_K * TILE_M; i += THREADS) a_tile[i] = a[(long)k0 * TILE_M + i];
        for (int i = tid; i < TILE_K * TILE_N; i += THREADS) b_tile[i] = LOAD(bb, (long)k0 * TILE_N + i);
        barrier(CLK_LOCAL_MEM_FENCE);
        PRAGMA(unroll)
        for (int kk = 0; kk < TILE_K; ++kk) {
            float b_reg[WPT_N];
            PRAGMA(unroll)
            for (int j = 0; j < WPT_N; ++j) b_reg[j] = b_tile[kk * TILE_N + tx + j * THREADS_N];
            PRAGMA(unroll)
            for (int i = 0; i < WPT_M; ++i) {
                float a_value = a_tile[kk * TILE_M + ty + i * THREADS_M];
                PRAGMA(unroll)
                for (int j = 0; j < WPT_N; ++j) acc[i][j] = fma(a_value, b_reg[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global out_storage_t* cb = c + c_offset + b * c_batch;
    PRAGMA(unroll)
    for (int i = 0; i < WPT_M; ++i) {
        int row = ib * TILE_M + ty + i * THREADS_M;
        if (row >= m) continue;
        PRAGMA(unroll)
        for (int j = 0; j < WPT_N; ++j) {
            int col = jb * TILE_N + tx + j * THREADS_N;
            if (col >= n) continue;
            float value = alpha * acc[i][j];
            if (beta != 0.0f) value += beta * LOAD_OUT(cb, (long)row * ldc + col);
            STORE_OUT(cb, (long)row * ldc + col, value);
        }
    }
}
#endif  // LOCAL_TILED
