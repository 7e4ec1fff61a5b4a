/* lu: LU decomposition with partial pivoting of a generated dense 500x500
 * matrix, then forward and back substitution for a known solution; prints
 * the largest error of the solution and a checksum of the factors. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../bench.h"

#define N 500

static double a[N][N], lu[N][N], b[N], x[N];
static int piv[N];

static uint32_t rng = 88172645u;
static double uniform(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (double)(rng >> 8) / 16777216.0 - 0.5;
}

static int factor(void) {
    for (int i = 0; i < N; i++) {
        piv[i] = i;
        for (int j = 0; j < N; j++) lu[i][j] = a[i][j];
    }
    for (int k = 0; k < N; k++) {
        int p = k;
        double best = fabs(lu[k][k]);
        for (int i = k + 1; i < N; i++)
            if (fabs(lu[i][k]) > best) best = fabs(lu[i][k]), p = i;
        if (best == 0) return 0;
        if (p != k) {
            for (int j = 0; j < N; j++) {
                double t = lu[k][j];
                lu[k][j] = lu[p][j];
                lu[p][j] = t;
            }
            int t = piv[k];
            piv[k] = piv[p];
            piv[p] = t;
        }
        double inv = 1.0 / lu[k][k];
        for (int i = k + 1; i < N; i++) {
            double l = lu[i][k] * inv;
            lu[i][k] = l;
            double *ri = lu[i], *rk = lu[k];
            for (int j = k + 1; j < N; j++) ri[j] -= l * rk[j];
        }
    }
    return 1;
}

static void solve(void) {
    for (int i = 0; i < N; i++) {
        double s = b[piv[i]];
        for (int j = 0; j < i; j++) s -= lu[i][j] * x[j];
        x[i] = s;
    }
    for (int i = N - 1; i >= 0; i--) {
        double s = x[i];
        for (int j = i + 1; j < N; j++) s -= lu[i][j] * x[j];
        x[i] = s / lu[i][i];
    }
}

int main(void) {
    static double want[N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) a[i][j] = uniform() + (i == j ? 2.0 : 0.0);
    for (int i = 0; i < N; i++) want[i] = (double)(i % 7) - 3.0;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < N; j++) s += a[i][j] * want[j];
        b[i] = s;
    }
    int ok = 1;
    bench_start();
    for (int round = 0; round < 2 && ok; round++) {
        ok = factor();
        solve();
    }
    bench_end();
    double err = 0, sum = 0;
    for (int i = 0; i < N; i++) err = fmax(err, fabs(x[i] - want[i]));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) sum += lu[i][j] * (double)((i + j) % 5 + 1);
    printf("lu: n=%d, max error %.3e, checksum %.9e%s\n", N, err, sum, ok ? "" : ", SINGULAR");
    return !ok;
}
