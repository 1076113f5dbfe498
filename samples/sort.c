/* sort: qsort with a comparator (indirect-call heavy) and a hand-written
 * merge sort on a pseudo-random array from a fixed LCG seed.
 * Usage: sort [N] (default 50000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg_state = 0x2545F4914F6CDD1Dull;

static int32_t next_random(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (int32_t)(lcg_state >> 33) - (1 << 30); /* negatives as well */
}

static int cmp_asc(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return (a > b) - (a < b);
}

static int cmp_desc(const void *pa, const void *pb) { return cmp_asc(pb, pa); }

static void merge_sort(int32_t *a, int32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t mid = n / 2, i = 0, j = mid, k = 0;
    merge_sort(a, tmp, mid);
    merge_sort(a + mid, tmp, n - mid);
    while (i < mid && j < n)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

static void report(const char *name, const int32_t *a, size_t n, int desc)
{
    uint64_t weighted = 0;
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        weighted += (uint64_t)(int64_t)a[i] * (i + 1);
        if (i && (desc ? a[i - 1] < a[i] : a[i - 1] > a[i]))
            sorted = 0;
    }
    printf("%-10s sorted=%s first=%d median=%d last=%d checksum=%016llx\n", name,
           sorted ? "yes" : "NO", a[0], a[n / 2], a[n - 1], (unsigned long long)weighted);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000;
    if (n < 1)
        n = 1;
    int32_t *orig = malloc(n * sizeof *orig), *a = malloc(n * sizeof *a);
    int32_t *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
    if (!orig || !a || !b || !tmp) {
        fprintf(stderr, "sort: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        orig[i] = next_random();
    printf("n=%ld\n", n);
    report("input", orig, n, 0);

    memcpy(a, orig, n * sizeof *a);
    qsort(a, n, sizeof *a, cmp_asc);
    report("qsort", a, n, 0);

    memcpy(b, orig, n * sizeof *b);
    merge_sort(b, tmp, n);
    report("mergesort", b, n, 0);
    printf("qsort and mergesort agree: %s\n", memcmp(a, b, n * sizeof *a) ? "NO" : "yes");

    memcpy(b, orig, n * sizeof *b);
    qsort(b, n, sizeof *b, cmp_desc);
    report("qsort-desc", b, n, 1);
    free(orig), free(a), free(b), free(tmp);
    return 0;
}
