// Gather and scatter along the middle axis of x[outer, n, inner] with int32 indices[outer, inner].
// Out-of-range indices read as 0 and scatter nowhere (the host validates user-supplied labels).

__kernel void gather_axis(__global const float* x, __global const int* indices, __global float* out,
                          int outer, int n, int inner) {
    int gid = get_global_id(0);
    if (gid >= outer * inner) return;
    int o = gid / inner, i = gid % inner;
    int j = indices[gid];
    out[gid] = (j >= 0 && j < n) ? x[((long)o * n + j) * inner + i] : 0.0f;
}

__kernel void scatter_axis(__global const float* values, __global const int* indices,
                           __global float* out, int outer, int n, int inner) {
    int gid = get_global_id(0);
    if (gid >= outer * n * inner) return;
    int i = gid % inner;
    int j = (gid / inner) % n;
    int o = gid / (inner * n);
    int k = o * inner + i;
    out[gid] = indices[k] == j ? values[k] : 0.0f;
}
