// The reference for `cortado bench gemm`: a plain C program timing square cblas_sgemm with the
// same protocol (warm-up runs excluded, median of repeats). Built and run by tools/gemm-baseline.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "baseline_timing.h"

int main(int argc, char** argv) {
    int repeats = 10, warmup = 2;
    for (int arg = 1; arg < argc; ++arg) {
        int n = atoi(argv[arg]);
        if (n <= 0) { fprintf(stderr, "usage: %s N...\n", argv[0]); return 2; }
        float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
        for (long i = 0; i < (long)n * n; ++i) { a[i] = (float)rand() / RAND_MAX; b[i] = (float)rand() / RAND_MAX; }
        double times[64];
        for (int r = 0; r < warmup + repeats; ++r) {
            double start = seconds();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
            if (r >= warmup) times[r - warmup] = seconds() - start;
        }
        double median = median_of(times, repeats);
        printf("{\"op\":\"gemm\",\"device\":\"cblas_sgemm (C)\",\"size\":%d,\"median_ms\":%.3f,\"gflops\":%.1f}\n",
               n, median * 1e3, 2.0 * n * n * n / median * 1e-9);
        free(a); free(b); free(c);
    }
    return 0;
}
