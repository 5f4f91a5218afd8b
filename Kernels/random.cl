// Counter-based random numbers (Philox-4x32-10, Salmon et al., SC'11): element j of a fill is a
// pure function of (seed, counter + j), so every device yields the same stream as the CPU backend.
#pragma OPENCL FP_CONTRACT OFF

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// The 32×32 → 64-bit products written out rather than with mul_hi, which PoCL calls as a library
// function that stops it vectorising across work-items.
inline uint4 philox_round(uint4 c, uint2 k) {
    ulong p0 = (ulong)PHILOX_M0 * c.x, p1 = (ulong)PHILOX_M1 * c.z;
    return (uint4)((uint)(p1 >> 32) ^ c.y ^ k.x, (uint)p1, (uint)(p0 >> 32) ^ c.w ^ k.y, (uint)p0);
}

// Block `counter + offset` (a 64-bit sum carried by hand) under `seed`.
inline uint4 philox(ulong counter, ulong seed, uint offset) {
    uint lo = (uint)counter + offset;
    uint hi = (uint)(counter >> 32) + (lo < offset ? 1u : 0u);
    uint4 c = (uint4)(lo, hi, 0u, 0u);
    uint2 k = (uint2)((uint)seed, (uint)(seed >> 32));
    for (int round = 0; round < 9; ++round) {
        c = philox_round(c, k);
        k += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return philox_round(c, k);
}

// Uniform and Bernoulli: work-item b draws block counter + b and writes elements 4b … 4b + 3,
// word j of the block to element 4b + j (the CPU backend's order). Whole blocks are stored as one
// float4 (no per-lane branches or private arrays, so CPU compilers vectorise across work-items).
inline float4 unit_floats(uint4 words) {
    return convert_float4(words >> 8) * 0x1.0p-24f;
}

inline void store_block(__global float* out, int first, int n, float4 v) {
    if (first + 4 <= n) {
        vstore4(v, 0, out + first);
    } else {
        out[first] = v.x;
        if (first + 1 < n) out[first + 1] = v.y;
        if (first + 2 < n) out[first + 2] = v.z;
    }
}

__kernel void random_uniform(__global float* out, int offset, int n, ulong seed, ulong counter,
                             float low, float high) {
    int b = get_global_id(0), first = 4 * b;
    if (first >= n) return;
    float4 u = unit_floats(philox(counter, seed, (uint)b));
    store_block(out + offset, first, n, low + (high - low) * u);
}

__kernel void random_bernoulli(__global float* out, int offset, int n, ulong seed, ulong counter,
                               float probability, float value) {
    int b = get_global_id(0), first = 4 * b;
    if (first >= n) return;
    float4 u = unit_floats(philox(counter, seed, (uint)b));
    store_block(out + offset, first, n, select((float4)(0.0f), (float4)(value), u < probability));
}

__kernel void random_normal(__global float* out, int offset, int n, ulong seed, ulong counter,
                            float mean, float std) {
    int i = get_global_id(0);
    if (i >= n) return;
    uint4 r = philox(counter, seed, (uint)i);
    float u1 = (float)((r.x >> 8) + 1u) * 0x1.0p-24f;
    float u2 = (float)(r.y >> 8) * 0x1.0p-24f;
    float z = sqrt(-2.0f * log(u1)) * cos(6.2831853071795865f * u2);
    out[offset + i] = mean + std * z;
}
