// Softmax and log-softmax of a contiguous block x[outer, n, inner] along n, numerically stable
// (the row maximum is subtracted before exponentiating). One work-item per (o, i).

__kernel void softmax_forward(__global const float* x, __global float* out,
                              int outer, int n, int inner, int log_output) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    long base = (long)o * n * inner + i;
    float m = -INFINITY;
    for (int j = 0; j < n; ++j) m = fmax(m, x[base + (long)j * inner]);
    float total = 0.0f;
    for (int j = 0; j < n; ++j) total += exp(x[base + (long)j * inner] - m);
    if (log_output) {
        float log_total = log(total) + m;
        for (int j = 0; j < n; ++j) out[base + (long)j * inner] = x[base + (long)j * inner] - log_total;
    } else {
        float inv = 1.0f / total;
        for (int j = 0; j < n; ++j) out[base + (long)j * inner] = exp(x[base + (long)j * inner] - m) * inv;
    }
}

// softmax:     dx = y · (dy − Σ dy·y)
// log-softmax: dx = dy − exp(y) · Σ dy
__kernel void softmax_backward(__global const float* y, __global const float* dy, __global float* dx,
                               int outer, int n, int inner, int log_output) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    long base = (long)o * n * inner + i;
    float total = 0.0f;
    if (log_output) {
        for (int j = 0; j < n; ++j) total += dy[base + (long)j * inner];
        for (int j = 0; j < n; ++j) {
            long at = base + (long)j * inner;
            dx[at] = dy[at] - exp(y[at]) * total;
        }
    } else {
        for (int j = 0; j < n; ++j) total += dy[base + (long)j * inner] * y[base + (long)j * inner];
        for (int j = 0; j < n; ++j) {
            long at = base + (long)j * inner;
            dx[at] = y[at] * (dy[at] - total);
        }
    }
}
