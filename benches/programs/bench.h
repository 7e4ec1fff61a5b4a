/* The timing hooks of the programs: `bench.start`/`bench.end` imports in
 * wasm (as sightglass's), and a native stand-in that prints the nanoseconds
 * between them to stderr as `bench-ns N` for the benchmark to read. */
#ifndef BENCH_H
#define BENCH_H
#ifdef __wasm__
__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);
#else
#include <stdio.h>
#include <time.h>
static struct timespec bench_t0;
static void bench_start(void) { clock_gettime(CLOCK_MONOTONIC, &bench_t0); }
static void bench_end(void) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (long long)(t1.tv_sec - bench_t0.tv_sec) * 1000000000LL +
                   (t1.tv_nsec - bench_t0.tv_nsec);
    fprintf(stderr, "bench-ns %lld\n", ns);
}
#endif
#endif
