// Fused recurrent steps. Per time step the GEMM-per-step schedule runs one GEMM (h·W_hhᵀ) and one of these kernels,
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

// ---------------------------------------------------------------------------------------------
// One kernel per step (layers up to KernelParameters.recurrent.maxHidden units, a multiple of
// UNITS). Work-item (u, r) computes its own slice of the recurrent product for units
// [u·UNITS, u·UNITS + UNITS) of batch rows [r·ROWS, r·ROWS + ROWS), so no GEMM launch sits between
// the steps. UNITS is a float vector width (16 on CPU-type devices, whose compilers vectorise
// within a work-item; 1 on GPUs, which vectorise across work-items); the ROWS rows share each load
// of W_hh. Buffers hold the whole sequence: states/cells [T + 1, B, H] (step 0 = zero initial
// state), saved [T, B, 4H].
#ifndef UNITS
#define UNITS 1
#endif
#ifndef ROWS
#define ROWS 1
#endif
#if UNITS == 1
typedef float floatu;
#define LOADU(p) (*(p))
#define STOREU(v, p) (*(p) = (v))
#else
#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
typedef CONCAT(float, UNITS) floatu;
#define LOADU(p) CONCAT(vload, UNITS)(0, p)
#define STOREU(v, p) CONCAT(vstore, UNITS)(v, 0, p)
#endif

inline floatu sigmoid_u(floatu x) { return 1.0f / (1.0f + exp(-x)); }

// weight_t is W_hhᵀ [H, 4H], so neighbouring units read neighbouring addresses.
__kernel void lstm_fused_forward(__global const float* projected, __global const float* weight_t,
                                 __global const float* unused_bias, __global float* states, __global float* cells,
                                 __global const float* mask, int has_mask,
                                 __global float* saved, __global float* outputs,
                                 int t, int steps, int batch, int hidden) {
    int j = get_global_id(0) * UNITS, b0 = get_global_id(1) * ROWS;
    if (j >= hidden || b0 >= batch) return;
    long state = (long)batch * hidden;
    int width = 4 * hidden;
    __global const float* h = states + t * state;
    floatu acc[ROWS][4];
    for (int r = 0; r < ROWS; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = 0.0f;
    for (int k = 0; k < hidden; ++k) {
        __global const float* w = weight_t + (long)k * width + j;
        floatu w0 = LOADU(w), w1 = LOADU(w + hidden), w2 = LOADU(w + 2 * hidden), w3 = LOADU(w + 3 * hidden);
        for (int r = 0; r < ROWS; ++r) {
            float hk = h[(long)min(b0 + r, batch - 1) * hidden + k];  // rows past the batch: computed, not stored
            acc[r][0] += hk * w0;
            acc[r][1] += hk * w1;
            acc[r][2] += hk * w2;
            acc[r][3] += hk * w3;
        }
    }
    for (int r = 0; r < ROWS && b0 + r < batch; ++r) {
        int b = b0 + r;
        long at = (long)b * hidden + j;
        __global const float* p = projected + ((long)b * steps + t) * width + j;
        floatu i = sigmoid_u(LOADU(p) + acc[r][0]);
        floatu f = sigmoid_u(LOADU(p + hidden) + acc[r][1]);
        floatu g = tanh(LOADU(p + 2 * hidden) + acc[r][2]);
        floatu o = sigmoid_u(LOADU(p + 3 * hidden) + acc[r][3]);
        floatu cp = LOADU(cells + t * state + at);
        floatu c = f * cp + i * g;
        float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
        __global float* s = saved + ((long)t * batch + b) * width + j;
        STOREU(i, s);
        STOREU(f, s + hidden);
        STOREU(g, s + 2 * hidden);
        STOREU(o, s + 3 * hidden);
        floatu hn = m * (o * tanh(c)) + (1.0f - m) * LOADU(h + at);
        STOREU(m * c + (1.0f - m) * cp, cells + (t + 1) * state + at);
        STOREU(hn, states + (t + 1) * state + at);
        STOREU(hn, outputs + ((long)b * steps + t) * hidden + j);
    }
}

// Step t of backpropagation through time. The carry into step t is the direct part written by
// step t + 1 (dh_direct) plus ∂gates_{t+1}[b]·W_hh[:, units], the GEMM of the unfused schedule
// done here for this work-item's rows and units (W_hh [G·H, H] row-major).
// Four partial sums per row (n mod 4) keep four FMA chains in flight.
#define CARRY_IN(gates)                                                                           \
    floatu carry[ROWS];                                                                           \
    for (int r = 0; r < ROWS; ++r)                                                                \
        carry[r] = LOADU(dh_direct + (long)min(b0 + r, batch - 1) * hidden + j);                  \
    if (t + 1 < steps) {                                                                          \
        int count = (gates) * hidden;                                                             \
        __global const float* next = dgates_by_step + (long)(t + 1) * batch * count;              \
        for (int r = 0; r < ROWS; ++r) {                                                          \
            __global const float* d = next + (long)min(b0 + r, batch - 1) * count;                \
            floatu s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;                                    \
            int n = 0;                                                                            \
            for (; n + 3 < count; n += 4) {                                                       \
                __global const float* w = weight + (long)n * hidden + j;                          \
                s0 += d[n] * LOADU(w);                                                            \
                s1 += d[n + 1] * LOADU(w + hidden);                                               \
                s2 += d[n + 2] * LOADU(w + 2 * hidden);                                           \
                s3 += d[n + 3] * LOADU(w + 3 * hidden);                                           \
            }                                                                                     \
            for (; n < count; ++n) s0 += d[n] * LOADU(weight + (long)n * hidden + j);             \
            carry[r] += (s0 + s1) + (s2 + s3);                                                    \
        }                                                                                         \
    }

__kernel void lstm_fused_backward(__global const float* saved, __global const float* states,
                                  __global const float* cells, __global const float* weight,
                                  __global const float* dout, __global const float* dh_direct,
                                  __global const float* dc_carry, __global const float* mask, int has_mask,
                                  __global float* dgates_by_step, __global float* dprojected,
                                  __global float* dh_direct_next, __global float* dc_next,
                                  int t, int steps, int batch, int hidden) {
    int j = get_global_id(0) * UNITS, b0 = get_global_id(1) * ROWS;
    if (j >= hidden || b0 >= batch) return;
    long state = (long)batch * hidden;
    int width = 4 * hidden;
    CARRY_IN(4)
    for (int r = 0; r < ROWS && b0 + r < batch; ++r) {
        int b = b0 + r;
        long at = (long)b * hidden + j;
        __global const float* s = saved + ((long)t * batch + b) * width + j;
        floatu i = LOADU(s), f = LOADU(s + hidden), g = LOADU(s + 2 * hidden), o = LOADU(s + 3 * hidden);
        floatu cp = LOADU(cells + t * state + at);
        floatu tc = tanh(f * cp + i * g);
        float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
        floatu dh = LOADU(dout + ((long)b * steps + t) * hidden + j) + carry[r];
        floatu dc_in = LOADU(dc_carry + at);
        floatu dhm = m * dh;
        floatu dc = m * dc_in + dhm * o * (1.0f - tc * tc);
        floatu di = dc * g * i * (1.0f - i);
        floatu df = dc * cp * f * (1.0f - f);
        floatu dg = dc * i * (1.0f - g * g);
        floatu d_o = dhm * tc * o * (1.0f - o);
        __global float* x = dgates_by_step + ((long)t * batch + b) * width + j;
        __global float* y = dprojected + ((long)b * steps + t) * width + j;
        STOREU(di, x); STOREU(di, y);
        STOREU(df, x + hidden); STOREU(df, y + hidden);
        STOREU(dg, x + 2 * hidden); STOREU(dg, y + 2 * hidden);
        STOREU(d_o, x + 3 * hidden); STOREU(d_o, y + 3 * hidden);
        STOREU(dc * f + (1.0f - m) * dc_in, dc_next + at);
        STOREU((1.0f - m) * dh, dh_direct_next + at);
    }
}

// weight_t is W_hhᵀ [H, 3H].
__kernel void gru_fused_forward(__global const float* projected, __global const float* weight_t,
                                __global const float* bias_hh, __global float* states, __global float* unused_cells,
                                __global const float* mask, int has_mask,
                                __global float* saved, __global float* outputs,
                                int t, int steps, int batch, int hidden) {
    int j = get_global_id(0) * UNITS, b0 = get_global_id(1) * ROWS;
    if (j >= hidden || b0 >= batch) return;
    long state = (long)batch * hidden;
    int width = 3 * hidden;
    __global const float* h = states + t * state;
    floatu acc[ROWS][3];
    for (int r = 0; r < ROWS; ++r) acc[r][0] = acc[r][1] = acc[r][2] = 0.0f;
    for (int k = 0; k < hidden; ++k) {
        __global const float* w = weight_t + (long)k * width + j;
        floatu w0 = LOADU(w), w1 = LOADU(w + hidden), w2 = LOADU(w + 2 * hidden);
        for (int r = 0; r < ROWS; ++r) {
            float hk = h[(long)min(b0 + r, batch - 1) * hidden + k];
            acc[r][0] += hk * w0;
            acc[r][1] += hk * w1;
            acc[r][2] += hk * w2;
        }
    }
    floatu br = LOADU(bias_hh + j), bz = LOADU(bias_hh + hidden + j), bn = LOADU(bias_hh + 2 * hidden + j);
    for (int r = 0; r < ROWS && b0 + r < batch; ++r) {
        int b = b0 + r;
        long at = (long)b * hidden + j;
        __global const float* p = projected + ((long)b * steps + t) * width + j;
        floatu rg = sigmoid_u(LOADU(p) + acc[r][0] + br);
        floatu z = sigmoid_u(LOADU(p + hidden) + acc[r][1] + bz);
        floatu hn = acc[r][2] + bn;
        floatu n = tanh(LOADU(p + 2 * hidden) + rg * hn);
        floatu hp = LOADU(h + at);
        float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
        __global float* s = saved + ((long)t * batch + b) * 4 * hidden + j;
        STOREU(rg, s);
        STOREU(z, s + hidden);
        STOREU(n, s + 2 * hidden);
        STOREU(hn, s + 3 * hidden);
        floatu out = m * ((1.0f - z) * n + z * hp) + (1.0f - m) * hp;
        STOREU(out, states + (t + 1) * state + at);
        STOREU(out, outputs + ((long)b * steps + t) * hidden + j);
    }
}

__kernel void gru_fused_backward(__global const float* saved, __global const float* states,
                                 __global const float* unused_cells, __global const float* weight,
                                 __global const float* dout, __global const float* dh_direct,
                                 __global const float* unused_dc, __global const float* mask, int has_mask,
                                 __global float* dgates_by_step, __global float* dprojected,
                                 __global float* dh_direct_next, __global float* unused_dc_next,
                                 int t, int steps, int batch, int hidden) {
    int j = get_global_id(0) * UNITS, b0 = get_global_id(1) * ROWS;
    if (j >= hidden || b0 >= batch) return;
    long state = (long)batch * hidden;
    int width = 3 * hidden;
    CARRY_IN(3)
    for (int r = 0; r < ROWS && b0 + r < batch; ++r) {
        int b = b0 + r;
        long at = (long)b * hidden + j;
        __global const float* s = saved + ((long)t * batch + b) * 4 * hidden + j;
        floatu rg = LOADU(s), z = LOADU(s + hidden), n = LOADU(s + 2 * hidden), hn = LOADU(s + 3 * hidden);
        floatu hp = LOADU(states + t * state + at);
        float m = has_mask ? mask[(long)b * steps + t] : 1.0f;
        floatu dh = LOADU(dout + ((long)b * steps + t) * hidden + j) + carry[r];
        floatu dhm = m * dh;
        floatu dn = dhm * (1.0f - z) * (1.0f - n * n);
        floatu dz = dhm * (hp - n) * z * (1.0f - z);
        floatu dr = dn * hn * rg * (1.0f - rg);
        __global float* x = dgates_by_step + ((long)t * batch + b) * width + j;
        __global float* y = dprojected + ((long)b * steps + t) * width + j;
        STOREU(dr, x); STOREU(dr, y);
        STOREU(dz, x + hidden); STOREU(dz, y + hidden);
        STOREU(dn, y + 2 * hidden);
        STOREU(dn * rg, x + 2 * hidden);
        STOREU(dhm * z + (1.0f - m) * dh, dh_direct_next + at);
    }
}
