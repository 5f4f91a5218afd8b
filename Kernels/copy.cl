// Copies and conversions between element types, built once per (source, destination) pair with
// -DSOURCE=<number> -DTARGET=<number> (the numbering of storage.cl). Equal types copy bits; float
// types convert through float (rounding to nearest even); a float becomes an integer toward zero
// with saturation, NaN as 0; integers convert through long, saturating.

#define SOURCE_T CORTADO_XCAT(ELEMENT_T_, SOURCE)
#define TARGET_T CORTADO_XCAT(ELEMENT_T_, TARGET)
#define SOURCE_FLOAT (SOURCE <= 2)
#define TARGET_FLOAT (TARGET <= 2)

#define SATURATE_3(v) convert_char_sat_rtz(v)
#define SATURATE_4(v) convert_uchar_sat_rtz(v)
#define SATURATE_5(v) convert_int_sat_rtz(v)
#define SATURATE_6(v) convert_long_sat_rtz(v)

#if SOURCE == TARGET
// Raw bits: half cannot be dereferenced without cl_khr_fp16.
#define ELEMENT_IN_T CORTADO_XCAT(BITS_T_, SOURCE)
#define ELEMENT_OUT_T CORTADO_XCAT(BITS_T_, TARGET)
#define MOVE(s, si, d, di) ((d)[di] = (s)[si])
#else
#define ELEMENT_IN_T SOURCE_T
#define ELEMENT_OUT_T TARGET_T
#if SOURCE_FLOAT
#define READ(s, si) CORTADO_XCAT(LOAD_, SOURCE)(s, si)
#elif TARGET_FLOAT
#define READ(s, si) convert_float((s)[si])
#else
#define READ(s, si) convert_long((s)[si])
#endif
#if TARGET_FLOAT
#define MOVE(s, si, d, di) CORTADO_XCAT(STORE_, TARGET)(d, di, READ(s, si))
#else
#define MOVE(s, si, d, di) ((d)[di] = CORTADO_XCAT(SATURATE_, TARGET)(READ(s, si)))
#endif
#endif

// The element offset of (x, y, z) in an operand with `strides` (see elementwise.cl's strided launches).
inline int copy_offset(int x, int y, int z, int8 shape, int8 strides) {
    int offset = x * strides.s5 + y * strides.s4;
    int c;
    c = z % shape.s3; z /= shape.s3; offset += c * strides.s3;
    c = z % shape.s2; z /= shape.s2; offset += c * strides.s2;
    c = z % shape.s1; z /= shape.s1; offset += c * strides.s1;
    return offset + z * strides.s0;
}

__kernel void copy_contiguous(__global const ELEMENT_IN_T* src, int src_offset,
                              __global ELEMENT_OUT_T* dst, int dst_offset, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    MOVE(src + src_offset, i, dst + dst_offset, i);
}

// STRIDED_ROWS as in elementwise.cl: one element per work-item, or a row per work-item.
__kernel void copy_strided(__global const ELEMENT_IN_T* src, int src_offset, int8 src_strides,
                           __global ELEMENT_OUT_T* dst, int dst_offset, int8 dst_strides, int8 shape) {
    if (get_global_id(0) >= (STRIDED_ROWS ? 1 : shape.s5) || get_global_id(1) >= shape.s4) return;
    int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
    __global const ELEMENT_IN_T* s = src + src_offset + copy_offset(x, y, z, shape, src_strides);
    __global ELEMENT_OUT_T* d = dst + dst_offset + copy_offset(x, y, z, shape, dst_strides);
#if STRIDED_ROWS
    int ss = src_strides.s5, ds = dst_strides.s5;
    for (int i = 0; i < shape.s5; ++i) MOVE(s, i * ss, d, i * ds);
#else
    MOVE(s, 0, d, 0);
#endif
}
