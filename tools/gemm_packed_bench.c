// Times cortado_vm_gemm_packed (the small GEMM against a matrix packed once: the recurrent product
// of LSTM/GRU steps, and the CPU's 16-bit GEMMs without avx512_bf16) at one instruction-set level,
// single-threaded, best of 5 batches of `reps` calls. Build it from a source tree to compare trees:
//
//   clang -O3 -I Sources/CVectorMath/include tools/gemm_packed_bench.c Sources/CVectorMath/*.c -lm -o /tmp/gpb
//   /tmp/gpb 64 128 512 2000 [level]     # rows k n reps; level 0 baseline, 1 AVX2+FMA (default), 2 AVX-512
#include "CVectorMath.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s rows k n reps [level]\n", argv[0]);
        return 2;
    }
    size_t rows = strtoul(argv[1], NULL, 10), k = strtoul(argv[2], NULL, 10), n = strtoul(argv[3], NULL, 10);
    long reps = strtol(argv[4], NULL, 10);
    cortado_vm_level level = argc > 5 ? (cortado_vm_level)atoi(argv[5]) : CORTADO_VM_AVX2_FMA;
    const cortado_vm_kernels *kernels = cortado_vm_kernels_for(level);
    if (rows == 0 || k == 0 || n == 0 || reps <= 0 || rows * k > (1u << 26) || k * n > (1u << 26)) {
        fprintf(stderr, "rows, k, n and reps must be positive, and each matrix at most 2^26 floats\n");
        return 2;
    }
    if (!kernels) {
        fprintf(stderr, "this processor does not run level %d\n", (int)level);
        return 2;
    }
    float *a = malloc(sizeof(float) * rows * k), *b = malloc(sizeof(float) * k * n);
    float *c = malloc(sizeof(float) * rows * n), *packed = malloc(sizeof(float) * cortado_vm_packed_count(k, n));
    if (!a || !b || !c || !packed) return 1;
    for (size_t i = 0; i < rows * k; ++i) a[i] = (float)(i % 13) * 0.1f;
    for (size_t i = 0; i < k * n; ++i) b[i] = (float)(i % 7) * 0.1f;
    cortado_vm_pack_panels(b, n, 1, k, n, packed);
    double best = 1e30;
    for (int batch = 0; batch < 5; ++batch) {
        double start = now();
        for (long r = 0; r < reps; ++r) kernels->gemm_packed(a, k, rows, packed, k, n, c, n, 0);
        double each = (now() - start) / (double)reps;
        if (each < best) best = each;
    }
    printf("%zu x %zu x %zu, level %d: %.2f us, %.1f GFLOPS\n", rows, k, n, (int)level, best * 1e6,
           2.0 * (double)(rows * k * n) / best * 1e-9);
    free(a), free(b), free(c), free(packed);
    return 0;
}
