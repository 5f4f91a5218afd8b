// 2-D pooling over planes [P, H, W] (P = batch · channels). Padding never wins a max and counts
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

__kernel void max_pool_forward(__global const float* x, __global float* y, __global int* indices,
                               int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.out_h * g.out_w) return;
    int ox = gid % g.out_w;
    int oy = (gid / g.out_w) % g.out_h;
    int p = gid / (g.out_w * g.out_h);
    __global const float* plane = x + (long)p * g.height * g.width;
    float best = -INFINITY;
    int best_index = -1;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
        int iy = oy * g.stride_y - g.pad_y + ky;
        if (iy < 0 || iy >= g.height) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
            int ix = ox * g.stride_x - g.pad_x + kx;
            if (ix < 0 || ix >= g.width) continue;
            float v = plane[iy * g.width + ix];
            if (best_index < 0 || v > best || isnan(v)) {
                best = v;
                best_index = iy * g.width + ix;
                if (isnan(v)) { ky = g.kernel_h; break; }
            }
        }
    }
    y[gid] = best;
    indices[gid] = best_index;
}

// Whether value v replaces the best so far (the first maximum wins; NaN wins and stays).
inline bool pool_better(float v, float best) { return v > best || (isnan(v) && !isnan(best)); }

// The largest of the 2×2 window at `top` in `plane`, and its position.
inline void max_of_2x2(__global const float* plane, int top, int width, float* best, int* best_index) {
    float m = plane[top];
    int at = top;
    float v = plane[top + 1];
    if (pool_better(v, m)) { m = v; at = top + 1; }
    v = plane[top + width];
    if (pool_better(v, m)) { m = v; at = top + width; }
    v = plane[top + width + 1];
    if (pool_better(v, m)) { m = v; at = top + width + 1; }
    *best = m;
    *best_index = at;
}

// The common 2×2 window with stride 2 and no padding, on a 2-D range: id 0 = output column,
// id 1 = plane · out_h + output row (one division per element). A row-per-work-item variant
// measured slower on PoCL (1.9 against 1.2 ms for the cnn's pooling), so every device uses this.
__kernel void max_pool_2x2_forward(__global const float* x, __global float* y, __global int* indices,
                                   int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int ox = get_global_id(0);
    int row = get_global_id(1);
    if (ox >= g.out_w || row >= g.planes * g.out_h) return;
    int p = row / g.out_h, oy = row - p * g.out_h;
    __global const float* plane = x + (long)p * g.height * g.width;
    float best;
    int at;
    max_of_2x2(plane, 2 * oy * g.width + 2 * ox, g.width, &best, &at);
    long o = (long)row * g.out_w + ox;
    y[o] = best;
    indices[o] = at;
}

// Backward of max pooling with disjoint windows: dx (zeroed first) receives each output's gradient
// at its argmax. One work-item per output; no two outputs share an input position.
__kernel void max_pool_backward_scatter(__global const float* dy, __global const int* indices,
                                        __global float* dx, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int o = get_global_id(0);
    if (o >= g.planes * g.out_h * g.out_w) return;
    int p = o / (g.out_h * g.out_w);
    int at = indices[o];
    if (at >= 0) dx[(long)p * g.height * g.width + at] = dy[o];
}

// The output windows that contain input row (or column) i: [first, last].
inline int2 window_range(int i, int pad, int size, int stride, int out) {
    int t = i + pad;
    int first = t - size + 1 <= 0 ? 0 : (t - size + 1 + stride - 1) / stride;
    int last = min(t / stride, out - 1);
    return (int2)(first, last);
}

__kernel void max_pool_backward(__global const float* dy, __global const int* indices,
                                __global float* dx, int16 geometry) {
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
            if (indices[o] == here) acc += dy[o];
        }
    dx[gid] = acc;
}

__kernel void avg_pool_forward(__global const float* x, __global float* y, int16 geometry) {
    pool_geometry g = unpack_pool(geometry);
    int gid = get_global_id(0);
    if (gid >= g.planes * g.out_h * g.out_w) return;
    int ox = gid % g.out_w;
    int oy = (gid / g.out_w) % g.out_h;
    int p = gid / (g.out_w * g.out_h);
    __global const float* plane = x + (long)p * g.height * g.width;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
        int iy = oy * g.stride_y - g.pad_y + ky;
        if (iy < 0 || iy >= g.height) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
            int ix = ox * g.stride_x - g.pad_x + kx;
            if (ix >= 0 && ix < g.width) acc += plane[iy * g.width + ix];
        }
    }
    y[gid] = acc / (float)(g.kernel_h * g.kernel_w);
}

__kernel void avg_pool_backward(__global const float* dy, __global float* dx, int16 geometry) {
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
        for (int ox = xs.x; ox <= xs.y; ++ox) acc += dy[base + oy * g.out_w + ox];
    dx[gid] = acc / (float)(g.kernel_h * g.kernel_w);
}
