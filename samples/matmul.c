/* matmul: double-precision matrix multiply C = A*B (FP-heavy loop).
 * Usage: matmul [N] (N x N matrices, default 60)
 * The inner loop uses fma(): correctly rounded on every ISA (a fused
 * multiply-add instruction on riscv64/aarch64, a libm call on baseline
 * x86-64), so the checksum is identical everywhere. */
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 60;
    if (n < 1)
        n = 1;
    double *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b);
    double *c = calloc(n * n, sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "matmul: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 31 + j * 17) % 101) / 97.0 - 0.5;
            b[i * n + j] = (double)((i * 13 + j * 29) % 89) / 83.0 - 0.25;
        }
    for (long i = 0; i < n; i++)
        for (long k = 0; k < n; k++) {
            double aik = a[i * n + k];
            double *ci = c + i * n;
            const double *bk = b + k * n;
            for (long j = 0; j < n; j++)
                ci[j] = fma(aik, bk[j], ci[j]);
        }
    double sum = 0, weighted = 0, trace = 0;
    for (long i = 0; i < n; i++) {
        trace += c[i * n + i];
        for (long j = 0; j < n; j++) {
            sum += c[i * n + j];
            weighted += c[i * n + j] * (double)((i + 2 * j) % 7 + 1);
        }
    }
    printf("n=%ld\n", n);
    printf("sum=%.17g\nweighted=%.17g\ntrace=%.17g\n", sum, weighted, trace);
    printf("c[0][0]=%.17g c[n-1][n-1]=%.17g\n", c[0], c[n * n - 1]);
    free(a), free(b), free(c);
    return 0;
}
