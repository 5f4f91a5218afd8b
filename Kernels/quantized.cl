// Quantised inference: the int8 matrix product with int32 sums per block of k, and the symmetric
// per-row (per-block) int8 quantisation of activations. See Backend.quantizedGemm / quantizeRows.
//
// With -DINT_DOT=1 (the device has cl_khr_integer_dot_product) four products of a char4 pair are
// one `dot`; otherwise they are widened to int and summed.

#ifdef INT_DOT
#pragma OPENCL EXTENSION cl_khr_integer_dot_product : enable
#define DOT4(x, y) dot(x, y)
#else
#define DOT4(x, y) ((int)(x).s0 * (int)(y).s0 + (int)(x).s1 * (int)(y).s1 + (int)(x).s2 * (int)(y).s2 + (int)(x).s3 * (int)(y).s3)
#endif

#define QT 4  // rows and columns of the result per work-item

// out[i][j] = Σ_b (Σ_{p in block b} a[i][p] · w[j][p]) · a_scales[i][b] · w_scales[j][b] + bias[j]
// for a[m][k], w[n][k] (int8), scales [rows][blocks], out[m][n] (float). A work-item computes a
// QT × QT tile; rows and columns past the end repeat the last one and are not stored.
__kernel void quantized_gemm(__global const char* a, __global const float* a_scales,
                             __global const char* w, __global const float* w_scales,
                             __global const float* bias, int has_bias, __global float* out,
                             int m, int n, int k, int block, int blocks) {
    int j0 = get_global_id(0) * QT, i0 = get_global_id(1) * QT;
    if (i0 >= m || j0 >= n) return;
    int rows[QT], cols[QT];
    for (int t = 0; t < QT; ++t) {
        rows[t] = min(i0 + t, m - 1);
        cols[t] = min(j0 + t, n - 1);
    }
    float total[QT][QT];
    for (int r = 0; r < QT; ++r)
        for (int c = 0; c < QT; ++c) total[r][c] = 0.0f;
    for (int b = 0; b < blocks; ++b) {
        int p0 = b * block, p1 = min(k, p0 + block);
        int sum[QT][QT];
        for (int r = 0; r < QT; ++r)
            for (int c = 0; c < QT; ++c) sum[r][c] = 0;
        int p = p0;
        for (; p + 4 <= p1; p += 4) {
            char4 x[QT], y[QT];
            for (int t = 0; t < QT; ++t) {
                x[t] = vload4(0, a + (long)rows[t] * k + p);
                y[t] = vload4(0, w + (long)cols[t] * k + p);
            }
            for (int r = 0; r < QT; ++r)
                for (int c = 0; c < QT; ++c) sum[r][c] += DOT4(x[r], y[c]);
        }
        for (; p < p1; ++p) {
            for (int r = 0; r < QT; ++r)
                for (int c = 0; c < QT; ++c) sum[r][c] += (int)a[(long)rows[r] * k + p] * (int)w[(long)cols[c] * k + p];
        }
        for (int r = 0; r < QT; ++r)
            for (int c = 0; c < QT; ++c)
                total[r][c] += (float)sum[r][c] * (a_scales[rows[r] * blocks + b] * w_scales[cols[c] * blocks + b]);
    }
    for (int r = 0; r < QT && i0 + r < m; ++r) {
        for (int c = 0; c < QT && j0 + c < n; ++c) {
            out[(long)(i0 + r) * n + j0 + c] = total[r][c] + (has_bias ? bias[j0 + c] : 0.0f);
        }
    }
}

// One work-item per (row, block) of x[rows][width] (with has_mul, of x · mul column by column:
// SmoothQuant's smoothing): scale = max |x| / 127, or with has_fixed the static scale fixed[block]
// (NaN either way if the block holds one), q = round(x / scale) to nearest even in [-127, 127]; a
// zero or non-finite scale gives zeros.
__kernel void quantize_rows(__global const float* x, __global char* q, __global float* scales,
                            __global const float* fixed, int has_fixed, __global const float* mul, int has_mul,
                            int rows, int width, int block, int blocks) {
    int gid = get_global_id(0);
    if (gid >= rows * blocks) return;
    int r = gid / blocks, b = gid % blocks;
    long base = (long)r * width;
    int p0 = b * block, p1 = min(width, p0 + block);
    float top = 0.0f;
    int nan_seen = 0;
    for (int p = p0; p < p1; ++p) {
        float v = fabs(has_mul ? x[base + p] * mul[p] : x[base + p]);
        nan_seen |= isnan(v);
        top = fmax(top, v);
    }
    float s = nan_seen ? NAN : has_fixed ? fixed[b] : top / 127.0f;
    scales[gid] = s;
    if (!(s > 0.0f) || isinf(s)) {
        for (int p = p0; p < p1; ++p) q[base + p] = 0;
        return;
    }
    float inverse = 1.0f / s;
    for (int p = p0; p < p1; ++p) {
        float v = has_mul ? x[base + p] * mul[p] : x[base + p];
        q[base + p] = convert_char_sat(rint(clamp(v * inverse, -127.0f, 127.0f)));
    }
}

// out[r][p] = q[r][p] · scales[r][p / block] as float: the operands of the float product that
// devices without integer dot products run instead of quantized_gemm (see
// OpenCLBackend.quantizedGemm). One work-item per value.
__kernel void dequantize_rows(__global const char* q, __global const float* scales, __global float* out,
                              int rows, int width, int block, int blocks) {
    long gid = get_global_id(0);
    if (gid >= (long)rows * width) return;
    int r = (int)(gid / width), p = (int)(gid % width);
    out[gid] = (float)q[gid] * scales[r * blocks + p / block];
}
