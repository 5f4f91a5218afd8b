// The loops of CVectorMath, written once over 16-float vectors. VectorMath.c includes this file
// once per instruction set, with
//   CV_TARGET   the function attribute that names the instruction set (empty for the baseline)
//   CV_NAME(f)  the name of `f` in this version.
// The compiler maps a 16-float vector onto one AVX-512 register, two AVX registers or four SSE ones.
//
// The polynomials are Cephes' single-precision ones (exp, tanh) and a minimax fit made for Cortado
// (erf, with NumPy/SciPy, iteratively reweighted least squares); they stay within 3e-7 relative
// error of libm (erf within 1.3e-7 absolute).

#define CV_INLINE static inline __attribute__((always_inline)) CV_TARGET

CV_INLINE vf CV_NAME(load)(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

CV_INLINE void CV_NAME(store)(float *p, vf v) { memcpy(p, &v, sizeof v); }

#ifdef CV_MASKED_TAILS
// AVX-512 loads and stores the first `count` lanes with a mask: no copy through the stack, and a
// masked-off lane never touches memory (so never faults past the end of an array).
CV_INLINE __mmask16 CV_NAME(tail_mask)(size_t count) { return (__mmask16)((1u << count) - 1u); }

/// The first `count` (< 16) floats at `p`, zeros after them.
CV_INLINE vf CV_NAME(load_tail)(const float *p, size_t count) {
    return (vf)_mm512_maskz_loadu_ps(CV_NAME(tail_mask)(count), p);
}

CV_INLINE void CV_NAME(store_tail)(float *p, vf v, size_t count) {
    _mm512_mask_storeu_ps(p, CV_NAME(tail_mask)(count), (__m512)v);
}

CV_INLINE vi CV_NAME(load_tail_i)(const int32_t *p, size_t count) {
    return (vi)_mm512_maskz_loadu_epi32(CV_NAME(tail_mask)(count), p);
}

CV_INLINE void CV_NAME(store_tail_i)(int32_t *p, vi v, size_t count) {
    _mm512_mask_storeu_epi32(p, CV_NAME(tail_mask)(count), (__m512i)v);
}
#else
/// The first `count` (< 16) floats at `p`, zeros after them.
CV_INLINE vf CV_NAME(load_tail)(const float *p, size_t count) {
    float lanes[CV_LANES] = {0};
    memcpy(lanes, p, count * sizeof(float));
    return CV_NAME(load)(lanes);
}

CV_INLINE void CV_NAME(store_tail)(float *p, vf v, size_t count) {
    float lanes[CV_LANES];
    CV_NAME(store)(lanes, v);
    memcpy(p, lanes, count * sizeof(float));
}

CV_INLINE vi CV_NAME(load_tail_i)(const int32_t *p, size_t count) {
    vi v = (vi)0;
    memcpy(&v, p, count * sizeof(int32_t));
    return v;
}

CV_INLINE void CV_NAME(store_tail_i)(int32_t *p, vi v, size_t count) { memcpy(p, &v, count * sizeof(int32_t)); }
#endif

/// How many of the floats from `i` on are in this vector: CV_LANES, or what is left of `count`.
CV_INLINE size_t CV_NAME(lanes_from)(size_t i, size_t count) { return count - i < CV_LANES ? count - i : CV_LANES; }

/// Loads `n` (≤ CV_LANES) floats: a whole vector, or the tail padded with zeros.
CV_INLINE vf CV_NAME(load_n)(const float *p, size_t n) {
    return n == CV_LANES ? CV_NAME(load)(p) : CV_NAME(load_tail)(p, n);
}

/// Stores the first `n` (≤ CV_LANES) lanes of `v`.
CV_INLINE void CV_NAME(store_n)(float *p, vf v, size_t n) {
    if (n == CV_LANES) CV_NAME(store)(p, v); else CV_NAME(store_tail)(p, v, n);
}

/// `n` (≤ CV_LANES) int32 values, zeros after them.
CV_INLINE vi CV_NAME(load_n_i)(const int32_t *p, size_t n) {
    if (n < CV_LANES) return CV_NAME(load_tail_i)(p, n);
    vi v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// Stores the first `n` (≤ CV_LANES) lanes of the int32 vector `v`.
CV_INLINE void CV_NAME(store_n_i)(int32_t *p, vi v, size_t n) {
    if (n == CV_LANES) memcpy(p, &v, sizeof v); else CV_NAME(store_tail_i)(p, v, n);
}

/// `yes` in the lanes where `mask` is all ones, `no` elsewhere.
CV_INLINE vf CV_NAME(select)(vi mask, vf yes, vf no) {
    vu m = (vu)mask;
    return (vf)(((vu)yes & m) | ((vu)no & ~m));
}

CV_INLINE vf CV_NAME(abs)(vf x) { return (vf)((vu)x & 0x7FFFFFFFu); }

/// `magnitude` with the sign of `sign`.
CV_INLINE vf CV_NAME(copysign)(vf magnitude, vf sign) {
    return (vf)((vu)magnitude | ((vu)sign & 0x80000000u));
}

/// eˣ: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7 polynomial, 2ⁿ built from the exponent bits.
CV_INLINE vf CV_NAME(exp)(vf input) {
    vf x = __builtin_elementwise_min(__builtin_elementwise_max(input, (vf)-88.0f), (vf)88.72283f);
    // Round x·log2(e) to an integer with the 1.5·2²³ trick (no rounding instruction needed).
    const vf magic = (vf)12582912.0f;
    vf n = (x * 1.44269504f + magic) - magic;
    vf r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    vf p = (vf)1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    vf y = p * r * r + r + 1.0f;
    // The low mantissa bits of 1.5·2²³ + 127 + n hold the biased exponent; shifting them into the
    // exponent field gives 2ⁿ (and +0 for n = −127, the flush to zero).
    vf scale = (vf)((vu)(n + (12582912.0f + 127.0f)) << 23);
    vf result = CV_NAME(select)(input > 88.72283f, (vf)__builtin_inff(), y * scale);
    return CV_NAME(select)(input != input, input, result);
}

CV_INLINE vf CV_NAME(sigmoid)(vf x) { return 1.0f / (1.0f + CV_NAME(exp)(-x)); }

/// tanh: an odd polynomial for |x| < 0.625, else 1 − 2 / (e^{2|x|} + 1) with the sign of x.
CV_INLINE vf CV_NAME(tanh)(vf x) {
    vf a = CV_NAME(abs)(x);
    vf z = x * x;
    vf p = (vf)-5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    vf small = p * z * x + x;
    vf large = CV_NAME(copysign)(1.0f - 2.0f / (CV_NAME(exp)(2.0f * a) + 1.0f), x);
    vf result = CV_NAME(select)(a < 0.625f, small, large);
    return CV_NAME(select)(x != x, x, result);
}

/// erf, within 1.3e-7 absolute error: x·P(x²) for |x| ≤ 0.921875, else ±(1 − e^{Q(|x|)}) with
/// Q ≈ log erfc, and ±1 from |x| = 4 on.
CV_INLINE vf CV_NAME(erf)(vf x) {
    vf a = CV_NAME(abs)(x);
    vf z = x * x;
    vf p = (vf)8.373036e-5f;
    p = p * z - 8.1434601e-4f;
    p = p * z + 5.2011055e-3f;
    p = p * z - 2.68594306e-2f;
    p = p * z + 1.128369644e-1f;
    p = p * z - 3.76126349e-1f;
    p = p * z + 1.128379226f;
    vf small = p * x;
    vf t = __builtin_elementwise_min(a, (vf)4.0f);
    vf q = (vf)-5.5001777e-7f;
    q = q * t - 1.3970336e-5f;
    q = q * t + 3.9496244e-4f;
    q = q * t - 4.0485915e-3f;
    q = q * t + 2.48870365e-2f;
    q = q * t - 1.080035716e-1f;
    q = q * t - 6.33548498e-1f;
    q = q * t - 1.129432559f;
    q = q * t + 1.6020612e-4f;
    vf tail = CV_NAME(select)(a < 4.0f, 1.0f - CV_NAME(exp)(q), (vf)1.0f);
    vf result = CV_NAME(select)(a > 0.921875f, CV_NAME(copysign)(tail, x), small);
    return CV_NAME(select)(x != x, x, result);
}

CV_INLINE vf CV_NAME(gelu)(vf x) { return 0.5f * x * (1.0f + CV_NAME(erf)(x * 0.707106781f)); }

CV_INLINE vf CV_NAME(gelu_gradient)(vf x) {
    return 0.5f * (1.0f + CV_NAME(erf)(x * 0.707106781f)) + x * 0.39894228f * CV_NAME(exp)(-0.5f * x * x);
}

// The array loops, a vector at a time (the last one padded with zeros).

static CV_TARGET void CV_NAME(map_exp)(const float *x, float *y, size_t count, float shift) {
    for (size_t i = 0, n; i < count; i += n) {
        n = CV_NAME(lanes_from)(i, count);
        CV_NAME(store_n)(y + i, CV_NAME(exp)(CV_NAME(load_n)(x + i, n) - shift), n);
    }
}

#define CV_UNARY_LOOP(function)                                                                  \
    static CV_TARGET void CV_NAME(map_##function)(const float *x, float *y, size_t count) {      \
        for (size_t i = 0, n; i < count; i += n) {                                               \
            n = CV_NAME(lanes_from)(i, count);                                                   \
            CV_NAME(store_n)(y + i, CV_NAME(function)(CV_NAME(load_n)(x + i, n)), n);            \
        }                                                                                        \
    }

CV_UNARY_LOOP(sigmoid)
CV_UNARY_LOOP(tanh)
CV_UNARY_LOOP(gelu)
#undef CV_UNARY_LOOP

static CV_TARGET void CV_NAME(map_gelu_backward)(const float *grad, const float *x, float *y, size_t count) {
    for (size_t i = 0, n; i < count; i += n) {
        n = CV_NAME(lanes_from)(i, count);
        CV_NAME(store_n)(y + i, CV_NAME(load_n)(grad + i, n) * CV_NAME(gelu_gradient)(CV_NAME(load_n)(x + i, n)), n);
    }
}

static CV_TARGET void CV_NAME(lstm_forward)(const cortado_vm_lstm_forward_step *s, size_t first, size_t rows) {
    const size_t H = s->hidden;
    for (size_t b = first; b < first + rows; ++b) {
        const float *x = s->projected + (b * s->steps + s->step) * 4 * H, *r = s->recurrent + b * 4 * H;
        float *g = s->gates + b * 4 * H, *out = s->outputs + (b * s->steps + s->step) * H;
        const float keep = s->mask ? s->mask[b * s->steps + s->step] : 1.0f;
        // This row's next step, x + 4H and out + H, is needed after the next recurrent product:
        // start fetching it into L2 now (rows are a whole step apart, too far for the prefetcher).
        const int ahead = s->step + 1 < s->steps;
        for (size_t j = 0; j < H; j += CV_LANES) {
            size_t n = CV_NAME(lanes_from)(j, H), k = b * H + j;
            if (ahead) {
                for (size_t gate = 4; gate < 8; ++gate) __builtin_prefetch(x + gate * H + j, 0, 2);
                __builtin_prefetch(out + H + j, 1, 2);
            }
            vf i = CV_NAME(sigmoid)(CV_NAME(load_n)(x + j, n) + CV_NAME(load_n)(r + j, n));
            vf f = CV_NAME(sigmoid)(CV_NAME(load_n)(x + H + j, n) + CV_NAME(load_n)(r + H + j, n));
            vf c = CV_NAME(tanh)(CV_NAME(load_n)(x + 2 * H + j, n) + CV_NAME(load_n)(r + 2 * H + j, n));
            vf o = CV_NAME(sigmoid)(CV_NAME(load_n)(x + 3 * H + j, n) + CV_NAME(load_n)(r + 3 * H + j, n));
            CV_NAME(store_n)(g + j, i, n);
            CV_NAME(store_n)(g + H + j, f, n);
            CV_NAME(store_n)(g + 2 * H + j, c, n);
            CV_NAME(store_n)(g + 3 * H + j, o, n);
            vf previous = CV_NAME(load_n)(s->c_prev + k, n);
            vf cell = f * previous + i * c;
            vf h = keep * (o * CV_NAME(tanh)(cell)) + (1.0f - keep) * CV_NAME(load_n)(s->h_prev + k, n);
            CV_NAME(store_n)(s->c_next + k, keep * cell + (1.0f - keep) * previous, n);
            CV_NAME(store_n)(s->h_next + k, h, n);
            CV_NAME(store_n)(out + j, h, n);
        }
    }
}

static CV_TARGET void CV_NAME(lstm_backward)(const cortado_vm_lstm_backward_step *s, size_t first, size_t rows) {
    const size_t H = s->hidden;
    for (size_t b = first; b < first + rows; ++b) {
        const float *gates = s->gates + b * 4 * H;
        float *x = s->d_gates_by_step + (s->step * s->batch + b) * 4 * H;
        float *y = s->d_projected + (b * s->steps + s->step) * 4 * H;
        const float *d_out = s->d_outputs + (b * s->steps + s->step) * H;
        const float keep = s->mask ? s->mask[b * s->steps + s->step] : 1.0f;
        // The previous step of this row (processed next, after a recurrent product): into L2 now.
        const int ahead = s->step > 0;
        for (size_t j = 0; j < H; j += CV_LANES) {
            size_t n = CV_NAME(lanes_from)(j, H), k = b * H + j;
            if (ahead) {
                for (size_t gate = 0; gate < 4; ++gate) {
                    __builtin_prefetch(gates - 4 * s->batch * H + gate * H + j, 0, 2);
                    __builtin_prefetch(y - 4 * H + gate * H + j, 1, 2);
                }
                __builtin_prefetch(d_out - H + j, 0, 2);
                __builtin_prefetch(s->c_prev - s->batch * H + k, 0, 2);
            }
            vf i = CV_NAME(load_n)(gates + j, n), f = CV_NAME(load_n)(gates + H + j, n);
            vf c = CV_NAME(load_n)(gates + 2 * H + j, n), o = CV_NAME(load_n)(gates + 3 * H + j, n);
            vf previous = CV_NAME(load_n)(s->c_prev + k, n);
            vf tc = CV_NAME(tanh)(f * previous + i * c);
            vf dh = CV_NAME(load_n)(d_out + j, n) + CV_NAME(load_n)(s->dh_carry + k, n);
            vf carried = CV_NAME(load_n)(s->dc_carry + k, n);
            vf dhm = keep * dh;
            vf dc = keep * carried + dhm * o * (1.0f - tc * tc);
            vf di = dc * c * i * (1.0f - i), df = dc * previous * f * (1.0f - f);
            vf dg = dc * i * (1.0f - c * c), d_o = dhm * tc * o * (1.0f - o);
            CV_NAME(store_n)(x + j, di, n), CV_NAME(store_n)(y + j, di, n);
            CV_NAME(store_n)(x + H + j, df, n), CV_NAME(store_n)(y + H + j, df, n);
            CV_NAME(store_n)(x + 2 * H + j, dg, n), CV_NAME(store_n)(y + 2 * H + j, dg, n);
            CV_NAME(store_n)(x + 3 * H + j, d_o, n), CV_NAME(store_n)(y + 3 * H + j, d_o, n);
            CV_NAME(store_n)(s->dc_prev + k, dc * f + (1.0f - keep) * carried, n);
            CV_NAME(store_n)(s->dh_prev + k, (1.0f - keep) * dh, n);
        }
    }
}

static CV_TARGET void CV_NAME(gru_forward)(const cortado_vm_gru_forward_step *s, size_t first, size_t rows) {
    const size_t H = s->hidden;
    const float *bias = s->bias_hh;
    for (size_t b = first; b < first + rows; ++b) {
        const float *x = s->projected + (b * s->steps + s->step) * 3 * H, *r = s->recurrent + b * 3 * H;
        float *v = s->saved + b * 4 * H, *out = s->outputs + (b * s->steps + s->step) * H;
        const float keep = s->mask ? s->mask[b * s->steps + s->step] : 1.0f;
        for (size_t j = 0; j < H; j += CV_LANES) {
            size_t n = CV_NAME(lanes_from)(j, H), k = b * H + j;
            vf reset = CV_NAME(sigmoid)(CV_NAME(load_n)(x + j, n) + CV_NAME(load_n)(r + j, n) + CV_NAME(load_n)(bias + j, n));
            vf update = CV_NAME(sigmoid)(CV_NAME(load_n)(x + H + j, n) + CV_NAME(load_n)(r + H + j, n)
                                         + CV_NAME(load_n)(bias + H + j, n));
            vf recurrent_n = CV_NAME(load_n)(r + 2 * H + j, n) + CV_NAME(load_n)(bias + 2 * H + j, n);
            vf candidate = CV_NAME(tanh)(CV_NAME(load_n)(x + 2 * H + j, n) + reset * recurrent_n);
            CV_NAME(store_n)(v + j, reset, n);
            CV_NAME(store_n)(v + H + j, update, n);
            CV_NAME(store_n)(v + 2 * H + j, candidate, n);
            CV_NAME(store_n)(v + 3 * H + j, recurrent_n, n);
            vf previous = CV_NAME(load_n)(s->h_prev + k, n);
            vf h = keep * ((1.0f - update) * candidate + update * previous) + (1.0f - keep) * previous;
            CV_NAME(store_n)(s->h_next + k, h, n);
            CV_NAME(store_n)(out + j, h, n);
        }
    }
}

/// The even or the odd lanes of the 32 floats lo ++ hi.
#define CV_EVEN(lo, hi) __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define CV_ODD(lo, hi) __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)

/// The largest of each lane's 2×2 window (a, b, c, d in row-major order), with its position 0…3 in
/// `position`: a later candidate wins only when strictly larger, and a NaN wins, the first one (its
/// lanes set in `nan` and the result a quiet NaN).
CV_INLINE vf CV_NAME(window_max)(vf a, vf b, vf c, vf d, vi *position, vi *nan) {
    vf best = a;
    vi at = (vi)0;
    vi m = b > best;
    best = CV_NAME(select)(m, b, best), at = (at & ~m) | (m & 1);
    m = c > best;
    best = CV_NAME(select)(m, c, best), at = (at & ~m) | (m & 2);
    m = d > best;
    best = CV_NAME(select)(m, d, best), at = (at & ~m) | (m & 3);
    vi na = a != a, nb = b != b, nc = c != c, nd = d != d;
    vi nan_at = (nc & 2) | (~nc & 3);
    nan_at = (nb & 1) | (~nb & nan_at);
    nan_at = ~na & nan_at;
    vi any = na | nb | nc | nd;
    *position = (any & nan_at) | (~any & at);
    *nan = any;
    return CV_NAME(select)(any, (vf)__builtin_nanf(""), best);
}

static CV_TARGET void CV_NAME(max_pool_2x2)(const float *x, float *y, int32_t *indices, size_t planes, size_t height,
                                            size_t width, size_t out_height, size_t out_width) {
    const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    for (size_t p = 0; p < planes; ++p) {
        const float *plane = x + p * height * width;
        for (size_t oy = 0; oy < out_height; ++oy) {
            const float *top = plane + 2 * oy * width, *bottom = top + width;
            float *out = y + (p * out_height + oy) * out_width;
            int32_t *out_at = indices + (p * out_height + oy) * out_width;
            for (size_t ox = 0; ox < out_width; ox += CV_LANES) {
                size_t n = CV_NAME(lanes_from)(ox, out_width);
                // 2·n floats of each row (zeros after them for the row's last outputs).
                size_t low = 2 * n < CV_LANES ? 2 * n : CV_LANES, high = 2 * n - low;
                vf t0 = CV_NAME(load_n)(top + 2 * ox, low), t1 = CV_NAME(load_n)(top + 2 * ox + CV_LANES, high);
                vf b0 = CV_NAME(load_n)(bottom + 2 * ox, low), b1 = CV_NAME(load_n)(bottom + 2 * ox + CV_LANES, high);
                vi at, nan;
                vf best = CV_NAME(window_max)(CV_EVEN(t0, t1), CV_ODD(t0, t1), CV_EVEN(b0, b1), CV_ODD(b0, b1), &at, &nan);
                vi index = (vi)(int)(2 * oy * width + 2 * ox) + 2 * lane + (at & 1) + (at >> 1) * (int)width;
                CV_NAME(store_n)(out + ox, best, n);
                CV_NAME(store_n_i)(out_at + ox, index, n);
            }
        }
    }
}

/// Lanes 0–7 or 8–15 of a and b interleaved: a0 b0 a1 b1 …
#define CV_ZIP_LOW(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define CV_ZIP_HIGH(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

static CV_TARGET void CV_NAME(max_pool_2x2_backward)(const float *dy, const int32_t *indices, float *dx, size_t planes,
                                                     size_t height, size_t width, size_t out_height, size_t out_width) {
    const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const vf zero = (vf)0.0f;
    for (size_t p = 0; p < planes; ++p) {
        float *plane = dx + p * height * width;
        for (size_t oy = 0; oy < out_height; ++oy) {
            float *top = plane + 2 * oy * width, *bottom = top + width;
            const float *grad = dy + (p * out_height + oy) * out_width;
            const int32_t *at = indices + (p * out_height + oy) * out_width;
            for (size_t ox = 0; ox < out_width; ox += CV_LANES) {
                size_t n = CV_NAME(lanes_from)(ox, out_width);
                vf g = CV_NAME(load_n)(grad + ox, n);
                // The window offset of each maximum: column c (0, 1) plus row r (0, 1) times width.
                vi offset = CV_NAME(load_n_i)(at + ox, n) - ((vi)(int)(2 * oy * width + 2 * ox) + 2 * lane);
                // offset = r·width + c, and width may be odd: c is the offset minus r·width.
                vi lower = offset >= (int)width;
                vi right = ((offset - (lower & (int)width)) & 1) != 0;
                vf top_left = CV_NAME(select)(~lower & ~right, g, zero), top_right = CV_NAME(select)(~lower & right, g, zero);
                vf low_left = CV_NAME(select)(lower & ~right, g, zero), low_right = CV_NAME(select)(lower & right, g, zero);
                size_t low = 2 * n < CV_LANES ? 2 * n : CV_LANES, high = 2 * n - low;
                CV_NAME(store_n)(top + 2 * ox, CV_ZIP_LOW(top_left, top_right), low);
                if (high > 0) CV_NAME(store_n)(top + 2 * ox + CV_LANES, CV_ZIP_HIGH(top_left, top_right), high);
                CV_NAME(store_n)(bottom + 2 * ox, CV_ZIP_LOW(low_left, low_right), low);
                if (high > 0) CV_NAME(store_n)(bottom + 2 * ox + CV_LANES, CV_ZIP_HIGH(low_left, low_right), high);
            }
            // A column left over by an odd width gets no gradient.
            for (size_t x = 2 * out_width; x < width; ++x) top[x] = bottom[x] = 0;
        }
        // So does a row left over by an odd height.
        for (size_t i = 2 * out_height * width; i < height * width; ++i) plane[i] = 0;
    }
}

#include "MaxPool16Kernels.h"

#undef CV_ZIP_LOW
#undef CV_ZIP_HIGH
#undef CV_EVEN
#undef CV_ODD

/// One Philox round on 16 blocks: (c0, c1, c2, c3) under key (k0, k1).
CV_INLINE void CV_NAME(philox_round)(vu *c0, vu *c1, vu *c2, vu *c3, unsigned k0, unsigned k1) {
    vu64 p0 = __builtin_convertvector(*c0, vu64) * 0xD2511F53ull;
    vu64 p1 = __builtin_convertvector(*c2, vu64) * 0xCD9E8D57ull;
    vu hi0 = __builtin_convertvector(p0 >> 32, vu), lo0 = __builtin_convertvector(p0, vu);
    vu hi1 = __builtin_convertvector(p1 >> 32, vu), lo1 = __builtin_convertvector(p1, vu);
    vu n0 = hi1 ^ *c1 ^ k0, n2 = hi0 ^ *c3 ^ k1;
    *c0 = n0, *c1 = lo1, *c2 = n2, *c3 = lo0;
}

static CV_TARGET void CV_NAME(philox)(float *out, size_t count, uint64_t seed, uint64_t counter, int bernoulli,
                                      float a, float b) {
    // No contraction: a + (b − a)·u must round as the OpenCL kernel and the CPU's scalar code do.
#pragma clang fp contract(off)
    const vu lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const size_t blocks = (count + 3) / 4;
    for (size_t first = 0; first < blocks; first += CV_LANES) {
        // Block counters first ..< first + 16 as 64-bit (low word, high word with the carry).
        uint64_t base = counter + first;
        vu c0 = (vu)(unsigned)base + lane;
        vu carry = (vu)(c0 < (vu)(unsigned)base) & 1u;
        vu c1 = (vu)(unsigned)(base >> 32) + carry, c2 = (vu)0, c3 = (vu)0;
        unsigned k0 = (unsigned)seed, k1 = (unsigned)(seed >> 32);
        for (int round = 0; round < 9; ++round) {
            CV_NAME(philox_round)(&c0, &c1, &c2, &c3, k0, k1);
            k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
        }
        CV_NAME(philox_round)(&c0, &c1, &c2, &c3, k0, k1);
        vu raw[4] = {c0, c1, c2, c3};
        float lanes[4][CV_LANES];
        for (int w = 0; w < 4; ++w) {
            vf u = __builtin_convertvector(raw[w] >> 8, vf) * 0x1.0p-24f;
            vf value = bernoulli ? CV_NAME(select)(u < a, (vf)b, (vf)0.0f) : a + (b - a) * u;
            CV_NAME(store)(lanes[w], value);
        }
        size_t end = 4 * (first + CV_LANES) < count ? 4 * (first + CV_LANES) : count;
        for (size_t i = 4 * first; i < end; ++i) out[i] = lanes[i % 4][i / 4 - first];
    }
}

static CV_TARGET void CV_NAME(adam)(float *parameter, const float *gradient, float *m, float *v, size_t count,
                                    const cortado_vm_adam_step *s) {
    for (size_t i = 0, n; i < count; i += n) {
        n = CV_NAME(lanes_from)(i, count);
        vf w = CV_NAME(load_n)(parameter + i, n) * (1.0f - s->decay);
        vf g = CV_NAME(load_n)(gradient + i, n) + s->l2 * w;
        vf m1 = s->beta1 * CV_NAME(load_n)(m + i, n) + (1.0f - s->beta1) * g;
        vf v1 = s->beta2 * CV_NAME(load_n)(v + i, n) + (1.0f - s->beta2) * g * g;
        CV_NAME(store_n)(m + i, m1, n);
        CV_NAME(store_n)(v + i, v1, n);
        vf step = s->step_size * m1 / (__builtin_elementwise_sqrt(v1) / s->bias_correction2 + s->epsilon);
        CV_NAME(store_n)(parameter + i, w - step, n);
    }
}

#ifndef CV_GEMM_PACKED
// Small GEMMs against a matrix packed once (cortado_vm_pack_panels): the recurrent product of every
// step of a sequence reuses the same packed W_hh. A tile is CV_GEMM_ROWS rows × one 32-column
// panel, its accumulators named so that they stay in registers (an indexed array of them is
// spilled at -O2). Rows past `rows` read the last row again and are not stored, so the inner loop
// has no branch, and every row's sums run in the same order whatever tile it falls in.

#define CV_GEMM_ROW(r) \
    const float *a##r = a + ((r) < rows ? (r) : rows - 1) * lda; \
    vf c##r##0 = (vf)0.0f, c##r##1 = (vf)0.0f;
#define CV_GEMM_FMA(r) { vf x = (vf)a##r[i]; c##r##0 += x * b0; c##r##1 += x * b1; }
#define CV_GEMM_STORE(r) \
    if ((r) < rows) { \
        float *out = c + (r) * ldc; \
        if (accumulate) { c##r##0 += CV_NAME(load_n)(out, n0); c##r##1 += CV_NAME(load_n)(out + CV_LANES, n1); } \
        CV_NAME(store_n)(out, c##r##0, n0); \
        if (n1 > 0) CV_NAME(store_n)(out + CV_LANES, c##r##1, n1); \
    }

/// c[r][j] (+)= Σᵢ a[r][i] · panel[i][j] for r < rows ≤ CV_GEMM_ROWS and j < columns ≤ 32.
static CV_TARGET void CV_NAME(gemm_tile)(const float *a, size_t lda, size_t rows, const float *panel, size_t k,
                                         float *c, size_t ldc, size_t columns, int accumulate) {
    CV_GEMM_ROW(0) CV_GEMM_ROW(1) CV_GEMM_ROW(2) CV_GEMM_ROW(3)
#if CV_GEMM_ROWS > 4
    CV_GEMM_ROW(4) CV_GEMM_ROW(5) CV_GEMM_ROW(6) CV_GEMM_ROW(7)
#endif
    for (size_t i = 0; i < k; ++i) {
        vf b0 = CV_NAME(load)(panel + 2 * CV_LANES * i), b1 = CV_NAME(load)(panel + 2 * CV_LANES * i + CV_LANES);
        CV_GEMM_FMA(0) CV_GEMM_FMA(1) CV_GEMM_FMA(2) CV_GEMM_FMA(3)
#if CV_GEMM_ROWS > 4
        CV_GEMM_FMA(4) CV_GEMM_FMA(5) CV_GEMM_FMA(6) CV_GEMM_FMA(7)
#endif
    }
    size_t n0 = columns < CV_LANES ? columns : CV_LANES, n1 = columns - n0;
    CV_GEMM_STORE(0) CV_GEMM_STORE(1) CV_GEMM_STORE(2) CV_GEMM_STORE(3)
#if CV_GEMM_ROWS > 4
    CV_GEMM_STORE(4) CV_GEMM_STORE(5) CV_GEMM_STORE(6) CV_GEMM_STORE(7)
#endif
}

#undef CV_GEMM_ROW
#undef CV_GEMM_FMA
#undef CV_GEMM_STORE

static CV_TARGET void CV_NAME(gemm_packed)(const float *a, size_t lda, size_t rows, const float *packed, size_t k,
                                           size_t n, float *c, size_t ldc, int accumulate) {
    for (size_t j = 0; j < n; j += 2 * CV_LANES) {
        size_t columns = n - j < 2 * CV_LANES ? n - j : 2 * CV_LANES;
        for (size_t r = 0; r < rows; r += CV_GEMM_ROWS) {
            size_t tile = rows - r < CV_GEMM_ROWS ? rows - r : CV_GEMM_ROWS;
            CV_NAME(gemm_tile)(a + r * lda, lda, tile, packed + j * k, k, c + r * ldc + j, ldc, columns, accumulate);
        }
    }
}
#define CV_GEMM_PACKED CV_NAME(gemm_packed)
#endif

/// This version's loops, for the dispatch table.
static const cortado_vm_kernels CV_NAME(kernels) = {
    CV_NAME(map_exp), CV_NAME(map_sigmoid), CV_NAME(map_tanh), CV_NAME(map_gelu), CV_NAME(map_gelu_backward),
    CV_NAME(lstm_forward), CV_NAME(lstm_backward), CV_NAME(gru_forward), CV_NAME(max_pool_2x2), CV_NAME(philox), CV_NAME(adam),
    CV_GEMM_PACKED, CV_NAME(max_pool_2x2_backward), CV_NAME(max_pool_2x2_16), CV_NAME(max_pool_2x2_backward_16),
};

#undef CV_GEMM_PACKED

#undef CV_INLINE
