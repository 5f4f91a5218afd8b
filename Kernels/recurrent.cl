// Fused recurrent steps. Per time step the host runs one GEMM (h·W_hhᵀ) and one of these kernels,
// so a step never launches one kernel per gate. One work-item per (batch row b, unit j).
//
// Layouts: projected inputs [B, T, G·H] (G = 4 for LSTM, 3 for GRU; x·W_ihᵀ + b, computed for all
// steps by one GEMM); hw = h_t·W_hhᵀ [B, G·H]; states [B, H]; outputs [B, T, H]. An optional mask
// [B, T] (1 = token, 0 = padding) carries the previous state through padded steps.
// Gate gradients are written twice: [T, B, G·H] (rows ordered by step, so that dW_hh over all steps
// is one GEMM) and [B, T, G·H] (the gradient of the projected inputs).

inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp(-x)); }

// LSTM (PyTorch gate order i, f, g, o). Saves the activated gates for the backward pass.
__kernel void lstm_step_forward(__global const float* projected, __global const float* hw,
                                __global const float* h_prev, int h_prev_offset,
                                __global const float* c_prev, int c_prev_offset,
                                __global const float* mask, int has_mask,
                                __global float* gates, int gates_offset,
                                __global float* h_next, int h_next_offset,
                                __global float* c_next, int c_next_offset,
                                __global float* outputs, int t, int steps, int batch, int hidden) {
    int gid = get_global_id(0);
    if (gid >= batch * hidden) return;
    h_prev += h_prev_offset; c_prev += c_prev_offset; gates += gates_offset;
    h_next += h_next_offset; c_next += c_next_offset;
    int b = gid / hidden, j = gid - b * hidden;
    __global const float* p = projected + ((long)b * steps + t) * 4 * hidden;
    __global const float* r = hw + (long)b * 4 * hidden;
    float i = sigmoid_f(p[j] + r[j]);
    float f = sigmoid_f(p[hidden + j] + r[hidden + j]);
    float g = tanh(p[2 * hidden + j] + r[2 * hidden + j]);
    float o = sigmoid_f(p[3 * hidden + j] + r[3 * hidden + j]);
    float cp = c_prev[gid];
    float c = f * cp + i * g;
    float h = o * tanh(c);
    float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
    __global float* saved = gates + (long)b * 4 * hidden;
    saved[j] = i;
    saved[hidden + j] = f;
    saved[2 * hidden + j] = g;
    saved[3 * hidden + j] = o;
    float hn = m * h + (1.0f - m) * h_prev[gid];
    c_next[gid] = m * c + (1.0f - m) * cp;
    h_next[gid] = hn;
    outputs[((long)b * steps + t) * hidden + j] = hn;
}

// dh = dout[:, t] + dh_carry and dc = dc_carry flow back through step t. Writes the gate
// gradients, dc_prev, and dh_prev's direct part (the padding pass-through); the host then adds
// dgates·W_hh to dh_prev with a GEMM.
__kernel void lstm_step_backward(__global const float* gates, int gates_offset,
                                 __global const float* c_prev, int c_prev_offset,
                                 __global const float* dout, __global const float* dh_carry,
                                 __global const float* dc_carry, __global const float* mask, int has_mask,
                                 __global float* dgates_by_step, __global float* dprojected,
                                 __global float* dh_prev, __global float* dc_prev,
                                 int t, int steps, int batch, int hidden) {
    int gid = get_global_id(0);
    if (gid >= batch * hidden) return;
    gates += gates_offset; c_prev += c_prev_offset;
    int b = gid / hidden, j = gid - b * hidden;
    __global const float* s = gates + (long)b * 4 * hidden;
    float i = s[j], f = s[hidden + j], g = s[2 * hidden + j], o = s[3 * hidden + j];
    float cp = c_prev[gid];
    float tc = tanh(f * cp + i * g);
    float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
    float dh = dout[((long)b * steps + t) * hidden + j] + dh_carry[gid];
    float dc_in = dc_carry[gid];
    float dhm = m * dh;
    float dc = m * dc_in + dhm * o * (1.0f - tc * tc);
    float di = dc * g * i * (1.0f - i);
    float df = dc * cp * f * (1.0f - f);
    float dg = dc * i * (1.0f - g * g);
    float d_o = dhm * tc * o * (1.0f - o);
    __global float* x = dgates_by_step + ((long)t * batch + b) * 4 * hidden;
    __global float* y = dprojected + ((long)b * steps + t) * 4 * hidden;
    x[j] = y[j] = di;
    x[hidden + j] = y[hidden + j] = df;
    x[2 * hidden + j] = y[2 * hidden + j] = dg;
    x[3 * hidden + j] = y[3 * hidden + j] = d_o;
    dc_prev[gid] = dc * f + (1.0f - m) * dc_in;
    dh_prev[gid] = (1.0f - m) * dh;
}

// GRU (PyTorch): r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·(h_n)), h' = (1 − z)·n + z·h,
// where h_* = (h·W_hhᵀ + b_hh)_*. Saves r, z, n and h_n.
__kernel void gru_step_forward(__global const float* projected, __global const float* hw,
                               __global const float* bias_hh, __global const float* h_prev, int h_prev_offset,
                               __global const float* mask, int has_mask,
                               __global float* saved, int saved_offset, __global float* h_next, int h_next_offset,
                               __global float* outputs, int t, int steps, int batch, int hidden) {
    int gid = get_global_id(0);
    if (gid >= batch * hidden) return;
    h_prev += h_prev_offset; saved += saved_offset; h_next += h_next_offset;
    int b = gid / hidden, j = gid - b * hidden;
    __global const float* p = projected + ((long)b * steps + t) * 3 * hidden;
    __global const float* q = hw + (long)b * 3 * hidden;
    float r = sigmoid_f(p[j] + q[j] + bias_hh[j]);
    float z = sigmoid_f(p[hidden + j] + q[hidden + j] + bias_hh[hidden + j]);
    float hn = q[2 * hidden + j] + bias_hh[2 * hidden + j];
    float n = tanh(p[2 * hidden + j] + r * hn);
    float hp = h_prev[gid];
    float h = (1.0f - z) * n + z * hp;
    float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
    __global float* s = saved + (long)b * 4 * hidden;
    s[j] = r;
    s[hidden + j] = z;
    s[2 * hidden + j] = n;
    s[3 * hidden + j] = hn;
    float out = m * h + (1.0f - m) * hp;
    h_next[gid] = out;
    outputs[((long)b * steps + t) * hidden + j] = out;
}

// Gate gradients: toward the projected inputs [dr, dz, dn] and toward the recurrent product
// [dr, dz, dn·r]; dh_prev gets the direct part z·dh (and the padding pass-through).
__kernel void gru_step_backward(__global const float* saved, int saved_offset,
                                __global const float* h_prev, int h_prev_offset,
                                __global const float* dout, __global const float* dh_carry,
                                __global const float* mask, int has_mask,
                                __global float* dgates_by_step, __global float* dprojected,
                                __global float* dh_prev, int t, int steps, int batch, int hidden) {
    int gid = get_global_id(0);
    if (gid >= batch * hidden) return;
    saved += saved_offset; h_prev += h_prev_offset;
    int b = gid / hidden, j = gid - b * hidden;
    __global const float* s = saved + (long)b * 4 * hidden;
    float r = s[j], z = s[hidden + j], n = s[2 * hidden + j], hn = s[3 * hidden + j];
    float hp = h_prev[gid];
    float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
    float dh = dout[((long)b * steps + t) * hidden + j] + dh_carry[gid];
    float dhm = m * dh;
    float dn = dhm * (1.0f - z) * (1.0f - n * n);
    float dz = dhm * (hp - n) * z * (1.0f - z);
    float dr = dn * hn * r * (1.0f - r);
    __global float* x = dgates_by_step + ((long)t * batch + b) * 3 * hidden;
    __global float* y = dprojected + ((long)b * steps + t) * 3 * hidden;
    x[j] = y[j] = dr;
    x[hidden + j] = y[hidden + j] = dz;
    y[2 * hidden + j] = dn;
    x[2 * hidden + j] = dn * r;
    dh_prev[gid] = dhm * z + (1.0f - m) * dh;
}
