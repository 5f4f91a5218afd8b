// Reductions of a contiguous block x[outer, n, inner] along n.
//
// Rows (inner == 1): one work-group of REDUCE_WG items per (row, chunk); items stride over the
// chunk, then combine in local memory. With more than one chunk per row the host runs a second
// pass over the partial results.
// Columns (inner > 1): with COLUMN_BLOCK == 1 (GPUs) one work-item per (o, i) walks n, so
// neighbouring items read neighbouring addresses; with COLUMN_BLOCK > 1 (CPU-type devices) one
// work-item reduces COLUMN_BLOCK neighbouring columns, walking the rows with a fixed-width inner
// loop that the compiler vectorises.
//
// Built with -DREDUCE_WG=<power of two> -DCOLUMN_BLOCK=<columns per work-item>, and per input type
// (STORAGE) and result type (OUT_STORAGE): elements are read with LOAD, accumulated in float and
// written with STORE_OUT (a two-pass row reduction keeps its partial results in float).

#define SUM_INIT 0.0f
#define SUM_OP(a, b) ((a) + (b))
#define MAX_INIT (-INFINITY)
#define MAX_OP(a, b) fmax((a), (b))
#define MIN_INIT INFINITY
#define MIN_OP(a, b) fmin((a), (b))

#define REDUCE_KERNELS(NAME, INIT, OP)                                                              \
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))                                     \
void reduce_##NAME##_rows(__global const storage_t* x, int x_offset, __global out_storage_t* out,   \
                          int n, int chunk, int chunks, float scale) {                              \
    __local float partial[REDUCE_WG];                                                               \
    int lid = get_local_id(0);                                                                      \
    int group = get_group_id(0);                                                                    \
    int row = group / chunks;                                                                       \
    int begin = (group % chunks) * chunk;                                                           \
    int end = min(begin + chunk, n);                                                                \
    __global const storage_t* xs = x + x_offset + (long)row * n;                                    \
    float acc = INIT;                                                                               \
    for (int j = begin + lid; j < end; j += REDUCE_WG) acc = OP(acc, LOAD(xs, j));                  \
    partial[lid] = acc;                                                                             \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                   \
    for (int width = REDUCE_WG / 2; width > 0; width /= 2) {                                        \
        if (lid < width) partial[lid] = OP(partial[lid], partial[lid + width]);                     \
        barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    }                                                                                               \
    if (lid == 0) STORE_OUT(out, group, partial[0] * scale);                                        \
}                                                                                                   \
__kernel void reduce_##NAME##_columns(__global const storage_t* x, int x_offset,                    \
                                      __global out_storage_t* out,                                  \
                                      int outer, int n, int inner, float scale) {                   \
    int blocks = (inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;                                         \
    int gid = get_global_id(0);                                                                     \
    if (gid >= outer * blocks) return;                                                              \
    int o = gid / blocks, i0 = (gid % blocks) * COLUMN_BLOCK;                                       \
    int width = min(COLUMN_BLOCK, inner - i0);                                                      \
    __global const storage_t* xs = x + x_offset + (long)o * n * inner + i0;                         \
    float acc[COLUMN_BLOCK];                                                                        \
    for (int c = 0; c < COLUMN_BLOCK; ++c) acc[c] = INIT;                                           \
    if (width == COLUMN_BLOCK) {                                                                    \
        for (int j = 0; j < n; ++j)                                                                 \
            for (int c = 0; c < COLUMN_BLOCK; ++c) acc[c] = OP(acc[c], LOAD(xs, (long)j * inner + c)); \
    } else {                                                                                        \
        for (int j = 0; j < n; ++j)                                                                 \
            for (int c = 0; c < width; ++c) acc[c] = OP(acc[c], LOAD(xs, (long)j * inner + c));     \
    }                                                                                               \
    __global out_storage_t* target = out + (long)o * inner + i0;                                    \
    for (int c = 0; c < width; ++c) STORE_OUT(target, c, acc[c] * scale);                           \
}

REDUCE_KERNELS(sum, SUM_INIT, SUM_OP)
REDUCE_KERNELS(max, MAX_INIT, MAX_OP)
REDUCE_KERNELS(min, MIN_INIT, MIN_OP)

// argmax: the first index of the largest value (NaN counts as largest, as in PyTorch).
inline bool argmax_better(float v, int j, float best, int best_j) {
    if (isnan(best)) return isnan(v) && j < best_j;
    if (isnan(v)) return true;
    return v > best || (v == best && j < best_j);
}

__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void reduce_argmax_rows(__global const storage_t* x, int x_offset, __global int* out, int n) {
    __local float best_value[REDUCE_WG];
    __local int best_index[REDUCE_WG];
    int lid = get_local_id(0);
    int row = get_group_id(0);
    __global const storage_t* xs = x + x_offset + (long)row * n;
    float best = -INFINITY;
    int best_j = n;
    for (int j = lid; j < n; j += REDUCE_WG) {
        float v = LOAD(xs, j);
        if (argmax_better(v, j, best, best_j)) { best = v; best_j = j; }
    }
    best_value[lid] = best;
    best_index[lid] = best_j;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = REDUCE_WG / 2; width > 0; width /= 2) {
        if (lid < width && argmax_better(best_value[lid + width], best_index[lid + width],
                                         best_value[lid], best_index[lid])) {
            best_value[lid] = best_value[lid + width];
            best_index[lid] = best_index[lid + width];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[row] = best_index[0] < n ? best_index[0] : 0;
}

__kernel void reduce_argmax_columns(__global const storage_t* x, int x_offset, __global int* out,
                                    int outer, int n, int inner) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    __global const storage_t* xs = x + x_offset + (long)o * n * inner + i;
    float best = -INFINITY;
    int best_j = n;
    for (int j = 0; j < n; ++j) {
        float v = LOAD(xs, (long)j * inner);
        if (argmax_better(v, j, best, best_j)) { best = v; best_j = j; }
    }
    out[gid] = best_j < n ? best_j : 0;
}
