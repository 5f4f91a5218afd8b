// Convolution lowering: im2col unfolds NCHW input into one column matrix per sample,
// cols[N, C·KH·KW, OH·OW], so that the convolution is a batched GEMM writing NCHW directly;
// col2im is its adjoint.
//
// Built per input type (STORAGE: x for im2col, cols for col2im) and result type (OUT_STORAGE); values
// move through float (LOAD, STORE_OUT). Built with -DROWS_PER_ITEM: 1 on CPU-type devices, where one work-item fills a whole output row
// of im2col in a loop the compiler vectorises (id 0 has extent 1); 0 on GPUs, one element per item.
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

// Range: (out_w, out_h, batch · patch): id 2 picks the sample and the patch row (uniform across a
// work-group), ids 0 and 1 the output pixel; no division per element.
__kernel void im2col(__global const storage_t* x, __global out_storage_t* cols, int16 geometry) {
    conv_geometry g = unpack_geometry(geometry);
    int ox = get_global_id(0), oy = get_global_id(1), row = get_global_id(2);
    if (ox >= (ROWS_PER_ITEM ? 1 : g.out_w) || oy >= g.out_h) return;
    int patch = g.channels * g.kernel_h * g.kernel_w;
    int n = row / patch, r = row - n * patch;
    int kx = r % g.kernel_w;
    int ky = (r / g.kernel_w) % g.kernel_h;
    int c = r / (g.kernel_w * g.kernel_h);
    int iy = oy * g.stride_y - g.pad_y + ky * g.dilation_y;
    int shift = kx * g.dilation_x - g.pad_x;
    __global out_storage_t* out = cols + ((long)row * g.out_h + oy) * g.out_w;
    bool row_inside = iy >= 0 && iy < g.height;
    __global const storage_t* line = x + (((long)n * g.channels + c) * g.height + (row_inside ? iy : 0)) * g.width;
#if ROWS_PER_ITEM
    if (!row_inside) {
        for (int i = 0; i < g.out_w; ++i) STORE_OUT(out, i, 0.0f);
        return;
    }
    if (g.stride_x == 1 && shift >= 0 && shift + g.out_w <= g.width) {
        for (int i = 0; i < g.out_w; ++i) STORE_OUT(out, i, LOAD(line, i + shift));  // the common unpadded case
    } else {
        for (int i = 0; i < g.out_w; ++i) {
            int ix = i * g.stride_x + shift;
            STORE_OUT(out, i, (ix >= 0 && ix < g.width) ? LOAD(line, ix) : 0.0f);
        }
    }
#else
    int ix = ox * g.stride_x + shift;
    STORE_OUT(out, ox, (row_inside && ix >= 0 && ix < g.width) ? LOAD(line, ix) : 0.0f);
#endif
}

// Range: (width, height, batch · channels): one work-item per input element gathers every patch
// entry that reads it.
__kernel void col2im(__global const storage_t* cols, __global out_storage_t* x, int16 geometry) {
    conv_geometry g = unpack_geometry(geometry);
    int ix = get_global_id(0), iy = get_global_id(1), plane = get_global_id(2);
    if (ix >= g.width || iy >= g.height) return;
    int n = plane / g.channels, c = plane - n * g.channels;
    int patch = g.channels * g.kernel_h * g.kernel_w;
    int out_plane = g.out_h * g.out_w;
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
            acc += LOAD(cols, ((long)n * patch + r) * out_plane + oy * g.out_w + ox);
        }
    }
    STORE_OUT(x, ((long)plane * g.height + iy) * g.width + ix, acc);
}
