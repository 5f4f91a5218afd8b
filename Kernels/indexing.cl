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

// Embedding lookups: out[i, :] = table[indices[i] - first_row, :] for the indices in
// [first_row, first_row + table_rows) (the table, or one segment of a table stored in several
// buffers); the other rows of out become 0, or keep their values when keep_others is set. One
// work-item per output element. Built per storage type (STORAGE); a row is moved through float,
// which is exact.
__kernel void gather_rows(__global const storage_t* table, __global const int* indices, __global storage_t* out,
                          int count, int width, int first_row, int table_rows, int keep_others) {
    int gid = get_global_id(0);
    if (gid >= count * width) return;
    int i = gid / width, d = gid % width;
    long row = (long)indices[i] - first_row;
    if (row >= 0 && row < table_rows) {
        STORE(out, gid, LOAD(table, row * width + d));
    } else if (!keep_others) {
        STORE(out, gid, 0.0f);
    }
}

// The embedding gradient: out[r, :] = Σ values[i, :] over i with indices[i] = first_row + r. Each
// work-item owns one column d of the whole table (or segment) and walks the indices in order, so
// there are no races and the sums are deterministic. out must be zeroed first.
__kernel void scatter_add_rows(__global const float* values, __global const int* indices, __global float* out,
                               int count, int width, int first_row, int table_rows) {
    int d = get_global_id(0);
    if (d >= width) return;
    for (int i = 0; i < count; ++i) {
        long row = (long)indices[i] - first_row;
        if (row >= 0 && row < table_rows) out[row * width + d] += values[(long)i * width + d];
    }
}
