// Convolution lowering: im2col unfolds NCHW input into a column matrix
// cols[C·KH·KW, N·OH·OW] so that the convolution is one GEMM; col2im is its adjoint.
// col2im gathers (one work-item per input element sums every patch entry that reads it), so it
// needs no atomics and is deterministic.

typedef struct {
    int batch, channels, height, width;
    int kernel_h, kernel_w, stride_y, stride_x, pad_y, pad_x, dilation_y, dilation_x;
    int out_h, out_w;
} conv_geometry;

// The geometry travels as an int16 (components in the order of conv_geometry) to avoid
// relying on struct layout agreement between host and device compilers.
inline conv_geometry unpack_geometry(int16 g) {
    conv_geometry r;
    r.batch = g.s0; r.channels = g.s1; r.height = g.s2; r.width = g.s3;
    r.kernel_h = g.s4; r.kernel_w = g.s5; r.stride_y = g.s6; r.stride_x = g.s7;
    r.pad_y = g.s8; r.pad_x = g.s9; r.dilation_y = g.sa; r.dilation_x = g.sb;
    r.out_h = g.sc; r.out_w = g.sd;
    return r;
}

__kernel void im2col(__global const float* x, __global float* cols, int16 geometry) {
    conv_geometry g = unpack_geometry(geometry);
    int columns = g.batch * g.out_h * g.out_w;
    int total = g.channels * g.kernel_h * g.kernel_w * columns;
    int gid = get_global_id(0);
    if (gid >= total) return;
    int q = gid % columns;
    int r = gid / columns;
    int ox = q % g.out_w;
    int oy = (q / g.out_w) % g.out_h;
    int n = q / (g.out_w * g.out_h);
    int kx = r % g.kernel_w;
    int ky = (r / g.kernel_w) % g.kernel_h;
    int c = r / (g.kernel_w * g.kernel_h);
    int iy = oy * g.stride_y - g.pad_y + ky * g.dilation_y;
    int ix = ox * g.stride_x - g.pad_x + kx * g.dilation_x;
    float v = 0.0f;
    if (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width)
        v = x[(((long)n * g.channels + c) * g.height + iy) * g.width + ix];
    cols[gid] = v;
}

__kernel void col2im(__global const float* cols, __global float* x, int16 geometry) {
    conv_geometry g = unpack_geometry(geometry);
    int total = g.batch * g.channels * g.height * g.width;
    int gid = get_global_id(0);
    if (gid >= total) return;
    int ix = gid % g.width;
    int iy = (gid / g.width) % g.height;
    int c = (gid / (g.width * g.height)) % g.channels;
    int n = gid / (g.width * g.height * g.channels);
    int columns = g.batch * g.out_h * g.out_w;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
        int ty = iy + g.pad_y - ky * g.dilation_y;
        if (ty < 0 || ty % g.stride_y != 0) continue;
        int oy = ty / g.stride_y;
        if (oy >= g.out_h) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
            int tx = ix + g.pad_x - kx * g.dilation_x;
            if (tx < 0 || tx % g.stride_x != 0) continue;
            int ox = tx / g.stride_x;
            if (ox >= g.out_w) continue;
            int r = (c * g.kernel_h + ky) * g.kernel_w + kx;
            int q = (n * g.out_h + oy) * g.out_w + ox;
            acc += cols[(long)r * columns + q];
        }
    }
    x[gid] = acc;
}
