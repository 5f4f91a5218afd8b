// LayerNorm over the last axis of a contiguous x[rows, width].
//
// Row kernels (forward, input gradient): `lanes` neighbouring work-items share a row (a power of
// two, at most NORM_WG, chosen by the host from the width: GPUs spread a row over many items, CPU
// devices give each item whole rows), so a work-group of NORM_WG items holds one long row or
// NORM_WG / lanes short ones. Each item strides over its row (neighbouring items
// read neighbouring addresses) and the row sums meet in local memory, segment by segment.
// The moments come from two passes over the row (the second one hits the cache), not from E[x²] −
// mean², which cancels badly when the mean is large: with d = x − mean₁ around the first pass's
// mean, mean = mean₁ + Σd/n and var = (Σd² − (Σd)²/n)/n (the corrected two-pass algorithm, which
// also cancels the rounding error of mean₁).
//
// Weight and bias gradients: one work-item per (NORM_VW columns, block of rows) sums dy·x̂ and dy over its
// block; a second kernel sums the blocks per column. Both orders are fixed: no atomics, the same
// result on every run.
//
// Row passes read NORM_VW elements at a time (vloadn: any alignment), the last width mod NORM_VW
// elements one at a time. x, weight, bias, y and their gradients are in the storage type (-DSTORAGE,
// storage.cl); the row statistics mean and rstd and the block partials are float, and so is all
// arithmetic.
//
// Built with -DSTORAGE=<type> -DNORM_WG=<power of two> -DNORM_VW=<1, 2, 4, 8 or 16>.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#if NORM_VW == 1
typedef float floatv;
#define FLOAD(i, p) ((p)[i])
#define FSTORE(v, i, p) ((p)[i] = (v))
inline float vsum(float v) { return v; }
#else
typedef CAT(float, NORM_VW) floatv;
#define FLOAD(i, p) CAT(vload, NORM_VW)((i), (p))
#define FSTORE(v, i, p) CAT(vstore, NORM_VW)((v), (i), (p))
inline float vsum(floatv v) {
    float parts[NORM_VW];
    FSTORE(v, 0, parts);
    float s = 0.0f;
    for (int i = 0; i < NORM_VW; ++i) s += parts[i];
    return s;
}
#endif

// Vector i (NORM_VW elements) of a storage-type array, widened to float, and its narrowing store.
#if STORAGE == 0
#define VLOAD(i, p) FLOAD(i, p)
#define VSTORE(v, i, p) FSTORE(v, i, p)
#elif NORM_VW == 1
#define VLOAD(i, p) LOAD(p, (long)(i))
#define VSTORE(v, i, p) STORE(p, (long)(i), v)
#else
// One vload of NORM_VW 16-bit values (storage.cl's LOADV), as the float32 build's FLOAD: a row
// pass moves the same number of accesses in half the bytes, not NORM_VW 2-byte loads.
// (The _N level expands NORM_VW to its number before storage.cl pastes it into type names.)
#define VLOAD_N(N, i, p) LOADV(N, (p) + (long)(i) * N)
#define VSTORE_N(N, v, i, p) STOREV(N, v, (p) + (long)(i) * N)
#define VLOAD(i, p) VLOAD_N(NORM_VW, i, p)
#define VSTORE(v, i, p) VSTORE_N(NORM_VW, v, i, p)
#endif

// The sum of `value` over the `lanes` work-items of this item's segment, returned to each of them.
inline float segment_sum(__local float* scratch, int lid, int lanes, float value) {
    scratch[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    int lane = lid & (lanes - 1);
    for (int width = lanes / 2; width > 0; width /= 2) {
        if (lane < width) scratch[lid] += scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[lid - lane];
    barrier(CLK_LOCAL_MEM_FENCE);  // the scratch is refilled by the next call
    return total;
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void layer_norm_forward(__global const storage_t* x, __global const storage_t* weight, int has_weight,
                        __global const storage_t* bias, int has_bias, __global storage_t* y,
                        __global float* mean, __global float* rstd, int rows, int width, int lanes,
                        float epsilon) {
    __local float scratch[NORM_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (NORM_WG / lanes) + lid / lanes;
    bool active = row < rows;
    __global const storage_t* xs = x + (long)(active ? row : 0) * width;
    int vectors = width / NORM_VW, tail = vectors * NORM_VW;
    floatv acc = 0.0f;
    float s = 0.0f;
    if (active) {
        for (int i = lane; i < vectors; i += lanes) acc += VLOAD(i, xs);
        for (int j = tail + lane; j < width; j += lanes) s += LOAD(xs, j);
    }
    float mu1 = segment_sum(scratch, lid, lanes, s + vsum(acc)) / width;
    floatv accd = 0.0f, accq = 0.0f;
    float sd = 0.0f, q = 0.0f;
    if (active) {
        for (int i = lane; i < vectors; i += lanes) {
            floatv d = VLOAD(i, xs) - mu1;
            accd += d;
            accq += d * d;
        }
        for (int j = tail + lane; j < width; j += lanes) {
            float d = LOAD(xs, j) - mu1;
            sd += d;
            q += d * d;
        }
    }
    sd = segment_sum(scratch, lid, lanes, sd + vsum(accd));
    q = segment_sum(scratch, lid, lanes, q + vsum(accq));
    float mu = mu1 + sd / width;
    float r = 1.0f / sqrt(fmax((q - sd * sd / width) / width, 0.0f) + epsilon);
    if (!active) return;
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = r;
    }
    __global storage_t* ys = y + (long)row * width;
    for (int i = lane; i < vectors; i += lanes) {
        floatv v = (VLOAD(i, xs) - mu) * r;
        if (has_weight) v *= VLOAD(i, weight);
        if (has_bias) v += VLOAD(i, bias);
        VSTORE(v, i, ys);
    }
    for (int j = tail + lane; j < width; j += lanes) {
        float v = (LOAD(xs, j) - mu) * r;
        if (has_weight) v *= LOAD(weight, j);
        if (has_bias) v += LOAD(bias, j);
        STORE(ys, j, v);
    }
}

// dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)) with g = dy · weight and x̂ = (x − mean) · rstd.
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void layer_norm_backward_input(__global const storage_t* x, __global const storage_t* weight, int has_weight,
                               __global const float* mean, __global const float* rstd,
                               __global const storage_t* dy, __global storage_t* dx, int rows, int width,
                               int lanes) {
    __local float scratch[NORM_WG];
    int lid = get_local_id(0);
    int lane = lid & (lanes - 1);
    int row = get_group_id(0) * (NORM_WG / lanes) + lid / lanes;
    bool active = row < rows;
    long base = (long)(active ? row : 0) * width;
    __global const storage_t* xs = x + base;
    __global const storage_t* gs = dy + base;
    int vectors = width / NORM_VW, tail = vectors * NORM_VW;
    float mu = active ? mean[row] : 0.0f;
    float r = active ? rstd[row] : 0.0f;
    floatv acc_g = 0.0f, acc_gx = 0.0f;
    float sum_g = 0.0f, sum_gx = 0.0f;
    if (active) {
        for (int i = lane; i < vectors; i += lanes) {
            floatv g = has_weight ? VLOAD(i, gs) * VLOAD(i, weight) : VLOAD(i, gs);
            acc_g += g;
            acc_gx += g * (VLOAD(i, xs) - mu) * r;
        }
        for (int j = tail + lane; j < width; j += lanes) {
            float g = has_weight ? LOAD(gs, j) * LOAD(weight, j) : LOAD(gs, j);
            sum_g += g;
            sum_gx += g * (LOAD(xs, j) - mu) * r;
        }
    }
    float mean_g = segment_sum(scratch, lid, lanes, sum_g + vsum(acc_g)) / width;
    float mean_gx = segment_sum(scratch, lid, lanes, sum_gx + vsum(acc_gx)) / width;
    if (!active) return;
    __global storage_t* ds = dx + base;
    for (int i = lane; i < vectors; i += lanes) {
        floatv g = has_weight ? VLOAD(i, gs) * VLOAD(i, weight) : VLOAD(i, gs);
        floatv xhat = (VLOAD(i, xs) - mu) * r;
        VSTORE(r * (g - mean_g - xhat * mean_gx), i, ds);
    }
    for (int j = tail + lane; j < width; j += lanes) {
        float g = has_weight ? LOAD(gs, j) * LOAD(weight, j) : LOAD(gs, j);
        float xhat = (LOAD(xs, j) - mu) * r;
        STORE(ds, j, r * (g - mean_g - xhat * mean_gx));
    }
}

// partial[0, block, col] = Σ dy·x̂ and partial[1, block, col] = Σ dy over the block's rows; one
// work-item per (block, NORM_VW neighbouring columns), neighbouring items on neighbouring columns.
__kernel void layer_norm_backward_partials(__global const storage_t* x, __global const float* mean,
                                           __global const float* rstd, __global const storage_t* dy,
                                           __global float* partial, int rows, int width,
                                           int rows_per_block, int blocks) {
    int groups = (width + NORM_VW - 1) / NORM_VW;
    long gid = get_global_id(0);
    if (gid >= (long)groups * blocks) return;
    int block = gid / groups, col = gid % groups * NORM_VW;
    int end = min((block + 1) * rows_per_block, rows);
    __global float* dw = partial + (long)block * width;
    __global float* db = partial + ((long)blocks + block) * width;
    if (col + NORM_VW <= width) {
        floatv sw = 0.0f, sb = 0.0f;
        for (int row = block * rows_per_block; row < end; ++row) {
            long at = (long)row * width + col;
            floatv g = VLOAD(0, dy + at);
            sw += g * (VLOAD(0, x + at) - mean[row]) * rstd[row];
            sb += g;
        }
        FSTORE(sw, 0, dw + col);
        FSTORE(sb, 0, db + col);
        return;
    }
    for (int c = col; c < width; ++c) {
        float sw = 0.0f, sb = 0.0f;
        for (int row = block * rows_per_block; row < end; ++row) {
            long at = (long)row * width + c;
            sw += LOAD(dy, at) * (LOAD(x, at) - mean[row]) * rstd[row];
            sb += LOAD(dy, at);
        }
        dw[c] = sw;
        db[c] = sb;
    }
}

// dweight[col] = Σ_block partial[0, block, col], dbias[col] = Σ_block partial[1, block, col].
__kernel void layer_norm_backward_sum(__global const float* partial, __global storage_t* dweight, int has_dweight,
                                      __global storage_t* dbias, int has_dbias, int width, int blocks) {
    int gid = get_global_id(0);
    if (gid >= 2 * width) return;
    int which = gid / width, col = gid % width;
    if (which == 0 ? !has_dweight : !has_dbias) return;
    float s = 0.0f;
    for (int block = 0; block < blocks; ++block) s += partial[((long)which * blocks + block) * width + col];
    if (which == 0) STORE(dweight, col, s); else STORE(dbias, col, s);
}
