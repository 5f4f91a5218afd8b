// The element-type prelude, placed before every kernel file when it is built. Element types are
// numbered as Cortado's DType: 0 float32, 1 float16, 2 bfloat16, 3 int8, 4 uint8, 5 int32, 6 int64.
// A family built per storage type gets -DSTORAGE=<number> and reads and writes its floating-point
// operands only through LOAD and STORE, so the same source serves every type: float16 through the
// core vload_half / vstore_half_rte (no cl_khr_fp16 needed), bfloat16 as a ushort widened exactly
// and narrowed to nearest even (the rule of x86's vcvtneps2bf16: zero and subnormal inputs give a
// signed zero, NaN stays a quiet NaN). Arithmetic is in float.

#ifndef STORAGE
#define STORAGE 0
#endif

inline float bf16_to_float(ushort h) { return as_float((uint)h << 16); }

inline ushort float_to_bf16(float f) {
    uint x = as_uint(f);
    uint magnitude = x & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return (ushort)((x >> 16) | 0x40u);
    if (magnitude < 0x00800000u) return (ushort)((x >> 16) & 0x8000u);
    return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

// The type of each element type's buffers, and its bits as an unsigned integer (for raw copies).
#define ELEMENT_T_0 float
#define ELEMENT_T_1 half
#define ELEMENT_T_2 ushort
#define ELEMENT_T_3 char
#define ELEMENT_T_4 uchar
#define ELEMENT_T_5 int
#define ELEMENT_T_6 long
#define BITS_T_0 uint
#define BITS_T_1 ushort
#define BITS_T_2 ushort
#define BITS_T_3 uchar
#define BITS_T_4 uchar
#define BITS_T_5 uint
#define BITS_T_6 ulong

// Loads as float and stores from float, for the floating-point types.
#define LOAD_0(p, i) ((p)[i])
#define LOAD_1(p, i) vload_half((i), (p))
#define LOAD_2(p, i) bf16_to_float((p)[i])
#define STORE_0(p, i, v) ((p)[i] = (v))
#define STORE_1(p, i, v) vstore_half_rte((v), (i), (p))
#define STORE_2(p, i, v) ((p)[i] = float_to_bf16(v))

#define CORTADO_CAT(a, b) a##b
#define CORTADO_XCAT(a, b) CORTADO_CAT(a, b)

// The storage type of this build and its accessors.
#define storage_t CORTADO_XCAT(ELEMENT_T_, STORAGE)
#define LOAD CORTADO_XCAT(LOAD_, STORAGE)
#define STORE CORTADO_XCAT(STORE_, STORAGE)

// A second type for results stored apart from the operands (a reduction's partial sums stay float
// while its input is half): OUT_STORAGE, the storage type unless given.
#ifndef OUT_STORAGE
#define OUT_STORAGE STORAGE
#endif
#define out_storage_t CORTADO_XCAT(ELEMENT_T_, OUT_STORAGE)
#define LOAD_OUT CORTADO_XCAT(LOAD_, OUT_STORAGE)
#define STORE_OUT CORTADO_XCAT(STORE_, OUT_STORAGE)

// N consecutive elements of a floating-point type as a float vector, and back (N = 2, 4, 8 or 16):
// LOADV(N, p) and STOREV(N, v, p) for the storage type, LOADV_OUT and STOREV_OUT for the result type.
#define BF16_FROM_FLOATN(N)                                                                      \
    inline ushort##N bf16_from_float##N(float##N f) {                                          \
        uint##N x = as_uint##N(f);                                                             \
        uint##N magnitude = x & 0x7FFFFFFFu;                                                   \
        uint##N r = (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16;                                    \
        r = select(r, (x >> 16) | 0x40u, magnitude > 0x7F800000u);                             \
        r = select(r, (x >> 16) & 0x8000u, magnitude < 0x00800000u);                           \
        return convert_ushort##N(r);                                                           \
    }
BF16_FROM_FLOATN(2)
BF16_FROM_FLOATN(4)
BF16_FROM_FLOATN(8)
BF16_FROM_FLOATN(16)

// With UNALIGNED_VECTORS (set on CPU-type devices, where a work-item's rows are vectorised),
// bfloat16 rows are read and written through vector types of 2-byte alignment, which compile to
// whole vector moves: PoCL turns vstoreN of a ushort vector into N scalar stores, which made the
// 16-bit max pool and GEMM results slower than the float32 ones. The OpenCL C spec lets a typedef
// lower a type's alignment (as GCC does); other builds keep vloadN/vstoreN and never see the
// typedefs.
#ifndef UNALIGNED_VECTORS
#define UNALIGNED_VECTORS 0
#endif

#define LOADV_0(N, p) vload##N(0, p)
#define STOREV_0(N, v, p) vstore##N(v, 0, p)
#define LOADV_1(N, p) vload_half##N(0, p)
#define STOREV_1(N, v, p) vstore_half##N##_rte(v, 0, p)
#if UNALIGNED_VECTORS
typedef ushort2 __attribute__((aligned(2))) ushort2_unaligned;
typedef ushort4 __attribute__((aligned(2))) ushort4_unaligned;
typedef ushort8 __attribute__((aligned(2))) ushort8_unaligned;
typedef ushort16 __attribute__((aligned(2))) ushort16_unaligned;
#define LOADV_2(N, p) as_float##N(convert_uint##N(*(__global const ushort##N##_unaligned*)(p)) << 16)
#define STOREV_2(N, v, p) (*(__global ushort##N##_unaligned*)(p) = bf16_from_float##N(v))
#else
#define LOADV_2(N, p) as_float##N(convert_uint##N(vload##N(0, p)) << 16)
#define STOREV_2(N, v, p) vstore##N(bf16_from_float##N(v), 0, p)
#endif

// The storage type's and the result type's vector accessors.
#define LOADV CORTADO_XCAT(LOADV_, STORAGE)
#define STOREV CORTADO_XCAT(STOREV_, STORAGE)
#define LOADV_OUT CORTADO_XCAT(LOADV_, OUT_STORAGE)
#define STOREV_OUT CORTADO_XCAT(STOREV_, OUT_STORAGE)

// N consecutive elements at p as a float vector, and back, where the caller guarantees p is aligned
// to N elements, so one access moves N·width bytes: float through a vector pointer, float16 through
// the core vloada_halfN / vstorea_halfN_rte, bfloat16 as a ushort vector. N is a macro argument
// that may itself be a macro (VECTOR_WIDTH), hence CORTADO_XCAT rather than ##.
#define LOADA_0(N, p) (*(__global const CORTADO_XCAT(float, N)*)(p))
#define STOREA_0(N, v, p) (*(__global CORTADO_XCAT(float, N)*)(p) = (v))
#define LOADA_1(N, p) CORTADO_XCAT(vloada_half, N)(0, p)
#define STOREA_1(N, v, p) CORTADO_XCAT(CORTADO_XCAT(vstorea_half, N), _rte)(v, 0, p)
#define LOADA_2(N, p) \
    CORTADO_XCAT(as_float, N)(CORTADO_XCAT(convert_uint, N)(*(__global const CORTADO_XCAT(ushort, N)*)(p)) << 16)
#define STOREA_2(N, v, p) (*(__global CORTADO_XCAT(ushort, N)*)(p) = CORTADO_XCAT(bf16_from_float, N)(v))
#define LOADA CORTADO_XCAT(LOADA_, STORAGE)
#define STOREA CORTADO_XCAT(STOREA_, STORAGE)
