// The int8 GEMM side by side: oneDNN's u8s8s32 GEMM (dnnl_gemm_u8s8s32, the peer the issue names)
// and Cortado's own kernel (Sources/CVectorMath/GemmInt8.c, compiled into this program), on the
// same operands and threads, timed with the protocol of tools/cblas_sgemm_baseline.c (warm-up runs
// excluded, median of repeats, the cases interleaved within every repeat). Built and run by
// tools/onednn-baseline.
//
// A is n × n signed 8-bit (quantised activations, |a| ≤ 127), W is n × n signed 8-bit with one
// output channel per row (a Linear layer's weight, as Cortado keeps it, so B = Wᵀ). Rows:
// - `oneDNN u8s8s32`: A offset to unsigned (a + 128) and ao = 128, so oneDNN computes the same
//   signed product that Cortado does (Cortado offsets A the same way inside its kernel); int32 C.
// - `oneDNN u8s8s32, no A offset`: the same unsigned A with ao = 0 (oneDNN's fastest case, a
//   different product).
// - `Cortado qgemm`: the per-output-channel kernel with unit scales; float32 C.
// The threads (OMP_NUM_THREADS, else every core) split C's columns as the CPU backend does, each with
// its own scratch. The signed results are checked against exact int64 sums at 64 places: Cortado's
// must be exact (else the program fails); oneDNN's are reported with "exact": false and a note on
// stderr when they are not (without VNNI its kernel sums u8 × s8 pairs with `vpmaddubsw`, whose
// int16 saturates on full-range operands).
#include <dnnl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "baseline_timing.h"

#include "CortadoGemmInt8.h"

enum { ONEDNN, ONEDNN_NO_OFFSET, CORTADO, CASES };
static const char* names[CASES] = {"oneDNN u8s8s32", "oneDNN u8s8s32, no A offset", "Cortado qgemm"};

int main(int argc, char** argv) {
    enum { repeats = 10, warmup = 2 };
    const dnnl_version_t* version = dnnl_version();
    int threads = omp_get_max_threads();
    for (int arg = 1; arg < argc; ++arg) {
        long n = atol(argv[arg]);
        if (n <= 0 || n > 16384) { fprintf(stderr, "usage: %s N... (1 to 16384)\n", argv[0]); return 2; }
        int8_t* a = malloc(n * n);
        uint8_t* ua = malloc(n * n);
        int8_t* w = malloc(n * n);
        int32_t* c = malloc(sizeof(int32_t) * n * n);
        float* cf = malloc(sizeof(float) * n * n);
        float* ones = malloc(sizeof(float) * n);
        if (!a || !ua || !w || !c || !cf || !ones) { fprintf(stderr, "out of memory for n = %ld\n", n); return 1; }
        srand(42);
        for (long i = 0; i < n * n; ++i) {
            a[i] = (int8_t)(rand() % 255 - 127);
            ua[i] = (uint8_t)(a[i] + 128);
            w[i] = (int8_t)(rand() % 255 - 127);
        }
        for (long i = 0; i < n; ++i) ones[i] = 1;
        cortado_qgemm g = {a, n, ones, w, n, ones, NULL, cf, n, (size_t)n, (size_t)n, (size_t)n, (size_t)n};
        int pieces = n >= 64 * threads ? (threads < n / 32 ? threads : (int)(n / 32)) : 1;
        size_t scratch_bytes = (cortado_qgemm_scratch_bytes(&g) + 63) / 64 * 64;
        char* scratch = aligned_alloc(64, scratch_bytes * pieces);
        if (!scratch) { fprintf(stderr, "out of memory for n = %ld\n", n); return 1; }

        double times[CASES][repeats];
        int exact[CASES] = {1, 1, 1};
        for (int r = 0; r < warmup + repeats; ++r) {
            for (int which = 0; which < CASES; ++which) {
                double start = seconds();
                if (which == CORTADO) {
                    #pragma omp parallel for num_threads(pieces)
                    for (int piece = 0; piece < pieces; ++piece) {
                        size_t n0 = n * piece / pieces / 32 * 32, n1 = piece + 1 == pieces ? (size_t)n : n * (piece + 1) / pieces / 32 * 32;
                        cortado_qgemm_columns(&g, n0, n1, scratch + piece * scratch_bytes);
                    }
                } else {
                    int32_t zero = 0;
                    dnnl_status_t status = dnnl_gemm_u8s8s32(
                        'N', 'T', 'F', n, n, n, 1.0f, ua, n, which == ONEDNN ? 128 : 0, w, n, 0, 0.0f, c, n, &zero);
                    if (status != dnnl_success) { fprintf(stderr, "dnnl_gemm_u8s8s32 failed: status %d\n", (int)status); return 1; }
                }
                if (r >= warmup) times[which][r - warmup] = seconds() - start;
                if (r == 0 && which != ONEDNN_NO_OFFSET) {
                    for (int s = 0; s < 64; ++s) {
                        long i = (s * 7919L) % n, j = (s * 104729L) % n;
                        int64_t sum = 0;
                        for (long p = 0; p < n; ++p) sum += (int64_t)a[i * n + p] * w[j * n + p];
                        // Cortado's float32 C holds the int32 sum times unit scales: the sum rounded to float.
                        int ok = which == CORTADO ? cf[i * n + j] == (float)sum : c[i * n + j] == sum;
                        if (!ok) {
                            double got = which == CORTADO ? (double)cf[i * n + j] : (double)c[i * n + j];
                            fprintf(stderr, "%s%s: C[%ld][%ld] = %.0f, expected %lld\n", which == CORTADO ? "" : "note: not exact: ",
                                    names[which], i, j, got, (long long)sum);
                            if (which == CORTADO) return 1;
                            exact[which] = 0;
                            break;
                        }
                    }
                }
            }
        }
        for (int which = 0; which < CASES; ++which) {
            double median = median_of(times[which], repeats);
            printf("{\"op\":\"int8 gemm\",\"kernel\":\"%s\",\"device\":\"%s (C, %d threads)\",\"size\":%ld,"
                   "\"median_ms\":%.3f,\"gops\":%.1f%s}\n",
                   names[which], which == CORTADO ? "Cortado CVectorMath" : "oneDNN", threads, n, median * 1e3,
                   2.0 * n * n * n / median * 1e-9,
                   which == ONEDNN_NO_OFFSET ? "" : exact[which] ? ",\"exact\":true" : ",\"exact\":false");
        }
        printf("{\"op\":\"versions\",\"onednn\":\"%d.%d.%d\",\"cortado_path\":%d}\n", version->major, version->minor,
               version->patch, (int)cortado_qgemm_current_path());
        free(a); free(ua); free(w); free(c); free(cf); free(ones); free(scratch);
    }
    return 0;
}
