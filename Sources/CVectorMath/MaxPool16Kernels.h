// The 2×2 max pool over 16-bit planes (bfloat16 or float16), included by VectorMathKernels.h once
// per instruction set after the float32 pool, whose window rule (window_max) and lane shuffles
// (CV_EVEN, CV_ODD, CV_ZIP_LOW, CV_ZIP_HIGH) it shares. The values are widened in registers to be
// compared, and the winner's own 16 bits are stored, passed through canonical16: so the result is
// what widening the planes, pooling them in float32 and rounding back gives, without float32
// scratch.

/// `n` (≤ CV_LANES) 16-bit patterns, zeros after them.
CV_INLINE vh CV_NAME(load_n16)(const uint16_t *p, size_t n) {
    vh v = (vh)0;
    if (n == CV_LANES) memcpy(&v, p, sizeof v); else memcpy(&v, p, n * sizeof(uint16_t));
    return v;
}

/// Stores the first `n` (≤ CV_LANES) lanes of `v`.
CV_INLINE void CV_NAME(store_n16)(uint16_t *p, vh v, size_t n) {
    if (n == CV_LANES) memcpy(p, &v, sizeof v); else memcpy(p, &v, n * sizeof(uint16_t));
}

/// `yes` in the lanes where the int32 `mask` is all ones, `no` elsewhere.
CV_INLINE vh CV_NAME(select16)(vi mask, vh yes, vh no) {
    vh m = __builtin_convertvector(mask, vh);
    return (yes & m) | (no & ~m);
}

/// The 16-bit patterns as floats (exact for both types).
CV_INLINE vf CV_NAME(widen16)(vh bits, int bfloat16) {
    if (bfloat16) return (vf)(__builtin_convertvector(bits, vu) << 16);
    uint16_t lanes[CV_LANES];
    float wide[CV_LANES];
    memcpy(lanes, &bits, sizeof lanes);
    cortado_f16_to_f32(lanes, wide, CV_LANES);  // F16C where the processor has it
    return CV_NAME(load)(wide);
}

/// What widening `bits` to float32 and rounding back gives (CortadoHalf.h's rules): a NaN quieted,
/// a bfloat16 subnormal flushed to a zero of its sign, anything else unchanged.
CV_INLINE vh CV_NAME(canonical16)(vh bits, int bfloat16) {
    vh magnitude = bits & (unsigned short)0x7FFF;
    if (bfloat16) {
        vh nan = (vh)(magnitude > (unsigned short)0x7F80), subnormal = (vh)(magnitude < (unsigned short)0x0080);
        bits = (nan & (bits | (unsigned short)0x0040)) | (~nan & bits);
        return (subnormal & (bits & (unsigned short)0x8000)) | (~subnormal & bits);
    }
    vh nan = (vh)(magnitude > (unsigned short)0x7C00);
    return (nan & (bits | (unsigned short)0x0200)) | (~nan & bits);
}

static CV_TARGET void CV_NAME(max_pool_2x2_16)(const uint16_t *x, uint16_t *y, int32_t *indices, int bfloat16,
                                               size_t planes, size_t height, size_t width, size_t out_height,
                                               size_t out_width) {
    const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const vh quiet_nan = (vh)(unsigned short)(bfloat16 ? 0x7FC0 : 0x7E00);
    for (size_t p = 0; p < planes; ++p) {
        const uint16_t *plane = x + p * height * width;
        for (size_t oy = 0; oy < out_height; ++oy) {
            const uint16_t *top = plane + 2 * oy * width, *bottom = top + width;
            uint16_t *out = y + (p * out_height + oy) * out_width;
            int32_t *out_at = indices + (p * out_height + oy) * out_width;
            for (size_t ox = 0; ox < out_width; ox += CV_LANES) {
                size_t n = CV_NAME(lanes_from)(ox, out_width);
                size_t low = 2 * n < CV_LANES ? 2 * n : CV_LANES, high = 2 * n - low;
                vh t0 = CV_NAME(load_n16)(top + 2 * ox, low), t1 = CV_NAME(load_n16)(top + 2 * ox + CV_LANES, high);
                vh b0 = CV_NAME(load_n16)(bottom + 2 * ox, low), b1 = CV_NAME(load_n16)(bottom + 2 * ox + CV_LANES, high);
                vh a = CV_EVEN(t0, t1), b = CV_ODD(t0, t1), c = CV_EVEN(b0, b1), d = CV_ODD(b0, b1);
                vi at, nan;
                vf wide = CV_NAME(window_max)(CV_NAME(widen16)(a, bfloat16), CV_NAME(widen16)(b, bfloat16),
                                              CV_NAME(widen16)(c, bfloat16), CV_NAME(widen16)(d, bfloat16), &at, &nan);
                vh best;
                if (bfloat16) {
                    best = __builtin_convertvector((vu)wide >> 16, vh);  // a widened bfloat16 or the quiet NaN: exact
                } else {
                    best = CV_NAME(select16)(at == 1, b, a);
                    best = CV_NAME(select16)(at == 2, c, best);
                    best = CV_NAME(select16)(at == 3, d, best);
                }
                best = CV_NAME(select16)(nan, quiet_nan, CV_NAME(canonical16)(best, bfloat16));
                vi index = (vi)(int)(2 * oy * width + 2 * ox) + 2 * lane + (at & 1) + (at >> 1) * (int)width;
                CV_NAME(store_n16)(out + ox, best, n);
                CV_NAME(store_n_i)(out_at + ox, index, n);
            }
        }
    }
}

static CV_TARGET void CV_NAME(max_pool_2x2_backward_16)(const uint16_t *dy, const int32_t *indices, uint16_t *dx,
                                                        int bfloat16, size_t planes, size_t height, size_t width,
                                                        size_t out_height, size_t out_width) {
    const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const vh zero = (vh)0;
    for (size_t p = 0; p < planes; ++p) {
        uint16_t *plane = dx + p * height * width;
        for (size_t oy = 0; oy < out_height; ++oy) {
            uint16_t *top = plane + 2 * oy * width, *bottom = top + width;
            const uint16_t *grad = dy + (p * out_height + oy) * out_width;
            const int32_t *at = indices + (p * out_height + oy) * out_width;
            for (size_t ox = 0; ox < out_width; ox += CV_LANES) {
                size_t n = CV_NAME(lanes_from)(ox, out_width);
                vh g = CV_NAME(canonical16)(CV_NAME(load_n16)(grad + ox, n), bfloat16);
                // As in the float32 gradient: offset = r·width + c, and width may be odd.
                vi offset = CV_NAME(load_n_i)(at + ox, n) - ((vi)(int)(2 * oy * width + 2 * ox) + 2 * lane);
                vi lower = offset >= (int)width;
                vi right = ((offset - (lower & (int)width)) & 1) != 0;
                vh top_left = CV_NAME(select16)(~lower & ~right, g, zero);
                vh top_right = CV_NAME(select16)(~lower & right, g, zero);
                vh low_left = CV_NAME(select16)(lower & ~right, g, zero);
                vh low_right = CV_NAME(select16)(lower & right, g, zero);
                size_t low = 2 * n < CV_LANES ? 2 * n : CV_LANES, high = 2 * n - low;
                CV_NAME(store_n16)(top + 2 * ox, CV_ZIP_LOW(top_left, top_right), low);
                if (high > 0) CV_NAME(store_n16)(top + 2 * ox + CV_LANES, CV_ZIP_HIGH(top_left, top_right), high);
                CV_NAME(store_n16)(bottom + 2 * ox, CV_ZIP_LOW(low_left, low_right), low);
                if (high > 0) CV_NAME(store_n16)(bottom + 2 * ox + CV_LANES, CV_ZIP_HIGH(low_left, low_right), high);
            }
            for (size_t x = 2 * out_width; x < width; ++x) top[x] = bottom[x] = 0;
        }
        for (size_t i = 2 * out_height * width; i < height * width; ++i) plane[i] = 0;
    }
}
