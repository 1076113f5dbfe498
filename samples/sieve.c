/* sieve: sieve of Eratosthenes (memory-bound integer loop).
 * Usage: sieve [LIMIT] (default 2000000).  Prints the number of primes
 * below LIMIT and checksums of them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long limit = argc > 1 ? atol(argv[1]) : 2000000;
    if (limit < 2)
        limit = 2;
    unsigned char *composite = calloc((size_t)limit, 1);
    if (!composite) {
        fprintf(stderr, "sieve: out of memory\n");
        return 1;
    }
    for (long i = 2; i * i < limit; i++)
        if (!composite[i])
            for (long j = i * i; j < limit; j += i)
                composite[j] = 1;

    long count = 0, last = 0;
    uint64_t sum = 0, hash = 1469598103934665603u;
    for (long i = 2; i < limit; i++)
        if (!composite[i]) {
            count++;
            sum += (uint64_t)i;
            hash = (hash ^ (uint64_t)i) * 1099511628211u;
            last = i;
        }
    printf("primes below %ld: %ld\n", limit, count);
    printf("largest: %ld\n", last);
    printf("sum: %llu\n", (unsigned long long)sum);
    printf("fnv: %016llx\n", (unsigned long long)hash);
    free(composite);
    return 0;
}
