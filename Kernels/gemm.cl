// SGEMM: C[b] = alpha · A[b] · B[b] + beta · C[b], row-major C, any strides for A and B.
//
// Both operands are first packed into panels (gemm_pack), so the compute kernels read contiguous,
// zero-padded memory and need no edge checks until they store C:
//   A (m × k) → panels of PANEL_A rows, each [kp][PANEL_A] (k-major), kp = k rounded up to TILE_K;
//   B (k × n) → panels of PANEL_B columns, each [kp][PANEL_B].
// gemm_register_blocked (CPU-type devices): one work-item keeps a TILE_M × TILE_N block of C in
//   vector registers and streams its two panels; PANEL_A = TILE_M, PANEL_B = TILE_N.
// gemm_local_tiled (GPUs): a work-group of THREADS_N × THREADS_M items stages TILE_K-deep slices of
//   a TILE_M-row and a TILE_N-column panel in local memory; each item accumulates
//   (TILE_M/THREADS_M) × (TILE_N/THREADS_N) entries.
// Built with -DTILE_M -DTILE_N -DTILE_K -DTHREADS_M -DTHREADS_N -DVECTOR_WIDTH.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if VECTOR_WIDTH == 1
#define VEC float
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#else
#define VEC CAT(float, VECTOR_WIDTH)
#define VLOAD(i, p) CAT(vload, VECTOR_WIDTH)(i, p)
#define VSTORE(v, i, p) CAT(vstore, VECTOR_WIDTH)(v, i, p)
#endif

// Packs the rows × cols matrix X (element (r, c) at src[offset + b·batch_stride + r·row_stride +
// c·col_stride]) into panels of `panel` rows: dst[((b·panels + p)·kp + c)·panel + r'].
__kernel void gemm_pack(__global const float* src, int src_offset, int row_stride, int col_stride,
                        long batch_stride, int rows, int cols, int panel, int panels, int kp,
                        __global float* dst, long total) {
    long gid = get_global_id(0);
    if (gid >= total) return;
    int r_in_panel = (int)(gid % panel);
    long rest = gid / panel;
    int c = (int)(rest % kp);
    rest /= kp;
    int p = (int)(rest % panels);
    long b = rest / panels;
    int r = p * panel + r_in_panel;
    float v = 0.0f;
    if (r < rows && c < cols)
        v = src[src_offset + b * batch_stride + (long)r * row_stride + (long)c * col_stride];
    dst[gid] = v;
}

#define NV (TILE_N / VECTOR_WIDTH)

__kernel void gemm_register_blocked(__global const float* ap, long ap_batch,
                                    __global const float* bp, long bp_batch,
                                    __global float* c, int c_offset, int ldc, long c_batch,
                                    int m, int n, int kp, float alpha, float beta) {
    int jb = get_global_id(0);
    int ib = get_global_id(1);
    int b = get_global_id(2);
    int row0 = ib * TILE_M;
    int col0 = jb * TILE_N;
    if (row0 >= m || col0 >= n) return;
    __global const float* a = ap + b * ap_batch + (long)ib * kp * TILE_M;
    __global const float* bb = bp + b * bp_batch + (long)jb * kp * TILE_N;

    VEC acc[TILE_M][NV];
    #pragma unroll
    for (int r = 0; r < TILE_M; ++r)
        #pragma unroll
        for (int v = 0; v < NV; ++v) acc[r][v] = (VEC)(0.0f);

    for (int k = 0; k < kp; k += TILE_K) {
        #pragma unroll
        for (int kk = 0; kk < TILE_K; ++kk) {
            __global const float* brow = bb + (k + kk) * TILE_N;
            __global const float* acol = a + (k + kk) * TILE_M;
            VEC bv[NV];
            #pragma unroll
            for (int v = 0; v < NV; ++v) bv[v] = VLOAD(v, brow);
            #pragma unroll
            for (int r = 0; r < TILE_M; ++r) {
                VEC av = (VEC)(acol[r]);
                #pragma unroll
                for (int v = 0; v < NV; ++v) acc[r][v] = fma(av, bv[v], acc[r][v]);
            }
        }
    }

    __global float* cb = c + c_offset + b * c_batch;
    bool full_width = col0 + TILE_N <= n;
    #pragma unroll
    for (int r = 0; r < TILE_M; ++r) {
        int row = row0 + r;
        if (row >= m) break;
        __global float* crow = cb + (long)row * ldc + col0;
        if (full_width) {
            #pragma unroll
            for (int v = 0; v < NV; ++v) {
                VEC value = alpha * acc[r][v];
                if (beta != 0.0f) value += beta * VLOAD(v, crow);
                VSTORE(value, v, crow);
            }
        } else {
            float values[TILE_N];
            #pragma unroll
            for (int v = 0; v < NV; ++v) VSTORE(acc[r][v], v, values);
            for (int j = 0; j < n - col0; ++j) {
                float value = alpha * values[j];
                if (beta != 0.0f) value += beta * crow[j];
                crow[j] = value;
            }
        }
    }
}

#define WPT_M (TILE_M / THREADS_M)
#define WPT_N (TILE_N / THREADS_N)
#define THREADS (THREADS_M * THREADS_N)

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1)))
void gemm_local_tiled(__global const float* ap, long ap_batch,
                      __global const float* bp, long bp_batch,
                      __global float* c, int c_offset, int ldc, long c_batch,
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
    __global const float* bb = bp + b * bp_batch + (long)jb * kp * TILE_N;

    float acc[WPT_M][WPT_N];
    #pragma unroll
    for (int i = 0; i < WPT_M; ++i)
        #pragma unroll
        for (int j = 0; j < WPT_N; ++j) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < kp; k0 += TILE_K) {
        // Each slice is contiguous in the packed panels: coalesced loads.
        #pragma unroll
        for (int i = tid; i < TILE_K * TILE_M; i += THREADS) a_tile[i] = a[(long)k0 * TILE_M + i];
        #pragma unroll
        for (int i = tid; i < TILE_K * TILE_N; i += THREADS) b_tile[i] = bb[(long)k0 * TILE_N + i];
        barrier(CLK_LOCAL_MEM_FENCE);
        #pragma unroll
        for (int kk = 0; kk < TILE_K; ++kk) {
            float b_reg[WPT_N];
            #pragma unroll
            for (int j = 0; j < WPT_N; ++j) b_reg[j] = b_tile[kk * TILE_N + tx + j * THREADS_N];
            #pragma unroll
            for (int i = 0; i < WPT_M; ++i) {
                float a_value = a_tile[kk * TILE_M + ty + i * THREADS_M];
                #pragma unroll
                for (int j = 0; j < WPT_N; ++j) acc[i][j] = fma(a_value, b_reg[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global float* cb = c + c_offset + b * c_batch;
    #pragma unroll
    for (int i = 0; i < WPT_M; ++i) {
        int row = ib * TILE_M + ty + i * THREADS_M;
        if (row >= m) continue;
        #pragma unroll
        for (int j = 0; j < WPT_N; ++j) {
            int col = jb * TILE_N + tx + j * THREADS_N;
            if (col >= n) continue;
            float value = alpha * acc[i][j];
            if (beta != 0.0f) value += beta * cb[(long)row * ldc + col];
            cb[(long)row * ldc + col] = value;
        }
    }
}
