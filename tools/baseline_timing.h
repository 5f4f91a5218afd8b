// The timing protocol the C peer baselines share with `cortado bench`: a monotonic clock and the
// median of the timed repeats (warm-up runs are left out by the caller).
#ifndef CORTADO_BASELINE_TIMING_H
#define CORTADO_BASELINE_TIMING_H
#include <stdlib.h>
#include <time.h>

/// Seconds on the monotonic clock.
static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void* x, const void* y) {
    double a = *(const double*)x, b = *(const double*)y;
    return (a > b) - (a < b);
}

/// The median of `count` (even) times; sorts them.
static double median_of(double* times, int count) {
    qsort(times, count, sizeof(double), ascending);
    return (times[count / 2 - 1] + times[count / 2]) / 2;
}
#endif
