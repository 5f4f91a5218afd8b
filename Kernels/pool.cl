// 2-D pooling over planes [P, H, W] (P = batch · channels), built per storage type (STORAGE, see
// storage.cl: values are read with LOAD/LOADV and written with STORE/STOREV; indices stay int). Padding never wins a max and counts
// as zero in an average (PyTorch's defaults). Backward passes of overlapping windows gather, one
// work-item per input element, so they need no atomics; max pooling with disjoint windows
// (stride ≥ kernel) scatters each output's gradient to its recorded argmax instead.

typedef struct {
    int planes, height, width, kernel_h, kernel_w, stride_y, stride_x, pad_y, pad_x, out_h, out_w;
} pool_geometry;

// Components in the order of pool_geometry.
inline pool_geometry unpack_pool(int16 g) {
    pool_geometry r;
    r.planes = g.s0; r.height = g.s1; r.width = g.s2; r.kernel_h = g.s3; r.kernel_w = g.s4;
    r.stride_y = g.s5; r.stride_x = g.s6; r.pad_y = g.s7; r.pad_x = g.s8;
    r.out_h = g.s9; r.out_w = g.sa;
    return r;
}

__kernel void max_pool_forward(__global const storage_t* x, __global storage_t* y, __global int* indices,
                               int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.out_h * g.out_w) return;
    int ox = gid % g.out_w;
    int oy = (gid / g.out_w) % g.out_h;
    int p = gid / (g.out_w * g.out_h);
    __global const storage_t* plane = x + (long)p * g.height * g.width;
    float best = -INFINITY;
    int best_index = -1;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
        int iy = oy * g.stride_y - g.pad_y + ky;
        if (iy < 0 || iy >= g.height) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
            int ix = ox * g.stride_x - g.pad_x + kx;
            if (ix < 0 || ix >= g.width) continue;
            float v = LOAD(plane, iy * g.width + ix);
            if (best_index < 0 || v > best || isnan(v)) {
                best = v;
                best_index = iy * g.width + ix;
                if (isnan(v)) { ky = g.kernel_h; break; }
            }
        }
    }
    STORE(y, gid, best);
    indices[gid] = best_index;
}

// Whether value v replaces the best so far (the first maximum wins; NaN wins and stays).
inline bool pool_better(float v, float best) { return v > best || (isnan(v) && !isnan(best)); }

// The largest of the 2×2 window at `top` in `plane`, and its position.
inline void max_of_2x2(__global const storage_t* plane, int top, int width, float* best, int* best_index) {
    float m = LOAD(plane, top);
    int at = top;
    float v = LOAD(plane, top + 1);
    if (pool_better(v, m)) { m = v; at = top + 1; }
    v = LOAD(plane, top + width);
    if (pool_better(v, m)) { m = v; at = top + width; }
    v = LOAD(plane, top + width + 1);
    if (pool_better(v, m)) { m = v; at = top + width + 1; }
    *best = m;
    *best_index = at;
}

// The common 2×2 window with stride 2 and no padding, on a 2-D range: id 0 = output column,
// id 1 = plane · out_h + output row (one division per element). GPUs use this; CPU-type devices
// use max_pool_2x2_forward_rows below. (A scalar row-per-work-item loop measured slower on PoCL,
// 1.9 against 1.2 ms for the cnn's pooling; the vector one, 0.4–0.7 ms.)
__kernel void max_pool_2x2_forward(__global const storage_t* x, __global storage_t* y, __global int* indices,
                                   int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int ox = get_global_id(0);
    int row = get_global_id(1);
    if (ox >= g.out_w || row >= g.planes * g.out_h) return;
    int p = row / g.out_h, oy = row - p * g.out_h;
    __global const storage_t* plane = x + (long)p * g.height * g.width;
    float best;
    int at;
    max_of_2x2(plane, 2 * oy * g.width + 2 * ox, g.width, &best, &at);
    long o = (long)row * g.out_w + ox;
    STORE(y, o, best);
    indices[o] = at;
}

// pool_better for eight or four lanes at once: all bits set where v replaces best.
inline int8 pool_better8(float8 v, float8 best) { return (v > best) | (isnan(v) & ~isnan(best)); }
inline int4 pool_better4(float4 v, float4 best) { return (v > best) | (isnan(v) & ~isnan(best)); }

// Outputs x0 ..< x0 + N of a row from float(2N) loads of its two input rows (N = 8 or 4): their
// even lanes are the windows' left column, the odd lanes the right one. LEFTS: the lanes' offsets.
#define MAX_POOL_2X2_LANES(N, TWO_N, LEFTS, x0)                                          \
    {                                                                                    \
        int ox_ = (x0);                                                                  \
        float##TWO_N upper = LOADV(TWO_N, plane + top + 2 * ox_);                        \
        float##TWO_N lower = LOADV(TWO_N, plane + top + g.width + 2 * ox_);              \
        float##N m = upper.even;                                                         \
        int##N left = (int##N)LEFTS + (top + 2 * ox_), at = left;                        \
        int##N take = pool_better##N(upper.odd, m);                                      \
        m = select(m, upper.odd, take);                                                  \
        at = select(at, left + 1, take);                                                 \
        take = pool_better##N(lower.even, m);                                            \
        m = select(m, lower.even, take);                                                 \
        at = select(at, left + g.width, take);                                           \
        take = pool_better##N(lower.odd, m);                                             \
        m = select(m, lower.odd, take);                                                  \
        at = select(at, left + g.width + 1, take);                                       \
        STOREV(N, m, out + ox_);                                                         \
        vstore##N(at, 0, out_at + ox_);                                                  \
    }

// The same window on CPU-type devices: one output row per work-item, eight outputs at a time. A
// row whose length is not a multiple of eight ends with the eight outputs that end it, which
// recomputes a few of the previous block's outputs (the same values) rather than falling back to
// scalar loads and stores: in 16-bit storage those cost twice the float32 time on PoCL. Rows
// shorter than eight take two overlapping blocks of four, and rows shorter than four one at a time.
// (The 2-D kernel's stride-2 reads across work-items become gathers there.)
__kernel void max_pool_2x2_forward_rows(__global const storage_t* x, __global storage_t* y, __global int* indices,
                                        int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int row = get_global_id(0);
    if (row >= g.planes * g.out_h) return;
    int p = row / g.out_h, oy = row - p * g.out_h;
    __global const storage_t* plane = x + (long)p * g.height * g.width;
    int top = 2 * oy * g.width;
    __global storage_t* out = y + (long)row * g.out_w;
    __global int* out_at = indices + (long)row * g.out_w;
    if (g.out_w >= 8) {
        int ox = 0;
        for (; ox + 8 <= g.out_w; ox += 8) MAX_POOL_2X2_LANES(8, 16, (0, 2, 4, 6, 8, 10, 12, 14), ox)
        if (ox < g.out_w) MAX_POOL_2X2_LANES(8, 16, (0, 2, 4, 6, 8, 10, 12, 14), g.out_w - 8)
    } else if (g.out_w >= 4) {
        MAX_POOL_2X2_LANES(4, 8, (0, 2, 4, 6), 0)
        if (g.out_w > 4) MAX_POOL_2X2_LANES(4, 8, (0, 2, 4, 6), g.out_w - 4)
    } else {
        for (int ox = 0; ox < g.out_w; ++ox) {
            float best;
            int at;
            max_of_2x2(plane, top + 2 * ox, g.width, &best, &at);
            STORE(out, ox, best);
            out_at[ox] = at;
        }
    }
}

// Backward of max pooling with disjoint windows: dx (zeroed first) receives each output's gradient
// at its argmax. One work-item per output; no two outputs share an input position.
__kernel void max_pool_backward_scatter(__global const storage_t* dy, __global const int* indices,
                                        __global storage_t* dx, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int o = get_global_id(0);
    if (o >= g.planes * g.out_h * g.out_w) return;
    int p = o / (g.out_h * g.out_w);
    int at = indices[o];
    if (at >= 0) STORE(dx, (long)p * g.height * g.width + at, LOAD(dy, o));
}

// Both input rows of the windows x0 ..< x0 + N (N = 8 or 4) from their gradients and argmaxes: the
// gradient at each window's maximum, zeros elsewhere, as float(2N) rows. ZIP interleaves the left
// and right columns.
#define MAX_POOL_2X2_BACKWARD_LANES(N, TWO_N, LEFTS, ZIP, x0)                                       \
    {                                                                                               \
        int ox_ = (x0);                                                                             \
        float##N d = LOADV(N, grad + ox_);                                                          \
        int##N offset = vload##N(0, at + ox_) - ((int##N)LEFTS + (top + 2 * ox_));                  \
        float##N zero = (float##N)(0.0f);                                                           \
        float##N upper_left = select(zero, d, offset == 0), upper_right = select(zero, d, offset == 1); \
        float##N lower_left = select(zero, d, offset == g.width);                                   \
        float##N lower_right = select(zero, d, offset == g.width + 1);                              \
        STOREV(TWO_N, shuffle2(upper_left, upper_right, ZIP), plane + top + 2 * ox_);               \
        STOREV(TWO_N, shuffle2(lower_left, lower_right, ZIP), plane + top + g.width + 2 * ox_);     \
    }

// Backward of the 2×2 window on CPU-type devices, a row of outputs per work-item like the forward:
// it writes both input rows of its windows whole, eight windows at a time (a row's last, partial
// block overlapping the previous one, as in the forward), so dx needs no clearing pass; the
// work-item of a plane's last output row also clears the row that an odd height leaves uncovered.
__kernel void max_pool_2x2_backward_rows(__global const storage_t* dy, __global const int* indices,
                                         __global storage_t* dx, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int row = get_global_id(0);
    if (row >= g.planes * g.out_h) return;
    int p = row / g.out_h, oy = row - p * g.out_h;
    __global storage_t* plane = dx + (long)p * g.height * g.width;
    int top = 2 * oy * g.width;
    __global const storage_t* grad = dy + (long)row * g.out_w;
    __global const int* at = indices + (long)row * g.out_w;
    const uint16 zip8 = (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    const uint8 zip4 = (uint8)(0, 4, 1, 5, 2, 6, 3, 7);
    if (g.out_w >= 8) {
        int ox = 0;
        for (; ox + 8 <= g.out_w; ox += 8)
            MAX_POOL_2X2_BACKWARD_LANES(8, 16, (0, 2, 4, 6, 8, 10, 12, 14), zip8, ox)
        if (ox < g.out_w) MAX_POOL_2X2_BACKWARD_LANES(8, 16, (0, 2, 4, 6, 8, 10, 12, 14), zip8, g.out_w - 8)
    } else if (g.out_w >= 4) {
        MAX_POOL_2X2_BACKWARD_LANES(4, 8, (0, 2, 4, 6), zip4, 0)
        if (g.out_w > 4) MAX_POOL_2X2_BACKWARD_LANES(4, 8, (0, 2, 4, 6), zip4, g.out_w - 4)
    } else {
        for (int ox = 0; ox < g.out_w; ++ox) {
            float d = LOAD(grad, ox);
            int window = top + 2 * ox, a = at[ox];
            STORE(plane, window, a == window ? d : 0.0f);
            STORE(plane, window + 1, a == window + 1 ? d : 0.0f);
            STORE(plane, window + g.width, a == window + g.width ? d : 0.0f);
            STORE(plane, window + g.width + 1, a == window + g.width + 1 ? d : 0.0f);
        }
    }
    for (int x = 2 * g.out_w; x < g.width; ++x) {
        STORE(plane, top + x, 0.0f);
        STORE(plane, top + g.width + x, 0.0f);
    }
    if (oy == g.out_h - 1) {
        for (int i = 2 * g.out_h * g.width; i < g.height * g.width; ++i) STORE(plane, i, 0.0f);
    }
}

// The output windows that contain input row (or column) i: [first, last].
inline int2 window_range(int i, int pad, int size, int stride, int out) {
    int t = i + pad;
    int first = t - size + 1 <= 0 ? 0 : (t - size + 1 + stride - 1) / stride;
    int last = min(t / stride, out - 1);
    return (int2)(first, last);
}

__kernel void max_pool_backward(__global const storage_t* dy, __global const int* indices,
                                __global storage_t* dx, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.height * g.width) return;
    int ix = gid % g.width;
    int iy = (gid / g.width) % g.height;
    int p = gid / (g.width * g.height);
    int here = iy * g.width + ix;
    int2 ys = window_range(iy, g.pad_y, g.kernel_h, g.stride_y, g.out_h);
    int2 xs = window_range(ix, g.pad_x, g.kernel_w, g.stride_x, g.out_w);
    long base = (long)p * g.out_h * g.out_w;
    float acc = 0.0f;
    for (int oy = ys.x; oy <= ys.y; ++oy)
        for (int ox = xs.x; ox <= xs.y; ++ox) {
            long o = base + oy * g.out_w + ox;
            if (indices[o] == here) acc += LOAD(dy, o);
        }
    STORE(dx, gid, acc);
}

__kernel void avg_pool_forward(__global const storage_t* x, __global storage_t* y, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.out_h * g.out_w) return;
    int ox = gid % g.out_w;
    int oy = (gid / g.out_w) % g.out_h;
    int p = gid / (g.out_w * g.out_h);
    __global const storage_t* plane = x + (long)p * g.height * g.width;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
        int iy = oy * g.stride_y - g.pad_y + ky;
        if (iy < 0 || iy >= g.height) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
            int ix = ox * g.stride_x - g.pad_x + kx;
            if (ix >= 0 && ix < g.width) acc += LOAD(plane, iy * g.width + ix);
        }
    }
    STORE(y, gid, acc / (float)(g.kernel_h * g.kernel_w));
}

__kernel void avg_pool_backward(__global const storage_t* dy, __global storage_t* dx, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.height * g.width) return;
    int ix = gid % g.width;
    int iy = (gid / g.width) % g.height;
    int p = gid / (g.width * g.height);
    int2 ys = window_range(iy, g.pad_y, g.kernel_h, g.stride_y, g.out_h);
    int2 xs = window_range(ix, g.pad_x, g.kernel_w, g.stride_x, g.out_w);
    long base = (long)p * g.out_h * g.out_w;
    float acc = 0.0f;
    for (int oy = ys.x; oy <= ys.y; ++oy)
        for (int ox = xs.x; ox <= xs.y; ++ox) acc += LOAD(dy, base + oy * g.out_w + ox);
    STORE(dx, gid, acc / (float)(g.kernel_h * g.kernel_w));
}
