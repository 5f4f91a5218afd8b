// 2-D pooling over planes [P, H, W] (P = batch · channels). Padding never wins a max and counts
// as zero in an average (PyTorch's defaults). Backward passes gather, one work-item per input
// element, so overlapping windows need no atomics.

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
