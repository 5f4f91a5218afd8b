// Prelude shared by every Cortado OpenCL program (prepended to each file at build time).
//
// Strided operands are described by `int8` vectors: components s0…s5 hold the extent (shape) or the
// element step (strides) of up to six dimensions, outermost first; s6 and s7 are unused. The host
// merges dimensions before launching, so most launches use only the last one or two.

#define MAX_RANK 6

// The element offset of linear index `i` (row-major over `shape`) in an operand with `strides`.
inline int strided_offset(int i, int8 shape, int8 strides) {
    int offset = 0;
    int c;
    c = i % shape.s5; i /= shape.s5; offset += c * strides.s5;
    c = i % shape.s4; i /= shape.s4; offset += c * strides.s4;
    c = i % shape.s3; i /= shape.s3; offset += c * strides.s3;
    c = i % shape.s2; i /= shape.s2; offset += c * strides.s2;
    c = i % shape.s1; i /= shape.s1; offset += c * strides.s1;
    offset += i * strides.s0;
    return offset;
}
