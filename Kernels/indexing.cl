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

// Embedding lookups: out[i, :] = table[indices[i], :]. One work-item per output element.
// Built per storage type (STORAGE); a row is moved through float, which is exact.
__kernel void gather_rows(__global const storage_t* table, __global const int* indices, __global storage_t* out,
                          int count, int width, int table_rows) {
    int gid = get_global_id(0);
    if (gid >= count * width) return;
    int i = gid / width, d = gid % width;
    int row = indices[i];
    STORE(out, gid, (row >= 0 && row < table_rows) ? LOAD(table, (long)row * width + d) : 0.0f);
}

// The embedding gradient: out[r, :] = Σ values[i, :] over i with indices[i] = r. Each work-item
// owns one column d of the whole table and walks the indices in order, so there are no races and
// the sums are deterministic. out must be zeroed first.
__kernel void scatter_add_rows(__global const float* values, __global const int* indices, __global float* out,
                               int count, int width, int table_rows) {
    int d = get_global_id(0);
    if (d >= width) return;
    for (int i = 0; i < count; ++i) {
        int row = indices[i];
        if (row >= 0 && row < table_rows) out[(long)row * width + d] += values[(long)i * width + d];
    }
}
