// Fused scaled dot-product attention (the flash-attention scheme) over q, out (queries rows per
// pair) and k, v (keys rows per pair), with pair = batch · heads + head, an optional key mask
// [batch, keys] (0: the key gets weight exactly 0) and logsumexp [pairs, queries]. The probability
// matrix never reaches global memory. Operands are head-major, [batch, heads, rows, HEAD]
// (seq_major = 0), or sequence-major, [batch, rows, heads, HEAD] (seq_major = 1: the layout of
// a projection [batch, rows, heads · HEAD], read without splitting the heads apart); see row_at.
//
// Every kernel: a work-group owns a few rows of one pair (one per work-item, kept in local memory,
// padded to HEAD + 1 floats so that items reading their own rows hit different banks) and streams
// the other side in tiles staged in local memory, read by all items at once (a broadcast). Scores
// are computed CHUNK at a time as one floatCHUNK vector (the streamed tile is also held transposed
// for that), so the exponentials are vector operations; accumulators over the head dimension are
// VW-wide vectors. Per work-item: HEAD floats of accumulator (2·HEAD for dk, dv) and a few CHUNK-wide
// vectors, all sized here at compile time.
//
// Forward (FWD_Q queries per group, FWD_K keys per tile): running maximum m and sum l of the
// exponentials (the online softmax): per chunk, the accumulator is rescaled once by exp(m − m'),
// and out = acc / l and logsumexp = m + log l are written once. No key to attend to: zeros, −∞.
//
// Backward, with p = exp(s − logsumexp) recomputed and D = rowsum(dout ∘ out):
//   dq = scale · Σ_j p·(dout·v_j − D) · k_j   (BWD_OWN queries per group, keys streamed);
//   dk = scale · Σ_i p·(dout_i·v − D_i) · q_i, dv = Σ_i p · dout_i   (BWD_OWN keys per group,
//   queries streamed, BWD_STREAM per tile). Each output element is written by one work-item.
//
// Launches are one-dimensional (NVIDIA caps the second dimension at 65535 groups): group g takes
// row tile g mod tiles of pair g / tiles.
//
// Built with -DHEAD -DVW (dividing HEAD) -DCHUNK (8 or 16) -DFWD_Q -DFWD_K -DBWD_OWN -DBWD_STREAM
// (FWD_K and BWD_STREAM multiples of CHUNK), and -DSTORAGE for the element type of q, k, v, out and
// their gradients (storage.cl: 16-bit types are read into float and rounded once when written). The
// mask, logsumexp and D are float32; so is everything in local memory and every sum.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define OWN_STRIDE (HEAD + 1)
#define HV (HEAD / VW)
// Loops over the head and over a chunk have compile-time trip counts: unrolled, their accumulators
// stay in registers (at most HEAD / VW vectors and CHUNK floats each).
#define UNROLL _Pragma("unroll")

#if VW == 1
typedef float floatv;
#define VLOAD(p) (*(p))
#else
typedef CAT(float, VW) floatv;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#endif
#if VW == 1
#define VSTORE(v, p) (*(p) = (v))
#else
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#endif

// VW elements of an operand in global memory, in its storage type, as a float vector, and back.
#if VW == 1
#define GVLOAD(p) LOAD((p), 0)
#define GVSTORE(v, p) STORE((p), 0, (v))
#else
// (One more macro level, so that VW is a number before LOADV pastes it into a name.)
#define GVLOAD_(N, p) LOADV(N, p)
#define GVSTORE_(N, v, p) STOREV(N, v, p)
#define GVLOAD(p) GVLOAD_(VW, (p))
#define GVSTORE(v, p) GVSTORE_(VW, (v), (p))
#endif

typedef CAT(float, CHUNK) floatc;
typedef CAT(int, CHUNK) intc;
#define CLOAD(p) CAT(vload, CHUNK)(0, (p))
#define CSTORE(v, p) CAT(vstore, CHUNK)((v), 0, (p))

inline float chunk_sum(floatc v) {
#if CHUNK == 16
    float8 e = v.lo + v.hi;
#else
    float8 e = v;
#endif
    float4 a = e.lo + e.hi;
    float2 b = a.lo + a.hi;
    return b.x + b.y;
}

inline float chunk_max(floatc v) {
#if CHUNK == 16
    float8 e = fmax(v.lo, v.hi);
#else
    float8 e = v;
#endif
    float4 a = fmax(e.lo, e.hi);
    float2 b = fmax(a.lo, a.hi);
    return fmax(b.x, b.y);
}

// Element offset of row i of `pair` in an operand with `length` rows per pair.
inline long row_at(int pair, int i, int length, int heads, int seq_major) {
    return seq_major ? (((long)(pair / heads) * length + i) * heads + pair % heads) * HEAD
                     : ((long)pair * length + i) * HEAD;
}

// Elements from one row of a pair to the next.
inline int row_stride(int heads, int seq_major) { return seq_major ? heads * HEAD : HEAD; }

// Own rows: dst[r · OWN_STRIDE + d] = src[r · stride + d] · factor for r < n (zeros up to `rows`).
inline void stage_own(__local float* dst, __global const storage_t* src, int stride, int n, int rows,
                      float factor, int lid, int items) {
    for (int i = lid; i < rows * HEAD; i += items) {
        int r = i / HEAD, d = i % HEAD;
        dst[r * OWN_STRIDE + d] = r < n ? LOAD(src, (long)r * stride + d) * factor : 0.0f;
    }
}

// A streamed tile of `rows` rows (zeros past n), row-major: dst[r · HEAD + d], VW floats at a time.
inline void stage_rows(__local float* dst, __global const storage_t* src, int stride, int n, int rows,
                       float factor, int lid, int items) {
    for (int i = lid; i < rows * HV; i += items) {
        int r = i / HV, h = i % HV;
        floatv value = r < n ? GVLOAD(src + (long)r * stride + h * VW) * factor : (floatv)0.0f;
        VSTORE(value, dst + i * VW);
    }
}

// A streamed tile of `rows` rows (zeros past n), transposed: dst[d · rows + r].
inline void stage_columns(__local float* dst, __global const storage_t* src, int stride, int n, int rows,
                          float factor, int lid, int items) {
    for (int i = lid; i < rows * HEAD; i += items) {
        int r = i / HEAD, d = i % HEAD;
        dst[d * rows + r] = r < n ? LOAD(src, (long)r * stride + d) * factor : 0.0f;
    }
}

// out[row] · dout[row] for each query row (row = pair · queries + i).
__kernel void attention_backward_delta(__global const storage_t* out, __global const storage_t* dout,
                                       __global float* delta, int rows, int heads, int queries,
                                       int seq_major) {
    int row = get_global_id(0);
    if (row >= rows) return;
    long at = row_at(row / queries, row % queries, queries, heads, seq_major);
    __global const storage_t* o = out + at;
    __global const storage_t* g = dout + at;
    floatv acc = 0.0f;
    UNROLL for (int h = 0; h < HV; ++h) acc += GVLOAD(o + h * VW) * GVLOAD(g + h * VW);
#if VW == 1
    delta[row] = acc;
#else
    float s = 0.0f;
    float tmp[VW];
    VSTORE(acc, tmp);
    for (int c = 0; c < VW; ++c) s += tmp[c];
    delta[row] = s;
#endif
}

__kernel __attribute__((reqd_work_group_size(FWD_Q, 1, 1)))
void attention_forward(__global const storage_t* q, __global const storage_t* k, __global const storage_t* v,
                       __global const float* mask, int has_mask, __global storage_t* out,
                       __global float* logsumexp, int heads, int queries, int keys, float scale,
                       int seq_major) {
    __local float qo[FWD_Q * OWN_STRIDE];  // own queries, scaled
    __local float kc[HEAD * FWD_K];        // keys, transposed
    __local float vt[FWD_K * HEAD];        // values
    __local float mt[FWD_K];               // 1: attend; 0: masked or past the end
    int lid = get_local_id(0);
    int tiles = (queries + FWD_Q - 1) / FWD_Q;
    int pair = get_group_id(0) / tiles;
    int q0 = get_group_id(0) % tiles * FWD_Q;
    int batch = pair / heads;
    int stride = row_stride(heads, seq_major);
    long first = (long)pair * queries + q0;  // of logsumexp
    long q_at = row_at(pair, q0, queries, heads, seq_major);
    stage_own(qo, q + q_at, stride, min(FWD_Q, queries - q0), FWD_Q, scale, lid, FWD_Q);
    floatv acc[HV];
    UNROLL for (int h = 0; h < HV; ++h) acc[h] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int k0 = 0; k0 < keys; k0 += FWD_K) {
        int n = min(FWD_K, keys - k0);
        barrier(CLK_LOCAL_MEM_FENCE);  // the previous tile is consumed
        long k_at = row_at(pair, k0, keys, heads, seq_major);
        stage_columns(kc, k + k_at, stride, n, FWD_K, 1.0f, lid, FWD_Q);
        stage_rows(vt, v + k_at, stride, n, FWD_K, 1.0f, lid, FWD_Q);
        for (int j = lid; j < FWD_K; j += FWD_Q)
            mt[j] = j < n && (!has_mask || mask[(long)batch * keys + k0 + j] != 0.0f) ? 1.0f : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            floatc s = 0.0f;
            UNROLL for (int d = 0; d < HEAD; ++d) s += qo[lid * OWN_STRIDE + d] * CLOAD(kc + d * FWD_K + c0);
            intc live = isnotequal(CLOAD(mt + c0), (floatc)0.0f);
            s = select((floatc)(-INFINITY), s, live);
            float top = chunk_max(s);
            if (top == -INFINITY) continue;  // every key of the chunk masked: the same for all items
            float mn = fmax(m, top);
            float c = exp(m - mn);  // 0 while nothing was seen (m = −∞), when acc and l are 0
            floatc p = exp(s - mn);  // masked: exp(−∞) = 0
            l = l * c + chunk_sum(p);
            m = mn;
            float pc[CHUNK];
            CSTORE(p, pc);
            UNROLL for (int h = 0; h < HV; ++h) acc[h] *= c;
            UNROLL for (int j = 0; j < CHUNK; ++j) {
                UNROLL for (int h = 0; h < HV; ++h) acc[h] += pc[j] * VLOAD(vt + (c0 + j) * HEAD + h * VW);
            }
        }
    }
    int qi = q0 + lid;
    if (qi >= queries) return;
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    UNROLL for (int h = 0; h < HV; ++h) GVSTORE(acc[h] * inv, out + q_at + (long)lid * stride + h * VW);
    logsumexp[first + lid] = l > 0.0f ? m + log(l) : -INFINITY;
}

__kernel __attribute__((reqd_work_group_size(BWD_OWN, 1, 1)))
void attention_backward_dq(__global const storage_t* q, __global const storage_t* k, __global const storage_t* v,
                           __global const float* mask, int has_mask, __global const storage_t* dout,
                           __global const float* logsumexp, __global const float* delta,
                           __global storage_t* dq, int heads, int queries, int keys, float scale,
                           int seq_major) {
    __local float qo[BWD_OWN * OWN_STRIDE];  // own queries, scaled
    __local float go[BWD_OWN * OWN_STRIDE];  // own output gradients
    __local float kt[BWD_STREAM * HEAD];     // keys
    __local float kc[HEAD * BWD_STREAM];     // keys, transposed
    __local float vc[HEAD * BWD_STREAM];     // values, transposed
    __local float mt[BWD_STREAM];
    int lid = get_local_id(0);
    int tiles = (queries + BWD_OWN - 1) / BWD_OWN;
    int pair = get_group_id(0) / tiles;
    int q0 = get_group_id(0) % tiles * BWD_OWN;
    int batch = pair / heads;
    bool active = q0 + lid < queries;
    int own = min(BWD_OWN, queries - q0);
    int stride = row_stride(heads, seq_major);
    long first = (long)pair * queries + q0;  // of logsumexp and delta
    long q_at = row_at(pair, q0, queries, heads, seq_major);
    stage_own(qo, q + q_at, stride, own, BWD_OWN, scale, lid, BWD_OWN);
    stage_own(go, dout + q_at, stride, own, BWD_OWN, 1.0f, lid, BWD_OWN);
    float lse = active ? logsumexp[first + lid] : -INFINITY;
    float dd = active ? delta[first + lid] : 0.0f;
    floatv acc[HV];
    UNROLL for (int h = 0; h < HV; ++h) acc[h] = 0.0f;
    for (int k0 = 0; k0 < keys; k0 += BWD_STREAM) {
        int n = min(BWD_STREAM, keys - k0);
        barrier(CLK_LOCAL_MEM_FENCE);
        long k_at = row_at(pair, k0, keys, heads, seq_major);
        stage_rows(kt, k + k_at, stride, n, BWD_STREAM, 1.0f, lid, BWD_OWN);
        stage_columns(kc, k + k_at, stride, n, BWD_STREAM, 1.0f, lid, BWD_OWN);
        stage_columns(vc, v + k_at, stride, n, BWD_STREAM, 1.0f, lid, BWD_OWN);
        for (int j = lid; j < BWD_STREAM; j += BWD_OWN)
            mt[j] = j < n && (!has_mask || mask[(long)batch * keys + k0 + j] != 0.0f) ? 1.0f : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lse == -INFINITY) continue;  // past the end, or no key to attend to
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            floatc s = 0.0f, dp = 0.0f;
            UNROLL for (int d = 0; d < HEAD; ++d) {
                s += qo[lid * OWN_STRIDE + d] * CLOAD(kc + d * BWD_STREAM + c0);
                dp += go[lid * OWN_STRIDE + d] * CLOAD(vc + d * BWD_STREAM + c0);
            }
            intc live = isnotequal(CLOAD(mt + c0), (floatc)0.0f);
            floatc p = select((floatc)0.0f, exp(s - lse), live);
            float ds[CHUNK];
            CSTORE(p * (dp - dd), ds);
            UNROLL for (int j = 0; j < CHUNK; ++j) {
                UNROLL for (int h = 0; h < HV; ++h) acc[h] += ds[j] * VLOAD(kt + (c0 + j) * HEAD + h * VW);
            }
        }
    }
    if (!active) return;
    UNROLL for (int h = 0; h < HV; ++h) GVSTORE(acc[h] * scale, dq + q_at + (long)lid * stride + h * VW);
}

__kernel __attribute__((reqd_work_group_size(BWD_OWN, 1, 1)))
void attention_backward_dkdv(__global const storage_t* q, __global const storage_t* k, __global const storage_t* v,
                             __global const float* mask, int has_mask, __global const storage_t* dout,
                             __global const float* logsumexp, __global const float* delta,
                             __global storage_t* dk, __global storage_t* dv, int heads, int queries, int keys,
                             float scale, int seq_major) {
    __local float ko[BWD_OWN * OWN_STRIDE];  // own keys
    __local float vo[BWD_OWN * OWN_STRIDE];  // own values
    __local float qt[BWD_STREAM * HEAD];     // queries, scaled
    __local float qc[HEAD * BWD_STREAM];     // queries, scaled, transposed
    __local float gt[BWD_STREAM * HEAD];     // output gradients
    __local float gc[HEAD * BWD_STREAM];     // output gradients, transposed
    __local float lt[BWD_STREAM];            // logsumexp (−∞: no weight)
    __local float dt[BWD_STREAM];            // D
    int lid = get_local_id(0);
    int tiles = (keys + BWD_OWN - 1) / BWD_OWN;
    int pair = get_group_id(0) / tiles;
    int j0 = get_group_id(0) % tiles * BWD_OWN;
    int kj = j0 + lid;
    int batch = pair / heads;
    bool inside = kj < keys;
    bool attended = inside && (!has_mask || mask[(long)batch * keys + kj] != 0.0f);
    int stride = row_stride(heads, seq_major);
    long k_at = row_at(pair, j0, keys, heads, seq_major);
    stage_own(ko, k + k_at, stride, min(BWD_OWN, keys - j0), BWD_OWN, 1.0f, lid, BWD_OWN);
    stage_own(vo, v + k_at, stride, min(BWD_OWN, keys - j0), BWD_OWN, 1.0f, lid, BWD_OWN);
    floatv dka[HV], dva[HV];
    UNROLL for (int h = 0; h < HV; ++h) {
        dka[h] = 0.0f;
        dva[h] = 0.0f;
    }
    long rows = (long)pair * queries;
    for (int i0 = 0; i0 < queries; i0 += BWD_STREAM) {
        int n = min(BWD_STREAM, queries - i0);
        barrier(CLK_LOCAL_MEM_FENCE);
        long q_at = row_at(pair, i0, queries, heads, seq_major);
        stage_rows(qt, q + q_at, stride, n, BWD_STREAM, scale, lid, BWD_OWN);
        stage_columns(qc, q + q_at, stride, n, BWD_STREAM, scale, lid, BWD_OWN);
        stage_rows(gt, dout + q_at, stride, n, BWD_STREAM, 1.0f, lid, BWD_OWN);
        stage_columns(gc, dout + q_at, stride, n, BWD_STREAM, 1.0f, lid, BWD_OWN);
        for (int i = lid; i < BWD_STREAM; i += BWD_OWN) {
            lt[i] = i < n ? logsumexp[rows + i0 + i] : -INFINITY;
            dt[i] = i < n ? delta[rows + i0 + i] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (!attended) continue;  // a masked key gets no weight, hence no gradient
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            floatc s = 0.0f, dp = 0.0f;
            UNROLL for (int d = 0; d < HEAD; ++d) {
                s += ko[lid * OWN_STRIDE + d] * CLOAD(qc + d * BWD_STREAM + c0);
                dp += vo[lid * OWN_STRIDE + d] * CLOAD(gc + d * BWD_STREAM + c0);
            }
            floatc lse = CLOAD(lt + c0);
            intc live = isnotequal(lse, (floatc)(-INFINITY));
            floatc p = select((floatc)0.0f, exp(s - lse), live);
            float pc[CHUNK], ds[CHUNK];
            CSTORE(p, pc);
            CSTORE(p * (dp - CLOAD(dt + c0)), ds);
            UNROLL for (int i = 0; i < CHUNK; ++i) {
                UNROLL for (int h = 0; h < HV; ++h) {
                    dva[h] += pc[i] * VLOAD(gt + (c0 + i) * HEAD + h * VW);
                    dka[h] += ds[i] * VLOAD(qt + (c0 + i) * HEAD + h * VW);
                }
            }
        }
    }
    if (!inside) return;
    UNROLL for (int h = 0; h < HV; ++h) {
        GVSTORE(dka[h], dk + k_at + (long)lid * stride + h * VW);
        GVSTORE(dva[h], dv + k_at + (long)lid * stride + h * VW);
    }
}
