// Counter-based random numbers (Philox-4x32-10, Salmon et al., SC'11): element j of a fill is a
// pure function of (seed, counter + j), so every device yields the same stream as the CPU backend.
#pragma OPENCL FP_CONTRACT OFF

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

inline uint4 philox_round(uint4 c, uint2 k) {
    uint hi0 = mul_hi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
    uint hi1 = mul_hi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
    return (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

inline uint4 philox(ulong counter, ulong seed) {
    uint4 c = (uint4)((uint)counter, (uint)(counter >> 32), 0u, 0u);
    uint2 k = (uint2)((uint)seed, (uint)(seed >> 32));
    for (int round = 0; round < 9; ++round) {
        c = philox_round(c, k);
        k += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return philox_round(c, k);
}

// Uniform and Bernoulli: work-item b draws block counter + b and writes elements 4b … 4b + 3,
// word j of the block to element 4b + j (the CPU backend's order).
inline float unit_float(uint word) {
    return (float)(word >> 8) * 0x1.0p-24f;
}

__kernel void random_uniform(__global float* out, int offset, int n, ulong seed, ulong counter,
                             float low, float high) {
    int b = get_global_id(0), first = 4 * b;
    if (first >= n) return;
    uint4 r = philox(counter + (ulong)b, seed);
    uint words[4] = {r.x, r.y, r.z, r.w};
    for (int j = 0; j < 4 && first + j < n; ++j)
        out[offset + first + j] = low + (high - low) * unit_float(words[j]);
}

__kernel void random_bernoulli(__global float* out, int offset, int n, ulong seed, ulong counter,
                               float probability, float value) {
    int b = get_global_id(0), first = 4 * b;
    if (first >= n) return;
    uint4 r = philox(counter + (ulong)b, seed);
    uint words[4] = {r.x, r.y, r.z, r.w};
    for (int j = 0; j < 4 && first + j < n; ++j)
        out[offset + first + j] = unit_float(words[j]) < probability ? value : 0.0f;
}

__kernel void random_normal(__global float* out, int offset, int n, ulong seed, ulong counter,
                            float mean, float std) {
    int i = get_global_id(0);
    if (i >= n) return;
    uint4 r = philox(counter + (ulong)i, seed);
    float u1 = (float)((r.x >> 8) + 1u) * 0x1.0p-24f;
    float u2 = (float)(r.y >> 8) * 0x1.0p-24f;
    float z = sqrt(-2.0f * log(u1)) * cos(6.2831853071795865f * u2);
    out[offset + i] = mean + std * z;
}
