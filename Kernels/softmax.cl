// Softmax and log-softmax of a contiguous block x[outer, n, inner] along n, numerically stable
// (the row maximum is subtracted before exponentiating). Operands are in the storage type
// (-DSTORAGE, read and written through LOAD and STORE); arithmetic is in float.
//
// Rows (inner == 1) go to the row kernels: `lanes` neighbouring work-items share a row (a power of
// two chosen by the host, as for LayerNorm: GPUs spread a row over many items, CPU devices give
// each item whole rows), each strides over it so neighbours read neighbouring addresses, and the
// row's maximum and sum meet in local memory in a fixed order. Other layouts: one work-item per
// (o, i), which reads with stride `inner`.
//
// Built with -DSTORAGE=<type> -DROW_WG=<power of two: the work-group size of the row kernels>
// -DROW_VW=<elements of one vector access of the _vector row kernels; 1: none>.

__kernel void softmax_forward(__global const storage_t* x, __global storage_t* out,
                              int outer, int n, int inner, int log_output) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    long base = (long)o * n * inner + i;
    float m = -INFINITY;
    for (int j = 0; j < n; ++j) m = fmax(m, LOAD(x, base + (long)j * inner));
    float total = 0.0f;
    for (int j = 0; j < n; ++j) total += exp(LOAD(x, base + (long)j * inner) - m);
    if (log_output) {
        float log_total = log(total) + m;
        for (int j = 0; j < n; ++j) STORE(out, base + (long)j * inner, LOAD(x, base + (long)j * inner) - log_total);
    } else {
        float inv = 1.0f / total;
        for (int j = 0; j < n; ++j) STORE(out, base + (long)j * inner, exp(LOAD(x, base + (long)j * inner) - m) * inv);
    }
}

// softmax:     dx = y · (dy − Σ dy·y)
// log-softmax: dx = dy − exp(y) · Σ dy
__kernel void softmax_backward(__global const storage_t* y, __global const storage_t* dy, __global storage_t* dx,
                               int outer, int n, int inner, int log_output) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    long base = (long)o * n * inner + i;
    float total = 0.0f;
    if (log_output) {
        for (int j = 0; j < n; ++j) total += LOAD(dy, base + (long)j * inner);
        for (int j = 0; j < n; ++j) {
            long at = base + (long)j * inner;
            STORE(dx, at, LOAD(dy, at) - exp(LOAD(y, at)) * total);
        }
    } else {
        for (int j = 0; j < n; ++j) total += LOAD(dy, base + (long)j * inner) * LOAD(y, base + (long)j * inner);
        for (int j = 0; j < n; ++j) {
            long at = base + (long)j * inner;
            STORE(dx, at, LOAD(y, at) * (LOAD(dy, at) - total));
        }
    }
}

// The maximum (take_max) or the sum of `value` over the `lanes` work-items of this item's row,
// returned to each of them.
inline float row_reduce(__local float* scratch, int lid, int lanes, float value, int take_max) {
    scratch[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    int lane = lid & (lanes - 1);
    for (int width = lanes / 2; width > 0; width /= 2) {
        if (lane < width) {
            float other = scratch[lid + width];
            scratch[lid] = take_max ? fmax(scratch[lid], other) : scratch[lid] + other;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[lid - lane];
    barrier(CLK_LOCAL_MEM_FENCE);  // the scratch is refilled by the next call
    return total;
}

__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1)))
void softmax_rows_forward(__global const storage_t* x, __global storage_t* out, int rows, int n, int lanes,
                          int log_output) {
    __local float scratch[ROW_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (ROW_WG / lanes) + lid / lanes;
    bool active = row < rows;
    long base = (long)(active ? row : 0) * n;
    float m = -INFINITY;
    if (active) for (int j = lane; j < n; j += lanes) m = fmax(m, LOAD(x, base + j));
    m = row_reduce(scratch, lid, lanes, m, 1);
    float total = 0.0f;
    if (active) for (int j = lane; j < n; j += lanes) total += exp(LOAD(x, base + j) - m);
    total = row_reduce(scratch, lid, lanes, total, 0);
    if (!active) return;
    if (log_output) {
        float log_total = log(total) + m;
        for (int j = lane; j < n; j += lanes) STORE(out, base + j, LOAD(x, base + j) - log_total);
    } else {
        float inv = 1.0f / total;
        for (int j = lane; j < n; j += lanes) STORE(out, base + j, exp(LOAD(x, base + j) - m) * inv);
    }
}

__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1)))
void softmax_rows_backward(__global const storage_t* y, __global const storage_t* dy, __global storage_t* dx,
                           int rows, int n, int lanes, int log_output) {
    __local float scratch[ROW_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (ROW_WG / lanes) + lid / lanes;
    bool active = row < rows;
    long base = (long)(active ? row : 0) * n;
    float total = 0.0f;
    if (active) {
        if (log_output) for (int j = lane; j < n; j += lanes) total += LOAD(dy, base + j);
        else for (int j = lane; j < n; j += lanes) total += LOAD(dy, base + j) * LOAD(y, base + j);
    }
    total = row_reduce(scratch, lid, lanes, total, 0);
    if (!active) return;
    if (log_output) {
        for (int j = lane; j < n; j += lanes) STORE(dx, base + j, LOAD(dy, base + j) - exp(LOAD(y, base + j)) * total);
    } else {
        for (int j = lane; j < n; j += lanes) STORE(dx, base + j, LOAD(y, base + j) * (LOAD(dy, base + j) - total));
    }
}

// The row kernels with each lane taking ROW_VW consecutive elements (16 bytes of the storage type on
// GPUs) through one aligned access per operand, lanes ROW_VW elements apart. The host uses them
// when n is a multiple of ROW_VW, so every row starts aligned; same order of operations per element
// as the kernels above, the sums grouped per vector before the lanes' tree.
#ifndef ROW_VW
#define ROW_VW 1
#endif
#if ROW_VW > 1
typedef CORTADO_XCAT(float, ROW_VW) rowv;
inline float rowv_max(rowv v) {
    float parts[ROW_VW];
    CORTADO_XCAT(vstore, ROW_VW)(v, 0, parts);
    float m = parts[0];
    for (int k = 1; k < ROW_VW; ++k) m = fmax(m, parts[k]);
    return m;
}
inline float rowv_sum(rowv v) {
    float parts[ROW_VW];
    CORTADO_XCAT(vstore, ROW_VW)(v, 0, parts);
    float s = 0.0f;
    for (int k = 0; k < ROW_VW; ++k) s += parts[k];
    return s;
}
#define ROW_LOAD(p, at) LOADA(ROW_VW, (p) + (at))
#define ROW_STORE(p, at, v) STOREA(ROW_VW, v, (p) + (at))
#define ROW_CHUNKS(j) for (int j = lane * ROW_VW; j < n; j += lanes * ROW_VW)

__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1)))
void softmax_rows_forward_vector(__global const storage_t* x, __global storage_t* out, int rows, int n, int lanes,
                                 int log_output) {
    __local float scratch[ROW_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (ROW_WG / lanes) + lid / lanes;
    bool active = row < rows;
    long base = (long)(active ? row : 0) * n;
    float m = -INFINITY;
    if (active) ROW_CHUNKS(j) m = fmax(m, rowv_max(ROW_LOAD(x, base + j)));
    m = row_reduce(scratch, lid, lanes, m, 1);
    float total = 0.0f;
    if (active) ROW_CHUNKS(j) total += rowv_sum(exp(ROW_LOAD(x, base + j) - m));
    total = row_reduce(scratch, lid, lanes, total, 0);
    if (!active) return;
    if (log_output) {
        float log_total = log(total) + m;
        ROW_CHUNKS(j) ROW_STORE(out, base + j, ROW_LOAD(x, base + j) - log_total);
    } else {
        float inv = 1.0f / total;
        ROW_CHUNKS(j) ROW_STORE(out, base + j, exp(ROW_LOAD(x, base + j) - m) * inv);
    }
}

__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1)))
void softmax_rows_backward_vector(__global const storage_t* y, __global const storage_t* dy, __global storage_t* dx,
                                  int rows, int n, int lanes, int log_output) {
    __local float scratch[ROW_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (ROW_WG / lanes) + lid / lanes;
    bool active = row < rows;
    long base = (long)(active ? row : 0) * n;
    float total = 0.0f;
    if (active) {
        if (log_output) ROW_CHUNKS(j) total += rowv_sum(ROW_LOAD(dy, base + j));
        else ROW_CHUNKS(j) total += rowv_sum(ROW_LOAD(dy, base + j) * ROW_LOAD(y, base + j));
    }
    total = row_reduce(scratch, lid, lanes, total, 0);
    if (!active) return;
    if (log_output) {
        ROW_CHUNKS(j) ROW_STORE(dx, base + j, ROW_LOAD(dy, base + j) - exp(ROW_LOAD(y, base + j)) * total);
    } else {
        ROW_CHUNKS(j) ROW_STORE(dx, base + j, ROW_LOAD(y, base + j) * (ROW_LOAD(dy, base + j) - total));
    }
}
#endif
